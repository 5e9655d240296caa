package cdh

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// dialRemotes hands out remotes that record commands and open
// connections, as the SSH remote does, to a local server whatever address
// they are asked for (the manager's loopback).
type dialRemotes struct {
	*conformance.Recorder
	target string
	mu     sync.Mutex
	dialed []string
}

type dialRemote struct {
	sahara.Remote
	d *dialRemotes
}

func (r *dialRemotes) Remote(in *sahara.Instance) sahara.Remote {
	return dialRemote{Remote: r.Recorder.Remote(in), d: r}
}

func (r dialRemote) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r.d.mu.Lock()
	r.d.dialed = append(r.d.dialed, r.InstanceName()+" "+addr)
	r.d.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, r.d.target)
}

// The client reaches Cloudera Manager through the manager instance's
// remote (its loopback, port 7180) when no client is configured, with the
// cluster's admin password, and the cluster info never shows it.
func TestManagerReachedThroughTheManagersRemote(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		mu.Lock()
		auth = append(auth, r.Method+" "+r.URL.Path+" "+user+":"+pw)
		mu.Unlock()
		switch {
		case r.URL.Path == "/api/v8/commands/1":
			_, _ = w.Write([]byte(`{"id":1,"active":false,"success":true}`))
		case strings.HasSuffix(r.URL.Path, "/commands/firstRun"):
			_, _ = w.Write([]byte(`{"id":1,"active":true}`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := minimalCluster(sahara.Configs{sahara.TargetGeneral: {CfgEnableSwift: false}})
	for _, ng := range c.NodeGroups {
		for _, i := range ng.FreeIndexes(ng.Count) {
			in := ng.NewInstance(i)
			in.ManagementIP = "192.0.2.1"
			ng.AddInstance(in)
		}
	}
	rem := &dialRemotes{Recorder: conformance.NewLog(t, nil), target: u.Host}
	if err := New(Options{}).StartCluster(context.Background(), c, rem); err != nil {
		t.Fatal(err)
	}
	pw := c.Secrets[secretCMPassword]
	if len(pw) < 32 {
		t.Fatalf("admin password %q is not a fresh random secret", pw)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET /api/v8/clusters/c1 admin:" + pw, "POST /api/v8/clusters/c1/commands/firstRun admin:" + pw, "GET /api/v8/commands/1 admin:" + pw}
	if strings.Join(auth, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(auth, "\n"), strings.Join(want, "\n"))
	}
	if len(rem.dialed) == 0 || rem.dialed[0] != "c1-manager-0 127.0.0.1:7180" {
		t.Errorf("dialed %v, want the manager's loopback", rem.dialed)
	}
	for section, kv := range c.Info {
		for k, v := range kv {
			if strings.Contains(v, pw) {
				t.Errorf("info %s/%s shows the admin password", section, k)
			}
		}
	}
	if got := c.Info["Cloudera Manager"]["Web UI"]; got != "http://192.0.2.1:7180" {
		t.Errorf("Web UI = %q", got)
	}
	if c.UserCredentials()[CredentialCMAdmin] != pw {
		t.Errorf("the admin password is not the user credential")
	}
}

func TestOpenPortsOfTheSamples(t *testing.T) {
	var doc cdhSamples
	conformance.ReadJSON(t, conformance.Dir(t), "cdh/sample_cluster_ops.json", &doc)
	p := New(Options{})
	for _, s := range doc.Samples {
		c := s.Cluster()
		for ng, want := range s.OpenPorts {
			got := p.OpenPorts(c, c.NodeGroup(ng))
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: open ports %v, want %v", s.ClusterInput.Name, ng, got, want)
			}
		}
	}
}

func TestValidateRefusesKerberos(t *testing.T) {
	cfg := sahara.Configs{sahara.TargetGeneral: {CfgCMRepoURL: "http://m/cm.list", CfgCDHRepoURL: "http://m/cdh.list"}, targetKerberos: {cfgEnableKerberos: "true"}}
	if err := New(Options{}).Validate(context.Background(), minimalCluster(cfg)); err == nil || !strings.Contains(err.Error(), "does not set up Kerberos") {
		t.Fatalf("Validate = %v, want the Kerberos refusal", err)
	}
}
