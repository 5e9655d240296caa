package vanilla

import (
	"context"
	"fmt"
	"math"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// ExtraAutoConfigured marks a cluster whose configs were recommended at
// create; scaling recommends only for such clusters (Sahara's
// "auto-configured" extra).
const ExtraAutoConfigured = hadoop.ExtraAutoConfigured

// Flavor is what autoconfiguration reads of a node group's flavor.
type Flavor = sahara.Flavor

var _ sahara.ConfigRecommender = (*Plugin)(nil)

// autoNodeConfigs are the node configs Sahara's recommend_configs fills, in
// its order, with their targets.
var autoNodeConfigs = []struct{ target, name string }{
	{SvcMapReduce, "yarn.app.mapreduce.am.resource.mb"},
	{SvcMapReduce, "yarn.app.mapreduce.am.command-opts"},
	{SvcMapReduce, "mapreduce.map.memory.mb"},
	{SvcMapReduce, "mapreduce.reduce.memory.mb"},
	{SvcMapReduce, "mapreduce.map.java.opts"},
	{SvcMapReduce, "mapreduce.reduce.java.opts"},
	{SvcMapReduce, "mapreduce.task.io.sort.mb"},
	{SvcYARN, "yarn.nodemanager.resource.memory-mb"},
	{SvcYARN, "yarn.scheduler.minimum-allocation-mb"},
	{SvcYARN, "yarn.scheduler.maximum-allocation-mb"},
	{SvcYARN, "yarn.nodemanager.vmem-check-enabled"},
}

// RecommendConfigs is Sahara's recommend_configs (use_autoconfig, on by
// default): for each node group that sets none of the YARN and MapReduce
// memory configs (in its own or the cluster's configs), it fills them from
// the flavor as Sahara's HadoopAutoConfigsProvider does (sizes from Ambari's
// rules), and sets dfs.replication to min(3, datanodes) unless given. When
// scaling, only clusters recommended at create are touched. flavors maps
// flavor IDs to their sizes; the engine calls it in Validating.
func (p *Plugin) RecommendConfigs(_ context.Context, c *sahara.Cluster, flavors map[string]Flavor, scaling bool) error {
	if !hadoop.AutoconfigApplies(c, scaling) {
		return nil
	}
	for _, ng := range c.NodeGroups {
		if ng.UseAutoconfig != nil && !*ng.UseAutoconfig {
			continue
		}
		if anySet(c.ClusterConfigs, ng.NodeConfigs) {
			continue
		}
		f, ok := flavors[ng.FlavorID]
		if !ok || f.RAMMB <= 0 {
			return fmt.Errorf("vanilla: autoconfiguration of node group %s: no size for flavor %q", ng.Name, ng.FlavorID)
		}
		if ng.NodeConfigs == nil {
			ng.NodeConfigs = sahara.Configs{}
		}
		for k, v := range recommendFor(f) {
			ng.NodeConfigs.Set(k.target, k.name, v)
		}
	}
	hadoop.RecommendReplication(c, SvcHDFS, ProcDataNode)
	return nil
}

func anySet(cluster, node sahara.Configs) bool {
	for _, a := range autoNodeConfigs {
		if _, ok := cluster.Get(a.target, a.name); ok {
			return true
		}
		if _, ok := node.Get(a.target, a.name); ok {
			return true
		}
	}
	return false
}

type configKey struct{ target, name string }

// recommendFor is HadoopAutoConfigsProvider._get_node_group_data and
// _get_recommended_node_configs.
func recommendFor(f Flavor) map[configKey]any {
	ram := float64(f.RAMMB)
	gb := ram / 1024
	reserved := osReserveGB(gb) * 1024
	minContainer := float64(minContainerMB(gb))
	containers := math.Floor(math.Max(8, math.Min(2*float64(f.VCPUs), ram/minContainer)))
	perContainer := math.Max((ram-reserved)/containers, minContainer)
	per := int(math.Min(2048, math.Trunc(perContainer)))
	mapMem, reduceMem := per, 2*per
	am := min(mapMem, reduceMem)
	opts := func(mb int) string { return fmt.Sprintf("-Xmx%dm", int(0.8*float64(mb))) }
	total := int(containers) * per
	return map[configKey]any{
		{SvcYARN, "yarn.nodemanager.resource.memory-mb"}:     total,
		{SvcYARN, "yarn.scheduler.minimum-allocation-mb"}:    per,
		{SvcYARN, "yarn.scheduler.maximum-allocation-mb"}:    total,
		{SvcYARN, "yarn.nodemanager.vmem-check-enabled"}:     "false",
		{SvcMapReduce, "yarn.app.mapreduce.am.resource.mb"}:  am,
		{SvcMapReduce, "yarn.app.mapreduce.am.command-opts"}: opts(am),
		{SvcMapReduce, "mapreduce.map.memory.mb"}:            mapMem,
		{SvcMapReduce, "mapreduce.reduce.memory.mb"}:         reduceMem,
		{SvcMapReduce, "mapreduce.map.java.opts"}:            opts(mapMem),
		{SvcMapReduce, "mapreduce.reduce.java.opts"}:         opts(reduceMem),
		{SvcMapReduce, "mapreduce.task.io.sort.mb"}:          int(math.Min(0.4*float64(mapMem), 1024)),
	}
}

func minContainerMB(gb float64) int {
	switch {
	case gb <= 4:
		return 256
	case gb <= 8:
		return 512
	case gb <= 24:
		return 1024
	}
	return 2048
}

func osReserveGB(gb float64) float64 {
	upper := []float64{4, 8, 16, 24, 48, 64, 72, 96, 128, 256}
	reserve := []float64{1, 2, 2, 4, 6, 8, 8, 12, 24, 32}
	for i, u := range upper {
		if gb <= u {
			return reserve[i]
		}
	}
	return 64
}
