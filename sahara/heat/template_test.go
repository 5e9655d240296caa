package heat_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/heat"
)

// testCluster is a small cluster: one master, workers running datanode.
func testCluster(workers int) *sahara.Cluster {
	c := &sahara.Cluster{ID: "0123456789abcdef", ClusterSpec: sahara.ClusterSpec{
		Name: "Demo", NeutronManagementNetwork: "net", DefaultImageID: "img",
	}}
	c.ManagementPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 saharagen\n"
	m := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "master", FlavorID: "2", NodeProcesses: []string{"namenode"}, Count: 1})
	m.ImageUsername = "ubuntu"
	m.AddInstance(m.NewInstance(0))
	w := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", FlavorID: "2", NodeProcesses: []string{"datanode"}, Count: workers})
	w.ImageUsername = "ubuntu"
	for i := range workers {
		w.AddInstance(w.NewInstance(i))
	}
	return c
}

func resourceGroupProps(t *testing.T, st *heat.Stack, ng string) map[string]any {
	t.Helper()
	rg := st.Template["resources"].(map[string]any)[ng].(map[string]any)
	return rg["properties"].(map[string]any)
}

func servGroups(t *testing.T, st *heat.Stack, ng string) []string {
	t.Helper()
	def := resourceGroupProps(t, st, ng)["resource_def"].(map[string]any)
	list, _ := def["properties"].(map[string]any)["servgroups"].([]any)
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)["get_resource"].(string))
	}
	return out
}

// Sahara sizes servgroups by count; after a scale-down removed index 2 a
// scale-up to 3 members gets index 3 from Heat, past Sahara's list.
func TestGenerate_ServerGroupsCoverRetiredIndexes(t *testing.T) {
	c := testCluster(2)
	c.AntiAffinity, c.AntiAffinityRatio = []string{"datanode"}, 2
	st, err := heat.Generate(heat.Request{Cluster: c, Update: true, Groups: map[string]heat.GroupChange{
		"master": {Count: 1},
		"worker": {Count: 3, Retired: []int{2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// master takes group 2, then workers continue the round robin over
	// indexes 0..3 (index 2 is never used but keeps the positions).
	if got, want := servGroups(t, st, "master"), []string{"demo-aa-group-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("master servgroups %v, want %v", got, want)
	}
	want := []string{"demo-aa-group-1", "demo-aa-group-2", "demo-aa-group-1", "demo-aa-group-2"}
	if got := servGroups(t, st, "worker"); !reflect.DeepEqual(got, want) {
		t.Errorf("worker servgroups %v, want %v (one per index up to 3)", got, want)
	}
	if got := heat.MemberIndexes(3, []int{2}); !reflect.DeepEqual(got, []int{0, 1, 3}) {
		t.Errorf("MemberIndexes = %v", got)
	}
}

func TestGenerate_RemovalPoliciesInGivenOrder(t *testing.T) {
	c := testCluster(4)
	st, err := heat.Generate(heat.Request{Cluster: c, Update: true, Groups: map[string]heat.GroupChange{
		"master": {Count: 1},
		"worker": {Count: 2, Remove: []string{"demo-worker-1", "demo-worker-3"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	props := resourceGroupProps(t, st, "worker")
	want := []any{map[string]any{"resource_list": []any{"1", "3"}}}
	if !reflect.DeepEqual(props["removal_policies"], want) || props["count"] != 2 {
		t.Errorf("worker group %v", props)
	}
	if st.DisableRollback {
		t.Error("an update must leave rollback to Heat")
	}
	if got := resourceGroupProps(t, st, "master")["removal_policies"]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("master removal policies %v, want []", got)
	}
}

// Sahara's external Designate records refer to floating_ip even in groups
// without a floating IP pool.
func TestGenerate_DesignateExternalRecordsOnlyWithFloatingIP(t *testing.T) {
	c := testCluster(1)
	c.DomainName = "example.org."
	c.NodeGroup("worker").FloatingIPPool = "public"
	st, err := heat.Generate(heat.Request{Cluster: c, Env: heat.Environment{Designate: true}})
	if err != nil {
		t.Fatal(err)
	}
	for file, wantExternal := range map[string]bool{"file://master.yaml": false, "file://worker.yaml": true} {
		res := st.Files[file]["resources"].(map[string]any)
		_, ext := res["external_designate_record"]
		_, extRev := res["external_designate_reverse_record"]
		_, internal := res["internal_designate_record"]
		_, fip := res["floating_ip"]
		if ext != wantExternal || extRev != wantExternal || !internal || fip != wantExternal {
			t.Errorf("%s: external %v/%v internal %v floating_ip %v", file, ext, extRev, internal, fip)
		}
	}
}

func TestGenerate_BootVolumeHasNoUndeclaredParameter(t *testing.T) {
	c := testCluster(1)
	w := c.NodeGroup("worker")
	w.BootFromVolume, w.BootVolumeLocalToInstance = true, true
	st, err := heat.Generate(heat.Request{Cluster: c, Env: heat.Environment{FlavorDisks: map[string]int{"2": 20}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st.Files["file://worker.yaml"])
	if strings.Contains(string(b), `"get_param":"instance"`) {
		t.Errorf("worker template refers to the undeclared parameter instance: %s", b)
	}
	c.NodeGroup("worker").FlavorID = "unknown"
	if _, err := heat.Generate(heat.Request{Cluster: c}); !errors.Is(err, heat.ErrNoFlavor) {
		t.Errorf("unknown flavor: %v", err)
	}
}

func TestGenerate_RefusesShellMetacharacters(t *testing.T) {
	for name, mutate := range map[string]func(*sahara.Cluster, *heat.Environment){
		"key":   func(c *sahara.Cluster, _ *heat.Environment) { c.ManagementPublicKey = "ssh-rsa AAAA\"; rm -rf /" },
		"user":  func(c *sahara.Cluster, _ *heat.Environment) { c.NodeGroup("worker").ImageUsername = "u$(id)" },
		"hosts": func(_ *sahara.Cluster, e *heat.Environment) { e.HostsEntry = "1.2.3.4 h' ; id ; '\n" },
	} {
		c := testCluster(1)
		var env heat.Environment
		mutate(c, &env)
		if _, err := heat.Generate(heat.Request{Cluster: c, Env: env}); !errors.Is(err, heat.ErrUnsafeValue) {
			t.Errorf("%s: got %v, want ErrUnsafeValue", name, err)
		}
	}
}

func TestGenerate_RestrictOpenPorts(t *testing.T) {
	c := testCluster(1)
	m := c.NodeGroup("master")
	m.AutoSecurityGroup, m.OpenPorts, m.AutoSecurityGroupCIDRs = true, []int{9870}, []string{"192.0.2.0/24"}
	st, err := heat.Generate(heat.Request{Cluster: c, Env: heat.Environment{RestrictOpenPorts: true, PrivateCIDRs: []string{"10.0.0.0/24"}}})
	if err != nil {
		t.Fatal(err)
	}
	sg := st.Template["resources"].(map[string]any)[heat.AutoSecurityGroupName(c, m)].(map[string]any)
	var got []string
	for _, r := range sg["properties"].(map[string]any)["rules"].([]any) {
		r := r.(map[string]any)
		got = append(got, r["remote_ip_prefix"].(string)+" "+r["protocol"].(string)+" "+r["port_range_min"].(string))
	}
	want := []string{"192.0.2.0/24 tcp 9870", "0.0.0.0/0 tcp 22", "::/0 tcp 22", "10.0.0.0/24 tcp 1", "10.0.0.0/24 udp 1", "10.0.0.0/24 icmp 0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}
