// Package fake is saharagen's port of Sahara's fake plugin: it installs no
// data-processing software but exercises every method of the plugin SPI and
// does real remote work on every instance (write a file, append to it,
// replace a string in it, read it back), so provisioning, scaling and
// deletion can be tested end to end on any image.
package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Version is the only version the fake plugin supports, as in Sahara.
const Version = "0.1"

// Node processes.
const (
	NameNode        = "namenode"
	DataNode        = "datanode"
	ResourceManager = "resourcemanager"
	NodeManager     = "nodemanager"
)

// Files the plugin writes in the login user's home on every instance.
const (
	// DataFile is Sahara's fake plugin test file.
	DataFile = "test_data"
	// ConfFile holds the instance's processes and merged configuration.
	ConfFile = "fake-node.conf"
	// MembersFile lists the FQDNs of every datanode (like vanilla's dn-include).
	MembersFile = "fake-datanodes"
	// ExcludeFile lists the FQDNs being decommissioned, on the namenode.
	ExcludeFile = "fake-exclude"
)

const (
	dataWritten  = "sp@m"
	dataAppended = " and eggs"
	dataExpected = "sp@m and pony"
)

// Plugin is the fake plugin. The zero value is ready; Fail and Calls help
// tests inject faults into SPI methods and count them.
type Plugin struct {
	mu    sync.Mutex
	fail  map[string]error
	calls map[string]int
}

var (
	_ sahara.Plugin           = (*Plugin)(nil)
	_ sahara.ImageTagger      = (*Plugin)(nil)
	_ sahara.Validator        = (*Plugin)(nil)
	_ sahara.ScalingValidator = (*Plugin)(nil)
	_ sahara.InfraUpdater     = (*Plugin)(nil)
	_ sahara.Scaler           = (*Plugin)(nil)
	_ sahara.Converter        = (*Plugin)(nil)
	_ sahara.Terminator       = (*Plugin)(nil)
	_ sahara.PortOpener       = (*Plugin)(nil)
	_ sahara.HealthChecker    = (*Plugin)(nil)
)

// New returns the fake plugin.
func New() *Plugin { return &Plugin{} }

// Fail makes the SPI method with that Go name ("ConfigureCluster", …) return
// err until Fail is called again with a nil err.
func (p *Plugin) Fail(method string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail == nil {
		p.fail = map[string]error{}
	}
	if err == nil {
		delete(p.fail, method)
		return
	}
	p.fail[method] = err
}

// Calls returns how many times an SPI method was called.
func (p *Plugin) Calls(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[method]
}

func (p *Plugin) enter(method string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[method]++
	return p.fail[method]
}

// Name implements sahara.Plugin.
func (p *Plugin) Name() string { return "fake" }

// Title implements sahara.Plugin.
func (p *Plugin) Title() string { return "Fake Plugin" }

// Description implements sahara.Plugin.
func (p *Plugin) Description() string {
	return "A plugin that installs nothing and checks that provisioning works: it writes, edits and reads back a file on every instance."
}

// Versions implements sahara.Plugin.
func (p *Plugin) Versions() []string { return []string{Version} }

func checkVersion(v string) error {
	if v != Version {
		return sahara.InvalidReference(fmt.Sprintf("Requested plugin 'fake' doesn't support version '%s'", v)).At(sahara.Field{Attribute: "plugin_version"})
	}
	return nil
}

// NodeProcesses implements sahara.Plugin.
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return []sahara.Service{
		{Name: "HDFS", Processes: []string{NameNode, DataNode}},
		{Name: "YARN", Processes: []string{ResourceManager, NodeManager}},
		{Name: "Kerberos", Processes: []string{}},
	}, nil
}

