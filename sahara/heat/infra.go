package heat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/openstack/orchestration/v1/stackresources"
	"github.com/gophercloud/gophercloud/v2/openstack/orchestration/v1/stacks"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
)

// Cloud is what the Heat engine takes from the direct engine
// (*openstack.Cloud): images, quotas, flavors, host keys, the sweep of
// tagged objects, the orchestration endpoint's hosts line and the service
// clients.
type Cloud interface {
	sahara.Infrastructure
	sahara.FlavorLookup
	ServiceClient(ctx context.Context, serviceType string) (*gophercloud.ServiceClient, error)
	ServiceHostEntry(ctx context.Context, serviceType string) (string, error)
}

var _ Cloud = (*openstack.Cloud)(nil)

// Infra implements sahara.Infrastructure with one Heat stack per cluster.
// Images, quotas and host keys are the direct engine's.
type Infra struct {
	Cloud
	env  Environment
	log  *slog.Logger
	poll time.Duration
}

var _ sahara.Infrastructure = (*Infra)(nil)

// Option configures an Infra.
type Option func(*Infra)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(i *Infra) { i.log = l } }

// WithPollInterval sets how often stack and server states are read.
func WithPollInterval(d time.Duration) Option { return func(i *Infra) { i.poll = d } }

// WithEnvironment sets the switches of the generated stacks: wait
// conditions, Designate, stack tags, restricted open ports. The rest of
// the Environment is read from the cloud for each operation.
func WithEnvironment(env Environment) Option { return func(i *Infra) { i.env = env } }

