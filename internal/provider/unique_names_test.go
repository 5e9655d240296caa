package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// put stores an object another workspace (or an interrupted apply) left.
func (c *testCloud) put(t *testing.T, kind, id string, v any) {
	t.Helper()
	if err := c.store.Put(context.Background(), kind, id, v); err != nil {
		t.Fatal(err)
	}
}

// Names are unique within the project, as in Sahara: a second template or
// cluster of the same name is refused before anything is written, and the
// message names the existing object and how to adopt it.
func TestNames_UniqueInTheProject(t *testing.T) {
	cloud := newTestCloud(t)
	ngt := &sahara.NodeGroupTemplate{ID: "ngt-left", PluginName: "fake", PluginVersion: "0.1"}
	ngt.Name = "worker"
	cloud.put(t, sahara.KindNodeGroupTemplate, ngt.ID, ngt)
	ct := &sahara.ClusterTemplate{ID: "ct-left"}
	ct.Name, ct.PluginName, ct.PluginVersion = "taken", "fake", "0.1"
	cloud.put(t, sahara.KindClusterTemplate, ct.ID, ct)
	// A cluster in Error is another workspace's failed create; one an
	// interrupted create left is replaced (TestCluster_ApplyAfterAnInterruptedCreateConverges).
	cl := &sahara.Cluster{ID: "cluster-left", Status: sahara.StatusError}
	cl.Name = "demo"
	cloud.put(t, sahara.KindCluster, cl.ID, cl)

	// the CLI wraps messages: any space may be a line break
	re := func(parts ...string) *regexp.Regexp {
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
		}
		return regexp.MustCompile(strings.Join(parts, `[\s\S]*`))
	}
	taken := func(title, name, id, typ string) *regexp.Regexp {
		return re(title+" with name '"+name+"' already exists (id "+id+")", "terraform import "+typ+".<name> "+id)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config:      ngtConfig("worker", "m1.small", `["datanode"]`, ""),
				ExpectError: taken("NodeGroup template", "worker", "ngt-left", "saharagen_node_group_template"),
			},
			{Config: ngtConfig("other", "m1.small", `["datanode"]`, "")},
			{
				// a rename onto a taken name is refused too
				Config:      ngtConfig("worker", "m1.small", `["datanode"]`, ""),
				ExpectError: taken("NodeGroup template", "worker", "ngt-left", "saharagen_node_group_template"),
			},
			{
				Config: hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "taken"
  plugin_name    = "fake"
  plugin_version = "0.1"
  node_groups = {
    worker = { flavor_id = "m1.small", node_processes = ["datanode"], count = 1 }
  }
}`),
				ExpectError: taken("Cluster template", "taken", "ct-left", "saharagen_cluster_template"),
			},
			{
				Config: clusterConfig(1, 1, "", ""),
				ExpectError: re("Cluster with name 'demo' already exists (id cluster-left, status Error)",
					"terraform import saharagen_cluster.<name> cluster-left"),
			},
		},
	})
	// Checked here, not in CheckDestroy: the last steps fail, the state ends
	// empty, and the testing framework then skips CheckDestroy.
	for kind, want := range map[string]string{
		sahara.KindNodeGroupTemplate: "[ngt-left]", sahara.KindClusterTemplate: "[ct-left]", sahara.KindCluster: "[cluster-left]",
	} {
		if got := fmt.Sprint(cloud.ids(t, kind)); got != want {
			t.Errorf("%s in the store: %s, want only %s", kind, got, want)
		}
	}
	if n := cloud.infra.Changes(); n != 0 {
		t.Errorf("the cloud was called %d times for more than lookups for a refused cluster", n)
	}
}
