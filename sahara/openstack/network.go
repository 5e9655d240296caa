package openstack

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// resolveNetwork turns a network name or ID into an ID. An ID is used as
// given (the port create reports a wrong one); a name must match exactly one
// network.
func resolveNetwork(ctx context.Context, nc *gophercloud.ServiceClient, ref, what string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("no %s given", what)
	}
	if uuidRE.MatchString(ref) {
		return ref, nil
	}
	pages, err := networks.List(nc, networks.ListOpts{Name: ref}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("looking up %s %q: %w", what, ref, err)
	}
	list, err := networks.ExtractNetworks(pages)
	if err != nil {
		return "", err
	}
	switch len(list) {
	case 0:
		return "", fmt.Errorf("%s %q: no network has this name or ID", what, ref)
	case 1:
		return list[0].ID, nil
	}
	return "", fmt.Errorf("%s %q: %d networks have this name; give the ID", what, ref, len(list))
}

// networkCIDRs lists the CIDRs of a network's subnets (the auto security
// group opens all traffic between them).
func networkCIDRs(ctx context.Context, nc *gophercloud.ServiceClient, networkID string) ([]string, error) {
	pages, err := subnets.List(nc, subnets.ListOpts{NetworkID: networkID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing subnets of network %s: %w", networkID, err)
	}
	list, err := subnets.ExtractSubnets(pages)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range list {
		out = append(out, s.CIDR)
	}
	sort.Strings(out)
	return out, nil
}

// resolveSecurityGroups maps names or IDs to IDs with one list call.
func resolveSecurityGroups(ctx context.Context, nc *gophercloud.ServiceClient, projectID string, refs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(refs) == 0 {
		return out, nil
	}
	pages, err := groups.List(nc, groups.ListOpts{ProjectID: projectID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing security groups: %w", err)
	}
	list, err := groups.ExtractGroups(pages)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		var ids []string
		for _, g := range list {
			if g.ID == ref || g.Name == ref {
				ids = append(ids, g.ID)
			}
		}
		switch len(ids) {
		case 0:
			return nil, fmt.Errorf("security group %q: no security group has this name or ID", ref)
		case 1:
			out[ref] = ids[0]
		default:
			return nil, fmt.Errorf("security group %q: %d security groups have this name; give the ID", ref, len(ids))
		}
	}
	return out, nil
}

// tagNeutron sets the cluster tag on a Neutron object.
func tagNeutron(ctx context.Context, nc *gophercloud.ServiceClient, kind, id, clusterID string) error {
	_, err := attributestags.ReplaceAll(ctx, nc, kind, id, attributestags.ReplaceAllOpts{Tags: []string{clusterTag(clusterID)}}).Extract()
	if err != nil {
		return fmt.Errorf("tagging %s %s: %w", strings.TrimSuffix(kind, "s"), id, err)
	}
	return nil
}

// clusterPorts lists the ports carrying the cluster's tag or description.
func clusterPorts(ctx context.Context, nc *gophercloud.ServiceClient, clusterID string) ([]ports.Port, error) {
	seen := map[string]bool{}
	var out []ports.Port
	for _, o := range []ports.ListOpts{{Tags: clusterTag(clusterID)}, {Description: clusterTag(clusterID)}} {
		pages, err := ports.List(nc, o).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the cluster's ports: %w", err)
		}
		list, err := ports.ExtractPorts(pages)
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// clusterFloatingIPs lists the floating IPs carrying the cluster's tag or description.
func clusterFloatingIPs(ctx context.Context, nc *gophercloud.ServiceClient, clusterID string) ([]floatingips.FloatingIP, error) {
	seen := map[string]bool{}
	var out []floatingips.FloatingIP
	for _, o := range []floatingips.ListOpts{{Tags: clusterTag(clusterID)}, {Description: clusterTag(clusterID)}} {
		pages, err := floatingips.List(nc, o).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the cluster's floating IPs: %w", err)
		}
		list, err := floatingips.ExtractFloatingIPs(pages)
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			if !seen[f.ID] {
				seen[f.ID] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// clusterSecurityGroups lists the security groups carrying the cluster's tag or description.
func clusterSecurityGroups(ctx context.Context, nc *gophercloud.ServiceClient, clusterID string) ([]groups.SecGroup, error) {
	seen := map[string]bool{}
	var out []groups.SecGroup
	for _, o := range []groups.ListOpts{{Tags: clusterTag(clusterID)}, {Description: clusterTag(clusterID)}} {
		pages, err := groups.List(nc, o).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the cluster's security groups: %w", err)
		}
		list, err := groups.ExtractGroups(pages)
		if err != nil {
			return nil, err
		}
		for _, g := range list {
			if !seen[g.ID] {
				seen[g.ID] = true
				out = append(out, g)
			}
		}
	}
	return out, nil
}
