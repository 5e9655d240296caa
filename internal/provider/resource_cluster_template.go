package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var (
	_ resource.ResourceWithConfigure      = (*clusterTemplateResource)(nil)
	_ resource.ResourceWithImportState    = (*clusterTemplateResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterTemplateResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*clusterTemplateResource)(nil)
)

// NewClusterTemplateResource is the saharagen_cluster_template resource.
func NewClusterTemplateResource() resource.Resource { return &clusterTemplateResource{} }

type clusterTemplateResource struct {
	data *providerData
}

type clusterTemplateModel struct {
	ID                       types.String `tfsdk:"id"`
	Name                     types.String `tfsdk:"name"`
	PluginName               types.String `tfsdk:"plugin_name"`
	PluginVersion            types.String `tfsdk:"plugin_version"`
	Description              types.String `tfsdk:"description"`
	IsPublic                 types.Bool   `tfsdk:"is_public"`
	IsProtected              types.Bool   `tfsdk:"is_protected"`
	DefaultImageID           types.String `tfsdk:"default_image_id"`
	NeutronManagementNetwork types.String `tfsdk:"neutron_management_network"`
	DomainName               types.String `tfsdk:"domain_name"`
	ClusterConfigs           types.Map    `tfsdk:"cluster_configs"`
	AntiAffinity             types.List   `tfsdk:"anti_affinity"`
	UseAutoconfig            types.Bool   `tfsdk:"use_autoconfig"`
	NodeGroups               types.Map    `tfsdk:"node_groups"`
	ConvertFrom              types.String `tfsdk:"convert_from"`
	CreatedAt                types.String `tfsdk:"created_at"`
	UpdatedAt                types.String `tfsdk:"updated_at"`
}

type templateNodeGroupModel struct {
	NodeGroupTemplateID types.String `tfsdk:"node_group_template_id"`
	Count               types.Int64  `tfsdk:"count"`
	nodeGroupFields
}

func (r *clusterTemplateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_template"
}

func (r *clusterTemplateResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = clusterTemplateSchemaV0()
}

func clusterTemplateSchemaV0() schema.Schema {
	ngAttrs := nodeGroupFieldAttributes(ngNested, inPlace)
	ngAttrs["node_group_template_id"] = schema.StringAttribute{Optional: true,
		MarkdownDescription: "ID of a `saharagen_node_group_template`; its fields are copied into this template when it is written, fields set here override them." + inPlace}
	ngAttrs["count"] = schema.Int64Attribute{Optional: true, Computed: true, Validators: []validator.Int64{int64validator.AtLeast(0)},
		MarkdownDescription: "Number of instances of the node group in clusters made from this template. Required for each node group written here." + inPlace}
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, MarkdownDescription: "ID of the template (a UUID).",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"name": schema.StringAttribute{Required: true,
			Validators:          []validator.String{stringvalidator.LengthBetween(1, 50), stringvalidator.RegexMatches(hostnameRE, "must be "+hostnameRule)},
			MarkdownDescription: "Name of the template, " + hostnameRule + ", unique among the project's cluster templates." + inPlace},
		"default_image_id": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "Image (name or ID) of node groups that set none." + inPlace},
		"neutron_management_network": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "Neutron network (name or ID) of the instances." + inPlace},
		"domain_name": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "DNS domain of the instances (Sahara's Designate `domain_name`)." + inPlace},
		"cluster_configs": schema.MapAttribute{Optional: true, Computed: true, ElementType: configsType.ElemType,
			Validators:          []validator.Map{mapvalidator.SizeAtLeast(1)},
			MarkdownDescription: configsDoc + " With `convert_from`, computed from the document." + inPlace},
		"anti_affinity": schema.ListAttribute{Optional: true, ElementType: types.StringType,
			Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()},
			MarkdownDescription: "Processes whose instances must run on different hosts." + inPlace},
		"use_autoconfig": schema.BoolAttribute{Optional: true,
			MarkdownDescription: "Default of `use_autoconfig` for the clusters made from the template." + inPlace},
		"node_groups": schema.MapNestedAttribute{Optional: true, Computed: true,
			Validators: []validator.Map{
				mapvalidator.KeysAre(stringvalidator.RegexMatches(hostnameRE, "node group names must be "+hostnameRule)),
				mapvalidator.ConflictsWith(path.MatchRoot("convert_from")),
			},
			MarkdownDescription: "Node groups by name, each referencing a node group template or inline, with `count`. Required unless `convert_from` is set." + inPlace,
			NestedObject:        schema.NestedAttributeObject{Attributes: ngAttrs}},
		"convert_from": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "A plugin-specific configuration document turned into the template's node groups and configs by the plugin's `convert` " +
				"(e.g. `file(\"cluster.json\")`). Plugins without `convert` are refused at plan time." + inPlace},
	}
	for k, v := range pluginAttributes(inPlace) {
		attrs[k] = v
	}
	for k, v := range templateCommonAttributes(inPlace) {
		attrs[k] = v
	}
	return schema.Schema{
		MarkdownDescription: "A Sahara cluster template: a plugin version, cluster configs and a layout of node groups, either referencing " +
			"node group templates or written inline. Checked against the plugin at plan time and stored in the template store. " +
			"Node groups that reference a node group template store a merged copy of it, as Sahara does; every attribute is updatable in place.",
		Attributes: attrs,
	}
}

