package sahara_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

const imageID = "img-fake"

// harness wires an engine to the in-memory cloud, remote and fake plugin and
// records every status the engine writes.
type harness struct {
	t      *testing.T
	infra  *fake.Infra
	conn   *fake.Connector
	plugin *pfake.Plugin
	eng    *sahara.Engine
	logs   *syncBuffer

	mu       sync.Mutex
	statuses []sahara.ClusterStatus
	onStatus func(sahara.Event)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T, parallelism int) *harness {
	t.Helper()
	return newHarnessWith(t, parallelism, func(p *pfake.Plugin) sahara.Plugin { return p })
}

// newHarnessWith registers wrap(the fake plugin), for a test that adds an
// optional interface to it.
func newHarnessWith(t *testing.T, parallelism int, wrap func(*pfake.Plugin) sahara.Plugin) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		infra:  fake.NewInfra(sahara.Image{ID: imageID, Name: "fake", Username: "ubuntu", Tags: []string{"fake", "0.1"}}),
		conn:   fake.NewConnector(),
		plugin: pfake.New(),
		logs:   &syncBuffer{},
	}
	reg, err := sahara.NewRegistry(wrap(h.plugin))
	if err != nil {
		t.Fatal(err)
	}
	h.eng, err = sahara.New(sahara.Options{
		Infra: h.infra, Remotes: h.conn, Plugins: reg, Parallelism: parallelism,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: func(ev sahara.Event) {
			if ev.Kind != sahara.EventStatus {
				return
			}
			h.mu.Lock()
			h.statuses = append(h.statuses, ev.Status)
			fn := h.onStatus
			h.mu.Unlock()
			if fn != nil {
				fn(ev)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) takeStatuses() []sahara.ClusterStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.statuses
	h.statuses = nil
	return s
}

func demoSpec(workers int) sahara.ClusterSpec {
	return sahara.ClusterSpec{
		Name: "demo", PluginName: "fake", PluginVersion: "0.1", DefaultImageID: imageID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{"namenode", "resourcemanager"}, AutoSecurityGroup: true},
			{Name: "worker", FlavorID: "m1", Count: workers, NodeProcesses: []string{"datanode", "nodemanager"}, VolumesPerNode: 2, VolumesSize: 10},
		},
	}
}

// create builds and provisions a cluster, failing the test on error.
func (h *harness) create(spec sahara.ClusterSpec) *sahara.Cluster {
	h.t.Helper()
	c, err := h.eng.NewCluster(spec)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.eng.Create(context.Background(), c); err != nil {
		h.t.Fatalf("Create: %v", err)
	}
	h.takeStatuses()
	h.conn.ResetCalls()
	h.infra.ResetCalls()
	return c
}

func statusList(s ...sahara.ClusterStatus) []sahara.ClusterStatus { return s }

var createStatuses = statusList(sahara.StatusValidating, sahara.StatusInfraUpdating, sahara.StatusSpawning,
	sahara.StatusWaiting, sahara.StatusPreparing, sahara.StatusConfiguring, sahara.StatusStarting, sahara.StatusActive)

func instanceNames(c *sahara.Cluster) []string {
	var out []string
	for _, in := range c.Instances() {
		out = append(out, in.InstanceName)
	}
	return out
}

func serverNames(f *fake.Infra, clusterID string) []string {
	var out []string
	for _, s := range f.Servers(clusterID) {
		out = append(out, s.Name)
	}
	return out
}

func expectHosts(c *sahara.Cluster) string {
	var b strings.Builder
	b.WriteString("127.0.0.1 localhost\n")
	for _, in := range c.Instances() {
		fmt.Fprintf(&b, "%s %s.novalocal %s\n", in.InternalIP, in.InstanceName, in.InstanceName)
	}
	return b.String()
}

