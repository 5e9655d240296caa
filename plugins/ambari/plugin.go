package ambari

import (
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Name is the plugin's registry name.
const Name = "ambari"

// HDP stack versions the plugin supports: Sahara's.
const (
	V23 = "2.3"
	V24 = "2.4"
	V25 = "2.5"
	V26 = "2.6"
)

// Services (config targets and node process groups), as Sahara names them.
const (
	SvcAmbari    = "Ambari"
	SvcFalcon    = "Falcon"
	SvcFlume     = "Flume"
	SvcHBase     = "HBase"
	SvcHDFS      = "HDFS"
	SvcHive      = "Hive"
	SvcKafka     = "Kafka"
	SvcKerberos  = "Kerberos"
	SvcKnox      = "Knox"
	SvcOozie     = "Oozie"
	SvcRanger    = "Ranger"
	SvcSlider    = "Slider"
	SvcSpark     = "Spark"
	SvcSqoop     = "Sqoop"
	SvcStorm     = "Storm"
	SvcYARN      = "YARN"
	SvcZooKeeper = "ZooKeeper"
)

// Node processes, as Sahara names them.
const (
	ProcAmbari            = "Ambari"
	ProcTimelineServer    = "YARN Timeline Server"
	ProcDataNode          = "DataNode"
	ProcDRPCServer        = "DRPC Server"
	ProcFalconServer      = "Falcon Server"
	ProcFlume             = "Flume"
	ProcHBaseMaster       = "HBase Master"
	ProcHBaseRegionServer = "HBase RegionServer"
	ProcHistoryServer     = "MapReduce History Server"
	ProcHiveMetastore     = "Hive Metastore"
	ProcHiveServer        = "HiveServer"
	ProcKafkaBroker       = "Kafka Broker"
	ProcKnoxGateway       = "Knox Gateway"
	ProcNameNode          = "NameNode"
	ProcNimbus            = "Nimbus"
	ProcNodeManager       = "NodeManager"
	ProcOozie             = "Oozie"
	ProcRangerAdmin       = "Ranger Admin"
	ProcRangerUsersync    = "Ranger Usersync"
	ProcResourceManager   = "ResourceManager"
	ProcSecondaryNameNode = "SecondaryNameNode"
	ProcSlider            = "Slider"
	ProcSparkHistory      = "Spark History Server"
	ProcSqoop             = "Sqoop"
	ProcStormUI           = "Storm UI Server"
	ProcSupervisor        = "Supervisor"
	ProcZooKeeper         = "ZooKeeper"
	ProcJournalNode       = "JournalNode"
)

// Options configure the plugin.
type Options struct {
	hadoop.Options
	// Connect, when set, replaces how the plugin reaches the Ambari
	// server's REST API: tests point it at a loopback server. By default
	// the plugin dials 127.0.0.1:8080 from the Ambari instance over the
	// SSH connection the engine holds (sahara.Dialer).
	Connect Connector
	// NewPassword makes the passwords the plugin creates (default: 128
	// random bits from crypto/rand, hex). Tests inject fixed ones.
	NewPassword func() (string, error)
}

// Plugin is the Ambari (Hortonworks Data Platform) plugin.
type Plugin struct {
	hadoop.Runtime
	connect     Connector
	newPassword func() (string, error)
}

var (
	_ sahara.Plugin             = (*Plugin)(nil)
	_ sahara.ImageTagger        = (*Plugin)(nil)
	_ sahara.Validator          = (*Plugin)(nil)
	_ sahara.ScalingValidator   = (*Plugin)(nil)
	_ sahara.PortOpener         = (*Plugin)(nil)
	_ sahara.Scaler             = (*Plugin)(nil)
	_ sahara.ConfigAcceptor     = (*Plugin)(nil)
	_ sahara.SecretConfigMarker = (*Plugin)(nil)
)

// New returns the plugin.
func New(o Options) *Plugin {
	p := &Plugin{Runtime: hadoop.NewRuntime(o.Options), connect: o.Connect, newPassword: o.NewPassword}
	if p.connect == nil {
		p.connect = dialThroughRemote
	}
	if p.newPassword == nil {
		p.newPassword = randomPassword
	}
	return p
}

// Name implements sahara.Plugin.
func (p *Plugin) Name() string { return Name }

// Title implements sahara.Plugin: Sahara's.
func (p *Plugin) Title() string { return "HDP Plugin" }

// Description implements sahara.Plugin: Sahara's text.
func (p *Plugin) Description() string {
	return "The Ambari Sahara plugin provides the ability to launch clusters with Hortonworks Data Platform (HDP) on OpenStack using Apache Ambari"
}

// Versions implements sahara.Plugin.
func (p *Plugin) Versions() []string { return []string{V23, V24, V25, V26} }

// NodeProcesses implements sahara.Plugin (get_node_processes).
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return []sahara.Service{
		{Name: SvcAmbari, Processes: []string{ProcAmbari}},
		{Name: SvcFalcon, Processes: []string{ProcFalconServer}},
		{Name: SvcFlume, Processes: []string{ProcFlume}},
		{Name: SvcHBase, Processes: []string{ProcHBaseMaster, ProcHBaseRegionServer}},
		{Name: SvcHDFS, Processes: []string{ProcDataNode, ProcNameNode, ProcSecondaryNameNode, ProcJournalNode}},
		{Name: SvcHive, Processes: []string{ProcHiveMetastore, ProcHiveServer}},
		{Name: SvcKafka, Processes: []string{ProcKafkaBroker}},
		{Name: SvcKerberos, Processes: []string{}},
		{Name: SvcKnox, Processes: []string{ProcKnoxGateway}},
		{Name: SvcOozie, Processes: []string{ProcOozie}},
		{Name: SvcRanger, Processes: []string{ProcRangerAdmin, ProcRangerUsersync}},
		{Name: SvcSlider, Processes: []string{ProcSlider}},
		{Name: SvcSpark, Processes: []string{ProcSparkHistory}},
		{Name: SvcSqoop, Processes: []string{ProcSqoop}},
		{Name: SvcStorm, Processes: []string{ProcDRPCServer, ProcNimbus, ProcStormUI, ProcSupervisor}},
		{Name: SvcYARN, Processes: []string{ProcTimelineServer, ProcHistoryServer, ProcNodeManager, ProcResourceManager}},
		{Name: SvcZooKeeper, Processes: []string{ProcZooKeeper}},
	}, nil
}

