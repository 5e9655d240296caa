package sahara

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

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
	// AccessibleTimeout bounds the wait for one instance to accept SSH once
	// its server is up (default DefaultAccessibleTimeout; Sahara's
	// wait_until_accessible), so that a wrong login user or a closed port 22
	// fails in minutes, not at the operation's deadline.
	AccessibleTimeout time.Duration
}

// DefaultAccessibleTimeout is Options.AccessibleTimeout's default.
const DefaultAccessibleTimeout = 10 * time.Minute

func (e *Engine) accessibleTimeout() time.Duration {
	if e.opts.AccessibleTimeout > 0 {
		return e.opts.AccessibleTimeout
	}
	return DefaultAccessibleTimeout
}

// DefaultParallelism is the bound on concurrent work over instances.
const DefaultParallelism = 16

// rollbackTimeout bounds a rollback (all its phases), which runs on after
// the operation's context ended.
const rollbackTimeout = 15 * time.Minute

// Engine drives Sahara's provisioning state machine. Each operation is a
// list of phases built in one constructor (createPhases, scalePhases); a
// phase's title is the status written when it starts, so the lists read as
// Sahara's status sequences. When a phase fails, the phases that ran are
// rolled back in reverse order, back to the last phase that commits.
//
// Observer and Logger are called from the engine's goroutines, one call at a
// time. Status events are sent while no instance work runs, so an Observer
// may persist the cluster record on EventStatus; on step and instance events
// other instances may be changing.
//
// # Differences from Sahara Zed
//
// Sahara's documented lifecycle (its cluster status specification) is the
// specification; where Sahara Zed's code (service/ops.py and the heat engine)
// does otherwise, the engine follows the documented lifecycle:
//   - Scale runs Validating → Scaling → Adding Instances → Configuring →
//     Decommissioning → Active. Zed decommissions first and then uses
//     "Scaling: Spawning/Waiting/Preparing"; saharagen adds and configures
//     the new instances before removing any, so a failed addition never
//     costs existing nodes.
//   - A failure in Adding Instances or Configuring rolls back: the added
//     instances (servers, volumes, floating IPs) are deleted, added node
//     groups are removed, counts restored, /etc/hosts rewritten on the
//     remaining instances, and the cluster returns to Active with
//     "Scaling cluster failed for the following reason(s): …"; if the
//     rollback fails it ends in Error. Zed sets Active with the bare message
//     and keeps the half-configured instances.
//   - A failure in Decommissioning leaves the cluster Active with the reason;
//     the victims stay in the cluster until their servers are gone.
//   - Pure scale-down skips Adding Instances and Configuring; /etc/hosts is
//     rewritten on the remaining instances after the victims are deleted.
//   - Node groups scaled to 0 stay in the cluster with no instances (Zed
//     deletes them); counts always equal the instances after a scale.
//   - validate_scaling sees new node groups with their requested count
//     (Zed: 0, which miscounts processes like zookeeper).
//   - Images are checked (required tags, login user) and quotas estimated
//     in Validating; Zed reads image usernames after validation.
//   - Preparing formats and mounts only the volumes the engine attached
//     (their attachment device), never disks found with lsblk; a device
//     that is already mounted or fails to format fails the instance (Zed
//     skips it). XFS mounts drop "nobarrier", which current kernels reject.
//     The cluster's management key is added to authorized_keys here too.
//   - A failed delete stays in Deleting with a description (Zed: none).
//   - Messages carry no "Error ID".
type Engine struct {
	opts Options
	log  *slog.Logger
}

