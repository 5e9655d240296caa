package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Conversion of the cluster's configuration into library requests: the
// merged spec a create starts from, and the scale request of an update.

// resolveSpec builds the merged cluster spec: cluster template first, then
// the cluster's values, node groups resolved with their node group templates.
// st may be nil when nothing references a template.
func (r *clusterResource) resolveSpec(ctx context.Context, st sahara.Store, m *clusterModel) (sahara.ClusterSpec, diagsT) {
	var diags diagsT
	req := sahara.ClusterSpec{
		Name:                     m.Name.ValueString(),
		Description:              m.Description.ValueString(),
		PluginName:               m.PluginName.ValueString(),
		PluginVersion:            m.PluginVersion.ValueString(),
		ClusterTemplateID:        m.ClusterTemplateID.ValueString(),
		DefaultImageID:           m.DefaultImageID.ValueString(),
		NeutronManagementNetwork: m.NeutronManagementNetwork.ValueString(),
		UserKeypairID:            m.UserKeypairID.ValueString(),
		AntiAffinity:             stringList(ctx, m.AntiAffinity, &diags),
		ClusterConfigs:           configsFrom(ctx, m.ClusterConfigs, &diags),
		IsPublic:                 m.IsPublic.ValueBool(),
		IsProtected:              m.IsProtected.ValueBool(),
	}
	groups := map[string]clusterNodeGroupModel{}
	if !m.NodeGroups.IsNull() && !m.NodeGroups.IsUnknown() {
		diags.Append(m.NodeGroups.ElementsAs(ctx, &groups, false)...)
		for _, name := range sortedNames(groups) {
			g := groups[name]
			spec, d := g.spec(ctx)
			diags.Append(d...)
			spec.Name = name
			spec.Count = int(g.Count.ValueInt64())
			spec.NodeGroupTemplateID = g.NodeGroupTemplateID.ValueString()
			spec.AutoSecurityGroupCIDRs = g.cidrs(ctx, &diags)
			req.NodeGroups = append(req.NodeGroups, spec)
		}
	}
	var tmpl *sahara.ClusterTemplate
	if req.ClusterTemplateID != "" {
		tmpl = &sahara.ClusterTemplate{}
		if !storeGet(ctx, st, sahara.KindClusterTemplate, req.ClusterTemplateID, tmpl, &diags) {
			if !diags.HasError() {
				diags.AddAttributeError(path.Root("cluster_template_id"), "Cluster Template Not Found",
					fmt.Sprintf("Cluster template %s not found in %s. Check the ID, or create it with saharagen_cluster_template.",
						req.ClusterTemplateID, r.data.storeName()))
			}
			return req, diags
		}
		if tmpl.PluginName != req.PluginName || tmpl.PluginVersion != req.PluginVersion {
			diags.AddAttributeError(path.Root("plugin_name"), "Plugin Mismatch",
				fmt.Sprintf("Cluster template %s is for plugin %s %s, but the cluster asks for %s %s; use the template's plugin and version.",
					tmpl.ID, tmpl.PluginName, tmpl.PluginVersion, req.PluginName, req.PluginVersion))
			return req, diags
		}
	}
	spec := sahara.ResolveClusterSpec(tmpl, req)
	ngts := map[string]*sahara.NodeGroupTemplate{}
	for i, ng := range spec.NodeGroups {
		resolved, ok := resolveNodeGroup(ctx, st, ngts, ng, path.Root("node_groups").AtMapKey(ng.Name).AtName("node_group_template_id"), &diags)
		if !ok {
			return spec, diags
		}
		if g, ok := groups[ng.Name]; ok {
			applyExplicit(&resolved, g.nodeGroupFields)
		}
		spec.NodeGroups[i] = resolved
	}
	return spec, diags
}

// resolveNodeGroup merges a node group with the template it references.
func resolveNodeGroup(ctx context.Context, st sahara.Store, cache map[string]*sahara.NodeGroupTemplate, ng sahara.NodeGroupSpec, p path.Path, diags *diagsT) (sahara.NodeGroupSpec, bool) {
	if ng.NodeGroupTemplateID == "" {
		return ng, true
	}
	ngt, ok := cache[ng.NodeGroupTemplateID]
	if !ok {
		ngt = &sahara.NodeGroupTemplate{}
		if st == nil || !storeGet(ctx, st, sahara.KindNodeGroupTemplate, ng.NodeGroupTemplateID, ngt, diags) {
			if !diags.HasError() {
				diags.AddAttributeError(p, "Node Group Template Not Found",
					fmt.Sprintf("Node group template %s (node group %q) not found in the template store. Check the ID, or create it with saharagen_node_group_template.",
						ng.NodeGroupTemplateID, ng.Name))
			}
			return ng, false
		}
		cache[ng.NodeGroupTemplateID] = ngt
	}
	return sahara.ResolveNodeGroup(ngt, ng), true
}

