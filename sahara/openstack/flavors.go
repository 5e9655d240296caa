package openstack

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.FlavorLookup = (*Cloud)(nil)

// flavorCaches holds each Cloud's flavors (weak.Pointer[Cloud] → *sync.Map
// of ID → sahara.Flavor); an entry goes with its Cloud. Flavors are
// immutable in Nova, so a cached one never goes stale.
var flavorCaches sync.Map

func (c *Cloud) flavorCache() *sync.Map {
	key := weak.Make(c)
	if m, ok := flavorCaches.Load(key); ok {
		return m.(*sync.Map)
	}
	m, loaded := flavorCaches.LoadOrStore(key, &sync.Map{})
	if !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[Cloud]) { flavorCaches.Delete(k) }, key)
	}
	return m.(*sync.Map)
}

// Flavor implements sahara.FlavorLookup with one flavors.Get per flavor ID
// and Cloud; a missing flavor is sahara.ErrNotFound.
func (c *Cloud) Flavor(ctx context.Context, id string) (sahara.Flavor, error) {
	cache := c.flavorCache()
	if f, ok := cache.Load(id); ok {
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
	cache.Store(id, out)
	return out, nil
}
