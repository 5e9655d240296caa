package spark

import (
	"context"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.ConfigRecommender = (*Plugin)(nil)

// RecommendConfigs implements sahara.ConfigRecommender, Sahara's
// recommend_configs for spark: with use_autoconfig (the default),
// dfs.replication = min(3, datanodes) unless the user set it. The engine
// calls it before Validate.
func (p *Plugin) RecommendConfigs(_ context.Context, c *sahara.Cluster, _ map[string]sahara.Flavor, scaling bool) error {
	if hadoop.AutoconfigApplies(c, scaling) {
		hadoop.RecommendReplication(c, SvcHDFS, ProcDataNode)
	}
	return nil
}
