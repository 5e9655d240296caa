package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.FlavorLookup = (*Cloud)(nil)

// Flavor implements sahara.FlavorLookup with one flavors.Get per flavor ID
// and Cloud; a missing flavor is sahara.ErrNotFound.
func (c *Cloud) Flavor(ctx context.Context, id string) (sahara.Flavor, error) {
	if f, ok := c.flavors.Load(id); ok {
		return f.(sahara.Flavor), nil
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return sahara.Flavor{}, err
	}
	f, err := flavors.Get(ctx, cc, id).Extract()
	if isNotFound(err) {
		return sahara.Flavor{}, fmt.Errorf("flavor %q: %w", id, sahara.ErrNotFound)
	}
	if err != nil {
		return sahara.Flavor{}, fmt.Errorf("reading flavor %q: %w", id, err)
	}
	out := sahara.Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAMMB: f.RAM, DiskGB: f.Disk}
	c.flavors.Store(id, out)
	return out, nil
}
