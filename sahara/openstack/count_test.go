package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// fakeNova is a stateful Nova+Neutron subset: servers become ACTIVE after
// bootPolls list calls. It counts requests by kind.
type fakeNova struct {
	mu        sync.Mutex
	servers   map[string]map[string]any
	seq       int
	bootPolls int
	listCalls int
	requests  int
	posts     map[string]int
	ports     []map[string]any // existing ports, returned by every port list
	failLists map[int]bool     // server list calls (1-based) answered with 500
}

func (f *fakeNova) install(t testing.TB, mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		if r.Method == "POST" {
			if f.posts == nil {
				f.posts = map[string]int{}
			}
			f.posts[r.URL.Path]++
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/network/v2.0/ports":
			f.seq++
			reply(w, 201, fmt.Sprintf(`{"port": {"id": "port-%d", "fixed_ips": [{"ip_address": "10.0.0.%d"}]}}`, f.seq, f.seq%250+2))
		case r.Method == "GET" && r.URL.Path == "/network/v2.0/ports":
			b, _ := json.Marshal(map[string]any{"ports": append([]map[string]any{}, f.ports...)})
			reply(w, 200, string(b))
		case r.Method == "GET" && r.URL.Path == "/compute/flavors/f":
			reply(w, 200, `{"flavor": {"id": "f", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}}`)
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/tags"):
			reply(w, 200, `{"tags": []}`)
		case r.Method == "POST" && r.URL.Path == "/compute/servers":
			var body struct {
				Server struct {
					Name     string            `json:"name"`
					Metadata map[string]string `json:"metadata"`
				} `json:"server"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			f.seq++
			id := newUUID()
			f.servers[id] = map[string]any{"id": id, "name": body.Server.Name, "metadata": body.Server.Metadata,
				"status": "BUILD", "polls": 0, "ip": fmt.Sprintf("10.0.0.%d", f.seq%250+2)}
			reply(w, 202, fmt.Sprintf(`{"server": {"id": %q}}`, id))
		case r.Method == "GET" && r.URL.Path == "/compute/servers/detail":
			f.listCalls++
			if f.failLists[f.listCalls] {
				reply(w, 500, `{"computeFault": {"code": 500, "message": "Unexpected API Error."}}`)
				return
			}
			list := []map[string]any{}
			for _, s := range f.servers {
				s["polls"] = s["polls"].(int) + 1
				out := map[string]any{"id": s["id"], "name": s["name"], "metadata": s["metadata"], "status": "BUILD"}
				if strings.Contains(s["name"].(string), "fault") && s["polls"].(int) > 1 {
					out["status"] = "ERROR"
					out["fault"] = map[string]any{"code": 500, "message": "No valid host was found. There are not enough hosts available."}
				} else if s["polls"].(int) > f.bootPolls {
					out["status"] = "ACTIVE"
					out["addresses"] = map[string]any{"net": []any{map[string]any{"addr": s["ip"], "version": 4, "OS-EXT-IPS:type": "fixed"}}}
				}
				list = append(list, out)
			}
			b, _ := json.Marshal(map[string]any{"servers": list})
			reply(w, 200, string(b))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			reply(w, 404, `{}`)
		}
	})
}

func spawnCount(t testing.TB, n int) (requests, listCalls int) {
	c, fs := fakeCloud(t)
	f := &fakeNova{servers: map[string]map[string]any{}, bootPolls: 3}
	f.install(t, fs.Mux)
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c", DefaultImageID: "22222222-3333-4444-5555-666666666666",
		NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}, ManagementPublicKey: "ssh-ed25519 AAAA"}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "ng", FlavorID: "f", Count: n})
	ng.ImageUsername = "ubuntu"
	for i := 0; i < n; i++ {
		ng.AddInstance(ng.NewInstance(i))
	}
	if err := c.SpawnInstances(context.Background(), cl, cl.Instances(), nil); err != nil {
		t.Fatalf("N=%d: %v", n, err)
	}
	for _, in := range cl.Instances() {
		if in.CloudStatus != "ACTIVE" || in.InternalIP == "" {
			t.Fatalf("N=%d: %s status %q ip %q", n, in.InstanceName, in.CloudStatus, in.InternalIP)
		}
	}
	return f.requests, f.listCalls
}

// TestSpawnInstances_RequestsGrowLinearly: port create + port tag + server
// create per server, two port lists (leftovers of an earlier attempt), one
// flavor read (in an engine run, Validating has read it already) and server
// list calls that do not depend on N.
func TestSpawnInstances_RequestsGrowLinearly(t *testing.T) {
	for _, n := range []int{1, 5, 10, 20} {
		total, polls := spawnCount(t, n)
		t.Logf("N=%2d: %3d requests, %d of them server list polls", n, total, polls)
		if want := 3*n + polls + 3; total != want {
			t.Errorf("N=%d: %d requests, want 3 per server + %d server lists + 2 port lists + 1 flavor = %d", n, total, polls, want)
		}
		if polls > 6 {
			t.Errorf("N=%d: %d list polls for servers active after 3 polls each", n, polls)
		}
	}
}

// BenchmarkSpawnInstances reports requests per spawned server (fake cloud).
func BenchmarkSpawnInstances(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var total, polls int
			for i := 0; i < b.N; i++ {
				r, p := spawnCount(b, n)
				total += r
				polls += p
			}
			b.ReportMetric(float64(total)/float64(b.N*n), "requests/server")
			b.ReportMetric(float64(polls)/float64(b.N), "listpolls/op")
		})
	}
}

func TestSpawnInstances_ErrorServerFailsWithFaultAndName(t *testing.T) {
	c, fs := fakeCloud(t)
	f := &fakeNova{servers: map[string]map[string]any{}, bootPolls: 2}
	f.install(t, fs.Mux)
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c", DefaultImageID: "22222222-3333-4444-5555-666666666666",
		NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}, ManagementPublicKey: "ssh-ed25519 AAAA"}
	good := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "good", FlavorID: "f", Count: 2})
	bad := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "fault", FlavorID: "f", Count: 1})
	for _, ng := range []*sahara.NodeGroup{good, bad} {
		ng.ImageUsername = "ubuntu"
		for i := 0; i < ng.Count; i++ {
			ng.AddInstance(ng.NewInstance(i))
		}
	}
	var order []string
	err := c.SpawnInstances(context.Background(), cl, cl.Instances(), func(in *sahara.Instance, err error) {
		order = append(order, fmt.Sprintf("%s:%v", in.InstanceName, err != nil))
	})
	if err == nil || !strings.Contains(err.Error(), "c-fault-0") || !strings.Contains(err.Error(), "No valid host was found") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "c-good") {
		t.Fatalf("healthy instances reported as failed: %v", err)
	}
	// the failure is reported first, as soon as Nova shows it
	if len(order) != 3 || order[0] != "c-fault-0:true" {
		t.Fatalf("progress order %v", order)
	}
	if bad.Instances[0].CloudStatus != "ERROR" || good.Instances[0].Phase != sahara.InstanceSpawned {
		t.Fatalf("statuses %q %q", bad.Instances[0].CloudStatus, good.Instances[0].Phase)
	}
}

// TestSpawnInstances_AdoptsWhatAnInterruptedAttemptLeft: a server and a
// port of the same names exist (the previous apply died before recording
// them): they are reused, not duplicated.
func TestSpawnInstances_AdoptsWhatAnInterruptedAttemptLeft(t *testing.T) {
	c, fs := fakeCloud(t)
	f := &fakeNova{servers: map[string]map[string]any{}, bootPolls: 1}
	f.install(t, fs.Mux)
	oldID := newUUID()
	f.servers[oldID] = map[string]any{"id": oldID, "name": "c-ng-0", "metadata": map[string]string{sahara.TagCluster: "cid"},
		"status": "BUILD", "polls": 0, "ip": "10.0.0.99"}
	f.ports = []map[string]any{
		{"id": "old-port", "name": "c-ng-0", "device_id": oldID, "tags": []string{"saharagen_cluster=cid"}, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.99"}}},
		{"id": "old-port-2", "name": "c-ng-1", "tags": []string{}, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.98"}}},
	}
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c", DefaultImageID: "22222222-3333-4444-5555-666666666666",
		NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}, ManagementPublicKey: "ssh-ed25519 AAAA"}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "ng", FlavorID: "f", Count: 3})
	ng.ImageUsername = "ubuntu"
	for i := 0; i < 3; i++ {
		ng.AddInstance(ng.NewInstance(i))
	}
	if err := c.SpawnInstances(context.Background(), cl, cl.Instances(), nil); err != nil {
		t.Fatal(err)
	}
	if ng.Instances[0].InstanceID != oldID || ng.Instances[0].InternalIP != "10.0.0.99" {
		t.Fatalf("server not adopted: %+v", ng.Instances[0])
	}
	if f.posts["/compute/servers"] != 2 || f.posts["/network/v2.0/ports"] != 1 {
		t.Fatalf("creates %v: want 2 servers and 1 port", f.posts)
	}
}

func TestSpawnInstances_ToleratesTransientListFailures(t *testing.T) {
	c, fs := fakeCloud(t)
	f := &fakeNova{servers: map[string]map[string]any{}, bootPolls: 2, failLists: map[int]bool{2: true, 3: true}}
	f.install(t, fs.Mux)
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c", DefaultImageID: "22222222-3333-4444-5555-666666666666",
		NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}, ManagementPublicKey: "ssh-ed25519 AAAA"}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "ng", FlavorID: "f", Count: 2})
	ng.ImageUsername = "ubuntu"
	for i := 0; i < 2; i++ {
		ng.AddInstance(ng.NewInstance(i))
	}
	if err := c.SpawnInstances(context.Background(), cl, cl.Instances(), nil); err != nil {
		t.Fatalf("two failed polls in a row aborted the spawn: %v", err)
	}
	f.failLists = map[int]bool{}
	for i := f.listCalls + 1; i < f.listCalls+20; i++ {
		f.failLists[i] = true
	}
	if err := c.RefreshInstances(context.Background(), cl); err == nil {
		t.Fatal("a failing list passed unnoticed")
	}
}
