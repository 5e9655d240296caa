package sahara

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// scalePhases is the scale operation, Sahara's scale statuses in order; the
// cluster ends Active (Error only when a rollback fails).
func scalePhases() []phase[*scaleOp] {
	return []phase[*scaleOp]{
		scaleValidatingPhase{},  // Validating: request, plugin recommend_configs and validate_scaling, images, quotas
		scalingPhase{},          // Scaling: apply the plan to the record (counts, new groups)
		addingInstancesPhase{},  // Adding Instances: spawn, wait, prepare new; /etc/hosts on all
		scaleConfiguringPhase{}, // Configuring: plugin scale_cluster with the new instances
		decommissioningPhase{},  // Decommissioning: plugin decommission_nodes, delete victims
	}
}

// PlanScale computes the scale plan (instances to add, deterministic
// victims) without side effects.
func (e *Engine) PlanScale(c *Cluster, req ScaleRequest) (ScalePlan, error) {
	c.Link()
	plan := ScalePlan{AddCount: map[string]int{}, Victims: map[string][]*Instance{}}
	if len(req.Resize) == 0 && len(req.Add) == 0 {
		return plan, InvalidData("Scale request is empty: resize or add at least one node group")
	}
	for name := range req.Remove {
		if _, ok := req.Resize[name]; !ok {
			return plan, InvalidData(fmt.Sprintf("Instances to remove are given for node group '%s', which the request does not resize", name))
		}
	}
	names := make([]string, 0, len(req.Resize))
	for name := range req.Resize {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target := req.Resize[name]
		ng := c.NodeGroup(name)
		if ng == nil {
			return plan, InvalidReference(fmt.Sprintf("Cluster doesn't contain node group with name '%s'", name))
		}
		if target < 0 {
			return plan, InvalidData(fmt.Sprintf("Node group '%s': count must be 0 or more, got %d", name, target))
		}
		cur := len(ng.Instances)
		switch {
		case target > cur:
			plan.AddCount[name] = target - cur
			if n := len(req.Remove[name]); n > 0 {
				return plan, InvalidData(fmt.Sprintf("Number of specific instances (%d) to delete can not be greater than the count difference (%d during scaling)", n, 0))
			}
		case target < cur:
			v, err := Victims(ng, cur-target, req.Remove[name])
			if err != nil {
				return plan, err
			}
			plan.Victims[name] = v
		default:
			if n := len(req.Remove[name]); n > 0 {
				return plan, InvalidData(fmt.Sprintf("Number of specific instances (%d) to delete can not be greater than the count difference (%d during scaling)", n, 0))
			}
		}
	}
	seen := map[string]bool{}
	for _, ng := range req.Add {
		if c.NodeGroup(ng.Name) != nil {
			return plan, InvalidData(fmt.Sprintf("Can't add new nodegroup. Cluster already has nodegroup with name '%s'", ng.Name))
		}
		if seen[ng.Name] {
			return plan, InvalidData("Duplicates in node group names are detected: " + pyList([]string{ng.Name}))
		}
		seen[ng.Name] = true
		if ng.Count < 0 {
			return plan, InvalidData(fmt.Sprintf("Node group '%s': count must be 0 or more, got %d", ng.Name, ng.Count))
		}
		if ng.Count > 0 {
			plan.AddCount[ng.Name] = ng.Count
		}
	}
	return plan, nil
}

// ValidateScaling runs the plugin's validate_scaling on the request,
// offline: it recommends no configs, so c is unchanged.
func (e *Engine) ValidateScaling(ctx context.Context, c *Cluster, req ScaleRequest) error {
	if err := notActive(c); err != nil {
		return err
	}
	p, _, err := e.checkScaleRequest(c, req)
	if err != nil {
		return err
	}
	v, ok := p.(ScalingValidator)
	if !ok {
		return nil
	}
	existing, additional := scaleCounts(req)
	return withAddedGroups(c, req.Add, func([]*NodeGroup) error {
		return Locate(c, v.ValidateScaling(ctx, c, existing, additional))
	})
}

// checkScaleRequest checks a request against the cluster (the plugin can
// scale, the plan holds, the resulting layout passes the checks of
// ValidateSpec) and returns the plugin and the plan. It does not call the
// plugin's validate_scaling.
func (e *Engine) checkScaleRequest(c *Cluster, req ScaleRequest) (Plugin, ScalePlan, error) {
	c.Link()
	p, err := e.opts.Plugins.PluginVersion(c.PluginName, c.PluginVersion)
	if err != nil {
		return nil, ScalePlan{}, err
	}
	if _, scalable := p.(Scaler); !scalable {
		return nil, ScalePlan{}, ClusterCannotBeScaled(c.Name, fmt.Sprintf("Requested plugin '%s' doesn't support cluster scaling feature", c.PluginName))
	}
	plan, err := e.PlanScale(c, req)
	if err != nil {
		return nil, plan, err
	}
	spec := clusterSpecOf(c)
	for i := range spec.NodeGroups {
		if n, ok := req.Resize[spec.NodeGroups[i].Name]; ok {
			spec.NodeGroups[i].Count = n
		}
	}
	spec.NodeGroups = append(spec.NodeGroups, req.Add...)
	if _, err := e.checkSpec(spec); err != nil {
		return nil, plan, err
	}
	return p, plan, nil
}

