package sahara

import (
	"context"
	"fmt"
)

// A change to a node group's servers (flavor, image, volumes, network,
// configs) never rebuilds the cluster: the group is rolled. Batch by batch,
// the plugin's scale path adds instances made with the new settings, then
// its decommission path retires as many old ones (data moved first). Other
// groups are untouched, and the cluster is Active between batches.

// RollPolicy paces a rolling replacement, as a Kubernetes Deployment's
// rolling update does: a batch retires MaxUnavailable old instances, adds
// MaxSurge+MaxUnavailable new ones, then retires the rest of the batch.
// The group runs between count-MaxUnavailable and count+MaxSurge instances.
type RollPolicy struct {
	// MaxSurge is how many instances above the group's count a batch adds
	// before it retires as many old ones (default 1).
	MaxSurge int
	// MaxUnavailable is how many old instances a batch retires before it
	// adds their replacements (default 0): for a cloud without room for
	// more servers. Never more than the plugin lets go at once
	// (RetireLimiter).
	MaxUnavailable int
}

func (p RollPolicy) normal() RollPolicy {
	if p.MaxSurge <= 0 && p.MaxUnavailable <= 0 {
		p.MaxSurge = 1
	}
	return p
}

// Outdated lists the group's instances made with other settings than the
// group's own: what a roll retires, or what a roll that stopped left. (An
// instance of a record older than rolling replacement has no settings: it
// counts as made with its group's.)
func (ng *NodeGroup) Outdated() []*Instance {
	want := ng.ServerSettings()
	var out []*Instance
	for _, in := range ng.Instances {
		if in.Settings != "" && in.Settings != want {
			out = append(out, in)
		}
	}
	return out
}

// stampSettings gives instances of records older than rolling replacement
// the settings of their group.
func stampSettings(ng *NodeGroup) {
	want := ng.ServerSettings()
	for _, in := range ng.Instances {
		if in.Settings == "" {
			in.Settings = want
		}
	}
}

// RollRefuser is an optional Infrastructure capability: an infrastructure
// that cannot replace a node group's instances a batch at a time says why
// (RefuseRoll returns nil when it can).
type RollRefuser interface {
	RefuseRoll(c *Cluster, group string) error
}

// ValidateRoll checks, offline, that the plugin can roll the group: it must
// be able to add instances to it and retire some (validate_scaling); a
// group running a process the plugin cannot scale, such as a namenode, is
// refused with the plugin's reason. A policy that would retire more at once
// than the plugin allows is refused too.
func (e *Engine) ValidateRoll(ctx context.Context, c *Cluster, group string, policy RollPolicy) error {
	c.Link()
	ng := c.NodeGroup(group)
	if ng == nil {
		return NotFound(fmt.Sprintf("Node group %s not found", group)).At(Field{NodeGroup: group})
	}
	if rr, ok := e.opts.Infra.(RollRefuser); ok {
		if err := rr.RefuseRoll(c, group); err != nil {
			return err
		}
	}
	at := Field{NodeGroup: group, Attribute: "update_policy"}
	if policy.MaxSurge < 0 || policy.MaxUnavailable < 0 {
		return InvalidData(fmt.Sprintf("Node group %s: max_surge and max_unavailable must not be negative", group)).At(at)
	}
	policy = policy.normal()
	if limit, why := e.retireLimit(c, ng); limit > 0 && policy.MaxUnavailable > limit {
		return InvalidData(fmt.Sprintf("Node group %s: max_unavailable %d retires more instances at once than the plugin allows (%d: %s)",
			group, policy.MaxUnavailable, limit, why)).At(at)
	}
	if policy.MaxSurge > 0 {
		if err := e.ValidateScaling(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count + policy.MaxSurge}}); err != nil {
			return err
		}
	}
	if policy.MaxUnavailable > 0 {
		return e.ValidateScaling(ctx, c, ScaleRequest{Resize: map[string]int{group: max(ng.Count-policy.MaxUnavailable, 0)}})
	}
	return nil
}

// retireLimit is how many of the group's instances the plugin lets go at
// once (0: no limit), and why.
func (e *Engine) retireLimit(c *Cluster, ng *NodeGroup) (int, string) {
	p, err := e.opts.Plugins.PluginVersion(c.PluginName, c.PluginVersion)
	if err != nil {
		return 0, ""
	}
	if l, ok := p.(RetireLimiter); ok {
		return l.MaxRetired(c, ng)
	}
	return 0, ""
}

// Roll replaces the group's instances with ones made with spec (its name
// and count are the group's), batch by batch. A failed batch is rolled
// back by the scale it ran in: the cluster stays Active on a mix of old and
// new instances, each with the settings it was made with, and Roll run
// again with the same spec goes on from there.
func (e *Engine) Roll(ctx context.Context, c *Cluster, group string, spec NodeGroupSpec, policy RollPolicy) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	if err := e.ValidateRoll(ctx, c, group, policy); err != nil {
		return err
	}
	policy = policy.normal()
	ng := c.NodeGroup(group)
	stampSettings(ng)
	spec.Name, spec.Count = ng.Name, ng.Count
	ng.NodeGroupSpec = spec
	total := len(ng.Outdated())
	if total == 0 {
		return nil
	}
	limit, _ := e.retireLimit(c, ng)
	e.log.Info(fmt.Sprintf("Rolling node group %s: replacing %d instances, %d added and %d retired first per batch",
		group, total, policy.MaxSurge, policy.MaxUnavailable), "cluster_id", c.ID)
	done := 0
	// retire decommissions the named old instances, at most limit at once.
	retire := func(old []*Instance) error {
		for len(old) > 0 {
			n := len(old)
			if limit > 0 {
				n = min(n, limit)
			}
			names := make([]string, n)
			for i, in := range old[:n] {
				names[i] = in.InstanceName
			}
			if err := e.Scale(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count - n}, Remove: map[string][]string{group: names}}); err != nil {
				return fmt.Errorf("rolling node group %s: retiring %v (%d/%d replaced so far): %w", group, names, done, total, err)
			}
			old = old[n:]
		}
		return nil
	}
	for {
		old := ng.Outdated()
		if len(old) == 0 {
			break
		}
		k := min(policy.MaxSurge+policy.MaxUnavailable, len(old))
		down := min(policy.MaxUnavailable, k)
		if err := retire(old[:down]); err != nil {
			return err
		}
		if err := e.Scale(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count + k}}); err != nil {
			return fmt.Errorf("rolling node group %s: adding %d new instances (%d/%d replaced so far): %w", group, k, done, total, err)
		}
		if err := retire(old[down:k]); err != nil {
			return err
		}
		done += k
		e.log.Info(fmt.Sprintf("Rolled %d/%d instances of node group %s", done, total, group), "cluster_id", c.ID)
	}
	return nil
}
