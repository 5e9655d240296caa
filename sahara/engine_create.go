package sahara

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// createPhases is the create operation: Sahara's create statuses in order; the
// cluster ends Active.
func createPhases() []phase[*createOp] {
	return []phase[*createOp]{
		validatingPhase{},    // Validating: spec, plugin recommend_configs and validate, images, quotas
		infraUpdatingPhase{}, // InfraUpdating: plugin update_infra, per-cluster cloud objects
		spawningPhase{},      // Spawning: servers, volumes, floating IPs
		waitingPhase{},       // Waiting: host keys, SSH reachable
		preparingPhase{},     // Preparing: volumes, /etc/hosts, hostname, management key
		configuringPhase{},   // Configuring: plugin configure_cluster
		startingPhase{},      // Starting: plugin start_cluster
	}
}

// Create runs the create operation; on return c.Status is Active or Error
// (or Deleting, when a delete overtook it). The returned error is the
// reason of an Error status.
func (e *Engine) Create(ctx context.Context, c *Cluster) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	if c.Status != StatusUndefined && c.Status != "" {
		return fmt.Errorf("cluster %s is %s; create needs a new cluster record (Engine.NewCluster)", c.Name, c.Status)
	}
	if c.ManagementPublicKey == "" {
		priv, pub, err := GenerateManagementKey(ClusterResourcePrefix(c.ID))
		if err != nil {
			return err
		}
		c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	}
	if c.NodeDomain == "" {
		c.NodeDomain = e.nodeDomain()
	}
	op := &createOp{operation: e.newOperation(c, StepTypeEngineCreate)}
	defer op.close()
	ctx = WithLogger(ctx, op.log) // plugins log where the operation logs
	op.log.Info("creating cluster", "node_groups", len(c.NodeGroups), "plugin", c.PluginName, "version", c.PluginVersion)
	failed, err, rbErr := run(ctx, op, createPhases())
	switch {
	case err == nil:
		op.finish(StatusActive, "")
		op.log.Info("cluster created", "instances", len(c.Instances()))
		return nil
	case errors.Is(err, errClusterDeleting):
		return err
	case failed.Title() == StatusValidating:
		// Sahara's synchronous validation: the bare reason, nothing touched.
		op.finish(StatusError, err.Error())
		return err
	default:
		desc := failureDescription(createFailedFormat, err, rbErr)
		op.finish(StatusError, desc)
		if rbErr != nil {
			return fmt.Errorf("%w; rollback failed: %w", err, rbErr)
		}
		return err
	}
}

// createOp is a create's state: the instances it adds, planned in
// Validating and then spawned, waited for and prepared.
type createOp struct {
	*operation
	newInstances []*Instance
}

// plannedInstances builds (without adding) the instances each group lacks
// to reach its count, at the lowest free indexes.
func plannedInstances(c *Cluster) []*Instance {
	var out []*Instance
	for _, ng := range c.NodeGroups {
		if missing := ng.Count - len(ng.Instances); missing > 0 {
			for _, i := range ng.FreeIndexes(missing) {
				out = append(out, ng.NewInstance(i))
			}
		}
	}
	return out
}

// clusterSpecOf returns the user intent of a cluster record.
func clusterSpecOf(c *Cluster) ClusterSpec {
	spec := c.ClusterSpec
	spec.NodeGroups = make([]NodeGroupSpec, len(c.NodeGroups))
	for i, ng := range c.NodeGroups {
		spec.NodeGroups[i] = ng.NodeGroupSpec
	}
	return spec
}

type validatingPhase struct{}

func (validatingPhase) Title() ClusterStatus { return StatusValidating }

func (validatingPhase) Run(ctx context.Context, op *createOp) error {
	c := op.c
	spec := clusterSpecOf(c)
	p, err := op.e.checkSpec(spec)
	if err != nil {
		return err
	}
	op.plugin = p
	for _, ng := range c.NodeGroups {
		if ng.AutoSecurityGroup {
			ng.OpenPorts = OpenPortsFor(p, c, ng)
		}
	}
	if err := op.recommendConfigs(ctx, p, c, false); err != nil {
		return err
	}
	if v, ok := p.(Validator); ok {
		if err := v.Validate(ctx, c); err != nil {
			return err
		}
	}
	if err := op.e.checkReferences(ctx, spec, &op.lookups); err != nil {
		return err
	}
	if err := op.checkImages(ctx, c.NodeGroups); err != nil {
		return err
	}
	op.newInstances = plannedInstances(c)
	return op.checkQuotas(ctx, op.newInstances)
}

