package heat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara/heat"
)

// fakeHeat answers Heat's stack API, Nova's server list, Neutron's subnet
// list and Cinder's volume list for one stack. A ResourceGroup behaves as
// Heat's: members are the count lowest indexes not removed before
// (removal_policies append to the group's blacklist).
type fakeHeat struct {
	mu        sync.Mutex
	t         *testing.T
	name, id  string
	tags      []string
	status    string
	updated   int
	template  map[string]any
	blacklist map[string][]int // node group → retired indexes
	members   map[string][]int // node group → member indexes
	bodies    []map[string]any // create and update bodies, in order
	requests  []string
	// fail makes the next operation end in <op>_FAILED with a failed server.
	fail bool
	// conflicts is how many updates to refuse with 409 (Heat busy).
	conflicts int
}

func newFakeHeat(t *testing.T) (*fakeHeat, *httptest.Server) {
	f := &fakeHeat{t: t, blacklist: map[string][]int{}, members: map[string][]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeHeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	switch {
	case parts[0] == "orchestration":
		f.orchestration(w, r, parts[1:], reply)
	case r.URL.Path == "/compute/servers/detail":
		if !strings.HasPrefix(r.URL.Query().Get("name"), "^demo-") {
			f.t.Errorf("server list filter %q", r.URL.Query().Get("name"))
		}
		var list []any
		for _, ng := range slices.Sorted(mapsKeys(f.members)) {
			for _, i := range f.members[ng] {
				list = append(list, map[string]any{
					"id": serverID(ng, i), "name": fmt.Sprintf("demo-%s-%d", ng, i), "status": "ACTIVE",
					"addresses": map[string]any{"private": []any{map[string]any{"addr": fmt.Sprintf("10.0.%d.%d", len(ng), i+10), "OS-EXT-IPS:type": "fixed", "version": 4}}},
				})
			}
		}
		reply(200, map[string]any{"servers": list})
	case r.URL.Path == "/network/v2.0/subnets":
		reply(200, map[string]any{"subnets": []any{map[string]any{"id": "s1", "cidr": "10.0.0.0/24", "network_id": r.URL.Query().Get("network_id")}}})
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		reply(404, nil)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func serverID(ng string, i int) string { return fmt.Sprintf("srv-%s-%d", ng, i) }

func (f *fakeHeat) orchestration(w http.ResponseWriter, r *http.Request, p []string, reply func(int, any)) {
	exists := f.name != "" && f.status != "DELETE_COMPLETE"
	switch {
	case r.Method == http.MethodPost && len(p) == 1:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.bodies = append(f.bodies, body)
		f.name, f.id, f.status = body["stack_name"].(string), "stack-id-1", "CREATE_IN_PROGRESS"
		f.tags = strings.Split(body["tags"].(string), ",")
		f.apply(body)
		reply(201, map[string]any{"stack": map[string]any{"id": f.id}})
	case r.Method == http.MethodGet && len(p) == 2:
		if !exists || p[1] != f.name {
			reply(404, map[string]any{"error": "not found"})
			return
		}
		http.Redirect(w, r, "/orchestration/stacks/"+f.name+"/"+f.id, http.StatusFound)
	case r.Method == http.MethodGet && len(p) == 3:
		if !exists {
			reply(404, nil)
			return
		}
		// Each read moves an operation in progress to its end.
		if op, ok := strings.CutSuffix(f.status, "_IN_PROGRESS"); ok {
			f.status = op + "_COMPLETE"
			if f.fail {
				f.status, f.fail = op+"_FAILED", false
			}
		}
		reply(200, map[string]any{"stack": f.stack()})
	case r.Method == http.MethodPut && len(p) == 3 && f.conflicts > 0:
		f.conflicts--
		reply(409, map[string]any{"error": "stack is busy"})
	case r.Method == http.MethodPut && len(p) == 3:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.bodies = append(f.bodies, body)
		f.status = "UPDATE_IN_PROGRESS"
		f.updated++
		f.apply(body)
		reply(202, nil)
	case r.Method == http.MethodDelete && len(p) == 3:
		f.status = "DELETE_COMPLETE"
		f.members = map[string][]int{}
		reply(204, nil)
	case r.Method == http.MethodGet && len(p) == 4 && p[3] == "resources":
		if r.URL.Query().Get("nested_depth") == "" {
			f.t.Errorf("resources listed without nested_depth")
		}
		reply(200, map[string]any{"resources": []any{
			map[string]any{"resource_name": "worker", "resource_type": "OS::Heat::ResourceGroup", "resource_status": "CREATE_FAILED", "resource_status_reason": "resources.worker: resources[2]: went wrong"},
			map[string]any{"resource_name": "inst", "resource_type": "OS::Nova::Server", "resource_status": "CREATE_FAILED", "resource_status_reason": "ResourceInError: resources.inst: Went to status ERROR due to \"No valid host was found\""},
		}})
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		reply(404, nil)
	}
}

// apply runs a template as Heat's ResourceGroups would.
func (f *fakeHeat) apply(body map[string]any) {
	if err := json.Unmarshal([]byte(body["template"].(string)), &f.template); err != nil {
		f.t.Fatalf("template: %v", err)
	}
	for name, r := range f.template["resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["type"] != "OS::Heat::ResourceGroup" {
			continue
		}
		props := res["properties"].(map[string]any)
		for _, pol := range props["removal_policies"].([]any) {
			for _, idx := range pol.(map[string]any)["resource_list"].([]any) {
				n, _ := strconv.Atoi(idx.(string))
				if slices.Contains(f.members[name], n) {
					f.blacklist[name] = append(f.blacklist[name], n)
				}
			}
		}
		f.members[name] = heat.MemberIndexes(int(props["count"].(float64)), f.blacklist[name])
	}
}

func (f *fakeHeat) stack() map[string]any {
	var outputs []any
	for ng, idx := range f.members {
		var list []any
		for _, i := range idx {
			list = append(list, map[string]any{"physical_id": serverID(ng, i), "name": fmt.Sprintf("demo-%s-%d", ng, i)})
		}
		outputs = append(outputs, map[string]any{"output_key": ng + "-instances", "output_value": list})
	}
	st := map[string]any{
		"id": f.id, "stack_name": f.name, "stack_status": f.status, "tags": f.tags, "outputs": outputs,
		"stack_status_reason": "Resource CREATE failed: ResourceInError: resources.worker.resources[2].resources.inst",
		"creation_time":       "2024-05-01T10:00:00Z",
	}
	if f.updated > 0 {
		st["updated_time"] = time.Date(2024, 5, 1, 11, f.updated, 0, 0, time.UTC).Format(time.RFC3339)
	}
	return st
}

// testCloud is the direct engine's part: the in-memory fake plus service
// clients pointed at the fake Heat, by the name cloud.example.org (a cloud
// whose endpoints servers can reach) unless loopback.
type testCloud struct {
	*fake.Infra
	url      string
	loopback bool
}

func (c testCloud) ServiceClient(_ context.Context, svc string) (*gophercloud.ServiceClient, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, err
	}
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{}}
	base := c.url
	if !c.loopback {
		base = "http://cloud.example.org:" + u.Port()
		pc.HTTPClient.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, u.Host)
		}}
	}
	pc.SetToken("token")
	sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base + "/" + svc + "/"}
	if svc == "network" {
		sc.ResourceBase = sc.Endpoint + "v2.0/"
	}
	return sc, nil
}

