package provider

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Conversion of a cluster record into the cluster's Terraform state.

// victimNames converts a scale plan's victims to instance names per group.
func victimNames(sp sahara.ScalePlan) map[string][]string {
	out := map[string][]string{}
	for ng, ins := range sp.Victims {
		for _, in := range ins {
			out[ng] = append(out[ng], in.InstanceName)
		}
	}
	return out
}

// clusterModelFrom renders a cluster record as state. prior supplies what
// only the configuration knows (cluster_configs as written, timeouts,
// instances_to_remove); it is nil on import.
func clusterModelFrom(ctx context.Context, c *sahara.Cluster, prior *clusterModel, diags *diagsT) clusterModel {
	m := clusterModel{
		ID:                       types.StringValue(c.ID),
		Name:                     types.StringValue(c.Name),
		PluginName:               types.StringValue(c.PluginName),
		PluginVersion:            types.StringValue(c.PluginVersion),
		ClusterTemplateID:        strOrNull(c.ClusterTemplateID),
		Description:              strOrNull(c.Description),
		DefaultImageID:           strOrNull(c.DefaultImageID),
		UserKeypairID:            strOrNull(c.UserKeypairID),
		NeutronManagementNetwork: strOrNull(c.NeutronManagementNetwork),
		ClusterConfigs:           requestConfigs(c),
		AntiAffinity:             listOrNull(c.AntiAffinity),
		IsPublic:                 types.BoolValue(c.IsPublic),
		IsProtected:              types.BoolValue(c.IsProtected),
		Engine:                   types.StringValue(engineOf(c)),
		Status:                   types.StringValue(string(c.Status)),
		StatusDescription:        types.StringValue(c.StatusDescription),
		Info:                     infoValue(c.Info),
		ManagementPublicKey:      types.StringValue(c.ManagementPublicKey),
		ManagementPrivateKey:     types.StringValue(c.ManagementPrivateKey),
		Credentials:              stringMap(c.UserCredentials()),
		LastOperation:            lastOperationValue(c),
		SecretConfigs:            types.MapNull(configsType.ElemType), // write-only: never in state
		SecretConfigsVersion:     types.StringNull(),
		SensitiveConfigs:         types.MapNull(configsType.ElemType),
		Timeouts:                 timeoutsNull(),
	}
	priorGroups := map[string]clusterNodeGroupModel{}
	if prior != nil {
		m.Timeouts = prior.Timeouts
		// Only the configuration has them (the record never does).
		m.SecretConfigsVersion, m.SensitiveConfigs = prior.SecretConfigsVersion, prior.SensitiveConfigs
		// The configuration's configs, not the merge with the template's;
		// an import (only the id is known) takes the record's.
		if !prior.ClusterConfigs.IsUnknown() && !prior.Name.IsNull() {
			m.ClusterConfigs = prior.ClusterConfigs
		}
		if !prior.NodeGroups.IsNull() && !prior.NodeGroups.IsUnknown() {
			diags.Append(prior.NodeGroups.ElementsAs(ctx, &priorGroups, false)...)
		}
	}
	groups := map[string]attr.Value{}
	for _, ng := range c.NodeGroups {
		count := ng.Count
		if c.LeftByInterruptedScale() {
			count = ng.RunningCount() // the record claims the scale's target
		}
		g := clusterNodeGroupModel{
			NodeGroupTemplateID:    strOrNull(ng.NodeGroupTemplateID),
			Count:                  types.Int64Value(int64(count)),
			InstancesToRemove:      types.ListNull(types.StringType),
			UpdatePolicy:           types.ObjectNull(updatePolicyType().AttrTypes),
			AutoSecurityGroupCIDRs: setOrNull(ng.AutoSecurityGroupCIDRs),
			nodeGroupFields:        nodeGroupFieldsFrom(ng.NodeGroupSpec),
			Instances:              instancesValue(ng.Instances),
			InstancesToBeRemoved:   types.ListValueMust(types.StringType, nil),
		}
		if p, ok := priorGroups[ng.Name]; ok {
			g.InstancesToRemove, g.UpdatePolicy = p.InstancesToRemove, p.UpdatePolicy
			// The configuration's node configs, not their merge with the node
			// group template's and the plugin's recommendations.
			if !p.NodeConfigs.IsUnknown() && !p.NodeConfigs.IsNull() {
				g.NodeConfigs = p.NodeConfigs
			}
			if !p.InstancesToBeRemoved.IsUnknown() && !p.InstancesToBeRemoved.IsNull() {
				g.InstancesToBeRemoved = p.InstancesToBeRemoved
			}
		}
		obj, d := types.ObjectValueFrom(ctx, nodeGroupObjectType().AttrTypes, g)
		diags.Append(d...)
		groups[ng.Name] = obj
	}
	mv, d := types.MapValue(nodeGroupObjectType(), groups)
	diags.Append(d...)
	m.NodeGroups = mv
	return m
}

