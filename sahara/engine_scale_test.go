package sahara_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

var (
	scaleUpStatuses   = statusList(sahara.StatusValidating, sahara.StatusScaling, sahara.StatusAddingInstances, sahara.StatusConfiguring, sahara.StatusActive)
	scaleDownStatuses = statusList(sahara.StatusValidating, sahara.StatusScaling, sahara.StatusDecommissioning, sahara.StatusActive)
	scaleBothStatuses = statusList(sahara.StatusValidating, sahara.StatusScaling, sahara.StatusAddingInstances, sahara.StatusConfiguring, sahara.StatusDecommissioning, sahara.StatusActive)
)

func counts(c *sahara.Cluster) map[string]int {
	out := map[string]int{}
	for _, ng := range c.NodeGroups {
		out[ng.Name] = ng.Count
	}
	return out
}

// checkHostsEverywhere asserts every instance's /etc/hosts lists exactly the
// cluster's instances.
func checkHostsEverywhere(t *testing.T, conn *fake.Connector, c *sahara.Cluster) {
	t.Helper()
	want := expectHosts(c)
	for _, in := range c.Instances() {
		if b, _ := conn.Host(in.InstanceName).File("/etc/hosts"); string(b) != want {
			t.Errorf("%s /etc/hosts = %q, want %q", in.InstanceName, b, want)
		}
	}
}

func TestEngineScale_Up(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}); err != nil {
		t.Fatal(err)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, scaleUpStatuses) {
		t.Fatalf("statuses = %v", got)
	}
	want := []string{"demo-master-0", "demo-worker-0", "demo-worker-1", "demo-worker-2", "demo-worker-3"}
	if got := instanceNames(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("instances = %v", got)
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("servers = %v", got)
	}
	if c.Status != sahara.StatusActive || c.StatusDescription != "" || counts(c)["worker"] != 4 {
		t.Fatalf("%s %q %v", c.Status, c.StatusDescription, counts(c))
	}
	checkHostsEverywhere(t, h.conn, c)
	for _, name := range []string{"demo-worker-2", "demo-worker-3"} {
		if b, _ := h.conn.Host(name).File("/home/ubuntu/test_data"); string(b) != "sp@m and pony" {
			t.Errorf("%s not configured: %q", name, b)
		}
		if in := c.Instance(name); in.Phase != sahara.InstanceStarted || in.StorageDevicesNumber != 2 {
			t.Errorf("%s facts %+v", name, in)
		}
	}
	if b, _ := h.conn.Host("demo-master-0").File("/home/ubuntu/fake-datanodes"); strings.Count(string(b), "\n") != 4 {
		t.Errorf("datanode list on master: %q", b)
	}
	// Existing instances are not reconfigured, only told about the new ones.
	for _, call := range h.conn.LogFor("demo-worker-0") {
		if call.Method == "AppendToFile" || strings.Contains(call.Arg, "mkfs") {
			t.Errorf("existing instance got %s %s", call.Method, call.Arg)
		}
	}
	if h.plugin.Calls("ScaleCluster") != 1 || h.plugin.Calls("DecommissionNodes") != 0 {
		t.Errorf("plugin calls scale=%d decommission=%d", h.plugin.Calls("ScaleCluster"), h.plugin.Calls("DecommissionNodes"))
	}
}

func TestEngineScale_Down(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(4))
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}}); err != nil {
		t.Fatal(err)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, scaleDownStatuses) {
		t.Fatalf("statuses = %v", got)
	}
	want := []string{"demo-master-0", "demo-worker-0", "demo-worker-1"}
	if got := instanceNames(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("instances = %v (Sahara removes the highest indexes)", got)
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("servers = %v", got)
	}
	if b, _ := h.conn.Host("demo-master-0").File("/home/ubuntu/fake-exclude"); string(b) != "demo-worker-3.novalocal\ndemo-worker-2.novalocal\n" {
		t.Errorf("exclude = %q", b)
	}
	checkHostsEverywhere(t, h.conn, c)
	if counts(c)["worker"] != 2 || h.plugin.Calls("ScaleCluster") != 0 || h.infra.Calls("SpawnInstances") != 0 {
		t.Errorf("counts %v scale calls %d spawn calls %d", counts(c), h.plugin.Calls("ScaleCluster"), h.infra.Calls("SpawnInstances"))
	}
}

