// Package provider is the saharagen Terraform provider: a thin layer that
// turns Terraform plans into calls of the sahara library.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*saharagenProvider)(nil)

// New returns the provider factory for a version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &saharagenProvider{version: version} }
}

type saharagenProvider struct {
	version string
}

func (p *saharagenProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "saharagen"
	resp.Version = p.version
}

func (p *saharagenProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Provisions data-processing clusters (Hadoop, Spark, Dask) on OpenStack the way OpenStack Sahara did.",
	}
}

func (p *saharagenProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *saharagenProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *saharagenProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
