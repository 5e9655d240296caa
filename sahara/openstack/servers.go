package openstack

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// maxPollFailures is how many list calls in a row a wait tolerates failing
// (a loaded cloud answers 500 now and then) before it gives up.
const maxPollFailures = 5

// listClusterServers is the one list call per poll: filtered by the
// cluster's server tag, or by name prefix when the API has no tags, and
// always checked against the metadata.
func (c *Cloud) listClusterServers(ctx context.Context, cc *gophercloud.ServiceClient, cl *sahara.Cluster) (map[string]servers.Server, error) {
	opts := servers.ListOpts{}
	switch {
	case c.computeTags:
		opts.Tags = clusterTag(cl.ID)
	case cl.Name != "":
		opts.Name = "^" + regexp.QuoteMeta(strings.ToLower(cl.Name)) + "-"
	}
	pages, err := servers.List(cc, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's servers: %w", err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, err
	}
	out := map[string]servers.Server{}
	for _, s := range list {
		if s.Metadata[sahara.TagCluster] == cl.ID {
			out[s.ID] = s
		}
	}
	return out, nil
}

// waitActive polls until every instance is ACTIVE with addresses; a server
// in ERROR fails its instance with Nova's fault message.
func (c *Cloud) waitActive(ctx context.Context, p *spawnPlan, instances []*sahara.Instance, tr *spawnTracker) error {
	pending := map[*sahara.Instance]bool{}
	for _, in := range instances {
		pending[in] = true
	}
	for polls, failures := 0, 0; ; polls++ {
		if len(pending) == 0 {
			return nil
		}
		if polls > 0 {
			if err := c.sleep(ctx, polls); err != nil {
				return fmt.Errorf("waiting for %d servers to become ACTIVE: %w", len(pending), err)
			}
		}
		srvs, err := c.listClusterServers(ctx, p.cc, p.cl)
		if err != nil {
			if failures++; failures > maxPollFailures {
				return err
			}
			c.log.Warn("polling failed; retrying", "cluster_id", p.cl.ID, "error", err)
			continue
		}
		failures = 0
		for in := range pending {
			s, ok := srvs[in.InstanceID]
			if !ok {
				continue // not listed yet
			}
			in.CloudStatus = s.Status
			switch {
			case s.Status == "ERROR":
				delete(pending, in)
				tr.fail(in, fmt.Errorf("server %s (%s) is in ERROR: %s", in.InstanceName, s.ID, c.faultOf(ctx, p.cc, s)))
			case s.Status == "ACTIVE" && len(s.Addresses) > 0:
				delete(pending, in)
				c.applyAddresses(p.cl, in, s, p)
				if len(in.Volumes) == 0 {
					tr.done(in)
				}
			}
		}
		c.log.Info(fmt.Sprintf("Waiting for instances to become ACTIVE: %d/%d ready", len(instances)-len(pending), len(instances)), "cluster_id", p.cl.ID)
	}
}

func (c *Cloud) faultOf(ctx context.Context, cc *gophercloud.ServiceClient, s servers.Server) string {
	if s.Fault.Message == "" {
		if full, err := servers.Get(ctx, cc, s.ID).Extract(); err == nil {
			s.Fault = full.Fault
		}
	}
	if s.Fault.Message == "" {
		return "the cloud gave no fault message"
	}
	return s.Fault.Message
}

// applyAddresses sets InternalIP and ManagementIP as Sahara does: the
// floating IP when there is one, except behind a proxy gateway.
func (c *Cloud) applyAddresses(cl *sahara.Cluster, in *sahara.Instance, s servers.Server, p *spawnPlan) {
	fixed, floating := serverAddresses(s)
	if p != nil {
		// Nova's address cache may lag behind Neutron: use what we created.
		if v, ok := p.portFixed.Load(in.InstanceName); ok && fixed == "" {
			fixed = v.(string)
		}
		if v, ok := p.floating.Load(in.InstanceName); ok && floating == "" {
			floating = v.(string)
		}
	}
	setAddresses(cl, in, fixed, floating)
}

// SetInstanceAddresses sets InternalIP and ManagementIP from a Nova server
// as the direct engine does: the first fixed address (IPv4 first), and as
// management address the floating one when there is one, except behind a
// proxy gateway.
func SetInstanceAddresses(cl *sahara.Cluster, in *sahara.Instance, s servers.Server) {
	fixed, floating := serverAddresses(s)
	setAddresses(cl, in, fixed, floating)
}

func setAddresses(cl *sahara.Cluster, in *sahara.Instance, fixed, floating string) {
	in.InternalIP = fixed
	in.ManagementIP = fixed
	if gw := cl.ProxyGateway(); floating != "" && (gw == nil || in.NodeGroup() == nil || in.NodeGroup().IsProxyGateway) {
		in.ManagementIP = floating
	}
}

// serverAddresses returns the first fixed and floating addresses, IPv4 first.
func serverAddresses(s servers.Server) (fixed, floating string) {
	nets := make([]string, 0, len(s.Addresses))
	for n := range s.Addresses {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	var fixed6, floating6 string
	for _, n := range nets {
		list, _ := s.Addresses[n].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			addr, _ := m["addr"].(string)
			typ, _ := m["OS-EXT-IPS:type"].(string)
			v6 := strings.Contains(addr, ":")
			switch {
			case typ == "floating" && !v6 && floating == "":
				floating = addr
			case typ == "floating" && v6 && floating6 == "":
				floating6 = addr
			case typ != "floating" && !v6 && fixed == "":
				fixed = addr
			case typ != "floating" && v6 && fixed6 == "":
				fixed6 = addr
			}
		}
	}
	if fixed == "" {
		fixed = fixed6
	}
	if floating == "" {
		floating = floating6
	}
	return fixed, floating
}