// Config names.
const (
	ConfReplication = "dfs.replication"
	ConfHeapSize    = "NameNode Heap Size"
	ConfScheduler   = "yarn.resourcemanager.scheduler"
	ConfKerberos    = "Enable Kerberos Security"
	ConfGreeting    = "Greeting"
	// ConfKDCPassword is a secret config: it reaches ConfFile (mode 0600)
	// and nothing else.
	ConfKDCPassword = "KDC admin password"
	// ConfFailConfigure is a fault hook: the node group's instances fail
	// their configure step, after logging why to LogFile.
	ConfFailConfigure = "Fail configure"
	// LogFile is the fake software's log on an instance (LogFiles).
	LogFile           = "/var/log/saharagen-fake.log"
	defaultGreeting   = "Hello, world!"
	defaultScheduler  = "capacity"
	defaultReplicas   = 1
	defaultHeapSizeMB = 1024
)

// Configs implements sahara.Plugin: one config of each type.
func (p *Plugin) Configs(version string) ([]sahara.Config, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return []sahara.Config{
		{Name: ConfReplication, Description: "How many copies of each block the fake HDFS keeps; the cluster needs at least this many datanodes.", Type: sahara.ConfigInt, Default: defaultReplicas, Target: "HDFS", Scope: sahara.ScopeCluster, IsOptional: true, Priority: 1},
		{Name: ConfHeapSize, Description: "Heap of the fake namenode, in MB.", Type: sahara.ConfigInt, Default: defaultHeapSizeMB, Target: "HDFS", Scope: sahara.ScopeNode, IsOptional: true, Priority: 1},
		{Name: ConfScheduler, Description: "Scheduler of the fake resource manager.", Type: sahara.ConfigEnum, Values: []string{"fifo", "capacity", "fair"}, Default: defaultScheduler, Target: "YARN", Scope: sahara.ScopeCluster, IsOptional: true, Priority: 2},
		{Name: ConfKerberos, Description: "Pretend to secure the cluster with Kerberos.", Type: sahara.ConfigBool, Default: false, Target: "Kerberos", Scope: sahara.ScopeCluster, IsOptional: true, Priority: 1},
		{Name: ConfKDCPassword, Description: "Password of the pretend Kerberos admin; a secret config.", Type: sahara.ConfigString, Target: "Kerberos", Scope: sahara.ScopeCluster, IsOptional: true, Priority: 2, Secret: true},
		{Name: ConfFailConfigure, Description: "Fault hook for tests: the node group's instances fail their configure step (a command that exits 3 after logging to " + LogFile + ").", Type: sahara.ConfigBool, Default: false, Target: sahara.TargetGeneral, Scope: sahara.ScopeNode, IsOptional: true, Priority: 2},
		{Name: ConfGreeting, Description: "Text every instance echoes while it is configured.", Type: sahara.ConfigString, Default: defaultGreeting, Target: sahara.TargetGeneral, Scope: sahara.ScopeCluster, IsOptional: true, Priority: 2},
	}, nil
}

// RequiredImageTags implements sahara.ImageTagger (Sahara's default).
func (p *Plugin) RequiredImageTags(version string) []string { return []string{"fake", version} }

// configValue is vanilla's get_config_value: the first node group whose
// configuration sets the value wins, else the default.
// configValue is the first node group's value of a config, else the
// default; the field is where that value was set.
func configValue(c *sahara.Cluster, target, name string, def any) (any, sahara.Field) {
	for _, ng := range c.NodeGroups {
		if v, ok := ng.Configuration().Get(target, name); ok {
			return v, sahara.ConfigField(ng, target, name)
		}
	}
	if v, ok := c.ClusterConfigs.Get(target, name); ok {
		return v, sahara.ConfigField(nil, target, name)
	}
	return def, sahara.Field{}
}

func replication(c *sahara.Cluster) (int, error) {
	v, at := configValue(c, "HDFS", ConfReplication, defaultReplicas)
	n, err := sahara.AsInt(v)
	if err != nil {
		return 0, sahara.InvalidData(fmt.Sprintf("Config '%s' of target 'HDFS': %v", ConfReplication, err)).At(at)
	}
	return n, nil
}

