package sahara

import "testing"

func TestCanTransition_Exhaustive(t *testing.T) {
	// Written out independently of the table: every allowed pair. Every other
	// pair of AllStatuses() must be refused.
	allowed := map[[2]ClusterStatus]bool{}
	for _, p := range [][2]ClusterStatus{
		{StatusUndefined, StatusValidating}, {StatusUndefined, StatusError}, {StatusUndefined, StatusDeleting},
		// create
		{StatusValidating, StatusInfraUpdating}, {StatusInfraUpdating, StatusSpawning},
		{StatusSpawning, StatusWaiting}, {StatusWaiting, StatusPreparing},
		{StatusPreparing, StatusConfiguring}, {StatusConfiguring, StatusStarting},
		{StatusStarting, StatusActive},
		// create failures
		{StatusValidating, StatusError}, {StatusInfraUpdating, StatusError}, {StatusSpawning, StatusError},
		{StatusWaiting, StatusError}, {StatusPreparing, StatusError}, {StatusConfiguring, StatusError},
		{StatusStarting, StatusError},
		// scale
		{StatusActive, StatusValidating}, {StatusValidating, StatusScaling}, {StatusValidating, StatusActive},
		{StatusScaling, StatusAddingInstances}, {StatusScaling, StatusDecommissioning}, {StatusScaling, StatusActive},
		{StatusScaling, StatusError},
		{StatusAddingInstances, StatusConfiguring}, {StatusAddingInstances, StatusActive}, {StatusAddingInstances, StatusError},
		{StatusConfiguring, StatusDecommissioning}, {StatusConfiguring, StatusActive},
		{StatusDecommissioning, StatusActive}, {StatusDecommissioning, StatusError},
		// delete from anywhere, and again
		{StatusValidating, StatusDeleting}, {StatusInfraUpdating, StatusDeleting}, {StatusSpawning, StatusDeleting},
		{StatusWaiting, StatusDeleting}, {StatusPreparing, StatusDeleting}, {StatusConfiguring, StatusDeleting},
		{StatusStarting, StatusDeleting}, {StatusActive, StatusDeleting}, {StatusScaling, StatusDeleting},
		{StatusAddingInstances, StatusDeleting}, {StatusDecommissioning, StatusDeleting},
		{StatusError, StatusDeleting}, {StatusDeleting, StatusDeleting},
	} {
		allowed[p] = true
	}
	n := 0
	for _, from := range AllStatuses() {
		if _, ok := transitions[from]; !ok {
			t.Errorf("status %q has no row in the transitions table", from)
		}
		for _, to := range AllStatuses() {
			want := allowed[[2]ClusterStatus{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
			n++
		}
	}
	if n != len(AllStatuses())*len(AllStatuses()) || n < 14*14 {
		t.Fatalf("checked %d pairs", n)
	}
	for from, tos := range transitions {
		for _, to := range tos {
			if !allowed[[2]ClusterStatus{from, to}] {
				t.Errorf("table allows %q -> %q, which the test does not expect", from, to)
			}
		}
	}
}

func TestCanTransition_DeletingIsTerminal(t *testing.T) {
	for _, to := range AllStatuses() {
		if to != StatusDeleting && CanTransition(StatusDeleting, to) {
			t.Errorf("Deleting -> %q allowed", to)
		}
	}
}
