package cdh

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Name is the plugin's registry name.
const Name = "cdh"

// CDH versions the plugin supports: Sahara's (5.7.0 is deprecated there).
const (
	V570  = "5.7.0"
	V590  = "5.9.0"
	V5110 = "5.11.0"
	V5130 = "5.13.0"
)

var versions = []string{V570, V590, V5110, V5130}

// Node processes.
const (
	ProcManager           = "CLOUDERA_MANAGER"
	ProcNameNode          = "HDFS_NAMENODE"
	ProcDataNode          = "HDFS_DATANODE"
	ProcSecondaryNameNode = "HDFS_SECONDARYNAMENODE"
	ProcJournalNode       = "HDFS_JOURNALNODE"
	ProcResourceManager   = "YARN_RESOURCEMANAGER"
	ProcNodeManager       = "YARN_NODEMANAGER"
	ProcJobHistory        = "YARN_JOBHISTORY"
	ProcStandbyRM         = "YARN_STANDBYRM"
	ProcOozie             = "OOZIE_SERVER"
	ProcHiveServer2       = "HIVE_SERVER2"
	ProcHiveMetastore     = "HIVE_METASTORE"
	ProcWebHCat           = "HIVE_WEBHCAT"
	ProcHue               = "HUE_SERVER"
	ProcSparkHistory      = "SPARK_YARN_HISTORY_SERVER"
	ProcZooKeeper         = "ZOOKEEPER_SERVER"
	ProcHBaseMaster       = "HBASE_MASTER"
	ProcRegionServer      = "HBASE_REGIONSERVER"
	ProcFlume             = "FLUME_AGENT"
	ProcImpalaCatalog     = "IMPALA_CATALOGSERVER"
	ProcImpalaStateStore  = "IMPALA_STATESTORE"
	ProcImpalad           = "IMPALAD"
	ProcIndexer           = "KEY_VALUE_STORE_INDEXER"
	ProcSolr              = "SOLR_SERVER"
	ProcSqoop             = "SQOOP_SERVER"
	ProcSentry            = "SENTRY_SERVER"
	ProcKMS               = "KMS"
	ProcKafka             = "KAFKA_BROKER"
)

// services is Sahara's get_node_processes: the services with processes,
// then the role targets of node configs (no processes of their own).
var services = []sahara.Service{
	{Name: "CLOUDERA", Processes: []string{ProcManager}},
	{Name: "HDFS", Processes: []string{ProcNameNode, ProcDataNode, ProcSecondaryNameNode, ProcJournalNode}},
	{Name: "YARN", Processes: []string{ProcResourceManager, ProcNodeManager, ProcJobHistory, ProcStandbyRM}},
	{Name: "OOZIE", Processes: []string{ProcOozie}},
	{Name: "HIVE", Processes: []string{ProcHiveServer2, ProcHiveMetastore, ProcWebHCat}},
	{Name: "HUE", Processes: []string{ProcHue}},
	{Name: "SPARK_ON_YARN", Processes: []string{ProcSparkHistory}},
	{Name: "ZOOKEEPER", Processes: []string{ProcZooKeeper}},
	{Name: "HBASE", Processes: []string{ProcHBaseMaster, ProcRegionServer}},
	{Name: "FLUME", Processes: []string{ProcFlume}},
	{Name: "IMPALA", Processes: []string{ProcImpalaCatalog, ProcImpalaStateStore, ProcImpalad}},
	{Name: "KS_INDEXER", Processes: []string{ProcIndexer}},
	{Name: "SOLR", Processes: []string{ProcSolr}},
	{Name: "SQOOP", Processes: []string{ProcSqoop}},
	{Name: "SENTRY", Processes: []string{ProcSentry}},
	{Name: "KMS", Processes: []string{ProcKMS}},
	{Name: "KAFKA", Processes: []string{ProcKafka}},
	{Name: "YARN_GATEWAY"}, {Name: "RESOURCEMANAGER"}, {Name: "NODEMANAGER"}, {Name: "JOBHISTORY"},
	{Name: "HDFS_GATEWAY"}, {Name: "DATANODE"}, {Name: "NAMENODE"}, {Name: "SECONDARYNAMENODE"}, {Name: "JOURNALNODE"},
	{Name: "REGIONSERVER"}, {Name: "MASTER"},
	{Name: "HIVEMETASTORE"}, {Name: "HIVESERVER"}, {Name: "WEBCAT"},
	{Name: "CATALOGSERVER"}, {Name: "STATESTORE"}, {Name: "IMPALAD"},
	{Name: "Kerberos"},
}

