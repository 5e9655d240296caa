package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var (
	_ resource.ResourceWithConfigure      = (*clusterResource)(nil)
	_ resource.ResourceWithImportState    = (*clusterResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*clusterResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterResource)(nil)
)

// Default operation timeouts (Sahara's own waits are hours; a small cluster takes minutes).
const (
	defaultCreateTimeout = 60 * time.Minute
	defaultUpdateTimeout = 60 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
)

// NewClusterResource is the saharagen_cluster resource.
func NewClusterResource() resource.Resource { return &clusterResource{} }

type clusterResource struct {
	data *providerData
}

type clusterModel struct {
	ID                       types.String   `tfsdk:"id"`
	Name                     types.String   `tfsdk:"name"`
	PluginName               types.String   `tfsdk:"plugin_name"`
	PluginVersion            types.String   `tfsdk:"plugin_version"`
	ClusterTemplateID        types.String   `tfsdk:"cluster_template_id"`
	Description              types.String   `tfsdk:"description"`
	DefaultImageID           types.String   `tfsdk:"default_image_id"`
	UserKeypairID            types.String   `tfsdk:"user_keypair_id"`
	NeutronManagementNetwork types.String   `tfsdk:"neutron_management_network"`
	ClusterConfigs           types.Map      `tfsdk:"cluster_configs"`
	AntiAffinity             types.List     `tfsdk:"anti_affinity"`
	IsPublic                 types.Bool     `tfsdk:"is_public"`
	IsProtected              types.Bool     `tfsdk:"is_protected"`
	Engine                   types.String   `tfsdk:"engine"`
	NodeGroups               types.Map      `tfsdk:"node_groups"`
	Status                   types.String   `tfsdk:"status"`
	StatusDescription        types.String   `tfsdk:"status_description"`
	Info                     types.Map      `tfsdk:"info"`
	ManagementPublicKey      types.String   `tfsdk:"management_public_key"`
	ManagementPrivateKey     types.String   `tfsdk:"management_private_key"`
	Credentials              types.Map      `tfsdk:"credentials"`
	LastOperation            types.Object   `tfsdk:"last_operation"`
	SecretConfigs            types.Map      `tfsdk:"secret_configs"`
	SecretConfigsVersion     types.String   `tfsdk:"secret_configs_version"`
	SensitiveConfigs         types.Map      `tfsdk:"sensitive_configs"`
	Timeouts                 timeouts.Value `tfsdk:"timeouts"`
}

type clusterNodeGroupModel struct {
	NodeGroupTemplateID types.String `tfsdk:"node_group_template_id"`
	Count               types.Int64  `tfsdk:"count"`
	InstancesToRemove   types.List   `tfsdk:"instances_to_remove"`
	UpdatePolicy        types.Object `tfsdk:"update_policy"`
	// AutoSecurityGroupCIDRs is the cluster's own: templates do not carry it.
	AutoSecurityGroupCIDRs types.Set `tfsdk:"auto_security_group_cidrs"`
	nodeGroupFields
	Instances            types.List `tfsdk:"instances"`
	InstancesToBeRemoved types.List `tfsdk:"instances_to_be_removed"`
}

// instanceModel is one element of a node group's instances.
type instanceModel struct {
	Name         string   `tfsdk:"name"`
	ID           string   `tfsdk:"id"`
	InternalIP   string   `tfsdk:"internal_ip"`
	ManagementIP string   `tfsdk:"management_ip"`
	Volumes      []string `tfsdk:"volumes"`
	HostKey      string   `tfsdk:"host_key"`
	Status       string   `tfsdk:"status"`
}

var instanceType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "id": types.StringType, "internal_ip": types.StringType, "management_ip": types.StringType,
	"volumes": types.ListType{ElemType: types.StringType}, "host_key": types.StringType, "status": types.StringType,
}}

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = clusterSchemaV0(ctx)
}

const (
	replaces = " Changing it replaces the cluster."
	rollsNG  = " Changing it on an existing node group **rolls that group in place**: its instances are replaced one at a time " +
		"through the plugin's scale path (a new one added, then an old one decommissioned); the cluster and its other groups stay. " +
		"A group the plugin cannot scale (one running a master process) cannot be rolled: the plan warns and the apply refuses."
	fromTmplDoc = " When unset, taken from the cluster template."
)