// waitVolumes polls the cluster's volumes (one list call per poll) until
// every volume of the instances has the wanted status.
func (c *Cloud) waitVolumes(ctx context.Context, p *spawnPlan, instances []*sahara.Instance, want string, fail func(*sahara.Instance, error)) error {
	owner := map[string]*sahara.Instance{}
	for _, in := range instances {
		for _, v := range in.Volumes {
			owner[v.ID] = in
		}
	}
	return c.waitVolumeStatus(ctx, p, owner, "volumes", want, fail)
}

// waitVolumeStatus polls until each volume of owner (volume ID → its
// instance) has the wanted status; what names them in messages.
func (c *Cloud) waitVolumeStatus(ctx context.Context, p *spawnPlan, owner map[string]*sahara.Instance, what, want string, fail func(*sahara.Instance, error)) error {
	total := len(owner)
	for polls, failures := 0, 0; len(owner) > 0; polls++ {
		if polls > 0 {
			if err := c.sleep(ctx, polls); err != nil {
				return fmt.Errorf("waiting for %d %s to become %s: %w", len(owner), what, want, err)
			}
		}
		vols, err := c.listClusterVolumes(ctx, p.vc, p.cl.ID)
		if err != nil {
			if failures++; failures > maxPollFailures {
				return err
			}
			c.log.Warn("polling failed; retrying", "cluster_id", p.cl.ID, "error", err)
			continue
		}
		failures = 0
		for _, v := range vols {
			in := owner[v.ID]
			if in == nil {
				continue
			}
			switch {
			case v.Status == want:
				delete(owner, v.ID)
			case want == "in-use" && v.Status == "available":
				// Nova reserves the volume before the attach call returns:
				// available again means the attachment was rolled back.
				delete(owner, v.ID)
				fail(in, fmt.Errorf("attaching volume %s to %s failed: the volume is available again (see the server's instance actions)", v.ID, in.InstanceName))
			case strings.HasPrefix(v.Status, "error"):
				delete(owner, v.ID)
				fail(in, fmt.Errorf("volume %s of %s is in status %s", v.ID, in.InstanceName, v.Status))
			}
		}
		if total > 1 {
			c.log.Info(fmt.Sprintf("Waiting for %s to become %s: %d/%d ready", what, want, total-len(owner), total), "cluster_id", p.cl.ID)
		}
	}
	return nil
}

func (c *Cloud) listClusterVolumes(ctx context.Context, vc *gophercloud.ServiceClient, clusterID string) ([]volumes.Volume, error) {
	pages, err := volumes.List(vc, volumes.ListOpts{Metadata: map[string]string{sahara.TagCluster: clusterID}}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's volumes: %w", err)
	}
	list, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, v := range list {
		if v.Metadata[sahara.TagCluster] == clusterID {
			out = append(out, v)
		}
	}
	return out, nil
}

// sleep waits before poll number polls (pollWait), or until ctx ends.
func (c *Cloud) sleep(ctx context.Context, polls int) error {
	t := time.After(pollWait(c.opts.pollInterval, polls))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t:
		return nil
	}
}

// pollWait is the wait before poll number polls (1 for the second look):
// 250 ms, doubling up to the poll interval. Most waits of a cluster end
// within seconds (a server's deletion, a volume's attachment), so early
// polls end them soon after the cloud is done; long waits still cost one
// list call per interval.
func pollWait(interval time.Duration, polls int) time.Duration {
	d := firstPollWait
	for i := 1; i < polls && d < interval; i++ {
		d *= 2
	}
	return min(d, interval)
}

const firstPollWait = 250 * time.Millisecond

// ClusterServers implements sahara.Infrastructure: one list call.
func (c *Cloud) ClusterServers(ctx context.Context, cl *sahara.Cluster) ([]string, error) {
	cc, err := c.compute(ctx)
	if err != nil {
		return nil, err
	}
	srvs, err := c.listClusterServers(ctx, cc, cl)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(srvs))
	for _, s := range srvs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names, nil
}

// RefreshInstances updates every instance from one servers list call.
func (c *Cloud) RefreshInstances(ctx context.Context, cl *sahara.Cluster) error {
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	srvs, err := c.listClusterServers(ctx, cc, cl)
	if err != nil {
		return err
	}
	RefreshFromServers(cl, srvs)
	return nil
}

// RefreshFromServers updates every instance of the cluster from one list
// of servers by ID: status and addresses; an instance without a server ID
// is found by name; one not listed gets CloudStatusMissing.
func RefreshFromServers(cl *sahara.Cluster, srvs map[string]servers.Server) {
	byName := map[string]servers.Server{}
	for _, s := range srvs {
		byName[s.Name] = s
	}
	for _, in := range cl.Instances() {
		s, ok := srvs[in.InstanceID]
		if !ok && in.InstanceID == "" {
			s, ok = byName[in.InstanceName]
		}
		if !ok {
			in.CloudStatus = sahara.CloudStatusMissing
			continue
		}
		in.InstanceID = s.ID
		in.CloudStatus = s.Status
		if len(s.Addresses) > 0 {
			SetInstanceAddresses(cl, in, s)
		}
	}
}

// HostKeys reads the SSH host keys cloud-init printed to the console.
func (c *Cloud) HostKeys(ctx context.Context, in *sahara.Instance) ([]string, error) {
	if in.InstanceID == "" {
		return nil, fmt.Errorf("instance %s has no server", in.InstanceName)
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return nil, err
	}
	out, err := servers.ShowConsoleOutput(ctx, cc, in.InstanceID, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil {
		return nil, fmt.Errorf("reading the console of %s: %w", in.InstanceName, err)
	}
	return sahara.ParseConsoleHostKeys(out), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
