package sahara

import (
	"reflect"
	"testing"
)

func boolp(b bool) *bool { return &b }

func TestResolveNodeGroup_Table(t *testing.T) {
	ngt := &NodeGroupTemplate{
		ID: "ngt-1", PluginName: "fake", PluginVersion: "0.1",
		NodeGroupSpec: NodeGroupSpec{
			Name: "tmpl-name", FlavorID: "m1.small", ImageID: "img-t", NodeProcesses: []string{"datanode"},
			NodeConfigs:    Configs{"HDFS": {"a": 1, "b": 2}, "YARN": {"y": "t"}},
			VolumesPerNode: 2, VolumesSize: 10, AutoSecurityGroup: true, UseAutoconfig: boolp(true),
			SecurityGroups: []string{"default"},
		},
	}
	for _, tc := range []struct {
		name string
		ngt  *NodeGroupTemplate
		own  NodeGroupSpec
		want NodeGroupSpec
	}{
		{
			name: "no template",
			own:  NodeGroupSpec{Name: "w", FlavorID: "f", Count: 2, NodeProcesses: []string{"datanode"}},
			want: NodeGroupSpec{Name: "w", FlavorID: "f", Count: 2, NodeProcesses: []string{"datanode"}},
		},
		{
			name: "template fills, own name and count",
			ngt:  ngt,
			own:  NodeGroupSpec{Name: "worker", Count: 3, NodeGroupTemplateID: "ngt-1"},
			want: NodeGroupSpec{
				Name: "worker", FlavorID: "m1.small", ImageID: "img-t", NodeProcesses: []string{"datanode"}, Count: 3,
				NodeConfigs:    Configs{"HDFS": {"a": 1, "b": 2}, "YARN": {"y": "t"}},
				VolumesPerNode: 2, VolumesSize: 10, AutoSecurityGroup: true, UseAutoconfig: boolp(true),
				SecurityGroups: []string{"default"}, NodeGroupTemplateID: "ngt-1",
			},
		},
		{
			name: "own fields override, configs merge key by key",
			ngt:  ngt,
			own: NodeGroupSpec{
				Name: "worker", Count: 1, FlavorID: "m1.large", NodeProcesses: []string{"datanode", "nodemanager"},
				NodeConfigs: Configs{"HDFS": {"b": 20, "c": 30}, "general": {"g": true}}, UseAutoconfig: boolp(false),
				VolumesPerNode: 1,
			},
			want: NodeGroupSpec{
				Name: "worker", FlavorID: "m1.large", ImageID: "img-t", NodeProcesses: []string{"datanode", "nodemanager"}, Count: 1,
				NodeConfigs:    Configs{"HDFS": {"a": 1, "b": 20, "c": 30}, "YARN": {"y": "t"}, "general": {"g": true}},
				VolumesPerNode: 1, VolumesSize: 10, AutoSecurityGroup: true, UseAutoconfig: boolp(false),
				SecurityGroups: []string{"default"}, NodeGroupTemplateID: "ngt-1",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ResolveNodeGroup(tc.ngt, tc.own)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	// The result shares nothing with the template.
	got := ResolveNodeGroup(ngt, NodeGroupSpec{Name: "x"})
	got.NodeConfigs["HDFS"]["a"] = 99
	got.NodeProcesses[0] = "changed"
	if ngt.NodeConfigs["HDFS"]["a"] != 1 || ngt.NodeProcesses[0] != "datanode" {
		t.Fatal("ResolveNodeGroup aliased the template")
	}
}

func TestResolveClusterSpec_Table(t *testing.T) {
	tmpl := &ClusterTemplate{
		ID: "ct-1",
		ClusterSpec: ClusterSpec{
			Name: "tmpl", Description: "from template", PluginName: "fake", PluginVersion: "0.1",
			DefaultImageID: "img-t", NeutronManagementNetwork: "net-t", AntiAffinity: []string{"datanode"},
			ClusterConfigs: Configs{"HDFS": {"dfs.replication": 2}, "general": {"Enable XFS": false}},
			IsPublic:       true, IsProtected: true,
			NodeGroups: []NodeGroupSpec{{Name: "master", Count: 1, NodeProcesses: []string{"namenode"}}},
		},
	}
	for _, tc := range []struct {
		name string
		tmpl *ClusterTemplate
		req  ClusterSpec
		want ClusterSpec
	}{
		{
			name: "no template",
			req:  ClusterSpec{Name: "c", PluginName: "fake", PluginVersion: "0.1"},
			want: ClusterSpec{Name: "c", PluginName: "fake", PluginVersion: "0.1"},
		},
		{
			name: "template fills, flags not inherited, node groups kept",
			tmpl: tmpl,
			req:  ClusterSpec{Name: "c", ClusterTemplateID: "ct-1"},
			want: ClusterSpec{
				Name: "c", Description: "from template", PluginName: "fake", PluginVersion: "0.1", ClusterTemplateID: "ct-1",
				DefaultImageID: "img-t", NeutronManagementNetwork: "net-t", AntiAffinity: []string{"datanode"},
				ClusterConfigs: Configs{"HDFS": {"dfs.replication": 2}, "general": {"Enable XFS": false}},
				NodeGroups:     []NodeGroupSpec{{Name: "master", Count: 1, NodeProcesses: []string{"namenode"}}},
			},
		},
		{
			name: "request replaces fields and node group list, configs merge",
			tmpl: tmpl,
			req: ClusterSpec{
				Name: "c", DefaultImageID: "img-r", IsPublic: true,
				ClusterConfigs: Configs{"HDFS": {"dfs.replication": 3, "x": "y"}},
				NodeGroups:     []NodeGroupSpec{{Name: "all", Count: 2, NodeProcesses: []string{"namenode", "datanode"}}},
			},
			want: ClusterSpec{
				Name: "c", Description: "from template", PluginName: "fake", PluginVersion: "0.1", ClusterTemplateID: "ct-1",
				DefaultImageID: "img-r", NeutronManagementNetwork: "net-t", AntiAffinity: []string{"datanode"}, IsPublic: true,
				ClusterConfigs: Configs{"HDFS": {"dfs.replication": 3, "x": "y"}, "general": {"Enable XFS": false}},
				NodeGroups:     []NodeGroupSpec{{Name: "all", Count: 2, NodeProcesses: []string{"namenode", "datanode"}}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ResolveClusterSpec(tc.tmpl, tc.req)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMergeConfigs_Table(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []Configs
		want Configs
	}{
		{"none", nil, Configs{}},
		{"one", []Configs{{"A": {"x": 1}}}, Configs{"A": {"x": 1}}},
		{"later wins per key", []Configs{{"A": {"x": 1, "y": 2}}, {"A": {"y": 3}}}, Configs{"A": {"x": 1, "y": 3}}},
		{"targets union", []Configs{{"A": {"x": 1}}, {"B": {"z": true}}}, Configs{"A": {"x": 1}, "B": {"z": true}}},
		{"nil sets skipped", []Configs{nil, {"A": {"x": "s"}}, nil}, Configs{"A": {"x": "s"}}},
		{"three levels", []Configs{{"A": {"x": 1}}, {"A": {"x": 2}}, {"A": {"x": 3}}}, Configs{"A": {"x": 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MergeConfigs(tc.sets...); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	a := Configs{"A": {"x": 1}}
	m := MergeConfigs(a)
	m["A"]["x"] = 2
	if a["A"]["x"] != 1 {
		t.Fatal("MergeConfigs aliased its input")
	}
}

func TestNodeGroupConfiguration_NodeConfigsBeatClusterConfigs(t *testing.T) {
	c := &Cluster{ClusterSpec: ClusterSpec{ClusterConfigs: Configs{"HDFS": {"dfs.replication": 3, "only-cluster": "c"}}}}
	ng := c.AddNodeGroup(NodeGroupSpec{Name: "w", NodeConfigs: Configs{"HDFS": {"dfs.replication": 1}, "YARN": {"n": 2}}})
	want := Configs{"HDFS": {"dfs.replication": 1, "only-cluster": "c"}, "YARN": {"n": 2}}
	if got := ng.Configuration(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	orphan := &NodeGroup{NodeGroupSpec: NodeGroupSpec{NodeConfigs: Configs{"A": {"x": 1}}}}
	if got := orphan.Configuration(); !reflect.DeepEqual(got, Configs{"A": {"x": 1}}) {
		t.Fatalf("orphan got %v", got)
	}
}

func TestConfigParse_Table(t *testing.T) {
	intC := Config{Name: "n", Type: ConfigInt}
	boolC := Config{Name: "b", Type: ConfigBool}
	enumC := Config{Name: "e", Type: ConfigEnum, Values: []string{"a", "b"}}
	strC := Config{Name: "s", Type: ConfigString}
	for _, tc := range []struct {
		cfg     Config
		in      any
		want    any
		wantErr bool
	}{
		{intC, 2, 2, false}, {intC, 2.0, 2, false}, {intC, "2", 2, false}, {intC, " 7 ", 7, false},
		{intC, 2.5, nil, true}, {intC, "two", nil, true},
		{boolC, true, true, false}, {boolC, "false", false, false}, {boolC, "yes", nil, true},
		{enumC, "a", "a", false}, {enumC, "c", nil, true},
		{strC, 5, "5", false}, {strC, "x y", "x y", false},
	} {
		got, err := tc.cfg.Parse(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("%s.Parse(%#v) = %#v, %v", tc.cfg.Type, tc.in, got, err)
		}
	}
}
