package fake

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

type group struct {
	name  string
	count int
	procs []string
}

func cluster(groups ...group) *sahara.Cluster {
	c := &sahara.Cluster{ClusterSpec: sahara.ClusterSpec{Name: "demo", PluginName: "fake", PluginVersion: Version}}
	for _, g := range groups {
		ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: g.name, Count: g.count, NodeProcesses: g.procs})
		ng.ImageUsername = "ubuntu"
		for _, i := range ng.FreeIndexes(g.count) {
			ng.AddInstance(ng.NewInstance(i))
		}
	}
	return c
}

func TestPlugin_ConfigureAndStartDoRemoteWorkOnEveryInstance(t *testing.T) {
	ctx := context.Background()
	c := cluster(group{"master", 1, []string{NameNode, ResourceManager}}, group{"worker", 2, []string{DataNode, NodeManager}})
	c.ClusterConfigs = sahara.Configs{"HDFS": {ConfReplication: 2}}
	c.NodeGroup("master").NodeConfigs = sahara.Configs{"HDFS": {ConfHeapSize: 2048}}
	conn := sfake.NewConnector()
	pool, _ := conn.Connect(ctx, c)
	p := New()
	if err := p.ConfigureCluster(ctx, c, pool); err != nil {
		t.Fatal(err)
	}
	if err := p.StartCluster(ctx, c, pool); err != nil {
		t.Fatal(err)
	}
	for _, in := range c.Instances() {
		h := conn.Host(in.InstanceName)
		if b, _ := h.File("/home/ubuntu/" + DataFile); string(b) != "sp@m and pony" {
			t.Errorf("%s: data file %q", in.InstanceName, b)
		}
		if b, _ := h.File("/home/ubuntu/" + MembersFile); string(b) != "demo-worker-0.novalocal\ndemo-worker-1.novalocal\n" {
			t.Errorf("%s: members %q", in.InstanceName, b)
		}
		methods := []string{}
		for _, call := range conn.LogFor(in.InstanceName) {
			methods = append(methods, call.Method)
		}
		want := "ExecuteCommand WriteFileTo AppendToFile ReplaceRemoteString WriteFileTo ReadFileFrom WriteFileTo"
		if got := strings.Join(methods, " "); got != want {
			t.Errorf("%s: calls %s, want %s", in.InstanceName, got, want)
		}
	}
	conf, _ := conn.Host("demo-master-0").File("/home/ubuntu/" + ConfFile)
	if !strings.Contains(string(conf), "HDFS/NameNode Heap Size=2048\n") || !strings.Contains(string(conf), "HDFS/dfs.replication=2\n") {
		t.Errorf("master conf lacks merged configs:\n%s", conf)
	}
	if got := c.Info["HDFS"]["NameNode"]; got != "hdfs://demo-master-0:8020" {
		t.Errorf("info NameNode = %q", got)
	}
	if got := conn.Log()[0].Arg; got != "echo 'Hello, world!'" {
		t.Errorf("greeting command not quoted: %q", got)
	}
}

func TestPlugin_StartFailsWhenDataDiffers(t *testing.T) {
	ctx := context.Background()
	c := cluster(group{"all", 1, []string{NameNode, DataNode}})
	conn := sfake.NewConnector()
	pool, _ := conn.Connect(ctx, c)
	p := New()
	if err := p.ConfigureCluster(ctx, c, pool); err != nil {
		t.Fatal(err)
	}
	conn.Host("demo-all-0").Files["/home/ubuntu/"+DataFile] = []byte("sp@m and eggs")
	err := p.StartCluster(ctx, c, pool)
	if err == nil || !strings.Contains(err.Error(), "demo-all-0") || !strings.Contains(err.Error(), `want "sp@m and pony"`) {
		t.Fatalf("err = %v", err)
	}
	if h := p.CheckHealth(ctx, c, pool); h[0].Status != sahara.HealthRed {
		t.Errorf("health = %+v", h)
	}
}

