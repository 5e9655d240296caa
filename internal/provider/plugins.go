package provider

import (
	"github.com/saharagen/terraform-provider-saharagen/plugins/ambari"
	"github.com/saharagen/terraform-provider-saharagen/plugins/cdh"
	"github.com/saharagen/terraform-provider-saharagen/plugins/dask"
	"github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/plugins/spark"
	"github.com/saharagen/terraform-provider-saharagen/plugins/vanilla"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The plugins this build offers. This file and backend_openstack.go are the
// only ones that name concrete library packages.

// registeredPlugins lists the plugins the provider offers.
func registeredPlugins() []sahara.Plugin {
	return []sahara.Plugin{
		fake.New(),
		vanilla.New(vanilla.Options{}),
		dask.New(dask.Options{}),
		spark.New(spark.Options{}),
		ambari.New(ambari.Options{}),
		cdh.New(cdh.Options{}),
	}
}

// staticRegistry is the registry of this build's plugins, for checks that run
// before the provider is configured (ValidateConfig).
func staticRegistry() (*sahara.Registry, error) {
	return sahara.NewRegistry(registeredPlugins()...)
}
