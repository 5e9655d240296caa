package sahara_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/plugins/vanilla"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// recommending is the fake plugin with a recommend_configs that sets the
// namenode heap to a quarter of the flavor's RAM unless the user set it,
// recording the order of its SPI calls.
type recommending struct {
	*pfake.Plugin
	mu      sync.Mutex
	calls   []string
	flavors []map[string]sahara.Flavor
	groups  [][]string // node groups seen by each recommend call
	heaps   []any      // master's heap seen by validate
}

func (p *recommending) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

func (p *recommending) RecommendConfigs(_ context.Context, c *sahara.Cluster, flavors map[string]sahara.Flavor, scaling bool) error {
	p.record(fmt.Sprintf("recommend scaling=%v", scaling))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flavors = append(p.flavors, flavors)
	var names []string
	for _, ng := range c.NodeGroups {
		names = append(names, ng.Name)
		if ng.UseAutoconfig != nil && !*ng.UseAutoconfig {
			continue
		}
		if _, set := ng.Configuration().Get("HDFS", pfake.ConfHeapSize); set {
			continue
		}
		if ng.NodeConfigs == nil {
			ng.NodeConfigs = sahara.Configs{}
		}
		ng.NodeConfigs.Set("HDFS", pfake.ConfHeapSize, flavors[ng.FlavorID].RAMMB/4)
	}
	p.groups = append(p.groups, names)
	return nil
}

func (p *recommending) Validate(ctx context.Context, c *sahara.Cluster) error {
	p.record("validate")
	v, _ := c.NodeGroup("master").NodeConfigs.Get("HDFS", pfake.ConfHeapSize)
	p.mu.Lock()
	p.heaps = append(p.heaps, v)
	p.mu.Unlock()
	return p.Plugin.Validate(ctx, c)
}

func (p *recommending) ValidateScaling(ctx context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	p.record("validate_scaling")
	return p.Plugin.ValidateScaling(ctx, c, existing, additional)
}

// hiddenFlavors is an Infrastructure without the FlavorLookup capability.
type hiddenFlavors struct{ sahara.Infrastructure }

