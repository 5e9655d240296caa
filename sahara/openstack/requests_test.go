package openstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	th "github.com/gophercloud/gophercloud/v2/testhelper"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// fakeCloud is a Cloud whose service clients point at one testhelper mux,
// under /compute/, /network/v2.0/, /volume/ and /object/.
func fakeCloud(t testing.TB) (*Cloud, th.FakeServer) {
	t.Helper()
	fs := th.SetupHTTP()
	t.Cleanup(fs.Teardown)
	pc := &gophercloud.ProviderClient{TokenID: "tok"}
	ep := fs.Endpoint()
	sc := func(path, base string) *gophercloud.ServiceClient {
		return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: ep + path, ResourceBase: ep + base}
	}
	c := &Cloud{
		pc: pc, log: slog.New(slog.NewTextHandler(io.Discard, nil)), projectID: "proj",
		opts:        options{pollInterval: time.Millisecond, parallelism: 4},
		computeTags: true,
		clients: map[string]*gophercloud.ServiceClient{
			svcCompute: sc("compute/", "compute/"),
			svcNetwork: sc("network/", "network/v2.0/"),
			svcVolume:  sc("volume/", "volume/"),
			svcImage:   sc("image/", "image/"),
			svcObject:  sc("object/", "object/"),
		},
	}
	c.clients[svcCompute].Microversion = "2.64"
	c.clients[svcCompute].Type = "compute"
	return c, fs
}

func reply(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprint(w, body)
}

func TestBoot_RequestBodies(t *testing.T) {
	c, fs := fakeCloud(t)
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "Demo", DefaultImageID: "img"},
		ManagementPublicKey: "ssh-ed25519 AAAAmgmt saharagen", ServerGroupIDs: []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"}}
	cl.AntiAffinity = []string{"datanode"}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "workers", FlavorID: "f1", Count: 3, NodeProcesses: []string{"datanode"},
		AvailabilityZone: "az1", FloatingIPPool: "public", SecurityGroups: []string{"web"},
		VolumesPerNode: 1, VolumesSize: 10, VolumeType: "ssd", VolumesAvailabilityZone: "vaz", VolumeLocalToInstance: true})
	ng.ImageUsername = "ubuntu"
	ng.SecurityGroupID = "auto-sg"
	in := ng.NewInstance(1)
	ng.AddInstance(in)
	p := &spawnPlan{cl: cl, cc: c.clients[svcCompute], nc: c.clients[svcNetwork], vc: c.clients[svcVolume],
		netID: "net1", sgIDs: map[string]string{"web": "web-id"}, pools: map[string]string{"public": "ext-net"},
		flavorIDs: map[string]string{"f1": "f1"}, imageIDs: map[string]string{"img": "img"},
		userKey: "ssh-rsa AAAAuser me@laptop", total: 1}
	userData, err := UserData("ubuntu", cl.ManagementPublicKey, p.userKey)
	if err != nil {
		t.Fatal(err)
	}
	tags := 0
	fs.Mux.HandleFunc("/network/v2.0/ports", func(w http.ResponseWriter, r *http.Request) {
		th.TestMethod(t, r, "POST")
		th.TestJSONRequest(t, r, `{"port": {"network_id": "net1", "name": "demo-workers-1", "description": "saharagen_cluster=cid",
			"security_groups": ["web-id", "auto-sg"]}}`)
		reply(w, 201, `{"port": {"id": "port1", "fixed_ips": [{"ip_address": "fd00::5"}, {"ip_address": "10.0.0.5"}]}}`)
	})
	tagHandler := func(w http.ResponseWriter, r *http.Request) {
		th.TestMethod(t, r, "PUT")
		th.TestJSONRequest(t, r, `{"tags": ["saharagen_cluster=cid"]}`)
		tags++
		reply(w, 200, `{"tags": ["saharagen_cluster=cid"]}`)
	}
	fs.Mux.HandleFunc("/network/v2.0/ports/port1/tags", tagHandler)
	fs.Mux.HandleFunc("/network/v2.0/floatingips/fip1/tags", tagHandler)
	fs.Mux.HandleFunc("/compute/servers", func(w http.ResponseWriter, r *http.Request) {
		th.TestMethod(t, r, "POST")
		th.TestHeader(t, r, "X-OpenStack-Nova-API-Version", "2.64")
		// instance 1 of the group: round robin puts it in the second group
		th.TestJSONRequest(t, r, fmt.Sprintf(`{
			"server": {"name": "demo-workers-1", "imageRef": "img", "flavorRef": "f1", "availability_zone": "az1",
				"networks": [{"port": "port1"}], "key_name": "saharagen-cid",
				"metadata": {"saharagen_cluster": "cid", "saharagen_node_group": "workers"},
				"tags": ["saharagen_cluster=cid"], "user_data": %q},
			"os:scheduler_hints": {"group": "22222222-2222-4222-8222-222222222222"}}`, base64.StdEncoding.EncodeToString(userData)))
		reply(w, 202, `{"server": {"id": "33333333-3333-4333-8333-333333333333"}}`)
	})
	fs.Mux.HandleFunc("/network/v2.0/floatingips", func(w http.ResponseWriter, r *http.Request) {
		th.TestJSONRequest(t, r, `{"floatingip": {"floating_network_id": "ext-net", "port_id": "port1", "description": "saharagen_cluster=cid"}}`)
		reply(w, 201, `{"floatingip": {"id": "fip1", "floating_ip_address": "172.24.4.9"}}`)
	})
	fs.Mux.HandleFunc("/volume/volumes", func(w http.ResponseWriter, r *http.Request) {
		th.TestJSONRequest(t, r, `{"volume": {"name": "demo-workers-1-1", "size": 10, "volume_type": "ssd", "availability_zone": "vaz",
			"metadata": {"saharagen_cluster": "cid", "saharagen_node_group": "workers", "saharagen_instance": "demo-workers-1"}},
			"OS-SCH-HNT:scheduler_hints": {"local_to_instance": "33333333-3333-4333-8333-333333333333"}}`)
		reply(w, 202, `{"volume": {"id": "vol1", "size": 10}}`)
	})
	if err := c.boot(context.Background(), p, in); err != nil {
		t.Fatal(err)
	}
	if in.InstanceID != "33333333-3333-4333-8333-333333333333" || in.FloatingIPID != "fip1" || len(in.Volumes) != 1 || in.Volumes[0].ID != "vol1" || tags != 2 {
		t.Fatalf("instance %+v, tag calls %d", in, tags)
	}
	if v, _ := p.portFixed.Load(in.InstanceName); v != "10.0.0.5" {
		t.Fatalf("fixed IP %v, want the IPv4 one", v)
	}
}

