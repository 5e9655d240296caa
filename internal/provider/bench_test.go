package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// BenchmarkClusterRead measures one refresh of a cluster through the
// resource's Read: cloud calls and store reads per refresh must not grow with
// the number of instances (make bench runs it for 1,000 instances).
//
//	go test -run '^$' -bench ClusterRead ./internal/provider
func BenchmarkClusterRead(b *testing.B) {
	for _, workers := range []int{2, 49, 999} {
		b.Run(fmt.Sprintf("instances=%d", workers+1), func(b *testing.B) {
			ctx := context.Background()
			cloud := newTestCloud(b)
			d, err := newProviderData(Settings{Parallelism: 16}, nil)
			if err != nil {
				b.Fatal(err)
			}
			d.backend = &Backend{Infra: cloud.infra, Remotes: cloud.remotes, Store: cloud.store}
			eng, err := d.Engine(ctx, d.backend, nil, newRecorder(ctx, cloud.store).observe)
			if err != nil {
				b.Fatal(err)
			}
			c, err := eng.NewCluster(sahara.ClusterSpec{
				Name: "bench", PluginName: "fake", PluginVersion: "0.1", DefaultImageID: testImageID, NeutronManagementNetwork: testNetworkID,
				NodeGroups: []sahara.NodeGroupSpec{
					{Name: "master", FlavorID: testFlavorID, NodeProcesses: []string{"namenode", "resourcemanager"}, Count: 1},
					{Name: "worker", FlavorID: testFlavorID, NodeProcesses: []string{"datanode", "nodemanager"}, Count: workers},
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := eng.Create(ctx, c); err != nil {
				b.Fatal(err)
			}
			var diags diagsT
			model := clusterModelFrom(ctx, c, nil, &diags)
			schema := clusterSchemaV0(ctx)
			state := tfsdk.State{Schema: schema, Raw: tftypes.NewValue(schema.Type().TerraformType(ctx), nil)}
			diags.Append(state.Set(ctx, &model)...)
			if diags.HasError() {
				b.Fatal(diags)
			}
			r := &clusterResource{data: d}
			cloud.infra.ResetCalls()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp := &resource.ReadResponse{State: state}
				r.Read(ctx, resource.ReadRequest{State: state}, resp)
				if resp.Diagnostics.HasError() {
					b.Fatal(resp.Diagnostics)
				}
			}
			b.ReportMetric(float64(cloud.infra.TotalCalls())/float64(b.N), "cloud-calls/op")
			b.ReportMetric(float64(peakRSSKiB())/1024, "peak-RSS-MiB")
		})
	}
}
