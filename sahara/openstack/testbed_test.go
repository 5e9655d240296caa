package openstack

import (
	"context"
	"errors"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// testbedCloud authenticates to the testbed through its clouds.yaml entry,
// counting requests.
func testbedCloud(t *testing.T, env *testbed.Env) (*Cloud, *countingTransport) {
	t.Helper()
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctr := newCounter(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := New(ctx, Config{Cloud: env.Cloud, MaxRetries: new(3)}, WithTransport(ctr), WithLogger(testLogger(t)), WithPollInterval(time.Second))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, ctr
}

// testCluster builds a cluster record on the testbed's network and image.
func testCluster(t *testing.T, env *testbed.Env, specs ...sahara.NodeGroupSpec) *sahara.Cluster {
	t.Helper()
	priv, pub, err := sahara.GenerateManagementKey("saharagen-test")
	if err != nil {
		t.Fatal(err)
	}
	id := newUUID()
	cl := &sahara.Cluster{
		ID: id,
		ClusterSpec: sahara.ClusterSpec{
			Name: "it" + id[:6], PluginName: "fake", PluginVersion: "0.1",
			DefaultImageID: env.Images["fake"], NeutronManagementNetwork: env.NetworkID,
		},
		ManagementPrivateKey: priv, ManagementPublicKey: pub,
	}
	for _, s := range specs {
		if s.FlavorID == "" {
			s.FlavorID = env.FlavorID
		}
		ng := cl.AddNodeGroup(s)
		for _, i := range ng.FreeIndexes(s.Count) {
			ng.AddInstance(ng.NewInstance(i))
		}
	}
	return cl
}

// cleanupCluster deletes whatever the test left and asserts nothing of the
// cluster remains.
func cleanupCluster(t *testing.T, env *testbed.Env, c *Cloud, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := c.DeleteCluster(ctx, &sahara.Cluster{ID: id}); err != nil {
			t.Errorf("cleanup DeleteCluster: %v", err)
		}
		env.AssertNoLeftovers(t, id)
	})
}