func clusterSchemaV0(ctx context.Context) schema.Schema {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceKeep := []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()}
	ngAttrs := nodeGroupFieldAttributes(ngNested, rollsNG)
	ngAttrs["node_group_template_id"] = schema.StringAttribute{Optional: true, Computed: true,
		MarkdownDescription: "ID of a `saharagen_node_group_template` the node group is based on; fields set here override the template's." + rollsNG}
	ngAttrs["count"] = schema.Int64Attribute{Optional: true, Computed: true, Validators: []validator.Int64{int64validator.AtLeast(0)},
		MarkdownDescription: "Number of instances. Required for each node group written in `node_groups`. **Changing it scales the cluster in place** " +
			"(Sahara's scale: new instances are configured by the plugin, removed ones are decommissioned first); the plan shows the instances " +
			"that will be removed in `instances_to_be_removed`, and fails when the plugin's validate_scaling refuses the new layout."}
	ngAttrs["instances_to_remove"] = schema.ListAttribute{Optional: true, ElementType: types.StringType,
		Validators: []validator.List{listvalidator.UniqueValues()},
		MarkdownDescription: "Instances (names or server IDs) to remove first when `count` goes down, as Sahara's `resize_node_groups[].instances`; " +
			"the rest are chosen by the engine (in error or unreachable first, then highest index). Names a previous apply already removed are ignored; " +
			"any other name must be an instance of the node group, else the plan fails with Sahara's `Instance <name> not found`. Changing it alone does nothing to the cluster."}
	ngAttrs["update_policy"] = schema.SingleNestedAttribute{Optional: true,
		MarkdownDescription: "How a rolling replacement of the group is paced (a change of a field that needs new servers). " +
			"A batch retires `max_unavailable` old instances, adds `max_surge` + `max_unavailable` new ones, then retires the rest of the batch; " +
			"the group runs between `count - max_unavailable` and `count + max_surge` instances. " +
			"Unset: one at a time, a new instance first (`max_surge = 1`, `max_unavailable = 0`). " +
			"The plugin may cap the instances retired at once (vanilla: `dfs.replication - 1` datanodes, so every block keeps a copy " +
			"on a datanode that stays); a `max_unavailable` above that cap fails at plan. Changing it alone does nothing to the cluster.",
		Attributes: map[string]schema.Attribute{
			"max_surge": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.Between(0, 100)},
				MarkdownDescription: "New instances a batch adds above `count` before old ones go. Default 1 (0 when `max_unavailable` is set)."},
			"max_unavailable": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.Between(0, 100)},
				MarkdownDescription: "Old instances a batch retires before their replacements are added, for a project without room for more servers. Default 0."},
		}}
	ngAttrs["auto_security_group_cidrs"] = schema.SetAttribute{Optional: true, ElementType: types.StringType,
		Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(cidrValidator{})},
		MarkdownDescription: "Networks (CIDRs such as `203.0.113.0/24` or `2001:db8::/48`) allowed to reach the plugin's user-facing ports " +
			"(its UIs, the Dask scheduler; `saharagen_plugin` lists them) through the group's auto security group; needs `auto_security_group`. " +
			"Unset, only the cluster's own instances reach them: an auto security group admits every protocol from the members of the " +
			"cluster's auto security groups, SSH (22) from anywhere, and nothing else. **Changing it updates the rules in place.**"}
	ngAttrs["instances"] = schema.ListNestedAttribute{Computed: true,
		MarkdownDescription: "The node group's instances, in index order.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"name":          schema.StringAttribute{Computed: true, MarkdownDescription: "Instance name, `<cluster>-<node group>-<index>` (also its hostname)."},
			"id":            schema.StringAttribute{Computed: true, MarkdownDescription: "Nova server ID."},
			"internal_ip":   schema.StringAttribute{Computed: true, MarkdownDescription: "Fixed IP on the cluster network."},
			"management_ip": schema.StringAttribute{Computed: true, MarkdownDescription: "IP the provider reaches the instance on: the floating IP when there is one, else the internal IP."},
			"volumes":       schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "IDs of the Cinder volumes attached to the instance."},
			"host_key":      schema.StringAttribute{Computed: true, MarkdownDescription: "The instance's SSH host key (authorized_keys format), pinned at first contact and verified on every later connection."},
			"status":        schema.StringAttribute{Computed: true, MarkdownDescription: "Server status last seen in the cloud (`ACTIVE`, `ERROR`, …); `" + sahara.CloudStatusMissing + "` when the server no longer exists."},
		}}}
	ngAttrs["instances_to_be_removed"] = schema.ListAttribute{Computed: true, ElementType: types.StringType,
		MarkdownDescription: "In a plan: the names of the instances this update removes from the node group, in removal order " +
			"(`instances_to_remove` first, then the engine's choice). After apply: those the last update removed."}

	return schema.Schema{
		MarkdownDescription: "A data-processing cluster provisioned the way Sahara does it: validated against the plugin at plan time, " +
			"servers, volumes and networking created on OpenStack (every object tagged with the cluster's ID), then configured and started " +
			"by the plugin over SSH. Progress is logged at INFO (`TF_LOG=INFO`): each status (`" + strings.Join(clusterStatuses()[1:9], "` → `") +
			"`) and per-step instance counts.\n\n" +
			"**In place:** a node group's `count`, a new node group, `instances_to_remove`, `update_policy`, `auto_security_group_cidrs`, `description`, `is_public`, `is_protected`, `timeouts`. " +
			"**Rolled:** any other field of an existing node group (flavor, image, volumes, configs, …): the group's instances are replaced " +
			"batch by batch through the plugin's scale path; the cluster and its other groups stay. " +
			"**Replace:** every other attribute, and removing a node group (set its `count` to 0 to empty it in place).\n\n" +
			"A failed create keeps the cluster in state with `status` `Error` and the reason in `status_description`; Terraform marks it tainted, " +
			"and the next apply deletes every object tagged with it before creating a new one.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Cluster ID (a UUID); every cloud object of the cluster carries it (`" + sahara.TagCluster + "`).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 50), stringvalidator.RegexMatches(hostnameRE, "must be "+hostnameRule)},
				MarkdownDescription: "Cluster name, " + hostnameRule + ", unique among the project's clusters; instance hostnames are `<name>-<node group>-<index>`." + replaces},
			"plugin_name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				Validators:          []validator.String{stringvalidator.OneOf(pluginNames()...)},
				MarkdownDescription: "Data-processing plugin: one of " + docList(pluginNames()) + "." + replaces},
			"plugin_version": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "Plugin version (Sahara's `hadoop_version`)." + replaces},
			"cluster_template_id": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				MarkdownDescription: "A `saharagen_cluster_template` to start from: its fields come first, the cluster's own values replace them, " +
					"`node_groups` given here replace the template's list, cluster configs are merged." + replaces},
			"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
				MarkdownDescription: "Free-form description." + inPlace},
			"engine": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replaceKeep,
				Validators: []validator.String{stringvalidator.OneOf(engines...)},
				MarkdownDescription: "What provisions the cluster's cloud objects: `direct` (the provider calls Nova, Neutron and Cinder) or " +
					"`heat` (the cluster is one Heat stack, named `<name><first 8 characters of the id>` and tagged with the cluster). " +
					"Default: the provider's `engine`. The cluster keeps the engine that created it: a change of the provider's `engine` " +
					"leaves it alone, and its refresh, scale and delete use its own. The objects of one engine cannot be handed to the " +
					"other, so setting a different value here replaces the cluster (the plan shows it)." + replaces},
			"default_image_id": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Image (name or ID) of node groups that set none; it must be registered (`saharagen_image`) with the plugin's required tags." + fromTmplDoc + replaces},
			"user_keypair_id": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Validators:          []validator.String{stringvalidator.RegexMatches(keypairNameRE, "must be a Nova keypair name (letters, digits, '-', '_', ' ')")},
				MarkdownDescription: "Nova keypair whose public key is also authorized on the instances, for your own logins." + replaces},
			"neutron_management_network": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Neutron network (name or ID) the instances are attached to." + fromTmplDoc + replaces},
			"cluster_configs": schema.MapAttribute{Optional: true, ElementType: configsType.ElemType,
				PlanModifiers: []planmodifier.Map{mapRequiresReplace()}, Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
				MarkdownDescription: configsDoc + " Merged over the cluster template's." + replaces},
			"anti_affinity": schema.ListAttribute{Optional: true, Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown(), listplanmodifier.RequiresReplace()},
				MarkdownDescription: "Processes whose instances must run on different hosts (a Nova anti-affinity server group)." + fromTmplDoc + replaces},
			"is_public": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Visible to other projects that share the template store." + inPlace},
			"is_protected": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "A protected cluster cannot be scaled or deleted until this is set back to false (that change alone is allowed)." + inPlace},
			"node_groups": schema.MapNestedAttribute{Optional: true, Computed: true,
				Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.RegexMatches(hostnameRE, "node group names must be "+hostnameRule))},
				MarkdownDescription: "Node groups by name: each either references a node group template (`node_group_template_id`) or is written inline " +
					"(`flavor_id`, `node_processes`), with `count`. When unset, the cluster template's node groups are used.",
				NestedObject: schema.NestedAttributeObject{Attributes: ngAttrs}},
			// Known in a plan that changes no instance (ModifyPlan marks them
			// unknown when one does): an update of the description is quiet.
			"status": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Sahara status of the cluster: one of " + docList(clusterStatuses()) + "."},
			"status_description": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Why the cluster is in its status (the error of a failed operation)."},
			"info": schema.MapAttribute{Computed: true, ElementType: types.MapType{ElemType: types.StringType},
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "What the plugin tells users, by section then key, e.g. web UI URLs (`info[\"HDFS\"][\"Web UI\"]`)."},
			"management_public_key": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Public half of the per-cluster management key, authorized on every instance."},
			"management_private_key": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Private half of the management key (PEM): the provider logs in with it; anyone with the state can too. Never logged. " +
					"It lives only in Terraform state (the cluster's record in the object store holds no secret), so `terraform import` does not bring it: " +
					"an imported cluster can be read and destroyed, and is changed from the workspace that holds the key, or moved with its state (`terraform state mv -state-out`)."},
			"secret_configs": schema.MapAttribute{Optional: true, WriteOnly: true, ElementType: configsType.ElemType,
				Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
				MarkdownDescription: "Cluster configs that are secrets (passwords, secret keys; the `saharagen_plugin` data source marks them `secret`), " +
					"as `cluster_configs` are written. **Write-only** (Terraform 1.11 or later): Terraform passes them to the provider at each " +
					"plan and apply and keeps them in neither the plan nor the state, and the provider keeps them out of the cluster's record; the " +
					"instances get them in their config files. A config the plugin marks secret is refused anywhere else. Terraform cannot see a " +
					"change of a write-only value: change `secret_configs_version` with it. For Terraform before 1.11, use `sensitive_configs`."},
			"secret_configs_version": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				MarkdownDescription: "Any value you change when `secret_configs` change (Terraform sees that change instead)." + replaces},
			"sensitive_configs": schema.MapAttribute{Optional: true, Sensitive: true, ElementType: configsType.ElemType,
				PlanModifiers: []planmodifier.Map{mapRequiresReplace()}, Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
				MarkdownDescription: "`secret_configs` for Terraform before 1.11: the same, except that Terraform keeps them in the state " +
					"(marked sensitive: hidden in plans and output), so a change is seen. Never in the cluster's record." + replaces},
			"last_operation": schema.SingleNestedAttribute{Computed: true,
				PlanModifiers: []planmodifier.Object{objectplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Where the time of the cluster's last operation (create, scale, roll, repair) went, without `TF_LOG`: " +
					"Sahara's `provision_progress` steps with their instance counts, and the time spent in each status.",
				Attributes: map[string]schema.Attribute{
					"statuses": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Each status the operation went through, in order.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"status":     schema.StringAttribute{Computed: true, MarkdownDescription: "The status."},
							"started_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the cluster entered it (RFC 3339)."},
							"seconds":    schema.Float64Attribute{Computed: true, MarkdownDescription: "How long it stayed in it (0 for the status the operation ended in)."},
						}}},
					"steps": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The provisioning steps, in order.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Step, e.g. `Wait for instances to become accessible`."},
							"type":       schema.StringAttribute{Computed: true, MarkdownDescription: "Sahara's step type, e.g. `Engine: create cluster`."},
							"total":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Instances the step works on."},
							"successful": schema.Int64Attribute{Computed: true, MarkdownDescription: "Instances that finished it."},
							"failed":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Instances on which it failed."},
							"result":     schema.StringAttribute{Computed: true, MarkdownDescription: "`succeeded`, `failed` or `unfinished`."},
							"seconds":    schema.Float64Attribute{Computed: true, MarkdownDescription: "Its duration (unfinished: until the operation's last status change)."},
						}}},
					"failure": schema.StringAttribute{Computed: true, MarkdownDescription: "When the operation failed on instances: what was " +
						"collected from them before any rollback deleted them, as JSON — per instance the failed command, its exit status and " +
						"the tail of its output, and the last lines of the plugin's logs (bounded; the cluster's secrets masked as `****`). " +
						"Read it with `terraform state show` or `jsondecode(saharagen_cluster.<name>.last_operation.failure)`; the cluster's record keeps it too."},
				}},
			"credentials": schema.MapAttribute{Computed: true, Sensitive: true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Secrets the plugin issued to the cluster's users, by name. The dask plugin's, on a TLS cluster (the default): " +
					"`dask_tls_ca_cert`, `dask_tls_client_cert` and `dask_tls_client_key`, the PEM files a Dask client needs " +
					"(`distributed.security.Security(tls_ca_file, tls_client_cert, tls_client_key)`). The ambari plugin's " +
					"`ambari_admin_password` and the cdh plugin's `cloudera_manager_admin_password`, generated per cluster. Like `management_private_key`, " +
					"they live only in Terraform state: empty after `terraform import`."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *clusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what needs neither the plugin nor the cloud.
func (r *clusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.NodeGroups.IsNull() && m.ClusterTemplateID.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("node_groups"), "Missing Node Groups",
			"A cluster needs node groups: set node_groups, or cluster_template_id to use a cluster template's node groups.")
	}
	if m.NodeGroups.IsNull() || m.NodeGroups.IsUnknown() {
		return
	}
	groups := map[string]clusterNodeGroupModel{}
	resp.Diagnostics.Append(m.NodeGroups.ElementsAs(ctx, &groups, false)...)
	for name, g := range groups {
		p := path.Root("node_groups").AtMapKey(name)
		if g.Count.IsNull() {
			addAttrError(&resp.Diagnostics, p.AtName("count"), "Missing Node Group Count",
				fmt.Sprintf("Node group %q needs count (the number of instances, 0 or more).", name))
		}
	}
}

