package openstack

import (
	"context"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// TestFlavor_Testbed reads the testbed's m1.small once.
func TestFlavor_Testbed(t *testing.T) {
	env := testbed.Require(t)
	c, ctr := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctr.reset()
	for range 2 {
		f, err := c.Flavor(ctx, env.FlavorID)
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != env.FlavorID || f.Name != env.FlavorName || f.VCPUs != 1 || f.RAMMB != 512 {
			t.Errorf("flavor = %+v, want %s: 1 vCPU, 512 MB", f, env.FlavorName)
		}
	}
	if n := ctr.count("GET", "/flavors/{id}"); n != 1 {
		t.Errorf("%d flavor GETs, want 1:\n%s", n, ctr)
	}
}
