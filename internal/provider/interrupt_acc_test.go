package provider

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// An apply stopped at any point of a create (Ctrl-C, or kill -9 of
// terraform and the provider) is followed by an apply of the same
// configuration that converges: no import, no -replace, nothing
// duplicated, and nothing left after destroy.

// stopAt is where a create is stopped at status: the answer the fault proxy
// holds there. At Spawning it is Nova's answer to the server creations (the
// servers exist, the run never learns their IDs); at the later statuses the
// object store's answer to the record write that enters the status (the
// record says it, the status's work has not begun). With the Heat engine,
// Spawning stops at Heat's answer to the stack's creation (the stack
// exists, the run never learns its ID).
func stopAt(engine string, status sahara.ClusterStatus) testbed.Fault {
	if status == sahara.StatusSpawning && engine == engineHeat {
		return testbed.Fault{Service: "orchestration", Method: "POST", Path: `/stacks$`, Hold: true}
	}
	if status == sahara.StatusSpawning {
		return testbed.Fault{Service: "compute", Method: "POST", Path: `/servers$`, Count: 2, Hold: true}
	}
	return testbed.Fault{Service: "object-store", Method: "PUT", Path: "/" + sahara.KindCluster + "/",
		Body: `"status":"` + string(status) + `"`, Hold: true}
}

func TestAccCluster_InterruptedCreateConverges(t *testing.T) {
	t.Parallel()
	statuses := []sahara.ClusterStatus{sahara.StatusSpawning, sahara.StatusWaiting, sahara.StatusPreparing,
		sahara.StatusConfiguring, sahara.StatusStarting}
	signals := []struct {
		name string
		sig  syscall.Signal
	}{{"Ctrl-C", syscall.SIGINT}, {"kill -9", syscall.SIGKILL}}
	for i, at := range statuses {
		for j, s := range signals {
			t.Run(fmt.Sprintf("%s at %s", s.name, at), func(t *testing.T) {
				interruptCreate(t, fmt.Sprintf("acci%d%d-", i, j), engineDirect, at, s.sig)
			})
		}
	}
}

// With the Heat engine: an apply killed while Heat creates the stack is
// followed by an apply that deletes that stack with the interrupted
// cluster and converges on one stack.
func TestAccCluster_HeatInterruptedCreateConverges(t *testing.T) {
	interruptCreate(t, "acchi-", engineHeat, sahara.StatusSpawning, syscall.SIGKILL)
}

func interruptCreate(t *testing.T, prefix, engine string, at sahara.ClusterStatus, sig syscall.Signal) {
	env, r, name := cliTest(t, prefix)
	ctx := context.Background()
	proxy, overrides := env.FaultProxy(t, "compute", "object-store", "orchestration")
	if err := proxy.Inject(stopAt(engine, at)); err != nil {
		t.Fatal(err)
	}
	r.write(fakeCluster(env, name, "worker", 1, overridesBlock(overrides)+fmt.Sprintf("  engine = %q\n", engine)))

	p := r.start("apply", "-auto-approve")
	waitHeld(t, p, proxy, "the stop point at "+string(at))
	first := r.record(ctx, name)
	if first == nil || first.Status != at {
		t.Fatalf("the record at the stop point: %+v, want status %s", first, at)
	}
	p.signal(t, sig)
	if sig == syscall.SIGINT {
		proxy.Release() // the stopping run's own writes go through
	}
	if !p.wait(20 * time.Minute) {
		t.Fatalf("terraform did not stop in 20 minutes after %v\n%s", sig, tail(p.out.String(), 3000))
	}
	proxy.Release()
	t.Logf("stopped at %s by %v: %v", at, sig, p.err)

	// The next apply of the same configuration converges.
	r.apply()
	rec := r.record(ctx, name)
	if rec == nil || rec.Status != sahara.StatusActive {
		t.Fatalf("the record after the next apply: %+v, want one Active cluster", rec)
	}
	r.expectServers(ctx, name, name+"-master-0", name+"-worker-0")
	r.expectNoChanges()
	if err := (accLayout{engine: engine}).expectStacks(env, rec.ID); err != nil {
		t.Error(err)
	}
	if err := expectStacks(env, first.ID, 0); err != nil {
		t.Errorf("the interrupted create's stack: %v", err)
	}

	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, first.ID)
	env.AssertNoLeftovers(t, rec.ID)
	if left := r.record(ctx, name); left != nil {
		t.Errorf("the record of %s is left after destroy", name)
	}
}

// A destroy killed while Nova deletes the servers leaves the cluster in
// state, Deleting: the next apply of the same configuration replaces it
// (never scales or repairs what is half gone), and the destroy after that
// leaves nothing of either cluster.
func TestAccCluster_InterruptedDestroyConverges(t *testing.T) {
	env, r, name := cliTest(t, "accx")
	ctx := context.Background()
	proxy, overrides := env.FaultProxy(t, "compute", "object-store")
	r.write(fakeCluster(env, name, "worker", 1, overridesBlock(overrides)))
	r.apply()
	first := r.record(ctx, name)

	if err := proxy.Inject(testbed.Fault{Service: "compute", Method: "DELETE", Path: `/servers/`, Hold: true}); err != nil {
		t.Fatal(err)
	}
	p := r.start("destroy", "-auto-approve")
	waitHeld(t, p, proxy, "the deletion of a server")
	p.signal(t, syscall.SIGKILL)
	p.wait(time.Minute)
	proxy.Release()
	if rec := r.record(ctx, name); rec == nil || rec.Status != sahara.StatusDeleting {
		t.Fatalf("the record after the killed destroy: %+v, want Deleting", rec)
	}

	out, code := r.plan()
	if code != 2 || !strings.Contains(out, "Cluster Partly Deleted") || !strings.Contains(out, "must be replaced") {
		t.Errorf("the plan (exit %d) does not replace the partly deleted cluster:\n%s", code, tail(out, 3000))
	}
	r.apply()
	rec := r.record(ctx, name)
	if rec == nil || rec.Status != sahara.StatusActive || rec.ID == first.ID {
		t.Fatalf("the record after the apply: %+v, want a new Active cluster", rec)
	}
	r.expectServers(ctx, name, name+"-master-0", name+"-worker-0")
	env.AssertNoLeftovers(t, first.ID)
	r.expectNoChanges()

	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
	if r.record(ctx, name) != nil {
		t.Errorf("the record of %s is left after destroy", name)
	}
}
