package ambari

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// dialRemote is a remote whose DialContext reaches a test server, noting
// the address asked for (the server's, as seen from the instance).
type dialRemote struct {
	sahara.Remote
	target string
	asked  []string
}

func (d *dialRemote) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.asked = append(d.asked, network+" "+addr)
	return (&net.Dialer{}).DialContext(ctx, "tcp", d.target)
}

func TestDialThroughRemote_ReachesTheServerOnTheInstanceLoopback(t *testing.T) {
	var gotAuth, gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		gotAuth, gotHeader = u+":"+p, r.Header.Get("X-Requested-By")
		if r.URL.Path != "/api/v1/hosts" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"items":[{"Hosts":{"host_name":"a.novalocal"}}]}`))
	}))
	defer srv.Close()
	r := &dialRemote{target: srv.Listener.Addr().String()}
	ep, err := dialThroughRemote(context.Background(), &sahara.Instance{InstanceName: "a"}, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Probe(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	cl := &client{ep: ep, user: "admin", password: "pw"}
	hosts, err := cl.registeredHosts(context.Background())
	if err != nil || len(hosts) != 1 || hosts[0] != "a.novalocal" {
		t.Fatalf("registeredHosts = %v, %v", hosts, err)
	}
	if gotAuth != "admin:pw" || gotHeader != "sahara" {
		t.Errorf("auth %q, X-Requested-By %q", gotAuth, gotHeader)
	}
	for _, a := range r.asked {
		if a != "tcp 127.0.0.1:8080" {
			t.Errorf("dialed %q, want the Ambari port on the instance's loopback", a)
		}
	}
	if len(r.asked) < 2 {
		t.Errorf("dialed %d times, want the probe and the request", len(r.asked))
	}
	// A 404 is an apiError that names the path, not the password.
	err = cl.do(context.Background(), http.MethodGet, "/nothing", nil, nil)
	if !isNotFound(err) || strings.Contains(err.Error(), "pw") {
		t.Errorf("GET /nothing: %v", err)
	}
}

func TestDialThroughRemote_NeedsADialer(t *testing.T) {
	_, err := dialThroughRemote(context.Background(), &sahara.Instance{InstanceName: "a"}, struct{ sahara.Remote }{})
	if err == nil || !strings.Contains(err.Error(), "sahara.Dialer") {
		t.Fatalf("err = %v, want one naming sahara.Dialer", err)
	}
}

func TestValidate_KerberosRefused(t *testing.T) {
	c := plainCluster(map[string]any{CfgHDPRepo: "http://a/b", CfgHDPUtilsRepo: "http://x/y"})
	c.ClusterConfigs.Set(SvcKerberos, CfgEnableKerberos, "true")
	if err := New(Options{}).Validate(context.Background(), c); err == nil || !strings.Contains(err.Error(), "Kerberos") {
		t.Fatalf("Validate = %v, want Kerberos refused", err)
	}
	c.ClusterConfigs.Set(SvcKerberos, CfgEnableKerberos, "false")
	if err := New(Options{}).Validate(context.Background(), c); err != nil {
		t.Fatalf("Validate with Kerberos off: %v", err)
	}
}

func TestAcceptsConfig_CustomPropertiesOfServices(t *testing.T) {
	p := New(Options{})
	for _, tc := range []struct {
		version, target, name string
		want                  bool
	}{
		{V26, SvcHDFS, "dfs.datanode.handler.count", true},
		{V26, SvcYARN, "yarn.custom-thing", true},
		{V26, sahara.TargetGeneral, "anything", false},
		{V26, "accumulo-site", "x.y", false},
		{V26, SvcHDFS, "bad name", false},
		{"9.9", SvcHDFS, "dfs.x", false},
	} {
		if got := p.AcceptsConfig(tc.version, tc.target, tc.name); got != tc.want {
			t.Errorf("AcceptsConfig(%s, %s, %q) = %v, want %v", tc.version, tc.target, tc.name, got, tc.want)
		}
	}
	if !p.IsSecretConfig(V26, SvcHive, "javax.jdo.option.ConnectionPassword") || p.IsSecretConfig(V26, SvcHDFS, "dfs.replication") {
		t.Error("IsSecretConfig does not tell passwords apart")
	}
}

func TestConfigGroups_CarryTheNodeGroupsCustomProperties(t *testing.T) {
	c := plainCluster(nil)
	ng := c.NodeGroups[1]
	ng.NodeConfigs = sahara.Configs{SvcHDFS: {"dfs.datanode.handler.count": 20}}
	in := ng.NewInstance(0)
	ng.AddInstance(in)
	s, _ := stackOf(V26)
	var hdfs map[string]any
	for _, g := range configGroups(s, c, in) {
		cg := g["ConfigGroup"].(map[string]any)
		if cg["tag"] == SvcHDFS {
			for _, d := range cg["desired_configs"].([]map[string]any) {
				if d["type"] == "hdfs-site" {
					hdfs = d["properties"].(map[string]any)
				}
			}
		}
	}
	if hdfs["dfs.datanode.handler.count"] != 20 || hdfs["dfs.datanode.data.dir"] != "/mnt/hdfs/data" {
		t.Errorf("hdfs-site of the HDFS config group = %v", hdfs)
	}
}