func TestCloud_SpawnAndDeleteWithEveryOption(t *testing.T) {
	env := testbed.Require(t)
	c, _ := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cl := testCluster(t, env,
		sahara.NodeGroupSpec{
			Name: "master", Count: 1, NodeProcesses: []string{"namenode"},
			AutoSecurityGroup: true, SecurityGroups: []string{"default"}, AutoSecurityGroupCIDRs: []string{"203.0.113.0/24"},
			FloatingIPPool: env.ExternalNetworkName, AvailabilityZone: "nova",
			VolumesPerNode: 2, VolumesSize: 1, VolumesAvailabilityZone: "nova",
		},
		sahara.NodeGroupSpec{Name: "worker", Count: 3, NodeProcesses: []string{"datanode"}, AutoSecurityGroup: true},
	)
	cl.NodeGroups[0].OpenPorts = []int{50070, 9000, 22}
	cl.NodeGroups[1].OpenPorts = []int{50010}
	cl.AntiAffinity = []string{"datanode"}
	cl.AntiAffinityRatio = 1
	cleanupCluster(t, env, c, cl.ID)

	// a user keypair whose key must reach authorized_keys through user data
	admin, err := env.Clients(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	_, userPub, _ := sahara.GenerateManagementKey("user")
	userKP := "it-user-" + cl.ID[:8]
	if _, err := keypairs.Create(ctx, admin.Compute, keypairs.CreateOpts{Name: userKP, PublicKey: userPub}).Extract(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keypairs.Delete(context.Background(), admin.Compute, userKP, nil).ExtractErr() })
	cl.UserKeypairID = userKP

	if err := c.PrepareCluster(ctx, cl); err != nil {
		t.Fatalf("PrepareCluster: %v", err)
	}
	if err := c.PrepareCluster(ctx, cl); err != nil { // idempotent
		t.Fatalf("second PrepareCluster: %v", err)
	}
	if len(cl.ServerGroupIDs) != 1 {
		t.Fatalf("server groups: %v", cl.ServerGroupIDs)
	}
	var progressed []string
	err = c.SpawnInstances(ctx, cl, cl.Instances(), func(in *sahara.Instance, err error) {
		if err != nil {
			t.Errorf("progress %s: %v", in.InstanceName, err)
		}
		progressed = append(progressed, in.InstanceName)
	})
	if err != nil {
		t.Fatalf("SpawnInstances: %v", err)
	}
	if len(progressed) != 4 {
		t.Fatalf("progress reported %v", progressed)
	}
	_, subnet, _ := net.ParseCIDR(env.SubnetCIDR)
	master := cl.NodeGroups[0].Instances[0]
	for _, in := range cl.Instances() {
		if in.CloudStatus != "ACTIVE" || in.InstanceID == "" {
			t.Errorf("%s: status %q id %q", in.InstanceName, in.CloudStatus, in.InstanceID)
		}
		if ip := net.ParseIP(in.InternalIP); ip == nil || !subnet.Contains(ip) {
			t.Errorf("%s: internal IP %q not in %s", in.InstanceName, in.InternalIP, env.SubnetCIDR)
		}
		if in != master && in.ManagementIP != in.InternalIP {
			t.Errorf("%s: management IP %q, want the internal %q", in.InstanceName, in.ManagementIP, in.InternalIP)
		}
	}
	if master.FloatingIPID == "" || master.ManagementIP == master.InternalIP || subnet.Contains(net.ParseIP(master.ManagementIP)) {
		t.Errorf("master: floating IP %q id %q", master.ManagementIP, master.FloatingIPID)
	}
	if len(master.Volumes) != 2 || master.Volumes[0].Device == "" || master.Volumes[0].Device == master.Volumes[1].Device {
		t.Errorf("master volumes: %+v", master.Volumes)
	}

	// what Nova holds: name, metadata, tags, keypair, AZ; hosts of anti-affine workers
	adm, err := env.Clients(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{}
	for _, in := range cl.Instances() {
		s, err := servers.Get(ctx, adm.Compute, in.InstanceID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != in.InstanceName || s.Metadata[sahara.TagCluster] != cl.ID || s.Metadata[sahara.TagNodeGroup] != in.NodeGroup().Name {
			t.Errorf("server %s: name %q metadata %v", in.InstanceName, s.Name, s.Metadata)
		}
		if s.Tags == nil || !contains(*s.Tags, clusterTag(cl.ID)) {
			t.Errorf("server %s: tags %v", in.InstanceName, s.Tags)
		}
		if s.KeyName != keypairName(cl) {
			t.Errorf("server %s: key_name %q", in.InstanceName, s.KeyName)
		}
		if s.AvailabilityZone != "nova" {
			t.Errorf("server %s: AZ %q", in.InstanceName, s.AvailabilityZone)
		}
		if in.NodeGroup().Name == "worker" {
			if other, dup := hosts[s.Host]; dup {
				t.Errorf("anti-affinity: %s and %s share host %s", other, in.InstanceName, s.Host)
			}
			hosts[s.Host] = in.InstanceName
		}
	}

	// the auto security groups hold exactly the expected ingress rules
	var members []string
	for _, ng := range cl.NodeGroups {
		if ng.AutoSecurityGroup {
			members = append(members, ng.SecurityGroupID)
		}
	}
	for _, ng := range cl.NodeGroups {
		sg, err := groups.Get(ctx, adm.Network, ng.SecurityGroupID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if sg.Name != AutoSecurityGroupName(cl, ng) || !contains(sg.Tags, clusterTag(cl.ID)) {
			t.Errorf("security group %s: name %q tags %v", ng.Name, sg.Name, sg.Tags)
		}
		var got []string
		for _, r := range sg.Rules {
			if r.Direction == "ingress" {
				got = append(got, SecurityRule{r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax, r.RemoteIPPrefix, r.RemoteGroupID}.key())
			}
		}
		var want []string
		for _, r := range AutoSecurityGroupRules(ng.OpenPorts, ng.AutoSecurityGroupCIDRs, members) {
			want = append(want, r.key())
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("security group %s rules:\n got %v\nwant %v", ng.Name, got, want)
		}
	}
	// the master's port carries the named group and the auto group
	pl, err := listPorts(ctx, adm.Network, ports.ListOpts{DeviceID: master.InstanceID})
	if err != nil || len(pl) != 1 {
		t.Fatalf("master ports: %v %v", pl, err)
	}
	if len(pl[0].SecurityGroups) != 2 || !contains(pl[0].SecurityGroups, cl.NodeGroups[0].SecurityGroupID) {
		t.Errorf("master port security groups: %v", pl[0].SecurityGroups)
	}

	// host keys from the console (the testbed prints them like cloud-init)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		keys, err := c.HostKeys(ctx, master)
		if err != nil {
			t.Fatalf("HostKeys: %v", err)
		}
		if len(keys) > 0 {
			if !strings.HasPrefix(keys[0], "ssh-") {
				t.Errorf("host key %q", keys[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no host key in the console log")
		}
		time.Sleep(2 * time.Second)
	}

	// remove one worker: its server, port goes; the rest stays
	victim := cl.NodeGroups[1].Instances[2]
	if err := c.DeleteInstances(ctx, cl, []*sahara.Instance{victim}); err != nil {
		t.Fatalf("DeleteInstances: %v", err)
	}
	if err := c.RefreshInstances(ctx, cl); err != nil {
		t.Fatalf("RefreshInstances: %v", err)
	}
	if victim.CloudStatus != sahara.CloudStatusMissing {
		t.Errorf("victim status %q", victim.CloudStatus)
	}
	for _, in := range cl.Instances() {
		if in != victim && in.CloudStatus != "ACTIVE" {
			t.Errorf("%s after refresh: %q", in.InstanceName, in.CloudStatus)
		}
	}
	if pl, _ := listPorts(ctx, adm.Network, ports.ListOpts{Name: victim.InstanceName}); len(pl) != 0 {
		t.Errorf("victim port left: %v", pl)
	}

	// master's volumes: detached and deleted with the master
	if err := c.DeleteInstances(ctx, cl, []*sahara.Instance{master}); err != nil {
		t.Fatalf("DeleteInstances(master): %v", err)
	}
	vols, err := c.listClusterVolumes(ctx, adm.Volume, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if v.Status != "deleting" {
			t.Errorf("volume %s left in %s", v.ID, v.Status)
		}
	}

	if err := c.DeleteCluster(ctx, cl); err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	env.AssertNoLeftovers(t, cl.ID)
	if err := c.DeleteCluster(ctx, cl); err != nil {
		t.Fatalf("second DeleteCluster: %v", err)
	}
}

func TestCloud_SpawnErrorReportsNovaFault(t *testing.T) {
	env := testbed.Require(t)
	c, _ := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cl := testCluster(t, env,
		sahara.NodeGroupSpec{Name: "fault-spawn", Count: 1, NodeProcesses: []string{"x"}},
		sahara.NodeGroupSpec{Name: "ok", Count: 1, NodeProcesses: []string{"y"}},
	)
	cleanupCluster(t, env, c, cl.ID)
	if err := c.PrepareCluster(ctx, cl); err != nil {
		t.Fatal(err)
	}
	failed := map[string]error{}
	err := c.SpawnInstances(ctx, cl, cl.Instances(), func(in *sahara.Instance, err error) { failed[in.InstanceName] = err })
	bad := cl.NodeGroups[0].Instances[0]
	if err == nil {
		t.Fatal("SpawnInstances succeeded with a server in ERROR")
	}
	var ie *sahara.InstanceError
	if !errors.As(err, &ie) || ie.Instance != bad.InstanceName {
		t.Fatalf("error does not name %s: %v", bad.InstanceName, err)
	}
	if !strings.Contains(err.Error(), "testbed fault injected: spawn_error") || !strings.Contains(err.Error(), bad.InstanceName) {
		t.Fatalf("error lacks Nova's fault text or the server name: %v", err)
	}
	if failed[bad.InstanceName] == nil || failed[cl.NodeGroups[1].Instances[0].InstanceName] != nil {
		t.Fatalf("progress: %v", failed)
	}
	if bad.InstanceID == "" || bad.CloudStatus != "ERROR" {
		t.Fatalf("failed instance not recorded for cleanup: id %q status %q", bad.InstanceID, bad.CloudStatus)
	}
}

func TestCloud_QuotaShortfallDetectedBeforeCreation(t *testing.T) {
	env := testbed.Require(t)
	c, _ := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl := testCluster(t, env, sahara.NodeGroupSpec{Name: "data", Count: 2, NodeProcesses: []string{"x"}, VolumesPerNode: 2, VolumesSize: 5})
	cleanupCluster(t, env, c, cl.ID)
	req, err := c.EstimateQuota(ctx, cl, cl.Instances())
	if err != nil {
		t.Fatal(err)
	}
	if req.Instances != 2 || req.Cores != 2 || req.RAMMB != 2*512 || req.Ports != 2 || req.Volumes != 4 || req.VolumeGB != 20 {
		t.Fatalf("estimate %+v", req)
	}
	if err := c.CheckQuotas(ctx, cl, req); err != nil {
		t.Fatalf("CheckQuotas with default quotas: %v", err)
	}
	vc, err := c.volume(ctx)
	if err != nil {
		t.Fatal(err)
	}
	usage, err := quotasets.GetUsage(ctx, vc, c.ProjectID()).Extract()
	if err != nil {
		t.Fatal(err)
	}
	restore, err := env.SetQuota(ctx, map[string]int{"gigabytes": usage.Gigabytes.InUse + usage.Gigabytes.Reserved + 3})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckQuotas(ctx, cl, req)
	restore()
	if !errors.Is(err, sahara.ErrValidation) || !strings.Contains(err.Error(), "Quota exceeded for volume gigabytes: Requested 20, but available") {
		t.Fatalf("CheckQuotas with a low gigabytes quota: %v", err)
	}
	env.AssertNoLeftovers(t, cl.ID)
}

func TestCloud_DeleteClusterAfterSimulatedCrash(t *testing.T) {
	env := testbed.Require(t)
	c, _ := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cl := testCluster(t, env,
		sahara.NodeGroupSpec{Name: "a", Count: 3, NodeProcesses: []string{"p"}, AutoSecurityGroup: true,
			FloatingIPPool: env.ExternalNetworkID, VolumesPerNode: 1, VolumesSize: 1},
	)
	cl.AntiAffinity, cl.AntiAffinityRatio = []string{"p"}, 2
	id := cl.ID
	cleanupCluster(t, env, c, id)
	if err := c.PrepareCluster(ctx, cl); err != nil {
		t.Fatal(err)
	}
	p, err := c.planSpawn(ctx, cl, cl.Instances())
	if err != nil {
		t.Fatal(err)
	}
	// two instances booted without waiting, one got only its port, and one
	// port exists untagged (the crash hit between create and tag)
	ins := cl.Instances()
	for _, in := range ins[:2] {
		if err := c.boot(ctx, p, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.ensurePort(ctx, p, ins[2]); err != nil {
		t.Fatal(err)
	}
	orphan, err := ports.Create(ctx, p.nc, ports.CreateOpts{NetworkID: p.netID, Name: "orphan", Description: clusterTag(id)}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	before, err := env.Leftovers(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("objects before cleanup: %s", before)
	// the helper counts tagged ports: the orphan is checked below
	if before["servers"] != 2 || before["ports"] != 3 || before["floating_ips"] != 2 || before["volumes"] != 2 ||
		before["security_groups"] != 1 || before["server_groups"] != 2 || before["keypairs"] != 1 {
		t.Fatalf("unexpected objects before cleanup: %s", before)
	}
	cl = nil // the in-memory record is lost
	if err := c.DeleteCluster(ctx, &sahara.Cluster{ID: id}); err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	env.AssertNoLeftovers(t, id)
	if _, err := ports.Get(ctx, p.nc, orphan.ID).Extract(); !isNotFound(err) {
		t.Fatalf("the untagged orphan port survived: %v", err)
	}
	if err := c.DeleteCluster(ctx, &sahara.Cluster{ID: id}); err != nil {
		t.Fatalf("second DeleteCluster: %v", err)
	}
}

func TestStore_SwiftRoundTrip(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	container := "saharagen-test-" + newUUID()[:8]
	s, err := NewStore(ctx, Config{Cloud: env.Cloud}, container)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteContainer(t, s) })
	id := newUUID()
	storeRoundTrip(ctx, t, s, id, func() {
		if n, _ := env.Leftovers(ctx, id); n["objects"] != 1 {
			t.Fatalf("the record is not the object clusters/%s.json: %s", id, n)
		}
	})
	env.AssertNoLeftovers(t, id)
}

// storeRoundTrip writes a cluster record twice and a template, reads and
// lists them, runs written (the store's own checks), then deletes the record
// twice; ids with a slash are refused.
func storeRoundTrip(ctx context.Context, t *testing.T, s sahara.Store, id string, written func()) {
	t.Helper()
	in := sahara.Cluster{ID: id, ClusterSpec: sahara.ClusterSpec{Name: "c1", PluginName: "fake"}, Status: sahara.StatusActive}
	if err := s.Put(ctx, sahara.KindCluster, id, in); err != nil {
		t.Fatal(err)
	}
	in.Status = sahara.StatusError
	if err := s.Put(ctx, sahara.KindCluster, id, in); err != nil { // overwrite
		t.Fatal(err)
	}
	if err := s.Put(ctx, sahara.KindNodeGroupTemplate, "t1", sahara.NodeGroupTemplate{ID: "t1", PluginName: "fake"}); err != nil {
		t.Fatal(err)
	}
	var out sahara.Cluster
	if err := s.Get(ctx, sahara.KindCluster, id, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != id || out.Name != "c1" || out.Status != sahara.StatusError {
		t.Fatalf("round trip: %+v", out)
	}
	ids, err := s.List(ctx, sahara.KindCluster)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("List clusters: %v %v", ids, err)
	}
	written()
	if err := s.Delete(ctx, sahara.KindCluster, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, sahara.KindCluster, id); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if err := s.Get(ctx, sahara.KindCluster, id, &out); !errors.Is(err, sahara.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := s.Put(ctx, sahara.KindCluster, "a/b", in); err == nil {
		t.Fatal("Put accepted an id with a slash")
	}
}

func deleteContainer(t *testing.T, s *Store) {
	ctx := context.Background()
	for _, kind := range []string{sahara.KindCluster, sahara.KindClusterTemplate, sahara.KindNodeGroupTemplate} {
		ids, _ := s.List(ctx, kind)
		for _, id := range ids {
			_ = s.Delete(ctx, kind, id)
		}
	}
	if _, err := containers.Delete(ctx, s.sc, s.container).Extract(); err != nil {
		t.Logf("deleting container %s: %v", s.container, err)
	}
}

// TestCloud_SpawnRequestCountIsLinear boots N = 1, 5, 10, 20 servers and
// counts the API requests of SpawnInstances: creates grow by a constant per
// server, list polls do not grow with N.
func TestCloud_SpawnRequestCountIsLinear(t *testing.T) {
	env := testbed.Require(t)
	c, ctr := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	type row struct{ n, total, creates, polls int }
	var rows []row
	for _, n := range []int{1, 5, 10, 20} {
		cl := testCluster(t, env, sahara.NodeGroupSpec{Name: "n", Count: n, NodeProcesses: []string{"p"}, FlavorID: env.Flavors["m1.tiny"]})
		cleanupCluster(t, env, c, cl.ID)
		if err := c.PrepareCluster(ctx, cl); err != nil {
			t.Fatal(err)
		}
		cl.NodeGroups[0].ImageUsername = env.ImageUser
		ctr.reset()
		if err := c.SpawnInstances(ctx, cl, cl.Instances(), nil); err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		r := row{n: n, total: ctr.total(), creates: ctr.count("POST", "/servers") + ctr.count("POST", "/ports"),
			polls: ctr.count("GET", "/servers/detail")}
		rows = append(rows, r)
		t.Logf("N=%d: %d requests (%d server+port creates, %d server list polls)\n%s", n, r.total, r.creates, r.polls, ctr)
		if r.creates != 2*n {
			t.Errorf("N=%d: %d creates, want %d", n, r.creates, 2*n)
		}
		if err := c.DeleteCluster(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	// requests beyond list polls: a constant per server
	for _, r := range rows {
		perServer := float64(r.total-r.polls) / float64(r.n)
		t.Logf("N=%2d total=%3d polls=%2d non-poll requests per server=%.2f", r.n, r.total, r.polls, perServer)
		if r.total-r.polls > 4*r.n+8 {
			t.Errorf("N=%d: %d non-poll requests, more than 4 per server + 8", r.n, r.total-r.polls)
		}
		if r.polls > 120 {
			t.Errorf("N=%d: %d list polls", r.n, r.polls)
		}
	}
}

// TestCloud_SpawnRetryAdoptsLeftovers: an apply died after booting one
// server and creating another's port; the retry, from a fresh record,
// reuses both and creates only what is missing.
func TestCloud_SpawnRetryAdoptsLeftovers(t *testing.T) {
	env := testbed.Require(t)
	c, ctr := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	spec := sahara.NodeGroupSpec{Name: "r", Count: 3, NodeProcesses: []string{"p"}, FlavorID: env.Flavors["m1.tiny"]}
	cl := testCluster(t, env, spec)
	cleanupCluster(t, env, c, cl.ID)
	if err := c.PrepareCluster(ctx, cl); err != nil {
		t.Fatal(err)
	}
	p, err := c.planSpawn(ctx, cl, cl.Instances())
	if err != nil {
		t.Fatal(err)
	}
	ins := cl.Instances()
	if err := c.boot(ctx, p, ins[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ensurePort(ctx, p, ins[1]); err != nil {
		t.Fatal(err)
	}
	oldID := ins[0].InstanceID

	retry := testCluster(t, env, spec)
	retry.ID, retry.Name = cl.ID, cl.Name
	retry.ManagementPrivateKey, retry.ManagementPublicKey = cl.ManagementPrivateKey, cl.ManagementPublicKey
	for _, ng := range retry.NodeGroups {
		for _, in := range ng.Instances {
			in.InstanceName = sahara.InstanceName(retry.Name, ng.Name, in.Index)
		}
	}
	ctr.reset()
	if err := c.SpawnInstances(ctx, retry, retry.Instances(), nil); err != nil {
		t.Fatalf("SpawnInstances: %v", err)
	}
	if got := retry.Instances()[0].InstanceID; got != oldID {
		t.Fatalf("instance 0 got server %s, want the adopted %s", got, oldID)
	}
	if s, pt := ctr.count("POST", "/servers"), ctr.count("POST", "/ports"); s != 2 || pt != 1 {
		t.Fatalf("retry created %d servers and %d ports, want 2 and 1:\n%s", s, pt, ctr)
	}
	left, err := env.Leftovers(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if left["servers"] != 3 || left["ports"] != 3 {
		t.Fatalf("objects after the retry: %s", left)
	}
}

// TestCloud_ImageRegistryRoundTrip registers a scratch image the way
// Sahara's image registry does, reads it back and unregisters it.
func TestCloud_ImageRegistryRoundTrip(t *testing.T) {
	env := testbed.Require(t)
	c, _ := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ic, err := c.client(ctx, svcImage)
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: "saharagen-test-" + newUUID()[:8], ContainerFormat: "bare", DiskFormat: "raw",
		Properties: map[string]string{"_sahara_tag_stale": "True", "keep": "me"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = images.Delete(context.Background(), ic, img.ID).ExtractErr() })

	if err := c.RegisterImage(ctx, img.ID, "ubuntu", "a test image", []string{"vanilla", "2.7.1"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetImage(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "ubuntu" || strings.Join(got.Tags, ",") != "2.7.1,vanilla" || got.Name != img.Name {
		t.Fatalf("registered image: %+v", got)
	}
	if d, err := c.ImageDescription(ctx, img.ID); err != nil || d != "a test image" {
		t.Fatalf("description %q %v", d, err)
	}
	if err := c.RegisterImage(ctx, img.ID, "centos", "", []string{"vanilla"}); err != nil { // change in place
		t.Fatal(err)
	}
	if got, _ = c.GetImage(ctx, img.ID); got.Username != "centos" || strings.Join(got.Tags, ",") != "vanilla" {
		t.Fatalf("re-registered image: %+v", got)
	}
	if d, _ := c.ImageDescription(ctx, img.ID); d != "" {
		t.Fatalf("description not removed: %q", d)
	}
	if err := c.UnregisterImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	raw, err := images.Get(ctx, ic, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	for k := range raw.Properties {
		if strings.HasPrefix(k, "_sahara_") {
			t.Errorf("property %s left after UnregisterImage", k)
		}
	}
	if raw.Properties["keep"] != "me" {
		t.Errorf("a foreign property was touched: %v", raw.Properties)
	}
	if _, err := c.GetImage(ctx, newUUID()); !errors.Is(err, sahara.ErrNotFound) || !errors.Is(err, sahara.ErrValidation) {
		t.Fatalf("missing image: %v", err)
	}
	if err := c.UnregisterImage(ctx, newUUID()); err != nil {
		t.Fatalf("UnregisterImage of a missing image: %v", err)
	}
}

// The Keystone credential store, for clouds without object storage: the
// same round trip as Swift's, records of other namespaces and kinds kept
// apart, and of two runs taking the same lease at once exactly one wins
// (Keystone picks credential IDs, so both may create a credential).
func TestCredentialStore_RoundTripAndLeases(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := New(ctx, Config{Cloud: env.Cloud})
	if err != nil {
		t.Fatal(err)
	}
	ns := "saharagen-test-" + newUUID()[:8]
	s, err := c.CredentialStore(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CredentialStore(ctx, ns+"-other")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, st := range []*CredentialStore{s, other} {
			for _, kind := range []string{sahara.KindCluster, sahara.KindNodeGroupTemplate, sahara.KindLease} {
				ids, _ := st.List(context.Background(), kind)
				for _, id := range ids {
					_ = st.Delete(context.Background(), kind, id)
				}
			}
		}
	})
	id := newUUID()
	if err := other.Put(ctx, sahara.KindCluster, id, sahara.Cluster{ID: id, ClusterSpec: sahara.ClusterSpec{Name: "elsewhere"}}); err != nil {
		t.Fatal(err)
	}
	storeRoundTrip(ctx, t, s, id, func() {
		if n := credentialCount(ctx, t, s, sahara.KindCluster, id); n != 1 {
			t.Fatalf("the record is %d credentials after an overwrite, want 1", n)
		}
	})
	var out sahara.Cluster
	if err := other.Get(ctx, sahara.KindCluster, id, &out); err != nil || out.Name != "elsewhere" {
		t.Fatalf("the other namespace's record: %+v %v", out, err)
	}

	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		held := make([]*sahara.HeldLease, 2)
		errs := make([]error, 2)
		for i := range held {
			wg.Add(1)
			go func() {
				defer wg.Done()
				held[i], errs[i] = sahara.AcquireLease(ctx, s, sahara.KindCluster, "demo", "create",
					sahara.LeaseOptions{Holder: []string{"a", "b"}[i], Settle: 2 * time.Second})
			}()
		}
		wg.Wait()
		won := 0
		for i, h := range held {
			if h != nil {
				won++
				if err := h.Release(ctx); err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(errs[i], sahara.ErrLeased) {
				t.Fatalf("round %d: loser's error %v, want ErrLeased", round, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d runs hold the lease, want 1", round, won)
		}
		if n := credentialCount(ctx, t, s, sahara.KindLease, sahara.LeaseKey(sahara.KindCluster, "demo")); n != 0 {
			t.Fatalf("round %d: %d lease credentials left after release", round, n)
		}
	}
}

func credentialCount(ctx context.Context, t *testing.T, s *CredentialStore, kind, id string) int {
	t.Helper()
	f, err := s.lookup(ctx, kind, id)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		return 0
	}
	return len(f.ids)
}