func TestEngineScale_UpDownAndNewGroupReusesIndexes(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(3))
	req := sahara.ScaleRequest{
		Resize: map[string]int{"worker": 2},
		Remove: map[string][]string{"worker": {"demo-worker-0"}},
		Add:    []sahara.NodeGroupSpec{{Name: "extra", FlavorID: "m1", Count: 1, NodeProcesses: []string{"datanode"}, AutoSecurityGroup: true}},
	}
	if err := h.eng.Scale(context.Background(), c, req); err != nil {
		t.Fatal(err)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, scaleBothStatuses) {
		t.Fatalf("statuses = %v", got)
	}
	want := []string{"demo-master-0", "demo-worker-1", "demo-worker-2", "demo-extra-0"}
	if got := instanceNames(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("instances = %v", got)
	}
	ng := c.NodeGroup("extra")
	if ng == nil || ng.Count != 1 || ng.ImageUsername != "ubuntu" || ng.SecurityGroupID == "" || len(ng.OpenPorts) != 2 {
		t.Fatalf("extra group: %+v", ng)
	}
	checkHostsEverywhere(t, h.conn, c)
	// The freed index 0 is reused.
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 3}}); err != nil {
		t.Fatal(err)
	}
	if got := c.NodeGroup("worker").Instances[0].InstanceName; got != "demo-worker-0" {
		t.Fatalf("new instance %s, want demo-worker-0", got)
	}
	checkHostsEverywhere(t, h.conn, c)
}

func TestEngineScale_RejectedRequestLeavesClusterActive(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  sahara.ScaleRequest
		mod  func(*harness)
		msg  string
	}{
		{"plugin refuses master", sahara.ScaleRequest{Resize: map[string]int{"master": 2}}, nil,
			"Chosen node group master cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode resourcemanager"},
		{"plugin refuses new master group", sahara.ScaleRequest{Add: []sahara.NodeGroupSpec{{Name: "nn2", FlavorID: "m1", Count: 1, NodeProcesses: []string{"namenode"}}}}, nil,
			"Chosen node group nn2 cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode"},
		{"unknown group", sahara.ScaleRequest{Resize: map[string]int{"nope": 1}}, nil, "Cluster doesn't contain node group with name 'nope'"},
		{"unknown instance", sahara.ScaleRequest{Resize: map[string]int{"worker": 1}, Remove: map[string][]string{"worker": {"demo-worker-9"}}}, nil, "Instance demo-worker-9 not found"},
		{"existing name added", sahara.ScaleRequest{Add: []sahara.NodeGroupSpec{{Name: "worker", FlavorID: "m1", Count: 1, NodeProcesses: []string{"datanode"}}}}, nil,
			"Can't add new nodegroup. Cluster already has nodegroup with name 'worker'"},
		{"unknown process", sahara.ScaleRequest{Add: []sahara.NodeGroupSpec{{Name: "x", FlavorID: "m1", Count: 1, NodeProcesses: []string{"tasktracker"}}}}, nil,
			"Plugin doesn't support the following node processes: ['tasktracker']"},
		{"quota", sahara.ScaleRequest{Resize: map[string]int{"worker": 5}}, func(h *harness) {
			h.infra.Available = &sahara.QuotaRequest{Instances: 2, Cores: 99, RAMMB: 1 << 20, Volumes: 99, VolumeGB: 9999}
		}, "Quota exceeded for instances: Requested 3, but available 2"},
		{"empty", sahara.ScaleRequest{}, nil, "Scale request is empty: resize or add at least one node group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			c := h.create(demoSpec(2))
			before := instanceNames(c)
			if tc.mod != nil {
				tc.mod(h)
			}
			err := h.eng.Scale(context.Background(), c, tc.req)
			if err == nil || err.Error() != tc.msg || !errors.Is(err, sahara.ErrValidation) {
				t.Fatalf("err = %v\nwant  %s", err, tc.msg)
			}
			if got := h.takeStatuses(); !reflect.DeepEqual(got, statusList(sahara.StatusValidating, sahara.StatusActive)) {
				t.Errorf("statuses = %v", got)
			}
			if c.Status != sahara.StatusActive || c.StatusDescription != tc.msg {
				t.Errorf("%s %q", c.Status, c.StatusDescription)
			}
			if len(c.NodeGroups) != 2 || !reflect.DeepEqual(instanceNames(c), before) || !reflect.DeepEqual(counts(c), map[string]int{"master": 1, "worker": 2}) {
				t.Errorf("cluster changed: %v %v", instanceNames(c), counts(c))
			}
			for _, m := range mutating {
				if n := h.infra.Calls(m); n != 0 {
					t.Errorf("%s called %d times", m, n)
				}
			}
			if n := h.conn.TotalCalls(); n != 0 {
				t.Errorf("%d remote calls", n)
			}
		})
	}
}

