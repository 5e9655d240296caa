package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	th "github.com/gophercloud/gophercloud/v2/testhelper"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// fakeBootCloud serves what SpawnInstances asks for a boot_from_volume
// node group: flavors, ports, Cinder volumes that are "downloading" for
// one list call before "available", and servers ACTIVE on the first list.
type fakeBootCloud struct {
	t       *testing.T
	mu      sync.Mutex
	volumes []map[string]any
	servers []map[string]any
	posts   map[string]int
	// volumeBody and serverBody assert the create requests.
	volumeBody func(r *http.Request)
	serverBody func(body []byte)
}

func (f *fakeBootCloud) install(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Method == "POST" {
			f.posts[r.URL.Path]++
		}
		switch key := r.Method + " " + r.URL.Path; key {
		case "GET /compute/flavors/43":
			reply(w, 200, `{"flavor": {"id": "43", "disk": 40}}`)
		case "GET /image/images": // the image is given by name
			reply(w, 200, `{"images": [{"id": "img", "name": "img"}]}`)
		case "GET /network/v2.0/ports":
			reply(w, 200, `{"ports": []}`)
		case "POST /network/v2.0/ports":
			reply(w, 201, `{"port": {"id": "port1", "fixed_ips": [{"ip_address": "10.0.0.5"}]}}`)
		case "PUT /network/v2.0/ports/port1/tags":
			reply(w, 200, `{"tags": ["saharagen_cluster=cid"]}`)
		case "POST /volume/volumes":
			f.volumeBody(r)
			f.volumes = append(f.volumes, map[string]any{"id": "bootvol1", "status": "creating", "size": 40,
				"metadata": map[string]string{sahara.TagCluster: "cid", tagInstance: "bfv-master-0", tagBootVolume: "true"}})
			reply(w, 202, `{"volume": {"id": "bootvol1", "status": "creating", "size": 40}}`)
		case "GET /volume/volumes/detail":
			b, _ := json.Marshal(map[string]any{"volumes": append([]map[string]any{}, f.volumes...)})
			for _, v := range f.volumes {
				switch v["status"] {
				case "creating":
					v["status"] = "downloading"
				case "downloading":
					v["status"] = "available"
				}
			}
			reply(w, 200, string(b))
		case "POST /compute/servers":
			for _, v := range f.volumes {
				if v["status"] != "available" {
					f.t.Errorf("server created while boot volume %s is %s", v["id"], v["status"])
				}
			}
			var body json.RawMessage
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				f.t.Error(err)
			}
			f.serverBody(body)
			f.servers = append(f.servers, map[string]any{"id": "33333333-3333-4333-8333-333333333333", "name": "bfv-master-0",
				"status": "ACTIVE", "metadata": map[string]string{sahara.TagCluster: "cid"},
				"addresses": map[string]any{"net": []any{map[string]any{"addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed"}}}})
			reply(w, 202, `{"server": {"id": "33333333-3333-4333-8333-333333333333"}}`)
		case "GET /compute/servers/detail":
			b, _ := json.Marshal(map[string]any{"servers": append([]map[string]any{}, f.servers...)})
			reply(w, 200, string(b))
		default:
			f.t.Errorf("unexpected request %s", key)
			reply(w, 404, `{}`)
		}
	})
}

// bootCluster is one instance of a boot_from_volume node group with every
// boot volume option, as conformance/heat/create-boot-from-volume-az-local.
func bootCluster() (*sahara.Cluster, *sahara.Instance) {
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "bfv", DefaultImageID: "img",
		NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}, ManagementPublicKey: "ssh-ed25519 AAAA"}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "master", FlavorID: "43", Count: 1, NodeProcesses: []string{"namenode"},
		BootFromVolume: true, BootVolumeType: "ssd", BootVolumeAvailabilityZone: "nova-vol", BootVolumeLocalToInstance: true})
	ng.ImageUsername = "ubuntu"
	in := ng.NewInstance(0)
	ng.AddInstance(in)
	return cl, in
}

