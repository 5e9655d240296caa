package sahara

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Flavor is what the engine and plugins know of a compute flavor.
type Flavor struct {
	ID, Name             string
	VCPUs, RAMMB, DiskGB int
}

// FlavorLookup is an optional Infrastructure capability: reading a flavor's
// size. A missing flavor is ErrNotFound.
type FlavorLookup interface {
	Flavor(ctx context.Context, id string) (Flavor, error)
}

// ConfigRecommender is recommend_configs(cluster, scaling): the plugin fills
// configs the user left unset from the node groups' flavors (keyed by
// flavor ID). The engine calls it in Validating, before validate on create
// and before validate_scaling (scaling=true) on scale, when the cluster's
// use_autoconfig is on; honouring a node group's use_autoconfig and values
// the user set is the plugin's job.
type ConfigRecommender interface {
	RecommendConfigs(ctx context.Context, c *Cluster, flavors map[string]Flavor, scaling bool) error
}

// autoconfigOn reads use_autoconfig, which defaults to true.
func autoconfigOn(b *bool) bool { return b == nil || *b }

// recommendConfigs runs the plugin's recommend_configs over c as it stands
// (on scale, with the new node groups already in it), with the flavors of
// the node groups that use autoconfig.
func (op *operation) recommendConfigs(ctx context.Context, p Plugin, c *Cluster, scaling bool) error {
	rec, ok := p.(ConfigRecommender)
	if !ok {
		return nil
	}
	if !autoconfigOn(c.UseAutoconfig) {
		op.log.Debug("autoconfiguration skipped: use_autoconfig is off")
		return nil
	}
	fl, ok := op.e.opts.Infra.(FlavorLookup)
	if !ok {
		op.log.Debug("autoconfiguration skipped: the infrastructure cannot look up flavors")
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, ng := range c.NodeGroups {
		if autoconfigOn(ng.UseAutoconfig) && ng.FlavorID != "" && !seen[ng.FlavorID] {
			seen[ng.FlavorID] = true
			ids = append(ids, ng.FlavorID)
		}
	}
	sort.Strings(ids)
	flavors := make(map[string]Flavor, len(ids))
	for _, id := range ids {
		f, err := op.lookups.flavor(ctx, fl, id)
		if errors.Is(err, ErrNotFound) {
			return InvalidReference(fmt.Sprintf("Requested flavor '%s' not found", id))
		}
		if err != nil {
			return fmt.Errorf("reading flavor %s for autoconfiguration: %w", id, err)
		}
		flavors[id] = f
	}
	op.log.Info(fmt.Sprintf("Recommending configs from %d flavors", len(flavors)), "scaling", scaling)
	if err := rec.RecommendConfigs(ctx, c, flavors, scaling); err != nil {
		return fmt.Errorf("plugin recommend_configs: %w", err)
	}
	return nil
}
