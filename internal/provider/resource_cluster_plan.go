package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var nodeGroupObjectType = sync.OnceValue(func() types.ObjectType {
	s := clusterSchemaV0(context.Background())
	return s.Attributes["node_groups"].(schema.MapNestedAttribute).NestedObject.Type().(types.ObjectType)
})

var updatePolicyType = sync.OnceValue(func() types.ObjectType {
	return nodeGroupObjectType().AttrTypes["update_policy"].(types.ObjectType)
})

type updatePolicyModel struct {
	MaxSurge       types.Int64 `tfsdk:"max_surge"`
	MaxUnavailable types.Int64 `tfsdk:"max_unavailable"`
}

// rollPolicy is the group's update_policy for the engine; unset values are
// the engine's defaults.
func (g clusterNodeGroupModel) rollPolicy(ctx context.Context, diags *diagsT) sahara.RollPolicy {
	if g.UpdatePolicy.IsNull() || g.UpdatePolicy.IsUnknown() {
		return sahara.RollPolicy{}
	}
	var m updatePolicyModel
	diags.Append(g.UpdatePolicy.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	return sahara.RollPolicy{MaxSurge: int(m.MaxSurge.ValueInt64()), MaxUnavailable: int(m.MaxUnavailable.ValueInt64())}
}

// ModifyPlan plans the node groups by name, decides between scaling in place
// and replacing, shows the instances a scale-down removes, and runs the
// plugin's validate (create) or validate_scaling (count changes) so that
// `terraform plan` fails with the plugin's message on the attribute.
func (r *clusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		// Destroy: a protected cluster is refused at plan time.
		var state clusterModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if state.IsProtected.ValueBool() {
			resp.Diagnostics.AddAttributeError(path.Root("is_protected"), "Protected Cluster", protectedError("Cluster", state.ID.ValueString(), "deleted"))
		}
		return
	}
	if r.data == nil {
		return
	}
	var plan, config clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *clusterModel
	if !req.State.Raw.IsNull() {
		state = &clusterModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		r.loadSecrets(ctx, state, req.Private, &resp.Diagnostics)
	}
	if state == nil && plan.Engine.IsUnknown() && config.Engine.IsNull() {
		plan.Engine = types.StringValue(r.data.settings.Engine) // the provider's, known at plan
	}
	cfgGroups := map[string]clusterNodeGroupModel{}
	if !config.NodeGroups.IsNull() && !config.NodeGroups.IsUnknown() {
		resp.Diagnostics.Append(config.NodeGroups.ElementsAs(ctx, &cfgGroups, false)...)
	}
	stGroups := map[string]clusterNodeGroupModel{}
	if state != nil && !state.NodeGroups.IsNull() {
		resp.Diagnostics.Append(state.NodeGroups.ElementsAs(ctx, &stGroups, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	planned := map[string]clusterNodeGroupModel{}
	rolls := map[string][]string{} // group → its changes, for a rolling replacement
	scaling := false
	var replace []path.Path
	switch {
	case config.NodeGroups.IsUnknown():
		// Known only at apply: nothing to plan per group.
	case config.NodeGroups.IsNull() && state != nil:
		planned = stGroups // the template's groups, unchanged
	case config.NodeGroups.IsNull():
		plan.NodeGroups = types.MapUnknown(nodeGroupObjectType())
	default:
		for name, cfg := range cfgGroups {
			g := cfg
			g.InstancesToBeRemoved = types.ListValueMust(types.StringType, nil)
			prior, exists := stGroups[name]
			if !exists {
				g.nodeGroupFields = mergeFields(cfg.nodeGroupFields, nil)
				g.Instances = types.ListUnknown(instanceType)
				if state != nil {
					scaling = true // a new node group is added in place
				}
				planned[name] = g
				continue
			}
			g.nodeGroupFields = mergeFields(cfg.nodeGroupFields, &prior.nodeGroupFields)
			if cfg.NodeGroupTemplateID.IsUnknown() {
				// The template changes in this plan: what it gives is known at apply.
				g.nodeGroupFields = mergeFields(cfg.nodeGroupFields, nil)
			}
			if cfg.NodeGroupTemplateID.IsNull() {
				g.NodeGroupTemplateID = prior.NodeGroupTemplateID
			}
			if cfg.Count.IsNull() {
				g.Count = prior.Count
			}
			if g.Count.Equal(prior.Count) {
				g.Instances = prior.Instances
				if !prior.InstancesToBeRemoved.IsNull() {
					g.InstancesToBeRemoved = prior.InstancesToBeRemoved
				}
			} else {
				g.Instances = types.ListUnknown(instanceType)
				scaling = true
			}
			// A change to the group's servers rolls the group, never the cluster.
			if changes := groupChanges(cfg, prior); len(changes) > 0 {
				rolls[name] = changes
				g.Instances = types.ListUnknown(instanceType)
			}
			planned[name] = g
		}
		for name := range stGroups {
			if _, ok := cfgGroups[name]; !ok {
				replace = append(replace, path.Root("node_groups").AtMapKey(name))
			}
		}
	}
	if state != nil { // a create's groups are checked whole by validateCreate
		for _, name := range sortedNames(planned) {
			if g := planned[name]; !g.AutoSecurityGroupCIDRs.IsNull() && !g.AutoSecurityGroup.IsUnknown() && !g.AutoSecurityGroup.ValueBool() {
				addAttrError(&resp.Diagnostics, path.Root("node_groups").AtMapKey(name).AtName("auto_security_group_cidrs"), "Invalid Node Group",
					fmt.Sprintf("Node group '%s': auto_security_group_cidrs are rules of the group's auto security group; set auto_security_group = true", name))
			}
		}
	}
	// A destroy that failed or was stopped left the cluster partly deleted:
	// an apply deletes the rest and creates it anew (a destroy finishes it).
	// Nothing else is planned: a cluster being deleted is neither scaled nor
	// repaired.
	if state != nil && sahara.ClusterStatus(state.Status.ValueString()) == sahara.StatusDeleting {
		plan.Status, plan.StatusDescription = types.StringUnknown(), types.StringUnknown()
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
		resp.Diagnostics.AddWarning("Cluster Partly Deleted", fmt.Sprintf(
			"Cluster %q is Deleting: a destroy failed or was stopped. `terraform destroy` deletes what is left; "+
				"an apply deletes what is left and creates the cluster again.", state.Name.ValueString()))
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	// A scale whose run was stopped left the cluster in one of scale's
	// statuses (state exists only once a create finished): the apply rolls
	// it back first, so the plan is never empty and its instances are known
	// only then.
	leftover := state != nil && sahara.ClusterStatus(state.Status.ValueString()).WrittenByScale()
	if state != nil && (leftover || scaling || len(rolls) > 0) && r.busy(ctx, state, &resp.Diagnostics) {
		return
	}
	if leftover {
		plan.Status, plan.StatusDescription = types.StringUnknown(), types.StringUnknown()
		plan.LastOperation = types.ObjectUnknown(lastOperationType.AttrTypes)
		for name, g := range planned {
			g.Instances = types.ListUnknown(instanceType)
			planned[name] = g
		}
		resp.Diagnostics.AddWarning("Cluster Left By An Interrupted Scale", fmt.Sprintf(
			"Cluster %q is in %s: a scale was stopped before it finished. This apply rolls that scale back (it deletes the "+
				"instances the scale added; the running ones stay) and then applies the configuration; the state shows the "+
				"counts of running instances.", state.Name.ValueString(), state.Status.ValueString()))
	}
	rec := &recordReader{r: r, state: state}
	if state != nil && !leftover && len(replace) == 0 {
		r.planRepair(ctx, state, rec, planned, &resp.Diagnostics)
	}
	if state != nil && !leftover && len(replace) == 0 {
		r.planRoll(ctx, rec, cfgGroups, stGroups, planned, rolls, &resp.Diagnostics)
	}
	if len(planned) > 0 {
		mv, d := types.MapValueFrom(ctx, nodeGroupObjectType(), planned)
		resp.Diagnostics.Append(d...)
		plan.NodeGroups = mv
	}
	// An update that changes instances (scale, roll, repair) runs the
	// engine: its status, description and the plugin's info are known after.
	if state != nil && changesInstances(plan.NodeGroups, planned) {
		plan.Status, plan.StatusDescription = types.StringUnknown(), types.StringUnknown()
		plan.Info = types.MapUnknown(types.MapType{ElemType: types.StringType})
		plan.LastOperation = types.ObjectUnknown(lastOperationType.AttrTypes)
	}
	if state != nil && len(replace) > 0 {
		resp.RequiresReplace = append(resp.RequiresReplace, replace...)
	}

	switch {
	case state == nil:
		// What the groups resolve to is what the apply stores: the plan shows it.
		if spec := r.validateCreate(ctx, &plan, &config, &resp.Diagnostics); spec != nil && len(planned) > 0 {
			for _, ng := range spec.NodeGroups {
				if g, ok := planned[ng.Name]; ok {
					g.nodeGroupFields = fillUnknown(g.nodeGroupFields, nodeGroupFieldsFrom(ng))
					planned[ng.Name] = g
				}
			}
			mv, d := types.MapValueFrom(ctx, nodeGroupObjectType(), planned)
			resp.Diagnostics.Append(d...)
			plan.NodeGroups = mv
		}
	case len(resp.RequiresReplace) == 0 && scaling && !leftover:
		shrinking := map[string]types.List{}
		for name, g := range planned {
			prior, ok := stGroups[name]
			if ok && len(rolls[name]) == 0 && !g.Count.IsUnknown() && g.Count.ValueInt64() < prior.Count.ValueInt64() {
				shrinking[name] = healthyInstances(ctx, prior.Instances)
			}
		}
		r.planScale(ctx, &plan, state, rec, planned, shrinking, &resp.Diagnostics)
	}
	if state != nil && len(resp.RequiresReplace) == 0 && !resp.Diagnostics.HasError() {
		var changed []string
		for name := range planned {
			if _, exists := stGroups[name]; !exists || len(rolls[name]) > 0 {
				changed = append(changed, name)
			}
		}
		r.checkChangedReferences(ctx, &plan, &config, changed, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// changesInstances reports whether a plan leaves some group's instances to
// the apply.
func changesInstances(groups types.Map, planned map[string]clusterNodeGroupModel) bool {
	if groups.IsUnknown() {
		return true
	}
	for _, g := range planned {
		if g.Instances.IsUnknown() {
			return true
		}
	}
	return false
}

// busy refuses at plan a change to a cluster that another run is changing
// (its lease is live): the apply would be refused anyway, and a scale status
// the refresh saw is that run's work, not an interrupted scale's leftover.
func (r *clusterResource) busy(ctx context.Context, state *clusterModel, diags *diagsT) bool {
	b, d := r.data.Backend(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return true
	}
	err := sahara.CheckLease(ctx, b.Store, sahara.KindCluster, state.Name.ValueString(), leaseOptions)
	var held *sahara.LeaseError
	switch {
	case errors.As(err, &held):
		diags.AddError("Cluster Busy", err.Error())
	case err != nil:
		diags.AddError("Template Store Error", fmt.Sprintf("Reading the lease on cluster %q failed.\n\n%v", state.Name.ValueString(), err))
	}
	return err != nil
}

// planRepair plans the repair of instances whose server the refresh found
// gone or in ERROR: their groups' instances become known only after the
// apply, which replaces them through the plugin's scale path under the same
// names; the plugin's validate_scaling runs now, so a group it cannot scale
// is named at plan with its reason (and refused at apply).
func (r *clusterResource) planRepair(ctx context.Context, state *clusterModel, rec *recordReader, planned map[string]clusterNodeGroupModel, diags *diagsT) {
	stGroups := map[string]clusterNodeGroupModel{}
	if state.NodeGroups.IsNull() || state.NodeGroups.IsUnknown() {
		return
	}
	diags.Append(state.NodeGroups.ElementsAs(ctx, &stGroups, false)...)
	var broken []string
	for _, name := range sortedNames(stGroups) {
		var ins []instanceModel
		if l := stGroups[name].Instances; !l.IsNull() && !l.IsUnknown() {
			diags.Append(l.ElementsAs(ctx, &ins, false)...)
		}
		hit := false
		for _, in := range ins {
			if in.broken() {
				broken = append(broken, fmt.Sprintf("%s (%s)", in.Name, in.Status))
				hit = true
			}
		}
		if g, ok := planned[name]; ok && hit {
			g.Instances = types.ListUnknown(instanceType)
			planned[name] = g
		}
	}
	if len(broken) == 0 || diags.HasError() {
		return
	}
	diags.AddAttributeWarning(path.Root("node_groups"), "Instances To Repair", fmt.Sprintf(
		"The servers of %s were deleted or broke outside Terraform. This apply replaces them through the plugin's scale path, "+
			"under the same names; the data they held is gone.", strings.Join(broken, ", ")))
	b, c, ok := rec.get(ctx, diags)
	if !ok {
		return
	}
	eng, err := r.data.Engine(ctx, b.ForCluster(c), map[string]any{"cluster_id": c.ID}, nil)
	if err == nil {
		err = eng.Refresh(ctx, c)
	}
	if err != nil {
		addValidationErrors(diags, "Instances Cannot Be Repaired", err)
		return
	}
	// A warning, not an error: Terraform plans with the configuration before
	// a destroy too, and an error here would block the destroy. The apply
	// refuses it, before it changes anything.
	if err := eng.ValidateRepair(ctx, c); err != nil {
		diags.AddAttributeWarning(path.Root("node_groups"), "Instances Cannot Be Repaired", fmt.Sprintf(
			"%v\n\nThe plugin cannot replace these instances, so an apply of this configuration fails before it changes anything. "+
				"Replace the cluster explicitly (terraform apply -replace) or destroy it; a destroy is not affected.", err))
	}
}

// recordReader reads the record of the cluster in state at most once per
// plan, for the checks that need it (repair, roll, scale); each gets its own
// copy, since checks may change the cluster they are given.
type recordReader struct {
	r     *clusterResource
	state *clusterModel
	b     *Backend
	raw   []byte
	read  bool
}

// get returns a copy of the record; false when it is gone or the store
// failed (diags say which).
func (rr *recordReader) get(ctx context.Context, diags *diagsT) (*Backend, *sahara.Cluster, bool) {
	if !rr.read {
		rr.read = true
		b, d := rr.r.data.Backend(ctx)
		diags.Append(d...)
		if diags.HasError() {
			return nil, nil, false
		}
		var c sahara.Cluster
		if storeGet(ctx, b.Store, sahara.KindCluster, rr.state.ID.ValueString(), &c, diags) {
			raw, err := json.Marshal(&c)
			if err != nil {
				diags.AddError("Cluster Record Error", "The cluster record could not be copied. This is a bug in the provider; please report it.\n\n"+err.Error())
				return nil, nil, false
			}
			rr.b, rr.raw = b, raw
		}
	}
	if rr.raw == nil {
		return nil, nil, false
	}
	var c sahara.Cluster
	if err := json.Unmarshal(rr.raw, &c); err != nil {
		diags.AddError("Cluster Record Error", "The cluster record could not be copied. This is a bug in the provider; please report it.\n\n"+err.Error())
		return nil, nil, false
	}
	c.Link()
	return rr.b, &c, true
}

// groupChanges lists the changes of an existing group's settings that need
// new servers ("flavor_id "m1" → "m2""): the group is rolled.
func groupChanges(cfg, prior clusterNodeGroupModel) []string {
	var out []string
	cv, pv := fieldValues(&cfg.nodeGroupFields), fieldValues(&prior.nodeGroupFields)
	for _, f := range changedFields(cfg.nodeGroupFields, prior.nodeGroupFields) {
		out = append(out, fmt.Sprintf("%s %s → %s", f, pv[f], cv[f]))
	}
	if cfg.NodeGroupTemplateID.IsUnknown() {
		out = append(out, fmt.Sprintf("node group template %s changes in this apply", prior.NodeGroupTemplateID))
	} else if !cfg.NodeGroupTemplateID.IsNull() && !cfg.NodeGroupTemplateID.Equal(prior.NodeGroupTemplateID) {
		out = append(out, fmt.Sprintf("node_group_template_id %s → %s", prior.NodeGroupTemplateID, cfg.NodeGroupTemplateID))
	}
	return out
}

// planRoll shows, per group, the instances a rolling replacement replaces
// and the changes it applies (written in the cluster, or in a node group
// template the group uses), and runs the plugin's validate_scaling: a
// group it cannot scale (a namenode's) cannot be rolled. That refusal is a
// warning, as for a repair (a destroy or -replace plans with the same
// configuration first); the apply refuses before it changes anything.
func (r *clusterResource) planRoll(ctx context.Context, rec *recordReader, cfgGroups, stGroups, planned map[string]clusterNodeGroupModel, rolls map[string][]string, diags *diagsT) {
	b, c, ok := rec.get(ctx, diags)
	if !ok {
		return
	}
	// A template a group was made from changed since.
	fields, changes := templateRolls(ctx, b.Store, c, cfgGroups, planned, diags)
	for name, ch := range changes {
		g := planned[name]
		g.nodeGroupFields, g.Instances = fields[name], types.ListUnknown(instanceType)
		planned[name] = g
		rolls[name] = append(rolls[name], ch...)
	}
	// A roll that stopped left instances on the old settings: it goes on.
	for _, ng := range c.NodeGroups {
		g, ok := planned[ng.Name]
		if old := ng.Outdated(); ok && len(old) > 0 && rolls[ng.Name] == nil {
			rolls[ng.Name] = []string{fmt.Sprintf("a roll that stopped left %d instances on the old settings", len(old))}
			g.Instances = types.ListUnknown(instanceType)
			planned[ng.Name] = g
		}
	}
	if len(rolls) == 0 {
		return
	}
	eng, err := r.data.Engine(ctx, b.ForCluster(c), map[string]any{"cluster_id": c.ID}, nil)
	if err != nil {
		diags.AddError("Engine Error", "The provisioning engine could not be set up. This is a bug in the provider; please report it.\n\n"+err.Error())
		return
	}
	for _, name := range sortedNames(rolls) {
		var ins []instanceModel
		if l := stGroups[name].Instances; !l.IsNull() && !l.IsUnknown() {
			diags.Append(l.ElementsAs(ctx, &ins, false)...)
		}
		names := make([]string, len(ins))
		for i, in := range ins {
			names[i] = in.Name
		}
		p := path.Root("node_groups").AtMapKey(name)
		policy := planned[name].rollPolicy(ctx, diags)
		err := eng.ValidateRoll(ctx, c, name, policy)
		if sahara.FieldOf(err).Attribute == "update_policy" {
			diags.AddAttributeError(p.AtName("update_policy"), "Invalid Update Policy", err.Error())
			continue
		}
		if err != nil {
			diags.AddAttributeWarning(p, "Node Group Cannot Be Rolled", fmt.Sprintf(
				"Node group %s changes (%s), which needs new servers, but the plugin cannot replace its instances: %v\n\n"+
					"An apply of this configuration fails before it changes anything. Replace the whole cluster explicitly "+
					"(terraform apply -replace=<this resource>; its data is lost) or keep the group as it is.",
				name, strings.Join(rolls[name], ", "), err))
			continue
		}
		diags.AddAttributeWarning(p, "Rolling Replacement", fmt.Sprintf(
			"Node group %s changes (%s): its instances %s are replaced %s through the plugin's scale path "+
				"(old ones are decommissioned, their data moved first), under Sahara's names. The cluster keeps its ID and "+
				"stays Active between batches; other groups are not touched.",
			name, strings.Join(rolls[name], ", "), strings.Join(names, ", "), pace(policy)))
	}
}

// pace says in words how a policy rolls a group.
func pace(p sahara.RollPolicy) string {
	switch {
	case p.MaxSurge <= 0 && p.MaxUnavailable <= 0 || p.MaxSurge == 1 && p.MaxUnavailable <= 0:
		return "one at a time, each new instance added before an old one goes"
	case p.MaxUnavailable <= 0:
		return fmt.Sprintf("%d at a time, new instances added before old ones go", p.MaxSurge)
	case p.MaxSurge <= 0:
		return fmt.Sprintf("%d at a time, old instances retired before their replacements are added", p.MaxUnavailable)
	}
	return fmt.Sprintf("%d at a time (%d old retired first, then %d new added, then the rest retired)",
		p.MaxSurge+p.MaxUnavailable, p.MaxUnavailable, p.MaxSurge+p.MaxUnavailable)
}

// validateCreate runs the engine's ValidateSpec on the planned cluster and
// returns the spec it validated; it skips silently (nil) while something it
// needs is unknown.
func (r *clusterResource) validateCreate(ctx context.Context, plan, config *clusterModel, diags *diagsT) *sahara.ClusterSpec {
	if !allKnown(config.Name, config.PluginName, config.PluginVersion, config.ClusterTemplateID, config.DefaultImageID,
		config.ClusterConfigs, config.SecretConfigs, config.SensitiveConfigs, config.AntiAffinity, config.NodeGroups) || !nodeGroupsKnown(ctx, config.NodeGroups) {
		tflog.Debug(ctx, "Cluster validation deferred to apply: some values are known only then")
		return nil
	}
	spec, ok := r.plannedSpec(ctx, plan, config, diags)
	if !ok {
		return nil
	}
	eng, err := r.data.OfflineEngine(ctx)
	if err == nil {
		err = eng.ValidateSpec(ctx, spec)
	}
	addValidationErrors(diags, "Invalid Cluster", err)
	if err != nil {
		return nil
	}
	checkReferences(ctx, r.data, "Invalid Cluster", func(ctx context.Context, e *sahara.Engine) error { return e.CheckReferences(ctx, spec) }, diags)
	r.warnInterruptedCreate(ctx, spec.Name, diags)
	if diags.HasError() {
		return nil
	}
	return &spec
}

// plannedSpec resolves the planned cluster as the apply will (templates read
// from the store when the configuration references some).
func (r *clusterResource) plannedSpec(ctx context.Context, plan, config *clusterModel, diags *diagsT) (sahara.ClusterSpec, bool) {
	var st sahara.Store
	if needsStore(ctx, config) {
		b, d := r.data.Backend(ctx)
		diags.Append(d...)
		if diags.HasError() {
			return sahara.ClusterSpec{}, false
		}
		st = b.Store
	}
	spec, d := r.resolveSpec(ctx, st, plan)
	diags.Append(d...)
	spec.ApplySecretConfigs(secretConfigsOf(ctx, config, diags))
	return spec, !diags.HasError()
}

// checkChangedReferences checks at plan the flavors, images and pools of the
// node groups an update adds or rolls (the rest were checked at create).
func (r *clusterResource) checkChangedReferences(ctx context.Context, plan, config *clusterModel, groups []string, diags *diagsT) {
	if len(groups) == 0 || !nodeGroupsKnown(ctx, config.NodeGroups) || config.DefaultImageID.IsUnknown() {
		return
	}
	var ignored diagsT // what stops the check here, the apply reports
	spec, ok := r.plannedSpec(ctx, plan, config, &ignored)
	if !ok {
		return
	}
	spec.NeutronManagementNetwork = ""
	spec.NodeGroups = slices.DeleteFunc(spec.NodeGroups, func(ng sahara.NodeGroupSpec) bool { return !slices.Contains(groups, ng.Name) })
	checkReferences(ctx, r.data, "Invalid Cluster", func(ctx context.Context, e *sahara.Engine) error { return e.CheckReferences(ctx, spec) }, diags)
}

// warnInterruptedCreate says at plan what the apply will do about a cluster
// of this name that an interrupted create left. It needs the store; without
// a connection the apply finds it all the same.
func (r *clusterResource) warnInterruptedCreate(ctx context.Context, name string, diags *diagsT) {
	b, d := r.data.Backend(ctx)
	if d.HasError() {
		tflog.Debug(ctx, "No check for a cluster an interrupted run left: the cloud is not reachable at plan")
		return
	}
	var sd diagsT
	found := findByName(ctx, b.Store, sahara.KindCluster, name, "", &sd)
	var old sahara.Cluster
	if found == nil || !storeGet(ctx, b.Store, sahara.KindCluster, found.ID, &old, &sd) || !old.LeftByInterruptedCreate() {
		return
	}
	old.Link()
	diags.AddAttributeWarning(path.Root("name"), "Cluster Left By An Interrupted Run", fmt.Sprintf(
		"Cluster %q (%s) was left in %s with %d instance(s) by a run that was stopped. This apply deletes what that run "+
			"created (every object tagged %s=%s) and creates the cluster again.", old.Name, old.ID, old.Status, len(old.Instances()),
		sahara.TagCluster, old.ID))
}

// planScale shows the victims of a scale-down and runs validate_scaling.
//
// A group that only shrinks keeps its other instances as they are, so the
// plan lists exactly the victims as removed; shrinking holds each such
// group's instances (nil when some are broken: a repair changes them too).
func (r *clusterResource) planScale(ctx context.Context, plan, state *clusterModel, rec *recordReader, planned map[string]clusterNodeGroupModel,
	shrinking map[string]types.List, diags *diagsT) {
	for _, g := range planned {
		if g.Count.IsUnknown() || g.InstancesToRemove.IsUnknown() {
			return // known at apply
		}
	}
	if state.IsProtected.ValueBool() && plan.IsProtected.ValueBool() {
		diags.AddAttributeError(path.Root("is_protected"), "Protected Cluster", protectedError("Cluster", state.ID.ValueString(), "scaled"))
		return
	}
	b, c, ok := rec.get(ctx, diags)
	if !ok {
		return // gone: the refresh already planned a new cluster, or the store failed
	}
	if c.Status != sahara.StatusActive {
		// Only a warning: `terraform destroy` plans normally first to refresh,
		// and an error here would block destroying a cluster left in Error.
		diags.AddAttributeWarning(path.Root("node_groups"), "Cluster Not Active",
			fmt.Sprintf("Cluster %s is in status %q; the engine scales only Active clusters, so this apply will fail. "+
				"Fix or replace the cluster (terraform apply -replace=...) before changing node group counts.", c.ID, c.Status))
		return
	}
	sr, d := r.scaleRequest(ctx, b.Store, c, plan, state)
	diags.Append(d...)
	if diags.HasError() || sr == nil {
		return
	}
	eng, err := r.data.OfflineEngine(ctx)
	if err != nil {
		diags.AddError("Engine Error", err.Error())
		return
	}
	if err := eng.ValidateScaling(ctx, c, *sr); err != nil {
		addValidationErrors(diags, "Invalid Scaling", err)
		return
	}
	sp, err := eng.PlanScale(c, *sr)
	if err != nil {
		addValidationErrors(diags, "Invalid Scaling", err)
		return
	}
	victims := victimNames(sp)
	for name, g := range planned {
		g.InstancesToBeRemoved = listOrEmpty(victims[name])
		if rest, ok := withoutVictims(shrinking[name], victims[name]); ok && int64(len(rest.Elements())) == g.Count.ValueInt64() {
			g.Instances = rest
		}
		planned[name] = g
		if len(victims[name]) > 0 {
			tflog.Info(ctx, fmt.Sprintf("Node group %s: %d instance(s) will be removed", name, len(victims[name])),
				map[string]any{"cluster_id": c.ID, "instances": victims[name]})
		}
	}
	mv, d := types.MapValueFrom(ctx, nodeGroupObjectType(), planned)
	diags.Append(d...)
	plan.NodeGroups = mv
}

// healthyInstances is a group's instance list from state; null when some
// instance is gone or in ERROR (a repair changes it too), or it is unknown.
func healthyInstances(ctx context.Context, l types.List) types.List {
	var ins []instanceModel
	if l.IsNull() || l.IsUnknown() || l.ElementsAs(ctx, &ins, false).HasError() {
		return types.ListNull(instanceType)
	}
	if slices.ContainsFunc(ins, instanceModel.broken) {
		return types.ListNull(instanceType)
	}
	return l
}

// broken: the refresh found the instance's server gone or in ERROR; the
// apply repairs it.
func (in instanceModel) broken() bool {
	return in.Status == sahara.CloudStatusMissing || in.Status == "ERROR"
}

// withoutVictims is the list of the instances that stay, each exactly as in
// state; false when there is nothing to take away.
func withoutVictims(l types.List, victims []string) (types.List, bool) {
	if l.IsNull() || len(victims) == 0 {
		return l, false
	}
	var rest []attr.Value
	for _, v := range l.Elements() {
		o, ok := v.(types.Object)
		if !ok {
			return l, false
		}
		if name, ok := o.Attributes()["name"].(types.String); ok && slices.Contains(victims, name.ValueString()) {
			continue
		}
		rest = append(rest, v)
	}
	out, d := types.ListValue(instanceType, rest)
	return out, !d.HasError()
}

func allKnown(vals ...attr.Value) bool {
	for _, v := range vals {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// nodeGroupsKnown reports whether every configured node group is fully known.
func nodeGroupsKnown(ctx context.Context, m types.Map) bool {
	if m.IsNull() {
		return true
	}
	groups := map[string]clusterNodeGroupModel{}
	if d := m.ElementsAs(ctx, &groups, false); d.HasError() {
		return false
	}
	for _, g := range groups {
		if g.NodeGroupTemplateID.IsUnknown() || g.Count.IsUnknown() {
			return false
		}
		for _, v := range fieldValues(&g.nodeGroupFields) {
			if v.IsUnknown() {
				return false
			}
		}
	}
	return true
}

// needsStore reports whether the configuration references stored templates.
func needsStore(ctx context.Context, m *clusterModel) bool {
	if !m.ClusterTemplateID.IsNull() {
		return true
	}
	groups := map[string]clusterNodeGroupModel{}
	_ = m.NodeGroups.ElementsAs(ctx, &groups, false)
	for _, g := range groups {
		if !g.NodeGroupTemplateID.IsNull() {
			return true
		}
	}
	return false
}