// Validate implements sahara.Validator with vanilla's rules for the processes
// the fake plugin has.
func (p *Plugin) Validate(ctx context.Context, c *sahara.Cluster) error {
	if err := p.enter("Validate"); err != nil {
		return err
	}
	if n := c.ProcessCount(NameNode); n != 1 {
		return sahara.InvalidComponentCount(NameNode, 1, n, "")
	}
	rm := c.ProcessCount(ResourceManager)
	if rm > 1 {
		return sahara.InvalidComponentCount(ResourceManager, "0 or 1", rm, "")
	}
	if rm == 0 && c.ProcessCount(NodeManager) > 0 {
		return sahara.RequiredServiceMissing(ResourceManager, NodeManager)
	}
	rep, err := replication(c)
	if err != nil {
		return err
	}
	if dn := c.ProcessCount(DataNode); dn < rep {
		return sahara.InvalidComponentCount(DataNode, rep, dn, "Number of datanodes must be not less than dfs.replication.")
	}
	return nil
}

var scalable = map[string]bool{DataNode: true, NodeManager: true}

// ValidateScaling implements sahara.ScalingValidator: only worker groups
// scale, and HDFS keeps enough datanodes for its replicas.
func (p *Plugin) ValidateScaling(ctx context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	if err := p.enter("ValidateScaling"); err != nil {
		return err
	}
	check := func(name string) error {
		ng := c.NodeGroup(name)
		if ng == nil {
			return sahara.NotFound(fmt.Sprintf("Node group %s not found", name)).At(sahara.Field{NodeGroup: name})
		}
		for _, proc := range ng.NodeProcesses {
			if !scalable[proc] {
				return sahara.NodeGroupCannotBeScaled(ng.Name, "Fake plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
			}
		}
		return nil
	}
	for _, m := range []map[string]int{existing, additional} {
		for _, name := range sortedKeys(m) {
			if err := check(name); err != nil {
				return err
			}
		}
	}
	rep, err := replication(c)
	if err != nil {
		return err
	}
	dn := 0
	for _, ng := range c.NodeGroups {
		if !ng.HasProcess(DataNode) {
			continue
		}
		n := ng.Count
		if v, ok := existing[ng.Name]; ok {
			n = v
		} else if v, ok := additional[ng.Name]; ok {
			n = v
		}
		dn += n
	}
	if dn < rep {
		return sahara.ClusterCannotBeScaled(c.Name, fmt.Sprintf("Fake plugin cannot shrink cluster because it would be not enough nodes for replicas (replication factor is %d)", rep))
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UpdateInfra implements sahara.InfraUpdater; the fake plugin needs nothing.
func (p *Plugin) UpdateInfra(ctx context.Context, c *sahara.Cluster) error {
	return p.enter("UpdateInfra")
}

// ConfigureCluster implements sahara.Plugin: on every instance, Sahara's
// fake-plugin file operations plus the instance's configuration file.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	if err := p.enter("ConfigureCluster"); err != nil {
		return err
	}
	return sahara.ParallelEach(ctx, 0, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		return writeOps(ctx, c, r.Remote(in), in)
	})
}

