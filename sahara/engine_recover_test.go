package sahara_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// interruptScale makes c look like the record a scale to workers+2 leaves
// when its run is killed: the new count, one new instance recorded but not
// started, one server booted that no record names, and the given status.
func interruptScale(t *testing.T, h *harness, c *sahara.Cluster, status sahara.ClusterStatus) {
	t.Helper()
	ng := c.NodeGroup("worker")
	ng.Count += 2
	free := ng.FreeIndexes(2)
	recorded := ng.NewInstance(free[0])
	ng.AddInstance(recorded)
	unnamed := ng.NewInstance(free[1])
	if err := h.infra.SpawnInstances(context.Background(), c, []*sahara.Instance{recorded, unnamed}, nil); err != nil {
		t.Fatal(err)
	}
	recorded.Phase = sahara.InstanceAccessible
	c.Status = status
	// What the store holds: the record as JSON, read back.
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	*c = sahara.Cluster{}
	if err := json.Unmarshal(raw, c); err != nil {
		t.Fatal(err)
	}
	c.Link()
}

func TestEngineRecover_RollsBackAnInterruptedScale(t *testing.T) {
	for _, status := range []sahara.ClusterStatus{sahara.StatusAddingInstances, sahara.StatusConfiguring, sahara.StatusScaling} {
		t.Run(string(status), func(t *testing.T) {
			h := newHarness(t, 0)
			c := h.create(demoSpec(2))
			before := len(h.infra.Servers(c.ID))
			interruptScale(t, h, c, status)
			if c.LeftByInterruptedCreate() || !c.LeftByInterruptedScale() {
				t.Fatalf("status %s: left by create %v, by scale %v", status, c.LeftByInterruptedCreate(), c.LeftByInterruptedScale())
			}
			if got := c.NodeGroup("worker").RunningCount(); got != 2 {
				t.Fatalf("running workers %d, want 2", got)
			}
			if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}); err == nil {
				t.Fatal("Scale accepted a cluster an interrupted scale left")
			}
			if err := h.eng.Recover(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			ng := c.NodeGroup("worker")
			if c.Status != sahara.StatusActive || ng.Count != 2 || len(ng.Instances) != 2 || len(h.infra.Servers(c.ID)) != before {
				t.Fatalf("after Recover: status %s, count %d, instances %d, servers %d (want Active, 2, 2, %d)",
					c.Status, ng.Count, len(ng.Instances), len(h.infra.Servers(c.ID)), before)
			}
			if !strings.Contains(c.StatusDescription, "A scale was interrupted in "+string(status)) {
				t.Errorf("description %q", c.StatusDescription)
			}
			// The next apply scales again, to the same names.
			if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, in := range c.NodeGroup("worker").Instances {
				names = append(names, in.InstanceName)
			}
			if got := strings.Join(names, " "); got != "demo-worker-0 demo-worker-1 demo-worker-2 demo-worker-3" {
				t.Errorf("workers after the next scale: %s", got)
			}
			if len(h.infra.Servers(c.ID)) != before+2 {
				t.Errorf("servers %d, want %d: nothing duplicated", len(h.infra.Servers(c.ID)), before+2)
			}
		})
	}
}

func TestEngineRecover_RefusesOtherRecords(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(1))
	if err := h.eng.Recover(context.Background(), c); err == nil {
		t.Fatal("Recover accepted an Active cluster")
	}
	if c.LeftByInterruptedCreate() {
		t.Error("an Active cluster counts as left by a create")
	}
	c.Status = sahara.StatusValidating // a scale's first status on a cluster that was Active
	if c.LeftByInterruptedCreate() || !c.LeftByInterruptedScale() {
		t.Error("a cluster that was Active, now Validating, is not taken for an interrupted scale")
	}
}

// Servers deleted or broken outside the engine are replaced through the
// plugin's scale path under the same names; nothing else changes.
func TestEngineRepair_ReplacesBrokenInstancesUnderTheirNames(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(3))
	before := len(h.infra.Servers(c.ID))
	h.infra.RemoveServer("demo-worker-1")
	h.infra.SetServerStatus("demo-worker-2", "ERROR")
	if err := h.eng.Refresh(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Broken()); n != 2 {
		t.Fatalf("broken instances: %d, want 2", n)
	}
	if err := h.eng.Repair(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.Refresh(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range c.NodeGroup("worker").Instances {
		got = append(got, in.InstanceName+"="+in.CloudStatus)
	}
	if s := strings.Join(got, " "); s != "demo-worker-0=ACTIVE demo-worker-1=ACTIVE demo-worker-2=ACTIVE" || c.Status != sahara.StatusActive {
		t.Errorf("after Repair: %s, status %s", s, c.Status)
	}
	if n := len(h.infra.Servers(c.ID)); n != before {
		t.Errorf("servers %d, want %d", n, before)
	}
	if h.plugin.Calls("ScaleCluster") != 1 {
		t.Errorf("scale_cluster calls %d, want 1: the repair goes through the plugin's scale path", h.plugin.Calls("ScaleCluster"))
	}
}
