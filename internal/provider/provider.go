// Package provider is the saharagen Terraform provider: a thin layer that
// turns Terraform plans into calls of the sahara library.
package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ provider.Provider = (*saharagenProvider)(nil)

// DefaultTemplateContainer is the object-store container of templates and
// cluster records when template_store_container is not set.
const DefaultTemplateContainer = "saharagen"

// New returns the provider factory for a version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &saharagenProvider{version: version} }
}

// newWithConnector returns a provider whose cloud side comes from connect
// instead of OpenStack: the hook unit tests use to inject in-memory fakes.
func newWithConnector(version string, connect Connector) func() provider.Provider {
	return func() provider.Provider { return &saharagenProvider{version: version, connect: connect} }
}

type saharagenProvider struct {
	version string
	connect Connector // nil: OpenStack (backend_openstack.go)
}

type providerModel struct {
	Cloud                       types.String `tfsdk:"cloud"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	UserName                    types.String `tfsdk:"user_name"`
	UserID                      types.String `tfsdk:"user_id"`
	Password                    types.String `tfsdk:"password"`
	TenantName                  types.String `tfsdk:"tenant_name"`
	TenantID                    types.String `tfsdk:"tenant_id"`
	UserDomainName              types.String `tfsdk:"user_domain_name"`
	UserDomainID                types.String `tfsdk:"user_domain_id"`
	ProjectDomainName           types.String `tfsdk:"project_domain_name"`
	ProjectDomainID             types.String `tfsdk:"project_domain_id"`
	DomainName                  types.String `tfsdk:"domain_name"`
	DomainID                    types.String `tfsdk:"domain_id"`
	DefaultDomain               types.String `tfsdk:"default_domain"`
	SystemScope                 types.Bool   `tfsdk:"system_scope"`
	EndpointType                types.String `tfsdk:"endpoint_type"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialName   types.String `tfsdk:"application_credential_name"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	Token                       types.String `tfsdk:"token"`
	Region                      types.String `tfsdk:"region"`
	Insecure                    types.Bool   `tfsdk:"insecure"`
	CACertFile                  types.String `tfsdk:"cacert_file"`
	Cert                        types.String `tfsdk:"cert"`
	Key                         types.String `tfsdk:"key"`
	EndpointOverrides           types.Map    `tfsdk:"endpoint_overrides"`
	MaxRetries                  types.Int64  `tfsdk:"max_retries"`
	SSH                         *sshModel    `tfsdk:"ssh"`
	TemplateStoreContainer      types.String `tfsdk:"template_store_container"`
	RecordStore                 types.String `tfsdk:"record_store"`
	Engine                      types.String `tfsdk:"engine"`
	Parallelism                 types.Int64  `tfsdk:"parallelism"`
	DeleteInstancesTimeout      types.String `tfsdk:"delete_instances_timeout"`
}

type sshModel struct {
	BastionHost       types.String `tfsdk:"bastion_host"`
	BastionUser       types.String `tfsdk:"bastion_user"`
	BastionPrivateKey types.String `tfsdk:"bastion_private_key"`
	BastionHostKey    types.String `tfsdk:"bastion_host_key"`
	UseAgent          types.Bool   `tfsdk:"use_agent"`
	ConnectionTimeout types.String `tfsdk:"connection_timeout"`
	AccessibleTimeout types.String `tfsdk:"accessible_timeout"`
}

func (p *saharagenProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "saharagen"
	resp.Version = p.version
}

func (p *saharagenProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerSchema()
}

func providerSchema() schema.Schema {
	str := func(desc string, sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: sensitive, MarkdownDescription: desc}
	}
	return schema.Schema{
		MarkdownDescription: "Provisions data-processing clusters (Hadoop, Spark, Dask) on OpenStack the way OpenStack Sahara did: " +
			"node group and cluster templates, clusters that scale in place, Sahara image registration and plugin metadata.\n\n" +
			"Authentication is that of the `openstack` provider: every attribute falls back to the usual `OS_*` environment " +
			"variable, and `cloud` (or `OS_CLOUD`) selects an entry of `clouds.yaml`, so an empty provider block works. " +
			"The provider connects to the cloud only when an operation needs it: plan-time validation of inline clusters and " +
			"the `saharagen_plugin` data source need no cloud.",
		Attributes: map[string]schema.Attribute{
			"cloud":               str("Entry of `clouds.yaml` to use. Environment: `OS_CLOUD`.", false),
			"auth_url":            str("Identity (Keystone) endpoint. Environment: `OS_AUTH_URL`.", false),
			"user_name":           str("User name. Environment: `OS_USERNAME`.", false),
			"user_id":             str("User ID. Environment: `OS_USER_ID`.", false),
			"password":            str("Password. Environment: `OS_PASSWORD`.", true),
			"tenant_name":         str("Project (tenant) name. Environment: `OS_PROJECT_NAME` or `OS_TENANT_NAME`.", false),
			"tenant_id":           str("Project (tenant) ID. Environment: `OS_PROJECT_ID` or `OS_TENANT_ID`.", false),
			"user_domain_name":    str("Domain name of the user. Environment: `OS_USER_DOMAIN_NAME`.", false),
			"user_domain_id":      str("Domain ID of the user. Environment: `OS_USER_DOMAIN_ID`.", false),
			"project_domain_name": str("Domain name of the project. Environment: `OS_PROJECT_DOMAIN_NAME`.", false),
			"project_domain_id":   str("Domain ID of the project. Environment: `OS_PROJECT_DOMAIN_ID`.", false),
			"domain_name":         str("Domain name used for both user and project when the specific ones are not set. Environment: `OS_DOMAIN_NAME`.", false),
			"domain_id":           str("Domain ID used for both user and project when the specific ones are not set. Environment: `OS_DOMAIN_ID`.", false),
			"default_domain":      str("Domain ID used when no other domain is given (Keystone v3; `default` when unset). Environment: `OS_DEFAULT_DOMAIN`.", false),
			"system_scope": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Scope the token to the system instead of a project (an operator's credentials). Environment: `OS_SYSTEM_SCOPE`."},
			"endpoint_type": schema.StringAttribute{Optional: true,
				Validators:          []validator.String{stringvalidator.OneOf("public", "publicURL", "internal", "internalURL", "admin", "adminURL")},
				MarkdownDescription: "Interface of the catalog's endpoints to use: `public` (default), `internal` or `admin`. Environment: `OS_ENDPOINT_TYPE` or `OS_INTERFACE`."},
			"application_credential_id":     str("Application credential ID. Environment: `OS_APPLICATION_CREDENTIAL_ID`.", false),
			"application_credential_name":   str("Application credential name (with `user_name` or `user_id`). Environment: `OS_APPLICATION_CREDENTIAL_NAME`.", false),
			"application_credential_secret": str("Application credential secret. Environment: `OS_APPLICATION_CREDENTIAL_SECRET`.", true),
			"token":                         str("An existing Keystone token instead of a password. Environment: `OS_TOKEN` or `OS_AUTH_TOKEN`.", true),
			"region":                        str("Region of the services. Environment: `OS_REGION_NAME`.", false),
			"insecure": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Skip TLS certificate verification of the OpenStack API (never of SSH host keys). Environment: `OS_INSECURE`."},
			"cacert_file": str("CA certificate(s) that signed the API certificates: a PEM file's path, or the PEM contents themselves. Environment: `OS_CACERT`.", false),
			"cert":        str("Client certificate for mutual TLS (with `key`): a PEM file's path or the PEM contents. Environment: `OS_CERT`.", false),
			"key":         str("Private key of `cert`: a PEM file's path or the PEM contents. Environment: `OS_KEY`.", true),
			"endpoint_overrides": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Endpoint URLs by service type (`compute`, `network`, `volumev3`, `image`, `object-store`, …) used instead of the catalog."},
			"max_retries": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.AtLeast(0)},
				MarkdownDescription: "How many times a request to OpenStack is retried after a transient fault, waiting up to 1 s, then 2 s, 4 s … with jitter (at most 30 s, or as long as a `Retry-After` answer asks). GET, PUT and DELETE are retried after HTTP 429, 502, 503 or 504 or a connection lost before the answer; POST only after 429 or 503 or a connection that could not be opened, never when the cloud may have acted on it. Default 5 (as Sahara's `[retries] retries_number`); `0` disables retries."},
			"ssh": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "How the provider reaches instances over SSH. Without it, instances are reached directly on their management IP. Host keys are always verified: each instance's key is pinned in state on first contact.",
				Attributes: map[string]schema.Attribute{
					"bastion_host":        str("Jump host (`host` or `host:port`) every SSH connection goes through.", false),
					"bastion_user":        str("Login user on the bastion host.", false),
					"bastion_private_key": str("Private key (PEM, unencrypted) for the bastion host. Never logged.", true),
					"bastion_host_key":    str("Host key(s) of the bastion in authorized_keys format, one a line. Without it the bastion's key must be in `~/.ssh/known_hosts`; an unverifiable bastion is refused.", false),
					"use_agent": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Also use the keys of the SSH agent at `SSH_AUTH_SOCK`: for the bastion, and for instances besides the cluster's management key."},
					"connection_timeout": schema.StringAttribute{Optional: true, Validators: []validator.String{durationValidator{}},
						MarkdownDescription: "Timeout of one SSH connection attempt, a Go duration such as `30s` or `2m`. Default `30s`."},
					"accessible_timeout": schema.StringAttribute{Optional: true, Validators: []validator.String{durationValidator{}},
						MarkdownDescription: "How long a new instance may take to accept SSH once its server is up (Sahara's `wait_until_accessible`), " +
							"a Go duration. Past it the operation fails, naming the instance, its address, the login user and the last SSH error, " +
							"instead of waiting until the operation's timeout. Default `10m`."},
				},
			},
			"template_store_container": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Object-store (Swift) container holding node group templates, cluster templates and cluster records " +
					"(with `record_store = \"keystone_credentials\"`, the namespace of the records instead). Default `" + DefaultTemplateContainer + "`. Environment: `SAHARAGEN_TEMPLATE_STORE_CONTAINER`."},
			"record_store": schema.StringAttribute{Optional: true,
				Validators: []validator.String{stringvalidator.OneOf(recordStores...)},
				MarkdownDescription: "Where templates, cluster records and leases are kept. `object_storage`: a container of the project's " +
					"object storage (`template_store_container`), shared by every user of the project. `keystone_credentials`: the user's " +
					"Keystone credentials (the identity API's `/v3/credentials`, encrypted at rest), for clouds without object storage; " +
					"shared by the runs of that one user in the project. `auto` (default): object storage when the service catalog has it, " +
					"Keystone credentials otherwise. Secrets are in neither: they stay in Terraform state. Environment: `SAHARAGEN_RECORD_STORE`."},
			"engine": schema.StringAttribute{Optional: true,
				Validators: []validator.String{stringvalidator.OneOf(engines...)},
				MarkdownDescription: "What provisions a cluster's servers, ports, floating IPs, volumes, server groups and auto security groups, " +
					"for clusters that set no `engine` of their own. `direct` (default): the provider calls Nova, Neutron and Cinder itself. " +
					"`heat`: the cluster is one Heat stack, generated as Sahara's heat engine generates it (named after the cluster and tagged " +
					"with it), which the cloud's orchestration service creates, updates to scale and deletes. A cluster keeps the engine " +
					"that created it: changing this setting changes only new clusters. Environment: `SAHARAGEN_ENGINE`."},
			"parallelism": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.Between(1, 256)},
				MarkdownDescription: "How many instances the engine works on at once (spawning, SSH steps). Default 16."},
			"delete_instances_timeout": schema.StringAttribute{Optional: true, Validators: []validator.String{durationValidator{}},
				MarkdownDescription: "How long a deletion (destroy, a scale-down, a rollback) waits for the cloud to remove servers and detach " +
					"volumes (Sahara's `delete_instances_timeout`), a Go duration. Past it the deletion fails naming the servers or volumes " +
					"left and their status; they stay tagged with the cluster, and the next apply or destroy deletes them. Default `10m`."},
		},
	}
}

