package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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
	_ resource.ResourceWithConfigure      = (*nodeGroupTemplateResource)(nil)
	_ resource.ResourceWithImportState    = (*nodeGroupTemplateResource)(nil)
	_ resource.ResourceWithValidateConfig = (*nodeGroupTemplateResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*nodeGroupTemplateResource)(nil)
)

// NewNodeGroupTemplateResource is the saharagen_node_group_template resource.
func NewNodeGroupTemplateResource() resource.Resource { return &nodeGroupTemplateResource{} }

type nodeGroupTemplateResource struct {
	data *providerData
}

type nodeGroupTemplateModel struct {
	ID            types.String `tfsdk:"id"`
	Name          types.String `tfsdk:"name"`
	PluginName    types.String `tfsdk:"plugin_name"`
	PluginVersion types.String `tfsdk:"plugin_version"`
	Description   types.String `tfsdk:"description"`
	IsPublic      types.Bool   `tfsdk:"is_public"`
	IsProtected   types.Bool   `tfsdk:"is_protected"`
	nodeGroupFields
	CreatedAt types.String `tfsdk:"created_at"`
	UpdatedAt types.String `tfsdk:"updated_at"`
}

func (r *nodeGroupTemplateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_group_template"
}

func (r *nodeGroupTemplateResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = nodeGroupTemplateSchemaV0()
}

func nodeGroupTemplateSchemaV0() schema.Schema {
	attrs := nodeGroupFieldAttributes(ngTemplate, inPlace)
	attrs["id"] = schema.StringAttribute{Computed: true, MarkdownDescription: "ID of the template (a UUID).",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	attrs["name"] = schema.StringAttribute{Required: true,
		Validators:          []validator.String{stringvalidator.LengthBetween(1, 50), stringvalidator.RegexMatches(hostnameRE, "must be "+hostnameRule)},
		MarkdownDescription: "Name of the template, " + hostnameRule + ", unique among the project's node group templates." + inPlace}
	for k, v := range pluginAttributes(inPlace) {
		attrs[k] = v
	}
	for k, v := range templateCommonAttributes(inPlace) {
		attrs[k] = v
	}
	return schema.Schema{
		MarkdownDescription: "A Sahara node group template: a reusable description of a group of instances (flavor, image, " +
			"processes, volumes, networking) for one plugin version. It is checked against the plugin at plan time " +
			"(processes known to the plugin and version, configs known and of the right type) and stored in the template " +
			"store (an object-store container). Every attribute is updatable in place. Cluster templates keep the copy " +
			"they were created with, as in Sahara. A cluster whose node group references the template (`node_group_template_id`) " +
			"follows it instead: a change that reaches servers (any field but `name`, `description`, `is_public`, `is_protected`) " +
			"rolls that node group onto the template in the same apply (its instances replaced batch by batch, see `saharagen_cluster`). " +
			"For that, such a change plans `id` as known after apply; the ID itself does not change.",
		Attributes: attrs,
	}
}

func (r *nodeGroupTemplateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan plans the id unknown (it stays the same) when a change reaches
// the servers of node groups made from the template: a cluster referencing
// the id then sees a change in the same plan and rolls those groups, instead
// of noticing only in the plan after this one.
//
// On create, and when the flavor, image or pool changes, it checks that
// they exist (by name or ID) and that the image has the plugin's tags.
func (r *nodeGroupTemplateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, state nodeGroupTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	pv, sv := fieldValues(&plan.nodeGroupFields), fieldValues(&state.nodeGroupFields)
	if r.data != nil && !plan.PluginName.IsUnknown() && !plan.PluginVersion.IsUnknown() &&
		(req.State.Raw.IsNull() || !pv["flavor_id"].Equal(sv["flavor_id"]) || !pv["image_id"].Equal(sv["image_id"]) ||
			!pv["floating_ip_pool"].Equal(sv["floating_ip_pool"])) {
		// Unknown values read as unset; a wrong plugin is ValidateConfig's error.
		var d diagsT
		t := plan.template(ctx, &d)
		if _, err := r.data.plugins.PluginVersion(t.PluginName, t.PluginVersion); err == nil && !d.HasError() {
			checkReferences(ctx, r.data, "Invalid Node Group Template", func(ctx context.Context, e *sahara.Engine) error {
				return e.CheckTemplateReferences(ctx, *t)
			}, &resp.Diagnostics)
		}
	}
	if req.State.Raw.IsNull() {
		return
	}
	for _, name := range nodeGroupFieldNames {
		if !pv[name].Equal(sv[name]) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringUnknown())...)
			return
		}
	}
}

// ValidateConfig checks processes and configs against the plugin; it needs no cloud.
func (r *nodeGroupTemplateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m nodeGroupTemplateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.PluginName.IsUnknown() || m.PluginVersion.IsUnknown() ||
		m.NodeProcesses.IsUnknown() || m.NodeConfigs.IsUnknown() {
		return
	}
	t := m.template(ctx, &resp.Diagnostics)
	setIfUnknown(m.FlavorID, &t.FlavorID)
	reg, err := staticRegistry()
	if err != nil || resp.Diagnostics.HasError() {
		return
	}
	addValidationErrors(&resp.Diagnostics, "Invalid Node Group Template", sahara.ValidateNodeGroupTemplate(reg, *t))
}

