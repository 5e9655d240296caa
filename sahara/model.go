package sahara

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultVolumeMountPrefix is Sahara's default volume_mount_prefix.
const DefaultVolumeMountPrefix = "/volumes/disk"

// DefaultNodeDomain is Sahara's default node_domain (instance FQDN suffix).
const DefaultNodeDomain = "novalocal"

// NodeGroupSpec is what the user asked for in a node group: the fields of a
// Sahara node group template plus count. It never holds observed facts.
type NodeGroupSpec struct {
	Name                       string   `json:"name"`
	FlavorID                   string   `json:"flavor_id"`
	ImageID                    string   `json:"image_id,omitempty"`
	NodeProcesses              []string `json:"node_processes"`
	NodeConfigs                Configs  `json:"node_configs,omitempty"`
	Count                      int      `json:"count"`
	VolumesPerNode             int      `json:"volumes_per_node,omitempty"`
	VolumesSize                int      `json:"volumes_size,omitempty"`
	VolumeType                 string   `json:"volume_type,omitempty"`
	VolumesAvailabilityZone    string   `json:"volumes_availability_zone,omitempty"`
	VolumeMountPrefix          string   `json:"volume_mount_prefix,omitempty"`
	VolumeLocalToInstance      bool     `json:"volume_local_to_instance,omitempty"`
	BootFromVolume             bool     `json:"boot_from_volume,omitempty"`
	BootVolumeType             string   `json:"boot_volume_type,omitempty"`
	BootVolumeAvailabilityZone string   `json:"boot_volume_availability_zone,omitempty"`
	BootVolumeLocalToInstance  bool     `json:"boot_volume_local_to_instance,omitempty"`
	FloatingIPPool             string   `json:"floating_ip_pool,omitempty"`
	SecurityGroups             []string `json:"security_groups,omitempty"`
	AutoSecurityGroup          bool     `json:"auto_security_group,omitempty"`
	// AutoSecurityGroupCIDRs may reach the plugin's user-facing ports (its
	// open ports) through the auto security group; none by default.
	AutoSecurityGroupCIDRs []string `json:"auto_security_group_cidrs,omitempty"`
	AvailabilityZone       string   `json:"availability_zone,omitempty"`
	IsProxyGateway         bool     `json:"is_proxy_gateway,omitempty"`
	UseAutoconfig          *bool    `json:"use_autoconfig,omitempty"`
	NodeGroupTemplateID    string   `json:"node_group_template_id,omitempty"`
}

// MountPrefix returns volume_mount_prefix or Sahara's default.
func (s *NodeGroupSpec) MountPrefix() string {
	if s.VolumeMountPrefix == "" {
		return DefaultVolumeMountPrefix
	}
	return s.VolumeMountPrefix
}