// New returns the Heat engine over a cloud.
func New(cloud Cloud, opts ...Option) *Infra {
	i := &Infra{Cloud: cloud, poll: 5 * time.Second, env: Environment{RestrictOpenPorts: true}}
	for _, o := range opts {
		o(i)
	}
	if i.log == nil {
		i.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return i
}

// Service types.
const (
	svcOrchestration = "orchestration"
	svcCompute       = "compute"
	svcNetwork       = "network"
	svcVolume        = "volumev3"
)

// retiredKey is the Cluster.Extra key holding a node group's retired
// member indexes (comma-separated).
func retiredKey(ng *sahara.NodeGroup) string { return "heat_retired_indexes:" + ng.Name }

func retired(c *sahara.Cluster, ng *sahara.NodeGroup) []int {
	var out []int
	for _, f := range strings.Split(c.Extra[retiredKey(ng)], ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func addRetired(c *sahara.Cluster, ng *sahara.NodeGroup, idx []int) {
	all := append(retired(c, ng), idx...)
	slices.Sort(all)
	all = slices.Compact(all)
	parts := make([]string, len(all))
	for i, n := range all {
		parts[i] = strconv.Itoa(n)
	}
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	c.Extra[retiredKey(ng)] = strings.Join(parts, ",")
}

var _ sahara.RollRefuser = (*Infra)(nil)

// RefuseRoll refuses every rolling replacement: a node group is one
// template in the stack, so a changed flavor, image, volume or network
// would reach every member of the group in the same stack update (Heat
// resizes or rebuilds them), not a batch at a time.
func (i *Infra) RefuseRoll(c *sahara.Cluster, group string) error {
	return fmt.Errorf("node group %s of cluster %s is one template of its Heat stack: the Heat engine cannot replace its instances a batch at a time", group, c.Name)
}

// PrepareCluster creates nothing: the stack holds the server groups and
// auto security groups, and the user data installs the management key.
//
// On a cluster whose stack exists and whose instances all have their
// servers (a change of the auto security groups' CIDRs, a scale adding a
// group with an auto security group) it updates the stack with the same
// members, so the regenerated security groups and rules take effect.
func (i *Infra) PrepareCluster(ctx context.Context, c *sahara.Cluster) error {
	groups := map[string]GroupChange{}
	for _, ng := range c.NodeGroups {
		n := 0
		for _, in := range ng.Instances {
			if in.InstanceID == "" {
				i.log.Debug("Heat engine: the stack holds the cluster's objects; nothing to prepare", "cluster_id", c.ID)
				return nil
			}
			n++
		}
		groups[ng.Name] = GroupChange{Count: n, Retired: retired(c, ng)}
	}
	if len(c.Instances()) == 0 { // a create: the spawn makes the stack
		return nil
	}
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return err
	}
	existing, err := i.findStack(ctx, oc, c)
	if err != nil || existing == nil {
		return err
	}
	i.log.Info("Updating the stack's security groups", "cluster_id", c.ID, "stack", existing.Name)
	_, err = i.apply(ctx, c, groups)
	return err
}

// environment completes the configured switches with what the cloud says
// for this cluster.
func (i *Infra) environment(ctx context.Context, c *sahara.Cluster) (Environment, error) {
	env := i.env
	env.FlavorDisks = map[string]int{}
	auto := false
	for _, ng := range c.NodeGroups {
		auto = auto || ng.AutoSecurityGroup
		if ng.BootFromVolume {
			if _, ok := env.FlavorDisks[ng.FlavorID]; ok {
				continue
			}
			f, err := i.Flavor(ctx, ng.FlavorID)
			if err != nil {
				return env, fmt.Errorf("flavor %s of node group %s: %w", ng.FlavorID, ng.Name, err)
			}
			env.FlavorDisks[ng.FlavorID] = f.DiskGB
		}
	}
	if auto {
		nc, err := i.ServiceClient(ctx, svcNetwork)
		if err != nil {
			return env, err
		}
		pages, err := subnets.List(nc, subnets.ListOpts{NetworkID: c.NeutronManagementNetwork}).AllPages(ctx)
		if err != nil {
			return env, fmt.Errorf("listing the subnets of network %s: %w", c.NeutronManagementNetwork, err)
		}
		list, err := subnets.ExtractSubnets(pages)
		if err != nil {
			return env, err
		}
		env.PrivateCIDRs = nil
		for _, s := range list {
			env.PrivateCIDRs = append(env.PrivateCIDRs, s.CIDR)
		}
	}
	if !env.NoWaitCondition {
		oc, err := i.ServiceClient(ctx, svcOrchestration)
		if err != nil {
			return env, err
		}
		if loopback(oc.Endpoint) {
			// A server cannot reach the host's loopback: its signal would
			// never arrive and the stack would wait out the timeout.
			i.log.Info("The orchestration endpoint is a loopback address: the stack has no wait conditions",
				"cluster_id", c.ID, "endpoint", oc.Endpoint)
			env.NoWaitCondition = true
		}
	}
	if !env.NoWaitCondition {
		line, err := i.ServiceHostEntry(ctx, svcOrchestration)
		if err != nil {
			return env, err
		}
		if line != "" {
			env.HostsEntry = line + "\n"
		}
	}
	return env, nil
}

// loopback tells whether an endpoint's host is a loopback address (or
// localhost), which no server can reach.
func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// inStack tells whether an instance is a member of the stack: it has a
// server, or it is being spawned.
func inStack(in *sahara.Instance, spawning map[*sahara.Instance]bool) bool {
	return in.InstanceID != "" || spawning[in]
}

// SpawnInstances creates the stack, or updates it with the new counts,
// waits for Heat, maps the stack's outputs to the instances by name and
// reads their addresses and volumes. An instance Heat gave another index
// than the engine planned (Heat never reuses a removed member's index) is
// renamed to Heat's name.
func (i *Infra) SpawnInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance, progress sahara.ProgressFunc) error {
	if progress == nil {
		progress = func(*sahara.Instance, error) {}
	}
	err := i.spawn(ctx, c, instances)
	for _, in := range instances {
		if err != nil && in.InternalIP == "" {
			progress(in, err)
		} else {
			progress(in, nil)
		}
	}
	return err
}

func (i *Infra) spawn(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	spawning := map[*sahara.Instance]bool{}
	for _, in := range instances {
		spawning[in] = true
	}
	groups := map[string]GroupChange{}
	for _, ng := range c.NodeGroups {
		n := 0
		for _, in := range ng.Instances {
			if inStack(in, spawning) {
				n++
			}
		}
		for _, in := range instances {
			if in.NodeGroup() == ng && !slices.Contains(ng.Instances, in) {
				n++
			}
		}
		groups[ng.Name] = GroupChange{Count: n, Retired: retired(c, ng)}
	}
	i.log.Info(fmt.Sprintf("Spawning %d instances with stack %s", len(instances), StackName(c)), "cluster_id", c.ID)
	st, err := i.apply(ctx, c, groups)
	if err != nil {
		return err
	}
	if err := i.assign(c, st, instances); err != nil {
		return err
	}
	return i.awaitAddresses(ctx, c, instances)
}

// apply generates the stack for the groups' targets, creates or updates
// it and waits until Heat is done.
func (i *Infra) apply(ctx context.Context, c *sahara.Cluster, groups map[string]GroupChange) (*stacks.RetrievedStack, error) {
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return nil, err
	}
	existing, err := i.findStack(ctx, oc, c)
	if err != nil {
		return nil, err
	}
	if existing != nil && strings.HasSuffix(existing.Status, "_IN_PROGRESS") {
		// An interrupted run left Heat working: let it finish, then update.
		i.log.Info("Waiting for the stack left in progress", "cluster_id", c.ID, "stack", existing.Name, "status", existing.Status)
		if existing, err = i.waitSettled(ctx, oc, existing, time.Time{}, false); err != nil {
			return nil, err
		}
		if existing.Status == "DELETE_COMPLETE" {
			existing = nil
		}
	}
	env, err := i.environment(ctx, c)
	if err != nil {
		return nil, err
	}
	stack, err := Generate(Request{Cluster: c, Env: env, Groups: groups, Update: existing != nil})
	if err != nil {
		return nil, err
	}
	body, err := stackBody(stack)
	if err != nil {
		return nil, err
	}
	if existing == nil {
		created, err := stacks.Create(ctx, oc, createBody(body)).Extract()
		if err != nil {
			return nil, fmt.Errorf("creating stack %s: %w", stack.Name, err)
		}
		i.log.Info("Stack created", "cluster_id", c.ID, "stack", stack.Name, "stack_id", created.ID)
		return i.wait(ctx, oc, &stacks.RetrievedStack{Name: stack.Name, ID: created.ID}, time.Time{}, "CREATE")
	}
	delete(body, "stack_name") // the stack's name is in the URL of an update
	for attempt := 1; ; attempt++ {
		err := stacks.Update(ctx, oc, existing.Name, existing.ID, updateBody(body)).ExtractErr()
		if err == nil {
			break
		}
		// 409: Heat is still busy with the stack (the rollback of a failed
		// update starts after UPDATE_FAILED was shown): wait, then again.
		if !gophercloud.ResponseCodeIs(err, 409) || attempt == 3 {
			return nil, fmt.Errorf("updating stack %s: %w", stack.Name, err)
		}
		i.log.Info("Stack busy; waiting before the update", "cluster_id", c.ID, "stack", stack.Name)
		if err := sleep(ctx, i.poll); err != nil {
			return nil, err
		}
		if existing, err = i.waitSettled(ctx, oc, existing, time.Time{}, false); err != nil {
			return nil, err
		}
	}
	i.log.Info("Stack update started", "cluster_id", c.ID, "stack", stack.Name, "stack_id", existing.ID)
	return i.wait(ctx, oc, existing, existing.UpdatedTime, "UPDATE")
}