func TestUserData_QuotesHostileValues(t *testing.T) {
	ud, err := UserData("cloud-user", "ssh-ed25519 AAAA a'b;rm -rf /", "")
	if err != nil {
		t.Fatal(err)
	}
	s := string(ud)
	for _, want := range []string{
		`mkdir -p /home/cloud-user/.ssh`,
		`printf '%s\n' 'ssh-ed25519 AAAA a'\''b;rm -rf /' >> /home/cloud-user/.ssh/authorized_keys`,
		`chown -R cloud-user /home/cloud-user/.ssh`,
		`requiretty`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("user data lacks %q:\n%s", want, s)
		}
	}
	if _, err := UserData("u", "ssh-ed25519 AAAA\nrm -rf /"); err == nil {
		t.Error("a key with a newline was accepted")
	}
	// The login user becomes a path: quoting is not enough.
	for _, u := range []string{"../root", "we'ird $(user)", "a/b", "ubuntu\n", "-x"} {
		if _, err := UserData(u, "k1 x"); err == nil {
			t.Errorf("login user %q accepted", u)
		}
	}
	root, _ := UserData("root", "k1 x")
	if !strings.Contains(string(root), "mkdir -p /root/.ssh") {
		t.Errorf("root home: %s", root)
	}
}

// Least exposure: members of the cluster's auto groups reach everything,
// SSH is open, the plugin's ports only to the group's CIDRs; nothing else.
func TestAutoSecurityGroupRules_LeastExposure(t *testing.T) {
	keys := func(rs []SecurityRule) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.key())
		}
		return strings.Join(out, " ")
	}
	got := keys(AutoSecurityGroupRules([]int{8080, 22, 8080, 9000}, []string{"203.0.113.0/24", "2001:db8::/48"}, []string{"sg1", "sg2"}))
	want := strings.Join([]string{
		"IPv4||0|0||sg1", "IPv6||0|0||sg1", "IPv4||0|0||sg2", "IPv6||0|0||sg2",
		"IPv4|tcp|22|22|0.0.0.0/0|", "IPv6|tcp|22|22|::/0|",
		"IPv4|tcp|8080|8080|203.0.113.0/24|", "IPv6|tcp|8080|8080|2001:db8::/48|",
		"IPv4|tcp|9000|9000|203.0.113.0/24|", "IPv6|tcp|9000|9000|2001:db8::/48|",
	}, " ")
	if got != want {
		t.Fatalf("rules\n got %v\nwant %v", got, want)
	}
	// without CIDRs the plugin's ports are open to the cluster's members only
	got = keys(AutoSecurityGroupRules([]int{8786, 8787}, nil, []string{"sg1"}))
	if want := "IPv4||0|0||sg1 IPv6||0|0||sg1 IPv4|tcp|22|22|0.0.0.0/0| IPv6|tcp|22|22|::/0|"; got != want {
		t.Fatalf("rules without CIDRs\n got %v\nwant %v", got, want)
	}
}

