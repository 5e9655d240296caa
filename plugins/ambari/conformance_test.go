package ambari

import (
	"context"

	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestConformance_PluginDescription(t *testing.T) { conformance.CheckPlugin(t, New(Options{})) }

// confirmed adds the repository URLs that Validate requires of every
// cluster (saharagen's rule, run after Sahara's) unless the case sets them,
// so the cases compare Sahara's rules.
func confirmed(c *sahara.Cluster) {
	if c.ClusterConfigs == nil {
		c.ClusterConfigs = sahara.Configs{}
	}
	for name, url := range map[string]string{CfgHDPRepo: "http://mirror.example.org/hdp", CfgHDPUtilsRepo: "http://mirror.example.org/hdp-utils"} {
		if _, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name); !ok {
			c.ClusterConfigs.Set(sahara.TargetGeneral, name, url)
		}
	}
}

func TestConformance_Validate(t *testing.T) {
	p := New(Options{})
	n, m := conformance.RunCases(t, conformance.Dir(t), Name, "validate", func(c *sahara.Cluster, _ conformance.Input) error {
		confirmed(c)
		return p.Validate(context.Background(), c)
	})
	if n != m {
		t.Errorf("conformance ambari validate: %d/%d identical, want all", n, m)
	}
}

func TestConformance_ValidateScaling(t *testing.T) {
	p := New(Options{})
	n, m := conformance.RunCases(t, conformance.Dir(t), Name, "validate_scaling", func(c *sahara.Cluster, in conformance.Input) error {
		confirmed(c)
		return p.ValidateScaling(context.Background(), c, in.Existing, in.Additional)
	})
	if n != m {
		t.Errorf("conformance ambari validate_scaling: %d/%d identical, want all", n, m)
	}
}
