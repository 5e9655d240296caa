package provider

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// One cluster through what happens to it between applies: scales stopped
// half-way, a server deleted by hand, a second run at the same time, and
// its record lost. Each ends with a plan that says what the next apply
// does, and that apply converging.
func TestAccCluster_SurvivesTerraformsOrdinaryLife(t *testing.T) {
	env, r, name := cliTest(t, "accl")
	ctx := context.Background()
	proxy, overrides := env.FaultProxy(t, "compute", "object-store")
	config := func(workers int) string {
		return fakeCluster(env, name, "worker", workers, overridesBlock(overrides))
	}
	workers := func(n int) []string {
		names := []string{name + "-master-0"}
		for i := range n {
			names = append(names, name+"-worker-"+string(rune('0'+i)))
		}
		return names
	}
	// hold arms a stop point for the next run (a fresh proxy rule and latch).
	hold := func(f testbed.Fault) {
		t.Helper()
		proxy.Rearm()
		if err := proxy.Inject(f); err != nil {
			t.Fatal(err)
		}
	}

	r.write(config(1))
	r.apply()
	id := r.record(ctx, name).ID

	t.Run("scale up killed in Adding Instances", func(t *testing.T) {
		r.t = t
		hold(testbed.Fault{Service: "compute", Method: "POST", Path: `/servers$`, Count: 2, Hold: true})
		r.write(config(3))
		p := r.start("apply", "-auto-approve")
		waitHeld(t, p, proxy, "the servers of the scale")
		if rec := r.record(ctx, name); rec.Status != sahara.StatusAddingInstances {
			t.Fatalf("the record at the stop point is %s, want %s", rec.Status, sahara.StatusAddingInstances)
		}
		p.signal(t, syscall.SIGKILL)
		p.wait(time.Minute)
		proxy.Release()

		out, code := r.plan()
		if code != 2 || !strings.Contains(out, "Cluster Left By An Interrupted Scale") {
			t.Errorf("the plan after the killed scale (exit %d) does not plan its rollback:\n%s", code, tail(out, 3000))
		}
		r.apply()
		if rec := r.record(ctx, name); rec.Status != sahara.StatusActive {
			t.Errorf("status after the apply: %s", rec.Status)
		}
		r.expectServers(ctx, name, workers(3)...)
		r.expectNoChanges()
	})

	t.Run("scale down stopped in Decommissioning", func(t *testing.T) {
		r.t = t
		hold(testbed.Fault{Service: "object-store", Method: "PUT", Path: "/" + sahara.KindCluster + "/",
			Body: `"status":"` + string(sahara.StatusDecommissioning) + `"`, Hold: true})
		r.write(config(1))
		p := r.start("apply", "-auto-approve")
		waitHeld(t, p, proxy, "the Decommissioning record")
		p.signal(t, syscall.SIGINT)
		proxy.Release()
		if !p.wait(10 * time.Minute) {
			t.Fatal("the stopped apply did not end")
		}
		t.Logf("the stopped apply ended: %v", p.err)

		if out, code := r.plan(); code != 2 {
			t.Errorf("the plan after the stopped scale-down is empty:\n%s", tail(out, 3000))
		}
		r.apply()
		r.expectServers(ctx, name, workers(1)...)
		r.expectNoChanges()
	})

	t.Run("server deleted by hand", func(t *testing.T) {
		r.t = t
		victim := name + "-worker-0"
		before := r.servers(ctx, victim)
		cl, err := env.Clients(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := servers.Delete(ctx, cl.Compute, before[victim]).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Minute); len(r.servers(ctx, victim)) > 0; time.Sleep(time.Second) {
			if time.Now().After(deadline) {
				t.Fatalf("%s was not deleted in 2 minutes", victim)
			}
		}
		out, code := r.plan()
		if code != 2 || !strings.Contains(out, "Instances To Repair") || !strings.Contains(out, victim) {
			t.Errorf("the plan (exit %d) does not show the repair of %s:\n%s", code, victim, tail(out, 3000))
		}
		r.apply()
		after := r.expectServers(ctx, name, workers(1)...)
		if after[victim] == "" || after[victim] == before[victim] {
			t.Errorf("%s was not recreated: %s before, %s after", victim, before[victim], after[victim])
		}
		r.expectNoChanges()
	})

	t.Run("two applies at once", func(t *testing.T) {
		r.t = t
		other := r.copyTo(t)
		hold(testbed.Fault{Service: "object-store", Method: "PUT", Path: "/" + sahara.KindCluster + "/",
			Body: `"status":"` + string(sahara.StatusAddingInstances) + `"`, Hold: true})
		r.write(config(2))
		p := r.start("apply", "-auto-approve")
		waitHeld(t, p, proxy, "the first run's scale")

		other.write(config(3))
		out, code := other.exec("apply", "-auto-approve")
		if code == 0 || !strings.Contains(out, "Cluster Busy") || !strings.Contains(out, "is being changed by another run") {
			t.Errorf("the second apply (exit %d) was not refused with the holder named:\n%s", code, tail(out, 3000))
		}
		proxy.Release()
		if !p.wait(10*time.Minute) || p.err != nil {
			t.Fatalf("the first apply: %v\n%s", p.err, tail(p.out.String(), 3000))
		}
		r.expectServers(ctx, name, workers(2)...)
		r.expectNoChanges()
	})

	t.Run("record deleted", func(t *testing.T) {
		r.t = t
		cl, err := env.Clients(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := objects.Delete(ctx, cl.Object, lifeContainer, sahara.KindCluster+"/"+id+".json", nil).Extract(); err != nil {
			t.Fatal(err)
		}
		out, code := r.exec("plan")
		if code == 0 || !strings.Contains(out, "Cluster Record Missing") || !strings.Contains(out, name+"-master-0") {
			t.Errorf("the plan (exit %d) does not refuse with the running servers named:\n%s", code, tail(out, 3000))
		}
		if r.record(ctx, name) != nil {
			t.Error("a record of the cluster appeared")
		}
		r.expectServers(ctx, name, workers(2)...)
		// The way out the error names: destroy without a refresh.
		r.run("destroy", "-auto-approve", "-refresh=false")
	})

	r.t = t
	env.AssertNoLeftovers(t, id)
	if r.record(ctx, name) != nil {
		t.Errorf("the record of %s is left after destroy", name)
	}
}