// stackBody is the request body of stacks.create: the templates as JSON
// (HOT is YAML, of which JSON is a subset).
func stackBody(st *Stack) (map[string]any, error) {
	tmpl, err := json.Marshal(st.Template)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, f := range st.Files {
		b, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		files[name] = string(b)
	}
	return map[string]any{
		"stack_name":       st.Name,
		"template":         string(tmpl),
		"files":            files,
		"parameters":       st.Parameters,
		"timeout_mins":     st.TimeoutMins,
		"disable_rollback": st.DisableRollback,
		"tags":             strings.Join(st.Tags, ","),
	}, nil
}

// createBody and updateBody send a body as it is: gophercloud's options
// would read the nested templates from local files.
type createBody map[string]any

func (b createBody) ToStackCreateMap() (map[string]any, error) { return b, nil }

type updateBody map[string]any

func (b updateBody) ToStackUpdateMap() (map[string]any, error) { return b, nil }

// findStack returns the cluster's stack, nil when there is none. A stack
// of that name without the cluster's tag is another's: an error.
func (i *Infra) findStack(ctx context.Context, oc *gophercloud.ServiceClient, c *sahara.Cluster) (*stacks.RetrievedStack, error) {
	name := StackName(c)
	st, err := stacks.Find(ctx, oc, name).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading stack %s: %w", name, err)
	}
	if st.Status == "DELETE_COMPLETE" {
		return nil, nil
	}
	if !slices.Contains(st.Tags, ClusterTag(c.ID)) {
		return nil, fmt.Errorf("stack %s (%s) exists without the tag %s: not this cluster's", name, st.ID, ClusterTag(c.ID))
	}
	return st, nil
}

