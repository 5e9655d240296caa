package sahara

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Service groups node processes under a service name (Sahara's
// get_node_processes returns {service: [process, …]}).
type Service struct {
	Name      string   `json:"name"`
	Processes []string `json:"processes"`
}

// Plugin is the required part of Sahara's provisioning plugin SPI
// (sahara/plugins/provisioning.py, methods marked @required). The methods
// Sahara marks @required_with_default or @optional are the optional
// interfaces below; a plugin implements those it needs and the engine uses
// Sahara's default otherwise. Each implementation asserts
// var _ sahara.Plugin = (*Plugin)(nil).
type Plugin interface {
	// Name is the plugin's registry name ("vanilla", "fake", …).
	Name() string
	Title() string
	Description() string
	// Versions lists the supported versions (get_versions).
	Versions() []string
	// Configs lists the plugin's configs for a version (get_configs),
	// without the common configs (AllConfigs adds them).
	Configs(version string) ([]Config, error)
	// NodeProcesses lists services and their processes (get_node_processes).
	NodeProcesses(version string) ([]Service, error)
	// ConfigureCluster configures the software on every instance (status Configuring).
	ConfigureCluster(ctx context.Context, c *Cluster, r Remotes) error
	// StartCluster starts the services (status Starting).
	StartCluster(ctx context.Context, c *Cluster, r Remotes) error
}

// ImageTagger overrides get_required_image_tags (default [name, version]).
type ImageTagger interface {
	RequiredImageTags(version string) []string
}

// Validator is validate(cluster): return a *SaharaError to reject the layout.
type Validator interface {
	Validate(ctx context.Context, c *Cluster) error
}

// ScalingValidator is validate_scaling(cluster, existing, additional):
// existing maps resized node group names to their new counts; additional
// maps the names of new node groups (already in c with Count set) to counts.
type ScalingValidator interface {
	ValidateScaling(ctx context.Context, c *Cluster, existing, additional map[string]int) error
}

// RetireLimiter is implemented by plugins whose data survives only so many
// of a group's instances retired at once (HDFS keeps dfs.replication copies
// of a block): a rolling replacement never retires more at once. MaxRetired
// returns the limit (0: none) and why.
type RetireLimiter interface {
	MaxRetired(c *Cluster, ng *NodeGroup) (int, string)
}

// InfraUpdater is update_infra(cluster), run in status InfraUpdating.
type InfraUpdater interface {
	UpdateInfra(ctx context.Context, c *Cluster) error
}

// Scaler is scale_cluster plus decommission_nodes; Sahara scales a cluster
// only when its plugin implements both.
type Scaler interface {
	// ScaleCluster configures and starts the new instances (status Configuring).
	ScaleCluster(ctx context.Context, c *Cluster, r Remotes, instances []*Instance) error
	// DecommissionNodes stops services on the instances about to be removed
	// (status Decommissioning); c still contains them.
	DecommissionNodes(ctx context.Context, c *Cluster, r Remotes, instances []*Instance) error
}

// Converter is convert(config, …): a plugin-specific configuration document
// turned into a cluster template.
type Converter interface {
	Convert(ctx context.Context, document []byte, version, templateName string) (*ClusterTemplate, error)
}

// Terminator is on_terminate_cluster, called before the cloud objects go.
type Terminator interface {
	OnTerminateCluster(ctx context.Context, c *Cluster, r Remotes) error
}

// PortOpener is get_open_ports(node_group) for auto security groups.
type PortOpener interface {
	OpenPorts(c *Cluster, ng *NodeGroup) []int
}

// HealthStatus is a health check's colour.
type HealthStatus string

// Health colours, as Sahara names them.
const (
	HealthGreen  HealthStatus = "GREEN"
	HealthYellow HealthStatus = "YELLOW"
	HealthRed    HealthStatus = "RED"
)

// HealthResult is the outcome of one health check.
type HealthResult struct {
	Name    string       `json:"name"`
	Status  HealthStatus `json:"status"`
	Message string       `json:"message"`
	// Instances says, by instance name, what the check found on the
	// instances it concerns (those at fault, when it is not GREEN).
	Instances map[string]string `json:"instances,omitempty"`
}

// Note records what the check found on one instance.
func (r *HealthResult) Note(instance, msg string) {
	if r.Instances == nil {
		r.Instances = map[string]string{}
	}
	r.Instances[instance] = msg
}

// Noted lists the instances the check noted, sorted, comma-separated.
func (r HealthResult) Noted() string {
	return strings.Join(slices.Sorted(maps.Keys(r.Instances)), ", ")
}

// WorstHealth is the colour of a set of checks: RED if any is, else YELLOW
// if any is, else GREEN.
func WorstHealth(results []HealthResult) HealthStatus {
	worst := HealthGreen
	for _, r := range results {
		switch {
		case r.Status == HealthRed:
			return HealthRed
		case r.Status != HealthGreen:
			worst = HealthYellow
		}
	}
	return worst
}

// HealthChecker is the optional health-check hook (get_health_checks).
type HealthChecker interface {
	CheckHealth(ctx context.Context, c *Cluster, r Remotes) []HealthResult
}

// RequiredImageTags returns the plugin's required image tags for a version.
func RequiredImageTags(p Plugin, version string) []string {
	if t, ok := p.(ImageTagger); ok {
		return t.RequiredImageTags(version)
	}
	return []string{p.Name(), version}
}

// AllConfigs is get_all_configs: the common configs, then the plugin's.
func AllConfigs(p Plugin, version string) ([]Config, error) {
	cs, err := p.Configs(version)
	if err != nil {
		return nil, err
	}
	return append(CommonConfigs(), cs...), nil
}

// OpenPortsFor returns the plugin's open ports for a node group, or none.
func OpenPortsFor(p Plugin, c *Cluster, ng *NodeGroup) []int {
	if o, ok := p.(PortOpener); ok {
		return o.OpenPorts(c, ng)
	}
	return nil
}

// SupportsVersion reports whether the plugin lists version.
func SupportsVersion(p Plugin, version string) bool {
	for _, v := range p.Versions() {
		if v == version {
			return true
		}
	}
	return false
}

// Registry is the explicit set of plugins an engine may use.
type Registry struct {
	plugins map[string]Plugin
}

// NewRegistry registers plugins; a duplicate name is an error.
func NewRegistry(plugins ...Plugin) (*Registry, error) {
	r := &Registry{plugins: map[string]Plugin{}}
	for _, p := range plugins {
		if _, dup := r.plugins[p.Name()]; dup {
			return nil, fmt.Errorf("plugin %q registered twice", p.Name())
		}
		r.plugins[p.Name()] = p
	}
	return r, nil
}

// Get returns the plugin with that name, or a NotFound validation error.
func (r *Registry) Get(name string) (Plugin, error) {
	if p, ok := r.plugins[name]; ok {
		return p, nil
	}
	return nil, NotFound(fmt.Sprintf("Sahara plugin %s is not loaded", name)).At(Field{Attribute: "plugin_name"})
}

// Names lists the registered plugin names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.plugins))
	for n := range r.plugins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// PluginVersion returns the plugin and checks that it supports version.
func (r *Registry) PluginVersion(name, version string) (Plugin, error) {
	p, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	if !SupportsVersion(p, version) {
		return nil, InvalidReference(fmt.Sprintf("Requested plugin '%s' doesn't support version '%s'", name, version)).At(Field{Attribute: "plugin_version"})
	}
	return p, nil
}
