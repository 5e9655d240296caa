package provider

import (
	"context"
	"fmt"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A node group made from a node group template takes what the
// configuration leaves to the template. When that template changes later,
// the group is rolled onto it: the plan shows the new values and the
// instances to replace, as for a change written in the cluster itself.

// templateRolls returns, per existing group whose template now differs
// from what the group was made with, the group's fields planned with the
// template's new values and the changes in words. base holds the groups as
// planned so far (config merged over the prior state); rec is the record.
func templateRolls(ctx context.Context, st sahara.Store, rec *sahara.Cluster, cfgGroups, base map[string]clusterNodeGroupModel, diags *diagsT) (map[string]nodeGroupFields, map[string][]string) {
	fields, changes := map[string]nodeGroupFields{}, map[string][]string{}
	ngts := map[string]*sahara.NodeGroupTemplate{}
	for _, name := range sortedNames(base) {
		cfg, inCfg := cfgGroups[name]
		g, ng := base[name], rec.NodeGroup(name)
		if !inCfg || ng == nil || g.NodeGroupTemplateID.IsNull() || g.NodeGroupTemplateID.IsUnknown() {
			continue
		}
		id := g.NodeGroupTemplateID.ValueString()
		ngt, ok := ngts[id]
		if !ok {
			ngt = &sahara.NodeGroupTemplate{}
			var d diagsT
			if !storeGet(ctx, st, sahara.KindNodeGroupTemplate, id, ngt, &d) {
				diags.Append(d...) // a store error; a missing template is reported where the group is resolved
				continue
			}
			ngts[id] = ngt
		}
		f, ch := templateChanges(ctx, cfg, g.nodeGroupFields, ngt, ng, diags)
		if len(ch) > 0 {
			fields[name], changes[name] = f, ch
		}
	}
	return fields, changes
}

// templateChanges compares a template with a group made from it: each field
// the configuration leaves to the template against the group's planned
// value, and each node config the template sets (and the configuration
// does not) against the record's, where the plugin's recommendations sit
// beside them.
func templateChanges(ctx context.Context, cfg clusterNodeGroupModel, planned nodeGroupFields, ngt *sahara.NodeGroupTemplate, ng *sahara.NodeGroup, diags *diagsT) (nodeGroupFields, []string) {
	tmpl := nodeGroupFieldsFrom(ngt.NodeGroupSpec)
	tv, cv := fieldValues(&tmpl), fieldValues(&cfg.nodeGroupFields)
	out := planned
	ov := reflect.ValueOf(&out).Elem()
	var changes []string
	for i, name := range nodeGroupFieldNames {
		if name == "node_configs" || !cv[name].IsNull() || tv[name].IsNull() {
			continue
		}
		cur := ov.Field(i).Interface().(attr.Value)
		if cur.IsUnknown() || cur.Equal(tv[name]) {
			continue
		}
		changes = append(changes, fmt.Sprintf("%s %s → %s (template %s)", name, cur, tv[name], ngt.ID))
		ov.Field(i).Set(reflect.ValueOf(tv[name]))
	}
	own := configsFrom(ctx, cfg.NodeConfigs, diags)
	// Left to the template, the state holds the configs merged at create:
	// the template's new values go into that merge, or they would override
	// the template's at apply.
	merged := configsFrom(ctx, out.NodeConfigs, diags)
	overlay := cfg.NodeConfigs.IsNull() && !out.NodeConfigs.IsNull() && !out.NodeConfigs.IsUnknown()
	for _, target := range sortedNames(ngt.NodeConfigs) {
		for _, key := range sortedNames(ngt.NodeConfigs[target]) {
			want := ngt.NodeConfigs[target][key]
			if _, set := own.Get(target, key); set || want == nil {
				continue
			}
			have, ok := ng.NodeConfigs.Get(target, key)
			if ok && fmt.Sprint(have) == fmt.Sprint(want) {
				continue
			}
			was := "unset"
			if ok {
				was = fmt.Sprint(have)
			}
			changes = append(changes, fmt.Sprintf("node_configs[%q][%q] %s → %v (template %s)", target, key, was, want, ngt.ID))
			if overlay {
				if merged[target] == nil {
					merged[target] = map[string]any{}
				}
				merged[target][key] = want
			}
		}
	}
	if overlay {
		out.NodeConfigs = configsValue(merged)
	}
	return out, changes
}