func TestEngineCreate_StatusesFactsAndFiles(t *testing.T) {
	h := newHarness(t, 0)
	c, err := h.eng.NewCluster(demoSpec(3))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != sahara.StatusUndefined || c.ID == "" || !strings.HasPrefix(c.ManagementPublicKey, "ssh-ed25519 ") {
		t.Fatalf("NewCluster: %+v", c)
	}
	if err := h.eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, createStatuses) {
		t.Fatalf("statuses = %v\nwant      %v", got, createStatuses)
	}
	if c.Status != sahara.StatusActive || c.StatusDescription != "" {
		t.Fatalf("final %s %q", c.Status, c.StatusDescription)
	}
	want := []string{"demo-master-0", "demo-worker-0", "demo-worker-1", "demo-worker-2"}
	if got := instanceNames(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("instances = %v", got)
	}
	if got := serverNames(h.infra, c.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("servers = %v", got)
	}
	hosts := expectHosts(c)
	for _, in := range c.Instances() {
		if in.InstanceID == "" || in.InternalIP == "" || in.Phase != sahara.InstanceStarted || in.HostKey != h.conn.HostKey(in.InstanceName) {
			t.Errorf("%s facts: %+v", in.InstanceName, in)
		}
		host := h.conn.Host(in.InstanceName)
		if b, _ := host.File("/etc/hosts"); string(b) != hosts {
			t.Errorf("%s /etc/hosts = %q, want %q", in.InstanceName, b, hosts)
		}
		if b, _ := host.File("/etc/hostname"); string(b) != in.InstanceName+".novalocal" {
			t.Errorf("%s /etc/hostname = %q", in.InstanceName, b)
		}
		if host.Hostname != in.InstanceName+".novalocal" {
			t.Errorf("%s hostname = %q", in.InstanceName, host.Hostname)
		}
		if _, left := host.File("/home/ubuntu/etc-hosts"); left {
			t.Errorf("%s: etc-hosts left in home", in.InstanceName)
		}
		if b, _ := host.File("/home/ubuntu/test_data"); string(b) != "sp@m and pony" {
			t.Errorf("%s: plugin data %q", in.InstanceName, b)
		}
	}
	if n := c.NodeGroup("worker").Instances[0].StorageDevicesNumber; n != 2 {
		t.Errorf("worker storage devices = %d", n)
	}
	if n := c.NodeGroup("master").Instances[0].StorageDevicesNumber; n != 0 {
		t.Errorf("master storage devices = %d", n)
	}
	if ports := c.NodeGroup("master").OpenPorts; !reflect.DeepEqual(ports, []int{8020, 50070, 8088, 8032}) {
		t.Errorf("master open ports = %v", ports)
	}
	if c.NodeGroup("master").SecurityGroupID == "" || c.NodeGroup("master").ImageUsername != "ubuntu" {
		t.Errorf("master group facts: %+v", c.NodeGroup("master"))
	}
	for _, st := range c.Progress {
		if st.Successful == nil || !*st.Successful || len(st.Events) != st.Total {
			t.Errorf("step %q: successful=%v events=%d total=%d", st.Name, st.Successful, len(st.Events), st.Total)
		}
	}
	logs := h.logs.String()
	for _, s := range []string{`msg="Spawning 4/4 instances"`, `msg="cluster status changed" cluster_id=` + c.ID, "to=Active"} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %q", s)
		}
	}
	if strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, strings.Fields(c.ManagementPublicKey)[1][:20]) {
		t.Error("logs contain key material")
	}
	if h.conn.Connects() != 1 || h.conn.Handshakes() != 4 {
		t.Errorf("connects=%d handshakes=%d, want 1 and 4 (one connection per instance)", h.conn.Connects(), h.conn.Handshakes())
	}
}