// wait polls the stack until the operation op ("CREATE", "UPDATE",
// "DELETE") settled; an update counts only once the stack's updated time
// moved past before. A failure carries Heat's reasons.
func (i *Infra) wait(ctx context.Context, oc *gophercloud.ServiceClient, st *stacks.RetrievedStack, before time.Time, op string) (*stacks.RetrievedStack, error) {
	got, err := i.waitSettled(ctx, oc, st, before, op == "UPDATE")
	if err != nil {
		return nil, err
	}
	if got.Status == op+"_COMPLETE" {
		return got, nil
	}
	return nil, i.failure(ctx, oc, got)
}

// waitSettled polls until the stack is in no *_IN_PROGRESS state (and,
// for an update, its updated time differs from before).
func (i *Infra) waitSettled(ctx context.Context, oc *gophercloud.ServiceClient, st *stacks.RetrievedStack, before time.Time, update bool) (*stacks.RetrievedStack, error) {
	const maxFailures = 5
	for polls, failures := 0, 0; ; polls++ {
		if polls > 0 {
			if err := sleep(ctx, i.poll); err != nil {
				return nil, fmt.Errorf("waiting for stack %s: %w", st.Name, err)
			}
		}
		got, err := stacks.Get(ctx, oc, st.Name, st.ID).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return &stacks.RetrievedStack{Name: st.Name, ID: st.ID, Status: "DELETE_COMPLETE"}, nil
		}
		if err != nil {
			if failures++; failures > maxFailures {
				return nil, fmt.Errorf("reading stack %s: %w", st.Name, err)
			}
			i.log.Warn("reading the stack failed; retrying", "stack", st.Name, "error", err)
			continue
		}
		failures = 0
		if strings.HasSuffix(got.Status, "_IN_PROGRESS") || (update && got.UpdatedTime.Equal(before)) {
			i.log.Debug("Stack in progress", "stack", st.Name, "status", got.Status)
			continue
		}
		return got, nil
	}
}

// StackError is a stack operation that failed, with Heat's reasons.
type StackError struct {
	Stack, Status, Reason string
	// Resources are the failed resources, "<name> (<type>) <status>: <reason>".
	Resources []string
}

func (e *StackError) Error() string {
	msg := fmt.Sprintf("stack %s is %s: %s", e.Stack, e.Status, e.Reason)
	if len(e.Resources) > 0 {
		msg += "; failed resources: " + strings.Join(e.Resources, "; ")
	}
	return msg
}

// failure reads the failed resources of the stack, its nested stacks
// included, and prefers the innermost ones (servers, volumes, ports) to
// the groups that only pass their failure on.
func (i *Infra) failure(ctx context.Context, oc *gophercloud.ServiceClient, st *stacks.RetrievedStack) error {
	e := &StackError{Stack: st.Name, Status: st.Status, Reason: st.StatusReason}
	pages, err := stackresources.List(oc, st.Name, st.ID, stackresources.ListOpts{Depth: 5}).AllPages(ctx)
	if err != nil {
		i.log.Warn("could not list the failed stack's resources", "stack", st.Name, "error", err)
		return e
	}
	list, err := stackresources.ExtractResources(pages)
	if err != nil {
		return e
	}
	var inner, outer []string
	for _, r := range list {
		if !strings.HasSuffix(r.Status, "_FAILED") {
			continue
		}
		line := fmt.Sprintf("%s (%s) %s: %s", r.Name, r.Type, r.Status, r.StatusReason)
		if r.Type == "OS::Heat::ResourceGroup" || strings.HasPrefix(r.Type, "file://") || strings.HasSuffix(r.Type, ".yaml") {
			outer = append(outer, line)
		} else {
			inner = append(inner, line)
		}
	}
	e.Resources = inner
	if len(inner) == 0 {
		e.Resources = outer
	}
	sort.Strings(e.Resources)
	return e
}

// member is one entry of a node group's output: a server of the stack.
type member struct {
	PhysicalID string `json:"physical_id"`
	Name       string `json:"name"`
}

// members reads the node groups' outputs of the stack.
func members(st *stacks.RetrievedStack) map[string][]member {
	out := map[string][]member{}
	for _, o := range st.Outputs {
		key, _ := o["output_key"].(string)
		b, err := json.Marshal(o["output_value"])
		if err != nil {
			continue
		}
		var list []member
		if json.Unmarshal(b, &list) == nil {
			out[key] = list
		}
	}
	return out
}

var memberIndex = regexp.MustCompile(`-(\d+)$`)