// scaleRequest compares the planned node groups with the cluster record; nil
// when no count changes and no group is added.
func (r *clusterResource) scaleRequest(ctx context.Context, st sahara.Store, c *sahara.Cluster, plan, state *clusterModel) (*sahara.ScaleRequest, diagsT) {
	var diags diagsT
	if plan.NodeGroups.IsNull() || plan.NodeGroups.IsUnknown() {
		return nil, diags
	}
	groups := map[string]clusterNodeGroupModel{}
	diags.Append(plan.NodeGroups.ElementsAs(ctx, &groups, false)...)
	// Names already in the applied instances_to_remove were honoured by an
	// earlier scale-down; any other name must exist (Sahara: "Instance %s not found").
	honoured := map[string]map[string]bool{}
	if state != nil && !state.NodeGroups.IsNull() && !state.NodeGroups.IsUnknown() {
		prior := map[string]clusterNodeGroupModel{}
		diags.Append(state.NodeGroups.ElementsAs(ctx, &prior, false)...)
		for name, g := range prior {
			honoured[name] = map[string]bool{}
			for _, ref := range stringList(ctx, g.InstancesToRemove, &diags) {
				honoured[name][ref] = true
			}
		}
	}
	sr := sahara.ScaleRequest{Resize: map[string]int{}, Remove: map[string][]string{}}
	ngts := map[string]*sahara.NodeGroupTemplate{}
	for _, name := range sortedNames(groups) {
		g := groups[name]
		count := int(g.Count.ValueInt64())
		if ng := c.NodeGroup(name); ng != nil {
			if count == ng.Count {
				continue
			}
			sr.Resize[name] = count
			if count > ng.Count {
				continue
			}
			for _, ref := range stringList(ctx, g.InstancesToRemove, &diags) {
				in := c.Instance(ref)
				if (in == nil || in.NodeGroup() != ng) && honoured[name][ref] {
					continue
				}
				sr.Remove[name] = append(sr.Remove[name], ref)
			}
			continue
		}
		spec, d := g.spec(ctx)
		diags.Append(d...)
		spec.Name, spec.Count = name, count
		spec.NodeGroupTemplateID = g.NodeGroupTemplateID.ValueString()
		spec.AutoSecurityGroupCIDRs = g.cidrs(ctx, &diags)
		spec, ok := resolveNodeGroup(ctx, st, ngts, spec, path.Root("node_groups").AtMapKey(name).AtName("node_group_template_id"), &diags)
		if !ok {
			return nil, diags
		}
		applyExplicit(&spec, g.nodeGroupFields)
		sr.Add = append(sr.Add, spec)
	}
	if len(sr.Resize) == 0 && len(sr.Add) == 0 {
		return nil, diags
	}
	return &sr, diags
}

// cidrs are the group's auto_security_group_cidrs, sorted (nil when unset).
func (g clusterNodeGroupModel) cidrs(ctx context.Context, diags *diagsT) []string {
	if g.AutoSecurityGroupCIDRs.IsNull() || g.AutoSecurityGroupCIDRs.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(g.AutoSecurityGroupCIDRs.ElementsAs(ctx, &out, false)...)
	sort.Strings(out)
	return out
}

// changedCIDRs returns, per group of the record whose planned
// auto_security_group_cidrs differ from the record's, the planned CIDRs.
func changedCIDRs(ctx context.Context, c *sahara.Cluster, plan *clusterModel, diags *diagsT) map[string][]string {
	if plan.NodeGroups.IsNull() || plan.NodeGroups.IsUnknown() {
		return nil
	}
	groups := map[string]clusterNodeGroupModel{}
	diags.Append(plan.NodeGroups.ElementsAs(ctx, &groups, false)...)
	out := map[string][]string{}
	for name, g := range groups {
		if ng := c.NodeGroup(name); ng != nil {
			if want := g.cidrs(ctx, diags); !slices.Equal(want, ng.AutoSecurityGroupCIDRs) {
				out[name] = want
			}
		}
	}
	return out
}

func sortedNames[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// secretConfigsOf returns the secret configs of a configuration:
// secret_configs (write-only) over sensitive_configs.
func secretConfigsOf(ctx context.Context, config *clusterModel, diags *diagsT) sahara.Configs {
	return sahara.MergeConfigs(configsFrom(ctx, config.SensitiveConfigs, diags), configsFrom(ctx, config.SecretConfigs, diags))
}
