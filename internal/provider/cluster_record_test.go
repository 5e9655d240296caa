package provider

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// faultyStore behaves as an object store over HTTP does: a write on a
// cancelled context fails. failPuts makes the next writes of an Active
// cluster record fail with a 503.
type faultyStore struct {
	sahara.Store
	mu       sync.Mutex
	failPuts int
	failed   int
}

var errStore503 = errors.New("Expected HTTP response code [201] when accessing [PUT /v1/AUTH_x/saharagen/clusters/x], but got 503 instead")

func (s *faultyStore) Put(ctx context.Context, kind, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if c, ok := v.(*sahara.Cluster); ok && c.Status == sahara.StatusActive && s.failPuts > 0 {
		s.failPuts--
		s.failed++
		s.mu.Unlock()
		return errStore503
	}
	s.mu.Unlock()
	return s.Store.Put(ctx, kind, id, v)
}

func (s *faultyStore) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, kind, id)
}

// A Ctrl-C cancels the request's context; the record must still be written
// at each status and at the end.
func TestRecorder_WritesAfterTheRequestIsCancelled(t *testing.T) {
	st := &faultyStore{Store: sfake.NewStore()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecorder(ctx, st)
	c := &sahara.Cluster{ID: "c1", Status: sahara.StatusSpawning}
	rec.observe(sahara.Event{Kind: sahara.EventStatus, Cluster: c, Status: c.Status})
	var got sahara.Cluster
	if err := st.Get(context.Background(), sahara.KindCluster, "c1", &got); err != nil || got.Status != sahara.StatusSpawning {
		t.Fatalf("record after a status event on a cancelled request: %v, status %q", err, got.Status)
	}
	c.Status = sahara.StatusError
	if err := rec.flush(ctx, c); err != nil {
		t.Fatalf("final write on a cancelled request: %v", err)
	}
	if err := st.Get(context.Background(), sahara.KindCluster, "c1", &got); err != nil || got.Status != sahara.StatusError {
		t.Fatalf("record after the final write: %v, status %q", err, got.Status)
	}
}

// One failed write of the final record of a successful create is retried;
// the cluster is Active in state, not tainted, and the next plan is empty.
func TestCluster_FinalRecordWriteFaultDoesNotTaint(t *testing.T) {
	defer func(d time.Duration) { finalWriteBackoff = d }(finalWriteBackoff)
	finalWriteBackoff = time.Millisecond
	cloud := newTestCloud(t)
	st := &faultyStore{Store: cloud.store, failPuts: 1}
	cloud.wrapStore = func(sahara.Store) sahara.Store { return st }
	cfg := clusterConfig(1, 2, "", "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
	if st.failed != 1 {
		t.Errorf("the store refused %d writes of the Active record, want 1 (the fault was not reached)", st.failed)
	}
}
