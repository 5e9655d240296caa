package sahara_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

func workerSpec(c *sahara.Cluster, flavor string) sahara.NodeGroupSpec {
	spec := c.NodeGroup("worker").NodeGroupSpec
	spec.FlavorID = flavor
	return spec
}

func serverIDs(c *sahara.Cluster, group string) map[string]string {
	out := map[string]string{}
	for _, in := range c.NodeGroup(group).Instances {
		out[in.InstanceName] = in.InstanceID
	}
	return out
}

// A new flavor for the workers rolls them one at a time through the scale
// path: new instances first, then the old ones decommissioned; the master,
// the cluster's ID and its Active status between batches stay.
func TestEngineRoll_ReplacesTheGroupBatchByBatch(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	id, master, oldWorkers := c.ID, serverIDs(c, "master"), serverIDs(c, "worker")
	if err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{}); err != nil {
		t.Fatal(err)
	}
	batch := append(append([]sahara.ClusterStatus(nil), scaleUpStatuses...), scaleDownStatuses...)
	if got, want := h.takeStatuses(), append(append([]sahara.ClusterStatus(nil), batch...), batch...); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want two batches %v", got, want)
	}
	if c.ID != id || c.Status != sahara.StatusActive || c.NodeGroup("worker").Count != 2 || c.NodeGroup("worker").FlavorID != "m2" {
		t.Fatalf("cluster %s %s, workers %d of flavor %s", c.ID, c.Status, c.NodeGroup("worker").Count, c.NodeGroup("worker").FlavorID)
	}
	if got := serverIDs(c, "master"); !reflect.DeepEqual(got, master) {
		t.Errorf("the master changed: %v, was %v", got, master)
	}
	// Sahara's names: the second replacement took the index the first retired.
	now := serverIDs(c, "worker")
	if names := instanceNames(c); !reflect.DeepEqual(names, []string{"demo-master-0", "demo-worker-0", "demo-worker-2"}) {
		t.Errorf("instances %v", names)
	}
	for name, sid := range now {
		for _, old := range oldWorkers {
			if sid == old {
				t.Errorf("%s still runs on its old server %s", name, sid)
			}
		}
	}
	if out := c.NodeGroup("worker").Outdated(); len(out) != 0 {
		t.Errorf("outdated after the roll: %d", len(out))
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, []string{"demo-master-0", "demo-worker-0", "demo-worker-2"}) {
		t.Errorf("servers %v", got)
	}
	if h.plugin.Calls("ScaleCluster") != 2 || h.plugin.Calls("DecommissionNodes") != 2 {
		t.Errorf("plugin calls scale=%d decommission=%d, want 2 and 2", h.plugin.Calls("ScaleCluster"), h.plugin.Calls("DecommissionNodes"))
	}
	checkHostsEverywhere(t, h.conn, c)

	// The same settings again: nothing to roll.
	if err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{}); err != nil {
		t.Fatal(err)
	}
	if got := h.takeStatuses(); len(got) != 0 {
		t.Errorf("a roll to the same settings ran %v", got)
	}
}

// A batch that fails is rolled back by its scale: the cluster is Active on
// a mix of old and new instances, each marked with its settings, and the
// same roll run again finishes.
func TestEngineRoll_FailedBatchLeavesAnActiveMixAndResumes(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	boom := errors.New("no valid host was found")
	// the first batch adds demo-worker-2; the second would add demo-worker-0
	h.infra.Fail("SpawnInstances", "demo-worker-0", boom)
	err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{})
	if !errors.Is(err, boom) {
		t.Fatalf("roll: %v, want the spawn failure", err)
	}
	ng := c.NodeGroup("worker")
	if c.Status != sahara.StatusActive || ng.Count != 2 || len(ng.Instances) != 2 || len(ng.Outdated()) != 1 {
		t.Fatalf("after the failed batch: %s, %d workers (%d instances), %d outdated", c.Status, ng.Count, len(ng.Instances), len(ng.Outdated()))
	}
	if old := ng.Outdated()[0].InstanceName; old != "demo-worker-1" {
		t.Errorf("the old instance left is %s, want demo-worker-1", old)
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, []string{"demo-master-0", "demo-worker-1", "demo-worker-2"}) {
		t.Errorf("servers after the failed batch %v", got)
	}
	h.infra.ClearFaults()
	if err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{}); err != nil {
		t.Fatal(err)
	}
	if len(ng.Outdated()) != 0 || c.Status != sahara.StatusActive {
		t.Errorf("after the second roll: %d outdated, %s", len(ng.Outdated()), c.Status)
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, []string{"demo-master-0", "demo-worker-0", "demo-worker-2"}) {
		t.Errorf("servers after the second roll %v", got)
	}
}