// checkImages reads each group's image once: it must carry the plugin's
// required tags and name its login user, which the group records.
func (op *operation) checkImages(ctx context.Context, groups []*NodeGroup) error {
	for _, ng := range groups {
		id := ng.ImageIDOrDefault()
		if id == "" {
			return NotFound(fmt.Sprintf("Node group '%s' has no image: set its image_id or the cluster's default_image_id ('default_image_id' field is not found)", ng.Name))
		}
		im, err := op.lookups.image(ctx, op.e.opts.Infra, id)
		if errors.Is(err, ErrNotFound) {
			return InvalidReference(fmt.Sprintf("Requested image '%s' is not registered", id))
		}
		if err != nil {
			return fmt.Errorf("reading image %s: %w", id, err)
		}
		if err := imageProblem(im, id, op.plugin, op.c.PluginVersion); err != nil {
			return err
		}
		ng.ImageUsername = im.Username
	}
	return nil
}

func (op *operation) checkQuotas(ctx context.Context, instances []*Instance) error {
	if len(instances) == 0 {
		return nil
	}
	q, err := op.e.opts.Infra.EstimateQuota(ctx, op.c, instances)
	if err != nil {
		return fmt.Errorf("estimating quota: %w", err)
	}
	return op.e.opts.Infra.CheckQuotas(ctx, op.c, q)
}

type infraUpdatingPhase struct{}

func (infraUpdatingPhase) Title() ClusterStatus { return StatusInfraUpdating }

func (infraUpdatingPhase) Run(ctx context.Context, op *createOp) error {
	if u, ok := op.plugin.(InfraUpdater); ok {
		if err := u.UpdateInfra(ctx, op.c); err != nil {
			return fmt.Errorf("plugin update_infra: %w", err)
		}
	}
	if err := op.e.opts.Infra.PrepareCluster(ctx, op.c); err != nil {
		return fmt.Errorf("preparing cluster resources: %w", err)
	}
	return nil
}

// Rollback removes every cloud object of the cluster.
func (infraUpdatingPhase) Rollback(ctx context.Context, op *createOp) error {
	op.log.Info("deleting every cloud object of the cluster")
	return op.e.opts.Infra.DeleteCluster(ctx, op.c)
}

type spawningPhase struct{}

func (spawningPhase) Title() ClusterStatus { return StatusSpawning }

func (spawningPhase) Run(ctx context.Context, op *createOp) error {
	return op.spawn(ctx, op.newInstances)
}

func (spawningPhase) Rollback(ctx context.Context, op *createOp) error {
	return op.removeInstances(ctx, op.newInstances)
}

// spawn adds the instances to their groups and boots their servers.
func (op *operation) spawn(ctx context.Context, instances []*Instance) error {
	op.mu.Lock()
	for _, in := range instances {
		in.NodeGroup().AddInstance(in)
	}
	op.mu.Unlock()
	total := len(instances)
	step := op.startStep("Spawn instances", total)
	op.log.Info(fmt.Sprintf("Spawning %d instances", total))
	done := 0
	progress := func(in *Instance, err error) {
		op.event(step, in, err, InstanceSpawned)
		op.mu.Lock()
		done++
		n := done
		op.mu.Unlock()
		if err != nil {
			op.log.Info(fmt.Sprintf("Spawning %d/%d instances", n, total), "instance", in.InstanceName, "error", err)
		} else {
			op.log.Info(fmt.Sprintf("Spawning %d/%d instances", n, total), "instance", in.InstanceName)
		}
	}
	// Sahara bounded the boot by its Heat wait condition; the common config
	// of that name bounds it here, whatever builds the servers.
	timeoutS, cerr := AsInt(clusterConfig(op.c, "Heat Wait Condition timeout", 3600))
	if cerr != nil || timeoutS <= 0 {
		timeoutS = 3600
	}
	bootTimeout := time.Duration(timeoutS) * time.Second
	sctx, cancel := context.WithTimeout(ctx, bootTimeout)
	err := op.e.opts.Infra.SpawnInstances(sctx, op.c, instances, progress)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		err = fmt.Errorf("servers did not boot within the cluster's \"Heat Wait Condition timeout\" (%s): %w", bootTimeout, err)
	}
	cancel()
	op.endStep(step, err)
	if err != nil {
		return fmt.Errorf("spawning instances: %w", err)
	}
	return nil
}

