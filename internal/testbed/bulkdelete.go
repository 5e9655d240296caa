package testbed

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// BulkTimes are the cloud's own times for n servers with their ports, a
// security group and a server group, every request sent at once and the
// servers polled tightly: Create until every server is ACTIVE, Delete until
// every object is gone. Delete is the physical limit of a cluster's
// deletion (`make bench`); Create shows what the cloud alone needs to boot
// n servers (SSH not included).
type BulkTimes struct{ Create, Delete time.Duration }

// BulkTimes creates and deletes n servers as above, named and tagged with
// tag so a failed run's leftovers are found as a cluster's are.
func (e *Env) BulkTimes(ctx context.Context, n int, tag string) (BulkTimes, error) {
	var bt BulkTimes
	c, err := e.Clients(ctx, false)
	if err != nil {
		return bt, err
	}
	sg, err := groups.Create(ctx, c.Network, groups.CreateOpts{Name: tag, Description: ClusterTag + "=" + tag}).Extract()
	if err != nil {
		return bt, fmt.Errorf("bulk delete: security group: %w", err)
	}
	sgr, err := servergroups.Create(ctx, c.Compute, servergroups.CreateOpts{Name: tag, Policy: "soft-anti-affinity"}).Extract()
	if err != nil {
		return bt, fmt.Errorf("bulk delete: server group: %w", err)
	}
	portIDs, serverIDs := make([]string, n), make([]string, n)
	created := time.Now()
	err = each(n, func(i int) error {
		name := fmt.Sprintf("%s-%d", tag, i)
		p, err := ports.Create(ctx, c.Network, ports.CreateOpts{Name: name, NetworkID: e.NetworkID, SecurityGroups: &[]string{sg.ID}}).Extract()
		if err != nil {
			return err
		}
		portIDs[i] = p.ID
		s, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
			Name: name, FlavorRef: e.FlavorID, ImageRef: e.Images["fake"],
			Networks: []servers.Network{{Port: p.ID}}, Metadata: map[string]string{ClusterTag: tag},
		}, servers.SchedulerHintOpts{Group: sgr.ID}).Extract()
		if err != nil {
			return err
		}
		serverIDs[i] = s.ID
		return servers.WaitForStatus(ctx, c.Compute, s.ID, "ACTIVE")
	})
	if err != nil {
		return bt, fmt.Errorf("bulk delete: creating the objects: %w", err)
	}

	bt.Create = time.Since(created)
	start := time.Now()
	if err := each(n, func(i int) error { return servers.Delete(ctx, c.Compute, serverIDs[i]).ExtractErr() }); err != nil {
		return bt, err
	}
	for {
		pages, err := servers.List(c.Compute, servers.ListOpts{Name: "^" + tag + "-"}).AllPages(ctx)
		if err != nil {
			return bt, err
		}
		left, err := servers.ExtractServers(pages)
		if err != nil {
			return bt, err
		}
		if len(left) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return bt, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	err = each(n+2, func(i int) error {
		var err error
		switch {
		case i < n:
			err = ports.Delete(ctx, c.Network, portIDs[i]).ExtractErr()
		case i == n:
			err = servergroups.Delete(ctx, c.Compute, sgr.ID).ExtractErr()
		default:
			return nil
		}
		if gophercloud.ResponseCodeIs(err, 404) {
			return nil
		}
		return err
	})
	if err == nil {
		err = groups.Delete(ctx, c.Network, sg.ID).ExtractErr() // once its ports are gone
	}
	bt.Delete = time.Since(start)
	return bt, err
}

// each runs fn(0..n-1) concurrently and returns the first error.
func each(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn(i) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
