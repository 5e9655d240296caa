package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// nodeGroupFields are the fields of a Sahara node group template (its REST
// schema, v2 API) shared by saharagen_node_group_template and the node groups of
// cluster templates and clusters.
type nodeGroupFields struct {
	FlavorID                   types.String `tfsdk:"flavor_id"`
	ImageID                    types.String `tfsdk:"image_id"`
	NodeProcesses              types.List   `tfsdk:"node_processes"`
	NodeConfigs                types.Map    `tfsdk:"node_configs"`
	VolumesPerNode             types.Int64  `tfsdk:"volumes_per_node"`
	VolumesSize                types.Int64  `tfsdk:"volumes_size"`
	VolumeType                 types.String `tfsdk:"volume_type"`
	VolumesAvailabilityZone    types.String `tfsdk:"volumes_availability_zone"`
	VolumeMountPrefix          types.String `tfsdk:"volume_mount_prefix"`
	VolumeLocalToInstance      types.Bool   `tfsdk:"volume_local_to_instance"`
	BootFromVolume             types.Bool   `tfsdk:"boot_from_volume"`
	BootVolumeType             types.String `tfsdk:"boot_volume_type"`
	BootVolumeAvailabilityZone types.String `tfsdk:"boot_volume_availability_zone"`
	BootVolumeLocalToInstance  types.Bool   `tfsdk:"boot_volume_local_to_instance"`
	FloatingIPPool             types.String `tfsdk:"floating_ip_pool"`
	SecurityGroups             types.List   `tfsdk:"security_groups"`
	AutoSecurityGroup          types.Bool   `tfsdk:"auto_security_group"`
	AvailabilityZone           types.String `tfsdk:"availability_zone"`
	IsProxyGateway             types.Bool   `tfsdk:"is_proxy_gateway"`
	UseAutoconfig              types.Bool   `tfsdk:"use_autoconfig"`
}

// configsType is the Terraform type of node_configs and cluster_configs:
// applicable target → config name → value.
var configsType = types.MapType{ElemType: types.MapType{ElemType: types.StringType}}

// ngMode says where the node group fields appear.
type ngMode int

const (
	// ngTemplate: top level of saharagen_node_group_template (flavor_id and
	// node_processes required, Sahara's defaults shown).
	ngTemplate ngMode = iota
	// ngNested: a node group of a cluster template or cluster, either
	// referencing a node group template or inline; unset fields are computed
	// from the referenced template.
	ngNested
)

const configsDoc = "Configs by applicable target (a service of the plugin, or `general`), then config name; values are strings and are checked against the plugin's config types at plan time (`\"2\"` for an int, `\"true\"` for a bool). See the `saharagen_plugin` data source for the list."

