package sahara

import (
	"context"
	"errors"
	"log/slog"
)

// This file fixes the engine's public API; the implementation is in progress.

var errTODO = errors.New("engine: not implemented yet")

// Options configure an Engine.
type Options struct {
	Infra    Infrastructure
	Remotes  RemoteConnector
	Plugins  *Registry
	Logger   *slog.Logger // nil: discard
	Observer Observer     // nil: none
	// Parallelism bounds concurrent work over instances (default 16).
	Parallelism int
	// NodeDomain is the FQDN suffix of instances (default "novalocal").
	NodeDomain string
}

// Engine drives Sahara's provisioning state machine.
type Engine struct {
	opts Options
}

// New checks the options and returns an engine.
func New(o Options) (*Engine, error) {
	if o.Plugins == nil {
		return nil, errors.New("engine: a plugin registry is required")
	}
	return &Engine{opts: o}, nil
}

// ScaleRequest is one scaling operation: node groups resized, node groups
// added, and the instances the caller wants removed first.
type ScaleRequest struct {
	// Resize maps existing node group names to their new counts.
	Resize map[string]int
	// Add lists new node groups (with Count).
	Add []NodeGroupSpec
	// Remove maps node group names to instance names or server IDs to remove
	// first when that group shrinks.
	Remove map[string][]string
}

// ScalePlan is what a ScaleRequest will do, computed without side effects.
type ScalePlan struct {
	// AddCount maps node group names to the number of instances to add.
	AddCount map[string]int
	// Victims maps node group names to the instances that will be removed,
	// in removal order.
	Victims map[string][]*Instance
}

// NewCluster builds a cluster record (status "undefined", a fresh ID and
// management key pair) from a merged spec; it touches no cloud resource.
func (e *Engine) NewCluster(spec ClusterSpec) (*Cluster, error) { return nil, errTODO }

// ValidateSpec runs every check that needs no cloud: plugin and version,
// node processes, config targets/names/types, names and hostname lengths,
// anti-affinity processes, then the plugin's validate. Used at plan time.
func (e *Engine) ValidateSpec(ctx context.Context, spec ClusterSpec) error { return errTODO }

// Create runs the create operation; on return c.Status is Active or Error.
func (e *Engine) Create(ctx context.Context, c *Cluster) error { return errTODO }

// PlanScale computes the scale plan (instances to add, deterministic victims).
func (e *Engine) PlanScale(c *Cluster, req ScaleRequest) (ScalePlan, error) {
	return ScalePlan{}, errTODO
}

// ValidateScaling runs the plugin's validate_scaling on the request, offline.
func (e *Engine) ValidateScaling(ctx context.Context, c *Cluster, req ScaleRequest) error {
	return errTODO
}

// Scale runs the scale operation.
func (e *Engine) Scale(ctx context.Context, c *Cluster, req ScaleRequest) error { return errTODO }

// Delete runs the delete operation; idempotent.
func (e *Engine) Delete(ctx context.Context, c *Cluster) error { return errTODO }

// Refresh updates the instances' cloud facts (one list call).
func (e *Engine) Refresh(ctx context.Context, c *Cluster) error { return errTODO }

// CheckHealth runs the cluster's health checks.
func (e *Engine) CheckHealth(ctx context.Context, c *Cluster) ([]HealthResult, error) {
	return nil, errTODO
}
