package hadoop

import "github.com/saharagen/terraform-provider-saharagen/sahara"

// ExtraAutoConfigured is the Cluster.Extra key recording that the
// cluster's configs were recommended (Sahara's auto-configured flag);
// scaling recommends only for clusters created that way.
const ExtraAutoConfigured = "auto-configured"

// AutoconfigApplies is the guard of Sahara's recommend_configs: the
// cluster uses autoconfig (use_autoconfig, default true) and, when
// scaling, was auto-configured at creation.
func AutoconfigApplies(c *sahara.Cluster, scaling bool) bool {
	if scaling && c.Extra[ExtraAutoConfigured] == "" {
		return false
	}
	return c.UseAutoconfig == nil || *c.UseAutoconfig
}

// RecommendReplication sets the cluster's dfs.replication (target HDFS)
// to min(3, datanodes) unless the user set it, and marks the cluster
// auto-configured.
func RecommendReplication(c *sahara.Cluster, target, dataNode string) {
	if _, set := c.ClusterConfigs.Get(target, "dfs.replication"); !set {
		if c.ClusterConfigs == nil {
			c.ClusterConfigs = sahara.Configs{}
		}
		c.ClusterConfigs.Set(target, "dfs.replication", min(3, c.ProcessCount(dataNode)))
	}
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	c.Extra[ExtraAutoConfigured] = "true"
}
