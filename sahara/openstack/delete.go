package openstack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// selector picks which of a cluster's objects a deletion covers.
type selector struct {
	all       bool
	names     map[string]bool // instance names
	serverIDs map[string]bool
	volumeIDs map[string]bool
	fipIDs    map[string]bool
}

func (s selector) server(id, name string) bool { return s.all || s.serverIDs[id] || s.names[name] }

// DeleteInstances removes the instances' floating IPs, servers, volumes and
// ports, found by identity (the cluster's tags plus the instance names), so
// objects an interrupted spawn did not record are removed too.
func (c *Cloud) DeleteInstances(ctx context.Context, cl *sahara.Cluster, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	sel := selector{names: map[string]bool{}, serverIDs: map[string]bool{}, volumeIDs: map[string]bool{}, fipIDs: map[string]bool{}}
	for _, in := range instances {
		sel.names[in.InstanceName] = true
		if in.InstanceID != "" {
			sel.serverIDs[in.InstanceID] = true
		}
		if in.FloatingIPID != "" {
			sel.fipIDs[in.FloatingIPID] = true
		}
		for _, v := range in.Volumes {
			sel.volumeIDs[v.ID] = true
		}
	}
	c.log.Info(fmt.Sprintf("Deleting %d instances", len(instances)), "cluster_id", cl.ID)
	if err := c.deleteInstanceObjects(ctx, cl, sel); err != nil {
		return err
	}
	for _, in := range instances {
		in.CloudStatus = sahara.CloudStatusMissing
	}
	return nil
}

// DeleteCluster removes every object of the cluster in dependency order:
// floating IPs, servers (waiting until gone), volumes, ports, security
// groups, server groups, the keypair. Only c.ID is needed.
func (c *Cloud) DeleteCluster(ctx context.Context, cl *sahara.Cluster) error {
	if cl.ID == "" {
		return errors.New("cluster has no ID")
	}
	c.log.Info("Deleting every object of the cluster", "cluster_id", cl.ID)
	if err := c.deleteInstanceObjects(ctx, cl, selector{all: true}); err != nil {
		return err
	}
	nc, err := c.network(ctx)
	if err != nil {
		return err
	}
	sgs, err := clusterSecurityGroups(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	for _, g := range sgs {
		if err := c.retryConflict(ctx, func() error { return groups.Delete(ctx, nc, g.ID).ExtractErr() }); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting security group %s (%s): %w", g.Name, g.ID, err)
		}
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	sgroups, err := clusterServerGroups(ctx, cc, cl.ID)
	if err != nil {
		return err
	}
	for _, g := range sgroups {
		if err := servergroups.Delete(ctx, cc, g.ID).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting server group %s: %w", g.Name, err)
		}
	}
	if err := keypairs.Delete(ctx, cc, sahara.ClusterResourcePrefix(cl.ID), nil).ExtractErr(); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting keypair %s: %w", sahara.ClusterResourcePrefix(cl.ID), err)
	}
	cl.ServerGroupIDs = nil
	for _, ng := range cl.NodeGroups {
		ng.SecurityGroupID = ""
	}
	c.log.Info("Deleted the cluster's objects", "cluster_id", cl.ID, "security_groups", len(sgs), "server_groups", len(sgroups))
	return nil
}

// deleteInstanceObjects deletes floating IPs, servers, volumes and ports.
func (c *Cloud) deleteInstanceObjects(ctx context.Context, cl *sahara.Cluster, sel selector) error {
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	nc, err := c.network(ctx)
	if err != nil {
		return err
	}
	srvs, err := c.listClusterServers(ctx, cc, cl)
	if err != nil {
		return err
	}
	serverIDs := map[string]bool{}
	for id, s := range srvs {
		if sel.server(id, s.Name) {
			serverIDs[id] = true
		}
	}
	plist, err := clusterPorts(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	portIDs := map[string]bool{}
	var delPorts []ports.Port
	for _, p := range plist {
		if sel.all || sel.names[p.Name] || serverIDs[p.DeviceID] {
			portIDs[p.ID] = true
			delPorts = append(delPorts, p)
		}
	}

	// 1. floating IPs
	fips, err := clusterFloatingIPs(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	for _, f := range fips {
		if sel.all || sel.fipIDs[f.ID] || portIDs[f.PortID] {
			if err := floatingips.Delete(ctx, nc, f.ID).ExtractErr(); err != nil && !isNotFound(err) {
				return fmt.Errorf("deleting floating IP %s: %w", f.FloatingIP, err)
			}
		}
	}

	// 2. servers, then wait until they are gone (one list call per poll)
	err = c.parallel(ctx, keys(serverIDs), func(ctx context.Context, id string) error {
		if err := servers.Delete(ctx, cc, id).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting server %s (%s): %w", srvs[id].Name, id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(c.deleteTimeout())
	var left []string // the servers still there at the last poll
	for polls, failures := 0, 0; len(serverIDs) > 0; polls++ {
		if polls > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d servers were not deleted within the delete timeout (%s): %s; they stay tagged %s=%s "+
					"and the next deletion deletes them", len(serverIDs), c.deleteTimeout(), strings.Join(left, ", "), sahara.TagCluster, cl.ID)
			}
			if err := c.sleep(ctx); err != nil {
				return fmt.Errorf("waiting for %d servers to be deleted: %w", len(serverIDs), err)
			}
		}
		now, err := c.listClusterServers(ctx, cc, cl)
		if err != nil {
			if failures++; failures > maxPollFailures {
				return err
			}
			c.log.Warn("polling failed; retrying", "cluster_id", cl.ID, "error", err)
			continue
		}
		failures = 0
		left = left[:0]
		for _, id := range keys(serverIDs) {
			if s, ok := now[id]; !ok || s.Status == "DELETED" {
				delete(serverIDs, id)
			} else {
				left = append(left, fmt.Sprintf("%s (%s, status %s, task %s)", s.Name, id, s.Status, orNone(s.TaskState)))
			}
		}
		c.log.Info(fmt.Sprintf("Waiting for servers to be deleted: %d left", len(serverIDs)), "cluster_id", cl.ID)
	}

	// 3. volumes: once detached (Nova detaches them when the server goes)
	if err := c.deleteVolumes(ctx, cl, sel); err != nil {
		return err
	}

	// 4. ports (Nova keeps ports it did not create)
	return c.parallel(ctx, portsIDs(delPorts), func(ctx context.Context, id string) error {
		if err := ports.Delete(ctx, nc, id).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting port %s: %w", id, err)
		}
		return nil
	})
}