// setRemoved records, per node group, the instances the update removed: the
// value the plan showed.
func setRemoved(ctx context.Context, st *clusterModel, plan *clusterModel, removed map[string][]string, diags *diagsT) {
	groups := map[string]clusterNodeGroupModel{}
	diags.Append(st.NodeGroups.ElementsAs(ctx, &groups, false)...)
	planned := map[string]clusterNodeGroupModel{}
	if !plan.NodeGroups.IsUnknown() && !plan.NodeGroups.IsNull() {
		diags.Append(plan.NodeGroups.ElementsAs(ctx, &planned, false)...)
	}
	for name, g := range groups {
		if p, ok := planned[name]; ok && !p.InstancesToBeRemoved.IsUnknown() && !p.InstancesToBeRemoved.IsNull() {
			g.InstancesToBeRemoved = p.InstancesToBeRemoved
		} else {
			g.InstancesToBeRemoved = listOrEmpty(removed[name])
		}
		groups[name] = g
	}
	mv, d := types.MapValueFrom(ctx, nodeGroupObjectType(), groups)
	diags.Append(d...)
	st.NodeGroups = mv
}

func listOrEmpty(l []string) types.List {
	vals := make([]attr.Value, len(l))
	for i, s := range l {
		vals[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, vals)
}

func instancesValue(ins []*sahara.Instance) types.List {
	vals := make([]attr.Value, 0, len(ins))
	for _, in := range ins {
		vols := make([]attr.Value, 0, len(in.Volumes))
		for _, v := range in.Volumes {
			vols = append(vols, types.StringValue(v.ID))
		}
		vals = append(vals, types.ObjectValueMust(instanceType.AttrTypes, map[string]attr.Value{
			"name":          types.StringValue(in.InstanceName),
			"id":            types.StringValue(in.InstanceID),
			"internal_ip":   types.StringValue(in.InternalIP),
			"management_ip": types.StringValue(in.ManagementIP),
			"volumes":       types.ListValueMust(types.StringType, vols),
			"host_key":      types.StringValue(in.HostKey),
			"status":        types.StringValue(in.CloudStatus),
		}))
	}
	return types.ListValueMust(instanceType, vals)
}

func infoValue(info map[string]map[string]string) types.Map {
	outer := make(map[string]attr.Value, len(info))
	for s, kv := range info {
		outer[s] = stringMap(kv)
	}
	return types.MapValueMust(types.MapType{ElemType: types.StringType}, outer)
}

// extraRequestConfigs is the key of the cluster record's Extra map holding
// the cluster_configs as the configuration wrote them (the record holds them
// merged with the cluster template's), so an import reproduces the
// configuration's value.
const extraRequestConfigs = "saharagen_provider.cluster_configs"

func rememberRequestConfigs(ctx context.Context, c *sahara.Cluster, m types.Map, diags *diagsT) {
	cfg := configsFrom(ctx, m, diags)
	b, err := json.Marshal(cfg)
	if err != nil {
		diags.AddError("Cluster Record Error", "Encoding cluster_configs failed.\n\n"+err.Error())
		return
	}
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	c.Extra[extraRequestConfigs] = string(b)
}

// requestConfigs returns the configuration's cluster_configs from the record.
func requestConfigs(c *sahara.Cluster) types.Map {
	raw, ok := c.Extra[extraRequestConfigs]
	if !ok {
		return configsValue(c.ClusterConfigs)
	}
	var cfg sahara.Configs
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return configsValue(c.ClusterConfigs)
	}
	return configsValue(cfg)
}