func writeOps(ctx context.Context, c *sahara.Cluster, rm sahara.Remote, in *sahara.Instance) error {
	v, _ := configValue(c, sahara.TargetGeneral, ConfGreeting, defaultGreeting)
	greeting := sahara.AsString(v)
	cmd, err := sahara.ShellJoin("echo", greeting)
	if err != nil {
		return err
	}
	if _, err := rm.ExecuteCommand(ctx, cmd, sahara.ExecOptions{Name: "echo"}); err != nil {
		return err
	}
	if v, ok := in.NodeGroup().Configuration().Get(sahara.TargetGeneral, ConfFailConfigure); ok {
		if fail, _ := sahara.AsBool(v); fail {
			_, err := rm.ExecuteCommand(ctx, "echo \"$(date -u +%FT%TZ) fake configure of $(hostname): the pretend disk check failed\" >> "+LogFile+
				"; echo 'pretend disk check: 0 of 1 disks usable' >&2; exit 3", sahara.ExecOptions{RunAsRoot: true, Name: "fake configure"})
			if err != nil {
				return err
			}
		}
	}
	if err := rm.WriteFileTo(ctx, DataFile, []byte(dataWritten), sahara.FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	if err := rm.AppendToFile(ctx, DataFile, []byte(dataAppended), sahara.FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	if err := rm.ReplaceRemoteString(ctx, DataFile, "eggs", "pony", sahara.FileOptions{}); err != nil {
		return err
	}
	// With secret configs in it the file is its owner's alone from the start.
	opts := sahara.FileOptions{}
	if len(c.SecretConfigKeys) > 0 {
		opts = sahara.FileOptions{Mode: 0o600, Sensitive: true}
	}
	return rm.WriteFileTo(ctx, ConfFile, nodeConf(in), opts)
}

// nodeConf renders the instance's processes and merged configuration, one
// "target/name=value" line each, sorted.
func nodeConf(in *sahara.Instance) []byte {
	ng := in.NodeGroup()
	var b bytes.Buffer
	fmt.Fprintf(&b, "processes=%s\n", strings.Join(ng.NodeProcesses, ","))
	fmt.Fprintf(&b, "storage=%s\n", strings.Join(in.StoragePaths(), ","))
	var lines []string
	for target, m := range ng.Configuration() {
		for name, v := range m {
			lines = append(lines, fmt.Sprintf("%s/%s=%s\n", target, name, sahara.AsString(v)))
		}
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, ""))
	return b.Bytes()
}

func checkOps(ctx context.Context, rm sahara.Remote, in *sahara.Instance) error {
	got, err := rm.ReadFileFrom(ctx, DataFile, sahara.FileOptions{RunAsRoot: true})
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(got)) != dataExpected {
		return fmt.Errorf("%s: %s holds %q, want %q", in.InstanceName, DataFile, got, dataExpected)
	}
	return nil
}

// StartCluster implements sahara.Plugin: it reads back the data file on
// every instance, writes the datanode list and publishes the namenode URL.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	if err := p.enter("StartCluster"); err != nil {
		return err
	}
	members := membersFile(c, nil)
	err := sahara.ParallelEach(ctx, 0, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		rm := r.Remote(in)
		if err := checkOps(ctx, rm, in); err != nil {
			return err
		}
		return rm.WriteFileTo(ctx, MembersFile, members, sahara.FileOptions{})
	})
	if err != nil {
		return err
	}
	if nn := c.InstancesWithProcess(NameNode); len(nn) > 0 {
		c.SetInfo("HDFS", "NameNode", "hdfs://"+nn[0].Hostname()+":8020")
	}
	return nil
}

func membersFile(c *sahara.Cluster, skip map[*sahara.Instance]bool) []byte {
	var b bytes.Buffer
	for _, in := range c.InstancesWithProcess(DataNode) {
		if !skip[in] {
			b.WriteString(in.FQDN() + "\n")
		}
	}
	return b.Bytes()
}

// ScaleCluster implements sahara.Scaler: the new instances get the write and
// check operations; every instance gets the new datanode list.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	if err := p.enter("ScaleCluster"); err != nil {
		return err
	}
	err := sahara.ParallelEach(ctx, 0, instances, func(ctx context.Context, in *sahara.Instance) error {
		rm := r.Remote(in)
		if err := writeOps(ctx, c, rm, in); err != nil {
			return err
		}
		return checkOps(ctx, rm, in)
	})
	if err != nil {
		return err
	}
	members := membersFile(c, nil)
	return sahara.ParallelEach(ctx, 0, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		return r.Remote(in).WriteFileTo(ctx, MembersFile, members, sahara.FileOptions{})
	})
}

