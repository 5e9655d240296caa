package fake

import (
	"context"
	"fmt"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.FlavorLookup = (*Infra)(nil)

// Flavor implements sahara.FlavorLookup from Flavors; an unknown flavor has
// the size quota estimates assume (1 vCPU, 1024 MB). Inject
// Fail("Flavor", "", sahara.ErrNotFound) for a missing one.
func (f *Infra) Flavor(ctx context.Context, id string) (sahara.Flavor, error) {
	if err := f.enter(ctx, "Flavor", ""); err != nil {
		return sahara.Flavor{}, fmt.Errorf("flavor %q: %w", id, err)
	}
	fl, ok := f.Flavors[id]
	if !ok {
		fl = Flavor{VCPUs: 1, RAMMB: 1024}
	}
	return sahara.Flavor{ID: id, Name: id, VCPUs: fl.VCPUs, RAMMB: fl.RAMMB}, nil
}
