package provider

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Every field the library's validation can name is an attribute of the
// schema the error is reported on, so no error loses its place.
func TestFieldPath_EveryLibraryFieldIsAnAttribute(t *testing.T) {
	ctx := context.Background()
	schemas := map[string]schema.Schema{
		"saharagen_cluster":             clusterSchemaV0(ctx),
		"saharagen_cluster_template":    clusterTemplateSchemaV0(),
		"saharagen_node_group_template": nodeGroupTemplateSchemaV0(),
	}
	has := func(kind string, f sahara.Field) bool {
		_, d := schemas[kind].AttributeAtPath(ctx, fieldPath(f))
		return !d.HasError()
	}
	jsonNames := func(v any) map[string]bool {
		out := map[string]bool{}
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			if n, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); n != "" {
				out[n] = true
			}
		}
		return out
	}
	if has("saharagen_node_group_template", sahara.Field{Attribute: "count"}) {
		t.Fatal("the schema lookup finds an attribute that does not exist")
	}
	// Fields of the model that no configuration sets, so no error names them.
	notSettable := map[string]bool{"anti_affinity_ratio": true, "domain_name": true, "secret_config_keys": true}
	groupField, clusterField := jsonNames(sahara.NodeGroupSpec{}), jsonNames(sahara.ClusterSpec{})
	for _, a := range sahara.FieldAttributes() {
		switch {
		case notSettable[a]:
			if has("saharagen_cluster", sahara.Field{Attribute: a}) {
				t.Errorf("saharagen_cluster: %q is an attribute now: drop it from notSettable", a)
			}
		case a == "auto_security_group_cidrs": // a cluster's own: templates do not carry it
			if !has("saharagen_cluster", sahara.Field{NodeGroup: "w", Attribute: a}) {
				t.Errorf("saharagen_cluster: node group field %q has no attribute", a)
			}
		case groupField[a]:
			for _, kind := range []string{"saharagen_cluster", "saharagen_cluster_template"} {
				if a != "name" && !has(kind, sahara.Field{NodeGroup: "w", Attribute: a}) {
					t.Errorf("%s: node group field %q has no attribute node_groups[\"w\"].%s", kind, a, a)
				}
			}
			if a != "count" && a != "node_group_template_id" && !has("saharagen_node_group_template", sahara.Field{Attribute: a}) {
				t.Errorf("saharagen_node_group_template: field %q has no attribute", a)
			}
		case clusterField[a]:
			if !has("saharagen_cluster", sahara.Field{Attribute: a}) {
				t.Errorf("saharagen_cluster: field %q has no attribute", a)
			}
		case a == sahara.FieldInstancesToRemove:
			if !has("saharagen_cluster", sahara.Field{NodeGroup: "w", Attribute: a}) {
				t.Errorf("saharagen_cluster: node group field %q has no attribute", a)
			}
		default: // the layout, or a template's document
			if !has("saharagen_cluster_template", sahara.Field{Attribute: a}) {
				t.Errorf("saharagen_cluster_template: field %q has no attribute", a)
			}
		}
	}
}

// A vanilla property the plugin accepts without listing it passes at plan in
// a node group template and in an inline group of a cluster template alike.
func TestValidation_PlanAcceptsConfigsThePluginAccepts(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`
resource "saharagen_node_group_template" "w" {
  name           = "w"
  plugin_name    = "vanilla"
  plugin_version = "2.7.1"
  flavor_id      = "m1"
  node_processes = ["datanode", "nodemanager"]
  node_configs   = { MapReduce = { "mapreduce.job.queuename" = "etl" } }
}
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "vanilla"
  plugin_version = "2.7.1"
  node_groups = {
    w = { flavor_id = "m1", node_processes = ["datanode"], count = 3,
          node_configs = { MapReduce = { "mapreduce.job.queuename" = "etl" } } }
  }
}`),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// Three mistakes in one configuration take one plan, not three.
func TestValidation_PlanReportsEveryMistakeAtOnce(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: ngtConfig("w", "m1", `["datanode", "jobtracker"]`, `
  node_configs     = { HDFS = { "dfs.replication" = "two" } }
  volumes_per_node = 2`),
			PlanOnly: true,
			ExpectError: allOf(`node_configs\s+= [^\n]*\n\s*\nConfig 'dfs\.replication'[^\n]*\n?[^\n]*"two" is not an integer`,
				`node_processes = [^\n]*\n\s*\nPlugin doesn't support the following node processes: \['jobtracker'\]`,
				`You must specify a volumes_size parameter`),
		}},
	})
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "fake"
  plugin_version = "0.1"
  anti_affinity  = ["regionserver"]
  node_groups = {
    a = { flavor_id = "f", node_processes = ["namenode", "oozie"], count = 1 }
    b = { node_processes = ["datanode"], count = 1 }
    c = { flavor_id = "f", node_processes = ["datanode"], count = 1, node_configs = { Pig = { x = "1" } } }
  }
}`),
			PlanOnly: true,
			ExpectError: allOf(`following node processes: \['oozie'\]\s+Attribute:\s+node_groups\["a"\]\.node_processes`,
				`'flavor_id' is a required property\s+Attribute:\s+node_groups\["b"\]\.flavor_id`,
				`applicable target 'Pig'\s+Attribute:\s+node_groups\["c"\]\.node_configs`,
				`anti_affinity\s+= [^\n]*\n\s*\nPlugin doesn't support the following node processes: \['regionserver'\]`),
		}},
	})
}

// allOf matches output that contains every pattern, in any order (Terraform
// orders diagnostics by their place in the configuration).
func allOf(patterns ...string) *regexp.Regexp {
	var alts []string
	var permute func(done []string, rest []string)
	permute = func(done, rest []string) {
		if len(rest) == 0 {
			alts = append(alts, strings.Join(done, ".*"))
			return
		}
		for i := range rest {
			next := append(append([]string{}, rest[:i]...), rest[i+1:]...)
			permute(append(append([]string{}, done...), "(?:"+rest[i]+")"), next)
		}
	}
	permute(nil, patterns)
	return regexp.MustCompile(`(?s)(?:` + strings.Join(alts, "|") + `)`)
}
