package sahara_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// attachLoopVolume gives a host a real block device at /dev/vdb: a sparse
// file on a loop device, its node created inside the host's own /dev (the
// host sees none of the machine's disks).
func attachLoopVolume(t *testing.T, h *sshtest.Host) {
	t.Helper()
	img := filepath.Join(t.TempDir(), h.Name+"-vdb.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 512<<20); err != nil { // mkfs.xfs wants ≥300 MiB
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	// A busy device is detached lazily once the host's namespace is gone.
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
	var st struct{ maj, min int }
	out, err = exec.Command("stat", "-c", "%t %T", loop).Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(string(out), "%x %x", &st.maj, &st.min); err != nil {
		t.Fatalf("device numbers of %s: %v", loop, err)
	}
	h.Run(t, fmt.Sprintf("mknod /dev/vdb b %d %d && chmod 660 /dev/vdb", st.maj, st.min))
}

// TestEngine_RealHosts runs create, scale up, scale down and delete with
// the fake plugin over real sshd hosts reached through the SSH remote; only
// the cloud is in memory. Workers get a real block device, which the engine
// formats and mounts.
func TestEngine_RealHosts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lab := sshtest.New(t)
	infra := fake.NewInfra(sahara.Image{ID: imageID, Username: sshtest.DefaultUser, Tags: []string{"fake", "0.1"}})
	infra.ServiceHostLines = []string{"192.0.2.10 keystone.example.org"}
	conn := &sshremote.Connector{ConnectTimeout: 10 * time.Second, RetryBackoff: 100 * time.Millisecond}
	reg, _ := sahara.NewRegistry(pfake.New())
	logs := &syncBuffer{}
	eng, err := sahara.New(sahara.Options{Infra: infra, Remotes: conn, Plugins: reg,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	spec := demoSpec(2)
	spec.NodeGroups[1].VolumesPerNode = 1
	c, err := eng.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	hosts := lab.AddHosts(t, 4, sshtest.HostOptions{Name: "h", AuthorizedKeys: []string{c.ManagementPublicKey}})
	names := []string{"demo-master-0", "demo-worker-0", "demo-worker-1", "demo-worker-2"}
	byName := map[string]*sshtest.Host{}
	infra.Addresses = map[string]string{}
	infra.PublishedHostKeys = map[string][]string{}
	for i, n := range names {
		byName[n] = hosts[i]
		infra.Addresses[n] = hosts[i].IP()
		infra.PublishedHostKeys[n] = []string{hosts[i].HostKey}
		if i > 0 {
			attachLoopVolume(t, hosts[i])
		}
	}
	checkHosts := func(step string) {
		t.Helper()
		want := "127.0.0.1 localhost\n"
		for _, in := range c.Instances() {
			want += fmt.Sprintf("%s %s.novalocal %s\n", in.InternalIP, in.InstanceName, in.InstanceName)
		}
		want += "192.0.2.10 keystone.example.org\n"
		for _, in := range c.Instances() {
			h := byName[in.InstanceName]
			if got := h.Run(t, "cat /etc/hosts"); got != want {
				t.Errorf("%s: %s /etc/hosts = %q, want %q", step, in.InstanceName, got, want)
			}
			if got := strings.TrimSpace(h.Run(t, "hostname")); got != in.InstanceName+".novalocal" {
				t.Errorf("%s: %s hostname %q", step, in.InstanceName, got)
			}
			if got := strings.TrimSpace(h.Run(t, "cat /home/cloud-user/test_data")); got != "sp@m and pony" {
				t.Errorf("%s: %s test_data %q", step, in.InstanceName, got)
			}
		}
	}

	if err := eng.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v\n%s", err, logs.String())
	}
	if c.Status != sahara.StatusActive {
		t.Fatalf("status %s %q", c.Status, c.StatusDescription)
	}
	checkHosts("create")
	for _, n := range []string{"demo-worker-0", "demo-worker-1"} {
		h := byName[n]
		if got := strings.Fields(h.Run(t, "findmnt -n -o SOURCE,FSTYPE,TARGET /volumes/disk1")); !reflect.DeepEqual(got, []string{"/dev/vdb", "xfs", "/volumes/disk1"}) {
			t.Errorf("%s mount = %v", n, got)
		}
		if !strings.Contains(h.Run(t, "cat /etc/fstab"), "/dev/vdb /volumes/disk1 xfs") {
			t.Errorf("%s: no fstab line", n)
		}
		if in := c.Instance(n); in.StorageDevicesNumber != 1 || in.HostKey != h.HostKey {
			t.Errorf("%s facts: devices %d, host key pinned %v", n, in.StorageDevicesNumber, in.HostKey == h.HostKey)
		}
	}
	if got := byName["demo-master-0"].Run(t, "getent passwd cloud-user | cut -d: -f7"); strings.TrimSpace(got) != "/bin/bash" {
		t.Errorf("login shell %q", got)
	}

	if err := eng.Scale(ctx, c, sahara.ScaleRequest{Resize: map[string]int{"worker": 3}}); err != nil {
		t.Fatalf("scale up: %v\n%s", err, logs.String())
	}
	checkHosts("scale up")
	if got := byName["demo-worker-0"].Run(t, "cat /home/cloud-user/fake-datanodes"); got != "demo-worker-0.novalocal\ndemo-worker-1.novalocal\ndemo-worker-2.novalocal\n" {
		t.Errorf("datanodes after scale up: %q", got)
	}

	if err := eng.Scale(ctx, c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}, Remove: map[string][]string{"worker": {"demo-worker-0"}}}); err != nil {
		t.Fatalf("scale down: %v", err)
	}
	if got := instanceNames(c); !reflect.DeepEqual(got, []string{"demo-master-0", "demo-worker-1", "demo-worker-2"}) {
		t.Fatalf("instances after scale down: %v", got)
	}
	checkHosts("scale down")
	if got := byName["demo-master-0"].Run(t, "cat /home/cloud-user/fake-exclude"); got != "demo-worker-0.novalocal\n" {
		t.Errorf("exclude %q", got)
	}

	if err := eng.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	if left := infra.Leftovers(c.ID); len(left) != 0 {
		t.Fatalf("leftovers %v", left)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("private key logged")
	}
}