func (r *clusterTemplateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *clusterTemplateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterTemplateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.PluginName.IsUnknown() || m.PluginVersion.IsUnknown() {
		return
	}
	if m.NodeGroups.IsNull() && m.ConvertFrom.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("node_groups"), "Missing Node Groups",
			"A cluster template needs node_groups, or convert_from with a configuration document the plugin converts.")
	}
	reg, err := staticRegistry()
	if err != nil {
		return
	}
	t := sahara.ClusterTemplate{ClusterSpec: sahara.ClusterSpec{
		PluginName:     m.PluginName.ValueString(),
		PluginVersion:  m.PluginVersion.ValueString(),
		ClusterConfigs: configsFrom(ctx, m.ClusterConfigs, &resp.Diagnostics),
		AntiAffinity:   stringList(ctx, m.AntiAffinity, &resp.Diagnostics),
	}}
	if p, err := reg.PluginVersion(t.PluginName, t.PluginVersion); err == nil && !m.ConvertFrom.IsNull() {
		if _, ok := p.(sahara.Converter); !ok {
			resp.Diagnostics.AddAttributeError(path.Root("convert_from"), "Conversion Not Supported",
				fmt.Sprintf("Plugin %q does not implement convert, so it cannot turn a configuration document into a cluster template. "+
					"Describe the layout with node_groups instead.", p.Name()))
		}
	}
	if !m.NodeGroups.IsNull() && !m.NodeGroups.IsUnknown() {
		groups := map[string]templateNodeGroupModel{}
		resp.Diagnostics.Append(m.NodeGroups.ElementsAs(ctx, &groups, false)...)
		for _, name := range sortedNames(groups) {
			g := groups[name]
			base := path.Root("node_groups").AtMapKey(name)
			if g.Count.IsNull() {
				addAttrError(&resp.Diagnostics, base.AtName("count"), "Missing Node Group Count",
					fmt.Sprintf("Node group %q needs count.", name))
			}
			if g.NodeProcesses.IsUnknown() || g.NodeConfigs.IsUnknown() {
				continue // checked at apply, when known
			}
			spec, d := g.spec(ctx)
			resp.Diagnostics.Append(d...)
			spec.Name = name
			spec.NodeGroupTemplateID = g.NodeGroupTemplateID.ValueString()
			setIfUnknown(g.NodeGroupTemplateID, &spec.NodeGroupTemplateID)
			setIfUnknown(g.FlavorID, &spec.FlavorID)
			t.NodeGroups = append(t.NodeGroups, spec)
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	addValidationErrors(&resp.Diagnostics, "Invalid Cluster Template", sahara.ValidateClusterTemplate(reg, t))
}

// ModifyPlan keeps the resolved fields of node groups whose template
// reference did not change, and marks what convert_from produces unknown
// until apply.
func (r *clusterTemplateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, config clusterTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	var state *clusterTemplateModel
	if !req.State.Raw.IsNull() {
		state = &clusterTemplateModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !config.ConvertFrom.IsNull() {
		if state != nil && config.ConvertFrom.Equal(state.ConvertFrom) && plan.PluginVersion.Equal(state.PluginVersion) {
			plan.NodeGroups, plan.ClusterConfigs = state.NodeGroups, state.ClusterConfigs
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if config.ClusterConfigs.IsNull() {
		plan.ClusterConfigs = types.MapNull(configsType.ElemType)
	}
	if config.NodeGroups.IsNull() || config.NodeGroups.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	cfgGroups, stGroups := map[string]templateNodeGroupModel{}, map[string]templateNodeGroupModel{}
	resp.Diagnostics.Append(config.NodeGroups.ElementsAs(ctx, &cfgGroups, false)...)
	if state != nil && !state.NodeGroups.IsNull() {
		resp.Diagnostics.Append(state.NodeGroups.ElementsAs(ctx, &stGroups, false)...)
	}
	planned := map[string]templateNodeGroupModel{}
	for name, cfg := range cfgGroups {
		g := cfg
		var prior *nodeGroupFields
		if s, ok := stGroups[name]; ok && s.NodeGroupTemplateID.Equal(cfg.NodeGroupTemplateID) {
			prior = &s.nodeGroupFields
		}
		g.nodeGroupFields = mergeFields(cfg.nodeGroupFields, prior)
		planned[name] = g
	}
	mv, d := types.MapValueFrom(ctx, templateNodeGroupObjectType(), planned)
	resp.Diagnostics.Append(d...)
	plan.NodeGroups = mv
	r.checkReferences(ctx, &plan, state, cfgGroups, stGroups, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkReferences checks at plan the flavors, images and networks the
// template names itself (inline node groups, default image, network), on
// create and when they change; a node group template's were checked with it.
func (r *clusterTemplateResource) checkReferences(ctx context.Context, plan, state *clusterTemplateModel, cfg, prior map[string]templateNodeGroupModel, diags *diagsT) {
	if r.data == nil || diags.HasError() {
		return
	}
	if _, err := r.data.plugins.PluginVersion(plan.PluginName.ValueString(), plan.PluginVersion.ValueString()); err != nil {
		return // ValidateConfig reports it
	}
	spec := sahara.ClusterSpec{PluginName: plan.PluginName.ValueString(), PluginVersion: plan.PluginVersion.ValueString()}
	if state == nil || !plan.DefaultImageID.Equal(state.DefaultImageID) {
		spec.DefaultImageID = plan.DefaultImageID.ValueString()
	}
	if state == nil || !plan.NeutronManagementNetwork.Equal(state.NeutronManagementNetwork) {
		spec.NeutronManagementNetwork = plan.NeutronManagementNetwork.ValueString()
	}
	for _, name := range sortedNames(cfg) {
		g, old := cfg[name], prior[name]
		if !g.NodeGroupTemplateID.IsNull() {
			continue
		}
		if state != nil && g.FlavorID.Equal(old.FlavorID) && g.ImageID.Equal(old.ImageID) && g.FloatingIPPool.Equal(old.FloatingIPPool) {
			continue
		}
		ng, d := g.spec(ctx) // unknown values read as unset
		if !d.HasError() {
			ng.Name = name
			spec.NodeGroups = append(spec.NodeGroups, ng)
		}
	}
	if spec.DefaultImageID == "" && spec.NeutronManagementNetwork == "" && len(spec.NodeGroups) == 0 {
		return
	}
	checkReferences(ctx, r.data, "Invalid Cluster Template", func(ctx context.Context, e *sahara.Engine) error {
		return e.CheckReferences(ctx, spec)
	}, diags)
}

func (r *clusterTemplateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	t := r.template(ctx, b.Store, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	release := takeLeases(ctx, b.Store, sahara.KindClusterTemplate, "create", &resp.Diagnostics, t.Name)
	if release == nil {
		return
	}
	defer release()
	checkUniqueName(ctx, b.Store, sahara.KindClusterTemplate, t.Name, "", &resp.Diagnostics)
	t.ID = newID(&resp.Diagnostics)
	t.CreatedAt = time.Now().UTC()
	t.UpdatedAt = t.CreatedAt
	if resp.Diagnostics.HasError() {
		return
	}
	storePut(ctx, b.Store, sahara.KindClusterTemplate, t.ID, t, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, clusterTemplateModelFrom(ctx, t, &plan, &resp.Diagnostics))...)
}

func (r *clusterTemplateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clusterTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	var t sahara.ClusterTemplate
	if !storeGet(ctx, b.Store, sahara.KindClusterTemplate, state.ID.ValueString(), &t, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx) // deleted outside Terraform
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, clusterTemplateModelFrom(ctx, &t, &state, &resp.Diagnostics))...)
}

func (r *clusterTemplateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state clusterTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.IsProtected.ValueBool() && plan.IsProtected.ValueBool() {
		resp.Diagnostics.AddError("Protected Cluster Template", protectedError("Cluster template", state.ID.ValueString(), "updated"))
		return
	}
	var old sahara.ClusterTemplate
	if !storeGet(ctx, b.Store, sahara.KindClusterTemplate, state.ID.ValueString(), &old, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError("Cluster Template Not Found",
				"The template "+state.ID.ValueString()+" was deleted from the template store during this run. Run `terraform apply` again to recreate it.")
		}
		return
	}
	t := r.template(ctx, b.Store, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	release := takeLeases(ctx, b.Store, sahara.KindClusterTemplate, "update", &resp.Diagnostics, old.Name, t.Name)
	if release == nil {
		return
	}
	defer release()
	if t.Name != old.Name {
		checkUniqueName(ctx, b.Store, sahara.KindClusterTemplate, t.Name, old.ID, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	t.ID, t.CreatedAt, t.UpdatedAt = old.ID, old.CreatedAt, time.Now().UTC()
	storePut(ctx, b.Store, sahara.KindClusterTemplate, t.ID, t, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, clusterTemplateModelFrom(ctx, t, &plan, &resp.Diagnostics))...)
}

func (r *clusterTemplateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.IsProtected.ValueBool() {
		resp.Diagnostics.AddError("Protected Cluster Template", protectedError("Cluster template", state.ID.ValueString(), "deleted"))
		return
	}
	release := takeLeases(ctx, b.Store, sahara.KindClusterTemplate, "delete", &resp.Diagnostics, state.Name.ValueString())
	if release == nil {
		return
	}
	defer release()
	if err := b.Store.Delete(ctx, sahara.KindClusterTemplate, state.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Template Store Error", "Deleting cluster template "+state.ID.ValueString()+" from the template store failed; it is kept in state, retry the destroy.\n\n"+err.Error())
	}
}

func (r *clusterTemplateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// template builds the stored template from the plan: converted by the plugin
// when convert_from is set, node groups merged with their node group templates.
func (r *clusterTemplateResource) template(ctx context.Context, st sahara.Store, m *clusterTemplateModel, diags *diagsT) *sahara.ClusterTemplate {
	spec := sahara.ClusterSpec{
		Name:                     m.Name.ValueString(),
		Description:              m.Description.ValueString(),
		PluginName:               m.PluginName.ValueString(),
		PluginVersion:            m.PluginVersion.ValueString(),
		DefaultImageID:           m.DefaultImageID.ValueString(),
		NeutronManagementNetwork: m.NeutronManagementNetwork.ValueString(),
		DomainName:               m.DomainName.ValueString(),
		AntiAffinity:             stringList(ctx, m.AntiAffinity, diags),
		ClusterConfigs:           configsFrom(ctx, m.ClusterConfigs, diags),
		IsPublic:                 m.IsPublic.ValueBool(),
		IsProtected:              m.IsProtected.ValueBool(),
	}
	if !m.UseAutoconfig.IsNull() {
		b := m.UseAutoconfig.ValueBool()
		spec.UseAutoconfig = &b
	}
	if !m.ConvertFrom.IsNull() {
		p, err := r.data.plugins.PluginVersion(spec.PluginName, spec.PluginVersion)
		if err != nil {
			diags.AddAttributeError(path.Root("plugin_version"), "Invalid Cluster Template", err.Error())
			return nil
		}
		conv, ok := p.(sahara.Converter)
		if !ok {
			diags.AddAttributeError(path.Root("convert_from"), "Conversion Not Supported",
				fmt.Sprintf("Plugin %q does not implement convert; describe the layout with node_groups instead.", p.Name()))
			return nil
		}
		t, err := conv.Convert(ctx, []byte(m.ConvertFrom.ValueString()), spec.PluginVersion, spec.Name)
		if err != nil {
			diags.AddAttributeError(path.Root("convert_from"), errorTitle(err, "Conversion Error"),
				"The plugin could not convert the document; fix it and apply again.\n\n"+err.Error())
			return nil
		}
		spec.NodeGroups = t.NodeGroups
		spec.ClusterConfigs = sahara.MergeConfigs(t.ClusterConfigs, spec.ClusterConfigs)
		if spec.Description == "" {
			spec.Description = t.Description
		}
		return &sahara.ClusterTemplate{ClusterSpec: spec}
	}
	groups := map[string]templateNodeGroupModel{}
	if !m.NodeGroups.IsNull() && !m.NodeGroups.IsUnknown() {
		diags.Append(m.NodeGroups.ElementsAs(ctx, &groups, false)...)
	}
	ngts := map[string]*sahara.NodeGroupTemplate{}
	for _, name := range sortedNames(groups) {
		g := groups[name]
		ng, d := g.spec(ctx)
		diags.Append(d...)
		ng.Name, ng.Count = name, int(g.Count.ValueInt64())
		ng.NodeGroupTemplateID = g.NodeGroupTemplateID.ValueString()
		resolved, ok := resolveNodeGroup(ctx, st, ngts, ng, path.Root("node_groups").AtMapKey(name).AtName("node_group_template_id"), diags)
		if !ok {
			return nil
		}
		if ngt := ngts[ng.NodeGroupTemplateID]; ngt != nil && (ngt.PluginName != spec.PluginName || ngt.PluginVersion != spec.PluginVersion) {
			diags.AddAttributeError(path.Root("node_groups").AtMapKey(name).AtName("node_group_template_id"), "Plugin Mismatch",
				fmt.Sprintf("Node group template %s is for plugin %s %s, but the cluster template is for %s %s.",
					ngt.ID, ngt.PluginName, ngt.PluginVersion, spec.PluginName, spec.PluginVersion))
			return nil
		}
		applyExplicit(&resolved, g.nodeGroupFields)
		spec.NodeGroups = append(spec.NodeGroups, resolved)
	}
	return &sahara.ClusterTemplate{ClusterSpec: spec}
}

var templateNodeGroupObjectType = func() types.ObjectType {
	return clusterTemplateSchemaV0().Attributes["node_groups"].(schema.MapNestedAttribute).NestedObject.Type().(types.ObjectType)
}

func clusterTemplateModelFrom(ctx context.Context, t *sahara.ClusterTemplate, prior *clusterTemplateModel, diags *diagsT) clusterTemplateModel {
	m := clusterTemplateModel{
		ID:                       types.StringValue(t.ID),
		Name:                     types.StringValue(t.Name),
		PluginName:               types.StringValue(t.PluginName),
		PluginVersion:            types.StringValue(t.PluginVersion),
		Description:              strOrNull(t.Description),
		IsPublic:                 types.BoolValue(t.IsPublic),
		IsProtected:              types.BoolValue(t.IsProtected),
		DefaultImageID:           strOrNull(t.DefaultImageID),
		NeutronManagementNetwork: strOrNull(t.NeutronManagementNetwork),
		DomainName:               strOrNull(t.DomainName),
		ClusterConfigs:           configsValue(t.ClusterConfigs),
		AntiAffinity:             listOrNull(t.AntiAffinity),
		UseAutoconfig:            types.BoolNull(),
		ConvertFrom:              types.StringNull(),
		CreatedAt:                timeValue(t.CreatedAt),
		UpdatedAt:                timeValue(t.UpdatedAt),
	}
	if t.UseAutoconfig != nil {
		m.UseAutoconfig = types.BoolValue(*t.UseAutoconfig)
	}
	if prior != nil {
		// The document is not stored; the description may come from it.
		m.ConvertFrom = prior.ConvertFrom
		if !prior.ConvertFrom.IsNull() && prior.Description.IsNull() {
			m.Description = types.StringNull()
		}
	}
	groups := map[string]attr.Value{}
	for _, ng := range t.NodeGroups {
		obj, d := types.ObjectValueFrom(ctx, templateNodeGroupObjectType().AttrTypes, templateNodeGroupModel{
			NodeGroupTemplateID: strOrNull(ng.NodeGroupTemplateID),
			Count:               types.Int64Value(int64(ng.Count)),
			nodeGroupFields:     nodeGroupFieldsFrom(ng),
		})
		diags.Append(d...)
		groups[ng.Name] = obj
	}
	mv, d := types.MapValue(templateNodeGroupObjectType(), groups)
	diags.Append(d...)
	m.NodeGroups = mv
	return m
}
