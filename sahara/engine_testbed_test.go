package sahara_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEngine_TestbedLifecycle drives the engine with the fake plugin on the
// testbed's OpenStack over real SSH: create (a volume per worker, an auto
// security group), scale up, scale down naming the victim, delete; the
// statuses are Sahara's lifecycle and nothing of the cluster is left.
func TestEngine_TestbedLifecycle(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	cloud, err := openstack.New(ctx, openstack.Config{Cloud: env.Cloud}, openstack.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := sahara.NewRegistry(pfake.New())
	conn := &sshremote.Connector{Logger: logger}
	var mu sync.Mutex
	var statuses []sahara.ClusterStatus
	e, err := sahara.New(sahara.Options{Infra: cloud, Remotes: conn, Plugins: reg, Logger: logger, Observer: func(ev sahara.Event) {
		if ev.Kind == sahara.EventStatus {
			mu.Lock()
			statuses = append(statuses, ev.Status)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	take := func() []sahara.ClusterStatus {
		mu.Lock()
		defer mu.Unlock()
		s := statuses
		statuses = nil
		return s
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	c, err := e.NewCluster(sahara.ClusterSpec{
		Name: "et" + hex.EncodeToString(suffix), PluginName: "fake", PluginVersion: pfake.Version,
		DefaultImageID: env.Images["fake"], NeutronManagementNetwork: env.NetworkID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{pfake.NameNode, pfake.ResourceManager}, AutoSecurityGroup: true},
			{Name: "worker", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{pfake.DataNode, pfake.NodeManager}, VolumesPerNode: 1, VolumesSize: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer dcancel()
		if err := e.Delete(dctx, c); err != nil {
			t.Errorf("Delete: %v", err)
		}
		env.AssertNoLeftovers(t, c.ID)
	})

	start := time.Now()
	if err := e.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v (status %s: %s)", err, c.Status, c.StatusDescription)
	}
	t.Logf("create: %s in %s", c.Status, time.Since(start).Round(time.Second))
	if got := take(); !reflect.DeepEqual(got, createStatuses) {
		t.Errorf("create statuses %v", got)
	}
	pool, err := conn.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	sh := func(in *sahara.Instance, cmd string) string {
		t.Helper()
		res, err := pool.Remote(in).ExecuteCommand(ctx, cmd, sahara.ExecOptions{})
		if err != nil {
			t.Fatalf("%s: %s: %v", in.InstanceName, cmd, err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	checkAll := func(step string) {
		t.Helper()
		for _, in := range c.Instances() {
			hosts := sh(in, "cat /etc/hosts")
			for _, other := range c.Instances() {
				if line := other.InternalIP + " " + other.FQDN() + " " + other.InstanceName; !strings.Contains(hosts, line) {
					t.Errorf("%s: %s /etc/hosts lacks %q:\n%s", step, in.InstanceName, line, hosts)
				}
			}
			if got := sh(in, "cat test_data"); got != "sp@m and pony" {
				t.Errorf("%s: %s test_data %q", step, in.InstanceName, got)
			}
			if got := sh(in, "hostname"); got != in.FQDN() {
				t.Errorf("%s: %s hostname %q", step, in.InstanceName, got)
			}
		}
	}
	checkAll("create")
	w0 := c.NodeGroup("worker").Instances[0]
	if got := sh(w0, "findmnt -n -o SOURCE,TARGET /volumes/disk1"); !strings.HasSuffix(got, " /volumes/disk1") || w0.StorageDevicesNumber != 1 {
		t.Errorf("worker volume: %q, devices %d", got, w0.StorageDevicesNumber)
	}
	if w0.HostKey == "" || c.NodeGroup("master").SecurityGroupID == "" {
		t.Errorf("facts: host key %q, security group %q", w0.HostKey, c.NodeGroup("master").SecurityGroupID)
	}

	if err := e.Scale(ctx, c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}}); err != nil {
		t.Fatalf("scale up: %v (%s)", err, c.StatusDescription)
	}
	if got := take(); !reflect.DeepEqual(got, scaleUpStatuses) {
		t.Errorf("scale up statuses %v", got)
	}
	checkAll("scale up")

	if err := e.Scale(ctx, c, sahara.ScaleRequest{Resize: map[string]int{"worker": 1}, Remove: map[string][]string{"worker": {w0.InstanceID}}}); err != nil {
		t.Fatalf("scale down: %v (%s)", err, c.StatusDescription)
	}
	if got := take(); !reflect.DeepEqual(got, scaleDownStatuses) {
		t.Errorf("scale down statuses %v", got)
	}
	if got := instanceNames(c); len(got) != 2 || got[1] != c.Name+"-worker-1" {
		t.Errorf("instances after scale down %v", got)
	}
	checkAll("scale down")
	t.Logf("lifecycle in %s, %d SSH handshakes", time.Since(start).Round(time.Second), conn.Handshakes())
}
