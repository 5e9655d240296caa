package sahara

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func testOperation(t *testing.T, status ClusterStatus) (*operation, *Cluster) {
	t.Helper()
	reg, _ := NewRegistry()
	e, err := New(Options{Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{ID: "id", Status: status}
	return e.newOperation(c, ""), c
}

func TestSetStatus_RefusesDisallowedTransitions(t *testing.T) {
	op, c := testOperation(t, StatusActive)
	err := op.setStatus(StatusSpawning, nil)
	var te *TransitionError
	if !errors.As(err, &te) || te.From != StatusActive || te.To != StatusSpawning || c.Status != StatusActive {
		t.Fatalf("err = %v, status %s", err, c.Status)
	}
	if err := op.setStatus(StatusValidating, nil); err != nil || c.Status != StatusValidating {
		t.Fatalf("allowed transition refused: %v", err)
	}
}

func TestSetStatus_NeverOverwritesDeleting(t *testing.T) {
	for _, to := range AllStatuses() {
		op, c := testOperation(t, StatusDeleting)
		c.StatusDescription = "kept"
		err := op.setStatus(to, new(string))
		if to == StatusDeleting {
			if err != nil || c.StatusDescription != "" {
				t.Errorf("Deleting -> Deleting: %v", err)
			}
			continue
		}
		if !errors.Is(err, errClusterDeleting) || c.Status != StatusDeleting || c.StatusDescription != "kept" {
			t.Errorf("Deleting -> %s: err %v, status %s %q", to, err, c.Status, c.StatusDescription)
		}
	}
}

// recPhase records Run and Rollback calls.
type recPhase struct {
	status  ClusterStatus
	fail    bool
	commits bool
	skip    bool
	log     *[]string
}

func (p recPhase) Title() ClusterStatus { return p.status }
func (p recPhase) Run(ctx context.Context, op *operation) error {
	*p.log = append(*p.log, "run "+string(p.status))
	if p.fail {
		return errors.New("failed")
	}
	return nil
}
func (p recPhase) Rollback(ctx context.Context, op *operation) error {
	*p.log = append(*p.log, "rollback "+string(p.status))
	return nil
}
func (p recPhase) Commits() bool           { return p.commits }
func (p recPhase) Skip(op *operation) bool { return p.skip }

func TestOperationRun_RollsBackInReverseSinceLastCommit(t *testing.T) {
	var log []string
	op, c := testOperation(t, StatusUndefined)
	failed, err, rbErr := run(context.Background(), op, []phase[*operation]{
		recPhase{status: StatusValidating, log: &log},
		recPhase{status: StatusInfraUpdating, commits: true, log: &log},
		recPhase{status: StatusSpawning, log: &log},
		recPhase{status: StatusWaiting, skip: true, log: &log},
		recPhase{status: StatusWaiting, log: &log},
		recPhase{status: StatusPreparing, fail: true, log: &log},
		recPhase{status: StatusConfiguring, log: &log},
	})
	if err == nil || rbErr != nil || failed.Title() != StatusPreparing || c.Status != StatusPreparing {
		t.Fatalf("failed %v err %v rb %v status %s", failed, err, rbErr, c.Status)
	}
	want := []string{
		"run Validating", "run InfraUpdating", "run Spawning", "run Waiting", "run Preparing",
		"rollback Preparing", "rollback Waiting", "rollback Spawning",
	}
	if !reflect.DeepEqual(log, want) {
		t.Fatalf("log = %v\nwant  %v", log, want)
	}
}