// A new group gets its rules in one bulk request; a group an older release
// made (plugin ports from anywhere, everything from the subnet) loses the
// rules it should not have, and keeps those it should.
func TestEnsureSecurityGroups_CreatesTaggedGroupWithBulkRules(t *testing.T) {
	c, fs := fakeCloud(t)
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "Demo", NeutronManagementNetwork: "private"}}
	ng := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "Master", AutoSecurityGroup: true})
	ng.ID = "0123456789abcdef"
	ng.OpenPorts = []int{50070}
	ng.AutoSecurityGroupCIDRs = []string{"203.0.113.0/24"}
	old := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", AutoSecurityGroup: true})
	old.ID, old.SecurityGroupID = "fedcba9876543210", "sg0"
	fs.Mux.HandleFunc("/network/v2.0/security-groups", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			reply(w, 200, `{"security_groups": [{"id": "sg0", "name": "demo-worker-fedcba98", "security_group_rules": [
				{"id": "r-ssh", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
				{"id": "r-any", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 50075, "port_range_max": 50075, "remote_ip_prefix": "0.0.0.0/0"},
				{"id": "r-net", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "remote_ip_prefix": "10.0.0.0/24"},
				{"id": "r-out", "direction": "egress", "ethertype": "IPv4"}]}]}`)
			return
		}
		th.TestJSONRequest(t, r, `{"security_group": {"name": "demo-master-01234567", "description": "saharagen_cluster=cid"}}`)
		// Neutron adds the two default egress rules
		reply(w, 201, `{"security_group": {"id": "sg1", "name": "demo-master-01234567", "security_group_rules": [
			{"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"}]}}`)
	})
	for _, sg := range []string{"sg0", "sg1"} {
		fs.Mux.HandleFunc("/network/v2.0/security-groups/"+sg+"/tags", func(w http.ResponseWriter, r *http.Request) {
			reply(w, 200, `{"tags": ["saharagen_cluster=cid"]}`)
		})
	}
	member := func(sg, et, from string) string {
		return fmt.Sprintf(`{"direction": "ingress", "ethertype": %q, "security_group_id": %q, "remote_group_id": %q}`, et, sg, from)
	}
	ssh := func(sg string) string {
		return fmt.Sprintf(`{"direction": "ingress", "ethertype": "IPv6", "security_group_id": %q, "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "::/0"}`, sg)
	}
	var bulks []string
	fs.Mux.HandleFunc("/network/v2.0/security-group-rules", func(w http.ResponseWriter, r *http.Request) {
		var body map[string][]map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body["security_group_rules"]) == 0 {
			t.Errorf("rules request %v: %v", body, err)
			return
		}
		sg, _ := body["security_group_rules"][0]["security_group_id"].(string)
		bulks = append(bulks, sg)
		want := map[string]string{
			"sg1": `{"security_group_rules": [` + member("sg1", "IPv4", "sg1") + `,` + member("sg1", "IPv6", "sg1") + `,` +
				member("sg1", "IPv4", "sg0") + `,` + member("sg1", "IPv6", "sg0") + `,
				{"direction": "ingress", "ethertype": "IPv4", "security_group_id": "sg1", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
				` + ssh("sg1") + `,
				{"direction": "ingress", "ethertype": "IPv4", "security_group_id": "sg1", "protocol": "tcp", "port_range_min": 50070, "port_range_max": 50070, "remote_ip_prefix": "203.0.113.0/24"}]}`,
			"sg0": `{"security_group_rules": [` + member("sg0", "IPv4", "sg1") + `,` + member("sg0", "IPv6", "sg1") + `,` +
				member("sg0", "IPv4", "sg0") + `,` + member("sg0", "IPv6", "sg0") + `,` + ssh("sg0") + `]}`,
		}[sg]
		th.CheckJSONEquals(t, want, body)
		reply(w, 201, `{"security_group_rules": []}`)
	})
	var deleted []string
	fs.Mux.HandleFunc("/network/v2.0/security-group-rules/", func(w http.ResponseWriter, r *http.Request) {
		th.TestMethod(t, r, "DELETE")
		deleted = append(deleted, strings.TrimPrefix(r.URL.Path, "/network/v2.0/security-group-rules/"))
		w.WriteHeader(204)
	})
	if err := c.ensureSecurityGroups(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	if ng.SecurityGroupID != "sg1" || strings.Join(bulks, ",") != "sg1,sg0" {
		t.Fatalf("group %q, bulk requests for %v", ng.SecurityGroupID, bulks)
	}
	if strings.Join(deleted, ",") != "r-any,r-net" {
		t.Fatalf("deleted rules %v, want the old group's port open to anywhere and its subnet rule", deleted)
	}
}