// ServerSettings identifies what a server of the group is made and
// configured with: every setting except the group's name, count and
// template reference. Two specs with the same settings make the same servers.
func (s *NodeGroupSpec) ServerSettings() string {
	k := *s
	// Firewall rules change in place: not a server setting.
	k.Name, k.Count, k.NodeGroupTemplateID, k.AutoSecurityGroupCIDRs = "", 0, "", nil
	b, err := json.Marshal(k)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// HasProcess reports whether the node group runs process p.
func (s *NodeGroupSpec) HasProcess(p string) bool {
	for _, q := range s.NodeProcesses {
		if q == p {
			return true
		}
	}
	return false
}

// ClusterSpec is what the user asked for in a cluster, after the cluster
// template and the request were merged (ResolveClusterSpec).
type ClusterSpec struct {
	Name                     string          `json:"name"`
	Description              string          `json:"description,omitempty"`
	PluginName               string          `json:"plugin_name"`
	PluginVersion            string          `json:"plugin_version"`
	ClusterTemplateID        string          `json:"cluster_template_id,omitempty"`
	DefaultImageID           string          `json:"default_image_id,omitempty"`
	NeutronManagementNetwork string          `json:"neutron_management_network,omitempty"`
	UserKeypairID            string          `json:"user_keypair_id,omitempty"`
	AntiAffinity             []string        `json:"anti_affinity,omitempty"`
	AntiAffinityRatio        int             `json:"anti_affinity_ratio,omitempty"`
	ClusterConfigs           Configs         `json:"cluster_configs,omitempty"`
	UseAutoconfig            *bool           `json:"use_autoconfig,omitempty"`
	IsPublic                 bool            `json:"is_public,omitempty"`
	IsProtected              bool            `json:"is_protected,omitempty"`
	DomainName               string          `json:"domain_name,omitempty"`
	NodeGroups               []NodeGroupSpec `json:"node_groups"`
	// SecretConfigKeys name the ClusterConfigs whose values are secret: the
	// user gives them for each operation (ApplySecretConfigs) and
	// SecretsApart leaves them out of every record.
	SecretConfigKeys []ConfigKey `json:"secret_config_keys,omitempty"`
}

// ApplySecretConfigs merges secret config values over the cluster configs
// and records their names, so they reach the plugin in memory and nowhere
// else. Values of a record read back are gone: apply them again before an
// operation that configures instances.
func (s *ClusterSpec) ApplySecretConfigs(secrets Configs) {
	s.SecretConfigKeys = nil
	for _, t := range sortedTargets(secrets) {
		for _, name := range sortedNames(secrets[t]) {
			if s.ClusterConfigs == nil {
				s.ClusterConfigs = Configs{}
			}
			s.ClusterConfigs.Set(t, name, secrets[t][name])
			s.SecretConfigKeys = append(s.SecretConfigKeys, ConfigKey{Target: t, Name: name})
		}
	}
}

// isSecretConfig tells whether the cluster config target/name was given as a secret.
func (s *ClusterSpec) isSecretConfig(target, name string) bool {
	for _, k := range s.SecretConfigKeys {
		if k.Target == target && k.Name == name {
			return true
		}
	}
	return false
}

// Volume is a block-storage volume the engine created and attached to an
// instance. Device is the path the cloud reported for the attachment; the
// engine formats only these devices, never a disk found by scanning.
type Volume struct {
	ID     string `json:"id"`
	Device string `json:"device,omitempty"`
	SizeGB int    `json:"size_gb,omitempty"`
}

// InstancePhase is how far provisioning got on one instance.
type InstancePhase string

// Per-instance progress, in order.
const (
	InstancePending    InstancePhase = ""
	InstanceSpawned    InstancePhase = "spawned"
	InstanceAccessible InstancePhase = "accessible"
	InstancePrepared   InstancePhase = "prepared"
	InstanceConfigured InstancePhase = "configured"
	InstanceStarted    InstancePhase = "started"
	InstanceFailed     InstancePhase = "failed"
)

// Instance holds the observed facts of one server of a node group.
type Instance struct {
	// InstanceID is the cloud's server ID (Nova), empty until spawned.
	InstanceID   string   `json:"instance_id,omitempty"`
	InstanceName string   `json:"instance_name"`
	Index        int      `json:"index"`
	InternalIP   string   `json:"internal_ip,omitempty"`
	ManagementIP string   `json:"management_ip,omitempty"`
	Volumes      []Volume `json:"volumes,omitempty"`
	// StorageDevicesNumber is how many volumes were formatted and mounted.
	StorageDevicesNumber int `json:"storage_devices_number,omitempty"`
	// HostKey is the pinned SSH host key in authorized_keys format.
	HostKey string `json:"host_key,omitempty"`
	// FloatingIPID is the ID of the floating IP the engine allocated, if any.
	FloatingIPID string `json:"floating_ip_id,omitempty"`
	// CloudStatus is the server status last observed in the cloud
	// ("ACTIVE", "ERROR", …; "MISSING" when the server is gone).
	CloudStatus string        `json:"cloud_status,omitempty"`
	Phase       InstancePhase `json:"phase,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	// Settings identifies the node group settings the server was made with
	// (NodeGroupSpec.ServerSettings); a rolling replacement retires the
	// instances whose settings differ from their group's. Empty in records
	// older than rolling replacement: the group's settings then.
	Settings string `json:"settings,omitempty"`

	nodeGroup *NodeGroup
}

// CloudStatusMissing marks an instance whose server no longer exists.
const CloudStatusMissing = "MISSING"

// NodeGroup is a node group of a running cluster: the user's spec plus facts.
type NodeGroup struct {
	NodeGroupSpec
	// ID is a stable identifier of the node group within the cluster.
	ID string `json:"id"`
	// ImageUsername is the login user read from the image (_sahara_username).
	ImageUsername string `json:"image_username,omitempty"`
	// OpenPorts are the plugin's get_open_ports for this group (auto security group).
	OpenPorts []int `json:"open_ports,omitempty"`
	// SecurityGroupID is the auto security group the engine created, if any.
	SecurityGroupID string      `json:"security_group_id,omitempty"`
	Instances       []*Instance `json:"instances"`

	cluster *Cluster
}

// Cluster is a cluster record: the merged spec, the node groups with their
// instances, status and everything the engine and plugin learned.
type Cluster struct {
	ID string `json:"id"`
	ClusterSpec
	// NodeGroups replaces ClusterSpec.NodeGroups once the cluster exists.
	NodeGroups []*NodeGroup `json:"node_groups"`

	Status            ClusterStatus `json:"status"`
	StatusDescription string        `json:"status_description,omitempty"`
	// ManagementPrivateKey / PublicKey: the per-cluster key the engine uses
	// to reach instances (sensitive; never logged).
	ManagementPrivateKey string `json:"management_private_key,omitempty"`
	ManagementPublicKey  string `json:"management_public_key,omitempty"`
	// NodeDomain is the FQDN suffix of instances (Sahara's node_domain).
	NodeDomain string `json:"node_domain,omitempty"`
	// Info is shown to users (web UI URLs, …): section → key → value.
	Info map[string]map[string]string `json:"info,omitempty"`
	// Extra is plugin- and engine-private data.
	Extra map[string]string `json:"extra,omitempty"`
	// Engine names the Infrastructure that provisions the cluster, a label
	// of the caller's ("" for the default one): every later operation on
	// the cluster must use the same.
	Engine string `json:"engine,omitempty"`
	// Secrets is plugin-private data that grants access (keys, passwords):
	// like ManagementPrivateKey, never written to the Store (SecretsApart).
	Secrets map[string]string `json:"secrets,omitempty"`
	// ServerGroupIDs are the anti-affinity server groups of the cluster.
	ServerGroupIDs []string `json:"server_group_ids,omitempty"`
	// Progress is the event log of provisioning steps (Sahara's provision_progress).
	Progress []Step `json:"provision_progress,omitempty"`
	// StatusHistory lists the status changes, oldest first (the last
	// maxStatusHistory), so users can see where an operation's time went.
	StatusHistory []StatusChange `json:"status_history,omitempty"`
	// Diagnostics is what the last failed operation collected from its
	// instances (masked); a new operation clears it.
	Diagnostics *Diagnostics `json:"failure_diagnostics,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	// ActivatedAt is when the cluster first became Active: a record with it
	// is never a leftover of a create.
	ActivatedAt time.Time `json:"activated_at,omitzero"`
}

// StatusChange is one change of a cluster's status.
type StatusChange struct {
	From ClusterStatus `json:"from"`
	To   ClusterStatus `json:"to"`
	At   time.Time     `json:"at"`
}

// maxStatusHistory bounds Cluster.StatusHistory (a record stays small).
const maxStatusHistory = 200

// LastOperation returns the status changes and the steps of the cluster's
// last operation (create, scale, roll, repair or delete): from the last
// change out of a settled status (Active, Error) or of a new cluster.
func (c *Cluster) LastOperation() ([]StatusChange, []Step) {
	start := -1
	for i, ch := range c.StatusHistory {
		if ch.From == StatusUndefined || ch.From == StatusActive || ch.From == StatusError {
			start = i
		}
	}
	if start < 0 {
		return nil, nil
	}
	changes := c.StatusHistory[start:]
	var steps []Step
	for _, st := range c.Progress {
		if !st.StartedAt.Before(changes[0].At) {
			steps = append(steps, st)
		}
	}
	return changes, steps
}

// Link restores the back references from instances to node groups and from
// node groups to the cluster; call it after decoding a Cluster.
func (c *Cluster) Link() {
	for _, ng := range c.NodeGroups {
		ng.cluster = c
		for _, in := range ng.Instances {
			in.nodeGroup = ng
		}
	}
}

// NodeGroup returns the node group named name, or nil.
func (c *Cluster) NodeGroup(name string) *NodeGroup {
	for _, ng := range c.NodeGroups {
		if ng.Name == name {
			return ng
		}
	}
	return nil
}

// AddNodeGroup appends a node group built from spec (no instances).
func (c *Cluster) AddNodeGroup(spec NodeGroupSpec) *NodeGroup {
	ng := &NodeGroup{NodeGroupSpec: spec, ID: spec.Name, cluster: c}
	c.NodeGroups = append(c.NodeGroups, ng)
	return ng
}

// Instances returns every instance of the cluster in node-group order.
func (c *Cluster) Instances() []*Instance {
	var out []*Instance
	for _, ng := range c.NodeGroups {
		out = append(out, ng.Instances...)
	}
	return out
}

// InstancesWithProcess returns the instances whose node group runs process p.
func (c *Cluster) InstancesWithProcess(p string) []*Instance {
	var out []*Instance
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(p) {
			out = append(out, ng.Instances...)
		}
	}
	return out
}