func TestPlugin_Validate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		groups  []group
		configs sahara.Configs
		exc     string
		msg     string
	}{
		{"ok", []group{{"m", 1, []string{NameNode, ResourceManager}}, {"w", 1, []string{DataNode, NodeManager}}}, nil, "", ""},
		{"no namenode", []group{{"w", 1, []string{DataNode}}}, nil, "InvalidComponentCountException", "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0"},
		{"two namenodes", []group{{"m", 2, []string{NameNode, DataNode}}}, nil, "InvalidComponentCountException", "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 2"},
		{"two rms", []group{{"m", 1, []string{NameNode, DataNode}}, {"r", 2, []string{ResourceManager}}}, nil, "InvalidComponentCountException", "Hadoop cluster should contain 0 or 1 resourcemanager component(s). Actual resourcemanager count is 2"},
		{"nm without rm", []group{{"m", 1, []string{NameNode, DataNode, NodeManager}}}, nil, "RequiredServiceMissingException", "Cluster is missing a service: resourcemanager, required by service: nodemanager"},
		{"replication", []group{{"m", 1, []string{NameNode, DataNode}}}, sahara.Configs{"HDFS": {ConfReplication: "3"}}, "InvalidComponentCountException", "Hadoop cluster should contain 3 datanode component(s). Actual datanode count is 1. Number of datanodes must be not less than dfs.replication."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster(tc.groups...)
			c.ClusterConfigs = tc.configs
			err := New().Validate(context.Background(), c)
			if tc.exc == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *sahara.SaharaError
			if !errors.As(err, &se) || se.Exception != tc.exc || se.Message != tc.msg || !errors.Is(err, sahara.ErrValidation) {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}

func TestPlugin_ValidateScaling(t *testing.T) {
	base := []group{{"master", 1, []string{NameNode, ResourceManager}}, {"worker", 3, []string{DataNode, NodeManager}}}
	for _, tc := range []struct {
		name                 string
		existing, additional map[string]int
		rep                  int
		msg                  string
	}{
		{"grow workers", map[string]int{"worker": 5}, nil, 1, ""},
		{"add group", nil, map[string]int{"extra": 2}, 1, ""},
		{"master", map[string]int{"master": 2}, nil, 1, "Chosen node group master cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode resourcemanager"},
		{"shrink below replicas", map[string]int{"worker": 1}, nil, 3, "Cluster demo cannot be scaled : Fake plugin cannot shrink cluster because it would be not enough nodes for replicas (replication factor is 3)"},
		{"new group counted", map[string]int{"worker": 1}, map[string]int{"extra": 2}, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster(base...)
			c.ClusterConfigs = sahara.Configs{"HDFS": {ConfReplication: tc.rep}}
			for name, n := range tc.additional {
				c.AddNodeGroup(sahara.NodeGroupSpec{Name: name, Count: n, NodeProcesses: []string{DataNode}})
			}
			err := New().ValidateScaling(context.Background(), c, tc.existing, tc.additional)
			if tc.msg == "" && err != nil || tc.msg != "" && (err == nil || err.Error() != tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestPlugin_ConfigsHaveEveryType(t *testing.T) {
	cs, err := New().Configs(Version)
	if err != nil {
		t.Fatal(err)
	}
	types := map[sahara.ConfigType]bool{}
	for _, c := range cs {
		types[c.Type] = true
		if _, err := c.Parse(c.Default); err != nil {
			t.Errorf("default of %s does not parse: %v", c.Name, err)
		}
	}
	if len(types) != 4 {
		t.Errorf("types = %v", types)
	}
	if _, err := New().Configs("9.9"); err == nil {
		t.Error("unknown version accepted")
	}
}

func TestPlugin_ConvertAndPorts(t *testing.T) {
	p := New()
	tmpl, err := p.Convert(context.Background(), []byte(`{"node_groups":[{"name":"w","flavor_id":"1","node_processes":["datanode"],"count":2}]}`), Version, "t1")
	if err != nil || tmpl.Name != "t1" || tmpl.PluginName != "fake" || len(tmpl.NodeGroups) != 1 || tmpl.NodeGroups[0].Count != 2 {
		t.Fatalf("Convert = %+v, %v", tmpl, err)
	}
	if _, err := p.Convert(context.Background(), []byte(`{"bogus":1}`), Version, "t"); !errors.Is(err, sahara.ErrValidation) {
		t.Errorf("bad document: %v", err)
	}
	c := cluster(group{"m", 1, []string{NameNode, DataNode}})
	if got := p.OpenPorts(c, c.NodeGroups[0]); len(got) != 4 || got[0] != 8020 {
		t.Errorf("ports = %v", got)
	}
}