func TestEngineScale_NotActiveIsRefusedWithoutStatusChange(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(1))
	c.Status = sahara.StatusError
	err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}})
	if err == nil || err.Error() != "Cluster cannot be scaled not in 'Active' status. Cluster status: Error" {
		t.Fatalf("err = %v", err)
	}
	if len(h.takeStatuses()) != 0 || c.Status != sahara.StatusError {
		t.Fatal("status changed")
	}
}

func TestEngineScale_RollbackOnFailure(t *testing.T) {
	boom := errors.New("boom")
	addGroup := []sahara.NodeGroupSpec{{Name: "extra", FlavorID: "m1", Count: 2, NodeProcesses: []string{"datanode"}}}
	for _, tc := range []struct {
		name     string
		req      sahara.ScaleRequest
		inject   func(*harness)
		statuses []sahara.ClusterStatus
		desc     string
	}{
		{"spawn fails", sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}, func(h *harness) { h.infra.Fail("SpawnInstances", "demo-worker-3", boom) },
			scaleUpStatuses[:3], "spawning instances: server demo-worker-3 went to ERROR: boom"},
		{"new instance unreachable", sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}, func(h *harness) { h.conn.SetUnreachable("demo-worker-2", true) },
			scaleUpStatuses[:3], "waiting for instances: demo-worker-2"},
		{"preparing new instance fails", sahara.ScaleRequest{Resize: map[string]int{"worker": 3}}, func(h *harness) { h.conn.Fail("ExecuteCommand", "demo-worker-2", "sudo hostname", nil) },
			scaleUpStatuses[:3], "preparing instances: demo-worker-2"},
		{"existing instance fails /etc/hosts", sahara.ScaleRequest{Resize: map[string]int{"worker": 3}}, func(h *harness) {
			h.conn.Fail("WriteFileTo", "demo-worker-0", "etc-hosts", nil).Times = 1
		}, scaleUpStatuses[:3], "preparing instances: demo-worker-0: injected fault"},
		{"scale_cluster fails", sahara.ScaleRequest{Resize: map[string]int{"worker": 4}}, func(h *harness) { h.plugin.Fail("ScaleCluster", boom) },
			scaleUpStatuses[:4], "boom"},
		{"scale_cluster fails with new group and shrink", sahara.ScaleRequest{Resize: map[string]int{"worker": 1}, Add: addGroup}, func(h *harness) { h.plugin.Fail("ScaleCluster", boom) },
			scaleUpStatuses[:4], "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			c := h.create(demoSpec(2))
			before := instanceNames(c)
			tc.inject(h)
			err := h.eng.Scale(context.Background(), c, tc.req)
			if err == nil {
				t.Fatal("Scale succeeded")
			}
			want := append(append([]sahara.ClusterStatus(nil), tc.statuses...), sahara.StatusActive)
			if got := h.takeStatuses(); !reflect.DeepEqual(got, want) {
				t.Errorf("statuses = %v, want %v", got, want)
			}
			prefix := "Scaling cluster failed for the following reason(s): "
			if c.Status != sahara.StatusActive || !strings.HasPrefix(c.StatusDescription, prefix) || !strings.Contains(c.StatusDescription, tc.desc) {
				t.Errorf("%s %q, want %q", c.Status, c.StatusDescription, tc.desc)
			}
			if got := instanceNames(c); !reflect.DeepEqual(got, before) {
				t.Errorf("instances = %v, want %v", got, before)
			}
			if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, before) {
				t.Errorf("servers = %v, want %v", got, before)
			}
			if !reflect.DeepEqual(counts(c), map[string]int{"master": 1, "worker": 2}) {
				t.Errorf("counts = %v", counts(c))
			}
			h.conn.SetUnreachable("demo-worker-2", false)
			checkHostsEverywhere(t, h.conn, c)
			for _, in := range c.Instances() {
				if in.Phase != sahara.InstanceStarted {
					t.Errorf("%s phase %q after rollback", in.InstanceName, in.Phase)
				}
			}
			// The cluster scales fine once the fault is gone.
			h.infra.ClearFaults()
			h.conn.ClearFaults()
			h.plugin.Fail("ScaleCluster", nil)
			if err := h.eng.Scale(context.Background(), c, tc.req); err != nil {
				t.Fatalf("retry: %v", err)
			}
			for _, in := range c.Instances() {
				if in.LastError != "" {
					t.Errorf("%s keeps error %q after a successful scale", in.InstanceName, in.LastError)
				}
			}
		})
	}
}

