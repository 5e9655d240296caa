package openstack

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A server stuck deleting does not hold a deletion until the operation's
// deadline: past the delete timeout it fails naming the server, its status
// and task state, and the tag that lets the next deletion find it.
func TestDeleteCluster_ServerStuckDeletingFailsWithinTheDeleteTimeout(t *testing.T) {
	c, fs := fakeCloud(t)
	c.opts.deleteTimeout = 50 * time.Millisecond
	var deletes atomic.Int32
	fs.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch key := r.Method + " " + r.URL.Path; key {
		case "GET /compute/servers/detail":
			reply(w, 200, `{"servers": [{"id": "s1", "name": "demo-worker-0", "status": "ACTIVE", "OS-EXT-STS:task_state": "deleting",
				"metadata": {"saharagen_cluster": "cid"}}]}`)
		case "GET /network/v2.0/ports":
			reply(w, 200, `{"ports": []}`)
		case "GET /network/v2.0/floatingips":
			reply(w, 200, `{"floatingips": []}`)
		case "DELETE /compute/servers/s1":
			deletes.Add(1)
			w.WriteHeader(204)
		case "GET /compute/os-server-groups": // deleted meanwhile, with the keypair
			reply(w, 200, `{"server_groups": []}`)
		case "DELETE /compute/os-keypairs/saharagen-cid":
			reply(w, 404, `{}`)
		default:
			t.Errorf("unexpected request %s", key)
			reply(w, 404, `{}`)
		}
	})
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "demo"}}
	start := time.Now()
	err := c.DeleteCluster(context.Background(), cl)
	if err == nil {
		t.Fatal("the deletion of a server stuck deleting succeeded")
	}
	for _, want := range []string{"1 servers were not deleted within the delete timeout (50ms)",
		"demo-worker-0 (s1, status ACTIVE, task deleting)", "saharagen_cluster=cid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := deletes.Load(); n != 1 {
		t.Errorf("DELETE sent %d times, want once", n)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the deletion waited %s past a 50ms delete timeout", took)
	}
}

// A volume left in error_deleting by a failed deletion is deleted again,
// not waited for.
func TestDeleteInstances_VolumeInErrorDeletingIsDeletedAgain(t *testing.T) {
	c, fs := fakeCloud(t)
	c.opts.deleteTimeout = time.Minute
	gone := false
	fs.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch key := r.Method + " " + r.URL.Path; key {
		case "GET /compute/servers/detail":
			reply(w, 200, `{"servers": []}`)
		case "GET /network/v2.0/ports":
			reply(w, 200, `{"ports": []}`)
		case "GET /network/v2.0/floatingips":
			reply(w, 200, `{"floatingips": []}`)
		case "GET /volume/volumes/detail":
			if gone {
				reply(w, 200, `{"volumes": []}`)
				return
			}
			reply(w, 200, `{"volumes": [{"id": "v1", "status": "error_deleting", "metadata": {"saharagen_cluster": "cid", "saharagen_instance": "demo-worker-0"}}]}`)
		case "DELETE /volume/volumes/v1":
			gone = true
			w.WriteHeader(202)
		default:
			t.Errorf("unexpected request %s", key)
			reply(w, 404, `{}`)
		}
	})
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "demo"}}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", Count: 1})
	in := ng.NewInstance(0)
	ng.AddInstance(in)
	if err := c.DeleteInstances(context.Background(), cl, []*sahara.Instance{in}); err != nil {
		t.Fatal(err)
	}
	if !gone {
		t.Error("the volume in error_deleting was not deleted again")
	}
}
