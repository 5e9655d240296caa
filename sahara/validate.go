package sahara

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Validation needs no cloud: it checks a request against the plugin that
// will run it. One checker serves node group templates, cluster templates
// and clusters, so a mistake gets the same message wherever it is made. It
// reports every mistake at once (errors.Join), and each error says which
// Field it is about.

// ConfigAcceptor is implemented by plugins that accept configs they do not
// list, such as arbitrary Hadoop XML properties of a service target. A
// config the plugin does not list passes validation when AcceptsConfig
// returns true; its value is kept as given.
type ConfigAcceptor interface {
	AcceptsConfig(version, target, name string) bool
}

// SecretConfigMarker is implemented by plugins whose configs include
// secrets they do not list (a ConfigAcceptor's properties): IsSecretConfig
// tells, like Config.Secret for a listed config, whether target/name is one.
type SecretConfigMarker interface {
	IsSecretConfig(version, target, name string) bool
}

// HostnameRE is Sahara's valid_name_hostname format, which the names of
// clusters, templates and node groups follow.
var HostnameRE = regexp.MustCompile(`^(([a-zA-Z]|[a-zA-Z][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z]|[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// maxHostnameLength is Sahara's limit on "<cluster>-<ng>-<NNN>.<domain>".
const maxHostnameLength = 64

// ValidateNodeGroupTemplate checks a node group template against its
// plugin: processes, configs and volumes. Its errors are about the
// template's own attributes (Field.NodeGroup is empty).
func ValidateNodeGroupTemplate(reg *Registry, t NodeGroupTemplate) error {
	k, err := newChecker(reg, t.PluginName, t.PluginVersion)
	if err != nil {
		return err
	}
	k.nodeGroup(t.NodeGroupSpec, "", true)
	return k.result()
}

// ValidateClusterTemplate checks a cluster template against its plugin:
// cluster configs, node group names, every node group as written (one that
// references a node group template is checked for what it sets itself) and
// the anti-affinity processes.
func ValidateClusterTemplate(reg *Registry, t ClusterTemplate) error {
	k, err := newChecker(reg, t.PluginName, t.PluginVersion)
	if err != nil {
		return err
	}
	k.configs(t.ClusterConfigs, Field{Attribute: "cluster_configs"}, nil)
	k.groupNames(t.NodeGroups)
	for _, ng := range t.NodeGroups {
		k.nodeGroup(ng, ng.Name, ng.NodeGroupTemplateID == "")
	}
	k.processes(t.AntiAffinity, Field{Attribute: "anti_affinity"})
	return k.result()
}

// ValidateSpec runs every check of a cluster that needs no cloud: plugin and
// version, names and hostname lengths, node processes, config targets,
// names and values, anti-affinity processes, then the plugin's validate on
// a cluster built from the spec. The provider runs it at plan time and the
// engine again before it creates anything.
func (e *Engine) ValidateSpec(ctx context.Context, spec ClusterSpec) error {
	p, err := e.checkSpec(spec)
	if err != nil {
		return err
	}
	c := clusterFromSpec(spec, e.nodeDomain())
	if v, ok := p.(Validator); ok {
		return Locate(c, v.Validate(ctx, c))
	}
	return nil
}

// checkSpec is ValidateSpec without the plugin's validate; it returns the plugin.
func (e *Engine) checkSpec(spec ClusterSpec) (Plugin, error) {
	k, err := newChecker(e.opts.Plugins, spec.PluginName, spec.PluginVersion)
	if err != nil {
		return nil, err
	}
	if !HostnameRE.MatchString(spec.Name) {
		k.add(Field{Attribute: "name"}, InvalidData(fmt.Sprintf("Cluster name '%s' is not a valid hostname: use letters, digits and hyphens in dot-separated labels that start with a letter and do not end with a hyphen", spec.Name)))
	}
	k.configs(spec.ClusterConfigs, Field{Attribute: "cluster_configs"}, spec.isSecretConfig)
	k.groupNames(spec.NodeGroups)
	longHost := ""
	for _, ng := range spec.NodeGroups {
		k.nodeGroup(ng, ng.Name, true)
		if ng.Count < 0 {
			k.add(Field{ng.Name, "count"}, InvalidData(fmt.Sprintf("Node group '%s': count must be 0 or more, got %d", ng.Name, ng.Count)))
		}
		if host := strings.ToLower(fmt.Sprintf("%s-%s-%03d.%s", spec.Name, ng.Name, ng.Count, e.nodeDomain())); longHost == "" && len(host) > maxHostnameLength {
			longHost = host
		}
	}
	if longHost != "" {
		k.add(Field{Attribute: "name"}, InvalidData(fmt.Sprintf("Composite hostname %s in provisioned cluster exceeds maximum limit %d characters", longHost, maxHostnameLength)))
	}
	k.processes(spec.AntiAffinity, Field{Attribute: "anti_affinity"})
	if err := k.result(); err != nil {
		return nil, err
	}
	return k.plugin, nil
}

// clusterFromSpec builds an in-memory cluster (no instances) from a spec.
func clusterFromSpec(spec ClusterSpec, domain string) *Cluster {
	spec = cloneClusterSpec(spec)
	c := &Cluster{ClusterSpec: spec, NodeDomain: domain, Status: StatusUndefined}
	c.ClusterSpec.NodeGroups = nil
	for _, ng := range spec.NodeGroups {
		c.AddNodeGroup(ng)
	}
	return c
}

// Locate points a plugin's errors about a component count (which the plugin
// raises without knowing the layout) at the count of the one node group
// running the component, or at the layout when none or several do. Other
// errors keep the field they were raised with.
func Locate(c *Cluster, err error) error {
	if err == nil {
		return nil
	}
	errs := Errors(err)
	for i, e := range errs {
		var se *SaharaError
		if !errors.As(e, &se) || se.Field != (Field{}) || se.Component == "" {
			continue
		}
		f := Field{Attribute: FieldNodeGroups}
		var with []string
		for _, ng := range c.NodeGroups {
			if ng.HasProcess(se.Component) {
				with = append(with, ng.Name)
			}
		}
		if len(with) == 1 {
			f = Field{NodeGroup: with[0], Attribute: "count"}
		}
		errs[i] = se.At(f)
	}
	return errors.Join(errs...)
}

// fieldAttributes are the names a Field's Attribute may hold: the JSON names
// of ClusterSpec's and NodeGroupSpec's fields, and the Field* constants.
var fieldAttributes = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{FieldNodeGroups: true, FieldConvertFrom: true, FieldInstancesToRemove: true}
	for _, t := range []reflect.Type{reflect.TypeFor[ClusterSpec](), reflect.TypeFor[NodeGroupSpec]()} {
		for i := 0; i < t.NumField(); i++ {
			if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				out[name] = true
			}
		}
	}
	return out
})

// FieldAttributes lists, sorted, every name a Field's Attribute may hold, so
// that a caller can check it maps each of them.
func FieldAttributes() []string {
	out := make([]string, 0, len(fieldAttributes()))
	for n := range fieldAttributes() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Names reports whether the field names something of c: no node group or
// one of c's, and no attribute or one of FieldAttributes. The zero Field
// names nothing.
func (f Field) Names(c *Cluster) bool {
	if f == (Field{}) {
		return false
	}
	if f.NodeGroup != "" && c.NodeGroup(f.NodeGroup) == nil {
		return false
	}
	return f.Attribute == "" || fieldAttributes()[f.Attribute]
}

// ConfigField is the attribute that gives node group ng its value of a
// config: the group's node_configs when they set it, else the cluster's
// cluster_configs. With ng nil it is cluster_configs.
func ConfigField(ng *NodeGroup, target, name string) Field {
	if ng != nil {
		if _, ok := ng.NodeConfigs.Get(target, name); ok {
			return Field{NodeGroup: ng.Name, Attribute: "node_configs"}
		}
	}
	return Field{Attribute: "cluster_configs"}
}

// checker holds what the checks of one plugin version need and collects
// their errors.
type checker struct {
	plugin        Plugin
	version       string
	pluginConfigs []Config
	targets       map[string]bool
	known         map[string]bool
	acceptor      ConfigAcceptor
	marker        SecretConfigMarker
	errs          []error
}

// newChecker resolves the plugin and version (Sahara's messages, at
// plugin_name and plugin_version) and indexes its processes and configs.
func newChecker(reg *Registry, name, version string) (*checker, error) {
	p, err := reg.PluginVersion(name, version)
	if err != nil {
		return nil, err
	}
	services, err := p.NodeProcesses(version)
	if err != nil {
		return nil, fmt.Errorf("plugin %s %s: listing node processes: %w", name, version, err)
	}
	configs, err := AllConfigs(p, version)
	if err != nil {
		return nil, fmt.Errorf("plugin %s %s: listing configs: %w", name, version, err)
	}
	k := &checker{plugin: p, version: version, pluginConfigs: configs,
		targets: map[string]bool{TargetGeneral: true}, known: map[string]bool{}}
	for _, s := range services {
		k.targets[s.Name] = true
		for _, proc := range s.Processes {
			k.known[proc] = true
		}
	}
	for _, c := range configs {
		k.targets[c.Target] = true
	}
	k.acceptor, _ = p.(ConfigAcceptor)
	k.marker, _ = p.(SecretConfigMarker)
	return k, nil
}

func (k *checker) add(f Field, err *SaharaError) { k.errs = append(k.errs, err.At(f)) }

func (k *checker) result() error { return errors.Join(k.errs...) }

// nodeGroup is Sahara's check_node_group_basic_fields for what needs no
// cloud. name is the group's name in errors ("" for a node group template's
// own attributes); inline is false for a group that references a node group
// template, which may supply its flavor and processes.
func (k *checker) nodeGroup(ng NodeGroupSpec, name string, inline bool) {
	at := func(attr string) Field { return Field{NodeGroup: name, Attribute: attr} }
	if name != "" && !HostnameRE.MatchString(name) {
		k.add(Field{NodeGroup: name}, InvalidData(fmt.Sprintf("Node group name '%s' is not a valid hostname: use letters, digits and hyphens in dot-separated labels that start with a letter and do not end with a hyphen", name)))
	}
	if inline && ng.FlavorID == "" {
		k.add(at("flavor_id"), InvalidData("'flavor_id' is a required property"))
	}
	if inline && len(ng.NodeProcesses) == 0 {
		k.add(at("node_processes"), InvalidData(fmt.Sprintf("Node group '%s' has no node processes; list at least one", ng.Name)))
	}
	k.configs(ng.NodeConfigs, at("node_configs"), nil)
	k.processes(ng.NodeProcesses, at("node_processes"))
	if ng.VolumesPerNode < 0 {
		k.add(at("volumes_per_node"), InvalidData(fmt.Sprintf("Node group '%s': volumes_per_node must be 0 or more", ng.Name)))
	}
	if ng.VolumesPerNode > 0 && ng.VolumesSize <= 0 {
		k.add(at("volumes_size"), InvalidData("You must specify a volumes_size parameter"))
	}
	for _, c := range ng.AutoSecurityGroupCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			k.add(at("auto_security_group_cidrs"), InvalidData(fmt.Sprintf(
				"Node group '%s': %q is not a CIDR such as 203.0.113.0/24 or 2001:db8::/48", ng.Name, c)))
		}
	}
	if len(ng.AutoSecurityGroupCIDRs) > 0 && !ng.AutoSecurityGroup {
		k.add(at("auto_security_group_cidrs"), InvalidData(fmt.Sprintf(
			"Node group '%s': auto_security_group_cidrs are rules of the group's auto security group; set auto_security_group = true", ng.Name)))
	}
}

// processes is Sahara's check_node_processes: no duplicates, and every
// process known to the plugin version.
func (k *checker) processes(procs []string, f Field) {
	if len(duplicates(procs)) > 0 {
		k.add(f, InvalidData("Duplicates in node processes have been detected"))
	}
	var bad []string
	seen := map[string]bool{}
	for _, proc := range procs {
		if !k.known[proc] && !seen[proc] {
			bad = append(bad, proc)
		}
		seen[proc] = true
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		k.add(f, InvalidReference("Plugin doesn't support the following node processes: "+pyList(bad)))
	}
}

// configs is Sahara's check_node_group_configs plus a check of each value
// against the config's type; configs the plugin accepts without listing
// them (ConfigAcceptor) pass as given.
//
// A config the plugin marks Secret passes only where secret(target, name)
// says it was given as a secret; its value is never shown.
func (k *checker) configs(cs Configs, f Field, secret func(target, name string) bool) {
	for _, target := range sortedTargets(cs) {
		for _, name := range sortedNames(cs[target]) {
			cfg, listed := FindConfig(k.pluginConfigs, target, name)
			if listed || (k.acceptor != nil && k.acceptor.AcceptsConfig(k.version, target, name)) {
				k.knownConfig(f, cfg, listed, target, name, cs[target][name], secret != nil && secret(target, name))
				continue
			}
			if !k.targets[target] {
				k.add(f, InvalidReference(fmt.Sprintf("Plugin doesn't contain applicable target '%s'", target)))
				break
			}
			k.add(f, InvalidReference(fmt.Sprintf("Plugin's applicable target '%s' doesn't contain config with name '%s'", target, name)))
		}
	}
}

// knownConfig checks the value of a config the plugin lists or accepts:
// its type, and that a secret is given as one (given).
func (k *checker) knownConfig(f Field, cfg Config, listed bool, target, name string, val any, given bool) {
	secret := cfg.Secret || (k.marker != nil && k.marker.IsSecretConfig(k.version, target, name))
	if val == nil {
		return
	}
	if secret && !given {
		k.add(f, InvalidData(fmt.Sprintf("Config '%s' of applicable target '%s' is a secret: give it as a secret config "+
			"(the cluster's secret_configs), which stays out of plans, state and records", name, target)))
		return
	}
	if !listed {
		return
	}
	if _, err := cfg.Parse(val); err != nil {
		msg := errAfterName(err)
		if secret || given {
			msg = "the value (not shown: it is a secret) is not a " + string(cfg.Type)
		}
		k.add(f, InvalidData(fmt.Sprintf("Config '%s' of applicable target '%s' has an invalid value: %v", name, target, msg)))
	}
}

// groupNames refuses two node groups of one name.
func (k *checker) groupNames(groups []NodeGroupSpec) {
	names := make([]string, len(groups))
	for i, ng := range groups {
		names[i] = ng.Name
	}
	if d := duplicates(names); len(d) > 0 {
		k.add(Field{Attribute: FieldNodeGroups}, InvalidData("Duplicates in node group names are detected: "+pyList(d)))
	}
}

// pyList renders names as Sahara's messages do (a Python list).
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// errAfterName drops the "config %q: " prefix Config.Parse adds.
func errAfterName(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i >= 0 && strings.HasPrefix(s, "config ") {
		return s[i+2:]
	}
	return s
}

func duplicates(list []string) []string {
	seen := map[string]int{}
	var out []string
	for _, s := range list {
		seen[s]++
		if seen[s] == 2 {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sortedTargets(cs Configs) []string {
	out := make([]string, 0, len(cs))
	for t := range cs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func sortedNames(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