func TestEngineScale_FailedRollbackEndsInError(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	h.plugin.Fail("ScaleCluster", errors.New("boom"))
	h.infra.Fail("DeleteInstances", "", errors.New("nova 500"))
	err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 3}})
	if err == nil || !strings.Contains(err.Error(), "rollback failed") {
		t.Fatalf("err = %v", err)
	}
	want := "Scaling cluster failed for the following reason(s): boom, rolling back Adding Instances: deleting instances: deleting demo-worker-2: nova 500"
	if c.Status != sahara.StatusError || c.StatusDescription != want {
		t.Fatalf("%s %q", c.Status, c.StatusDescription)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, append(scaleUpStatuses[:4:4], sahara.StatusError)) {
		t.Errorf("statuses %v", got)
	}
}

func TestEngineScale_DecommissionFailureKeepsVictims(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(3))
	h.plugin.Fail("DecommissionNodes", errors.New("datanode refused"))
	err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 1}})
	if err == nil {
		t.Fatal("Scale succeeded")
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, scaleDownStatuses) {
		t.Errorf("statuses = %v", got)
	}
	if c.Status != sahara.StatusActive || c.StatusDescription != "Scaling cluster failed for the following reason(s): datanode refused" {
		t.Errorf("%s %q", c.Status, c.StatusDescription)
	}
	if len(c.Instances()) != 4 || len(h.infra.Servers(c.ID)) != 4 || counts(c)["worker"] != 3 {
		t.Errorf("victims not kept: %v, counts %v", instanceNames(c), counts(c))
	}
}

