package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// The Ambari and Cloudera Manager plugins at plan, through the Terraform
// CLI on the testbed: an image registered with both plugins' tags (queued,
// never booted), an invalid HDP and an invalid CDH layout refused with
// Sahara's message at the attribute, a layout without the repositories the
// user must name refused, and the valid layouts planned.
func TestAccCluster_AmbariAndCDHPlanTimeValidation(t *testing.T) {
	env := accEnv(t)
	name := fmt.Sprintf("accmg%d", time.Now().Unix()%100000)
	img, _ := queuedImage(t, env, name)
	register := fmt.Sprintf(`
provider "saharagen" {}

resource "saharagen_image" "mgmt" {
  image_id = %q
  username = %q
  tags     = ["ambari", "2.6", "cdh", "5.13.0"]
}
`, img.ID, env.ImageUser)
	cluster := func(plugin, version, configs string, groups ...string) string {
		var ng strings.Builder
		for i, g := range groups {
			procs, count, _ := strings.Cut(g, "*")
			fmt.Fprintf(&ng, "    g%d = { flavor_id = %q, node_processes = [%s], count = %s }\n", i, env.FlavorID, procs, count)
		}
		return register + fmt.Sprintf(`
resource "saharagen_cluster" "c" {
  name                       = %q
  plugin_name                = %q
  plugin_version             = %q
  default_image_id           = saharagen_image.mgmt.image_id
  neutron_management_network = %q
  cluster_configs            = %s
  node_groups = {
%s  }
}
`, name, plugin, version, env.NetworkID, configs, ng.String())
	}
	hdpRepos := `{ general = { "HDP repo URL" = "http://mirror.example.org/hdp", "HDP-UTILS repo URL" = "http://mirror.example.org/hdp-utils" } }`
	hdp := []string{
		`"Ambari", "NameNode", "ResourceManager", "MapReduce History Server", "YARN Timeline Server", "ZooKeeper"*1`,
		`"SecondaryNameNode"*1`, `"DataNode", "NodeManager"*3`,
	}
	cdhRepos := `{ general = { "CM5 repo list URL" = "http://mirror.example.org/cm5.list", "CDH5 repo list URL" = "http://mirror.example.org/cdh5.list" } }`
	cdh := []string{`"CLOUDERA_MANAGER"*1`, `"HDFS_NAMENODE"*1`, `"HDFS_SECONDARYNAMENODE"*1`, `"HDFS_DATANODE"*3`}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{Config: register}, // tagged before anything refers to it
			{Config: cluster("ambari", "2.6", hdpRepos, hdp[1:]...), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_cluster.c,.*node_groups`, "Hadoop cluster should contain 1 Ambari component(s). Actual Ambari count is 0")},
			{Config: cluster("ambari", "2.6", "null", hdp...), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_cluster.c,.*cluster_configs`, `The Ambari plugin needs cluster config general "HDP repo URL"`)},
			{Config: cluster("ambari", "2.6", hdpRepos, hdp...), PlanOnly: true, ExpectNonEmptyPlan: true},
			{Config: cluster("cdh", "5.13.0", cdhRepos, cdh[1:]...), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_cluster.c,.*node_groups`, "Hadoop cluster should contain 1 CLOUDERA_MANAGER component(s). Actual CLOUDERA_MANAGER count is 0")},
			{Config: cluster("cdh", "5.13.0", "null", cdh...), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_cluster.c,.*cluster_configs`, `general config "CM5 repo list URL" is not set`)},
			{Config: cluster("cdh", "5.13.0", cdhRepos, cdh...), PlanOnly: true, ExpectNonEmptyPlan: true},
		},
		CheckDestroy: func(*terraform.State) error {
			accRecordsOf(env).assertEmpty(t)
			return nil
		},
	})
}
