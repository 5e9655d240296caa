package sahara

import (
	"context"
	"errors"
	"fmt"
)

// Delete runs the delete operation: status Deleting (terminal), the
// plugin's on_terminate_cluster (its errors are logged, not fatal), then
// every cloud object of the cluster. Idempotent: not-found counts as done,
// and it is safe to run again after a crash or a failure, which leaves the
// cluster in Deleting with the reason.
func (e *Engine) Delete(ctx context.Context, c *Cluster) error {
	if e.opts.Infra == nil {
		return errors.New("engine: Infra is required to delete a cluster")
	}
	op := e.newOperation(c, StepTypePluginShutdown)
	defer op.close()
	ctx = WithLogger(ctx, op.log) // plugins log where the operation logs
	empty := ""
	if err := op.setStatus(StatusDeleting, &empty); err != nil {
		return err
	}
	instances := c.Instances()
	op.log.Info(fmt.Sprintf("Deleting cluster with %d instances", len(instances)))
	if p, err := e.opts.Plugins.PluginVersion(c.PluginName, c.PluginVersion); err != nil {
		op.log.Warn("plugin unavailable; skipping on_terminate_cluster", "error", err)
	} else if t, ok := p.(Terminator); ok && len(instances) > 0 && e.opts.Remotes != nil {
		err := op.pluginStep("Shutdown cluster", StepTypePluginShutdown, func() error {
			pool, err := op.remotes(ctx)
			if err != nil {
				return err
			}
			return t.OnTerminateCluster(ctx, c, pool)
		}, nil, "")
		if err != nil {
			op.log.Warn("plugin on_terminate_cluster failed; deleting the cluster anyway", "error", err)
		}
	}
	op.stepType = StepTypeEngineShutdown
	step := op.startStep("Delete cluster resources", 1)
	err := e.opts.Infra.DeleteCluster(ctx, c)
	op.event(step, nil, err, "")
	op.endStep(step, err)
	if err != nil {
		desc := failureDescription(deleteFailedFormat, err, nil)
		_ = op.setStatus(StatusDeleting, &desc)
		return fmt.Errorf("deleting cluster %s: %w", c.Name, err)
	}
	op.mu.Lock()
	for _, ng := range c.NodeGroups {
		ng.Instances = nil
	}
	op.mu.Unlock()
	op.log.Info("cluster resources deleted", "instances", len(instances))
	return nil
}
