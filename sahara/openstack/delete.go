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
	"golang.org/x/sync/errgroup"

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

// DeleteCluster removes every object of the cluster: floating IPs,
// servers, their ports and volumes, and meanwhile the server groups and the
// keypair (Nova lets them go while servers use them); the security groups
// once no port uses them. Only c.ID is needed.
func (c *Cloud) DeleteCluster(ctx context.Context, cl *sahara.Cluster) error {
	if cl.ID == "" {
		return errors.New("cluster has no ID")
	}
	c.log.Info("Deleting every object of the cluster", "cluster_id", cl.ID)
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	nc, err := c.network(ctx)
	if err != nil {
		return err
	}
	var nServerGroups int
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.deleteInstanceObjects(gctx, cl, selector{all: true}) })
	g.Go(func() error {
		sgroups, err := clusterServerGroups(gctx, cc, cl.ID)
		if err != nil {
			return err
		}
		nServerGroups = len(sgroups)
		for _, sgr := range sgroups {
			if err := servergroups.Delete(gctx, cc, sgr.ID).ExtractErr(); err != nil && !isNotFound(err) {
				return fmt.Errorf("deleting server group %s: %w", sgr.Name, err)
			}
		}
		if err := keypairs.Delete(gctx, cc, sahara.ClusterResourcePrefix(cl.ID), nil).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting keypair %s: %w", sahara.ClusterResourcePrefix(cl.ID), err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	sgs, err := clusterSecurityGroups(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	err = c.parallel(ctx, securityGroupIDs(sgs), func(ctx context.Context, id string) error {
		if err := c.retryConflict(ctx, func() error { return groups.Delete(ctx, nc, id).ExtractErr() }); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting security group %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cl.ServerGroupIDs = nil
	for _, ng := range cl.NodeGroups {
		ng.SecurityGroupID = ""
	}
	c.log.Info("Deleted the cluster's objects", "cluster_id", cl.ID, "security_groups", len(sgs), "server_groups", nServerGroups)
	return nil
}

func securityGroupIDs(list []groups.SecGroup) []string {
	ids := make([]string, len(list))
	for i, g := range list {
		ids[i] = g.ID
	}
	return ids
}

// deleteInstanceObjects deletes floating IPs, servers, volumes and ports.
// Everything that waits for nothing is sent at once, and each server's
// ports go as soon as the server is gone, so the deletion ends soon after
// the cloud's slowest server deletion.
func (c *Cloud) deleteInstanceObjects(ctx context.Context, cl *sahara.Cluster, sel selector) error {
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	nc, err := c.network(ctx)
	if err != nil {
		return err
	}
	var (
		srvs  map[string]servers.Server
		plist []ports.Port
		fips  []floatingips.FloatingIP
	)
	lists, lctx := errgroup.WithContext(ctx)
	lists.Go(func() (err error) { srvs, err = c.listClusterServers(lctx, cc, cl); return err })
	lists.Go(func() (err error) { plist, err = clusterPorts(lctx, nc, cl.ID); return err })
	lists.Go(func() (err error) { fips, err = clusterFloatingIPs(lctx, nc, cl.ID); return err })
	if err := lists.Wait(); err != nil {
		return err
	}
	serverIDs := map[string]bool{}
	for id, s := range srvs {
		if sel.server(id, s.Name) {
			serverIDs[id] = true
		}
	}
	portIDs := map[string]bool{}
	portsOf := map[string][]string{} // server ID → its ports to delete once it is gone
	var free []string                // ports of no server being deleted: now
	for _, p := range plist {
		if !sel.all && !sel.names[p.Name] && !serverIDs[p.DeviceID] {
			continue
		}
		portIDs[p.ID] = true
		if serverIDs[p.DeviceID] {
			portsOf[p.DeviceID] = append(portsOf[p.DeviceID], p.ID)
		} else {
			free = append(free, p.ID)
		}
	}

	// Floating IPs, servers and free ports at once; ports of servers as
	// the servers go.
	work, wctx := errgroup.WithContext(ctx)
	work.SetLimit(c.opts.parallelism)
	deletePorts := func(ids []string) {
		for _, id := range ids {
			work.Go(func() error {
				if err := ports.Delete(wctx, nc, id).ExtractErr(); err != nil && !isNotFound(err) {
					return fmt.Errorf("deleting port %s: %w", id, err)
				}
				return nil
			})
		}
	}
	for _, f := range fips {
		if sel.all || sel.fipIDs[f.ID] || portIDs[f.PortID] {
			work.Go(func() error {
				if err := floatingips.Delete(wctx, nc, f.ID).ExtractErr(); err != nil && !isNotFound(err) {
					return fmt.Errorf("deleting floating IP %s: %w", f.FloatingIP, err)
				}
				return nil
			})
		}
	}
	for _, id := range keys(serverIDs) {
		work.Go(func() error {
			if err := servers.Delete(wctx, cc, id).ExtractErr(); err != nil && !isNotFound(err) {
				return fmt.Errorf("deleting server %s (%s): %w", srvs[id].Name, id, err)
			}
			return nil
		})
	}
	deletePorts(free)
	if err := c.waitServersGone(wctx, cc, cl, serverIDs, func(id string) { deletePorts(portsOf[id]) }); err != nil {
		if werr := work.Wait(); werr != nil {
			return werr // the cause: it cancelled the wait
		}
		return err
	}
	if err := work.Wait(); err != nil {
		return err
	}
	// Volumes once detached (Nova detaches them when the server goes).
	return c.deleteVolumes(ctx, cl, sel)
}

// waitServersGone polls (one list call each time) until the servers are
// gone, calling gone for each as it goes.
func (c *Cloud) waitServersGone(ctx context.Context, cc *gophercloud.ServiceClient, cl *sahara.Cluster, serverIDs map[string]bool, gone func(id string)) error {
	deadline := time.Now().Add(c.deleteTimeout())
	var left []string // the servers still there at the last poll
	for polls, failures := 0, 0; len(serverIDs) > 0; polls++ {
		if polls > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d servers were not deleted within the delete timeout (%s): %s; they stay tagged %s=%s "+
					"and the next deletion deletes them", len(serverIDs), c.deleteTimeout(), strings.Join(left, ", "), sahara.TagCluster, cl.ID)
			}
			if err := c.sleep(ctx, polls); err != nil {
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
				gone(id)
			} else {
				left = append(left, fmt.Sprintf("%s (%s, status %s, task %s)", s.Name, id, s.Status, orNone(s.TaskState)))
			}
		}
		c.log.Info(fmt.Sprintf("Waiting for servers to be deleted: %d left", len(serverIDs)), "cluster_id", cl.ID)
	}
	return nil
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
			if err := c.sleep(ctx, polls); err != nil {
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
		if err := c.sleep(ctx, i+1); err != nil {
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
