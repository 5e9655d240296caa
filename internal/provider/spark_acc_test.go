package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A Spark cluster made from templates stored on the testbed, checked at
// plan: an image registered with the plugin's tags (a queued Glance image of
// the test's own: the plan never boots it), a layout without the
// master group refused with Sahara's message at the attribute, the full layout
// planned.
func TestAccCluster_SparkPlanTimeValidation(t *testing.T) {
	env := accEnv(t)
	name := fmt.Sprintf("accsp%d", time.Now().Unix()%100000)
	img, _ := queuedImage(t, env, name)
	l := accLayout{
		plugin: "spark", version: "2.3", image: img.ID, network: env.NetworkID, flavor: env.FlavorID, name: name,
		master: []string{"namenode", "master"}, worker: []string{"datanode", "slave"},
		configs: `cluster_configs = { HDFS = { "dfs.replication" = "1" } }`,
	}
	register := fmt.Sprintf(`
resource "saharagen_image" "spark" {
  image_id = %q
  username = %q
  tags     = ["spark", "2.3"]
}
`, img.ID, env.ImageUser)
	full := l.config(1, "") + register
	templates := full[:strings.Index(full, `resource "saharagen_cluster" "c"`)] + register
	noMaster := strings.Replace(full, `master = {
      node_group_template_id = saharagen_node_group_template.master.id
      count                  = 1
    }`, "", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{Config: `provider "saharagen" {}` + register}, // tagged before anything refers to it
			{Config: templates},
			{Config: noMaster, PlanOnly: true, ExpectError: msgRE(`with saharagen_cluster.c,.*node_groups`, "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0")},
			{Config: full, PlanOnly: true, ExpectNonEmptyPlan: true},
		},
		CheckDestroy: func(*terraform.State) error {
			accRecordsOf(env).assertEmpty(t)
			return nil
		},
	})
}
