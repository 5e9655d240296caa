package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A burst of 503 and 429 answers from Nova and Neutron while the cluster
// spawns is retried: the apply ends Active, with no rollback.
func TestAccCluster_APIBurstDuringSpawningIsRetried(t *testing.T) {
	env, r, name := cliTest(t, "accf")
	ctx := context.Background()
	proxy, overrides := env.FaultProxy(t, "compute", "network", "object-store")
	// The burst is armed when the record enters Spawning.
	if err := proxy.Inject(testbed.Fault{Service: "object-store", Method: "PUT", Path: "/" + sahara.KindCluster + "/",
		Body: `"status":"` + string(sahara.StatusSpawning) + `"`, Hold: true}); err != nil {
		t.Fatal(err)
	}
	r.write(fakeCluster(env, name, "worker", 1, overridesBlock(overrides)))
	p := r.start("apply", "-auto-approve")
	waitHeld(t, p, proxy, "Spawning")
	burst := []testbed.Fault{
		{Service: "compute", Method: "POST", Path: `/servers$`, Count: 2, Status: 503},
		{Service: "compute", Method: "GET", Path: `/servers`, Count: 2, Status: 429, RetryAfter: "1"},
		{Service: "network", Method: "GET", Count: 2, Status: 503},
		{Service: "network", Method: "POST", Count: 1, Status: 429},
	}
	if err := proxy.Inject(burst...); err != nil {
		t.Fatal(err)
	}
	proxy.Release()
	if !p.wait(10*time.Minute) || p.err != nil {
		t.Fatalf("the apply through the burst: %v\n%s", p.err, tail(p.out.String(), 4000))
	}
	if n := proxy.Injected("compute") + proxy.Injected("network"); n != 7 {
		t.Errorf("faults injected: %d of 7 (%v); pending %d", n, proxy.Injections(), proxy.Pending())
	}
	rec := r.record(ctx, name)
	if rec == nil || rec.Status != sahara.StatusActive {
		t.Fatalf("record after the apply: %+v, want Active", rec)
	}
	for _, st := range rec.Progress {
		if st.Type == sahara.StepTypeEngineRollback {
			t.Errorf("the create rolled back: %+v", st)
		}
	}
	r.expectServers(ctx, name, name+"-master-0", name+"-worker-0")
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
}

// A server that never answers SSH fails the create within ssh's
// accessible_timeout (not the hour of the operation's timeout), and the
// error names the instance, its address and user; destroy leaves nothing.
func TestAccCluster_SSHNeverAnswersFailsWithinItsTimeout(t *testing.T) {
	env, r, name := cliTest(t, "accs")
	ctx := context.Background()
	// The testbed starts no sshd on a server whose name holds "fault-nossh".
	r.write(fakeCluster(env, name, "fault-nossh", 1, `  ssh = { accessible_timeout = "20s" }`))
	start := time.Now()
	out, code := r.exec("apply", "-auto-approve")
	took := time.Since(start)
	if code == 0 {
		t.Fatalf("the apply succeeded with a server that has no sshd:\n%s", tail(out, 3000))
	}
	flat := strings.Join(strings.Fields(out), " ") // Terraform wraps diagnostics
	for _, want := range []string{name + "-fault-nossh-0", `user "ubuntu"`, "not accessible over SSH", "accessible timeout, 20s"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the error does not say %q:\n%s", want, tail(out, 3000))
		}
	}
	// Functional, not a speed figure: the default would wait 10 minutes.
	if took > 5*time.Minute {
		t.Errorf("the create failed after %s: the 20s accessible_timeout was not applied", took.Round(time.Second))
	}
	rec := r.record(ctx, name)
	if rec == nil {
		t.Fatal("no record of the failed cluster")
	}
	t.Logf("failed after %s in %s", took.Round(time.Second), rec.Status)
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
}

// A server stuck deleting fails the destroy within delete_instances_timeout,
// naming the server and its task state; the cluster stays in state, and the
// next destroy, once the cloud let the server go, leaves nothing.
func TestAccCluster_ServerStuckDeletingFailsWithinItsTimeout(t *testing.T) {
	env, r, name := cliTest(t, "accd")
	ctx := context.Background()
	// The testbed keeps a server whose name holds "slowdelete<N>" N seconds in task state deleting.
	r.write(fakeCluster(env, name, "slowdelete40", 1, `  delete_instances_timeout = "10s"`))
	r.apply()
	rec := r.record(ctx, name)
	out, code := r.exec("destroy", "-auto-approve")
	flat := strings.Join(strings.Fields(out), " ")
	if code == 0 {
		t.Fatalf("the destroy succeeded past a server stuck deleting:\n%s", tail(out, 3000))
	}
	for _, want := range []string{"not deleted within the delete timeout (10s)", name + "-slowdelete40-0", "task deleting"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the error does not say %q:\n%s", want, tail(out, 3000))
		}
	}
	for deadline := time.Now().Add(3 * time.Minute); len(r.servers(ctx, name+"-slowdelete40-0")) > 0; time.Sleep(2 * time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("the testbed did not let the server go in 3 minutes")
		}
	}
	r.run("destroy", "-auto-approve")
	env.AssertNoLeftovers(t, rec.ID)
	if r.record(ctx, name) != nil {
		t.Errorf("the record of %s is left after destroy", name)
	}
}
