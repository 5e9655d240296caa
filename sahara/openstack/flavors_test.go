package openstack

import (
	"context"
	"errors"
	"net/http"
	"strings"
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
	lists := 0
	fs.Mux.HandleFunc("/compute/flavors/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/compute/flavors/detail" {
			lists++
			reply(w, 200, `{"flavors": [{"id": "f1", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
				{"id": "f2", "name": "twin", "vcpus": 1, "ram": 512, "disk": 1}, {"id": "f3", "name": "twin", "vcpus": 1, "ram": 512, "disk": 1}]}`)
			return
		}
		reply(w, 404, `{"itemNotFound": {"code": 404, "message": "Flavor could not be found."}}`)
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
	if _, err := c.Flavor(ctx, "gone"); !errors.Is(err, sahara.ErrNotFound) || !strings.Contains(err.Error(), "m1.large, twin, twin") {
		t.Errorf("missing flavor: %v, want ErrNotFound naming the flavors there are", err)
	}
	// A name is found in the listing, which is read once.
	if f, err := c.Flavor(ctx, "m1.large"); err != nil || f != want {
		t.Errorf("Flavor by name = %+v, %v; want %+v", f, err, want)
	}
	if _, err := c.Flavor(ctx, "twin"); err == nil || errors.Is(err, sahara.ErrNotFound) || !strings.Contains(err.Error(), "give the ID") {
		t.Errorf("ambiguous name: %v, want an error asking for the ID", err)
	}
	if lists != 1 {
		t.Errorf("%d flavor listings, want 1", lists)
	}
}
