package ambari

import (
	"context"
	"errors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var errNotYet = errors.New("ambari plugin: not implemented yet")

// ScaleCluster implements sahara.Scaler.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	return errNotYet
}

// DecommissionNodes implements sahara.Scaler.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	return errNotYet
}