func autoconfigEngine(t *testing.T, p sahara.Plugin, infra sahara.Infrastructure, logs *syncBuffer) *sahara.Engine {
	t.Helper()
	reg, err := sahara.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Infra: infra, Remotes: fake.NewConnector(), Plugins: reg,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func newAutoconfigInfra() *fake.Infra {
	infra := fake.NewInfra(sahara.Image{ID: imageID, Name: "fake", Username: "ubuntu", Tags: []string{"fake", "0.1"}})
	infra.Flavors = map[string]fake.Flavor{"m1": {VCPUs: 4, RAMMB: 8192}, "m2": {VCPUs: 2, RAMMB: 4096}, "m3": {VCPUs: 8, RAMMB: 16384}}
	return infra
}

func TestEngineCreate_RecommendsConfigsBeforeValidate(t *testing.T) {
	p := &recommending{Plugin: pfake.New()}
	infra := newAutoconfigInfra()
	logs := &syncBuffer{}
	eng := autoconfigEngine(t, p, infra, logs)
	spec := demoSpec(2)
	spec.NodeGroups[1].NodeConfigs = sahara.Configs{"HDFS": {pfake.ConfHeapSize: 700}}
	c, err := eng.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if want := []string{"recommend scaling=false", "validate"}; !reflect.DeepEqual(p.calls, want) {
		t.Fatalf("SPI calls = %v, want %v", p.calls, want)
	}
	want := map[string]sahara.Flavor{"m1": {ID: "m1", Name: "m1", VCPUs: 4, RAMMB: 8192}}
	if !reflect.DeepEqual(p.flavors, []map[string]sahara.Flavor{want}) {
		t.Errorf("flavors = %v, want %v", p.flavors, want)
	}
	if n := infra.Calls("Flavor"); n != 1 {
		t.Errorf("%d flavor lookups for one distinct flavor, want 1", n)
	}
	if !reflect.DeepEqual(p.heaps, []any{2048}) {
		t.Errorf("validate saw master heap %v, want the recommended 2048", p.heaps)
	}
	if v, _ := c.NodeGroup("master").NodeConfigs.Get("HDFS", pfake.ConfHeapSize); v != 2048 {
		t.Errorf("master heap in the record = %v, want 2048", v)
	}
	if v, _ := c.NodeGroup("worker").NodeConfigs.Get("HDFS", pfake.ConfHeapSize); v != 700 {
		t.Errorf("worker heap = %v, want the user's 700", v)
	}
	if !strings.Contains(logs.String(), "Recommending configs from 1 flavors") {
		t.Errorf("no INFO line for the recommendation:\n%s", logs)
	}
}

func TestEngineCreate_UseAutoconfigOffIsRespected(t *testing.T) {
	off := false
	t.Run("cluster", func(t *testing.T) {
		p := &recommending{Plugin: pfake.New()}
		infra := newAutoconfigInfra()
		logs := &syncBuffer{}
		spec := demoSpec(2)
		spec.UseAutoconfig = &off
		c, err := autoconfigEngine(t, p, infra, logs).NewCluster(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := autoconfigEngine(t, p, infra, logs).Create(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		// The one lookup is the check that the flavor exists, not autoconfig.
		if !reflect.DeepEqual(p.calls, []string{"validate"}) || infra.Calls("Flavor") != 1 {
			t.Errorf("calls = %v, flavor lookups = %d; want validate only and the flavor read once", p.calls, infra.Calls("Flavor"))
		}
		if c.NodeGroup("master").NodeConfigs != nil {
			t.Errorf("configs recommended with use_autoconfig off: %v", c.NodeGroup("master").NodeConfigs)
		}
		if !strings.Contains(logs.String(), "use_autoconfig is off") {
			t.Errorf("no debug line says why autoconfig was skipped:\n%s", logs)
		}
	})
	t.Run("node group", func(t *testing.T) {
		p := &recommending{Plugin: pfake.New()}
		infra := newAutoconfigInfra()
		spec := demoSpec(2)
		spec.NodeGroups[0].FlavorID, spec.NodeGroups[0].UseAutoconfig = "m2", &off
		eng := autoconfigEngine(t, p, infra, &syncBuffer{})
		c, err := eng.NewCluster(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Create(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if len(p.flavors) != 1 || len(p.flavors[0]) != 1 || p.flavors[0]["m1"].RAMMB != 8192 {
			t.Errorf("flavors = %v, want only m1 (the master's m2 is not autoconfigured)", p.flavors)
		}
		if c.NodeGroup("master").NodeConfigs != nil {
			t.Errorf("master has use_autoconfig off but got %v", c.NodeGroup("master").NodeConfigs)
		}
		if v, _ := c.NodeGroup("worker").NodeConfigs.Get("HDFS", pfake.ConfHeapSize); v != 2048 {
			t.Errorf("worker heap = %v, want 2048", v)
		}
	})
}

func TestEngineCreate_AutoconfigNeedsFlavorLookup(t *testing.T) {
	p := &recommending{Plugin: pfake.New()}
	logs := &syncBuffer{}
	eng := autoconfigEngine(t, p, hiddenFlavors{newAutoconfigInfra()}, logs)
	c, err := eng.NewCluster(demoSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.calls, []string{"validate"}) {
		t.Errorf("calls = %v, want validate only", p.calls)
	}
	if !strings.Contains(logs.String(), "cannot look up flavors") {
		t.Errorf("no debug line says why autoconfig was skipped:\n%s", logs)
	}
}

func TestEngineCreate_MissingFlavorIsAClearValidationError(t *testing.T) {
	p := &recommending{Plugin: pfake.New()}
	infra := newAutoconfigInfra()
	infra.Fail("Flavor", "", sahara.ErrNotFound)
	eng := autoconfigEngine(t, p, infra, &syncBuffer{})
	c, err := eng.NewCluster(demoSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	err = eng.Create(context.Background(), c)
	if err == nil || err.Error() != "Requested flavor 'm1' not found" || !errors.Is(err, sahara.ErrValidation) {
		t.Fatalf("err = %v", err)
	}
	if c.Status != sahara.StatusError || len(p.calls) != 0 || infra.Calls("SpawnInstances") != 0 || len(infra.Leftovers(c.ID)) != 0 {
		t.Errorf("status %s, calls %v, spawns %d, leftovers %v", c.Status, p.calls, infra.Calls("SpawnInstances"), infra.Leftovers(c.ID))
	}
}

func TestEngineScale_RecommendsConfigsBeforeValidateScaling(t *testing.T) {
	p := &recommending{Plugin: pfake.New()}
	infra := newAutoconfigInfra()
	eng := autoconfigEngine(t, p, infra, &syncBuffer{})
	c, err := eng.NewCluster(demoSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	p.calls = nil
	req := sahara.ScaleRequest{Resize: map[string]int{"worker": 2}, Add: []sahara.NodeGroupSpec{
		{Name: "big", FlavorID: "m3", Count: 1, NodeProcesses: []string{"datanode", "nodemanager"}},
	}}
	if err := eng.ValidateScaling(context.Background(), c, req); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.calls, []string{"validate_scaling"}) {
		t.Errorf("offline ValidateScaling calls = %v, want validate_scaling only", p.calls)
	}
	p.calls = nil
	if err := eng.Scale(context.Background(), c, req); err != nil {
		t.Fatal(err)
	}
	if want := []string{"recommend scaling=true", "validate_scaling"}; !reflect.DeepEqual(p.calls, want) {
		t.Fatalf("SPI calls = %v, want %v", p.calls, want)
	}
	if got := p.groups[len(p.groups)-1]; !reflect.DeepEqual(got, []string{"master", "worker", "big"}) {
		t.Errorf("recommend saw groups %v, want the new one too", got)
	}
	if v, _ := c.NodeGroup("big").NodeConfigs.Get("HDFS", pfake.ConfHeapSize); v != 4096 {
		t.Errorf("new group heap = %v, want 4096 from m3", v)
	}
	if n := len(c.NodeGroup("big").Instances); n != 1 {
		t.Errorf("new group has %d instances", n)
	}
}

// TestEngineCreate_VanillaAutoconfigKeepsUserValues drives the real vanilla
// recommend_configs through the engine; a quota failure stops the create
// right after Validating, with the recommendations in the record.
func TestEngineCreate_VanillaAutoconfigKeepsUserValues(t *testing.T) {
	infra := fake.NewInfra(sahara.Image{ID: imageID, Name: "vanilla", Username: "ubuntu", Tags: []string{vanilla.Name, vanilla.V282}})
	infra.Flavors = map[string]fake.Flavor{"m1": {VCPUs: 2, RAMMB: 2048}, "m2": {VCPUs: 4, RAMMB: 8192}}
	infra.Fail("CheckQuotas", "", errors.New("stop after validating"))
	eng := autoconfigEngine(t, vanilla.New(vanilla.Options{}), infra, &syncBuffer{})
	c, err := eng.NewCluster(sahara.ClusterSpec{
		Name: "demo", PluginName: vanilla.Name, PluginVersion: vanilla.V282, DefaultImageID: imageID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{vanilla.ProcNameNode, vanilla.ProcResourceManager, vanilla.ProcHistoryServer}},
			{Name: "worker", FlavorID: "m2", Count: 2, NodeProcesses: []string{vanilla.ProcDataNode, vanilla.ProcNodeManager},
				NodeConfigs: sahara.Configs{vanilla.SvcYARN: {"yarn.nodemanager.resource.memory-mb": 3000}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Create(context.Background(), c); err == nil || !strings.Contains(err.Error(), "stop after validating") {
		t.Fatalf("err = %v", err)
	}
	// 2 GiB: 8 containers of max((2048-1024)/8, 256) = 256 MiB.
	if v, _ := c.NodeGroup("master").NodeConfigs.Get(vanilla.SvcYARN, "yarn.nodemanager.resource.memory-mb"); v != 2048 {
		t.Errorf("master memory-mb = %v, want 2048 recommended from m1", v)
	}
	worker := c.NodeGroup("worker").NodeConfigs
	if v, _ := worker.Get(vanilla.SvcYARN, "yarn.nodemanager.resource.memory-mb"); v != 3000 {
		t.Errorf("worker memory-mb = %v, want the user's 3000", v)
	}
	if n := len(worker[vanilla.SvcYARN]) + len(worker[vanilla.SvcMapReduce]); n != 1 {
		t.Errorf("worker got recommendations next to a user value: %v", worker)
	}
	if v, _ := c.ClusterConfigs.Get(vanilla.SvcHDFS, vanilla.CfgReplication); v != 2 {
		t.Errorf("dfs.replication = %v, want min(3, 2 datanodes)", v)
	}
	if infra.Calls("Flavor") != 2 {
		t.Errorf("%d flavor lookups, want 2", infra.Calls("Flavor"))
	}
}