func (c testCloud) ServiceHostEntry(context.Context, string) (string, error) {
	return "192.0.2.12 heat.example.org", nil
}

func newInfra(t *testing.T) (*heat.Infra, *fakeHeat) {
	f, srv := newFakeHeat(t)
	return heat.New(testCloud{Infra: fake.NewInfra(), url: srv.URL}, heat.WithPollInterval(time.Millisecond)), f
}

// demoCluster: master ×1, worker ×3, planned as the engine plans them.
func demoCluster() (*sahara.Cluster, []*sahara.Instance) {
	c := &sahara.Cluster{ID: "ee532602-6493-50b3-b610-469f23a1719a", ClusterSpec: sahara.ClusterSpec{
		Name: "demo", NeutronManagementNetwork: "private-net-id", DefaultImageID: "image-1",
	}}
	c.ManagementPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 saharagen\n"
	var planned []*sahara.Instance
	for _, spec := range []sahara.NodeGroupSpec{
		{Name: "master", FlavorID: "42", NodeProcesses: []string{"namenode"}, Count: 1, AutoSecurityGroup: true},
		{Name: "worker", FlavorID: "42", NodeProcesses: []string{"datanode"}, Count: 3},
	} {
		ng := c.AddNodeGroup(spec)
		ng.ImageUsername = "ubuntu"
		for _, i := range ng.FreeIndexes(spec.Count) {
			in := ng.NewInstance(i)
			ng.AddInstance(in)
			planned = append(planned, in)
		}
	}
	return c, planned
}

