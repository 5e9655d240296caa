package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Leases keep two runs from changing one object at once (sahara.AcquireLease).

// leaseOptions tune the provider's leases (the unit tests shorten the pause).
var leaseOptions = sahara.LeaseOptions{}

// takeLeases takes the leases on objects of a kind by name (one name, or an
// object's old and new name on a rename) for an operation, so that no other
// run changes them or takes the names meanwhile. It returns the release, or
// nil when another run holds one (diags name the holder) or the store
// failed. The release works after a cancel too; a lease it cannot remove
// lapses by itself.
func takeLeases(ctx context.Context, st sahara.Store, kind, operation string, diags *diagsT, names ...string) (release func()) {
	var held []*sahara.HeldLease
	release = func() {
		wctx, cancel := detached(ctx)
		defer cancel()
		for _, h := range held {
			if err := h.Release(wctx); err != nil {
				tflogLine(ctx, slog.LevelWarn, logMask{}, "Releasing a lease failed; it lapses by itself", map[string]any{"error": err.Error()})
			}
		}
	}
	for i, name := range names {
		if i > 0 && name == names[0] {
			continue
		}
		h, err := sahara.AcquireLease(ctx, st, kind, name, operation, leaseOptions)
		var busy *sahara.LeaseError
		switch {
		case errors.As(err, &busy):
			diags.AddError(storeKinds[kind].diagTitle+" Busy", err.Error())
		case err != nil:
			diags.AddError("Template Store Error", fmt.Sprintf("Taking the lease on %s %q in the template store failed.\n\n%v", storeKinds[kind].title, name, err))
		}
		if err != nil {
			release()
			return nil
		}
		held = append(held, h)
	}
	return release
}