func (r *clusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	defer logUsage(ctx, "Create", b)()
	spec, d := r.resolveSpec(ctx, b.Store, &plan)
	resp.Diagnostics.Append(d...)
	var config clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec.ApplySecretConfigs(secretConfigsOf(ctx, &config, &resp.Diagnostics))
	engine := plan.Engine.ValueString()
	if engine == "" {
		engine = r.data.settings.Engine
	}
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.For(engine), map[string]any{"cluster_name": spec.Name}, rec.observe)
	if err != nil {
		resp.Diagnostics.AddError("Engine Error", "The provisioning engine could not be set up. This is a bug in the provider; please report it.\n\n"+err.Error())
		return
	}
	// Checks deferred by the plan (values known only now) fail before anything exists.
	if err := eng.ValidateSpec(ctx, spec); err != nil {
		addValidationErrors(&resp.Diagnostics, "Invalid Cluster", err)
		return
	}
	c, err := eng.NewCluster(spec)
	if err != nil {
		addValidationErrors(&resp.Diagnostics, "Invalid Cluster", err)
		return
	}
	c.Engine = engine
	defer r.saveSecrets(ctx, c.ID, resp.Private, &resp.Diagnostics)
	rememberRequestConfigs(ctx, c, plan.ClusterConfigs, &resp.Diagnostics)
	// Under the lease no other run creates this name or works on a cluster
	// of this name, so what the name check finds is settled.
	release := takeLeases(ctx, b.Store, sahara.KindCluster, "create", &resp.Diagnostics, c.Name)
	if release == nil {
		return
	}
	defer release()
	if old := findByName(ctx, b.Store, sahara.KindCluster, c.Name, "", &resp.Diagnostics); old != nil {
		r.removeInterruptedCreate(ctx, b, old, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// The record exists before any cloud object, so an interrupted apply
	// can always be found and deleted.
	storePut(ctx, b.Store, sahara.KindCluster, c.ID, c, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tflogInfo(ctx, "Creating cluster", map[string]any{"cluster_id": c.ID, "instances": countInstances(spec)})
	createErr := eng.Create(opCtx, c)
	if err := rec.flush(ctx, c); err != nil {
		recordNotSaved(&resp.Diagnostics, c, err)
	}

	state := clusterModelFrom(ctx, c, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	if createErr != nil || c.Status == sahara.StatusError {
		reason := c.StatusDescription
		if createErr != nil {
			reason = createErr.Error()
		}
		resp.Diagnostics.AddError("Cluster Provisioning Error",
			fmt.Sprintf("Creating cluster %q (%s) failed in %s. The cluster is kept in state with status Error and is tainted: "+
				"fix the cause and run `terraform apply` again to delete it and create a new one, or `terraform destroy` to remove it. "+
				"Everything created so far is tagged %s=%s.\n\n%s%s", c.Name, c.ID, failedStep(c), sahara.TagCluster, c.ID, reason, failureSummary(c)))
	}
}

func (r *clusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	r.loadSecrets(ctx, &state, req.Private, &resp.Diagnostics)
	defer r.saveSecrets(ctx, state.ID.ValueString(), resp.Private, &resp.Diagnostics)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	defer logUsage(ctx, "Read", b)()
	var c sahara.Cluster
	if !storeGet(ctx, b.Store, sahara.KindCluster, state.ID.ValueString(), &c, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			r.recordMissing(ctx, b, &state, resp)
		}
		return
	}
	c.Link()
	eng, err := r.data.Engine(ctx, b.ForCluster(&c), map[string]any{"cluster_id": c.ID}, nil)
	if err == nil {
		err = eng.Refresh(ctx, &c)
	}
	if err != nil {
		resp.Diagnostics.AddError("Cluster Refresh Error",
			fmt.Sprintf("Reading the servers of cluster %s from the cloud failed; check the cloud's compute API and retry.\n\n%v", c.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, clusterModelFrom(ctx, &c, &state, &resp.Diagnostics))...)
}

func (r *clusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.loadSecrets(ctx, &state, req.Private, &resp.Diagnostics)
	defer r.saveSecrets(ctx, state.ID.ValueString(), resp.Private, &resp.Diagnostics)
	timeout, d := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(d...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	defer logUsage(ctx, "Update", b)()
	release := takeLeases(ctx, b.Store, sahara.KindCluster, "update", &resp.Diagnostics, state.Name.ValueString())
	if release == nil {
		return
	}
	defer release()
	var c sahara.Cluster
	if !storeGet(ctx, b.Store, sahara.KindCluster, state.ID.ValueString(), &c, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError("Cluster Not Found", "The record of cluster "+state.ID.ValueString()+
				" disappeared from the template store during this run. Run `terraform apply` again: the refresh will notice and plan a new cluster.")
		}
		return
	}
	c.Link()
	var config clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	// The record has no secret config: this run's configuration gives them.
	c.ApplySecretConfigs(secretConfigsOf(ctx, &config, &resp.Diagnostics))
	if resp.Diagnostics.HasError() {
		return
	}
	if c.ManagementPrivateKey == "" && !plan.NodeGroups.Equal(state.NodeGroups) {
		resp.Diagnostics.AddError("Management Key Not In State", fmt.Sprintf(
			"Cluster %q (%s) cannot be changed from this workspace: changing its instances needs its management key, which "+
				"lives only in the Terraform state of the workspace that created it (the shared record holds no secret). "+
				"Import brings the record, not the key. Move the resource with its state instead (`terraform state mv "+
				"-state-out=…` from that workspace, or `terraform state pull`/`push`), or change it from there.", c.Name, c.ID))
		return
	}
	if c.LeftByInterruptedScale() { // the lease is ours: no run is working on it
		if !r.recoverScale(ctx, b, &c, &resp.Diagnostics) {
			return
		}
	}
	if !r.repair(ctx, b, &c, timeout, &resp.Diagnostics) {
		return
	}
	if rolled, ok := r.roll(ctx, b, &c, &plan, &config, &state, timeout, &resp.Diagnostics); !ok {
		if len(rolled) > 0 { // the instances as they are; the next plan shows the rest of the roll
			newState := clusterModelFrom(ctx, &c, &plan, &resp.Diagnostics)
			keepSettings(ctx, &newState, &state, rolled, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, newState)...)
		}
		return
	}
	if cidrs := changedCIDRs(ctx, &c, &plan, &resp.Diagnostics); len(cidrs) > 0 {
		eng, err := r.data.Engine(ctx, b.ForCluster(&c), map[string]any{"cluster_id": c.ID}, nil)
		if err == nil {
			tflogInfo(ctx, "Updating auto security groups", map[string]any{"cluster_id": c.ID, "node_groups": len(cidrs)})
			err = eng.SetAutoSecurityGroupCIDRs(ctx, &c, cidrs)
		}
		if err != nil {
			addValidationErrors(&resp.Diagnostics, "Security Group Update Error", err)
			return
		}
	}
	scale, d := r.scaleRequest(ctx, b.Store, &c, &plan, &state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Sahara: a protected cluster accepts only is_public changes and clearing is_protected.
	if c.IsProtected && plan.IsProtected.ValueBool() && (scale != nil || plan.Description.ValueString() != c.Description) {
		resp.Diagnostics.AddError("Protected Cluster", protectedError("Cluster", c.ID, "updated"))
		return
	}
	c.Description = plan.Description.ValueString()
	c.IsPublic = plan.IsPublic.ValueBool()
	c.IsProtected = plan.IsProtected.ValueBool()
	var removed map[string][]string
	var scaleErr error
	if scale != nil {
		rec := newRecorder(ctx, b.Store)
		eng, err := r.data.Engine(ctx, b.ForCluster(&c), map[string]any{"cluster_id": c.ID}, rec.observe)
		if err != nil {
			resp.Diagnostics.AddError("Engine Error", "The provisioning engine could not be set up. This is a bug in the provider; please report it.\n\n"+err.Error())
			return
		}
		sp, err := eng.PlanScale(&c, *scale)
		if err == nil {
			removed = victimNames(sp)
			opCtx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			tflogInfo(ctx, "Scaling cluster", map[string]any{"cluster_id": c.ID, "resize": scale.Resize, "add": len(scale.Add)})
			err = eng.Scale(opCtx, &c, *scale)
		}
		scaleErr = err
		if err := rec.flush(ctx, &c); err != nil {
			recordNotSaved(&resp.Diagnostics, &c, err)
		}
	} else {
		c.UpdatedAt = time.Now().UTC()
		storePut(ctx, b.Store, sahara.KindCluster, c.ID, &c, &resp.Diagnostics)
	}
	newState := clusterModelFrom(ctx, &c, &plan, &resp.Diagnostics)
	setRemoved(ctx, &newState, &plan, removed, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, newState)...)
	if scaleErr != nil {
		resp.Diagnostics.AddAttributeError(path.Root("node_groups"), errorTitle(scaleErr, "Cluster Scaling Error"),
			fmt.Sprintf("Scaling cluster %q (%s) failed; its status is now %s and the state shows the instances it has. "+
				"Fix the cause and run `terraform apply` again.\n\n%v%s", c.Name, c.ID, c.Status, scaleErr, failureSummary(&c)))
	}
}

func (r *clusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.loadSecrets(ctx, &state, req.Private, &resp.Diagnostics)
	timeout, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(d...)
	b, d := r.data.Backend(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	defer logUsage(ctx, "Delete", b)()
	release := takeLeases(ctx, b.Store, sahara.KindCluster, "delete", &resp.Diagnostics, state.Name.ValueString())
	if release == nil {
		return
	}
	defer release()
	var c sahara.Cluster
	if !storeGet(ctx, b.Store, sahara.KindCluster, state.ID.ValueString(), &c, &resp.Diagnostics) {
		if resp.Diagnostics.HasError() {
			return
		}
		// No record: still remove whatever carries the cluster's tag.
		c = sahara.Cluster{ID: state.ID.ValueString()}
		c.Name = state.Name.ValueString()
		c.PluginName, c.PluginVersion = state.PluginName.ValueString(), state.PluginVersion.ValueString()
		c.Engine = state.Engine.ValueString()
	}
	c.Link()
	if c.IsProtected {
		resp.Diagnostics.AddError("Protected Cluster", protectedError("Cluster", c.ID, "deleted"))
		return
	}
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.ForCluster(&c), map[string]any{"cluster_id": c.ID}, rec.observe)
	if err == nil {
		opCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		tflogInfo(ctx, "Deleting cluster", map[string]any{"cluster_id": c.ID, "instances": len(c.Instances())})
		err = eng.Delete(opCtx, &c)
	}
	if err != nil {
		if err := rec.flush(ctx, &c); err != nil {
			recordNotSaved(&resp.Diagnostics, &c, err)
		}
		resp.Diagnostics.AddError("Cluster Deletion Error",
			fmt.Sprintf("Deleting cluster %q (%s) failed; it stays in state. Deletion is resumable: run `terraform destroy` again. "+
				"Objects left in the cloud carry %s=%s.\n\n%v", c.Name, c.ID, sahara.TagCluster, c.ID, err))
		return
	}
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := b.Store.Delete(wctx, sahara.KindCluster, c.ID); err != nil {
		resp.Diagnostics.AddError("Template Store Error",
			fmt.Sprintf("The cluster's cloud objects are gone, but deleting its record %s from the template store failed; run `terraform destroy` again.\n\n%v", c.ID, err))
	}
}

// repair replaces the instances whose server is gone or in ERROR (the plan
// said so) through the plugin's scale path; true when there was nothing to
// repair or it worked (diags say why not).
func (r *clusterResource) repair(ctx context.Context, b *Backend, c *sahara.Cluster, timeout time.Duration, diags *diagsT) bool {
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.ForCluster(c), map[string]any{"cluster_id": c.ID}, rec.observe)
	if err == nil {
		err = eng.Refresh(ctx, c)
	}
	if err != nil || len(c.Broken()) == 0 {
		if err != nil {
			diags.AddError("Cluster Refresh Error", "Reading the cluster's servers from the cloud failed; retry.\n\n"+err.Error())
		}
		return err == nil
	}
	opCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = eng.Repair(opCtx, c)
	if werr := rec.flush(ctx, c); werr != nil {
		recordNotSaved(diags, c, werr)
	}
	if err != nil {
		addValidationErrors(diags, "Cluster Repair Error", fmt.Errorf(
			"repairing cluster %q (%s) failed; its status is now %s and the state shows the instances it has. Run terraform apply again: %w%s",
			c.Name, c.ID, c.Status, err, failureSummary(c)))
		return false
	}
	return true
}

// roll replaces the instances of every group whose servers' settings the
// plan changes (groupChanges), group by group (Engine.Roll). It returns the
// groups it rolled or tried to, and false when one failed (diags say why);
// the cluster is then Active on a mix of old and new instances.
func (r *clusterResource) roll(ctx context.Context, b *Backend, c *sahara.Cluster, plan, config, state *clusterModel, timeout time.Duration, diags *diagsT) ([]string, bool) {
	planGroups, cfgGroups, stGroups := map[string]clusterNodeGroupModel{}, map[string]clusterNodeGroupModel{}, map[string]clusterNodeGroupModel{}
	if !plan.NodeGroups.IsNull() && !plan.NodeGroups.IsUnknown() && !state.NodeGroups.IsNull() {
		diags.Append(plan.NodeGroups.ElementsAs(ctx, &planGroups, false)...)
		diags.Append(state.NodeGroups.ElementsAs(ctx, &stGroups, false)...)
	}
	if !config.NodeGroups.IsNull() && !config.NodeGroups.IsUnknown() {
		diags.Append(config.NodeGroups.ElementsAs(ctx, &cfgGroups, false)...)
	}
	// Groups whose settings change (in the cluster or in their template),
	// and those a stopped roll left unfinished.
	_, fromTemplate := templateRolls(ctx, b.Store, c, cfgGroups, planGroups, diags)
	var names []string
	for _, name := range sortedNames(planGroups) {
		prior, ok := stGroups[name]
		if ng := c.NodeGroup(name); ok && (len(groupChanges(planGroups[name], prior)) > 0 || fromTemplate[name] != nil || ng != nil && len(ng.Outdated()) > 0) {
			names = append(names, name)
		}
	}
	if len(names) == 0 || diags.HasError() {
		return nil, !diags.HasError()
	}
	if c.IsProtected && plan.IsProtected.ValueBool() {
		diags.AddError("Protected Cluster", protectedError("Cluster", c.ID, "updated"))
		return nil, false
	}
	spec, d := r.resolveSpec(ctx, b.Store, plan)
	diags.Append(d...)
	if diags.HasError() {
		return nil, false
	}
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.ForCluster(c), map[string]any{"cluster_id": c.ID}, rec.observe)
	if err != nil {
		diags.AddError("Engine Error", "The provisioning engine could not be set up. This is a bug in the provider; please report it.\n\n"+err.Error())
		return nil, false
	}
	opCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, name := range names {
		for _, ng := range spec.NodeGroups {
			if ng.Name == name {
				tflogInfo(ctx, "Rolling node group "+name, map[string]any{"cluster_id": c.ID})
				err = eng.Roll(opCtx, c, name, ng, planGroups[name].rollPolicy(ctx, diags))
			}
		}
		if err != nil {
			break
		}
	}
	if werr := rec.flush(ctx, c); werr != nil {
		recordNotSaved(diags, c, werr)
	}
	if err != nil {
		addValidationErrors(diags, "Rolling Replacement Error", fmt.Errorf(
			"the rolling replacement of cluster %q (%s) stopped; its status is %s and the state shows the instances it has, "+
				"old and new. Fix the cause and run terraform apply again: it goes on from there.\n\n%w%s", c.Name, c.ID, c.Status, err, failureSummary(c)))
		return names, false
	}
	return names, true
}

