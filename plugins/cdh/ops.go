package cdh

import (
	"context"
	"errors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var errNotYet = errors.New("cdh plugin: not implemented")

// ConfigureCluster implements sahara.Plugin.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return errNotYet
}

// StartCluster implements sahara.Plugin.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return errNotYet
}

// ScaleCluster implements sahara.Scaler.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	return errNotYet
}

// DecommissionNodes implements sahara.Scaler.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	return errNotYet
}
