package spark

import (
	"context"
	"errors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var errNotYet = errors.New("spark plugin: provisioning is not implemented yet")

// ConfigureCluster implements sahara.Plugin; not implemented yet.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return errNotYet
}

// StartCluster implements sahara.Plugin; not implemented yet.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return errNotYet
}