func TestInfra_SpawnCreatesOneTaggedStackAndFillsInstances(t *testing.T) {
	infra, f := newInfra(t)
	c, planned := demoCluster()
	var ok []string
	err := infra.SpawnInstances(context.Background(), c, planned, func(in *sahara.Instance, err error) {
		if err == nil {
			ok = append(ok, in.InstanceName)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bodies) != 1 || f.bodies[0]["stack_name"] != "demoee532602" {
		t.Fatalf("want one stacks.create of demoee532602, got %d bodies", len(f.bodies))
	}
	b := f.bodies[0]
	if b["tags"] != "data-processing-cluster,saharagen_cluster="+c.ID || b["disable_rollback"] != true || b["timeout_mins"] != float64(180) {
		t.Errorf("create body tags %v disable_rollback %v timeout %v", b["tags"], b["disable_rollback"], b["timeout_mins"])
	}
	files := b["files"].(map[string]any)
	if _, ok := files["file://worker.yaml"].(string); !ok {
		t.Errorf("files sent %v", slices.Sorted(mapsKeys(files)))
	}
	// The wait-condition hosts line and the private CIDR reached the template.
	if !strings.Contains(files["file://master.yaml"].(string), `echo '192.0.2.12 heat.example.org\n' | sudo tee -a /etc/hosts`) {
		t.Error("master user data lacks the orchestration hosts line")
	}
	if !strings.Contains(b["template"].(string), `"remote_ip_prefix":"10.0.0.0/24"`) {
		t.Error("auto security group lacks the management subnet's CIDR")
	}
	for _, in := range planned {
		if in.InstanceID != serverID(in.NodeGroup().Name, in.Index) || in.InternalIP == "" || in.CloudStatus != "ACTIVE" {
			t.Errorf("%s: id %q ip %q status %q", in.InstanceName, in.InstanceID, in.InternalIP, in.CloudStatus)
		}
	}
	if len(ok) != 4 {
		t.Errorf("progress reported %v", ok)
	}
	servers := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, "GET /compute/servers") {
			servers++
		}
	}
	if servers != 1 {
		t.Errorf("%d Nova list calls, want 1", servers)
	}
}

func TestInfra_ResumeAdoptsTheExistingStack(t *testing.T) {
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.SpawnInstances(context.Background(), c, planned, nil); err != nil {
		t.Fatal(err)
	}
	// An interrupted run: the record lost the server IDs.
	for _, in := range planned {
		in.InstanceID = ""
	}
	if err := infra.SpawnInstances(context.Background(), c, planned, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.bodies) != 2 || f.bodies[1]["stack_name"] != nil {
		t.Fatalf("the second run must update the stack, not create another: %d bodies", len(f.bodies))
	}
	if f.bodies[1]["disable_rollback"] != false {
		t.Error("an update leaves rollback to Heat")
	}
	for _, in := range planned {
		if in.InstanceID == "" {
			t.Errorf("%s not adopted", in.InstanceName)
		}
	}
}

func TestInfra_ForeignStackIsNotAdopted(t *testing.T) {
	infra, f := newInfra(t)
	c, planned := demoCluster()
	f.name, f.id, f.status, f.tags = "demoee532602", "other", "CREATE_COMPLETE", []string{"data-processing-cluster"}
	err := infra.SpawnInstances(context.Background(), c, planned, nil)
	if err == nil || !strings.Contains(err.Error(), "not this cluster's") {
		t.Fatalf("got %v", err)
	}
}

