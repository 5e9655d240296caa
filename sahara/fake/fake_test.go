package fake

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func testCluster(n int) *sahara.Cluster {
	c := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c"}}
	ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "g", VolumesPerNode: 2, VolumesSize: 1})
	ng.ImageUsername = "ubuntu"
	for i := 0; i < n; i++ {
		ng.AddInstance(ng.NewInstance(i))
	}
	return c
}

func TestSplitWords_Quoting(t *testing.T) {
	for in, want := range map[string][]string{
		`sudo cp a b`:                 {"sudo", "cp", "a", "b"},
		`echo 'it'\''s $(x)'`:         {"echo", "it's $(x)"},
		`grep -qsF -- '/dev/vdb ' /p`: {"grep", "-qsF", "--", "/dev/vdb ", "/p"},
		`a "b \" c"  d`:               {"a", `b " c`, "d"},
	} {
		if got := splitWords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConnector_EmulatesFilesAndCommands(t *testing.T) {
	ctx := context.Background()
	c := testCluster(1)
	in := c.Instances()[0]
	conn := NewConnector()
	pool, _ := conn.Connect(ctx, c)
	r := pool.Remote(in)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.WriteFileTo(ctx, "f", []byte("a-eggs"), sahara.FileOptions{}))
	must(r.AppendToFile(ctx, "f", []byte("\nline two"), sahara.FileOptions{}))
	must(r.ReplaceRemoteString(ctx, "f", "eggs", "pony", sahara.FileOptions{}))
	must(r.ReplaceRemoteLine(ctx, "f", "line", "LINE", sahara.FileOptions{}))
	must(r.PrependToFile(ctx, "/etc/x", []byte("top\n"), sahara.FileOptions{}))
	if b, _ := r.ReadFileFrom(ctx, "/home/ubuntu/f", sahara.FileOptions{}); string(b) != "a-pony\nLINE" {
		t.Fatalf("file = %q", b)
	}
	if _, err := r.ExecuteCommand(ctx, "sudo cp f /etc/copy", sahara.ExecOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := conn.Host(in.InstanceName).File("/etc/copy"); string(b) != "a-pony\nLINE" {
		t.Fatalf("copy = %q", b)
	}
	res, _ := r.ExecuteCommand(ctx, "grep -qsF -- '/dev/vdb ' /proc/mounts", sahara.ExecOptions{IgnoreExitCode: true})
	if res.ExitCode != 1 {
		t.Fatalf("unmounted device found")
	}
	must2 := func(_ sahara.Result, err error) { must(err) }
	must2(r.ExecuteCommand(ctx, "sudo mount -t xfs -o noatime /dev/vdb /volumes/disk1", sahara.ExecOptions{}))
	if res, _ := r.ExecuteCommand(ctx, "grep -qsF -- '/dev/vdb ' /proc/mounts", sahara.ExecOptions{IgnoreExitCode: true}); res.ExitCode != 0 {
		t.Fatalf("mounted device not found")
	}
	var ce *sahara.CommandError
	if _, err := r.ExecuteCommand(ctx, "cat /nope", sahara.ExecOptions{}); !errors.As(err, &ce) || ce.ExitCode != 1 {
		t.Fatalf("cat of a missing file: %v", err)
	}
	if conn.Calls("ExecuteCommand") != 5 || conn.Handshakes() != 1 || conn.Connects() != 1 {
		t.Errorf("counters: exec %d handshakes %d connects %d", conn.Calls("ExecuteCommand"), conn.Handshakes(), conn.Connects())
	}
}

func TestConnector_FaultsUnreachableAndHostKeys(t *testing.T) {
	ctx := context.Background()
	c := testCluster(2)
	a, b := c.Instances()[0], c.Instances()[1]
	conn := NewConnector()
	pool, _ := conn.Connect(ctx, c)
	conn.Fail("ExecuteCommand", a.InstanceName, "mkfs", nil).Times = 1
	var ce *sahara.CommandError
	if _, err := pool.Remote(a).ExecuteCommand(ctx, "sudo mkfs.xfs -f /dev/vdb", sahara.ExecOptions{}); !errors.As(err, &ce) {
		t.Fatalf("fault: %v", err)
	}
	if _, err := pool.Remote(a).ExecuteCommand(ctx, "sudo mkfs.xfs -f /dev/vdb", sahara.ExecOptions{}); err != nil {
		t.Fatalf("fault fired twice: %v", err)
	}
	if _, err := pool.Remote(b).ExecuteCommand(ctx, "sudo mkfs.xfs -f /dev/vdb", sahara.ExecOptions{}); err != nil {
		t.Fatalf("fault hit another instance: %v", err)
	}
	conn.SetUnreachable(b.InstanceName, true)
	if _, err := pool.WaitAccessible(ctx, b); err == nil {
		t.Fatal("unreachable instance accessible")
	}
	key, err := pool.WaitAccessible(ctx, a)
	if err != nil || key != conn.HostKey(a.InstanceName) {
		t.Fatalf("WaitAccessible = %q, %v", key, err)
	}
	a.HostKey = "ssh-ed25519 AAAAother"
	if _, err := pool.WaitAccessible(ctx, a); err == nil {
		t.Fatal("host key mismatch accepted")
	}
	a.HostKey = "ssh-rsa AAAAx\n" + conn.HostKey(a.InstanceName)
	if _, err := pool.WaitAccessible(ctx, a); err != nil {
		t.Fatalf("one of several pinned keys: %v", err)
	}
}

func TestInfra_SpawnDeleteAndLeftovers(t *testing.T) {
	ctx := context.Background()
	c := testCluster(3)
	f := NewInfra()
	if err := f.PrepareCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.Fail("SpawnInstances", "c-g-1", errors.New("no host"))
	var progressed []string
	var mu sync.Mutex // progress runs on each server's goroutine
	err := f.SpawnInstances(ctx, c, c.Instances(), func(in *sahara.Instance, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			progressed = append(progressed, in.InstanceName)
		}
	})
	if err == nil || len(progressed) != 2 {
		t.Fatalf("spawn: %v, progressed %v", err, progressed)
	}
	ins := c.Instances()
	if ins[1].CloudStatus != "ERROR" || ins[0].CloudStatus != "ACTIVE" || len(ins[0].Volumes) != 2 || ins[0].Volumes[1].Device != "/dev/vdc" {
		t.Fatalf("facts %+v", ins[0])
	}
	if got := len(f.Leftovers(c.ID)); got != 3+6+1 {
		t.Fatalf("leftovers %v", f.Leftovers(c.ID))
	}
	if err := f.DeleteInstances(ctx, c, ins[:1]); err != nil {
		t.Fatal(err)
	}
	f.RemoveServer("c-g-2")
	if err := f.RefreshInstances(ctx, c); err != nil {
		t.Fatal(err)
	}
	if ins[0].CloudStatus != sahara.CloudStatusMissing || ins[1].CloudStatus != "ERROR" || ins[2].CloudStatus != sahara.CloudStatusMissing {
		t.Fatalf("refreshed %s %s %s", ins[0].CloudStatus, ins[1].CloudStatus, ins[2].CloudStatus)
	}
	for i := 0; i < 2; i++ {
		if err := f.DeleteCluster(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if left := f.Leftovers(c.ID); len(left) != 0 {
		t.Fatalf("leftovers %v", left)
	}
}

func TestStore_RoundTrip(t *testing.T) {
	ctx := context.Background()
	s := NewStore()
	c := testCluster(1)
	if err := s.Put(ctx, sahara.KindCluster, c.ID, c); err != nil {
		t.Fatal(err)
	}
	var got sahara.Cluster
	if err := s.Get(ctx, sahara.KindCluster, c.ID, &got); err != nil || got.Name != "c" || len(got.NodeGroups[0].Instances) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if ids, _ := s.List(ctx, sahara.KindCluster); !reflect.DeepEqual(ids, []string{"cid"}) {
		t.Fatalf("list %v", ids)
	}
	_ = s.Delete(ctx, sahara.KindCluster, c.ID)
	if err := s.Get(ctx, sahara.KindCluster, c.ID, &got); !errors.Is(err, sahara.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