// The calls of Sahara's _configure_instance_etc_hosts, from
// conformance/vanilla/sample_cluster_ops.json (first phase), preceded by the
// management key check.
func TestEngineCreate_PreparingCallsMatchSahara(t *testing.T) {
	h2 := newHarness(t, 0)
	c2, _ := h2.eng.NewCluster(demoSpec(1))
	if err := h2.eng.Create(context.Background(), c2); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, call := range h2.conn.LogFor("demo-master-0") {
		if call.Method == "WaitAccessible" {
			continue
		}
		got = append(got, call.Method+" "+call.Arg)
		if len(got) == 8 {
			break
		}
	}
	q := sahara.MustQuote(c2.ManagementPublicKey)
	want := []string{
		"ExecuteCommand mkdir -p ~/.ssh && chmod 700 ~/.ssh && { grep -qxF -- " + q + " ~/.ssh/authorized_keys 2>/dev/null || printf '%s\\n' " + q + " >> ~/.ssh/authorized_keys; } && chmod 600 ~/.ssh/authorized_keys",
		"WriteFileTo etc-hosts",
		"WriteFileTo etc-hostname",
		"ExecuteCommand sudo hostname demo-master-0.novalocal",
		"ExecuteCommand sudo cp etc-hosts /etc/hosts",
		"ExecuteCommand sudo cp etc-hostname /etc/hostname",
		"ExecuteCommand sudo rm etc-hosts  etc-hostname",
		"ExecuteCommand sudo usermod -s /bin/bash $USER",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEngineCreate_FormatsOnlyAttachedVolumes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xfs    any
		mkfs   string
		mount  string
		prefix string
	}{
		{"xfs default", nil, "sudo mkfs.xfs -f /dev/vdb", "sudo mount -t xfs -o noatime,nodiratime /dev/vdb /volumes/disk1", ""},
		{"ext4 when XFS disabled", false, "sudo mkfs.ext4 -F -m 1 -O dir_index,extents,^has_journal /dev/vdb", "sudo mount -o data=writeback,noatime,nodiratime /dev/vdb /volumes/disk1", ""},
		{"hostile prefix is quoted", nil, "sudo mkfs.xfs -f /dev/vdb", `sudo mount -t xfs -o noatime,nodiratime /dev/vdb '/data/it'\''s $(reboot)1'`, "/data/it's $(reboot)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := demoSpec(1)
			if tc.xfs != nil {
				spec.ClusterConfigs = sahara.Configs{"general": {"Enable XFS": tc.xfs}}
			}
			spec.NodeGroups[1].VolumeMountPrefix = tc.prefix
			h2 := newHarness(t, 0)
			c2, _ := h2.eng.NewCluster(spec)
			if err := h2.eng.Create(context.Background(), c2); err != nil {
				t.Fatal(err)
			}
			var cmds []string
			for _, call := range h2.conn.LogFor("demo-worker-0") {
				if call.Method == "ExecuteCommand" {
					cmds = append(cmds, call.Arg)
				}
				if strings.Contains(call.Arg, "lsblk") || strings.Contains(call.Arg, "blkid") {
					t.Errorf("disk discovery command %q", call.Arg)
				}
			}
			for _, want := range []string{tc.mkfs, tc.mount, strings.Replace(tc.mkfs, "vdb", "vdc", 1)} {
				if !slices.Contains(cmds, want) {
					t.Errorf("missing %q in\n%s", want, strings.Join(cmds, "\n"))
				}
			}
			if got := c2.NodeGroup("worker").Instances[0].StoragePaths(); len(got) != 2 {
				t.Errorf("storage paths %v", got)
			}
		})
	}
}

// mutating Infrastructure calls a validation failure must not make.
var mutating = []string{"PrepareCluster", "SpawnInstances", "DeleteInstances", "DeleteCluster"}