// keepSettings gives the groups of a roll that stopped their prior
// settings in the new state, so that the next plan shows the rest of it.
func keepSettings(ctx context.Context, next, prior *clusterModel, groups []string, diags *diagsT) {
	nextGroups, priorGroups := map[string]clusterNodeGroupModel{}, map[string]clusterNodeGroupModel{}
	diags.Append(next.NodeGroups.ElementsAs(ctx, &nextGroups, false)...)
	diags.Append(prior.NodeGroups.ElementsAs(ctx, &priorGroups, false)...)
	for _, name := range groups {
		g := nextGroups[name]
		g.nodeGroupFields, g.NodeGroupTemplateID = priorGroups[name].nodeGroupFields, priorGroups[name].NodeGroupTemplateID
		nextGroups[name] = g
	}
	mv, d := types.MapValueFrom(ctx, nodeGroupObjectType(), nextGroups)
	diags.Append(d...)
	next.NodeGroups = mv
}

// recoverScale rolls back the scale a stopped run left (Engine.Recover) and
// writes the record; false when that failed (diags say why).
func (r *clusterResource) recoverScale(ctx context.Context, b *Backend, c *sahara.Cluster, diags *diagsT) bool {
	tflogInfo(ctx, fmt.Sprintf("Cluster %s was left in %s by an interrupted scale: rolling it back", c.Name, c.Status), map[string]any{"cluster_id": c.ID})
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.ForCluster(c), map[string]any{"cluster_id": c.ID}, rec.observe)
	if err == nil {
		opCtx, cancel := context.WithTimeout(ctx, defaultDeleteTimeout)
		defer cancel()
		err = eng.Recover(opCtx, c)
	}
	if err == nil {
		err = rec.flush(ctx, c)
	}
	if err != nil {
		diags.AddAttributeError(path.Root("node_groups"), "Interrupted Scale Not Rolled Back", fmt.Sprintf(
			"Cluster %q (%s) was left in %s by a scale that was stopped, and rolling that scale back failed; nothing else was changed. "+
				"Run terraform apply again to retry.\n\n%v", c.Name, c.ID, c.Status, err))
		return false
	}
	return true
}

