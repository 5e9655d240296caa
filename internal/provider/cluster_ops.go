package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func mapRequiresReplace() planmodifier.Map { return mapplanmodifier.RequiresReplace() }

// recorder is the engine's Observer: it writes the cluster record to the
// store at each status change, so an interrupted apply leaves a record that
// import, the next run or another runner can read.
type recorder struct {
	store sahara.Store
	mu    sync.Mutex
	ctx   context.Context
}

func newRecorder(ctx context.Context, store sahara.Store) *recorder {
	return (&recorder{store: store}).bind(ctx)
}

// bind sets the context log lines and store writes use.
func (r *recorder) bind(ctx context.Context) *recorder {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	return r
}

func (r *recorder) observe(e sahara.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	id := ""
	if e.Cluster != nil {
		id = e.Cluster.ID
	}
	// The engine logs statuses and per-step counts itself; here the record
	// is persisted at each status (no instance work runs then), also after a
	// cancel: the rollback that follows changes the status too.
	if e.Kind == sahara.EventStatus && e.Cluster != nil {
		wctx, cancel := detached(ctx)
		err := r.store.Put(wctx, sahara.KindCluster, e.Cluster.ID, e.Cluster)
		cancel()
		if err != nil {
			tflogLine(ctx, slog.LevelWarn, logMask{}, "Writing the cluster record failed; it is written again at the end of the operation",
				map[string]any{"cluster_id": id, "status": string(e.Status), "error": err.Error()})
		}
	}
}

// Writes that record what an operation did run on a context of their own:
// a cancelled request (Ctrl-C) must still leave a record that says what
// exists. Each write is bounded; the final one is tried a few times, since a
// passing object-store fault must not turn a finished operation into an
// error (which would taint an Active cluster).
const (
	recordWriteTimeout = 30 * time.Second
	finalWriteAttempts = 4
)

// finalWriteBackoff is the pause before the second attempt; it doubles.
var finalWriteBackoff = time.Second

// detached is ctx without its cancellation, bounded by recordWriteTimeout;
// its values (log sinks) are kept.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordWriteTimeout)
}

// flush writes the final record after an operation, retrying a failed write.
func (r *recorder) flush(ctx context.Context, c *sahara.Cluster) error {
	var err error
	pause := finalWriteBackoff
	for attempt := 1; ; attempt++ {
		wctx, cancel := detached(ctx)
		err = r.store.Put(wctx, sahara.KindCluster, c.ID, c)
		cancel()
		if err == nil || attempt == finalWriteAttempts {
			return err
		}
		tflogLine(ctx, slog.LevelWarn, logMask{}, "Writing the cluster record failed; retrying",
			map[string]any{"cluster_id": c.ID, "attempt": attempt, "error": err.Error()})
		time.Sleep(pause)
		pause *= 2
	}
}

// recordNotSaved is the warning for a final write that failed: Terraform's
// state is right, the shared record is behind.
func recordNotSaved(diags *diagsT, c *sahara.Cluster, err error) {
	diags.AddWarning("Cluster Record Not Saved",
		fmt.Sprintf("Cluster %q (%s) is %s and Terraform's state says so, but writing its record to the template store failed %d times. "+
			"Other runs and imports read an older record until the next operation on the cluster writes it again; check that the "+
			"object-store container (template_store_container) is writable.\n\n%v", c.Name, c.ID, c.Status, finalWriteAttempts, err))
}

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
		Status:                   types.StringValue(string(c.Status)),
		StatusDescription:        types.StringValue(c.StatusDescription),
		Info:                     infoValue(c.Info),
		ManagementPublicKey:      types.StringValue(c.ManagementPublicKey),
		ManagementPrivateKey:     types.StringValue(c.ManagementPrivateKey),
		Timeouts:                 timeoutsNull(),
	}
	priorGroups := map[string]clusterNodeGroupModel{}
	if prior != nil {
		m.Timeouts = prior.Timeouts
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
		g := clusterNodeGroupModel{
			NodeGroupTemplateID:  strOrNull(ng.NodeGroupTemplateID),
			Count:                types.Int64Value(int64(ng.Count)),
			InstancesToRemove:    types.ListNull(types.StringType),
			nodeGroupFields:      nodeGroupFieldsFrom(ng.NodeGroupSpec),
			Instances:            instancesValue(ng.Instances),
			InstancesToBeRemoved: types.ListValueMust(types.StringType, nil),
		}
		if p, ok := priorGroups[ng.Name]; ok {
			g.InstancesToRemove = p.InstancesToRemove
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
	outer := map[string]attr.Value{}
	sections := make([]string, 0, len(info))
	for s := range info {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, s := range sections {
		inner := map[string]attr.Value{}
		for k, v := range info[s] {
			inner[k] = types.StringValue(v)
		}
		outer[s] = types.MapValueMust(types.StringType, inner)
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
