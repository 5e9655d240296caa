package sahara

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ConfigAcceptor is implemented by plugins that accept configs they do not
// list, such as arbitrary Hadoop XML properties of a service target. A
// config the plugin does not list passes validation when AcceptsConfig
// returns true; its value is kept as given.
type ConfigAcceptor interface {
	AcceptsConfig(version, target, name string) bool
}

// hostnameRE is Sahara's valid_name_hostname format.
var hostnameRE = regexp.MustCompile(`^(([a-zA-Z]|[a-zA-Z][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z]|[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// maxHostnameLength is Sahara's limit on "<cluster>-<ng>-<NNN>.<domain>".
const maxHostnameLength = 64

// ValidateSpec runs every check that needs no cloud: plugin and version,
// node processes, config targets/names/types, names and hostname lengths,
// anti-affinity processes, then the plugin's validate on a cluster built
// from the spec. Used at plan time.
func (e *Engine) ValidateSpec(ctx context.Context, spec ClusterSpec) error {
	p, err := e.checkSpec(spec)
	if err != nil {
		return err
	}
	c := clusterFromSpec(spec, e.nodeDomain())
	if v, ok := p.(Validator); ok {
		return v.Validate(ctx, c)
	}
	return nil
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

// pyList renders names as Sahara's messages do (a Python list).
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkSpec is ValidateSpec without the plugin's validate; it returns the plugin.
func (e *Engine) checkSpec(spec ClusterSpec) (Plugin, error) {
	p, err := e.opts.Plugins.PluginVersion(spec.PluginName, spec.PluginVersion)
	if err != nil {
		return nil, err
	}
	v := spec.PluginVersion
	if !hostnameRE.MatchString(spec.Name) {
		return nil, InvalidData(fmt.Sprintf("Cluster name '%s' is not a valid hostname: use letters, digits and hyphens in dot-separated labels that start with a letter and do not end with a hyphen", spec.Name))
	}
	services, err := p.NodeProcesses(v)
	if err != nil {
		return nil, fmt.Errorf("plugin %s %s: listing node processes: %w", p.Name(), v, err)
	}
	configs, err := AllConfigs(p, v)
	if err != nil {
		return nil, fmt.Errorf("plugin %s %s: listing configs: %w", p.Name(), v, err)
	}
	known := map[string]bool{}
	targets := map[string]bool{TargetGeneral: true}
	for _, s := range services {
		targets[s.Name] = true
		for _, proc := range s.Processes {
			known[proc] = true
		}
	}
	for _, c := range configs {
		targets[c.Target] = true
	}
	acceptor, _ := p.(ConfigAcceptor)
	checkConfigs := func(cs Configs) error {
		for _, target := range sortedTargets(cs) {
			for _, name := range sortedNames(cs[target]) {
				if cfg, ok := FindConfig(configs, target, name); ok {
					if val := cs[target][name]; val != nil {
						if _, err := cfg.Parse(val); err != nil {
							return InvalidData(fmt.Sprintf("Config '%s' of applicable target '%s' has an invalid value: %v", name, target, errAfterName(err)))
						}
					}
					continue
				}
				if acceptor != nil && acceptor.AcceptsConfig(v, target, name) {
					continue
				}
				if !targets[target] {
					return InvalidReference(fmt.Sprintf("Plugin doesn't contain applicable target '%s'", target))
				}
				return InvalidReference(fmt.Sprintf("Plugin's applicable target '%s' doesn't contain config with name '%s'", target, name))
			}
		}
		return nil
	}
	unknownProcs := func(procs []string) error {
		var bad []string
		seen := map[string]bool{}
		for _, proc := range procs {
			if !known[proc] && !seen[proc] {
				bad = append(bad, proc)
			}
			seen[proc] = true
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			return InvalidReference("Plugin doesn't support the following node processes: " + pyList(bad))
		}
		return nil
	}
	if err := checkConfigs(spec.ClusterConfigs); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var dups []string
	for _, ng := range spec.NodeGroups {
		seen[ng.Name]++
		if seen[ng.Name] == 2 {
			dups = append(dups, ng.Name)
		}
	}
	if len(dups) > 0 {
		return nil, InvalidData("Duplicates in node group names are detected: " + pyList(dups))
	}
	domain := e.nodeDomain()
	for _, ng := range spec.NodeGroups {
		if !hostnameRE.MatchString(ng.Name) {
			return nil, InvalidData(fmt.Sprintf("Node group name '%s' is not a valid hostname: use letters, digits and hyphens in dot-separated labels that start with a letter and do not end with a hyphen", ng.Name))
		}
		if ng.Count < 0 {
			return nil, InvalidData(fmt.Sprintf("Node group '%s': count must be 0 or more, got %d", ng.Name, ng.Count))
		}
		if len(ng.NodeProcesses) == 0 {
			return nil, InvalidData(fmt.Sprintf("Node group '%s' has no node processes; list at least one", ng.Name))
		}
		if err := checkConfigs(ng.NodeConfigs); err != nil {
			return nil, err
		}
		if err := unknownProcs(ng.NodeProcesses); err != nil {
			return nil, err
		}
		if d := duplicates(ng.NodeProcesses); len(d) > 0 {
			return nil, InvalidData("Duplicates in node processes have been detected: " + pyList(d))
		}
		if ng.VolumesPerNode < 0 {
			return nil, InvalidData(fmt.Sprintf("Node group '%s': volumes_per_node must be 0 or more", ng.Name))
		}
		if ng.VolumesPerNode > 0 && ng.VolumesSize <= 0 {
			return nil, InvalidData("You must specify a volumes_size parameter")
		}
		host := strings.ToLower(fmt.Sprintf("%s-%s-%03d.%s", spec.Name, ng.Name, ng.Count, domain))
		if len(host) > maxHostnameLength {
			return nil, InvalidData(fmt.Sprintf("Composite hostname %s in provisioned cluster exceeds maximum limit %d characters", host, maxHostnameLength))
		}
	}
	if err := unknownProcs(spec.AntiAffinity); err != nil {
		return nil, err
	}
	return p, nil
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