func TestEngineCreate_ValidationFailureTouchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*sahara.ClusterSpec, *harness)
		exc   string
		msg   string
		quota bool
	}{
		{"unknown version", func(s *sahara.ClusterSpec, _ *harness) { s.PluginVersion = "9" }, "InvalidReferenceException", "Requested plugin 'fake' doesn't support version '9'", false},
		{"unknown process", func(s *sahara.ClusterSpec, _ *harness) {
			s.NodeGroups[1].NodeProcesses = []string{"datanode", "zz", "aa"}
		}, "InvalidReferenceException", "Plugin doesn't support the following node processes: ['aa', 'zz']", false},
		{"plugin validate", func(s *sahara.ClusterSpec, _ *harness) { s.NodeGroups[0].Count = 2 }, "InvalidComponentCountException", "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 2", false},
		{"image without tags", func(s *sahara.ClusterSpec, h *harness) {
			h.infra.Images["bare"] = sahara.Image{ID: "bare", Username: "ubuntu", Tags: []string{"fake"}}
			s.NodeGroups[1].ImageID = "bare"
		}, "InvalidReferenceException", "Requested image 'bare' doesn't contain required tags for plugin fake 0.1: missing ['0.1'] (tag the image with fake, 0.1)", false},
		{"image with a hostile login user", func(s *sahara.ClusterSpec, h *harness) {
			h.infra.Images["odd"] = sahara.Image{ID: "odd", Username: "../root", Tags: []string{"fake", "0.1"}}
			s.NodeGroups[1].ImageID = "odd"
		}, "InvalidReferenceException", `Requested image 'odd': login user "../root" is not a user name: use at most 32 letters, digits, '.', '_' and '-', starting with a letter or '_' (its _sahara_username property)`, false},
		{"quota", func(s *sahara.ClusterSpec, h *harness) {
			h.infra.Available = &sahara.QuotaRequest{Instances: 3, Cores: 100, RAMMB: 1 << 20, Volumes: 100, VolumeGB: 1000, SecurityGroups: 10}
		}, "QuotaException", "Quota exceeded for instances: Requested 4, but available 3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			spec := demoSpec(3)
			tc.mod(&spec, h)
			c, err := h.eng.NewCluster(spec)
			if err != nil {
				t.Fatal(err)
			}
			err = h.eng.Create(context.Background(), c)
			var se *sahara.SaharaError
			if !errors.As(err, &se) || se.Exception != tc.exc || se.Message != tc.msg {
				t.Fatalf("err = %v (%#v)", err, err)
			}
			if got := h.takeStatuses(); !reflect.DeepEqual(got, statusList(sahara.StatusValidating, sahara.StatusError)) {
				t.Errorf("statuses = %v", got)
			}
			if c.Status != sahara.StatusError || c.StatusDescription != tc.msg {
				t.Errorf("status %s %q", c.Status, c.StatusDescription)
			}
			for _, m := range mutating {
				if n := h.infra.Calls(m); n != 0 {
					t.Errorf("%s called %d times", m, n)
				}
			}
			if h.conn.TotalCalls() != 0 || len(h.infra.Leftovers(c.ID)) != 0 || len(c.Instances()) != 0 {
				t.Errorf("touched: remote calls %d, leftovers %v, instances %d", h.conn.TotalCalls(), h.infra.Leftovers(c.ID), len(c.Instances()))
			}
		})
	}
}