func TestCheckQuotas_ReportsFirstShortfall(t *testing.T) {
	c, fs := fakeCloud(t)
	fs.Mux.HandleFunc("/compute/limits", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"limits": {"absolute": {"maxTotalInstances": 10, "totalInstancesUsed": 4,
			"maxTotalCores": 20, "totalCoresUsed": 18, "maxTotalRAMSize": -1, "totalRAMUsed": 99999}}}`)
	})
	fs.Mux.HandleFunc("/network/v2.0/quotas/proj/details.json", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"quota": {"floatingip": {"limit": 5, "used": 3, "reserved": 1}, "port": {"limit": -1, "used": 7, "reserved": 0},
			"security_group": {"limit": 10, "used": 1, "reserved": 0}, "security_group_rule": {"limit": 100, "used": 4, "reserved": 0}}}`)
	})
	fs.Mux.HandleFunc("/volume/os-quota-sets/proj", func(w http.ResponseWriter, r *http.Request) {
		th.TestFormValues(t, r, map[string]string{"usage": "true"})
		reply(w, 200, `{"quota_set": {"volumes": {"limit": 10, "in_use": 2, "reserved": 0, "allocated": 0},
			"gigabytes": {"limit": 100, "in_use": 60, "reserved": 10, "allocated": 0}}}`)
	})
	ctx := context.Background()
	cl := &sahara.Cluster{ID: "cid"}
	cases := []struct {
		req  sahara.QuotaRequest
		want string
	}{
		{sahara.QuotaRequest{Instances: 6, Cores: 2, RAMMB: 1 << 30, Ports: 1000}, ""},
		{sahara.QuotaRequest{Instances: 7}, "Quota exceeded for instances: Requested 7, but available 6"},
		{sahara.QuotaRequest{Instances: 3, Cores: 3}, "Quota exceeded for cores: Requested 3, but available 2"},
		{sahara.QuotaRequest{FloatingIPs: 2}, "Quota exceeded for floating IPs: Requested 2, but available 1"},
		{sahara.QuotaRequest{SecurityGroups: 1, SecurityRules: 97}, "Quota exceeded for security group rules: Requested 97, but available 96"},
		{sahara.QuotaRequest{Volumes: 8, VolumeGB: 30}, ""},
		{sahara.QuotaRequest{Volumes: 9, VolumeGB: 30}, "Quota exceeded for volumes: Requested 9, but available 8"},
		{sahara.QuotaRequest{Volumes: 1, VolumeGB: 31}, "Quota exceeded for volume gigabytes: Requested 31, but available 30"},
	}
	for _, tc := range cases {
		err := c.CheckQuotas(ctx, cl, tc.req)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.req, err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want || !errors.Is(err, sahara.ErrValidation) {
			t.Errorf("%+v: got %v, want %q", tc.req, err, tc.want)
		}
	}
}