// nodeGroupFieldAttributes returns the schema of the node group fields. note
// is appended to every description (what a change does).
func nodeGroupFieldAttributes(mode ngMode, note string) map[string]schema.Attribute {
	tmpl := mode == ngTemplate
	fromTemplate := ""
	if !tmpl {
		fromTemplate = " When unset, taken from the referenced node group template (or Sahara's default)."
	}
	d := func(s string) string { return s + fromTemplate + note }
	optStr := func(desc string, v ...validator.String) schema.StringAttribute {
		v = append(v, stringvalidator.LengthAtLeast(1))
		return schema.StringAttribute{Optional: true, Computed: !tmpl, MarkdownDescription: d(desc), Validators: v}
	}
	optBool := func(desc string, def bool) schema.BoolAttribute {
		a := schema.BoolAttribute{Optional: true, Computed: true, MarkdownDescription: d(desc)}
		if tmpl {
			a.Default = booldefault.StaticBool(def)
		}
		return a
	}
	optInt := func(desc string, def int64, v ...validator.Int64) schema.Int64Attribute {
		a := schema.Int64Attribute{Optional: true, Computed: true, MarkdownDescription: d(desc), Validators: v}
		if tmpl {
			a.Default = int64default.StaticInt64(def)
		}
		return a
	}
	mountPrefix := optStr("Mount points of the volumes are this prefix plus 1..N. Default `"+sahara.DefaultVolumeMountPrefix+"`.",
		stringvalidator.RegexMatches(posixPathRE, "must be an absolute path of letters, digits, `-` and `_`"))
	if tmpl {
		mountPrefix.Computed = true
		mountPrefix.Default = stringdefault.StaticString(sahara.DefaultVolumeMountPrefix)
	}
	attrs := map[string]schema.Attribute{
		"flavor_id": schema.StringAttribute{Required: tmpl, Optional: !tmpl, Computed: !tmpl,
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			MarkdownDescription: d("Nova flavor of the instances, by name or ID (checked at plan). Required for an inline node group.")},
		"image_id": optStr("Glance image of the instances, by name or ID; it must be registered for Sahara (`saharagen_image`) with the plugin's required tags. Default: the cluster's `default_image_id`."),
		"node_processes": schema.ListAttribute{Required: tmpl, Optional: !tmpl, Computed: !tmpl, ElementType: types.StringType,
			Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()},
			MarkdownDescription: d("Processes the instances run, as the plugin names them (see `saharagen_plugin`); checked against the plugin at plan time. Required for an inline node group.")},
		"node_configs": schema.MapAttribute{Optional: true, Computed: !tmpl, ElementType: configsType.ElemType,
			Validators: []validator.Map{mapvalidator.SizeAtLeast(1)}, MarkdownDescription: d(configsDoc)},
		"volumes_per_node":              optInt("Cinder volumes attached to each instance.", 0, int64validator.AtLeast(0)),
		"volumes_size":                  optInt("Size of each volume in GB; needed when `volumes_per_node` > 0.", 0, int64validator.AtLeast(0)),
		"volume_type":                   optStr("Cinder volume type of the volumes."),
		"volumes_availability_zone":     optStr("Cinder availability zone of the volumes."),
		"volume_mount_prefix":           mountPrefix,
		"volume_local_to_instance":      optBool("Create the volumes on the instance's host (Cinder's InstanceLocalityFilter).", false),
		"boot_from_volume":              optBool("Boot the instances from a Cinder volume created from the image, of the flavor's disk size and deleted with the instance.", false),
		"boot_volume_type":              optStr("Cinder volume type of the boot volume."),
		"boot_volume_availability_zone": optStr("Cinder availability zone of the boot volume."),
		"boot_volume_local_to_instance": optBool("Accepted as in Sahara, without effect: the boot volume is created before its instance, so Cinder's `local_to_instance` hint has no instance to name.", false),
		"floating_ip_pool":              optStr("External network (name or ID) to allocate a floating IP from for each instance; the floating IP becomes the management IP."),
		"security_groups": schema.ListAttribute{Optional: true, Computed: !tmpl, ElementType: types.StringType,
			Validators: []validator.List{listvalidator.SizeAtLeast(1)}, MarkdownDescription: d("Security groups (names or IDs) of the instances.")},
		"auto_security_group": optBool("Create a security group for the node group that opens only the plugin's ports plus SSH.", false),
		"availability_zone":   optStr("Nova availability zone of the instances."),
		"is_proxy_gateway":    optBool("Instances of this group relay SSH to instances without a floating IP.", false),
		"use_autoconfig":      optBool("Let the plugin size memory settings from the flavor.", true),
	}
	return attrs
}

// spec converts the fields to the library's NodeGroupSpec (unset → zero).
func (f nodeGroupFields) spec(ctx context.Context) (sahara.NodeGroupSpec, diagsT) {
	var diags diagsT
	s := sahara.NodeGroupSpec{
		FlavorID:                   f.FlavorID.ValueString(),
		ImageID:                    f.ImageID.ValueString(),
		VolumesPerNode:             int(f.VolumesPerNode.ValueInt64()),
		VolumesSize:                int(f.VolumesSize.ValueInt64()),
		VolumeType:                 f.VolumeType.ValueString(),
		VolumesAvailabilityZone:    f.VolumesAvailabilityZone.ValueString(),
		VolumeMountPrefix:          f.VolumeMountPrefix.ValueString(),
		VolumeLocalToInstance:      f.VolumeLocalToInstance.ValueBool(),
		BootFromVolume:             f.BootFromVolume.ValueBool(),
		BootVolumeType:             f.BootVolumeType.ValueString(),
		BootVolumeAvailabilityZone: f.BootVolumeAvailabilityZone.ValueString(),
		BootVolumeLocalToInstance:  f.BootVolumeLocalToInstance.ValueBool(),
		FloatingIPPool:             f.FloatingIPPool.ValueString(),
		AutoSecurityGroup:          f.AutoSecurityGroup.ValueBool(),
		AvailabilityZone:           f.AvailabilityZone.ValueString(),
		IsProxyGateway:             f.IsProxyGateway.ValueBool(),
	}
	if !f.UseAutoconfig.IsNull() && !f.UseAutoconfig.IsUnknown() {
		b := f.UseAutoconfig.ValueBool()
		s.UseAutoconfig = &b
	}
	s.NodeProcesses = stringList(ctx, f.NodeProcesses, &diags)
	s.SecurityGroups = stringList(ctx, f.SecurityGroups, &diags)
	s.NodeConfigs = configsFrom(ctx, f.NodeConfigs, &diags)
	return s, diags
}