// DecommissionNodes implements sahara.Scaler: the namenode learns the
// excluded FQDNs, then the remaining instances get the datanode list
// without the victims.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	if err := p.enter("DecommissionNodes"); err != nil {
		return err
	}
	victims := map[*sahara.Instance]bool{}
	var exclude bytes.Buffer
	for _, in := range instances {
		victims[in] = true
		exclude.WriteString(in.FQDN() + "\n")
	}
	for _, nn := range c.InstancesWithProcess(NameNode) {
		if err := r.Remote(nn).WriteFileTo(ctx, ExcludeFile, exclude.Bytes(), sahara.FileOptions{}); err != nil {
			return err
		}
	}
	var keep []*sahara.Instance
	for _, in := range c.Instances() {
		if !victims[in] {
			keep = append(keep, in)
		}
	}
	members := membersFile(c, victims)
	return sahara.ParallelEach(ctx, 0, keep, func(ctx context.Context, in *sahara.Instance) error {
		return r.Remote(in).WriteFileTo(ctx, MembersFile, members, sahara.FileOptions{})
	})
}

// OnTerminateCluster implements sahara.Terminator; the fake plugin keeps no
// secrets outside the cluster, so there is nothing to clean up.
func (p *Plugin) OnTerminateCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return p.enter("OnTerminateCluster")
}

// OpenPorts implements sahara.PortOpener.
func (p *Plugin) OpenPorts(c *sahara.Cluster, ng *sahara.NodeGroup) []int {
	ports := map[string][]int{NameNode: {8020, 50070}, DataNode: {50010, 50075}, ResourceManager: {8088, 8032}, NodeManager: {8042}}
	var out []int
	for _, proc := range ng.NodeProcesses {
		out = append(out, ports[proc]...)
	}
	return out
}

// CheckHealth implements sahara.HealthChecker: the data file must still hold
// what start_cluster verified.
func (p *Plugin) CheckHealth(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) []sahara.HealthResult {
	if err := p.enter("CheckHealth"); err != nil {
		return []sahara.HealthResult{{Name: "Fake data check", Status: sahara.HealthRed, Message: err.Error()}}
	}
	err := sahara.ParallelEach(ctx, 0, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		return checkOps(ctx, r.Remote(in), in)
	})
	if err != nil {
		return []sahara.HealthResult{{Name: "Fake data check", Status: sahara.HealthRed, Message: "Cluster health is RED. Reason: " + err.Error()}}
	}
	return []sahara.HealthResult{{Name: "Fake data check", Status: sahara.HealthGreen, Message: fmt.Sprintf("Data file verified on %d instance(s)", len(c.Instances()))}}
}

// convertDoc is the document Convert accepts: a JSON cluster layout.
type convertDoc struct {
	Description    string                 `json:"description"`
	ClusterConfigs sahara.Configs         `json:"cluster_configs"`
	NodeGroups     []sahara.NodeGroupSpec `json:"node_groups"`
}

// Convert implements sahara.Converter: a JSON document with description,
// cluster_configs and node_groups becomes a cluster template.
func (p *Plugin) Convert(ctx context.Context, document []byte, version, templateName string) (*sahara.ClusterTemplate, error) {
	if err := p.enter("Convert"); err != nil {
		return nil, err
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	var doc convertDoc
	dec := json.NewDecoder(bytes.NewReader(document))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, sahara.InvalidData(fmt.Sprintf("Fake plugin cannot convert the document: %v (expected JSON with description, cluster_configs and node_groups)", err)).
			At(sahara.Field{Attribute: sahara.FieldConvertFrom})
	}
	if len(doc.NodeGroups) == 0 {
		return nil, sahara.InvalidData("Fake plugin cannot convert the document: it has no node_groups").At(sahara.Field{Attribute: sahara.FieldConvertFrom})
	}
	return &sahara.ClusterTemplate{ClusterSpec: sahara.ClusterSpec{
		Name: templateName, Description: doc.Description, PluginName: p.Name(), PluginVersion: version,
		ClusterConfigs: doc.ClusterConfigs, NodeGroups: doc.NodeGroups,
	}}, nil
}

// LogFiles implements sahara.LogNamer.
func (p *Plugin) LogFiles(*sahara.Cluster, *sahara.Instance) []string { return []string{LogFile} }
