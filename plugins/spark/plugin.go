package spark

import (
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Name is the plugin's registry name.
const Name = "spark"

// Spark versions the plugin supports: Sahara's.
const (
	V23  = "2.3"
	V22  = "2.2"
	V210 = "2.1.0"
	V160 = "1.6.0"
)

// Node processes.
const (
	ProcNameNode = "namenode"
	ProcDataNode = "datanode"
	ProcMaster   = "master"
	ProcSlave    = "slave"
)

// Services (config targets).
const (
	SvcHDFS  = "HDFS"
	SvcSpark = "Spark"
)

// Keys of Cluster.Extra the plugin reads: the Swift settings of
// core-site.xml (hadoop.SwiftConfigs); without the auth URL the Swift
// lines are left out.
const (
	ExtraSwiftAuthURL = hadoop.ExtraSwiftAuthURL
	ExtraSwiftTenant  = hadoop.ExtraSwiftTenant
	ExtraSwiftRegion  = hadoop.ExtraSwiftRegion
	ExtraSwiftDomain  = hadoop.ExtraSwiftDomain
)

// Options configure the plugin (hadoop.Options).
type Options = hadoop.Options

// Plugin is the Apache Spark plugin.
type Plugin struct {
	hadoop.Runtime
}

var (
	_ sahara.Plugin           = (*Plugin)(nil)
	_ sahara.ImageTagger      = (*Plugin)(nil)
	_ sahara.Validator        = (*Plugin)(nil)
	_ sahara.ScalingValidator = (*Plugin)(nil)
	_ sahara.PortOpener       = (*Plugin)(nil)
)

// New returns the plugin.
func New(o Options) *Plugin { return &Plugin{Runtime: hadoop.NewRuntime(o)} }

// Name implements sahara.Plugin.
func (p *Plugin) Name() string { return Name }

// Title implements sahara.Plugin.
func (p *Plugin) Title() string { return "Apache Spark" }

// Description implements sahara.Plugin: Sahara's text.
func (p *Plugin) Description() string {
	return "This plugin provides an ability to launch Spark on Hadoop CDH cluster without any management consoles."
}

// Versions implements sahara.Plugin: Sahara's versions, then the Spark 3
// line, oldest first as saharagen lists versions (the last is the
// default); Sahara lists its versions newest first.
func (p *Plugin) Versions() []string { return []string{V160, V210, V22, V23, V353} }

// Configs implements sahara.Plugin (get_configs): the same list for every version.
func (p *Plugin) Configs(version string) ([]sahara.Config, error) {
	cs, err := allConfigs(version)
	if err != nil {
		return nil, err
	}
	return append([]sahara.Config(nil), cs...), nil
}

// NodeProcesses implements sahara.Plugin.
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return []sahara.Service{
		{Name: SvcHDFS, Processes: []string{ProcNameNode, ProcDataNode}},
		{Name: SvcSpark, Processes: []string{ProcMaster, ProcSlave}},
	}, nil
}

// RequiredImageTags implements sahara.ImageTagger: Sahara's default.
func (p *Plugin) RequiredImageTags(version string) []string { return []string{Name, version} }

// OpenPorts implements sahara.PortOpener (get_open_ports): per process of
// the node group, in the node group's order; the Spark ports follow the
// cluster's configs. A port config that is not a number (Sahara: a crash)
// opens nothing for it; Validate refuses such a cluster.
func (p *Plugin) OpenPorts(c *sahara.Cluster, ng *sahara.NodeGroup) []int {
	port := func(name string) []int {
		n, err := portConfig(c, name)
		if err != nil {
			return nil
		}
		return []int{n}
	}
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return nil
	}
	var out []int
	for _, proc := range ng.NodeProcesses {
		switch proc {
		case ProcNameNode:
			out = append(out, l.nnPorts...)
		case ProcDataNode:
			out = append(out, l.dnPorts...)
		case ProcMaster:
			out = append(out, port(CfgMasterPort)...)
			out = append(out, port(CfgMasterWebUIPort)...)
		case ProcSlave:
			out = append(out, port(CfgWorkerWebUIPort)...)
		}
	}
	return out
}