// ProcessCount sums the count of every node group that runs process p
// (Sahara's get_instances_count over the requested layout).
func (c *Cluster) ProcessCount(p string) int {
	n := 0
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(p) {
			n += ng.Count
		}
	}
	return n
}

// Instance finds an instance by name or cloud ID.
func (c *Cluster) Instance(ref string) *Instance {
	for _, in := range c.Instances() {
		if in.InstanceName == ref || (ref != "" && in.InstanceID == ref) {
			return in
		}
	}
	return nil
}

// ProxyGateway returns the first instance of a proxy-gateway node group, or nil.
func (c *Cluster) ProxyGateway() *Instance {
	for _, ng := range c.NodeGroups {
		if ng.IsProxyGateway && len(ng.Instances) > 0 {
			return ng.Instances[0]
		}
	}
	return nil
}

// SetInfo records one entry of the user-visible info map.
func (c *Cluster) SetInfo(section, key, value string) {
	if c.Info == nil {
		c.Info = map[string]map[string]string{}
	}
	if c.Info[section] == nil {
		c.Info[section] = map[string]string{}
	}
	c.Info[section][key] = value
}

// userCredentialPrefix marks the Secrets a plugin issues to the cluster's
// users (client certificates, passwords), which the provider hands out as
// sensitive values; the other Secrets stay the plugin's.
const userCredentialPrefix = "user:"

