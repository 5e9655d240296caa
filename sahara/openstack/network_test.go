package openstack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestNetworkAndImage_ByNameOrID(t *testing.T) {
	c, fs := fakeCloud(t)
	const pubID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	reads := map[string]int{}
	fs.Mux.HandleFunc("/network/v2.0/networks", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		reads[name]++
		switch name {
		case "public":
			reply(w, 200, `{"networks": [{"id": "`+pubID+`", "name": "public", "router:external": true}]}`)
		case "twin":
			reply(w, 200, `{"networks": [{"id": "n1", "name": "twin"}, {"id": "n2", "name": "twin"}]}`)
		default:
			reply(w, 200, `{"networks": []}`)
		}
	})
	fs.Mux.HandleFunc("/network/v2.0/networks/", func(w http.ResponseWriter, r *http.Request) {
		reads[r.URL.Path]++
		if strings.HasSuffix(r.URL.Path, "/"+pubID) {
			reply(w, 200, `{"network": {"id": "`+pubID+`", "name": "public", "router:external": true}}`)
			return
		}
		reply(w, 404, `{"NeutronError": {"type": "NetworkNotFound", "message": "Network could not be found."}}`)
	})
	fs.Mux.HandleFunc("/image/images", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("name") == "ubuntu-22.04" {
			reply(w, 200, `{"images": [{"id": "`+pubID+`", "name": "ubuntu-22.04", "_sahara_username": "ubuntu", "_sahara_tag_fake": "True"}]}`)
			return
		}
		reply(w, 200, `{"images": []}`)
	})
	ctx := context.Background()
	want := sahara.Network{ID: pubID, Name: "public", External: true}
	for _, ref := range []string{"public", "public", pubID} {
		if n, err := c.Network(ctx, ref); err != nil || n != want {
			t.Errorf("Network(%q) = %+v, %v; want %+v", ref, n, err, want)
		}
	}
	if reads["public"] != 1 {
		t.Errorf("%d listings for a name asked twice, want 1", reads["public"])
	}
	for _, ref := range []string{"nope", "11111111-2222-3333-4444-555555555555"} {
		if _, err := c.Network(ctx, ref); !errors.Is(err, sahara.ErrNotFound) {
			t.Errorf("Network(%q): %v, want ErrNotFound", ref, err)
		}
	}
	if _, err := c.Network(ctx, "twin"); err == nil || !strings.Contains(err.Error(), "give the ID") {
		t.Errorf("ambiguous network: %v, want an error asking for the ID", err)
	}
	im, err := c.GetImage(ctx, "ubuntu-22.04")
	if err != nil || im.ID != pubID || im.Username != "ubuntu" || len(im.Tags) != 1 {
		t.Errorf("GetImage by name = %+v, %v", im, err)
	}
	if _, err := c.GetImage(ctx, "nope"); !errors.Is(err, sahara.ErrNotFound) {
		t.Errorf("GetImage of a missing name: %v, want ErrNotFound", err)
	}
}
