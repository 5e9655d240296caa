package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestPluginDataSource_DescribesFakePlugin(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "data.saharagen_plugin.fake"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`data "saharagen_plugin" "fake" { name = "fake" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact("0.1")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("versions"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("0.1")})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_processes").AtMapKey("HDFS"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("namenode"), knownvalue.StringExact("datanode")})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_image_tags"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("fake"), knownvalue.StringExact("0.1")})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("supports_scaling"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("supports_convert"), knownvalue.Bool(true)),
				// Common configs first, then the plugin's; dfs.replication is the 6th.
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("configs").AtSliceIndex(5), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"name": knownvalue.StringExact("dfs.replication"), "type": knownvalue.StringExact("int"), "default": knownvalue.StringExact("1"),
					"target": knownvalue.StringExact("HDFS"), "scope": knownvalue.StringExact("cluster"), "priority": knownvalue.Int64Exact(1),
					"is_optional": knownvalue.Bool(true), "values": knownvalue.ListSizeExact(0), "description": knownvalue.NotNull(), "secret": knownvalue.Bool(false),
				})),
			},
		}},
	})
	if cloud.connect != 0 {
		t.Errorf("the data source connected to the cloud %d times, want 0", cloud.connect)
	}
}

func TestPluginDataSource_DescribesSparkPlugin(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "data.saharagen_plugin.spark"
	str := func(xs ...string) knownvalue.Check {
		cs := make([]knownvalue.Check, len(xs))
		for i, x := range xs {
			cs[i] = knownvalue.StringExact(x)
		}
		return knownvalue.ListExact(cs)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`data "saharagen_plugin" "spark" { name = "spark" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact("3.5.3")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("versions"), str("1.6.0", "2.1.0", "2.2", "2.3", "3.5.3")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_processes").AtMapKey("HDFS"), str("namenode", "datanode")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_processes").AtMapKey("Spark"), str("master", "slave")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_image_tags"), str("spark", "3.5.3")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("supports_scaling"), knownvalue.Bool(true)),
			},
		}},
	})
}

func TestPluginDataSource_UnsupportedVersion(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`data "saharagen_plugin" "fake" {
  name    = "fake"
  version = "2.0"
}`),
			ExpectError: msgRE("version", "Requested plugin 'fake' doesn't support version '2.0'"),
		}},
	})
}

func TestProvider_InvalidSSHTimeoutIsRejected(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: `
provider "saharagen" {
  ssh = { connection_timeout = "soon" }
}
data "saharagen_plugin" "fake" { name = "fake" }`,
			ExpectError: msgRE("Invalid Duration", `"soon" is not a positive Go duration`),
		}},
	})
}