func TestInfra_ScaleDownThenUpFollowsHeatsIndexes(t *testing.T) {
	ctx := context.Background()
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.SpawnInstances(ctx, c, planned, nil); err != nil {
		t.Fatal(err)
	}
	w := c.NodeGroup("worker")
	victim := w.Instances[0] // demo-worker-0, as a user names it
	if err := infra.DeleteInstances(ctx, c, []*sahara.Instance{victim}); err != nil {
		t.Fatal(err)
	}
	rg := lastGroup(t, f, "worker")
	if rg["count"] != float64(2) || !reflect.DeepEqual(rg["removal_policies"], []any{map[string]any{"resource_list": []any{"0"}}}) {
		t.Errorf("scale-down update: %v", rg)
	}
	if victim.CloudStatus != sahara.CloudStatusMissing {
		t.Error("victim not marked missing")
	}
	w.RemoveInstance(victim)
	// The engine plans the freed index 0; Heat never reuses it and makes 3.
	in := w.NewInstance(w.FreeIndexes(1)[0])
	w.AddInstance(in)
	if err := infra.SpawnInstances(ctx, c, []*sahara.Instance{in}, nil); err != nil {
		t.Fatal(err)
	}
	if in.InstanceName != "demo-worker-3" || in.Index != 3 || in.InstanceID != serverID("worker", 3) {
		t.Errorf("new instance %s index %d id %s, want Heat's demo-worker-3", in.InstanceName, in.Index, in.InstanceID)
	}
	if rg := lastGroup(t, f, "worker"); rg["count"] != float64(3) || len(rg["removal_policies"].([]any)) != 0 {
		t.Errorf("scale-up update: %v", rg)
	}
}

// lastGroup is a ResourceGroup's properties in the last template sent.
func lastGroup(t *testing.T, f *fakeHeat, ng string) map[string]any {
	t.Helper()
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(f.bodies[len(f.bodies)-1]["template"].(string)), &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl["resources"].(map[string]any)[ng].(map[string]any)["properties"].(map[string]any)
}

func TestInfra_FailedStackCarriesHeatsReason(t *testing.T) {
	infra, f := newInfra(t)
	c, planned := demoCluster()
	f.fail = true
	var failed int
	err := infra.SpawnInstances(context.Background(), c, planned, func(_ *sahara.Instance, err error) {
		if err != nil {
			failed++
		}
	})
	var se *heat.StackError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a StackError", err)
	}
	if se.Status != "CREATE_FAILED" || len(se.Resources) != 1 || !strings.Contains(se.Resources[0], "No valid host was found") {
		t.Errorf("error %v", err)
	}
	if failed != len(planned) {
		t.Errorf("%d instances reported failed, want %d", failed, len(planned))
	}
}

func TestInfra_DeleteClusterDeletesTheStackThenSweeps(t *testing.T) {
	ctx := context.Background()
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.SpawnInstances(ctx, c, planned, nil); err != nil {
		t.Fatal(err)
	}
	if err := infra.DeleteCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	if f.status != "DELETE_COMPLETE" || !slices.Contains(f.requests, "DELETE /orchestration/stacks/demoee532602/stack-id-1") {
		t.Errorf("stack not deleted: %s", f.status)
	}
	// Safe to run twice: no stack is done.
	if err := infra.DeleteCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func TestInfra_RefreshReadsTheStacksServers(t *testing.T) {
	ctx := context.Background()
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.SpawnInstances(ctx, c, planned, nil); err != nil {
		t.Fatal(err)
	}
	gone := c.NodeGroup("worker").Instances[1]
	f.mu.Lock()
	f.members["worker"] = slices.DeleteFunc(f.members["worker"], func(i int) bool { return i == gone.Index })
	f.mu.Unlock()
	for _, in := range planned {
		in.CloudStatus = ""
	}
	if err := infra.RefreshInstances(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, in := range planned {
		want := "ACTIVE"
		if in == gone {
			want = sahara.CloudStatusMissing
		}
		if in.CloudStatus != want {
			t.Errorf("%s: status %q, want %q", in.InstanceName, in.CloudStatus, want)
		}
	}
}

func TestInfra_UpdateWaitsWhileHeatIsBusy(t *testing.T) {
	ctx := context.Background()
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.SpawnInstances(ctx, c, planned, nil); err != nil {
		t.Fatal(err)
	}
	f.conflicts = 1
	victim := c.NodeGroup("worker").Instances[2]
	if err := infra.DeleteInstances(ctx, c, []*sahara.Instance{victim}); err != nil {
		t.Fatal(err)
	}
	puts := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, "PUT ") {
			puts++
		}
	}
	if puts != 2 || f.members["worker"][len(f.members["worker"])-1] != 1 {
		t.Errorf("%d updates sent (want the refused one and its retry), workers %v", puts, f.members["worker"])
	}
	f.conflicts = 5
	err := infra.DeleteInstances(ctx, c, []*sahara.Instance{c.NodeGroup("worker").Instances[1]})
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("a stack busy for good: got %v, want the 409", err)
	}
}