// nodeGroupFieldsFrom converts a spec back; empty strings, lists and maps become null.
func nodeGroupFieldsFrom(s sahara.NodeGroupSpec) nodeGroupFields {
	autoconfig := true
	if s.UseAutoconfig != nil {
		autoconfig = *s.UseAutoconfig
	}
	return nodeGroupFields{
		FlavorID:                   strOrNull(s.FlavorID),
		ImageID:                    strOrNull(s.ImageID),
		NodeProcesses:              listOrNull(s.NodeProcesses),
		NodeConfigs:                configsValue(s.NodeConfigs),
		VolumesPerNode:             types.Int64Value(int64(s.VolumesPerNode)),
		VolumesSize:                types.Int64Value(int64(s.VolumesSize)),
		VolumeType:                 strOrNull(s.VolumeType),
		VolumesAvailabilityZone:    strOrNull(s.VolumesAvailabilityZone),
		VolumeMountPrefix:          types.StringValue(s.MountPrefix()),
		VolumeLocalToInstance:      types.BoolValue(s.VolumeLocalToInstance),
		BootFromVolume:             types.BoolValue(s.BootFromVolume),
		BootVolumeType:             strOrNull(s.BootVolumeType),
		BootVolumeAvailabilityZone: strOrNull(s.BootVolumeAvailabilityZone),
		BootVolumeLocalToInstance:  types.BoolValue(s.BootVolumeLocalToInstance),
		FloatingIPPool:             strOrNull(s.FloatingIPPool),
		SecurityGroups:             listOrNull(s.SecurityGroups),
		AutoSecurityGroup:          types.BoolValue(s.AutoSecurityGroup),
		AvailabilityZone:           strOrNull(s.AvailabilityZone),
		IsProxyGateway:             types.BoolValue(s.IsProxyGateway),
		UseAutoconfig:              types.BoolValue(autoconfig),
	}
}

func strOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func listOrNull(l []string) types.List {
	if len(l) == 0 {
		return types.ListNull(types.StringType)
	}
	return types.ListValueMust(types.StringType, stringValues(l))
}

func setOrNull(l []string) types.Set {
	if len(l) == 0 {
		return types.SetNull(types.StringType)
	}
	return types.SetValueMust(types.StringType, stringValues(l))
}

func stringValues(l []string) []attr.Value {
	vals := make([]attr.Value, len(l))
	for i, s := range l {
		vals[i] = types.StringValue(s)
	}
	return vals
}

func stringList(ctx context.Context, l types.List, diags *diagsT) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

// configsFrom converts a configs map; values stay strings (the plugin parses them).
func configsFrom(ctx context.Context, m types.Map, diags *diagsT) sahara.Configs {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	var raw map[string]map[string]string
	diags.Append(m.ElementsAs(ctx, &raw, false)...)
	out := sahara.Configs{}
	for target, kv := range raw {
		for k, v := range kv {
			out.Set(target, k, v)
		}
	}
	return out
}

// configsValue renders configs as strings; empty configs become null.
func configsValue(c sahara.Configs) types.Map {
	if len(c) == 0 {
		return types.MapNull(configsType.ElemType)
	}
	outer := map[string]attr.Value{}
	for target, kv := range c {
		inner := map[string]attr.Value{}
		for k, v := range kv {
			inner[k] = types.StringValue(sahara.AsString(v))
		}
		outer[target] = types.MapValueMust(types.StringType, inner)
	}
	return types.MapValueMust(configsType.ElemType, outer)
}

// applyExplicit re-applies the booleans and integers the configuration sets:
// ResolveNodeGroup cannot tell an explicit false or 0 from unset, but the
// configuration can, and Sahara's merge honours explicit values.
func applyExplicit(s *sahara.NodeGroupSpec, f nodeGroupFields) {
	setB := func(v types.Bool, dst *bool) {
		if !v.IsNull() && !v.IsUnknown() {
			*dst = v.ValueBool()
		}
	}
	setI := func(v types.Int64, dst *int) {
		if !v.IsNull() && !v.IsUnknown() {
			*dst = int(v.ValueInt64())
		}
	}
	setB(f.VolumeLocalToInstance, &s.VolumeLocalToInstance)
	setB(f.BootFromVolume, &s.BootFromVolume)
	setB(f.BootVolumeLocalToInstance, &s.BootVolumeLocalToInstance)
	setB(f.AutoSecurityGroup, &s.AutoSecurityGroup)
	setB(f.IsProxyGateway, &s.IsProxyGateway)
	setI(f.VolumesPerNode, &s.VolumesPerNode)
	setI(f.VolumesSize, &s.VolumesSize)
	if !f.UseAutoconfig.IsNull() && !f.UseAutoconfig.IsUnknown() {
		b := f.UseAutoconfig.ValueBool()
		s.UseAutoconfig = &b
	}
}

func stringMap(m map[string]string) types.Map {
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}