// recordMissing decides what a refresh does when the cluster's record is not
// in the store: a cluster whose servers are all gone was deleted outside
// Terraform and leaves the state; one whose servers still run is never
// dropped (the next apply would build a second cluster beside it), so the
// refresh fails and says how to recover.
func (r *clusterResource) recordMissing(ctx context.Context, b *Backend, state *clusterModel, resp *resource.ReadResponse) {
	c := &sahara.Cluster{ID: state.ID.ValueString()}
	c.Name, c.Engine = state.Name.ValueString(), state.Engine.ValueString()
	// Every server of the cluster carries its tag, or is in its stack, those
	// in state and those it never recorded alike (an import has none in state).
	alive, err := b.ForCluster(c).Infra.ClusterServers(ctx, c)
	if err != nil {
		resp.Diagnostics.AddError("Cluster Record Missing", fmt.Sprintf(
			"The record of cluster %s is not in the template store, and listing the servers tagged with it failed, so the refresh "+
				"cannot tell whether it still exists; retry.\n\n%v", c.ID, err))
		return
	}
	if len(alive) == 0 {
		tflogInfo(ctx, "Cluster record and servers are gone: removing the cluster from state", map[string]any{"cluster_id": c.ID})
		resp.State.RemoveResource(ctx)
		return
	}
	if c.Name == "" { // an import: nothing in state to destroy with
		resp.Diagnostics.AddError("Cluster Record Missing", fmt.Sprintf(
			"Cluster %s cannot be imported: its record is not in %s, but %d servers carry its tag: %s. "+
				"A cluster is imported from its record, which holds what the servers alone cannot tell (plugin, processes, configs).\n\n"+
				"If the record is in another container, region or project, point the provider there (template_store_container, region, "+
				"the credentials' project) and import again. If it is lost, delete the objects tagged %s=%s (servers, volumes, ports, "+
				"floating IPs, security groups) and create the cluster again.",
			c.ID, r.data.storeName(), len(alive), strings.Join(alive, ", "), sahara.TagCluster, c.ID))
		return
	}
	resp.Diagnostics.AddError("Cluster Record Missing", fmt.Sprintf(
		"The record of cluster %q (%s) is not in %s, but %d of its servers still run: %s. "+
			"The provider keeps the cluster rather than plan a second one beside it.\n\n"+
			"If the record is in another container, region or project, point the provider there (template_store_container, region, "+
			"the credentials' project). If the record is lost, `terraform destroy -refresh=false` deletes every object tagged %s=%s, "+
			"and `terraform state rm` lets go of the cluster without deleting it.",
		c.Name, c.ID, r.data.storeName(), len(alive), strings.Join(alive, ", "), sahara.TagCluster, c.ID))
}