// assign gives each new instance its server: the member of its group's
// output with its name, else a member no instance has, renaming the
// instance to Heat's name.
func (i *Infra) assign(c *sahara.Cluster, st *stacks.RetrievedStack, instances []*sahara.Instance) error {
	outs := members(st)
	for _, ng := range c.NodeGroups {
		var mine []*sahara.Instance
		for _, in := range instances {
			if in.NodeGroup() == ng {
				mine = append(mine, in)
			}
		}
		if len(mine) == 0 {
			continue
		}
		known := map[string]bool{}
		for _, in := range ng.Instances {
			if in.InstanceID != "" && !slices.Contains(mine, in) {
				known[in.InstanceID] = true
			}
		}
		byName := map[string]member{}
		var free []member
		for _, m := range outs[OutputKey(ng)] {
			if known[m.PhysicalID] {
				continue
			}
			byName[m.Name] = m
			free = append(free, m)
		}
		sort.Slice(free, func(a, b int) bool { return nameIndex(free[a].Name) < nameIndex(free[b].Name) })
		used := map[string]bool{}
		var unmatched []*sahara.Instance
		for _, in := range mine {
			if m, ok := byName[in.InstanceName]; ok {
				in.InstanceID, used[m.Name] = m.PhysicalID, true
				continue
			}
			unmatched = append(unmatched, in)
		}
		for _, in := range unmatched {
			idx := slices.IndexFunc(free, func(m member) bool { return !used[m.Name] })
			if idx < 0 {
				return fmt.Errorf("stack %s has no server for instance %s: its output %s lists %d", st.Name, in.InstanceName, OutputKey(ng), len(outs[OutputKey(ng)]))
			}
			m := free[idx]
			used[m.Name] = true
			i.log.Info(in.InstanceName+": Heat named the server "+m.Name, "cluster_id", c.ID)
			in.InstanceName, in.Index, in.InstanceID = m.Name, nameIndex(m.Name), m.PhysicalID
		}
	}
	return nil
}

func nameIndex(name string) int {
	if m := memberIndex.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return -1
}

// listServers is the one Nova list call: the servers whose name starts
// with the cluster's, by ID.
func (i *Infra) listServers(ctx context.Context, c *sahara.Cluster) (map[string]servers.Server, error) {
	cc, err := i.ServiceClient(ctx, svcCompute)
	if err != nil {
		return nil, err
	}
	pages, err := servers.List(cc, servers.ListOpts{Name: "^" + regexp.QuoteMeta(strings.ToLower(c.Name)) + "-"}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's servers: %w", err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, err
	}
	out := map[string]servers.Server{}
	for _, s := range list {
		out[s.ID] = s
	}
	return out, nil
}

// awaitAddresses reads the servers from Nova (one list call per poll)
// until each instance has an address, then their volumes from Cinder.
func (i *Infra) awaitAddresses(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	pending := slices.Clone(instances)
	for polls := 0; len(pending) > 0; polls++ {
		if polls > 0 {
			if err := sleep(ctx, i.poll); err != nil {
				return fmt.Errorf("waiting for the addresses of %d servers: %w", len(pending), err)
			}
		}
		srvs, err := i.listServers(ctx, c)
		if err != nil {
			return err
		}
		var still []*sahara.Instance
		for _, in := range pending {
			s, ok := srvs[in.InstanceID]
			if !ok {
				still = append(still, in)
				continue
			}
			in.CloudStatus = s.Status
			if s.Status == "ERROR" {
				return fmt.Errorf("server %s (%s) is in ERROR: %s", in.InstanceName, s.ID, s.Fault.Message)
			}
			openstack.SetInstanceAddresses(c, in, s)
			if in.InternalIP == "" {
				still = append(still, in)
			}
		}
		pending = still
	}
	return i.readVolumes(ctx, c, instances)
}

// readVolumes fills the instances' Volumes from Cinder (one list call):
// the volumes attached to each server, in the order of their names'
// volume index, with the device Cinder reports.
func (i *Infra) readVolumes(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	owner := map[string]*sahara.Instance{}
	for _, in := range instances {
		if ng := in.NodeGroup(); ng != nil && ng.VolumesPerNode > 0 && ng.VolumesSize > 0 {
			owner[in.InstanceID] = in
		}
	}
	if len(owner) == 0 {
		return nil
	}
	vc, err := i.ServiceClient(ctx, svcVolume)
	if err != nil {
		return err
	}
	pages, err := volumes.List(vc, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing volumes: %w", err)
	}
	list, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return err
	}
	sort.Slice(list, func(a, b int) bool { return nameIndex(list[a].Name) < nameIndex(list[b].Name) })
	for _, in := range owner {
		in.Volumes = nil
	}
	for _, v := range list {
		for _, a := range v.Attachments {
			if in := owner[a.ServerID]; in != nil {
				in.Volumes = append(in.Volumes, sahara.Volume{ID: v.ID, Device: a.Device, SizeGB: v.Size})
			}
		}
	}
	for _, in := range owner {
		if want := in.NodeGroup().VolumesPerNode; len(in.Volumes) != want {
			return fmt.Errorf("instance %s has %d volumes attached, want %d", in.InstanceName, len(in.Volumes), want)
		}
	}
	return nil
}