func (c *Cloud) deleteVolumes(ctx context.Context, cl *sahara.Cluster, sel selector) error {
	vc, err := c.volume(ctx)
	if err != nil {
		if len(sel.volumeIDs) == 0 {
			return nil // no block storage and no volumes recorded
		}
		return err
	}
	pending := map[string]string{} // volume ID → its status
	deadline := time.Now().Add(c.deleteTimeout())
	for polls, failures := 0, 0; ; polls++ {
		if polls > 0 {
			if time.Now().After(deadline) {
				var left []string
				for _, id := range keys(pending) {
					left = append(left, id+" ("+pending[id]+")")
				}
				return fmt.Errorf("%d volumes could not be deleted within the delete timeout (%s): %s; they stay tagged %s=%s "+
					"and the next deletion deletes them", len(pending), c.deleteTimeout(), strings.Join(left, ", "), sahara.TagCluster, cl.ID)
			}
			if err := c.sleep(ctx); err != nil {
				return fmt.Errorf("waiting for %d volumes to be detached: %w", len(pending), err)
			}
		}
		vols, err := c.listClusterVolumes(ctx, vc, cl.ID)
		if err != nil {
			if failures++; failures > maxPollFailures {
				return err
			}
			c.log.Warn("polling failed; retrying", "cluster_id", cl.ID, "error", err)
			continue
		}
		failures = 0
		clear(pending)
		for _, v := range vols {
			if !sel.all && !sel.volumeIDs[v.ID] && !sel.names[v.Metadata[tagInstance]] {
				continue
			}
			switch v.Status {
			case "available", "error", "error_restoring", "error_extending", "error_deleting":
				// error_deleting: a failed deletion, which Cinder lets us try again
				if err := volumes.Delete(ctx, vc, v.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil && !isNotFound(err) {
					if gophercloud.ResponseCodeIs(err, 400) {
						pending[v.ID] = v.Status // status changed under us; retry
						continue
					}
					return fmt.Errorf("deleting volume %s: %w", v.ID, err)
				}
			case "deleting":
			default: // in-use, detaching, creating, attaching, …
				pending[v.ID] = v.Status
			}
		}
		if len(pending) == 0 {
			return nil
		}
		c.log.Info(fmt.Sprintf("Waiting for %d volumes to be detached", len(pending)), "cluster_id", cl.ID)
	}
}

func (c *Cloud) deleteTimeout() time.Duration {
	if c.opts.deleteTimeout > 0 {
		return c.opts.deleteTimeout
	}
	return DefaultDeleteTimeout
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// retryConflict retries f while the cloud answers 409 (a port still using a
// security group is removed asynchronously on some clouds).
func (c *Cloud) retryConflict(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if err == nil || !gophercloud.ResponseCodeIs(err, 409) || i >= 10 {
			return err
		}
		if err := c.sleep(ctx); err != nil {
			return err
		}
	}
}

func (c *Cloud) parallel(ctx context.Context, ids []string, fn func(context.Context, string) error) error {
	insts := make([]*sahara.Instance, len(ids))
	for i, id := range ids {
		insts[i] = &sahara.Instance{InstanceName: id}
	}
	return sahara.ParallelEach(ctx, c.opts.parallelism, insts, func(ctx context.Context, in *sahara.Instance) error {
		return fn(ctx, in.InstanceName)
	})
}

// keys are m's keys, sorted.
func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func portsIDs(list []ports.Port) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.ID
	}
	return out
}