// RequiredImageTags implements sahara.ImageTagger: Sahara's default.
func (p *Plugin) RequiredImageTags(version string) []string { return []string{Name, version} }

// openPorts are Sahara's ports per process (get_open_ports).
var openPorts = map[string][]int{
	ProcAmbari:            {8080},
	ProcTimelineServer:    {8188, 8190, 10200},
	ProcDataNode:          {50075, 50475},
	ProcDRPCServer:        {3772, 3773},
	ProcFalconServer:      {15000},
	ProcFlume:             {8020, 41414},
	ProcHBaseMaster:       {16000, 16010},
	ProcHBaseRegionServer: {16020, 16030},
	ProcHistoryServer:     {10020, 19888},
	ProcHiveMetastore:     {9933},
	ProcHiveServer:        {9999, 10000},
	ProcKafkaBroker:       {6667},
	ProcNameNode:          {8020, 9000, 50070, 50470},
	ProcNimbus:            {6627},
	ProcNodeManager:       {8042, 8044, 45454},
	ProcOozie:             {11000, 11443},
	ProcRangerAdmin:       {6080},
	ProcResourceManager:   {8025, 8030, 8050, 8088, 8141},
	ProcSecondaryNameNode: {50090},
	ProcSparkHistory:      {18080},
	ProcStormUI:           {8000, 8080, 8744},
	ProcZooKeeper:         {2181},
}

// OpenPorts implements sahara.PortOpener: the ports of the node group's
// processes in its order, duplicates kept, as Sahara.
func (p *Plugin) OpenPorts(_ *sahara.Cluster, ng *sahara.NodeGroup) []int {
	var out []int
	for _, proc := range ng.NodeProcesses {
		out = append(out, openPorts[proc]...)
	}
	return out
}
