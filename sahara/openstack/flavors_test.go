package openstack

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestFlavor_ReadOnceAndMissingIsNotFound(t *testing.T) {
	c, fs := fakeCloud(t)
	gets := 0
	fs.Mux.HandleFunc("/compute/flavors/f1", func(w http.ResponseWriter, r *http.Request) {
		gets++
		reply(w, 200, `{"flavor": {"id": "f1", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80}}`)
	})
	fs.Mux.HandleFunc("/compute/flavors/gone", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, `{"itemNotFound": {"code": 404, "message": "Flavor gone could not be found."}}`)
	})
	ctx := context.Background()
	want := sahara.Flavor{ID: "f1", Name: "m1.large", VCPUs: 4, RAMMB: 8192, DiskGB: 80}
	for range 3 {
		f, err := c.Flavor(ctx, "f1")
		if err != nil || f != want {
			t.Fatalf("Flavor = %+v, %v; want %+v", f, err, want)
		}
	}
	if gets != 1 {
		t.Errorf("%d GETs for one flavor read 3 times, want 1", gets)
	}
	other, _ := fakeCloud(t)
	if _, err := other.Flavor(ctx, "f1"); err == nil {
		t.Error("another Cloud answered from the first one's cache")
	}
	if _, err := c.Flavor(ctx, "gone"); !errors.Is(err, sahara.ErrNotFound) {
		t.Errorf("missing flavor: %v, want ErrNotFound", err)
	}
}
