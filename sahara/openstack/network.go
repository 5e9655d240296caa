package openstack

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

var _ sahara.NetworkLookup = (*Cloud)(nil)

// Network implements sahara.NetworkLookup: ref is a network's ID (one GET)
// or its name (one filtered listing); each answer is kept for the Cloud's
// life (a Terraform run).
func (c *Cloud) Network(ctx context.Context, ref string) (sahara.Network, error) {
	if n, ok := c.networks.Load(ref); ok {
		return n.(sahara.Network), nil
	}
	nc, err := c.network(ctx)
	if err != nil {
		return sahara.Network{}, err
	}
	type network struct {
		networks.Network
		external.NetworkExternalExt
	}
	var list []network
	if uuidRE.MatchString(ref) {
		var n network
		err = networks.Get(ctx, nc, ref).ExtractInto(&n)
		if isNotFound(err) {
			return sahara.Network{}, fmt.Errorf("network %q: %w", ref, sahara.ErrNotFound)
		}
		list = append(list, n)
	} else {
		var pages pagination.Page
		if pages, err = networks.List(nc, networks.ListOpts{Name: ref}).AllPages(ctx); err == nil {
			err = networks.ExtractNetworksInto(pages, &list)
		}
	}
	if err != nil {
		return sahara.Network{}, fmt.Errorf("looking up network %q: %w", ref, err)
	}
	switch len(list) {
	case 0:
		return sahara.Network{}, fmt.Errorf("network %q: no network has this name or ID: %w", ref, sahara.ErrNotFound)
	case 1:
		out := sahara.Network{ID: list[0].ID, Name: list[0].Name, External: list[0].External}
		c.networks.Store(ref, out)
		return out, nil
	}
	return sahara.Network{}, fmt.Errorf("network %q: %d networks have this name; give the ID", ref, len(list))
}

// resolveNetwork is the ID of a network given by name or ID; what names the
// attribute for the error.
func (c *Cloud) resolveNetwork(ctx context.Context, ref, what string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("no %s given", what)
	}
	if uuidRE.MatchString(ref) {
		return ref, nil // the port or floating IP create reports a wrong one
	}
	n, err := c.Network(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return n.ID, nil
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