// A cloud whose orchestration endpoint is a loopback address (a test cloud
// on one machine): no server could signal a wait condition, so the stack
// has none and no hosts line.
func TestInfra_LoopbackEndpointMeansNoWaitCondition(t *testing.T) {
	f, srv := newFakeHeat(t)
	infra := heat.New(testCloud{Infra: fake.NewInfra(), url: srv.URL, loopback: true}, heat.WithPollInterval(time.Millisecond))
	c, planned := demoCluster()
	if err := infra.SpawnInstances(context.Background(), c, planned, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.bodies) != 1 {
		t.Fatalf("%d stack bodies, want 1", len(f.bodies))
	}
	all := f.bodies[0]["template"].(string)
	for _, v := range f.bodies[0]["files"].(map[string]any) {
		all += v.(string)
	}
	for _, unwanted := range []string{"OS::Heat::WaitCondition", "wc_notify", "/etc/hosts"} {
		if strings.Contains(all, unwanted) {
			t.Errorf("the stack has %q with a loopback orchestration endpoint", unwanted)
		}
	}
}

// A roll would change every member of a group in one stack update: the
// engine refuses it before anything changes.
func TestInfra_RefusesRolls(t *testing.T) {
	infra, _ := newInfra(t)
	c, _ := demoCluster()
	if err := infra.RefuseRoll(c, "worker"); err == nil || !strings.Contains(err.Error(), "Heat engine cannot replace") {
		t.Errorf("RefuseRoll = %v", err)
	}
}

// A change of an auto security group's CIDRs on a running cluster
// (Engine.SetAutoSecurityGroupCIDRs calls PrepareCluster) is a stack
// update with the same members and the new rules; before the stack exists
// PrepareCluster sends nothing.
func TestInfra_PrepareUpdatesTheStackOfARunningCluster(t *testing.T) {
	infra, f := newInfra(t)
	c, planned := demoCluster()
	if err := infra.PrepareCluster(context.Background(), c); err != nil || len(f.bodies) != 0 {
		t.Fatalf("PrepareCluster before the stack: %v, %d requests with bodies", err, len(f.bodies))
	}
	if err := infra.SpawnInstances(context.Background(), c, planned, nil); err != nil {
		t.Fatal(err)
	}
	for _, in := range planned {
		in.NodeGroup().Instances = append(in.NodeGroup().Instances, in)
	}
	c.NodeGroup("master").OpenPorts = []int{50070}
	c.NodeGroup("master").AutoSecurityGroupCIDRs = []string{"198.51.100.0/24"}
	if err := infra.PrepareCluster(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(f.bodies) != 2 {
		t.Fatalf("%d stack bodies, want a create and an update", len(f.bodies))
	}
	up := f.bodies[1]["template"].(string)
	for _, v := range f.bodies[1]["files"].(map[string]any) {
		up += v.(string)
	}
	if !strings.Contains(up, "198.51.100.0/24") {
		t.Error("the update lacks the new CIDR")
	}
	for _, ng := range []string{"master", "worker"} {
		if want := len(c.NodeGroup(ng).Instances); len(f.members[ng]) != want {
			t.Errorf("group %s has %d members after the update, want %d", ng, len(f.members[ng]), want)
		}
	}
}