// removeInterruptedCreate deletes what a create left when its run was
// stopped (found by the cluster's name under the lease, so no run is working
// on it), so that this create converges with no import, -replace or
// duplicate; any other cluster of that name is refused as taken.
func (r *clusterResource) removeInterruptedCreate(ctx context.Context, b *Backend, found *namedObject, diags *diagsT) {
	var old sahara.Cluster
	if !storeGet(ctx, b.Store, sahara.KindCluster, found.ID, &old, diags) {
		return // gone meanwhile, or the store failed (diags say so)
	}
	old.Link()
	if !old.LeftByInterruptedCreate() {
		nameTaken(diags, sahara.KindCluster, old.Name, old.ID, string(old.Status))
		return
	}
	tflogInfo(ctx, fmt.Sprintf("Cluster %s was left in %s by an interrupted run: deleting what that run created, then creating the cluster again", old.Name, old.Status),
		map[string]any{"cluster_id": old.ID, "instances": len(old.Instances())})
	rec := newRecorder(ctx, b.Store)
	eng, err := r.data.Engine(ctx, b.ForCluster(&old), map[string]any{"cluster_id": old.ID}, rec.observe)
	if err == nil {
		opCtx, cancel := context.WithTimeout(ctx, defaultDeleteTimeout)
		defer cancel()
		err = eng.Delete(opCtx, &old)
	}
	if err == nil {
		wctx, cancel := detached(ctx)
		defer cancel()
		err = b.Store.Delete(wctx, sahara.KindCluster, old.ID)
	}
	if err != nil {
		diags.AddAttributeError(path.Root("name"), "Interrupted Cluster Not Removed", fmt.Sprintf(
			"Cluster %q (%s) was left in %s by an interrupted run, and deleting what it created failed; nothing new was created. "+
				"Run terraform apply again to retry. Its objects carry %s=%s.\n\n%v", old.Name, old.ID, old.Status, sahara.TagCluster, old.ID, err))
	}
}

func (r *clusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// failedStep names the provisioning step that failed, from the record's
// progress log, or the status when no step failed.
func failedStep(c *sahara.Cluster) string {
	for i := len(c.Progress) - 1; i >= 0; i-- {
		if st := c.Progress[i]; st.Successful != nil && !*st.Successful {
			return fmt.Sprintf("step %q (%s)", st.Name, st.Type)
		}
	}
	return "status " + string(c.Status)
}

func countInstances(spec sahara.ClusterSpec) int {
	n := 0
	for _, ng := range spec.NodeGroups {
		n += ng.Count
	}
	return n
}

// isNotFound reports a missing object.
func isNotFound(err error) bool { return errors.Is(err, sahara.ErrNotFound) }

func mapRequiresReplace() planmodifier.Map { return mapplanmodifier.RequiresReplace() }
