package sahara

import (
	"context"
	"fmt"
)

// A scale whose run was stopped (kill -9, a lost runner) leaves a record in
// one of scale's statuses that claims the new counts, and maybe servers that
// no record names. Nothing moves such a record on, and Scale refuses a
// cluster that is not Active. Recover rolls the interrupted scale back to
// what surely works: the instances that were running before it.

// LeftByInterruptedCreate reports whether the record is one a create left
// when its run was stopped: in one of create's statuses, never scaled. With
// no run holding its lease, nothing will move it on.
func (c *Cluster) LeftByInterruptedCreate() bool {
	if !c.ActivatedAt.IsZero() {
		return false
	}
	switch c.Status {
	case "", StatusUndefined, StatusValidating, StatusInfraUpdating, StatusSpawning,
		StatusWaiting, StatusPreparing, StatusConfiguring, StatusStarting:
	default:
		return false
	}
	for _, st := range c.Progress {
		switch st.Type {
		case StepTypeEngineScale, StepTypePluginScale, StepTypeDecommission:
			return false
		}
	}
	return true
}

// LeftByInterruptedScale reports whether the record is one a scale left
// when its run was stopped: a status a running scale writes, on a cluster
// that is not a create's leftover. With no run holding its lease, nothing
// will move it on.
func (c *Cluster) LeftByInterruptedScale() bool {
	return c.Status.WrittenByScale() && !c.LeftByInterruptedCreate()
}

// Running reports whether the instance finished a create or scale (the
// plugin started it); an interrupted scale's new instances have not.
func (in *Instance) Running() bool { return in.Phase == InstanceStarted }

// RunningCount is the number of the group's instances that run, which an
// interrupted scale's record may count differently.
func (ng *NodeGroup) RunningCount() int {
	n := 0
	for _, in := range ng.Instances {
		if in.Running() {
			n++
		}
	}
	return n
}

// Recover rolls back the scale a stopped run left: it deletes the instances
// that scale added (the record's instances that never started, and the
// servers it may have booted under the names it would have given them),
// sets every group's count to its running instances, rewrites /etc/hosts on
// them, and leaves the cluster Active with what happened in its status
// description. A record not left by a scale is refused. Victims of an
// interrupted scale-down stay: the next scale-down removes them again.
func (e *Engine) Recover(ctx context.Context, c *Cluster) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	c.Link()
	if !c.LeftByInterruptedScale() {
		return fmt.Errorf("cluster %s is %s: only a record an interrupted scale left can be recovered", c.Name, c.Status)
	}
	op := e.newOperation(c, StepTypeEngineRollback)
	defer op.close()
	ctx = WithLogger(ctx, op.log)
	from := c.Status
	var added, unnamed []*Instance
	for _, ng := range c.NodeGroups {
		for _, in := range ng.Instances {
			if !in.Running() {
				added = append(added, in)
			}
		}
		// Servers spawned after the record was last written carry the
		// names the scale gave them: the lowest free indexes.
		if missing := ng.Count - len(ng.Instances); missing > 0 {
			for _, i := range ng.FreeIndexes(missing) {
				unnamed = append(unnamed, ng.NewInstance(i))
			}
		}
	}
	op.log.Info(fmt.Sprintf("Recovering from a scale interrupted in %s: deleting %d instances it added", from, len(added)+len(unnamed)))
	if err := op.e.opts.Infra.DeleteInstances(ctx, c, append(append([]*Instance(nil), added...), unnamed...)); err != nil {
		return fmt.Errorf("deleting the instances of the interrupted scale: %w", err)
	}
	op.mu.Lock()
	for _, in := range added {
		in.NodeGroup().RemoveInstance(in)
	}
	for _, ng := range c.NodeGroups {
		ng.Count = len(ng.Instances)
	}
	op.mu.Unlock()
	if len(added) > 0 {
		p, err := e.opts.Plugins.PluginVersion(c.PluginName, c.PluginVersion)
		if err != nil {
			return err
		}
		op.plugin = p
		if err := op.prepare(ctx, nil, c.Instances()); err != nil {
			return fmt.Errorf("rewriting /etc/hosts after the interrupted scale: %w", err)
		}
	}
	op.finish(StatusActive, fmt.Sprintf("A scale was interrupted in %s; rolled back: %d instance(s) it added were deleted", from, len(added)+len(unnamed)))
	op.log.Info("cluster recovered", "instances", len(c.Instances()))
	return nil
}

// Broken lists the instances whose server the last refresh found gone or
// in ERROR: deleted or broken outside the engine.
func (c *Cluster) Broken() []*Instance {
	var out []*Instance
	for _, in := range c.Instances() {
		if in.CloudStatus == CloudStatusMissing || in.CloudStatus == "ERROR" {
			out = append(out, in)
		}
	}
	return out
}

// repairRequest is the scale that gives every group with broken instances
// its count back.
func repairRequest(c *Cluster) ScaleRequest {
	req := ScaleRequest{Resize: map[string]int{}}
	for _, in := range c.Broken() {
		ng := in.NodeGroup()
		req.Resize[ng.Name] = ng.Count
	}
	return req
}

// ValidateRepair checks, offline, that the plugin can scale every group
// with broken instances (Repair replaces them through its scale path); a
// group it cannot scale, such as one running a master process, is refused
// with the plugin's reason.
func (e *Engine) ValidateRepair(ctx context.Context, c *Cluster) error {
	c.Link()
	if len(c.Broken()) == 0 {
		return nil
	}
	return e.ValidateScaling(ctx, c, repairRequest(c))
}

// Repair replaces the broken instances (Broken) through the plugin's scale
// path: it deletes what is left of them, sets the counts to the instances
// that remain (so the record never claims what does not exist), then scales
// the groups back to their counts; the new instances take the freed
// indexes, so they get the same names. c must be freshly refreshed.
func (e *Engine) Repair(ctx context.Context, c *Cluster) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	if err := e.ValidateRepair(ctx, c); err != nil {
		return err
	}
	broken := c.Broken()
	if len(broken) == 0 {
		return nil
	}
	req := repairRequest(c)
	names := make([]string, len(broken))
	for i, in := range broken {
		names[i] = in.InstanceName + " (" + in.CloudStatus + ")"
	}
	e.log.Info(fmt.Sprintf("Repairing %d broken instances", len(broken)), "cluster_id", c.ID, "instances", names)
	if err := e.opts.Infra.DeleteInstances(ctx, c, broken); err != nil {
		return fmt.Errorf("deleting what is left of the broken instances: %w", err)
	}
	for _, in := range broken {
		in.NodeGroup().RemoveInstance(in)
	}
	for name := range req.Resize {
		ng := c.NodeGroup(name)
		ng.Count = len(ng.Instances)
	}
	return e.Scale(ctx, c, req)
}