// scaleCounts are validate_scaling's arguments: the new counts of resized
// groups (existing) and the counts of added groups (additional).
func scaleCounts(req ScaleRequest) (existing, additional map[string]int) {
	existing, additional = map[string]int{}, map[string]int{}
	for k, n := range req.Resize {
		existing[k] = n
	}
	for _, ng := range req.Add {
		additional[ng.Name] = ng.Count
	}
	return existing, additional
}

// withAddedGroups runs fn while c holds the request's new node groups with
// their requested counts (and no instances), as Sahara's API adds them
// before validate_scaling and recommend_configs; they leave c again when fn
// returns. fn gets the added groups.
func withAddedGroups(c *Cluster, specs []NodeGroupSpec, fn func(added []*NodeGroup) error) error {
	orig := c.NodeGroups
	defer func() { c.NodeGroups = orig }()
	added := make([]*NodeGroup, 0, len(specs))
	for _, ng := range specs {
		added = append(added, c.AddNodeGroup(cloneNodeGroupSpec(ng)))
	}
	return fn(added)
}

// scaleOp is a scale's state. Validating plans it (the groups to add, the
// instances to add and the victims); Scaling applies the plan to the record
// (keeping the old counts for a rollback); the later phases add, configure
// and remove instances.
type scaleOp struct {
	*operation
	req          ScaleRequest
	addedGroups  []*NodeGroup
	oldCounts    map[*NodeGroup]int
	newInstances []*Instance
	victims      []*Instance
}

// Scale runs the scale operation. A request the cluster or the plugin
// rejects leaves the cluster Active with the reason; a failure while adding
// or configuring instances rolls them back. The returned error is the
// reason recorded in the status description.
func (e *Engine) Scale(ctx context.Context, c *Cluster, req ScaleRequest) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	if err := notActive(c); err != nil {
		return err
	}
	op := &scaleOp{operation: e.newOperation(c, StepTypeEngineScale), req: req}
	defer op.close()
	ctx = WithLogger(ctx, op.log) // plugins log where the operation logs
	op.log.Info("scaling cluster", "resize", len(req.Resize), "add", len(req.Add))
	failed, err, rbErr := run(ctx, op, scalePhases())
	switch {
	case err == nil:
		op.syncCounts()
		op.finish(StatusActive, "")
		op.log.Info("cluster scaled", "added", len(op.newInstances), "removed", len(op.victims), "instances", len(c.Instances()))
		return nil
	case errors.Is(err, errClusterDeleting):
		return err
	case failed.Title() == StatusValidating:
		op.finish(StatusActive, err.Error())
		return err
	case rbErr != nil:
		op.syncCounts()
		op.finish(StatusError, failureDescription(scaleFailedFormat, err, rbErr))
		return fmt.Errorf("%w; rollback failed: %w", err, rbErr)
	default:
		op.syncCounts()
		op.finish(StatusActive, failureDescription(scaleFailedFormat, err, nil))
		return err
	}
}

// notActive refuses to scale a cluster that is not Active (Sahara's check).
func notActive(c *Cluster) error {
	if c.Status != StatusActive {
		return InvalidReference(fmt.Sprintf("Cluster cannot be scaled not in 'Active' status. Cluster status: %s", c.Status))
	}
	return nil
}

// syncCounts makes every group's count its number of instances (the count
// is a fact after a scale, as Sahara's DB keeps it).
func (op *operation) syncCounts() {
	op.mu.Lock()
	defer op.mu.Unlock()
	for _, ng := range op.c.NodeGroups {
		ng.Count = len(ng.Instances)
	}
}

type scaleValidatingPhase struct{}

func (scaleValidatingPhase) Title() ClusterStatus { return StatusValidating }

