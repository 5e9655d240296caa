package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// egressDefaults is the number of egress rules Neutron adds to every new
// security group (IPv4 and IPv6 allow-all); they count against the quota.
const egressDefaults = 2

// EstimateQuota computes what booting the new instances consumes, with one
// flavor read per distinct flavor and one subnet listing for rule counts.
func (c *Cloud) EstimateQuota(ctx context.Context, cl *sahara.Cluster, newInstances []*sahara.Instance) (sahara.QuotaRequest, error) {
	var q sahara.QuotaRequest
	if len(newInstances) == 0 {
		return q, nil
	}
	newGroups := map[*sahara.NodeGroup]bool{}
	for _, in := range newInstances {
		ng := in.NodeGroup()
		if ng == nil {
			return q, fmt.Errorf("instance %s belongs to no node group", in.InstanceName)
		}
		f, err := c.Flavor(ctx, ng.FlavorID)
		if err != nil {
			return q, fmt.Errorf("reading flavor %q of node group %s: %w", ng.FlavorID, ng.Name, err)
		}
		q.Instances++
		q.Cores += f.VCPUs
		q.RAMMB += f.RAMMB
		q.Ports++
		if ng.FloatingIPPool != "" {
			q.FloatingIPs++
		}
		q.Volumes += ng.VolumesPerNode
		q.VolumeGB += ng.VolumesPerNode * ng.VolumesSize
		if ng.BootFromVolume {
			q.Volumes++
			q.VolumeGB += max(f.DiskGB, 1)
		}
		if ng.AutoSecurityGroup && ng.SecurityGroupID == "" {
			newGroups[ng] = true
		}
	}
	if len(newGroups) > 0 {
		autoGroups := 0
		for _, ng := range cl.NodeGroups {
			if ng.AutoSecurityGroup {
				autoGroups++
			}
		}
		members := make([]string, autoGroups) // the rules' count, not their IDs
		for ng := range newGroups {
			q.SecurityGroups++
			q.SecurityRules += len(AutoSecurityGroupRules(ng.OpenPorts, ng.AutoSecurityGroupCIDRs, members)) + egressDefaults
		}
		// each group already there admits the new ones' members (IPv4 and IPv6)
		q.SecurityRules += 2 * len(newGroups) * (autoGroups - len(newGroups))
	}
	return q, nil
}

// available is limit − used − reserved; a negative limit means unlimited.
func available(limit, used, reserved int) (int, bool) {
	if limit < 0 {
		return 0, false
	}
	return max(limit-used-reserved, 0), true
}

type quotaCheck struct {
	resource  string
	requested int
	limit     int
	used      int
}

// CheckQuotas compares the request with what the project has left: compute
// from the limits API, network from the quota details, block storage from
// the quota usage; the first shortfall is a sahara.QuotaExceeded.
func (c *Cloud) CheckQuotas(ctx context.Context, cl *sahara.Cluster, req sahara.QuotaRequest) error {
	var checks []quotaCheck
	if req.Instances+req.Cores+req.RAMMB > 0 {
		cc, err := c.compute(ctx)
		if err != nil {
			return err
		}
		l, err := limits.Get(ctx, cc, limits.GetOpts{}).Extract()
		if err != nil {
			return fmt.Errorf("reading compute limits: %w", err)
		}
		a := l.Absolute
		checks = append(checks,
			quotaCheck{"instances", req.Instances, a.MaxTotalInstances, a.TotalInstancesUsed},
			quotaCheck{"cores", req.Cores, a.MaxTotalCores, a.TotalCoresUsed},
			quotaCheck{"RAM", req.RAMMB, a.MaxTotalRAMSize, a.TotalRAMUsed})
	}
	if req.FloatingIPs+req.SecurityGroups+req.SecurityRules+req.Ports > 0 {
		if c.projectID == "" {
			return fmt.Errorf("checking network quotas: the token is not scoped to a project")
		}
		nc, err := c.network(ctx)
		if err != nil {
			return err
		}
		d, err := quotas.GetDetail(ctx, nc, c.projectID).Extract()
		if err != nil {
			return fmt.Errorf("reading network quotas: %w", err)
		}
		add := func(name string, req int, q quotas.QuotaDetail) {
			checks = append(checks, quotaCheck{name, req, q.Limit, q.Used + q.Reserved})
		}
		add("floating IPs", req.FloatingIPs, d.FloatingIP)
		add("security groups", req.SecurityGroups, d.SecurityGroup)
		add("security group rules", req.SecurityRules, d.SecurityGroupRule)
		add("ports", req.Ports, d.Port)
	}
	if req.Volumes+req.VolumeGB > 0 {
		if c.projectID == "" {
			return fmt.Errorf("checking volume quotas: the token is not scoped to a project")
		}
		vc, err := c.volume(ctx)
		if err != nil {
			return err
		}
		u, err := quotasets.GetUsage(ctx, vc, c.projectID).Extract()
		if err != nil {
			return fmt.Errorf("reading volume quotas: %w", err)
		}
		checks = append(checks,
			quotaCheck{"volumes", req.Volumes, u.Volumes.Limit, u.Volumes.InUse + u.Volumes.Reserved + u.Volumes.Allocated},
			quotaCheck{"volume gigabytes", req.VolumeGB, u.Gigabytes.Limit, u.Gigabytes.InUse + u.Gigabytes.Reserved + u.Gigabytes.Allocated})
	}
	for _, ch := range checks {
		if ch.requested == 0 {
			continue
		}
		if left, limited := available(ch.limit, ch.used, 0); limited && ch.requested > left {
			return sahara.QuotaExceeded(ch.resource, ch.requested, left)
		}
	}
	c.log.Debug("quotas suffice", "cluster_id", cl.ID, "request", fmt.Sprintf("%+v", req))
	return nil
}
