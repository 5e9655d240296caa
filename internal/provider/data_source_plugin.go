package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ datasource.DataSourceWithConfigure = (*pluginDataSource)(nil)

// NewPluginDataSource is the saharagen_plugin data source.
func NewPluginDataSource() datasource.DataSource { return &pluginDataSource{} }

type pluginDataSource struct {
	data *providerData
}

type pluginModel struct {
	Name              types.String `tfsdk:"name"`
	Version           types.String `tfsdk:"version"`
	Title             types.String `tfsdk:"title"`
	Description       types.String `tfsdk:"description"`
	Versions          types.List   `tfsdk:"versions"`
	NodeProcesses     types.Map    `tfsdk:"node_processes"`
	RequiredImageTags types.List   `tfsdk:"required_image_tags"`
	Configs           types.List   `tfsdk:"configs"`
	SupportsScaling   types.Bool   `tfsdk:"supports_scaling"`
	SupportsConvert   types.Bool   `tfsdk:"supports_convert"`
}

var pluginConfigType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "description": types.StringType, "type": types.StringType, "default": types.StringType,
	"values": types.ListType{ElemType: types.StringType}, "target": types.StringType, "scope": types.StringType,
	"is_optional": types.BoolType, "priority": types.Int64Type, "secret": types.BoolType,
}}

func (d *pluginDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_plugin"
}

func (d *pluginDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = pluginSchemaV0()
}

func pluginSchemaV0() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "What a data-processing plugin offers for one version: its versions, node processes by service, the image tags it " +
			"requires, and its configs (what `node_configs` and `cluster_configs` accept). Needs no cloud.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.OneOf(pluginNames()...)},
				MarkdownDescription: "Plugin name: one of " + docList(pluginNames()) + "."},
			"version": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Plugin version the other attributes describe; default the newest (last) of `versions`."},
			"title":       schema.StringAttribute{Computed: true, MarkdownDescription: "Human-readable name."},
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: "What the plugin deploys."},
			"versions": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Every version the plugin supports."},
			"node_processes": schema.MapAttribute{Computed: true, ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "Node processes by service: the values `node_processes` accepts."},
			"required_image_tags": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Tags an image must carry (`saharagen_image.tags`) to be used with this plugin version."},
			"supports_scaling": schema.BoolAttribute{Computed: true,
				MarkdownDescription: "Whether clusters of this plugin can be scaled in place (the plugin implements scale and decommission)."},
			"supports_convert": schema.BoolAttribute{Computed: true,
				MarkdownDescription: "Whether `saharagen_cluster_template.convert_from` works with this plugin."},
			"configs": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "Configs of the plugin version, Sahara's common configs first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Config name (the key in `node_configs`/`cluster_configs`)."},
					"description": schema.StringAttribute{Computed: true, MarkdownDescription: "What the config does."},
					"type":        schema.StringAttribute{Computed: true, MarkdownDescription: "Value type: one of " + docList(configTypes()) + "."},
					"default":     schema.StringAttribute{Computed: true, MarkdownDescription: "Default value as a string; null when there is none."},
					"values":      schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Allowed values of an `enum` config."},
					"target":      schema.StringAttribute{Computed: true, MarkdownDescription: "Applicable target: a service of `node_processes`, or `" + sahara.TargetGeneral + "`."},
					"scope":       schema.StringAttribute{Computed: true, MarkdownDescription: "Where it may be set: one of " + docList(configScopes()) + "."},
					"is_optional": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the plugin works without a value."},
					"priority":    schema.Int64Attribute{Computed: true, MarkdownDescription: "1 for commonly set configs, 2 for advanced ones."},
					"secret":      schema.BoolAttribute{Computed: true, MarkdownDescription: "A password or key: accepted only in a cluster's `secret_configs` (or `sensitive_configs`)."},
				}},
			},
		},
	}
}

func (d *pluginDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *pluginDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m pluginModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	reg, err := staticRegistry()
	if d.data != nil {
		reg = d.data.plugins
	}
	if err != nil {
		resp.Diagnostics.AddError("Plugin Registry Error", err.Error())
		return
	}
	p, err := reg.Get(m.Name.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Unknown Plugin", err.Error())
		return
	}
	versions := p.Versions()
	version := m.Version.ValueString()
	if version == "" && len(versions) > 0 {
		version = versions[len(versions)-1]
	}
	if !sahara.SupportsVersion(p, version) {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "Unsupported Plugin Version",
			fmt.Sprintf("Requested plugin '%s' doesn't support version '%s' (supported: %s)", p.Name(), version, strings.Join(versions, ", ")))
		return
	}
	services, err := p.NodeProcesses(version)
	if err != nil {
		resp.Diagnostics.AddError("Plugin Error", fmt.Sprintf("Listing the node processes of %s %s failed.\n\n%v", p.Name(), version, err))
		return
	}
	configs, err := sahara.AllConfigs(p, version)
	if err != nil {
		resp.Diagnostics.AddError("Plugin Error", fmt.Sprintf("Listing the configs of %s %s failed.\n\n%v", p.Name(), version, err))
		return
	}
	procs := map[string]attr.Value{}
	for _, s := range services {
		procs[s.Name] = listOrEmpty(s.Processes)
	}
	cfgVals := make([]attr.Value, 0, len(configs))
	for _, c := range configs {
		def := types.StringNull()
		if c.Default != nil {
			def = types.StringValue(sahara.AsString(c.Default))
		}
		cfgVals = append(cfgVals, types.ObjectValueMust(pluginConfigType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(c.Name), "description": types.StringValue(c.Description), "type": types.StringValue(string(c.Type)),
			"default": def, "values": listOrEmpty(c.Values), "target": types.StringValue(c.Target), "scope": types.StringValue(c.Scope),
			"is_optional": types.BoolValue(c.IsOptional), "priority": types.Int64Value(int64(c.Priority)), "secret": types.BoolValue(c.Secret),
		}))
	}
	tags := sahara.RequiredImageTags(p, version)
	sort.Strings(versions)
	_, scales := p.(sahara.Scaler)
	_, converts := p.(sahara.Converter)
	m.Version = types.StringValue(version)
	m.Title = types.StringValue(p.Title())
	m.Description = types.StringValue(p.Description())
	m.Versions = listOrEmpty(p.Versions())
	m.NodeProcesses = types.MapValueMust(types.ListType{ElemType: types.StringType}, procs)
	m.RequiredImageTags = listOrEmpty(tags)
	m.Configs = types.ListValueMust(pluginConfigType, cfgVals)
	m.SupportsScaling = types.BoolValue(scales)
	m.SupportsConvert = types.BoolValue(converts)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
