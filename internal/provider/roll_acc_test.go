package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

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
	cl, err := env.Clients(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{name + "-worker-0", name + "-worker-2"} {
		if after[w] == before[name+"-worker-0"] || after[w] == before[name+"-worker-1"] {
			t.Errorf("%s runs on an old server", w)
		}
		s, err := servers.Get(ctx, cl.Compute, after[w]).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Flavor["original_name"]; got != "m1.tiny" {
			t.Errorf("%s runs flavor %v, want m1.tiny", w, got)
		}
	}
	r.expectNoChanges()
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
}
