package sahara_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
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
