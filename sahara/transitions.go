package sahara

import "fmt"

// transitions lists, for every status, the statuses the engine may write
// next. Statuses missing from a list are refused by setStatus: a refused
// transition is an engine bug, not a user error.
var transitions = map[ClusterStatus][]ClusterStatus{
	StatusUndefined:     {StatusValidating, StatusError, StatusDeleting},
	StatusValidating:    {StatusInfraUpdating, StatusScaling, StatusActive, StatusError, StatusDeleting},
	StatusInfraUpdating: {StatusSpawning, StatusError, StatusDeleting},
	StatusSpawning:      {StatusWaiting, StatusError, StatusDeleting},
	StatusWaiting:       {StatusPreparing, StatusError, StatusDeleting},
	StatusPreparing:     {StatusConfiguring, StatusError, StatusDeleting},
	// Configuring is shared by create (→ Starting) and scale (→ Decommissioning,
	// or Active when nothing is removed or after a rollback).
	StatusConfiguring:     {StatusStarting, StatusDecommissioning, StatusActive, StatusError, StatusDeleting},
	StatusStarting:        {StatusActive, StatusError, StatusDeleting},
	StatusActive:          {StatusValidating, StatusDeleting},
	StatusScaling:         {StatusAddingInstances, StatusDecommissioning, StatusActive, StatusError, StatusDeleting},
	StatusAddingInstances: {StatusConfiguring, StatusActive, StatusError, StatusDeleting},
	StatusDecommissioning: {StatusActive, StatusError, StatusDeleting},
	// Deleting is terminal; re-running a delete writes it again.
	StatusDeleting: {StatusDeleting},
	StatusError:    {StatusDeleting},
}

// CanTransition reports whether the engine may change a cluster from one
// status to another.
func CanTransition(from, to ClusterStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// TransitionError is a refused status change (an engine bug guard).
type TransitionError struct{ From, To ClusterStatus }

func (e *TransitionError) Error() string {
	return fmt.Sprintf("engine bug: status change %q -> %q is not allowed", e.From, e.To)
}