func (r *nodeGroupTemplateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m nodeGroupTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	b, diags := r.data.Backend(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	t := m.template(ctx, &resp.Diagnostics)
	release := takeLeases(ctx, b.Store, sahara.KindNodeGroupTemplate, "create", &resp.Diagnostics, t.Name)
	if release == nil {
		return
	}
	defer release()
	checkUniqueName(ctx, b.Store, sahara.KindNodeGroupTemplate, t.Name, "", &resp.Diagnostics)
	t.ID = newID(&resp.Diagnostics)
	t.CreatedAt = time.Now().UTC()
	t.UpdatedAt = t.CreatedAt
	if resp.Diagnostics.HasError() {
		return
	}
	storePut(ctx, b.Store, sahara.KindNodeGroupTemplate, t.ID, t, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, nodeGroupTemplateModelFrom(t))...)
}

func (r *nodeGroupTemplateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m nodeGroupTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	b, diags := r.data.Backend(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var t sahara.NodeGroupTemplate
	if !storeGet(ctx, b.Store, sahara.KindNodeGroupTemplate, m.ID.ValueString(), &t, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx) // deleted outside Terraform
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, nodeGroupTemplateModelFrom(&t))...)
}

func (r *nodeGroupTemplateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state nodeGroupTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	b, diags := r.data.Backend(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.IsProtected.ValueBool() && plan.IsProtected.ValueBool() {
		resp.Diagnostics.AddError("Protected Node Group Template", protectedError("NodeGroup template", state.ID.ValueString(), "updated"))
		return
	}
	var old sahara.NodeGroupTemplate
	if !storeGet(ctx, b.Store, sahara.KindNodeGroupTemplate, state.ID.ValueString(), &old, &resp.Diagnostics) && !resp.Diagnostics.HasError() {
		resp.Diagnostics.AddError("Node Group Template Not Found",
			"The template "+state.ID.ValueString()+" was deleted from the template store during this run. Run `terraform apply` again to recreate it.")
	}
	t := plan.template(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	release := takeLeases(ctx, b.Store, sahara.KindNodeGroupTemplate, "update", &resp.Diagnostics, old.Name, t.Name)
	if release == nil {
		return
	}
	defer release()
	if t.Name != old.Name {
		checkUniqueName(ctx, b.Store, sahara.KindNodeGroupTemplate, t.Name, state.ID.ValueString(), &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	t.ID, t.CreatedAt, t.UpdatedAt = old.ID, old.CreatedAt, time.Now().UTC()
	storePut(ctx, b.Store, sahara.KindNodeGroupTemplate, t.ID, t, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, nodeGroupTemplateModelFrom(t))...)
}

func (r *nodeGroupTemplateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m nodeGroupTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	b, diags := r.data.Backend(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.IsProtected.ValueBool() {
		resp.Diagnostics.AddError("Protected Node Group Template", protectedError("NodeGroup template", m.ID.ValueString(), "deleted"))
		return
	}
	release := takeLeases(ctx, b.Store, sahara.KindNodeGroupTemplate, "delete", &resp.Diagnostics, m.Name.ValueString())
	if release == nil {
		return
	}
	defer release()
	if err := b.Store.Delete(ctx, sahara.KindNodeGroupTemplate, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Template Store Error", "Deleting node group template "+m.ID.ValueString()+" from the template store failed; the template is kept in state, retry the destroy.\n\n"+err.Error())
	}
}

func (r *nodeGroupTemplateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

func (m nodeGroupTemplateModel) template(ctx context.Context, diags *diagsT) *sahara.NodeGroupTemplate {
	spec, d := m.spec(ctx)
	diags.Append(d...)
	spec.Name = m.Name.ValueString()
	return &sahara.NodeGroupTemplate{
		ID:            m.ID.ValueString(),
		PluginName:    m.PluginName.ValueString(),
		PluginVersion: m.PluginVersion.ValueString(),
		Description:   m.Description.ValueString(),
		IsPublic:      m.IsPublic.ValueBool(),
		IsProtected:   m.IsProtected.ValueBool(),
		NodeGroupSpec: spec,
	}
}

func nodeGroupTemplateModelFrom(t *sahara.NodeGroupTemplate) nodeGroupTemplateModel {
	return nodeGroupTemplateModel{
		ID:              types.StringValue(t.ID),
		Name:            types.StringValue(t.Name),
		PluginName:      types.StringValue(t.PluginName),
		PluginVersion:   types.StringValue(t.PluginVersion),
		Description:     strOrNull(t.Description),
		IsPublic:        types.BoolValue(t.IsPublic),
		IsProtected:     types.BoolValue(t.IsProtected),
		nodeGroupFields: nodeGroupFieldsFrom(t.NodeGroupSpec),
		CreatedAt:       timeValue(t.CreatedAt),
		UpdatedAt:       timeValue(t.UpdatedAt),
	}
}