// A group whose processes the plugin cannot scale cannot be rolled: the
// plugin's reason, before anything changes.
func TestEngineRoll_GroupThePluginCannotScaleIsRefused(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	spec := c.NodeGroup("master").NodeGroupSpec
	spec.FlavorID = "m2"
	err := h.eng.Roll(context.Background(), c, "master", spec, sahara.RollPolicy{})
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "NodeGroupCannotBeScaled" || sahara.FieldOf(err).NodeGroup != "master" {
		t.Fatalf("roll of the master: %v", err)
	}
	if c.NodeGroup("master").FlavorID != "m1" || h.infra.TotalCalls() != 0 {
		t.Errorf("the refused roll changed something: flavor %s, %d cloud calls", c.NodeGroup("master").FlavorID, h.infra.TotalCalls())
	}
}

// The policy paces the batches: a surge of 2 replaces two workers per
// batch; a surge of 0 with one unavailable retires an old worker before
// its replacement is added, so the group never runs above its count.
func TestEngineRoll_PolicyPacesTheBatches(t *testing.T) {
	up, down := scaleUpStatuses, scaleDownStatuses
	for _, tc := range []struct {
		name    string
		workers int
		policy  sahara.RollPolicy
		want    [][]sahara.ClusterStatus
		peak    int // most servers at once
	}{
		{"surge 2", 3, sahara.RollPolicy{MaxSurge: 2}, [][]sahara.ClusterStatus{up, down, up, down}, 6},
		{"unavailable 1", 2, sahara.RollPolicy{MaxUnavailable: 1}, [][]sahara.ClusterStatus{down, up, down, up}, 3},
		{"surge 1 unavailable 1", 2, sahara.RollPolicy{MaxSurge: 1, MaxUnavailable: 1}, [][]sahara.ClusterStatus{down, up, down}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			c := h.create(demoSpec(tc.workers))
			peak := 0
			h.onStatus = func(sahara.Event) { peak = max(peak, len(serverNames(h.infra, c.ID))) }
			if err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), tc.policy); err != nil {
				t.Fatal(err)
			}
			var want []sahara.ClusterStatus
			for _, b := range tc.want {
				want = append(want, b...)
			}
			if got := h.takeStatuses(); !reflect.DeepEqual(got, want) {
				t.Errorf("statuses = %v, want %v", got, want)
			}
			ng := c.NodeGroup("worker")
			if ng.Count != tc.workers || len(ng.Outdated()) != 0 || len(serverNames(h.infra, c.ID)) != tc.workers+1 {
				t.Errorf("after the roll: count %d, %d outdated, servers %v", ng.Count, len(ng.Outdated()), serverNames(h.infra, c.ID))
			}
			if peak != tc.peak {
				t.Errorf("at most %d servers at once, want %d", peak, tc.peak)
			}
		})
	}
}

// retireLimited is the fake plugin with a limit on instances retired at
// once, as vanilla's dfs.replication-1 for datanodes.
type retireLimited struct {
	*pfake.Plugin
	n int
}

func (p retireLimited) MaxRetired(*sahara.Cluster, *sahara.NodeGroup) (int, string) {
	return p.n, "the test says so"
}

// The plugin's limit holds however large the surge: three new workers are
// added at once, the old ones retired one at a time; a policy that would
// retire more before adding is refused before anything changes.
func TestEngineRoll_PluginLimitsRetiredAtOnce(t *testing.T) {
	h := newHarnessWith(t, 0, func(p *pfake.Plugin) sahara.Plugin { return retireLimited{p, 1} })
	c := h.create(demoSpec(3))
	err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{MaxUnavailable: 2})
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "InvalidDataException" || sahara.FieldOf(err).Attribute != "update_policy" {
		t.Fatalf("max_unavailable 2 over a limit of 1: %v", err)
	}
	if h.infra.TotalCalls() != 0 || c.NodeGroup("worker").FlavorID != "m1" {
		t.Fatalf("the refused roll changed something")
	}
	if err := h.eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{MaxSurge: 3}); err != nil {
		t.Fatal(err)
	}
	want := append([]sahara.ClusterStatus(nil), scaleUpStatuses...)
	for range 3 {
		want = append(want, scaleDownStatuses...)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want one scale up and three single retirements", got)
	}
	if n := h.plugin.Calls("DecommissionNodes"); n != 3 {
		t.Errorf("%d decommissions, want 3 of one instance each", n)
	}
}

// noRolls is a cloud that cannot roll a group (the Heat engine).
type noRolls struct{ *fake.Infra }

func (noRolls) RefuseRoll(_ *sahara.Cluster, group string) error {
	return errors.New("cannot roll " + group)
}

// An infrastructure that cannot roll refuses the roll before anything changes.
func TestEngineRoll_InfrastructureThatCannotRollRefuses(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	calls := h.infra.TotalCalls()
	reg, err := sahara.NewRegistry(h.plugin)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Infra: noRolls{h.infra}, Remotes: h.conn, Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	err = eng.Roll(context.Background(), c, "worker", workerSpec(c, "m2"), sahara.RollPolicy{})
	if err == nil || err.Error() != "cannot roll worker" {
		t.Fatalf("roll on a cloud that cannot roll: %v", err)
	}
	if c.NodeGroup("worker").FlavorID != "m1" || h.infra.TotalCalls() != calls {
		t.Errorf("the refused roll changed something: flavor %s, %d cloud calls", c.NodeGroup("worker").FlavorID, h.infra.TotalCalls()-calls)
	}
}
