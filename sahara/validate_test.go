package sahara_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/dask"
	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/plugins/vanilla"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// validationRegistry has the plugins the provider registers.
func validationRegistry(t *testing.T) (*sahara.Registry, *sahara.Engine) {
	t.Helper()
	reg, err := sahara.NewRegistry(pfake.New(), vanilla.New(vanilla.Options{}), dask.New(dask.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	return reg, eng
}

// vanillaLayout is a valid vanilla 2.7.1 cluster whose worker group has configs.
func vanillaLayout(workerConfigs sahara.Configs) sahara.ClusterSpec {
	return sahara.ClusterSpec{
		Name: "hadoop", PluginName: "vanilla", PluginVersion: "2.7.1",
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{"namenode", "resourcemanager", "historyserver"}},
			{Name: "worker", FlavorID: "m1", Count: 3, NodeProcesses: []string{"datanode", "nodemanager"}, NodeConfigs: workerConfigs},
		},
	}
}

// checkAll runs the one checker of each kind on the same worker group: as a
// node group template, inside a cluster template and inside a cluster.
func checkAll(t *testing.T, workerConfigs sahara.Configs) map[string]error {
	reg, eng := validationRegistry(t)
	spec := vanillaLayout(workerConfigs)
	return map[string]error{
		"node group template": sahara.ValidateNodeGroupTemplate(reg, sahara.NodeGroupTemplate{
			PluginName: spec.PluginName, PluginVersion: spec.PluginVersion, NodeGroupSpec: spec.NodeGroups[1]}),
		"cluster template": sahara.ValidateClusterTemplate(reg, sahara.ClusterTemplate{ClusterSpec: spec}),
		"cluster":          eng.ValidateSpec(context.Background(), spec),
	}
}

func TestValidate_ConfigAPluginAcceptsPassesEverywhere(t *testing.T) {
	// A MapReduce property vanilla does not list but accepts inline.
	for kind, err := range checkAll(t, sahara.Configs{"MapReduce": {"mapreduce.job.queuename": "etl"}}) {
		if err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

func TestValidate_SameMistakeSameMessageEverywhere(t *testing.T) {
	const want = `Config 'dfs.replication' of applicable target 'HDFS' has an invalid value: "two" is not an integer`
	fields := map[string]sahara.Field{
		"node group template": {Attribute: "node_configs"},
		"cluster template":    {NodeGroup: "worker", Attribute: "node_configs"},
		"cluster":             {NodeGroup: "worker", Attribute: "node_configs"},
	}
	for kind, err := range checkAll(t, sahara.Configs{"HDFS": {"dfs.replication": "two"}}) {
		errs := sahara.Errors(err)
		if len(errs) != 1 || errs[0].Error() != want || !errors.Is(err, sahara.ErrValidation) {
			t.Errorf("%s: errors %q, want one: %s", kind, errs, want)
			continue
		}
		if got := sahara.FieldOf(errs[0]); got != fields[kind] {
			t.Errorf("%s: field %+v, want %+v", kind, got, fields[kind])
		}
	}
}

func TestValidate_ReportsEveryMistakeAtOnce(t *testing.T) {
	reg, eng := validationRegistry(t)
	ngt := sahara.NodeGroupTemplate{PluginName: "vanilla", PluginVersion: "2.7.1", NodeGroupSpec: sahara.NodeGroupSpec{
		FlavorID: "m1", NodeProcesses: []string{"datanode", "jobtracker"}, VolumesPerNode: 2,
		NodeConfigs: sahara.Configs{"Pig": {"x": "1"}},
	}}
	assertFields(t, sahara.ValidateNodeGroupTemplate(reg, ngt),
		sahara.Field{Attribute: "node_configs"}, sahara.Field{Attribute: "node_processes"}, sahara.Field{Attribute: "volumes_size"})

	spec := vanillaLayout(sahara.Configs{"HDFS": {"dfs.replication": "two"}})
	spec.NodeGroups[0].NodeProcesses = append(spec.NodeGroups[0].NodeProcesses, "tasktracker")
	spec.NodeGroups = append(spec.NodeGroups, sahara.NodeGroupSpec{Name: "extra", Count: 1, NodeProcesses: []string{"datanode"}})
	spec.AntiAffinity = []string{"regionserver"}
	assertFields(t, eng.ValidateSpec(context.Background(), spec),
		sahara.Field{NodeGroup: "master", Attribute: "node_processes"},
		sahara.Field{NodeGroup: "worker", Attribute: "node_configs"},
		sahara.Field{NodeGroup: "extra", Attribute: "flavor_id"},
		sahara.Field{Attribute: "anti_affinity"})
}

// assertFields checks that err holds exactly one error per field, in order.
func assertFields(t *testing.T, err error, want ...sahara.Field) {
	t.Helper()
	errs := sahara.Errors(err)
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d: %q", len(errs), len(want), errs)
	}
	for i, e := range errs {
		if got := sahara.FieldOf(e); got != want[i] {
			t.Errorf("error %d %q: field %+v, want %+v", i, e, got, want[i])
		}
	}
}

// Every plugin's own rules name their field: the cases below reach each
// kind of error the plugins raise in validate and validate_scaling.
func TestValidate_PluginErrorsNameTheirField(t *testing.T) {
	_, eng := validationRegistry(t)
	daskLayout := func() sahara.ClusterSpec {
		return sahara.ClusterSpec{Name: "d", PluginName: "dask", PluginVersion: "2022.12.1", NodeGroups: []sahara.NodeGroupSpec{
			{Name: "sched", FlavorID: "m1", Count: 1, NodeProcesses: []string{"scheduler"}},
			{Name: "workers", FlavorID: "m1", Count: 2, NodeProcesses: []string{"worker"}},
		}}
	}
	fakeLayout := func() sahara.ClusterSpec {
		return sahara.ClusterSpec{Name: "f", PluginName: "fake", PluginVersion: "0.1", NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{"namenode"}},
			{Name: "worker", FlavorID: "m1", Count: 2, NodeProcesses: []string{"datanode"}},
		}}
	}
	for _, tc := range []struct {
		name string
		spec func() sahara.ClusterSpec
		mod  func(*sahara.ClusterSpec)
		want sahara.Field
	}{
		{"vanilla namenode twice in a group", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.NodeGroups[0].Count = 2 }, sahara.Field{NodeGroup: "master", Attribute: "count"}},
		{"vanilla namenode in no group", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.NodeGroups[0].NodeProcesses = []string{"resourcemanager"} }, sahara.Field{Attribute: "node_groups"}},
		{"vanilla nodemanager without resourcemanager", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.NodeGroups[0].NodeProcesses = []string{"namenode"} }, sahara.Field{Attribute: "node_groups"}},
		{"vanilla replication from cluster configs", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.ClusterConfigs = sahara.Configs{"HDFS": {"dfs.replication": 5}} }, sahara.Field{NodeGroup: "worker", Attribute: "count"}},
		{"vanilla mount prefix", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) {
				s.NodeGroups[1].VolumesPerNode, s.NodeGroups[1].VolumesSize, s.NodeGroups[1].VolumeMountPrefix = 1, 10, "/a b"
			}, sahara.Field{NodeGroup: "worker", Attribute: "volume_mount_prefix"}},
		{"vanilla unknown version", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.PluginVersion = "1.2.1" }, sahara.Field{Attribute: "plugin_version"}},
		{"unknown plugin", func() sahara.ClusterSpec { return vanillaLayout(nil) },
			func(s *sahara.ClusterSpec) { s.PluginName = "hdp" }, sahara.Field{Attribute: "plugin_name"}},
		{"dask two schedulers", daskLayout,
			func(s *sahara.ClusterSpec) { s.NodeGroups[0].Count = 2 }, sahara.Field{NodeGroup: "sched", Attribute: "count"}},
		{"dask dashboard without scheduler", daskLayout,
			func(s *sahara.ClusterSpec) {
				s.NodeGroups[1].Count, s.NodeGroups[1].NodeProcesses = 1, []string{"worker", "dashboard"}
			},
			sahara.Field{NodeGroup: "workers", Attribute: "node_processes"}},
		{"dask cluster config", daskLayout,
			func(s *sahara.ClusterSpec) { s.ClusterConfigs = sahara.Configs{"Dask": {"Scheduler port": "8787"}} },
			sahara.Field{Attribute: "cluster_configs"}},
		{"dask node config", daskLayout,
			func(s *sahara.ClusterSpec) {
				s.NodeGroups[1].NodeConfigs = sahara.Configs{"Dask": {"Worker memory limit": "lots"}}
			},
			sahara.Field{NodeGroup: "workers", Attribute: "node_configs"}},
		{"fake replication in a node group", fakeLayout,
			func(s *sahara.ClusterSpec) {
				s.NodeGroups[1].NodeConfigs = sahara.Configs{"HDFS": {"dfs.replication": 3}}
			},
			sahara.Field{NodeGroup: "worker", Attribute: "count"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec()
			tc.mod(&spec)
			err := eng.ValidateSpec(context.Background(), spec)
			if err == nil {
				t.Fatal("no error")
			}
			assertFields(t, err, tc.want)
		})
	}
}