// SetUserCredential records a secret the plugin issues to the cluster's
// users. It is kept with the other Secrets, never in the Store.
func (c *Cluster) SetUserCredential(name, value string) {
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	c.Secrets[userCredentialPrefix+name] = value
}

// UserCredentials returns the secrets issued to users, by name.
func (c *Cluster) UserCredentials() map[string]string {
	out := map[string]string{}
	for k, v := range c.Secrets {
		if name, ok := strings.CutPrefix(k, userCredentialPrefix); ok {
			out[name] = v
		}
	}
	return out
}

// Cluster returns the node group's cluster.
func (ng *NodeGroup) Cluster() *Cluster { return ng.cluster }

// ImageIDOrDefault returns the group's image or the cluster's default image.
func (ng *NodeGroup) ImageIDOrDefault() string {
	if ng.ImageID != "" || ng.cluster == nil {
		return ng.ImageID
	}
	return ng.cluster.DefaultImageID
}

// Configuration is the merged view of cluster configs overlaid by node configs
// (Sahara's NodeGroup.configuration()).
func (ng *NodeGroup) Configuration() Configs {
	if ng.cluster == nil {
		return MergeConfigs(ng.NodeConfigs)
	}
	return MergeConfigs(ng.cluster.ClusterConfigs, ng.NodeConfigs)
}

// InstanceName is Sahara's instance name for index i of the group:
// "<cluster>-<node group>-<index>", lowercased.
func InstanceName(cluster, nodeGroup string, i int) string {
	return strings.ToLower(fmt.Sprintf("%s-%s-%d", cluster, nodeGroup, i))
}

