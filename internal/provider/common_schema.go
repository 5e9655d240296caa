package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Schema pieces the template and cluster resources share.

const inPlace = " Changes are applied in place."

// pluginAttributes are plugin_name and plugin_version.
func pluginAttributes(note string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"plugin_name": schema.StringAttribute{Required: true,
			Validators:          []validator.String{stringvalidator.OneOf(pluginNames()...)},
			MarkdownDescription: "Data-processing plugin: one of " + docList(pluginNames()) + "." + note},
		"plugin_version": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "Version of the plugin (Sahara's `hadoop_version` in API v1); see the `versions` of the `saharagen_plugin` data source." + note},
	}
}

// templateCommonAttributes are description, is_public, is_protected, created_at and updated_at.
func templateCommonAttributes(note string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: "Free-form description." + note},
		"is_public": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			MarkdownDescription: "Visible to other projects that share the template store." + note},
		"is_protected": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			MarkdownDescription: "Protected objects cannot be changed or deleted until this is set back to false (that change alone is allowed)." + note},
		"created_at": schema.StringAttribute{Computed: true, MarkdownDescription: "Creation time (RFC 3339).",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"updated_at": schema.StringAttribute{Computed: true, MarkdownDescription: "Time of the last change (RFC 3339)."},
	}
}