// Options configure the plugin.
type Options struct {
	// HTTPClient, when set, is the client of every Cloudera Manager API
	// call, which then goes to ManagerURL instead of the manager
	// instance's loopback through its remote (tests point both at a local
	// server).
	HTTPClient *http.Client
	ManagerURL string
	// Sleep pauses between polls (default: a timer bounded by ctx).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Plugin is the Cloudera (CDH) plugin: it drives Cloudera Manager.
type Plugin struct {
	opts Options
}

var (
	_ sahara.Plugin           = (*Plugin)(nil)
	_ sahara.ImageTagger      = (*Plugin)(nil)
	_ sahara.Validator        = (*Plugin)(nil)
	_ sahara.ScalingValidator = (*Plugin)(nil)
	_ sahara.PortOpener       = (*Plugin)(nil)
	_ sahara.Scaler           = (*Plugin)(nil)
)

// New returns the plugin.
func New(o Options) *Plugin {
	if o.Sleep == nil {
		o.Sleep = hadoop.NewRuntime(hadoop.Options{}).Sleep
	}
	return &Plugin{opts: o}
}

// Name implements sahara.Plugin.
func (p *Plugin) Name() string { return Name }

// Title implements sahara.Plugin.
func (p *Plugin) Title() string { return "Cloudera Plugin" }

// Description implements sahara.Plugin: Sahara's text.
func (p *Plugin) Description() string {
	return "The Cloudera Sahara plugin provides the ability to launch the Cloudera distribution of Apache Hadoop (CDH) with Cloudera Manager management console."
}

// Versions implements sahara.Plugin, oldest first (the last is the default).
func (p *Plugin) Versions() []string { return slices.Clone(versions) }

func checkVersion(version string) error {
	if !slices.Contains(versions, version) {
		return fmt.Errorf("cdh plugin: unsupported CDH version %q (supported: %v)", version, versions)
	}
	return nil
}

// NodeProcesses implements sahara.Plugin.
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	out := make([]sahara.Service, len(services))
	for i, s := range services {
		out[i] = sahara.Service{Name: s.Name, Processes: slices.Clone(s.Processes)}
		if out[i].Processes == nil {
			out[i].Processes = []string{}
		}
	}
	return out, nil
}

// RequiredImageTags implements sahara.ImageTagger: Sahara's default.
func (p *Plugin) RequiredImageTags(version string) []string { return []string{Name, version} }

// cmAgentPort is the Cloudera Manager agent's port, open on every instance.
const cmAgentPort = 9000

// processPorts are the ports each process opens besides the agent's
// (Sahara's get_open_ports; its map keys the JournalNode as JOURNALNODE,
// so a JournalNode opens only the agent port: the JournalNodes talk on
// 8485 and 8480, which saharagen leaves closed as Sahara did).
var processPorts = map[string][]int{
	ProcManager:           {7180, 7182, 7183, 7432, 7184, 8084, 8086, 10101, 9997, 9996, 8087, 9998, 9999, 8085, 9995, 9994},
	ProcFlume:             {41414},
	ProcHBaseMaster:       {60000},
	ProcRegionServer:      {60020},
	ProcDataNode:          {50010, 1004, 50075, 1006, 50020},
	ProcNameNode:          {8020, 8022, 50070, 50470},
	ProcSecondaryNameNode: {50090, 50495},
	ProcHiveMetastore:     {9083},
	ProcHiveServer2:       {10000},
	ProcHue:               {8888},
	ProcImpalad:           {21050, 21000, 23000, 25000, 28000, 22000},
	ProcImpalaCatalog:     {25020, 26000},
	ProcImpalaStateStore:  {25010, 24000},
	ProcKMS:               {16000, 16001},
	ProcOozie:             {11000, 11001},
	ProcSentry:            {8038},
	ProcSolr:              {8983, 8984},
	ProcSparkHistory:      {18088},
	ProcSqoop:             {8005, 12000},
	ProcJobHistory:        {10020, 19888},
	ProcNodeManager:       {8040, 8041, 8042},
	ProcResourceManager:   {8030, 8031, 8032, 8033, 8088},
	ProcStandbyRM:         {8030, 8031, 8032, 8033, 8088},
	ProcZooKeeper:         {2181, 3181, 4181, 9010},
}

// OpenPorts implements sahara.PortOpener: the agent port, then each
// process's ports in the node group's order.
func (p *Plugin) OpenPorts(_ *sahara.Cluster, ng *sahara.NodeGroup) []int {
	out := []int{cmAgentPort}
	for _, proc := range ng.NodeProcesses {
		out = append(out, processPorts[proc]...)
	}
	return out
}
