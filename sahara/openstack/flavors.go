package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.FlavorLookup = (*Cloud)(nil)

// Flavor implements sahara.FlavorLookup: ref is a flavor's ID or its name
// (as the openstack CLI and provider take it). An ID is one GET; a name is
// found in one listing of the flavors, read once per Cloud (a Terraform run).
// Nova flavors never change, so every answer is kept. A missing flavor is
// sahara.ErrNotFound; a name several flavors share is an error asking for
// the ID.
func (c *Cloud) Flavor(ctx context.Context, ref string) (sahara.Flavor, error) {
	if f, ok := c.flavors.Load(ref); ok {
		return f.(sahara.Flavor), nil
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return sahara.Flavor{}, err
	}
	f, err := flavors.Get(ctx, cc, ref).Extract()
	if isNotFound(err) {
		f, err = c.flavorNamed(ctx, cc, ref)
	}
	if err != nil {
		return sahara.Flavor{}, err
	}
	out := sahara.Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAMMB: f.RAM, DiskGB: f.Disk}
	c.flavors.Store(ref, out)
	return out, nil
}

func (c *Cloud) flavorNamed(ctx context.Context, cc *gophercloud.ServiceClient, name string) (*flavors.Flavor, error) {
	c.catalogMu.Lock()
	defer c.catalogMu.Unlock()
	if c.flavorList == nil {
		pages, err := flavors.ListDetail(cc, flavors.ListOpts{}).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing flavors: %w", err)
		}
		list, err := flavors.ExtractFlavors(pages)
		if err != nil {
			return nil, err
		}
		c.flavorList = list
	}
	var found []flavors.Flavor
	var names []string
	for _, f := range c.flavorList {
		if f.Name == name {
			found = append(found, f)
		}
		names = append(names, f.Name)
	}
	switch len(found) {
	case 0:
		sort.Strings(names)
		return nil, fmt.Errorf("flavor %q: no flavor has this name or ID (flavors: %s): %w", name, strings.Join(names, ", "), sahara.ErrNotFound)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("flavor %q: %d flavors have this name; give the ID", name, len(found))
}
