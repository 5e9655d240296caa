package sahara

import "context"

// Tagging convention: every cloud object of a cluster carries the cluster's
// ID so nothing is orphaned, even after an interrupted apply.
const (
	// TagCluster is the server/volume metadata key and the Neutron tag prefix
	// ("saharagen_cluster=<id>") naming the cluster.
	TagCluster = "saharagen_cluster"
	// TagNodeGroup is the server metadata key naming the node group.
	TagNodeGroup = "saharagen_node_group"
)

// ClusterResourcePrefix is the name prefix of cluster objects that cannot be
// tagged (keypairs, server groups): "saharagen-<cluster id>".
func ClusterResourcePrefix(clusterID string) string { return "saharagen-" + clusterID }

// Image is what the engine needs to know about a boot image.
type Image struct {
	ID   string
	Name string
	// Username is the login user (_sahara_username).
	Username string
	// Tags are the Sahara tags (_sahara_tag_<tag> = True).
	Tags []string
}

// QuotaRequest is what one create or scale step will consume.
type QuotaRequest struct {
	Instances, Cores, RAMMB       int
	FloatingIPs                   int
	SecurityGroups, SecurityRules int
	Ports                         int
	Volumes, VolumeGB             int
}

// ProgressFunc reports the outcome of one instance of a step.
type ProgressFunc func(in *Instance, err error)

// Infrastructure creates, finds and removes the cloud objects of a cluster.
// Implementations: sahara/openstack (gophercloud v2); an in-memory fake for
// unit tests. Every object created is tagged with the cluster (TagCluster).
type Infrastructure interface {
	// GetImage reads an image's Sahara username and tags.
	GetImage(ctx context.Context, imageID string) (Image, error)
	// CheckQuotas returns a QuotaExceeded error (ErrValidation) naming the
	// first quota that cannot cover the request.
	CheckQuotas(ctx context.Context, c *Cluster, req QuotaRequest) error
	// EstimateQuota computes what creating these new instances consumes.
	EstimateQuota(ctx context.Context, c *Cluster, newInstances []*Instance) (QuotaRequest, error)
	// PrepareCluster creates the per-cluster objects: the management keypair,
	// anti-affinity server groups and auto security groups of every node
	// group (from NodeGroup.OpenPorts). Idempotent; fills the IDs in c.
	PrepareCluster(ctx context.Context, c *Cluster) error
	// SpawnInstances boots servers for the given new instances in parallel
	// (with volumes attached in order, floating IPs associated) and waits
	// until they are ACTIVE with addresses. It fills InstanceID, InternalIP,
	// ManagementIP, Volumes and CloudStatus. A server in ERROR fails with the
	// cloud's fault message and the server's name.
	SpawnInstances(ctx context.Context, c *Cluster, instances []*Instance, progress ProgressFunc) error
	// HostKeys returns the SSH host keys the cloud published for the
	// instance (cloud-init's console block), or none.
	HostKeys(ctx context.Context, in *Instance) ([]string, error)
	// DeleteInstances removes the servers with their volumes, ports and
	// floating IPs. Not-found counts as done.
	DeleteInstances(ctx context.Context, c *Cluster, instances []*Instance) error
	// DeleteCluster removes every object tagged with the cluster, in
	// dependency order. Not-found counts as done; safe to run twice.
	DeleteCluster(ctx context.Context, c *Cluster) error
	// RefreshInstances updates CloudStatus and addresses of every instance
	// from one list call; servers that are gone get CloudStatusMissing.
	RefreshInstances(ctx context.Context, c *Cluster) error
	// ClusterServers lists the names of the servers that carry the
	// cluster's tag, recorded or not, sorted: a cluster whose record is
	// lost is still found by them.
	ClusterServers(ctx context.Context, c *Cluster) ([]string, error)
}

// Store persists templates and cluster records (Sahara kept them in its
// database). Implementations: an OpenStack object-store container; memory
// for tests. Kinds are KindNodeGroupTemplate, KindClusterTemplate, KindCluster.
type Store interface {
	// Put writes the JSON encoding of v atomically.
	Put(ctx context.Context, kind, id string, v any) error
	// Get decodes the object into v; a missing object is ErrNotFound.
	Get(ctx context.Context, kind, id string, v any) error
	// Delete removes the object; a missing one counts as done.
	Delete(ctx context.Context, kind, id string) error
	// List returns the IDs of every object of a kind.
	List(ctx context.Context, kind string) ([]string, error)
}

// Store kinds.
const (
	KindNodeGroupTemplate = "node-group-templates"
	KindClusterTemplate   = "cluster-templates"
	KindCluster           = "clusters"
)
