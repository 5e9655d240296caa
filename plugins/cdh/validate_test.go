package cdh

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func minimalCluster(configs sahara.Configs) *sahara.Cluster {
	c := &sahara.Cluster{ID: "c1"}
	c.Name, c.PluginName, c.PluginVersion, c.ClusterConfigs = "c1", Name, V5130, configs
	for _, g := range []sahara.NodeGroupSpec{
		{Name: "manager", Count: 1, NodeProcesses: []string{ProcManager}},
		{Name: "master", Count: 1, NodeProcesses: []string{ProcNameNode, ProcSecondaryNameNode}},
		{Name: "worker", Count: 3, NodeProcesses: []string{ProcDataNode}},
	} {
		c.AddNodeGroup(g)
	}
	return c
}

func TestValidateRefusesUnconfirmedRepositories(t *testing.T) {
	p := New(Options{})
	err := p.Validate(context.Background(), minimalCluster(nil))
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "InvalidDataException" || !strings.Contains(se.Message, `"CM5 repo list URL" is not set`) {
		t.Fatalf("Validate without repositories = %v, want the CM5 repo list URL refusal", err)
	}
	cfg := sahara.Configs{sahara.TargetGeneral: {CfgCMRepoURL: "http://m/cm.list"}}
	if err := p.Validate(context.Background(), minimalCluster(cfg)); err == nil || !strings.Contains(err.Error(), `"CDH5 repo list URL" is not set`) {
		t.Fatalf("Validate without the CDH repository = %v, want its refusal", err)
	}
	cfg.Set(sahara.TargetGeneral, CfgCDHRepoURL, "http://m/cdh.list'; reboot")
	if err := p.Validate(context.Background(), minimalCluster(cfg)); err == nil || !strings.Contains(err.Error(), "must be an http(s) URL") {
		t.Fatalf("Validate with a quoted URL = %v, want a refusal", err)
	}
	cfg.Set(sahara.TargetGeneral, CfgCDHRepoURL, "https://m/cdh.list")
	if err := p.Validate(context.Background(), minimalCluster(cfg)); err != nil {
		t.Fatalf("Validate with both repositories: %v", err)
	}
}

func TestValidateRefusesNonNumericReplication(t *testing.T) {
	cfg := sahara.Configs{sahara.TargetGeneral: {CfgCMRepoURL: "http://m/cm.list", CfgCDHRepoURL: "http://m/cdh.list"}, svcHDFS: {cfgReplication: "three"}}
	err := New(Options{}).Validate(context.Background(), minimalCluster(cfg))
	if err == nil || !strings.Contains(err.Error(), `HDFS config "dfs_replication" is three`) {
		t.Fatalf("Validate = %v, want the non-numeric refusal", err)
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{10: "10.0", 0.5: "0.5", 9.313225746154785: "9.313225746154785", 1e-5: "1e-05"} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %q, want %q", f, got, want)
		}
	}
}
