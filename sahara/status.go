package sahara

// ClusterStatus is a cluster's status label, spelled exactly as Sahara spells it.
type ClusterStatus string

// Sahara's cluster statuses (sahara/utils/cluster.py).
const (
	StatusUndefined       ClusterStatus = "undefined"
	StatusValidating      ClusterStatus = "Validating"
	StatusInfraUpdating   ClusterStatus = "InfraUpdating"
	StatusSpawning        ClusterStatus = "Spawning"
	StatusWaiting         ClusterStatus = "Waiting"
	StatusPreparing       ClusterStatus = "Preparing"
	StatusConfiguring     ClusterStatus = "Configuring"
	StatusStarting        ClusterStatus = "Starting"
	StatusActive          ClusterStatus = "Active"
	StatusScaling         ClusterStatus = "Scaling"
	StatusAddingInstances ClusterStatus = "Adding Instances"
	StatusDecommissioning ClusterStatus = "Decommissioning"
	StatusDeleting        ClusterStatus = "Deleting"
	StatusError           ClusterStatus = "Error"
)

// WrittenByScale reports whether a running scale writes this status (some,
// such as Validating and Configuring, a create writes too).
func (s ClusterStatus) WrittenByScale() bool {
	switch s {
	case StatusValidating, StatusScaling, StatusAddingInstances, StatusConfiguring, StatusDecommissioning:
		return true
	}
	return false
}

// AllStatuses lists every status the engine may write, in lifecycle order.
func AllStatuses() []ClusterStatus {
	return []ClusterStatus{
		StatusUndefined, StatusValidating, StatusInfraUpdating, StatusSpawning,
		StatusWaiting, StatusPreparing, StatusConfiguring, StatusStarting,
		StatusActive, StatusScaling, StatusAddingInstances, StatusDecommissioning,
		StatusDeleting, StatusError,
	}
}