// New checks the options and returns an engine.
func New(o Options) (*Engine, error) {
	if o.Plugins == nil {
		return nil, errors.New("engine: a plugin registry is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: o, log: log}, nil
}

func (e *Engine) parallelism() int {
	if e.opts.Parallelism > 0 {
		return e.opts.Parallelism
	}
	return DefaultParallelism
}

func (e *Engine) nodeDomain() string {
	if e.opts.NodeDomain != "" {
		return e.opts.NodeDomain
	}
	return DefaultNodeDomain
}

func (e *Engine) needCloud() error {
	if e.opts.Infra == nil || e.opts.Remotes == nil {
		return errors.New("engine: Infra and Remotes are required for this operation")
	}
	return nil
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
func (e *Engine) NewCluster(spec ClusterSpec) (*Cluster, error) {
	id := newUUID()
	c := clusterFromSpec(spec, e.nodeDomain())
	c.ID = id
	priv, pub, err := GenerateManagementKey(ClusterResourcePrefix(id))
	if err != nil {
		return nil, err
	}
	c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	c.CreatedAt = time.Now().UTC()
	c.UpdatedAt = c.CreatedAt
	return c, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// phase is one step of an operation whose state is O (*createOp,
// *scaleOp); its Title is the status written when it starts. Each
// operation's state type holds what its phases pass on, so a phase's
// inputs and outputs are the fields of that type.
type phase[O any] interface {
	Title() ClusterStatus
	Run(ctx context.Context, op O) error
}

// rollbacker is a phase that can undo what it did.
type rollbacker[O any] interface {
	Rollback(ctx context.Context, op O) error
}

// skipper is a phase that may have nothing to do.
type skipper[O any] interface {
	Skip(op O) bool
}

// operationState is the state of one operation: the shared core plus what
// that operation's phases pass on.
type operationState interface {
	core() *operation
}

// committer is a phase after whose success earlier phases are no longer
// rolled back (Sahara resets rollback_info there).
type committer interface {
	Commits() bool
}

// errClusterDeleting stops an operation whose cluster is being deleted.
var errClusterDeleting = errors.New("the cluster is being deleted")

// operation is what every create, scale and delete run shares: the cluster,
// the plugin, the log, the remote pool and per-run caches. What one kind of
// operation's phases pass on lives in its own type (createOp, scaleOp).
type operation struct {
	e      *Engine
	c      *Cluster
	plugin Plugin
	log    *slog.Logger
	// stepType labels the steps the engine records ("Engine: create cluster").
	stepType string

	mu   sync.Mutex // guards c.Progress, c.Status and instance facts during parallel work
	pool RemotePool

	// Caches of the run: flavors and images by the name or ID the user gave,
	// and the service hosts' /etc/hosts lines (etcHosts).
	lookups     lookups
	hostsExtra  []string
	hostsLoaded bool
}

func (op *operation) core() *operation { return op }

func (e *Engine) newOperation(c *Cluster, stepType string) *operation {
	c.Link()
	if stepType != "" {
		c.Diagnostics = nil // the last operation's, if it failed
	}
	return &operation{
		e: e, c: c, stepType: stepType,
		log: e.log.With("cluster_id", c.ID, "cluster", c.Name),
	}
}

// remotes opens the operation's remote pool on first use.
func (op *operation) remotes(ctx context.Context) (RemotePool, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.pool != nil {
		return op.pool, nil
	}
	p, err := op.e.opts.Remotes.Connect(ctx, op.c)
	if err != nil {
		return nil, fmt.Errorf("connecting to the instances: %w", err)
	}
	op.pool = p
	return p, nil
}

func (op *operation) close() {
	if op.pool != nil {
		if err := op.pool.Close(); err != nil {
			op.log.Debug("closing remote pool", "error", err)
		}
		op.pool = nil
	}
}

// run runs phases in order. On a failure it rolls back, in reverse order,
// the phases that ran since the last commit (the failed one included) and
// returns the failed phase, its error and the rollback's error.
func run[O operationState](ctx context.Context, op O, phases []phase[O]) (failed phase[O], err, rbErr error) {
	var ran []phase[O]
	// Like Sahara's ops error handler, an operation starts with no description.
	desc := new(string)
	for _, ph := range phases {
		if s, ok := ph.(skipper[O]); ok && s.Skip(op) {
			op.core().log.Debug("phase skipped", "phase", string(ph.Title()))
			continue
		}
		err := op.core().setStatus(ph.Title(), desc)
		desc = nil
		if err != nil {
			return ph, err, nil
		}
		ran = append(ran, ph)
		if err := ph.Run(ctx, op); err != nil {
			op.core().log.Info("phase failed", "phase", string(ph.Title()), "error", err)
			op.core().collectDiagnostics(ctx, err) // before the rollback deletes instances
			return ph, err, rollback(ctx, op, ran)
		}
		if cm, ok := ph.(committer); ok && cm.Commits() {
			ran = nil
		}
	}
	return nil, nil, nil
}

func rollback[O operationState](ctx context.Context, op O, ran []phase[O]) error {
	var errs []error
	rolled := false
	// A cancelled ctx must not stop the cleanup of what was created, but the
	// whole cleanup is bounded once: what it leaves stays tagged.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	for i := len(ran) - 1; i >= 0; i-- {
		rb, ok := ran[i].(rollbacker[O])
		if !ok {
			continue
		}
		if !rolled {
			rolled = true
			op.core().log.Info("rolling back", "phases", len(ran))
		}
		if err := rb.Rollback(rctx, op); err != nil {
			errs = append(errs, fmt.Errorf("rolling back %s: %w", ran[i].Title(), err))
		}
	}
	return errors.Join(errs...)
}

// setStatus writes a status (and the description when desc is not nil),
// refusing transitions the table does not allow and never overwriting
// Deleting.
func (op *operation) setStatus(to ClusterStatus, desc *string) error {
	op.mu.Lock()
	defer op.mu.Unlock()
	c := op.c
	from := c.Status
	if from == "" {
		from = StatusUndefined
	}
	if from == StatusDeleting && to != StatusDeleting {
		op.log.Info("cluster is being deleted; status not changed", "wanted", string(to))
		return errClusterDeleting
	}
	if !CanTransition(from, to) {
		return &TransitionError{From: from, To: to}
	}
	c.Status = to
	if desc != nil {
		c.StatusDescription = *desc
	}
	now := time.Now().UTC()
	c.UpdatedAt = now
	c.StatusHistory = append(c.StatusHistory, StatusChange{From: from, To: to, At: now})
	if n := len(c.StatusHistory); n > maxStatusHistory {
		c.StatusHistory = append([]StatusChange(nil), c.StatusHistory[n-maxStatusHistory:]...)
	}
	op.closeFinishedSteps(now)
	if desc != nil && *desc != "" {
		op.log.Info("cluster status changed", "from", string(from), "to", string(to), "description", *desc)
	} else {
		op.log.Info("cluster status changed", "from", string(from), "to", string(to))
	}
	op.emit(Event{Kind: EventStatus, Time: now, Cluster: c, Status: to})
	return nil
}

// finish writes the final status and description of an operation; a
// cluster in Deleting keeps its status.
func (op *operation) finish(to ClusterStatus, desc string) {
	if to == StatusActive {
		op.mu.Lock()
		if op.c.ActivatedAt.IsZero() {
			op.c.ActivatedAt = time.Now().UTC()
		}
		op.mu.Unlock()
	}
	if err := op.setStatus(to, &desc); err != nil && !errors.Is(err, errClusterDeleting) {
		op.log.Error("cannot write final status", "error", err)
	}
}

// emit sends an event to the observer; callers hold op.mu.
func (op *operation) emit(ev Event) {
	if op.e.opts.Observer != nil {
		op.e.opts.Observer(ev)
	}
}

// closeFinishedSteps marks steps with all their events as successful.
func (op *operation) closeFinishedSteps(now time.Time) {
	for i := range op.c.Progress {
		st := &op.c.Progress[i]
		if st.Successful == nil && len(st.Events) >= st.Total {
			ok := true
			for _, ev := range st.Events {
				ok = ok && ev.Successful
			}
			st.Successful = &ok
			st.FinishedAt = now
		}
	}
}

// startStep records a provisioning step over total instances and returns
// its index in c.Progress.
func (op *operation) startStep(name string, total int) int {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := time.Now().UTC()
	op.c.Progress = append(op.c.Progress, Step{Name: name, Type: op.stepType, Total: total, StartedAt: now})
	i := len(op.c.Progress) - 1
	st := op.c.Progress[i]
	op.log.Debug("step started", "step", name, "total", total)
	op.emit(Event{Kind: EventStep, Time: now, Cluster: op.c, Status: op.c.Status, Step: &st})
	return i
}

// event records the outcome of one instance (nil: the cluster) in a step.
// For an instance this step provisions (next set) the phase becomes next,
// or InstanceFailed on error; other instances only record the error.
func (op *operation) event(step int, in *Instance, err error, next InstancePhase) {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := time.Now().UTC()
	ev := InstanceEvent{Successful: err == nil, Time: now}
	if in != nil {
		ev.InstanceID, ev.InstanceName = in.InstanceID, in.InstanceName
		if ng := in.NodeGroup(); ng != nil {
			ev.NodeGroup = ng.Name
		}
		switch {
		case err != nil && next != "":
			in.Phase, in.LastError = InstanceFailed, err.Error()
		case err != nil:
			// An instance that was already running keeps its phase.
			in.LastError = err.Error()
		case next != "":
			in.Phase, in.LastError = next, ""
		default:
			in.LastError = ""
		}
	} else {
		ev.InstanceName = op.c.Name
	}
	if err != nil {
		ev.Info = err.Error()
	} else {
		ev.Info = "done"
	}
	st := &op.c.Progress[step]
	st.Events = append(st.Events, ev)
	if err != nil {
		f := false
		st.Successful = &f
	}
	op.emit(Event{Kind: EventInstance, Time: now, Cluster: op.c, Status: op.c.Status, Step: st, Instance: &ev})
}

// endStep closes a step.
func (op *operation) endStep(step int, err error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := time.Now().UTC()
	st := &op.c.Progress[step]
	ok := err == nil
	if st.Successful == nil || !ok {
		st.Successful = &ok
	}
	st.FinishedAt = now
	cp := *st
	op.emit(Event{Kind: EventStep, Time: now, Cluster: op.c, Status: op.c.Status, Step: &cp})
}

// pluginStep runs one cluster-wide plugin call as a step with one event.
func (op *operation) pluginStep(name, stepType string, fn func() error, instances []*Instance, next InstancePhase) error {
	prev := op.stepType
	op.stepType = stepType
	i := op.startStep(name, 1)
	op.stepType = prev
	err := fn()
	op.event(i, nil, err, "")
	op.endStep(i, err)
	if err == nil {
		op.mu.Lock()
		for _, in := range instances {
			in.Phase, in.LastError = next, ""
		}
		op.mu.Unlock()
	}
	return err
}

// failureDescription renders Sahara's ops error handler message.
func failureDescription(format string, err, rbErr error) string {
	reason := oneLine(err)
	if rbErr != nil {
		reason += ", " + oneLine(rbErr)
	}
	return fmt.Sprintf(format, reason)
}

// oneLine renders joined per-instance errors as "a; b" for a description.
func oneLine(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return joinMessages(j.Unwrap())
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// Description formats of Sahara's ops error handler.
const (
	createFailedFormat = "Creating cluster failed for the following reason(s): %s"
	scaleFailedFormat  = "Scaling cluster failed for the following reason(s): %s"
	deleteFailedFormat = "Terminating cluster failed for the following reason(s): %s"
)

// Refresh updates the instances' cloud facts (one list call).
func (e *Engine) Refresh(ctx context.Context, c *Cluster) error {
	if e.opts.Infra == nil {
		return errors.New("engine: Infra is required to refresh a cluster")
	}
	c.Link()
	if err := e.opts.Infra.RefreshInstances(ctx, c); err != nil {
		return fmt.Errorf("refreshing cluster %s: %w", c.Name, err)
	}
	return nil
}

// SetAutoSecurityGroupCIDRs changes, in place, the CIDRs that may reach the
// plugin's ports through each named group's auto security group (group
// name → CIDRs), then brings the cluster's auto security groups to their
// rules; no server changes.
func (e *Engine) SetAutoSecurityGroupCIDRs(ctx context.Context, c *Cluster, cidrs map[string][]string) error {
	if err := e.needCloud(); err != nil {
		return err
	}
	c.Link()
	for name, l := range cidrs {
		ng := c.NodeGroup(name)
		if ng == nil {
			return fmt.Errorf("cluster %s has no node group %q", c.Name, name)
		}
		if len(l) > 0 && !ng.AutoSecurityGroup {
			return InvalidData(fmt.Sprintf("Node group '%s': auto_security_group_cidrs are rules of the group's auto security group; "+
				"it has none (auto_security_group is false)", name)).At(Field{NodeGroup: name, Attribute: "auto_security_group_cidrs"})
		}
		ng.AutoSecurityGroupCIDRs = slices.Clone(l)
	}
	if err := e.opts.Infra.PrepareCluster(ctx, c); err != nil {
		return fmt.Errorf("updating the security groups of cluster %s: %w", c.Name, err)
	}
	e.log.Info("Auto security groups updated", "cluster_id", c.ID, "node_groups", len(cidrs))
	return nil
}

// Health check names of the engine's own checks.
const (
	HealthServers       = "Check of servers"
	HealthAccessibility = "Check of instances accessibility"
)

// Bounds of the health checks: one instance's SSH check, and the plugin's.
const (
	healthInstanceTimeout = 30 * time.Second
	healthPluginTimeout   = 2 * time.Minute
)

// CheckHealth runs the cluster's health checks: every server ACTIVE in the
// cloud (one list call), Sahara's "Check of instances accessibility" over
// SSH with the pinned host keys, then the plugin's checks, each bounded in
// time. It needs c's management key.
func (e *Engine) CheckHealth(ctx context.Context, c *Cluster) ([]HealthResult, error) {
	if err := e.needCloud(); err != nil {
		return nil, err
	}
	p, err := e.opts.Plugins.PluginVersion(c.PluginName, c.PluginVersion)
	if err != nil {
		return nil, err
	}
	if err := e.Refresh(ctx, c); err != nil {
		return nil, err
	}
	servers := HealthResult{Name: HealthServers, Status: HealthGreen, Message: fmt.Sprintf("All %d servers are ACTIVE", len(c.Instances()))}
	var reachable []*Instance
	for _, in := range c.Instances() {
		switch in.CloudStatus {
		case "ACTIVE", "":
			reachable = append(reachable, in)
			continue
		case CloudStatusMissing:
			servers.Status = HealthRed
			servers.Note(in.InstanceName, "the server no longer exists (deleted outside saharagen); the next apply replaces it")
		case "ERROR":
			servers.Status = HealthRed
			servers.Note(in.InstanceName, "the server is in ERROR; the next apply replaces it")
		default:
			if servers.Status != HealthRed {
				servers.Status = HealthYellow
			}
			servers.Note(in.InstanceName, "the server is "+in.CloudStatus)
		}
	}
	if servers.Status != HealthGreen {
		servers.Message = fmt.Sprintf("%d of %d servers are not ACTIVE: %s", len(servers.Instances), len(c.Instances()), servers.Noted())
	}
	op := e.newOperation(c, "")
	defer op.close()
	ctx = WithLogger(ctx, op.log) // plugins log where the operation logs
	pool, err := op.remotes(ctx)
	if err != nil {
		return nil, err
	}
	access := HealthResult{Name: HealthAccessibility, Status: HealthGreen, Message: "All instances are available"}
	var mu sync.Mutex
	_ = ParallelEach(ctx, e.parallelism(), reachable, func(ctx context.Context, in *Instance) error {
		ictx, cancel := context.WithTimeout(ctx, healthInstanceTimeout)
		defer cancel()
		if _, err := pool.Remote(in).ExecuteCommand(ictx, "cat /etc/resolv.conf", ExecOptions{Name: "cat"}); err != nil {
			mu.Lock()
			access.Note(in.InstanceName, err.Error())
			mu.Unlock()
		}
		return nil
	})
	if len(access.Instances) > 0 {
		access.Status = HealthRed
		access.Message = "Cluster health is RED. Reason: Unavailable instances: " + access.Noted()
	}
	out := []HealthResult{servers, access}
	if h, ok := p.(HealthChecker); ok {
		pctx, cancel := context.WithTimeout(ctx, healthPluginTimeout)
		defer cancel()
		out = append(out, h.CheckHealth(pctx, c, pool)...)
	}
	for _, r := range out {
		e.log.Info("Health check", "cluster_id", c.ID, "check", r.Name, "status", string(r.Status), "message", r.Message)
	}
	return out, nil
}
