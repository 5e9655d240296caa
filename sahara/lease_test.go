package sahara_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

func quickLease(holder string) sahara.LeaseOptions {
	return sahara.LeaseOptions{TTL: 200 * time.Millisecond, Settle: 20 * time.Millisecond, Holder: holder}
}

func TestLease_SecondRunIsRefusedWithTheHolderNamed(t *testing.T) {
	ctx := context.Background()
	st := sfake.NewStore()
	a, err := sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "scale", quickLease("runner-a"))
	if err != nil {
		t.Fatal(err)
	}
	// Held well past its TTL: the renewal keeps it.
	time.Sleep(500 * time.Millisecond)
	_, err = sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "delete", quickLease("runner-b"))
	var le *sahara.LeaseError
	if !errors.As(err, &le) || !errors.Is(err, sahara.ErrLeased) {
		t.Fatalf("second acquire: %v, want a LeaseError", err)
	}
	for _, want := range []string{`cluster "demo"`, "runner-a", "scale", "lapses by itself at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := sahara.CheckLease(ctx, st, sahara.KindCluster, "demo", quickLease("runner-b")); !errors.As(err, &le) || le.Held.Holder != "runner-a" {
		t.Errorf("check while held: %v, want runner-a's LeaseError", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sahara.CheckLease(ctx, st, sahara.KindCluster, "demo", quickLease("runner-b")); err != nil {
		t.Errorf("check after release: %v", err)
	}
	b, err := sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "delete", quickLease("runner-b"))
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	_ = b.Release(ctx)
	if ids, _ := st.List(ctx, sahara.KindLease); len(ids) != 0 {
		t.Errorf("leases left after release: %v", ids)
	}
}

// A run that died leaves its lease; it lapses without anyone's help.
func TestLease_DeadRunsLeaseLapses(t *testing.T) {
	ctx := context.Background()
	st := sfake.NewStore()
	dead := sahara.Lease{Holder: "gone", Operation: "create", Since: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute), Token: "x"}
	if err := st.Put(ctx, sahara.KindLease, sahara.LeaseKey(sahara.KindCluster, "demo"), dead); err != nil {
		t.Fatal(err)
	}
	h, err := sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "create", quickLease("next"))
	if err != nil {
		t.Fatalf("acquire over a lapsed lease: %v", err)
	}
	_ = h.Release(ctx)
}

// Two runs that start together: exactly one gets the lease.
func TestLease_OneOfTwoConcurrentRunsWins(t *testing.T) {
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		st := sfake.NewStore()
		var wg sync.WaitGroup
		held := make([]*sahara.HeldLease, 2)
		errs := make([]error, 2)
		for i := range held {
			wg.Add(1)
			go func() {
				defer wg.Done()
				held[i], errs[i] = sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "create", quickLease([]string{"a", "b"}[i]))
			}()
		}
		wg.Wait()
		won := 0
		for i, h := range held {
			if h != nil {
				won++
				_ = h.Release(ctx)
			} else if !errors.Is(errs[i], sahara.ErrLeased) {
				t.Fatalf("round %d: loser's error %v, want ErrLeased", round, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d runs hold the lease, want 1", round, won)
		}
	}
}

// A holder on this host whose process is gone (kill -9) is not waited out.
func TestLease_KilledHolderOnThisHostIsNotWaitedOut(t *testing.T) {
	ctx := context.Background()
	st := sfake.NewStore()
	host, _ := os.Hostname()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := sahara.Lease{Holder: "killed", Operation: "create", Since: time.Now(), Expires: time.Now().Add(time.Hour), Token: "x",
		Host: host, PID: cmd.Process.Pid}
	key := sahara.LeaseKey(sahara.KindCluster, "demo")
	if err := st.Put(ctx, sahara.KindLease, key, gone); err != nil {
		t.Fatal(err)
	}
	h, err := sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "create", quickLease("next"))
	if err != nil {
		t.Fatalf("acquire over a killed holder's lease: %v", err)
	}
	_ = h.Release(ctx)

	// The same lease held by a live process (this test's parent) is respected.
	alive := gone
	alive.PID = os.Getppid()
	if err := st.Put(ctx, sahara.KindLease, key, alive); err != nil {
		t.Fatal(err)
	}
	if _, err := sahara.AcquireLease(ctx, st, sahara.KindCluster, "demo", "create", quickLease("next")); !errors.Is(err, sahara.ErrLeased) {
		t.Fatalf("acquire over a live holder's lease: %v, want ErrLeased", err)
	}
}
