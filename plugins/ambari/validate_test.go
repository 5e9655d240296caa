package ambari

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func plainCluster(general map[string]any) *sahara.Cluster {
	c := &sahara.Cluster{}
	c.Name, c.PluginName, c.PluginVersion = "c1", Name, V26
	c.ClusterConfigs = sahara.Configs{sahara.TargetGeneral: general}
	c.AddNodeGroup(sahara.NodeGroupSpec{Name: "master", Count: 1, NodeProcesses: []string{ProcAmbari, ProcNameNode, ProcSecondaryNameNode, ProcResourceManager, ProcHistoryServer, ProcTimelineServer, ProcZooKeeper}})
	c.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", Count: 2, NodeProcesses: []string{ProcDataNode, ProcNodeManager}})
	return c
}

func TestValidate_RepositoriesRequired(t *testing.T) {
	ok := map[string]any{CfgHDPRepo: "http://mirror/hdp", CfgHDPUtilsRepo: "https://mirror/hdp-utils"}
	for _, tc := range []struct {
		name    string
		general map[string]any
		want    string // "" for ok; else a piece of the message
	}{
		{"both set", ok, ""},
		{"none", map[string]any{}, `needs cluster config general "HDP repo URL"`},
		{"utils missing", map[string]any{CfgHDPRepo: "http://mirror/hdp"}, `"HDP-UTILS repo URL"`},
		{"blank", map[string]any{CfgHDPRepo: "  ", CfgHDPUtilsRepo: "http://x/y"}, `"HDP repo URL"`},
		{"not a URL", map[string]any{CfgHDPRepo: "mirror/hdp", CfgHDPUtilsRepo: "http://x/y"}, "want an http, https or file URL"},
		{"HA string false", map[string]any{CfgHDPRepo: "http://a/b", CfgHDPUtilsRepo: "http://x/y", CfgNameNodeHA: "false"}, ""},
		{"HA not a bool", map[string]any{CfgHDPRepo: "http://a/b", CfgHDPUtilsRepo: "http://x/y", CfgNameNodeHA: "maybe"}, `"maybe" is not a boolean`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := New(Options{}).Validate(context.Background(), plainCluster(tc.general))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			if !errors.Is(err, sahara.ErrValidation) {
				t.Errorf("error %v is not a validation error", err)
			}
		})
	}
}

func TestValidate_SaharaRulesComeFirst(t *testing.T) {
	c := plainCluster(map[string]any{})
	c.NodeGroups[1].Count = 0
	err := New(Options{}).Validate(context.Background(), c)
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "InvalidComponentCountException" {
		t.Fatalf("Validate = %v, want Sahara's DataNode count error before the repository rule", err)
	}
}

func TestConfigType(t *testing.T) {
	s, err := stackOf(V26)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, name, want string }{
		{SvcHDFS, "dfs.replication", "hdfs-site"},
		{SvcHDFS, "fs.defaultFS", "core-site"},
		{SvcYARN, "yarn.nodemanager.resource.memory-mb", "yarn-site"},
		{"accumulo-site", "instance.volumes", "accumulo-site"},
		{SvcHDFS, "no.such.property", ""},
	} {
		if got := s.configType(tc.target, tc.name); got != tc.want {
			t.Errorf("configType(%q, %q) = %q, want %q", tc.target, tc.name, got, tc.want)
		}
	}
}
