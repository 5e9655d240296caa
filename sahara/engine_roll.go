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

// RollPolicy paces a rolling replacement.
type RollPolicy struct {
	// MaxSurge is how many new instances a batch adds before it retires as
	// many old ones (default 1). Retiring one at a time never takes more
	// than one copy of a block away from an HDFS that keeps two or more.
	MaxSurge int
}

func (p RollPolicy) surge() int { return max(p.MaxSurge, 1) }

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

// ValidateRoll checks, offline, that the plugin can roll the group: it must
// be able to add instances to it and retire some (validate_scaling); a
// group running a process the plugin cannot scale, such as a namenode, is
// refused with the plugin's reason.
func (e *Engine) ValidateRoll(ctx context.Context, c *Cluster, group string, policy RollPolicy) error {
	c.Link()
	ng := c.NodeGroup(group)
	if ng == nil {
		return NotFound(fmt.Sprintf("Node group %s not found", group)).At(Field{NodeGroup: group})
	}
	return e.ValidateScaling(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count + policy.surge()}})
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
	ng := c.NodeGroup(group)
	stampSettings(ng)
	spec.Name, spec.Count = ng.Name, ng.Count
	ng.NodeGroupSpec = spec
	total := len(ng.Outdated())
	if total == 0 {
		return nil
	}
	e.log.Info(fmt.Sprintf("Rolling node group %s: replacing %d instances, %d at a time", group, total, policy.surge()),
		"cluster_id", c.ID)
	done := 0
	for {
		old := ng.Outdated()
		if len(old) == 0 {
			break
		}
		n := min(policy.surge(), len(old))
		if err := e.Scale(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count + n}}); err != nil {
			return fmt.Errorf("rolling node group %s: adding %d new instances (%d/%d replaced so far): %w", group, n, done, total, err)
		}
		names := make([]string, n)
		for i, in := range old[:n] {
			names[i] = in.InstanceName
		}
		if err := e.Scale(ctx, c, ScaleRequest{Resize: map[string]int{group: ng.Count - n}, Remove: map[string][]string{group: names}}); err != nil {
			return fmt.Errorf("rolling node group %s: retiring %v (%d/%d replaced so far): %w", group, names, done, total, err)
		}
		done += n
		e.log.Info(fmt.Sprintf("Rolled %d/%d instances of node group %s", done, total, group), "cluster_id", c.ID)
	}
	return nil
}