// FreeIndexes returns n instance indexes for the group: the lowest indexes not
// in use, so freed indexes are reused as Sahara does.
func (ng *NodeGroup) FreeIndexes(n int) []int {
	used := map[int]bool{}
	for _, in := range ng.Instances {
		used[in.Index] = true
	}
	var out []int
	for i := 0; len(out) < n; i++ {
		if !used[i] {
			out = append(out, i)
		}
	}
	return out
}

// NewInstance builds (but does not add) an instance of the group at index i.
func (ng *NodeGroup) NewInstance(i int) *Instance {
	name := fmt.Sprintf("%s-%d", ng.Name, i)
	if ng.cluster != nil {
		name = InstanceName(ng.cluster.Name, ng.Name, i)
	}
	return &Instance{InstanceName: strings.ToLower(name), Index: i, Settings: ng.ServerSettings(), nodeGroup: ng}
}

// AddInstance appends in to the group and links it.
func (ng *NodeGroup) AddInstance(in *Instance) {
	in.nodeGroup = ng
	ng.Instances = append(ng.Instances, in)
	sort.SliceStable(ng.Instances, func(a, b int) bool { return ng.Instances[a].Index < ng.Instances[b].Index })
}

// RemoveInstance drops in from the group; it reports whether it was there.
func (ng *NodeGroup) RemoveInstance(in *Instance) bool {
	for i, x := range ng.Instances {
		if x == in {
			ng.Instances = append(ng.Instances[:i], ng.Instances[i+1:]...)
			return true
		}
	}
	return false
}

// NodeGroup returns the instance's node group.
func (in *Instance) NodeGroup() *NodeGroup { return in.nodeGroup }

// Hostname is the instance name (Sahara's hostname()).
func (in *Instance) Hostname() string { return in.InstanceName }

// FQDN is hostname + "." + the cluster's node domain.
func (in *Instance) FQDN() string {
	domain := DefaultNodeDomain
	if in.nodeGroup != nil && in.nodeGroup.cluster != nil && in.nodeGroup.cluster.NodeDomain != "" {
		domain = in.nodeGroup.cluster.NodeDomain
	}
	return in.InstanceName + "." + domain
}

// Username is the login user of the instance's image.
func (in *Instance) Username() string {
	if in.nodeGroup == nil {
		return ""
	}
	return in.nodeGroup.ImageUsername
}

// StoragePaths lists the mount points of the instance's volumes, or ["/mnt"]
// when it has none (Sahara's storage_paths()).
func (in *Instance) StoragePaths() []string {
	if in.StorageDevicesNumber == 0 {
		return []string{"/mnt"}
	}
	prefix := DefaultVolumeMountPrefix
	if in.nodeGroup != nil {
		prefix = in.nodeGroup.MountPrefix()
	}
	out := make([]string, 0, in.StorageDevicesNumber)
	for i := 1; i <= in.StorageDevicesNumber; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// StoragePaths of a node group are those its instances will have: one per
// volume, or ["/mnt"] without volumes.
func (ng *NodeGroup) StoragePaths() []string {
	if ng.VolumesPerNode == 0 {
		return []string{"/mnt"}
	}
	out := make([]string, 0, ng.VolumesPerNode)
	for i := 1; i <= ng.VolumesPerNode; i++ {
		out = append(out, ng.MountPrefix()+strconv.Itoa(i))
	}
	return out
}

// NodeGroupTemplate is a reusable node group description (Sahara's NGT).
type NodeGroupTemplate struct {
	ID            string `json:"id"`
	PluginName    string `json:"plugin_name"`
	PluginVersion string `json:"plugin_version"`
	Description   string `json:"description,omitempty"`
	IsPublic      bool   `json:"is_public,omitempty"`
	IsProtected   bool   `json:"is_protected,omitempty"`
	IsDefault     bool   `json:"is_default,omitempty"`
	// NodeGroupSpec holds the node group fields; Count is unused in an NGT.
	NodeGroupSpec
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ClusterTemplate is a reusable cluster description (Sahara's cluster template).
// Node groups referencing a node group template are stored already merged
// with it, keeping the reference (as Sahara's TemplatesRelation rows do).
type ClusterTemplate struct {
	ID        string `json:"id"`
	IsDefault bool   `json:"is_default,omitempty"`
	ClusterSpec
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