func (p *saharagenProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings, diags := m.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings.OpenStack.UserAgent = userAgent(p.version, req.TerraformVersion)
	connect := p.connect
	if connect == nil {
		connect = openStackConnector
	}
	data, err := newProviderData(settings, connect)
	if err != nil {
		resp.Diagnostics.AddError("Plugin Registry Error",
			"The provider could not register its data-processing plugins. This is a bug in the provider build; please report it.\n\n"+err.Error())
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// userAgent names saharagen, its version and Terraform's, as
// terraform-provider-openstack names itself.
func userAgent(version, terraform string) string {
	ua := "terraform-provider-saharagen/" + version
	if terraform != "" {
		ua += " Terraform/" + terraform
	}
	return ua
}

// maxRetries is nil when max_retries is unset: the adapter's default applies.
func maxRetries(v types.Int64) *int {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return new(int(v.ValueInt64()))
}

// settings converts the provider block into Settings; the cloud is not contacted.
func (m providerModel) settings(ctx context.Context) (Settings, diagsT) {
	var diags diagsT
	s := Settings{
		OpenStack: CloudConfig{
			Cloud:                       m.Cloud.ValueString(),
			AuthURL:                     m.AuthURL.ValueString(),
			UserName:                    m.UserName.ValueString(),
			UserID:                      m.UserID.ValueString(),
			Password:                    m.Password.ValueString(),
			TenantName:                  m.TenantName.ValueString(),
			TenantID:                    m.TenantID.ValueString(),
			UserDomainName:              m.UserDomainName.ValueString(),
			UserDomainID:                m.UserDomainID.ValueString(),
			ProjectDomainName:           m.ProjectDomainName.ValueString(),
			ProjectDomainID:             m.ProjectDomainID.ValueString(),
			DomainName:                  m.DomainName.ValueString(),
			DomainID:                    m.DomainID.ValueString(),
			DefaultDomain:               m.DefaultDomain.ValueString(),
			SystemScope:                 m.SystemScope.ValueBool(),
			EndpointType:                m.EndpointType.ValueString(),
			ApplicationCredentialID:     m.ApplicationCredentialID.ValueString(),
			ApplicationCredentialName:   m.ApplicationCredentialName.ValueString(),
			ApplicationCredentialSecret: m.ApplicationCredentialSecret.ValueString(),
			Token:                       m.Token.ValueString(),
			Region:                      m.Region.ValueString(),
			Insecure:                    m.Insecure.ValueBoolPointer(),
			CACertFile:                  m.CACertFile.ValueString(),
			ClientCertFile:              m.Cert.ValueString(),
			ClientKeyFile:               m.Key.ValueString(),
			MaxRetries:                  maxRetries(m.MaxRetries),
		},
		TemplateStoreContainer: m.TemplateStoreContainer.ValueString(),
		RecordStore:            m.RecordStore.ValueString(),
		Engine:                 m.Engine.ValueString(),
		Parallelism:            int(m.Parallelism.ValueInt64()),
		SSHConnectionTimeout:   30 * time.Second,
	}
	if !m.EndpointOverrides.IsNull() && !m.EndpointOverrides.IsUnknown() {
		diags.Append(m.EndpointOverrides.ElementsAs(ctx, &s.OpenStack.EndpointOverrides, false)...)
	}
	if m.SSH != nil {
		s.BastionHost = m.SSH.BastionHost.ValueString()
		s.BastionUser = m.SSH.BastionUser.ValueString()
		s.BastionPrivateKey = m.SSH.BastionPrivateKey.ValueString()
		s.BastionHostKey = m.SSH.BastionHostKey.ValueString()
		s.UseAgent = m.SSH.UseAgent.ValueBool()
		if v := m.SSH.ConnectionTimeout.ValueString(); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				diags.AddAttributeError(path.Root("ssh").AtName("connection_timeout"), "Invalid SSH Connection Timeout",
					"connection_timeout must be a Go duration such as \"30s\" or \"2m\".\n\n"+err.Error())
			}
			s.SSHConnectionTimeout = d
		}
		if v := m.SSH.AccessibleTimeout.ValueString(); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				diags.AddAttributeError(path.Root("ssh").AtName("accessible_timeout"), "Invalid SSH Accessible Timeout",
					"accessible_timeout must be a Go duration such as \"5m\".\n\n"+err.Error())
			}
			s.AccessibleTimeout = d
		}
	}
	if v := m.DeleteInstancesTimeout.ValueString(); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			diags.AddAttributeError(path.Root("delete_instances_timeout"), "Invalid Delete Instances Timeout",
				"delete_instances_timeout must be a Go duration such as \"10m\".\n\n"+err.Error())
		}
		s.DeleteTimeout = d
	}
	s.applyDefaults()
	if !slices.Contains(engines, s.Engine) {
		diags.AddAttributeError(path.Root("engine"), "Invalid Engine",
			fmt.Sprintf("engine (or SAHARAGEN_ENGINE) is %q; it must be one of %s.", s.Engine, strings.Join(engines, ", ")))
	}
	if !slices.Contains(recordStores, s.RecordStore) {
		diags.AddAttributeError(path.Root("record_store"), "Invalid Record Store",
			fmt.Sprintf("record_store (or SAHARAGEN_RECORD_STORE) is %q; it must be one of %s.", s.RecordStore, strings.Join(recordStores, ", ")))
	}
	return s, diags
}

func (p *saharagenProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewNodeGroupTemplateResource,
		NewClusterTemplateResource,
		NewClusterResource,
		NewImageResource,
	}
}

func (p *saharagenProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewPluginDataSource, NewClusterHealthDataSource}
}