// removeInstances deletes the servers of instances and drops them from
// their groups; not-found counts as done.
func (op *operation) removeInstances(ctx context.Context, instances []*Instance) error {
	if len(instances) == 0 {
		return nil
	}
	op.log.Info(fmt.Sprintf("Deleting %d instances", len(instances)))
	if err := op.e.opts.Infra.DeleteInstances(ctx, op.c, instances); err != nil {
		return fmt.Errorf("deleting instances: %w", err)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	for _, in := range instances {
		if ng := in.NodeGroup(); ng != nil {
			ng.RemoveInstance(in)
		}
	}
	return nil
}

type waitingPhase struct{}

func (waitingPhase) Title() ClusterStatus { return StatusWaiting }

func (waitingPhase) Run(ctx context.Context, op *createOp) error {
	return op.waitAccessible(ctx, op.newInstances)
}

// waitAccessible pins each instance's host key (the cloud's published keys
// first, else the first key seen) once it accepts the management key.
func (op *operation) waitAccessible(ctx context.Context, instances []*Instance) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	total := len(instances)
	step := op.startStep("Wait for instance accessibility", total)
	op.log.Info(fmt.Sprintf("Waiting for %d instances to accept SSH", total))
	done := 0
	err = ParallelEach(ctx, op.e.parallelism(), instances, func(ctx context.Context, in *Instance) error {
		keys, err := op.e.opts.Infra.HostKeys(ctx, in)
		if err != nil {
			op.event(step, in, err, "")
			return fmt.Errorf("reading published host keys: %w", err)
		}
		if len(keys) > 0 {
			op.mu.Lock()
			in.HostKey = strings.Join(keys, "\n")
			op.mu.Unlock()
		}
		wctx, cancel := context.WithTimeout(ctx, op.e.accessibleTimeout())
		key, err := pool.WaitAccessible(wctx, in)
		if err != nil && ctx.Err() == nil && wctx.Err() != nil {
			err = fmt.Errorf("%w (waited the accessible timeout, %s: check the image's login user, the instance's address "+
				"and that its security groups open port 22 to where the engine runs)", err, op.e.accessibleTimeout())
		}
		cancel()
		if err == nil {
			op.mu.Lock()
			in.HostKey = key
			done++
			n := done
			op.mu.Unlock()
			op.log.Info(fmt.Sprintf("Accessible %d/%d instances", n, total), "instance", in.InstanceName)
		}
		op.event(step, in, err, InstanceAccessible)
		return err
	})
	op.endStep(step, err)
	if err != nil {
		return fmt.Errorf("waiting for instances: %w", err)
	}
	return nil
}

type preparingPhase struct{}

func (preparingPhase) Title() ClusterStatus { return StatusPreparing }

func (preparingPhase) Run(ctx context.Context, op *createOp) error {
	return op.prepare(ctx, op.newInstances, op.c.Instances())
}

// Commits: once instances are prepared, a later failure keeps them for
// inspection (Sahara's create_cluster returned).
func (preparingPhase) Commits() bool { return true }

type configuringPhase struct{}

func (configuringPhase) Title() ClusterStatus { return StatusConfiguring }

func (configuringPhase) Run(ctx context.Context, op *createOp) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	return op.pluginStep("Configure cluster", StepTypeConfigure, func() error {
		return op.plugin.ConfigureCluster(ctx, op.c, pool)
	}, op.c.Instances(), InstanceConfigured)
}

type startingPhase struct{}

func (startingPhase) Title() ClusterStatus { return StatusStarting }

func (startingPhase) Run(ctx context.Context, op *createOp) error {
	pool, err := op.remotes(ctx)
	if err != nil {
		return err
	}
	return op.pluginStep("Start cluster", StepTypeStart, func() error {
		return op.plugin.StartCluster(ctx, op.c, pool)
	}, op.c.Instances(), InstanceStarted)
}