// wantBootServer checks the server boots from the volume (no image) and
// that Nova deletes the volume with the server.
func wantBootServer(t *testing.T, volumeID string) func([]byte) {
	return func(body []byte) {
		var got struct {
			Server struct {
				ImageRef string           `json:"imageRef"`
				BDM      []map[string]any `json:"block_device_mapping_v2"`
			} `json:"server"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`[{"source_type": "volume", "uuid": %q, "destination_type": "volume", "boot_index": 0, "delete_on_termination": true}]`, volumeID)
		b, _ := json.Marshal(got.Server.BDM)
		th.AssertJSONEquals(t, want, got.Server.BDM)
		if got.Server.ImageRef != "" {
			t.Errorf("server has imageRef %q besides the boot volume; block devices %s", got.Server.ImageRef, b)
		}
	}
}

// TestSpawnInstances_BootVolumeCarriesTypeZoneAndClusterTag: the boot
// volume is a Cinder volume of the flavor's disk size from the image, with
// boot_volume_type and boot_volume_availability_zone and the cluster's
// metadata (so deletion finds it); the server boots from it once it is
// available. Sahara's local_to_instance hint cannot name an instance that
// does not exist yet, so none is sent.
func TestSpawnInstances_BootVolumeCarriesTypeZoneAndClusterTag(t *testing.T) {
	c, fs := fakeCloud(t)
	f := &fakeBootCloud{t: t, posts: map[string]int{}, serverBody: wantBootServer(t, "bootvol1")}
	f.volumeBody = func(r *http.Request) {
		th.TestJSONRequest(t, r, `{"volume": {"name": "bfv-master-0-boot", "size": 40, "imageRef": "img",
			"volume_type": "ssd", "availability_zone": "nova-vol",
			"metadata": {"saharagen_cluster": "cid", "saharagen_node_group": "master", "saharagen_instance": "bfv-master-0",
				"saharagen_boot_volume": "true"}}}`)
	}
	f.install(fs.Mux)
	cl, in := bootCluster()
	if err := c.SpawnInstances(context.Background(), cl, cl.Instances(), nil); err != nil {
		t.Fatal(err)
	}
	if in.CloudStatus != "ACTIVE" || len(in.Volumes) != 0 {
		t.Fatalf("instance %+v: want ACTIVE with no data volume (the boot volume is not one)", in)
	}
	if f.posts["/volume/volumes"] != 1 || f.posts["/compute/servers"] != 1 {
		t.Fatalf("creates %v", f.posts)
	}
}

// TestSpawnInstances_AdoptsTheBootVolumeOfAnEarlierAttempt: a boot volume
// of the instance exists (the previous apply died before booting): the
// server boots from it and no second volume is created.
func TestSpawnInstances_AdoptsTheBootVolumeOfAnEarlierAttempt(t *testing.T) {
	c, fs := fakeCloud(t)
	f := &fakeBootCloud{t: t, posts: map[string]int{}, serverBody: wantBootServer(t, "oldboot")}
	f.volumeBody = func(*http.Request) { t.Error("a second boot volume was created") }
	f.volumes = []map[string]any{
		{"id": "oldboot", "status": "downloading", "size": 40,
			"metadata": map[string]string{sahara.TagCluster: "cid", tagInstance: "bfv-master-0", tagBootVolume: "true"}},
	}
	f.install(fs.Mux)
	cl, in := bootCluster()
	if err := c.SpawnInstances(context.Background(), cl, cl.Instances(), nil); err != nil {
		t.Fatal(err)
	}
	if in.CloudStatus != "ACTIVE" || len(in.Volumes) != 0 || f.posts["/volume/volumes"] != 0 {
		t.Fatalf("instance %+v, creates %v", in, f.posts)
	}
}

// TestDeleteInstances_RemovesABootVolumeWithoutServer: a boot volume whose
// server was never created (the boot failed) is found by its metadata and
// deleted with its instance; another instance's boot volume stays.
func TestDeleteInstances_RemovesABootVolumeWithoutServer(t *testing.T) {
	c, fs := fakeCloud(t)
	var deleted []string
	fs.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch key := r.Method + " " + r.URL.Path; key {
		case "GET /compute/servers/detail":
			reply(w, 200, `{"servers": []}`)
		case "GET /network/v2.0/ports":
			reply(w, 200, `{"ports": []}`)
		case "GET /network/v2.0/floatingips":
			reply(w, 200, `{"floatingips": []}`)
		case "GET /volume/volumes/detail":
			reply(w, 200, `{"volumes": [
				{"id": "boot0", "status": "available", "metadata": {"saharagen_cluster": "cid", "saharagen_instance": "bfv-master-0", "saharagen_boot_volume": "true"}},
				{"id": "boot1", "status": "available", "metadata": {"saharagen_cluster": "cid", "saharagen_instance": "bfv-master-1", "saharagen_boot_volume": "true"}}]}`)
		case "DELETE /volume/volumes/boot0", "DELETE /volume/volumes/boot1":
			deleted = append(deleted, r.URL.Path)
			w.WriteHeader(202)
		default:
			t.Errorf("unexpected request %s", key)
			reply(w, 404, `{}`)
		}
	})
	cl, in := bootCluster()
	if err := c.DeleteInstances(context.Background(), cl, []*sahara.Instance{in}); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0] != "/volume/volumes/boot0" {
		t.Fatalf("deleted %v, want only the boot volume of bfv-master-0", deleted)
	}
}