func TestEstimateQuota_CountsFlavorsVolumesAndGroups(t *testing.T) {
	c, fs := fakeCloud(t)
	flavorGets := 0
	fs.Mux.HandleFunc("/compute/flavors/f1", func(w http.ResponseWriter, r *http.Request) {
		flavorGets++
		reply(w, 200, `{"flavor": {"id": "f1", "vcpus": 2, "ram": 2048, "disk": 20}}`)
	})
	cl := &sahara.Cluster{ID: "cid", ClusterSpec: sahara.ClusterSpec{Name: "c", NeutronManagementNetwork: "11111111-2222-3333-4444-555555555555"}}
	a := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "a", FlavorID: "f1", FloatingIPPool: "p", VolumesPerNode: 2, VolumesSize: 5, AutoSecurityGroup: true,
		AutoSecurityGroupCIDRs: []string{"203.0.113.0/24"}})
	a.OpenPorts = []int{80}
	b := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "b", FlavorID: "f1", BootFromVolume: true})
	ins := []*sahara.Instance{a.NewInstance(0), a.NewInstance(1), b.NewInstance(0)}
	for _, in := range ins {
		in.NodeGroup().AddInstance(in)
	}
	q, err := c.EstimateQuota(context.Background(), cl, ins)
	if err != nil {
		t.Fatal(err)
	}
	want := sahara.QuotaRequest{Instances: 3, Cores: 6, RAMMB: 6144, FloatingIPs: 2, SecurityGroups: 1,
		SecurityRules: 2 /* members */ + 2 /* ssh */ + 1 /* port 80 from the CIDR */ + egressDefaults, Ports: 3, Volumes: 5, VolumeGB: 40}
	if q != want || flavorGets != 1 {
		t.Fatalf("got %+v (flavor reads %d), want %+v", q, flavorGets, want)
	}
}

func TestServerGroupFor_RoundRobinAcrossNodeGroups(t *testing.T) {
	cl := &sahara.Cluster{ID: "x", ServerGroupIDs: []string{"g1", "g2"}}
	cl.AntiAffinity = []string{"dn"}
	a := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "a", Count: 3, NodeProcesses: []string{"dn"}})
	m := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "m", Count: 1, NodeProcesses: []string{"nn"}})
	b := cl.AddNodeGroup(sahara.NodeGroupSpec{Name: "b", Count: 2, NodeProcesses: []string{"dn"}})
	var got []string
	for _, ng := range []*sahara.NodeGroup{a, m, b} {
		for i := 0; i < ng.Count; i++ {
			in := ng.NewInstance(i)
			ng.AddInstance(in)
			got = append(got, serverGroupFor(cl, in))
		}
	}
	if want := "g1 g2 g1  g2 g1"; strings.Join(got, " ") != want {
		t.Fatalf("groups %q, want %q", strings.Join(got, " "), want)
	}
}

func TestImageFromProperties_UsernameAndTags(t *testing.T) {
	img := imageFromProperties("i", "n", map[string]any{
		"_sahara_username": "ubuntu", "_sahara_tag_vanilla": "True", "_sahara_tag_2.7.1": "true",
		"_sahara_tag_old": "False", "_sahara_tag_": "True", "other": "True",
	})
	if img.Username != "ubuntu" || strings.Join(img.Tags, ",") != "2.7.1,vanilla" {
		t.Fatalf("%+v", img)
	}
}

func TestObjectName_RejectsBadKindsAndIDs(t *testing.T) {
	if n, err := objectName(sahara.KindCluster, "abc"); err != nil || n != "clusters/abc.json" {
		t.Fatalf("%q %v", n, err)
	}
	for _, bad := range [][2]string{{"nope", "a"}, {sahara.KindCluster, ""}, {sahara.KindCluster, "a/b"}, {sahara.KindClusterTemplate, ".."}} {
		if _, err := objectName(bad[0], bad[1]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
