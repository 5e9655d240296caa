package fake

import (
	"cmp"
	"context"
	"fmt"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var (
	_ sahara.FlavorLookup  = (*Infra)(nil)
	_ sahara.NetworkLookup = (*Infra)(nil)
)

// Flavor implements sahara.FlavorLookup from Flavors; an unknown flavor has
// the size quota estimates assume (1 vCPU, 1024 MB). Inject
// Fail("Flavor", "", sahara.ErrNotFound) for a missing one.
func (f *Infra) Flavor(ctx context.Context, id string) (sahara.Flavor, error) {
	if err := f.enter(ctx, "Flavor", ""); err != nil {
		return sahara.Flavor{}, fmt.Errorf("flavor %q: %w", id, err)
	}
	if fl, ok := f.Flavors[id]; ok {
		return sahara.Flavor{ID: id, Name: cmp.Or(fl.Name, id), VCPUs: fl.VCPUs, RAMMB: fl.RAMMB}, nil
	}
	for fid, fl := range f.Flavors {
		if fl.Name == id {
			return sahara.Flavor{ID: fid, Name: fl.Name, VCPUs: fl.VCPUs, RAMMB: fl.RAMMB}, nil
		}
	}
	if f.OnlyKnownFlavors {
		return sahara.Flavor{}, fmt.Errorf("flavor %q: %w", id, sahara.ErrNotFound)
	}
	return sahara.Flavor{ID: id, Name: id, VCPUs: 1, RAMMB: 1024}, nil
}

// Network implements sahara.NetworkLookup from Networks.
func (f *Infra) Network(ctx context.Context, ref string) (sahara.Network, error) {
	if err := f.enter(ctx, "Network", ""); err != nil {
		return sahara.Network{}, fmt.Errorf("network %q: %w", ref, err)
	}
	if f.Networks == nil {
		return sahara.Network{ID: ref, Name: ref, External: true}, nil
	}
	for id, n := range f.Networks {
		if id == ref || n.Name == ref {
			n.ID = id
			return n, nil
		}
	}
	return sahara.Network{}, fmt.Errorf("network %q: %w", ref, sahara.ErrNotFound)
}