func timeoutsNull() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "update": types.StringType, "delete": types.StringType,
	})}
}

var (
	statusTimeType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"status": types.StringType, "started_at": types.StringType, "seconds": types.Float64Type}}
	stepTimeType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"name": types.StringType, "type": types.StringType, "total": types.Int64Type, "successful": types.Int64Type,
		"failed": types.Int64Type, "result": types.StringType, "seconds": types.Float64Type}}
	lastOperationType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"statuses": types.ListType{ElemType: statusTimeType}, "steps": types.ListType{ElemType: stepTimeType},
		"failure": types.StringType}}
)

// lastOperationValue renders the cluster's last operation: the time in
// each status and its steps (null for a record of before the history).
func lastOperationValue(c *sahara.Cluster) types.Object {
	changes, steps := c.LastOperation()
	if len(changes) == 0 {
		return types.ObjectNull(lastOperationType.AttrTypes)
	}
	// Only the history measures: an update that runs no operation (a
	// description) touches the record but not these figures.
	last := changes[len(changes)-1].At
	seconds := func(from, to time.Time) attr.Value {
		if to.IsZero() {
			to = last
		}
		if to.Before(from) {
			to = from
		}
		return types.Float64Value(math.Round(to.Sub(from).Seconds()*10) / 10)
	}
	statuses := make([]attr.Value, len(changes))
	for i, ch := range changes {
		var end time.Time
		if i+1 < len(changes) {
			end = changes[i+1].At
		}
		statuses[i] = types.ObjectValueMust(statusTimeType.AttrTypes, map[string]attr.Value{
			"status": types.StringValue(string(ch.To)), "started_at": types.StringValue(ch.At.Format(time.RFC3339)), "seconds": seconds(ch.At, end)})
	}
	stepVals := make([]attr.Value, len(steps))
	for i, st := range steps {
		ok, failed := 0, 0
		for _, ev := range st.Events {
			if ev.Successful {
				ok++
			} else {
				failed++
			}
		}
		result := "unfinished"
		if st.Successful != nil {
			result = map[bool]string{true: "succeeded", false: "failed"}[*st.Successful]
		}
		stepVals[i] = types.ObjectValueMust(stepTimeType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(st.Name), "type": types.StringValue(st.Type), "total": types.Int64Value(int64(st.Total)),
			"successful": types.Int64Value(int64(ok)), "failed": types.Int64Value(int64(failed)), "result": types.StringValue(result),
			"seconds": seconds(st.StartedAt, st.FinishedAt)})
	}
	failure := types.StringNull()
	if c.Diagnostics != nil {
		if b, err := json.MarshalIndent(c.Diagnostics, "", "  "); err == nil {
			failure = types.StringValue(string(b))
		}
	}
	return types.ObjectValueMust(lastOperationType.AttrTypes, map[string]attr.Value{
		"statuses": types.ListValueMust(statusTimeType, statuses), "steps": types.ListValueMust(stepTimeType, stepVals),
		"failure": failure})
}

// failureSummary is the part of a diagnostic that shows what the failed
// instances said (the whole bundle is last_operation.failure).
func failureSummary(c *sahara.Cluster) string {
	if c.Diagnostics == nil || len(c.Diagnostics.Instances) == 0 {
		return ""
	}
	return "\n\nWhat the instances showed before the rollback (all of it: last_operation.failure in the state):" + c.Diagnostics.Summary(1500)
}
