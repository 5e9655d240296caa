package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A new flavor for the workers, through the CLI on the testbed: the plan
// is an in-place update that names the roll, the apply keeps the cluster's
// ID and its master's server, the workers run on new servers of the new
// flavor under Sahara's names, and destroy leaves nothing.
func TestAccCluster_WorkerFlavorChangeRollsTheGroup(t *testing.T) {
	env, r, name := cliTest(t, "accr")
	ctx := context.Background()
	small := fakeCluster(env, name, "worker", 2, "")
	tiny := env.Flavors["m1.tiny"]
	if tiny == "" {
		t.Fatal("the testbed has no m1.tiny flavor")
	}
	r.write(small)
	r.apply()
	first := r.record(ctx, name)
	before := r.expectServers(ctx, name, name+"-master-0", name+"-worker-0", name+"-worker-1")

	r.write(strings.Replace(small, fmt.Sprintf("worker = { flavor_id = %q", env.FlavorID), fmt.Sprintf("worker = { flavor_id = %q", tiny), 1))
	out, code := r.plan()
	flat := strings.Join(strings.Fields(out), " ")
	if code != 2 || !strings.Contains(flat, "will be updated in-place") || !strings.Contains(flat, "Rolling Replacement") ||
		strings.Contains(flat, "must be replaced") {
		t.Fatalf("the plan (exit %d) is not a roll of the workers:\n%s", code, tail(out, 3000))
	}
	r.apply()
	rec := r.record(ctx, name)
	if rec == nil || rec.ID != first.ID || rec.Status != sahara.StatusActive {
		t.Fatalf("the record after the roll: %+v, want cluster %s Active", rec, first.ID)
	}
	after := r.expectServers(ctx, name, name+"-master-0", name+"-worker-0", name+"-worker-2")
	if after[name+"-master-0"] != before[name+"-master-0"] {
		t.Errorf("the master's server changed: %s → %s", before[name+"-master-0"], after[name+"-master-0"])
	}
	for _, w := range []string{name + "-worker-0", name + "-worker-2"} {
		if after[w] == before[name+"-worker-0"] || after[w] == before[name+"-worker-1"] {
			t.Errorf("%s runs on an old server", w)
		}
		if err := expectFlavor(env, after[w], "m1.tiny"); err != nil {
			t.Error(err)
		}
	}
	r.expectNoChanges()
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
}

// A roll whose second batch cannot create its server (Nova refuses it, as
// for an exhausted quota): the apply fails naming the roll, the cluster is
// Active on one old and one new worker, the state says so, and the next
// apply finishes the roll.
func TestAccCluster_FailedRollBatchResumes(t *testing.T) {
	env, r, name := cliTest(t, "accb")
	ctx := context.Background()
	proxy, overrides := env.FaultProxy(t, "compute")
	small := fakeCluster(env, name, "worker", 2, overridesBlock(overrides))
	r.write(small)
	r.apply()
	first := r.record(ctx, name)
	before := r.expectServers(ctx, name, name+"-master-0", name+"-worker-0", name+"-worker-1")

	// The first batch's server goes through; the second batch's is refused.
	if err := proxy.Inject(testbed.Fault{Service: "compute", Method: "POST", Path: `/servers$`, Skip: 1, Count: 1, Status: 403}); err != nil {
		t.Fatal(err)
	}
	r.write(strings.Replace(small, fmt.Sprintf("worker = { flavor_id = %q", env.FlavorID), fmt.Sprintf("worker = { flavor_id = %q", env.Flavors["m1.tiny"]), 1))
	out, code := r.exec("apply", "-auto-approve")
	flat := strings.Join(strings.Fields(out), " ")
	if code == 0 || !strings.Contains(flat, "Rolling Replacement Error") {
		t.Fatalf("the apply (exit %d) did not fail in the roll:\n%s", code, tail(out, 3000))
	}
	if n := proxy.Injected("compute"); n != 1 {
		t.Fatalf("faults injected: %d, want 1 (%v)", n, proxy.Injections())
	}
	rec := r.record(ctx, name)
	if rec == nil || rec.ID != first.ID || rec.Status != sahara.StatusActive {
		t.Fatalf("the record after the failed batch: %+v, want cluster %s Active", rec, first.ID)
	}
	if old := rec.NodeGroup("worker").Outdated(); len(old) != 1 || old[0].InstanceName != name+"-worker-1" {
		t.Errorf("outdated workers after the failed batch: %v, want %s only", old, name+"-worker-1")
	}
	mixed := r.expectServers(ctx, name, name+"-master-0", name+"-worker-1", name+"-worker-2")
	if mixed[name+"-worker-1"] != before[name+"-worker-1"] {
		t.Errorf("the old worker-1 was replaced by the failed batch")
	}
	// The state shows the instances as they are.
	if got, want := r.stateInstances("worker"), []string{name + "-worker-1", name + "-worker-2"}; !slices.Equal(got, want) {
		t.Errorf("the state lists workers %v, want %v", got, want)
	}

	out, code = r.plan()
	if flat := strings.Join(strings.Fields(out), " "); code != 2 || !strings.Contains(flat, "Rolling Replacement") || strings.Contains(flat, "must be replaced") {
		t.Fatalf("the plan after the failed batch (exit %d) does not go on with the roll:\n%s", code, tail(out, 3000))
	}
	r.apply()
	after := r.expectServers(ctx, name, name+"-master-0", name+"-worker-0", name+"-worker-2")
	if after[name+"-worker-2"] != mixed[name+"-worker-2"] || after[name+"-master-0"] != before[name+"-master-0"] {
		t.Errorf("the resumed roll replaced a server it had no reason to: %v, was %v", after, mixed)
	}
	if err := expectFlavor(env, after[name+"-worker-0"], "m1.tiny"); err != nil {
		t.Error(err)
	}
	r.expectNoChanges()
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, first.ID)
}