func (scaleValidatingPhase) Run(ctx context.Context, op *scaleOp) error {
	c := op.c
	p, plan, err := op.e.checkScaleRequest(c, op.req)
	if err != nil {
		return err
	}
	op.plugin = p
	// As in Sahara, recommend_configs(scaling=true) runs before
	// validate_scaling; it may change the existing groups and cluster
	// configs, and the new groups' specs, which are kept.
	var added []NodeGroupSpec
	err = withAddedGroups(c, op.req.Add, func(groups []*NodeGroup) error {
		if err := op.recommendConfigs(ctx, p, c, true); err != nil {
			return err
		}
		if v, ok := p.(ScalingValidator); ok {
			existing, additional := scaleCounts(op.req)
			if err := v.ValidateScaling(ctx, c, existing, additional); err != nil {
				return Locate(c, err)
			}
		}
		for _, ng := range groups {
			added = append(added, ng.NodeGroupSpec)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// New groups are built linked to the cluster but not yet in it.
	for _, spec := range added {
		ng := &NodeGroup{NodeGroupSpec: spec, ID: spec.Name, cluster: c}
		if ng.AutoSecurityGroup {
			ng.OpenPorts = OpenPortsFor(p, c, ng)
		}
		op.addedGroups = append(op.addedGroups, ng)
	}
	if err := op.checkImages(ctx, op.addedGroups); err != nil {
		return err
	}
	op.newInstances = nil
	for _, ng := range append(append([]*NodeGroup(nil), c.NodeGroups...), op.addedGroups...) {
		for _, i := range ng.FreeIndexes(plan.AddCount[ng.Name]) {
			op.newInstances = append(op.newInstances, ng.NewInstance(i))
		}
	}
	for _, ng := range c.NodeGroups {
		op.victims = append(op.victims, plan.Victims[ng.Name]...)
	}
	return op.checkQuotas(ctx, op.newInstances)
}

type scalingPhase struct{}

func (scalingPhase) Title() ClusterStatus { return StatusScaling }

func (scalingPhase) Run(ctx context.Context, op *scaleOp) error {
	c := op.c
	op.mu.Lock()
	op.oldCounts = map[*NodeGroup]int{}
	for _, ng := range c.NodeGroups {
		op.oldCounts[ng] = ng.Count
		if n, ok := op.req.Resize[ng.Name]; ok {
			ng.Count = n
		}
	}
	c.NodeGroups = append(c.NodeGroups, op.addedGroups...)
	op.mu.Unlock()
	op.log.Info(fmt.Sprintf("Scaling plan: %d instances to add, %d to remove, %d node groups added", len(op.newInstances), len(op.victims), len(op.addedGroups)))
	for _, ng := range op.addedGroups {
		if ng.AutoSecurityGroup {
			if err := op.e.opts.Infra.PrepareCluster(ctx, c); err != nil {
				return fmt.Errorf("preparing resources of the new node groups: %w", err)
			}
			break
		}
	}
	return nil
}

// Rollback restores the counts and drops the added node groups.
func (scalingPhase) Rollback(ctx context.Context, op *scaleOp) error {
	op.mu.Lock()
	defer op.mu.Unlock()
	added := map[*NodeGroup]bool{}
	for _, ng := range op.addedGroups {
		added[ng] = true
	}
	var keep []*NodeGroup
	for _, ng := range op.c.NodeGroups {
		if added[ng] {
			continue
		}
		if n, ok := op.oldCounts[ng]; ok {
			ng.Count = n
		}
		keep = append(keep, ng)
	}
	op.c.NodeGroups = keep
	return nil
}

type addingInstancesPhase struct{}

func (addingInstancesPhase) Title() ClusterStatus { return StatusAddingInstances }

func (addingInstancesPhase) Skip(op *scaleOp) bool { return len(op.newInstances) == 0 }

func (addingInstancesPhase) Run(ctx context.Context, op *scaleOp) error {
	if err := op.spawn(ctx, op.newInstances); err != nil {
		return err
	}
	if err := op.waitAccessible(ctx, op.newInstances); err != nil {
		return err
	}
	return op.prepare(ctx, op.newInstances, op.c.Instances())
}

// Rollback deletes the added instances and rewrites /etc/hosts on the rest.
func (addingInstancesPhase) Rollback(ctx context.Context, op *scaleOp) error {
	prev := op.stepType
	op.stepType = StepTypeEngineRollback
	defer func() { op.stepType = prev }()
	if err := op.removeInstances(ctx, op.newInstances); err != nil {
		return err
	}
	var reachable []*Instance
	for _, in := range op.c.Instances() {
		if in.Phase != InstanceFailed && in.LastError == "" {
			reachable = append(reachable, in)
		}
	}
	return op.prepare(ctx, nil, reachable)
}

type scaleConfiguringPhase struct{}

func (scaleConfiguringPhase) Title() ClusterStatus { return StatusConfiguring }

func (scaleConfiguringPhase) Skip(op *scaleOp) bool { return len(op.newInstances) == 0 }

func (scaleConfiguringPhase) Run(ctx context.Context, op *scaleOp) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	sc := op.plugin.(Scaler)
	return op.pluginStep("Scale cluster", StepTypePluginScale, func() error {
		return sc.ScaleCluster(ctx, op.c, pool, op.newInstances)
	}, op.newInstances, InstanceStarted)
}

// Commits: configured instances are kept even if decommissioning fails.
func (scaleConfiguringPhase) Commits() bool { return true }

type decommissioningPhase struct{}

func (decommissioningPhase) Title() ClusterStatus { return StatusDecommissioning }

func (decommissioningPhase) Skip(op *scaleOp) bool { return len(op.victims) == 0 }

func (decommissioningPhase) Run(ctx context.Context, op *scaleOp) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	sc := op.plugin.(Scaler)
	err = op.pluginStep("Decommission nodes", StepTypeDecommission, func() error {
		return sc.DecommissionNodes(ctx, op.c, pool, op.victims)
	}, nil, "")
	if err != nil {
		return err
	}
	if err := op.removeInstances(ctx, op.victims); err != nil {
		return err
	}
	return op.prepare(ctx, nil, op.c.Instances())
}
