package cdh

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// cdhInput is what the CDH cases add to the common case format: the
// cluster's anti_affinity and each node group's volumes.
type cdhInput struct {
	AntiAffinity []string `json:"anti_affinity"`
	NodeGroups   []struct {
		Name           string `json:"name"`
		VolumesPerNode int    `json:"volumes_per_node"`
		VolumesSize    int    `json:"volumes_size"`
	} `json:"node_groups"`
}

// confirmed are the general configs by which a user confirms the package
// repositories (checkDeliverable). Sahara has no such rule, so the cases
// run with them set; TestValidateRefusesUnconfirmedRepositories checks
// the rule itself.
var confirmed = map[string]any{
	CfgCMRepoURL:  "http://mirror.example.org/cm5/cloudera-manager.list",
	CfgCDHRepoURL: "http://mirror.example.org/cdh5/cloudera-cdh5.list",
}

// runCases runs <dir>/cdh/<method>.json as conformance.RunCases does,
// with the CDH fields added to each cluster.
func runCases(t *testing.T, method string, fn func(c *sahara.Cluster, in conformance.Input) error) {
	t.Helper()
	dir := conformance.Dir(t)
	raw, err := os.ReadFile(filepath.Join(dir, Name, method+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			ID    string   `json:"id"`
			Input cdhInput `json:"input"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	extra := map[string]cdhInput{}
	for _, tc := range f.Cases {
		extra[tc.ID] = tc.Input
	}
	var cases conformance.CaseFile
	conformance.ReadJSON(t, dir, filepath.Join(Name, method+".json"), &cases)
	identical := 0
	for _, tc := range cases.Cases {
		c := conformance.BuildCluster(Name, tc.Input)
		x := extra[tc.ID]
		c.AntiAffinity = x.AntiAffinity
		for _, g := range x.NodeGroups {
			ng := c.NodeGroup(g.Name)
			ng.VolumesPerNode, ng.VolumesSize = g.VolumesPerNode, g.VolumesSize
		}
		if c.ClusterConfigs == nil {
			c.ClusterConfigs = sahara.Configs{}
		}
		for k, v := range confirmed {
			if _, set := c.ClusterConfigs.Get(sahara.TargetGeneral, k); !set {
				c.ClusterConfigs.Set(sahara.TargetGeneral, k, v)
			}
		}
		err := fn(c, tc.Input)
		if diff := conformance.Compare(err, tc.Outcome); diff != "" {
			t.Errorf("conformance cdh %s: case %s (%s): %s", method, tc.ID, tc.Description, diff)
			continue
		}
		identical++
		for _, e := range sahara.Errors(sahara.Locate(c, err)) {
			if f := sahara.FieldOf(e); !f.Names(c) {
				t.Errorf("conformance cdh %s: case %s: error %q names no attribute of the request (field %+v)", method, tc.ID, e, f)
			}
		}
	}
	conformance.Report(t, Name, method, identical, len(cases.Cases))
	if identical != len(cases.Cases) {
		t.Errorf("conformance cdh %s: %d/%d identical, want all", method, identical, len(cases.Cases))
	}
}

func TestConformance_Validate(t *testing.T) {
	p := New(Options{})
	runCases(t, "validate", func(c *sahara.Cluster, _ conformance.Input) error {
		return p.Validate(context.Background(), c)
	})
}

func TestConformance_ValidateScaling(t *testing.T) {
	p := New(Options{})
	runCases(t, "validate_scaling", func(c *sahara.Cluster, in conformance.Input) error {
		return p.ValidateScaling(context.Background(), c, in.Existing, in.Additional)
	})
}

func TestConformance_PluginDescription(t *testing.T) { conformance.CheckPlugin(t, New(Options{})) }