func TestEngineCreate_FailureInEachPhase(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		inject   func(h *harness)
		statuses []sahara.ClusterStatus
		desc     string // substring after the prefix
		kept     bool   // instances and servers kept for inspection
	}{
		{"InfraUpdating plugin", func(h *harness) { h.plugin.Fail("UpdateInfra", boom) }, createStatuses[:2], "plugin update_infra: boom", false},
		{"InfraUpdating cloud", func(h *harness) { h.infra.Fail("PrepareCluster", "", boom) }, createStatuses[:2], "preparing cluster resources: boom", false},
		{"Spawning", func(h *harness) { h.infra.Fail("SpawnInstances", "demo-worker-1", boom) }, createStatuses[:3], "spawning instances: server demo-worker-1 went to ERROR: boom", false},
		{"Waiting unreachable", func(h *harness) { h.conn.SetUnreachable("demo-worker-0", true) }, createStatuses[:4], "waiting for instances: demo-worker-0: dial", false},
		{"Waiting host key mismatch", func(h *harness) {
			h.infra.PublishedHostKeys = map[string][]string{"demo-worker-2": {"ssh-ed25519 AAAAother"}}
		}, createStatuses[:4], "demo-worker-2: ssh: host key mismatch", false},
		{"Preparing", func(h *harness) { h.conn.Fail("ExecuteCommand", "demo-worker-2", "mkfs.xfs -f", nil) }, createStatuses[:5], `preparing instances: demo-worker-2: volume vol-`, false},
		{"Configuring", func(h *harness) { h.plugin.Fail("ConfigureCluster", boom) }, createStatuses[:6], "boom", true},
		{"Starting", func(h *harness) { h.conn.Fail("ReadFileFrom", "demo-worker-1", "test_data", errors.New("read failed")) }, createStatuses[:7], "demo-worker-1: read failed", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			tc.inject(h)
			c, _ := h.eng.NewCluster(demoSpec(3))
			err := h.eng.Create(context.Background(), c)
			if err == nil {
				t.Fatal("Create succeeded")
			}
			want := append(append([]sahara.ClusterStatus(nil), tc.statuses...), sahara.StatusError)
			if got := h.takeStatuses(); !reflect.DeepEqual(got, want) {
				t.Errorf("statuses = %v, want %v", got, want)
			}
			prefix := "Creating cluster failed for the following reason(s): "
			if c.Status != sahara.StatusError || !strings.HasPrefix(c.StatusDescription, prefix) || !strings.Contains(c.StatusDescription, tc.desc) {
				t.Errorf("status %s, description %q; want %q", c.Status, c.StatusDescription, tc.desc)
			}
			left := h.infra.Leftovers(c.ID)
			if tc.kept {
				if len(c.Instances()) != 4 || len(h.infra.Servers(c.ID)) != 4 {
					t.Errorf("kept instances %d, servers %d; want 4 and 4", len(c.Instances()), len(h.infra.Servers(c.ID)))
				}
			} else if len(left) != 0 || len(c.Instances()) != 0 {
				t.Errorf("leftovers %v, instances %v", left, instanceNames(c))
			}
		})
	}
}

func TestEngineCreate_FailedRollbackIsReported(t *testing.T) {
	h := newHarness(t, 0)
	h.infra.Fail("SpawnInstances", "demo-worker-0", errors.New("no valid host"))
	h.infra.Fail("DeleteCluster", "", errors.New("cloud down"))
	c, _ := h.eng.NewCluster(demoSpec(1))
	err := h.eng.Create(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "rollback failed") {
		t.Fatalf("err = %v", err)
	}
	want := "Creating cluster failed for the following reason(s): spawning instances: server demo-worker-0 went to ERROR: no valid host, rolling back InfraUpdating: cloud down"
	if c.Status != sahara.StatusError || c.StatusDescription != want {
		t.Fatalf("%s %q", c.Status, c.StatusDescription)
	}
	// The servers were removed by the Spawning rollback; the keypair is left
	// for Delete, which the user runs on an Error cluster.
	if len(h.infra.Servers(c.ID)) != 0 {
		t.Errorf("servers left: %v", serverNames(h.infra, c.ID))
	}
	h.infra.ClearFaults()
	if err := h.eng.Delete(context.Background(), c); err != nil || len(h.infra.Leftovers(c.ID)) != 0 {
		t.Fatalf("Delete: %v, leftovers %v", err, h.infra.Leftovers(c.ID))
	}
}

func TestEngine_DeletingIsNotOverwritten(t *testing.T) {
	h := newHarness(t, 0)
	c, _ := h.eng.NewCluster(demoSpec(2))
	// A delete arriving while the cluster spawns (the observer runs on the
	// engine's goroutine, so this is race-free).
	h.onStatus = func(ev sahara.Event) {
		if ev.Status == sahara.StatusWaiting {
			ev.Cluster.Status = sahara.StatusDeleting
		}
	}
	err := h.eng.Create(context.Background(), c)
	if err == nil || c.Status != sahara.StatusDeleting {
		t.Fatalf("err %v, status %s", err, c.Status)
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, createStatuses[:4]) {
		t.Errorf("statuses = %v", got)
	}
	h.onStatus = nil
	if err := h.eng.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if left := h.infra.Leftovers(c.ID); len(left) != 0 || c.Status != sahara.StatusDeleting {
		t.Fatalf("leftovers %v status %s", left, c.Status)
	}
}