func TestEnginePlanScale_NoSideEffects(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(4))
	c.NodeGroup("worker").Instances[1].CloudStatus = "ERROR"
	plan, err := h.eng.PlanScale(c, sahara.ScaleRequest{
		Resize: map[string]int{"worker": 1},
		Remove: map[string][]string{"worker": {c.NodeGroup("worker").Instances[0].InstanceID}},
		Add:    []sahara.NodeGroupSpec{{Name: "extra", Count: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var victims []string
	for _, in := range plan.Victims["worker"] {
		victims = append(victims, in.InstanceName)
	}
	if want := []string{"demo-worker-0", "demo-worker-1", "demo-worker-3"}; !reflect.DeepEqual(victims, want) {
		t.Errorf("victims = %v, want %v", victims, want)
	}
	if !reflect.DeepEqual(plan.AddCount, map[string]int{"extra": 2}) {
		t.Errorf("add = %v", plan.AddCount)
	}
	if len(c.Instances()) != 5 || len(c.NodeGroups) != 2 || h.infra.TotalCalls()+h.conn.TotalCalls() != 0 || len(h.takeStatuses()) != 0 {
		t.Error("PlanScale had side effects")
	}
	if err := h.eng.ValidateScaling(context.Background(), c, sahara.ScaleRequest{Add: []sahara.NodeGroupSpec{{Name: "extra", FlavorID: "m1", Count: 2, NodeProcesses: []string{"datanode"}}}}); err != nil {
		t.Fatal(err)
	}
	if len(c.NodeGroups) != 2 || h.plugin.Calls("ValidateScaling") != 1 {
		t.Error("ValidateScaling left the new group in the cluster")
	}
}

// bare is a plugin with only the required SPI methods: it cannot scale.
type bare struct{}

func (bare) Name() string                            { return "bare" }
func (bare) Title() string                           { return "Bare" }
func (bare) Description() string                     { return "required methods only" }
func (bare) Versions() []string                      { return []string{"1"} }
func (bare) Configs(string) ([]sahara.Config, error) { return nil, nil }
func (bare) NodeProcesses(string) ([]sahara.Service, error) {
	return []sahara.Service{{Name: "S", Processes: []string{"p"}}}, nil
}
func (bare) ConfigureCluster(context.Context, *sahara.Cluster, sahara.Remotes) error { return nil }
func (bare) StartCluster(context.Context, *sahara.Cluster, sahara.Remotes) error     { return nil }

func TestEngineScale_PluginWithoutScalerIsRefused(t *testing.T) {
	infra := fake.NewInfra(sahara.Image{ID: "i", Username: "u", Tags: []string{"bare", "1"}})
	reg, _ := sahara.NewRegistry(bare{})
	eng, _ := sahara.New(sahara.Options{Infra: infra, Remotes: fake.NewConnector(), Plugins: reg})
	c, _ := eng.NewCluster(sahara.ClusterSpec{Name: "b", PluginName: "bare", PluginVersion: "1", DefaultImageID: "i",
		NodeGroups: []sahara.NodeGroupSpec{{Name: "g", FlavorID: "f", Count: 1, NodeProcesses: []string{"p"}}}})
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	err := eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"g": 2}})
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "ClusterCannotBeScaled" || se.Message != "Cluster b cannot be scaled : Requested plugin 'bare' doesn't support cluster scaling feature" {
		t.Fatalf("err = %#v", err)
	}
	if c.Status != sahara.StatusActive || len(c.Instances()) != 1 {
		t.Fatalf("%s %d", c.Status, len(c.Instances()))
	}
}

// loud is bare with a configure step that logs through the context.
type loud struct{ bare }

func (loud) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	sahara.LoggerFrom(ctx, nil).Info("plugin configuring", "instances", len(c.Instances()))
	return nil
}

func TestEngine_PluginsLogToTheOperationLogger(t *testing.T) {
	infra := fake.NewInfra(sahara.Image{ID: "i", Username: "u", Tags: []string{"bare", "1"}})
	reg, _ := sahara.NewRegistry(loud{})
	logs := &syncBuffer{}
	eng, _ := sahara.New(sahara.Options{Infra: infra, Remotes: fake.NewConnector(), Plugins: reg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	c, _ := eng.NewCluster(sahara.ClusterSpec{Name: "b", PluginName: "bare", PluginVersion: "1", DefaultImageID: "i",
		NodeGroups: []sahara.NodeGroupSpec{{Name: "g", FlavorID: "f", Count: 2, NodeProcesses: []string{"p"}}}})
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if want := `msg="plugin configuring" cluster_id=` + c.ID + " cluster=b instances=2"; !strings.Contains(logs.String(), want) {
		t.Fatalf("logs lack %q:\n%s", want, logs.String())
	}
}
