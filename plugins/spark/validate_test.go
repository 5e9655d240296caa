package spark

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// layout is a valid Spark cluster: master (namenode + master) and three
// workers (datanode + slave), with the given cluster configs.
func layout(cfg sahara.Configs) *sahara.Cluster {
	c := &sahara.Cluster{}
	c.Name, c.PluginName, c.PluginVersion = "c1", Name, V23
	c.ClusterConfigs = cfg
	c.AddNodeGroup(sahara.NodeGroupSpec{Name: "master", Count: 1, NodeProcesses: []string{ProcNameNode, ProcMaster}})
	c.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", Count: 3, NodeProcesses: []string{ProcDataNode, ProcSlave}})
	return c
}

func TestValidate_RefusesUndeliverableSparkValues(t *testing.T) {
	p := New(Options{})
	for _, tc := range []struct {
		name, value, want string
	}{
		{CfgMasterPort, "70a7", `Spark config "Master port" is "70a7"`},
		{CfgMasterWebUIPort, "99999", "a port number"},
		{CfgWorkerPort, "$(id)", `a port number or "random"`},
		{CfgWorkerCores, "0", `a positive number or "all"`},
		{CfgWorkerMemory, "4g; rm -rf /", "a size such as 1000m or 2g"},
		{CfgWorkerInstances, "two", "a positive number"},
		{CfgSparkHome, "opt/spark", "an absolute path"},
		{CfgSparkHome, "/opt/sp ark", "an absolute path"},
		{CfgExecutorClasspath, "/a.jar:`id`", "separated by"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c := layout(sahara.Configs{SvcSpark: {tc.name: tc.value}})
			err := p.Validate(context.Background(), c)
			var se *sahara.SaharaError
			if !errors.As(err, &se) || se.Exception != "InvalidDataException" || !strings.Contains(se.Message, tc.want) {
				t.Fatalf("Validate = %v, want InvalidDataException containing %q", err, tc.want)
			}
			if f := sahara.FieldOf(err); f.Attribute != "cluster_configs" {
				t.Errorf("error at %+v, want cluster_configs", f)
			}
		})
	}
}

func TestValidate_AcceptsSparkValuesSparkReads(t *testing.T) {
	p := New(Options{})
	c := layout(sahara.Configs{SvcSpark: {
		CfgMasterPort: "7078", CfgWorkerPort: "7079", CfgWorkerCores: "2", CfgWorkerMemory: "4g",
		CfgWorkerInstances: "2", CfgExecutorClasspath: "/usr/lib/a.jar:/opt/b/*", CfgSparkHome: "/opt/spark-2.3",
	}})
	if err := p.Validate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func TestValidate_NodeConfigErrorNamesTheNodeGroup(t *testing.T) {
	c := layout(nil)
	c.NodeGroup("worker").NodeConfigs = sahara.Configs{SvcSpark: {CfgWorkerMemory: "lots"}}
	err := New(Options{}).Validate(context.Background(), c)
	if f := sahara.FieldOf(err); f.NodeGroup != "worker" || f.Attribute != "node_configs" {
		t.Fatalf("Validate = %v at %+v, want worker's node_configs", err, f)
	}
}

func TestValidate_MountPrefixMustBePlain(t *testing.T) {
	c := layout(nil)
	ng := c.NodeGroup("worker")
	ng.VolumesPerNode, ng.VolumeMountPrefix = 1, "/vol umes"
	err := New(Options{}).Validate(context.Background(), c)
	if f := sahara.FieldOf(err); f.Attribute != "volume_mount_prefix" {
		t.Fatalf("Validate = %v at %+v, want volume_mount_prefix", err, f)
	}
}

func TestOpenPorts_FollowSparkConfigs(t *testing.T) {
	c := layout(sahara.Configs{SvcSpark: {CfgMasterPort: "7078", CfgMasterWebUIPort: "8090", CfgWorkerWebUIPort: "8091"}})
	p := New(Options{})
	if got := p.OpenPorts(c, c.NodeGroup("master")); !slices.Equal(got, []int{8020, 50070, 50470, 7078, 8090}) {
		t.Errorf("master ports %v", got)
	}
	if got := p.OpenPorts(c, c.NodeGroup("worker")); !slices.Equal(got, []int{50010, 1004, 50075, 1006, 50020, 8091}) {
		t.Errorf("worker ports %v", got)
	}
}

func TestRecommendConfigs_ReplicationFollowsDataNodes(t *testing.T) {
	p := New(Options{})
	c := layout(nil)
	c.NodeGroup("worker").Count = 2
	if err := p.RecommendConfigs(context.Background(), c, nil, false); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.ClusterConfigs.Get(SvcHDFS, CfgReplication); v != 2 {
		t.Errorf("dfs.replication = %v, want 2 (two datanodes)", v)
	}
	if err := p.Validate(context.Background(), c); err != nil {
		t.Errorf("Validate after the recommendation: %v", err)
	}
	// A user's value stays; no autoconfig, no recommendation.
	c = layout(sahara.Configs{SvcHDFS: {CfgReplication: "3"}})
	_ = p.RecommendConfigs(context.Background(), c, nil, false)
	if v, _ := c.ClusterConfigs.Get(SvcHDFS, CfgReplication); v != "3" {
		t.Errorf("the user's dfs.replication became %v", v)
	}
	off := false
	c = layout(nil)
	c.UseAutoconfig = &off
	_ = p.RecommendConfigs(context.Background(), c, nil, false)
	if _, set := c.ClusterConfigs.Get(SvcHDFS, CfgReplication); set {
		t.Error("dfs.replication recommended with use_autoconfig = false")
	}
}

// Sahara writes a JSON boolean into a site file as Python's str() does.
func TestSiteFiles_BooleansAsSaharaWritesThem(t *testing.T) {
	c := layout(sahara.Configs{SvcHDFS: {"dfs.permissions": false, "dfs.replication": 3}})
	ng := c.NodeGroup("worker")
	in := ng.NewInstance(0)
	ng.AddInstance(in)
	nn := c.NodeGroup("master").NewInstance(0)
	c.NodeGroup("master").AddInstance(nn)
	files, err := siteFiles(c, in, []string{"/mnt"})
	if err != nil {
		t.Fatal(err)
	}
	if hdfs := string(files[1].data); !strings.Contains(hdfs, "<name>dfs.permissions</name>\n    <value>False</value>") {
		t.Errorf("hdfs-site.xml =\n%s", hdfs)
	}
}

// spark-env.sh follows Sahara's Python comparisons: an option equal to its
// default string is left out, a JSON number equal to it is not.
func TestRenderSpark_OptionsAsSaharaCompares(t *testing.T) {
	c := layout(sahara.Configs{SvcSpark: {CfgMasterPort: "7077", CfgMasterWebUIPort: float64(8080), CfgWorkerCores: "4"}})
	for _, ng := range c.NodeGroups {
		ng.AddInstance(ng.NewInstance(0))
	}
	sp, err := renderSpark(c, c.InstancesWithProcess(ProcSlave))
	if err != nil {
		t.Fatal(err)
	}
	want := "SPARK_MASTER_IP=c1-master-0\nHADOOP_CONF_DIR=/etc/hadoop/conf\nSPARK_MASTER_WEBUI_PORT=8080\nSPARK_WORKER_CORES=4"
	if string(sp.env) != want {
		t.Errorf("spark-env.sh =\n%s\nwant\n%s", sp.env, want)
	}
}