func TestEngineDelete_TwiceAndAfterFailure(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	h.plugin.Fail("OnTerminateCluster", errors.New("secret store down"))
	h.infra.Fail("DeleteCluster", "", errors.New("neutron 503")).Times = 1
	err := h.eng.Delete(context.Background(), c)
	if err == nil || c.Status != sahara.StatusDeleting || !strings.Contains(c.StatusDescription, "Terminating cluster failed for the following reason(s): neutron 503") {
		t.Fatalf("first delete: %v, %s %q", err, c.Status, c.StatusDescription)
	}
	for i := 0; i < 2; i++ {
		if err := h.eng.Delete(context.Background(), c); err != nil {
			t.Fatalf("delete %d: %v", i+2, err)
		}
		if c.Status != sahara.StatusDeleting || c.StatusDescription != "" || len(c.Instances()) != 0 {
			t.Fatalf("after delete: %s %q %d", c.Status, c.StatusDescription, len(c.Instances()))
		}
		if left := h.infra.Leftovers(c.ID); len(left) != 0 {
			t.Fatalf("leftovers %v", left)
		}
	}
	if h.plugin.Calls("OnTerminateCluster") != 2 {
		t.Errorf("on_terminate calls = %d (third delete has no instances)", h.plugin.Calls("OnTerminateCluster"))
	}
	if got := h.takeStatuses(); !reflect.DeepEqual(got, statusList(sahara.StatusDeleting, sahara.StatusDeleting, sahara.StatusDeleting, sahara.StatusDeleting)) {
		t.Errorf("statuses %v", got)
	}
}

func TestEngine_ParallelismBoundRespected(t *testing.T) {
	h := newHarness(t, 3)
	h.conn.CallLatency = 2e6 // 2ms
	var maxBefore int
	h.onStatus = func(ev sahara.Event) {
		if ev.Status == sahara.StatusConfiguring {
			maxBefore = h.conn.MaxInflight() // engine phases only; plugins bound themselves
		}
	}
	c, _ := h.eng.NewCluster(demoSpec(11))
	if err := h.eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if maxBefore != 3 {
		t.Fatalf("max concurrent remote calls in engine phases = %d, want exactly the bound 3", maxBefore)
	}
}

func TestEngineValidateSpec_Messages(t *testing.T) {
	h := newHarness(t, 0)
	long := strings.Repeat("a", 45)
	for _, tc := range []struct {
		name string
		mod  func(*sahara.ClusterSpec)
		msg  string
	}{
		{"ok", func(*sahara.ClusterSpec) {}, ""},
		{"unknown plugin", func(s *sahara.ClusterSpec) { s.PluginName = "vanilla" }, "Sahara plugin vanilla is not loaded"},
		{"duplicate groups", func(s *sahara.ClusterSpec) { s.NodeGroups[1].Name = "master" }, "Duplicates in node group names are detected: ['master']"},
		{"bad group name", func(s *sahara.ClusterSpec) { s.NodeGroups[1].Name = "work_er" }, "Node group name 'work_er' is not a valid hostname: use letters, digits and hyphens in dot-separated labels that start with a letter and do not end with a hyphen"},
		{"unknown target", func(s *sahara.ClusterSpec) { s.ClusterConfigs = sahara.Configs{"Pig": {"x": 1}} }, "Plugin doesn't contain applicable target 'Pig'"},
		{"unknown name", func(s *sahara.ClusterSpec) { s.NodeGroups[0].NodeConfigs = sahara.Configs{"HDFS": {"dfs.nope": 1}} }, "Plugin's applicable target 'HDFS' doesn't contain config with name 'dfs.nope'"},
		{"int value", func(s *sahara.ClusterSpec) { s.ClusterConfigs = sahara.Configs{"HDFS": {"dfs.replication": "three"}} }, `Config 'dfs.replication' of applicable target 'HDFS' has an invalid value: "three" is not an integer`},
		{"enum value", func(s *sahara.ClusterSpec) {
			s.ClusterConfigs = sahara.Configs{"YARN": {"yarn.resourcemanager.scheduler": "lifo"}}
		}, `Config 'yarn.resourcemanager.scheduler' of applicable target 'YARN' has an invalid value: "lifo" is not one of fifo, capacity, fair`},
		{"common config", func(s *sahara.ClusterSpec) { s.ClusterConfigs = sahara.Configs{"general": {"Enable XFS": "false"}} }, ""},
		{"volumes size", func(s *sahara.ClusterSpec) { s.NodeGroups[1].VolumesSize = 0 }, "You must specify a volumes_size parameter"},
		{"hostname length", func(s *sahara.ClusterSpec) { s.Name = long }, "Composite hostname " + long + "-master-001.novalocal in provisioned cluster exceeds maximum limit 64 characters"},
		{"anti affinity", func(s *sahara.ClusterSpec) { s.AntiAffinity = []string{"datanode", "tasktracker"} }, "Plugin doesn't support the following node processes: ['tasktracker']"},
		{"plugin validate sees counts", func(s *sahara.ClusterSpec) { s.NodeGroups[0].Count = 0 }, "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := demoSpec(2)
			tc.mod(&spec)
			err := h.eng.ValidateSpec(context.Background(), spec)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tc.msg || !errors.Is(err, sahara.ErrValidation) {
				t.Fatalf("err = %v\nwant  %s", err, tc.msg)
			}
		})
	}
	if n := h.infra.TotalCalls() + h.conn.TotalCalls(); n != 0 {
		t.Errorf("ValidateSpec made %d cloud/remote calls", n)
	}
}