// auto_security_group_cidrs: each must be a CIDR, and they need the group's
// auto security group; they are not a server setting (a change rolls nothing).
func TestValidate_AutoSecurityGroupCIDRs(t *testing.T) {
	_, eng := validationRegistry(t)
	cases := []struct {
		cidrs []string
		auto  bool
		want  string
	}{
		{[]string{"203.0.113.0/24", "2001:db8::/48"}, true, ""},
		{[]string{"203.0.113.7"}, true, `"203.0.113.7" is not a CIDR`},
		{[]string{"10.0.0.0/33\n"}, true, "is not a CIDR"},
		{[]string{"203.0.113.0/24"}, false, "set auto_security_group = true"},
	}
	for _, tc := range cases {
		spec := vanillaLayout(nil)
		spec.NodeGroups[0].AutoSecurityGroup, spec.NodeGroups[0].AutoSecurityGroupCIDRs = tc.auto, tc.cidrs
		err := eng.ValidateSpec(context.Background(), spec)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.cidrs, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v (auto %v): got %v, want %q", tc.cidrs, tc.auto, err, tc.want)
		} else if f := sahara.FieldOf(sahara.Errors(err)[0]); f != (sahara.Field{NodeGroup: "master", Attribute: "auto_security_group_cidrs"}) {
			t.Errorf("%v: error at %+v", tc.cidrs, f)
		}
	}
	a, b := spec0(), spec0()
	b.AutoSecurityGroupCIDRs = []string{"203.0.113.0/24"}
	if a.ServerSettings() != b.ServerSettings() {
		t.Error("auto_security_group_cidrs change the servers' settings: a change would roll the group")
	}
}

func spec0() sahara.NodeGroupSpec { return vanillaLayout(nil).NodeGroups[0] }
