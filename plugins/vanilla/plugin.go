package vanilla

import (
	"context"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Name is the plugin's registry name.
const Name = "vanilla"

// Paths on the instances (the layout of Sahara's vanilla images).
const (
	hadoopConfDir = "/opt/hadoop/etc/hadoop"
	oozieConfDir  = "/opt/oozie/conf"
	hiveConfDir   = "/opt/hive/conf"
	hadoopUser    = "hadoop"
)

// Keys of Cluster.Extra (and Cluster.Secrets) the plugin reads or writes.
const (
	// ExtraKeypair is the Cluster.Secrets key of the cluster's hadoop-user
	// key pair as JSON {"public": …, "private": …} (records of before
	// Secrets have it in Extra).
	ExtraKeypair = "vanilla_keypair"
	// ExtraSwiftAuthURL, ExtraSwiftTenant, ExtraSwiftRegion and
	// ExtraSwiftDomain are the Swift settings of core-site.xml
	// (hadoop.SwiftConfigs); without the auth URL the Swift lines are left out.
	ExtraSwiftAuthURL = hadoop.ExtraSwiftAuthURL
	ExtraSwiftTenant  = hadoop.ExtraSwiftTenant
	ExtraSwiftRegion  = hadoop.ExtraSwiftRegion
	ExtraSwiftDomain  = hadoop.ExtraSwiftDomain
)

// Options configure the plugin (hadoop.Options).
type Options = hadoop.Options

// Plugin is the vanilla Apache Hadoop plugin.
type Plugin struct {
	hadoop.Runtime
}

var (
	_ sahara.Plugin           = (*Plugin)(nil)
	_ sahara.ImageTagger      = (*Plugin)(nil)
	_ sahara.Validator        = (*Plugin)(nil)
	_ sahara.ScalingValidator = (*Plugin)(nil)
	_ sahara.Scaler           = (*Plugin)(nil)
	_ sahara.Terminator       = (*Plugin)(nil)
	_ sahara.PortOpener       = (*Plugin)(nil)
	_ sahara.ConfigAcceptor   = (*Plugin)(nil)
)

// New returns the plugin.
func New(o Options) *Plugin { return &Plugin{Runtime: hadoop.NewRuntime(o)} }

// Name implements sahara.Plugin.
func (p *Plugin) Name() string { return Name }

// Title implements sahara.Plugin.
func (p *Plugin) Title() string { return "Vanilla Apache Hadoop" }

// Description implements sahara.Plugin.
func (p *Plugin) Description() string {
	return "The Apache Vanilla plugin provides the ability to launch upstream Vanilla Apache Hadoop cluster without any management consoles. It can also deploy the Oozie component."
}

// Versions implements sahara.Plugin: Sahara's versions, then the Hadoop 3 lines.
func (p *Plugin) Versions() []string { return []string{V271, V275, V282, V336, V341} }

// Configs implements sahara.Plugin (get_configs).
func (p *Plugin) Configs(version string) ([]sahara.Config, error) {
	cs, err := allConfigs(version)
	if err != nil {
		return nil, err
	}
	return append([]sahara.Config(nil), cs...), nil
}

// NodeProcesses implements sahara.Plugin, in Sahara's service order.
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	l, err := lineOf(version)
	if err != nil {
		return nil, err
	}
	svcs := []sahara.Service{
		{Name: SvcHadoop, Processes: []string{}},
		{Name: SvcMapReduce, Processes: []string{ProcHistoryServer}},
		{Name: SvcHDFS, Processes: []string{ProcNameNode, ProcDataNode, ProcSecondaryNameNode}},
		{Name: SvcYARN, Processes: []string{ProcResourceManager, ProcNodeManager}},
	}
	if !l.hadoop3 {
		svcs = append(svcs,
			sahara.Service{Name: SvcJobFlow, Processes: []string{ProcOozie}},
			sahara.Service{Name: SvcHive, Processes: []string{ProcHiveServer}},
			sahara.Service{Name: SvcSpark, Processes: []string{ProcSparkHistory}})
	}
	return append(svcs, sahara.Service{Name: SvcZooKeeper, Processes: []string{ProcZooKeeper}}), nil
}

// RequiredImageTags implements sahara.ImageTagger: Sahara's default.
func (p *Plugin) RequiredImageTags(version string) []string { return []string{Name, version} }

// OpenPorts implements sahara.PortOpener (get_open_ports), in Sahara's order.
func (p *Plugin) OpenPorts(c *sahara.Cluster, ng *sahara.NodeGroup) []int {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return nil
	}
	var out []int
	for _, proc := range []string{ProcNameNode, ProcSecondaryNameNode, ProcResourceManager, ProcHistoryServer,
		ProcDataNode, ProcNodeManager, ProcOozie, ProcHiveServer, ProcSparkHistory, ProcZooKeeper} {
		if ng.HasProcess(proc) {
			out = append(out, l.ports[proc]...)
		}
	}
	return out
}

// OnTerminateCluster implements sahara.Terminator. Sahara deletes the key
// pair's secret from its key manager here; saharagen keeps the key with the
// cluster's secrets, which go with the cluster, so nothing runs remotely.
func (p *Plugin) OnTerminateCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	delete(c.Extra, ExtraKeypair)
	delete(c.Secrets, ExtraKeypair)
	return nil
}