func TestEngineCreate_ConfiguresNTPLikeSahara(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configs   map[string]any
		installed bool
		os        string
		want      []string
	}{
		{"default server", nil, true, "ubuntu", []string{
			"ExecuteCommand dpkg -s ntp", "PrependToFile /etc/ntp.conf server pool.ntp.org iburst\n (root)",
			"ExecuteCommand service ntp restart (root)", "ExecuteCommand ntpdate -u pool.ntp.org (root)"}},
		// (a hostile server never gets here: TestValidateSpec_HostileConfigValues)
		{"custom server", map[string]any{"URL of NTP server": "ntp.lan"}, true, "centos", []string{
			"ExecuteCommand rpm -q ntp", "PrependToFile /etc/ntp.conf server ntp.lan iburst\n (root)",
			"ExecuteCommand service ntpd restart (root)", "ExecuteCommand ntpdate -u ntp.lan (root)"}},
		{"not installed: skipped", nil, false, "ubuntu", []string{"ExecuteCommand dpkg -s ntp"}},
		{"disabled", map[string]any{"Enable NTP service": "false"}, true, "ubuntu", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			host := h.conn.Host("demo-master-0")
			host.OS = tc.os
			host.Packages["ntp"] = tc.installed
			spec := demoSpec(1)
			if tc.configs != nil {
				spec.ClusterConfigs = sahara.Configs{"general": tc.configs}
			}
			c, _ := h.eng.NewCluster(spec)
			if err := h.eng.Create(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, call := range h.conn.LogFor("demo-master-0") {
				if strings.Contains(call.Arg, "ntp") {
					s := call.Method + " " + call.Arg
					if call.Method == "PrependToFile" {
						s += " " + string(call.Data)
					}
					if call.RunAsRoot {
						s += " (root)"
					}
					got = append(got, s)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ntp calls:\n%q\nwant\n%q", got, tc.want)
			}
			if b, _ := host.File("/etc/ntp.conf"); tc.installed && tc.configs == nil && string(b) != "server pool.ntp.org iburst\n" {
				t.Errorf("ntp.conf = %q", b)
			}
		})
	}
}

func TestEngineCreate_TimeoutStillCleansUp(t *testing.T) {
	h := newHarness(t, 0)
	h.infra.BootLatency = time.Hour
	c, _ := h.eng.NewCluster(demoSpec(2))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := h.eng.Create(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if c.Status != sahara.StatusError || !strings.Contains(c.StatusDescription, "context deadline exceeded") {
		t.Fatalf("%s %q", c.Status, c.StatusDescription)
	}
	if left := h.infra.Leftovers(c.ID); len(left) != 0 {
		t.Fatalf("a timed-out create left %v", left)
	}
}
