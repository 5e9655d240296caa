package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var (
	_ resource.ResourceWithConfigure   = (*imageResource)(nil)
	_ resource.ResourceWithImportState = (*imageResource)(nil)
)

// NewImageResource is the saharagen_image resource.
func NewImageResource() resource.Resource { return &imageResource{} }

type imageResource struct {
	data *providerData
}

type imageModel struct {
	ID          types.String `tfsdk:"id"`
	ImageID     types.String `tfsdk:"image_id"`
	Name        types.String `tfsdk:"name"`
	Username    types.String `tfsdk:"username"`
	Description types.String `tfsdk:"description"`
	Tags        types.Set    `tfsdk:"tags"`
}

func (r *imageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_image"
}

func (r *imageResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = imageSchemaV0()
}

func imageSchemaV0() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Registers an existing Glance image for Sahara use, like `openstack dataprocessing image register` and `image tags add`: " +
			"the login user (`_sahara_username`), a description (`_sahara_description`) and tags (`_sahara_tag_<tag>`) are written as image properties. " +
			"Clusters accept only images that carry their plugin's required tags (see `saharagen_plugin.required_image_tags`). " +
			"Destroying the resource removes the `_sahara_*` properties, never the image.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Same as `image_id`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"image_id": schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				MarkdownDescription: "ID of the Glance image. Changing it unregisters the old image and registers the new one."},
			"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the Glance image.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"username": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.RegexMatches(sahara.LoginNameRE,
				"must be a user name: at most 32 letters, digits, '.', '_' and '-', starting with a letter or '_' (it becomes /home/<username> on the instances)")},
				MarkdownDescription: "Login user of the image (e.g. `ubuntu`), which the provider uses over SSH: at most 32 letters, digits, `.`, `_` and `-`, " +
					"starting with a letter or `_`. Changes are applied in place."},
			"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
				MarkdownDescription: "Description of the image for Sahara. Changes are applied in place."},
			"tags": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(
					stringvalidator.RegexMatches(tagRE, "tags are letters, digits, '.', '_' and '-'"))},
				MarkdownDescription: "Sahara tags of the image, typically the plugin name and version (e.g. `[\"vanilla\", \"2.8.2\"]`). Changes are applied in place."},
		},
	}
}

func (r *imageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *imageResource) registry(ctx context.Context, diags *diagsT) ImageRegistry {
	b, d := r.data.Backend(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return nil
	}
	if b.Images == nil {
		diags.AddError("Image Registry Unavailable",
			"This build's OpenStack adapter cannot edit image properties, so saharagen_image cannot work. Register the image with "+
				"`openstack image set --property _sahara_username=… --property _sahara_tag_<tag>=True <image>` instead.\n\n"+errNoImageRegistry.Error())
		return nil
	}
	return b.Images
}

func (r *imageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *imageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	reg := r.registry(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := m.ID.ValueString()
	im, err := reg.GetImage(ctx, id)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Image Read Error", fmt.Sprintf("Reading image %s from Glance failed; check the image service and retry.\n\n%v", id, err))
		return
	}
	if im.Username == "" {
		resp.State.RemoveResource(ctx) // unregistered outside Terraform
		return
	}
	desc, err := reg.ImageDescription(ctx, id)
	if err != nil {
		resp.Diagnostics.AddError("Image Read Error", fmt.Sprintf("Reading the Sahara description of image %s failed.\n\n%v", id, err))
		return
	}
	m.ImageID = types.StringValue(id)
	m.Name = types.StringValue(im.Name)
	m.Username = types.StringValue(im.Username)
	m.Description = strOrNull(desc)
	if len(im.Tags) == 0 {
		m.Tags = types.SetNull(types.StringType)
	} else {
		tags := append([]string(nil), im.Tags...)
		sort.Strings(tags)
		sv, d := types.SetValueFrom(ctx, types.StringType, tags)
		resp.Diagnostics.Append(d...)
		m.Tags = sv
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update writes the properties again: registering is idempotent.
func (r *imageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// apply registers the planned properties on the image and records them.
func (r *imageResource) apply(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diagsT) {
	var m imageModel
	diags.Append(plan.Get(ctx, &m)...)
	reg := r.registry(ctx, diags)
	if diags.HasError() {
		return
	}
	r.register(ctx, reg, &m, diags)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}

func (r *imageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	reg := r.registry(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := reg.UnregisterImage(ctx, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Image Unregister Error",
			fmt.Sprintf("Removing the _sahara_* properties of image %s failed; it stays in state, retry the destroy.\n\n%v", m.ID.ValueString(), err))
	}
}

func (r *imageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

func (r *imageResource) register(ctx context.Context, reg ImageRegistry, m *imageModel, diags *diagsT) {
	id := m.ImageID.ValueString()
	var tags []string
	if !m.Tags.IsNull() {
		diags.Append(m.Tags.ElementsAs(ctx, &tags, false)...)
	}
	if err := reg.RegisterImage(ctx, id, m.Username.ValueString(), m.Description.ValueString(), tags); err != nil {
		title := "Image Register Error"
		detail := fmt.Sprintf("Writing the Sahara properties of image %s failed. Check that the image exists and that you may edit it (own it, or be admin).\n\n%v", id, err)
		if isNotFound(err) {
			diags.AddAttributeError(path.Root("image_id"), title, detail)
			return
		}
		diags.AddError(title, detail)
		return
	}
	im, err := reg.GetImage(ctx, id)
	if err != nil {
		diags.AddError("Image Read Error", fmt.Sprintf("Reading image %s back failed.\n\n%v", id, err))
		return
	}
	m.ID = types.StringValue(id)
	m.Name = types.StringValue(im.Name)
}
