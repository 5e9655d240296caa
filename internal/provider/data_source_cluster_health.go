package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ datasource.DataSourceWithConfigure = (*clusterHealthDataSource)(nil)

// NewClusterHealthDataSource is the saharagen_cluster_health data source.
func NewClusterHealthDataSource() datasource.DataSource { return &clusterHealthDataSource{} }

type clusterHealthDataSource struct {
	data *providerData
}

type clusterHealthModel struct {
	ClusterID            types.String `tfsdk:"cluster_id"`
	ManagementPrivateKey types.String `tfsdk:"management_private_key"`
	Status               types.String `tfsdk:"status"`
	Checks               types.List   `tfsdk:"checks"`
}

var healthCheckType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "status": types.StringType, "description": types.StringType,
	"instances": types.MapType{ElemType: types.StringType},
}}

func (d *clusterHealthDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_health"
}

func (d *clusterHealthDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The health of a cluster now, as Sahara's cluster verifications reported it: the engine's checks (every server " +
			"`ACTIVE` in the cloud, every instance answering SSH with its pinned host key) then the plugin's (dask: the scheduler answers, " +
			"every worker is connected; vanilla and spark: every datanode live, no missing, corrupt or under-replicated blocks, DFS use " +
			"under 90%, every nodemanager running or Spark worker alive), each `GREEN`, `YELLOW` or `RED` with a description and what it found per instance. Every read " +
			"runs them (one server list, one SSH command per instance, the plugin's checks; bounded: 30 s per instance, 2 min for the " +
			"plugin), so gate a pipeline on it with `check` blocks or `postcondition`s. A server that is gone or in `ERROR` is the " +
			"repair the next `terraform apply` of the cluster makes.",
		Attributes: map[string]schema.Attribute{
			"cluster_id": schema.StringAttribute{Required: true, MarkdownDescription: "The cluster (`saharagen_cluster.<name>.id`)."},
			"management_private_key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The cluster's `management_private_key`: the checks log in with it. It lives only in the state of the " +
					"workspace that created the cluster."},
			"status": schema.StringAttribute{Computed: true, MarkdownDescription: "The worst status of the checks: `GREEN`, `YELLOW` or `RED`."},
			"checks": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The checks, the engine's first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "What is checked."},
					"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "`GREEN`, `YELLOW` or `RED`."},
					"description": schema.StringAttribute{Computed: true, MarkdownDescription: "What the check found."},
					"instances": schema.MapAttribute{Computed: true, ElementType: types.StringType,
						MarkdownDescription: "By instance name, what the check found on the instances at fault."},
				}}},
		},
	}
}

func (d *clusterHealthDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *clusterHealthDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterHealthModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, diags := d.data.Backend(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var c sahara.Cluster
	if !storeGet(ctx, b.Store, sahara.KindCluster, m.ClusterID.ValueString(), &c, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddAttributeError(path.Root("cluster_id"), "Cluster Not Found",
				"No cluster "+m.ClusterID.ValueString()+" in "+d.data.storeName()+".")
		}
		return
	}
	c.Link()
	c.ManagementPrivateKey = m.ManagementPrivateKey.ValueString()
	eng, err := d.data.Engine(ctx, b.ForCluster(&c), map[string]any{"cluster_id": c.ID}, nil)
	if err != nil {
		resp.Diagnostics.AddError("Engine Error", err.Error())
		return
	}
	results, err := eng.CheckHealth(ctx, &c)
	if err != nil {
		resp.Diagnostics.AddError("Health Check Failed", "The health of cluster "+c.Name+" could not be checked: "+err.Error())
		return
	}
	checks := make([]attr.Value, 0, len(results))
	for _, r := range results {
		checks = append(checks, types.ObjectValueMust(healthCheckType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(r.Name), "status": types.StringValue(string(r.Status)),
			"description": types.StringValue(r.Message), "instances": stringMap(r.Instances),
		}))
	}
	m.Status = types.StringValue(string(sahara.WorstHealth(results)))
	m.Checks = types.ListValueMust(healthCheckType, checks)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
