package provider

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Plan-time checks of templates against the plugin, with Sahara's messages
// (validations/base.py: check_node_group_basic_fields, check_node_processes,
// check_node_group_configs). They need no cloud.

// pathError is a validation error that belongs to an attribute.
type pathError struct {
	Path path.Path
	Err  error
}

// pluginConfigs indexes the plugin's configs (common ones included) by target and name.
func pluginConfigs(p sahara.Plugin, version string) (map[string]map[string]sahara.Config, error) {
	all, err := sahara.AllConfigs(p, version)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]sahara.Config{}
	for _, c := range all {
		if out[c.Target] == nil {
			out[c.Target] = map[string]sahara.Config{}
		}
		out[c.Target][c.Name] = c
	}
	return out, nil
}

// pyList renders names like Python's repr of a sorted list, as Sahara's messages do.
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkProcesses is Sahara's check_node_processes.
func checkProcesses(p sahara.Plugin, version string, procs []string) error {
	seen := map[string]bool{}
	for _, pr := range procs {
		if seen[pr] {
			return sahara.InvalidData("Duplicates in node processes have been detected")
		}
		seen[pr] = true
	}
	services, err := p.NodeProcesses(version)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range services {
		for _, pr := range s.Processes {
			known[pr] = true
		}
	}
	var unknown []string
	for pr := range seen {
		if !known[pr] {
			unknown = append(unknown, pr)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return sahara.InvalidReference("Plugin doesn't support the following node processes: " + pyList(unknown))
	}
	return nil
}

// checkConfigs is Sahara's check_node_group_configs plus a type check of
// each value against the plugin's config type.
func checkConfigs(known map[string]map[string]sahara.Config, cfg sahara.Configs) error {
	targets := make([]string, 0, len(cfg))
	for t := range cfg {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		confs, ok := known[t]
		if !ok {
			return sahara.InvalidReference(fmt.Sprintf("Plugin doesn't contain applicable target '%s'", t))
		}
		names := make([]string, 0, len(cfg[t]))
		for n := range cfg[t] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c, ok := confs[n]
			if !ok {
				return sahara.InvalidReference(fmt.Sprintf("Plugin's applicable target '%s' doesn't contain config with name '%s'", t, n))
			}
			if _, err := c.Parse(cfg[t][n]); err != nil {
				return sahara.InvalidData(fmt.Sprintf("Config '%s' of applicable target '%s' must be of type %s: %v", n, t, c.Type, err))
			}
		}
	}
	return nil
}

// checkNodeGroup runs the plugin checks of one node group; base is the path of
// the node group's fields.
func checkNodeGroup(p sahara.Plugin, version string, known map[string]map[string]sahara.Config, ng sahara.NodeGroupSpec, base path.Path) []pathError {
	var errs []pathError
	if err := checkProcesses(p, version, ng.NodeProcesses); err != nil {
		errs = append(errs, pathError{base.AtName("node_processes"), err})
	}
	if err := checkConfigs(known, ng.NodeConfigs); err != nil {
		errs = append(errs, pathError{base.AtName("node_configs"), err})
	}
	if ng.VolumesPerNode > 0 && ng.VolumesSize < 1 {
		errs = append(errs, pathError{base.AtName("volumes_size"), sahara.InvalidData("You must specify a volumes_size parameter")})
	}
	return errs
}

// pluginFor resolves plugin and version with Sahara's messages.
func pluginFor(reg *sahara.Registry, name, version string) (sahara.Plugin, []pathError) {
	if _, err := reg.Get(name); err != nil {
		return nil, []pathError{{path.Root("plugin_name"), fmt.Errorf("%w (plugins in this build: %s)", err, strings.Join(reg.Names(), ", "))}}
	}
	p, err := reg.PluginVersion(name, version)
	if err != nil {
		got, _ := reg.Get(name)
		return nil, []pathError{{path.Root("plugin_version"), fmt.Errorf("%w (supported: %s)", err, strings.Join(got.Versions(), ", "))}}
	}
	return p, nil
}

// errorMessages splits joined errors.
func errorMessages(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, errorMessages(e)...)
		}
		return out
	}
	return []error{err}
}

var (
	reProcesses   = regexp.MustCompile(`node processes: \[(.*)\]`)
	reTarget      = regexp.MustCompile(`applicable target '([^']*)'`)
	reComponent   = regexp.MustCompile(`Actual (.+) count is`)
	reMissingSvc  = regexp.MustCompile(`missing a service: ([^,]+)`)
	reNodeGroupSc = regexp.MustCompile(`^Chosen node group (\S+) cannot be scaled`)
)

// clusterErrorPath finds the attribute a cluster validation error belongs to,
// from Sahara's message and the layout it was about. Node groups are keyed by
// name in the configuration.
func clusterErrorPath(spec sahara.ClusterSpec, err error) path.Path {
	msg := err.Error()
	ngPath := func(name, field string) path.Path {
		p := path.Root("node_groups").AtMapKey(name)
		if field != "" {
			p = p.AtName(field)
		}
		return p
	}
	if m := reNodeGroupSc.FindStringSubmatch(msg); m != nil {
		return ngPath(m[1], "count")
	}
	if m := reProcesses.FindStringSubmatch(msg); m != nil {
		bad := strings.Split(strings.ReplaceAll(m[1], "'", ""), ", ")
		for _, ng := range spec.NodeGroups {
			for _, b := range bad {
				if ng.HasProcess(b) {
					return ngPath(ng.Name, "node_processes")
				}
			}
		}
		for _, b := range bad {
			for _, a := range spec.AntiAffinity {
				if a == b {
					return path.Root("anti_affinity")
				}
			}
		}
		return path.Root("node_groups")
	}
	if m := reTarget.FindStringSubmatch(msg); m != nil {
		for _, ng := range spec.NodeGroups {
			if _, ok := ng.NodeConfigs[m[1]]; ok {
				return ngPath(ng.Name, "node_configs")
			}
		}
		return path.Root("cluster_configs")
	}
	if m := reComponent.FindStringSubmatch(msg); m != nil {
		// The group(s) running the component, if exactly one does.
		var with []string
		for _, ng := range spec.NodeGroups {
			if ng.HasProcess(m[1]) {
				with = append(with, ng.Name)
			}
		}
		if len(with) == 1 {
			return ngPath(with[0], "count")
		}
		return path.Root("node_groups")
	}
	if reMissingSvc.MatchString(msg) {
		return path.Root("node_groups")
	}
	var se *sahara.SaharaError
	if errors.As(err, &se) {
		switch {
		case strings.Contains(msg, "default_image_id") || strings.Contains(strings.ToLower(msg), "image"):
			return path.Root("default_image_id")
		case strings.Contains(msg, "neutron_management_network"):
			return path.Root("neutron_management_network")
		case strings.Contains(msg, "anti"):
			return path.Root("anti_affinity")
		case strings.Contains(msg, "plugin") && strings.Contains(msg, "version"):
			return path.Root("plugin_version")
		case strings.Contains(msg, "plugin"):
			return path.Root("plugin_name")
		case strings.Contains(msg, "hostname") || strings.Contains(msg, "name"):
			return path.Root("name")
		}
	}
	return path.Root("node_groups")
}