// DeleteInstances updates the stack with the instances removed by its
// removal policies (in the order given) and the counts lowered. Instances
// without a server are not members: they change nothing.
func (i *Infra) DeleteInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	victims := map[*sahara.Instance]bool{}
	for _, in := range instances {
		victims[in] = true
	}
	groups := map[string]GroupChange{}
	removed := map[*sahara.NodeGroup][]int{}
	for _, ng := range c.NodeGroups {
		ch := GroupChange{Retired: retired(c, ng)}
		for _, in := range ng.Instances {
			if in.InstanceID != "" && !victims[in] {
				ch.Count++
			}
		}
		for _, in := range instances {
			if in.NodeGroup() == ng {
				ch.Remove = append(ch.Remove, in.InstanceName)
				if in.InstanceID != "" {
					removed[ng] = append(removed[ng], nameIndex(in.InstanceName))
				}
			}
		}
		groups[ng.Name] = ch
	}
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return err
	}
	existing, err := i.findStack(ctx, oc, c)
	if err != nil {
		return err
	}
	if existing == nil {
		i.log.Info("No stack: the instances are gone", "cluster_id", c.ID, "count", len(instances))
	} else {
		i.log.Info(fmt.Sprintf("Deleting %d instances by a stack update", len(instances)), "cluster_id", c.ID)
		if _, err := i.apply(ctx, c, groups); err != nil {
			return err
		}
	}
	for ng, idx := range removed {
		addRetired(c, ng, idx)
	}
	for _, in := range instances {
		in.CloudStatus = sahara.CloudStatusMissing
	}
	return nil
}

// DeleteCluster deletes the stack, waits until Heat removed it, then
// sweeps what carries the cluster's tag outside the stack as the direct
// engine does.
func (i *Infra) DeleteCluster(ctx context.Context, c *sahara.Cluster) error {
	if c.ID == "" {
		return errors.New("cluster has no ID")
	}
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return err
	}
	st, err := i.findStack(ctx, oc, c)
	if err != nil {
		return err
	}
	if st != nil {
		i.log.Info("Deleting stack", "cluster_id", c.ID, "stack", st.Name)
		if err := stacks.Delete(ctx, oc, st.Name, st.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return fmt.Errorf("deleting stack %s: %w", st.Name, err)
		}
		if _, err := i.wait(ctx, oc, st, time.Time{}, "DELETE"); err != nil {
			return err
		}
	}
	for _, ng := range c.NodeGroups {
		delete(c.Extra, retiredKey(ng))
	}
	return i.Cloud.DeleteCluster(ctx, c)
}

// RefreshInstances updates every instance from the stack's outputs and
// one servers list call; an instance without a server ID is found by name
// among the stack's servers.
func (i *Infra) RefreshInstances(ctx context.Context, c *sahara.Cluster) error {
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return err
	}
	st, err := i.findStack(ctx, oc, c)
	if err != nil {
		return err
	}
	srvs, err := i.listServers(ctx, c)
	if err != nil {
		return err
	}
	// Only the stack's servers: another cluster's names may share the prefix.
	mine := map[string]servers.Server{}
	if st != nil {
		for _, list := range members(st) {
			for _, m := range list {
				if s, ok := srvs[m.PhysicalID]; ok {
					mine[s.ID] = s
				}
			}
		}
	}
	openstack.RefreshFromServers(c, mine)
	return nil
}

// ClusterServers lists the servers of the cluster's stack (its outputs)
// and those the direct engine tagged, sorted.
func (i *Infra) ClusterServers(ctx context.Context, c *sahara.Cluster) ([]string, error) {
	names, err := i.Cloud.ClusterServers(ctx, c)
	if err != nil {
		return nil, err
	}
	oc, err := i.ServiceClient(ctx, svcOrchestration)
	if err != nil {
		return nil, err
	}
	st, err := i.findStack(ctx, oc, c)
	if err != nil {
		return nil, err
	}
	if st != nil {
		for _, list := range members(st) {
			for _, m := range list {
				names = append(names, m.Name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
