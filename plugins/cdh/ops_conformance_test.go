package cdh

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// restCall is one recorded Cloudera Manager API call.
type restCall struct {
	Kind     string              `json:"kind"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	Query    map[string][]string `json:"query"`
	Body     json.RawMessage     `json:"body"`
	Response json.RawMessage     `json:"response"`
	Status   int                 `json:"status"`
	Auth     struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"auth"`
}

type cdhSamples struct {
	Samples []struct {
		conformance.Sample
		RawPhases []struct {
			Phase string            `json:"phase"`
			Calls []json.RawMessage `json:"calls"`
		} `json:"phases"`
	} `json:"samples"`
}

// uuidRE matches the passwords Sahara generated (volatile).
var uuidRE = regexp.MustCompile(`00000000-0000-4000-8000-[0-9a-f]{12}`)

const secretMark = "<secret>"

// canonical renders a JSON body with the volatile values replaced: the
// recorded uuids, and the cluster's own secrets.
func canonical(raw []byte, secrets []string) string {
	if len(strings.TrimSpace(string(raw))) == 0 || string(raw) == "null" {
		return ""
	}
	s := uuidRE.ReplaceAllString(string(raw), secretMark)
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, secretMark)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func (c restCall) key(secrets []string) string {
	q := ""
	if len(c.Query) > 0 {
		keys := make([]string, 0, len(c.Query))
		for k := range c.Query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q += "?" + k + "=" + strings.Join(c.Query[k], ",")
		}
	}
	return c.Method + " " + c.Path + q + " " + canonical(c.Body, secrets)
}

// fakeCM answers as the recorded Cloudera Manager did: each request is
// matched with the first unused recorded call of the phase with the same
// method, path, query and body (volatile values aside), and gets its
// recorded answer.
type fakeCM struct {
	t          *testing.T
	mu         sync.Mutex
	want       []restCall
	used       []bool
	got        []string
	secrets    func() []string
	cmPassword func() string
	roles      map[string][]json.RawMessage
}

func (f *fakeCM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := restCall{Method: r.Method, Path: r.URL.Path, Body: body}
	if len(r.URL.Query()) > 0 {
		call.Query = r.URL.Query()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	secrets := f.secrets()
	k := call.key(secrets)
	f.got = append(f.got, k)
	for i, want := range f.want {
		if f.used[i] || want.key(nil) != k {
			continue
		}
		f.used[i] = true
		user, pw, _ := r.BasicAuth()
		wantPW := want.Auth.Password
		if uuidRE.MatchString(wantPW) {
			wantPW = f.cmPassword()
		}
		if user != want.Auth.User || pw != wantPW {
			f.t.Errorf("%s: wrong credentials (user %q)", k, user)
		}
		w.Header().Set("Content-Type", "application/json")
		if want.Status != 0 {
			w.WriteHeader(want.Status)
		}
		_, _ = w.Write(f.track(r, want.Response))
		return
	}
	f.t.Errorf("unexpected Cloudera Manager call %s", k)
	http.Error(w, "not in the recording", http.StatusNotFound)
}

// track keeps the roles the plugin created and deleted, and adds the
// live ones to a role listing: the recording's listings were captured
// after later phases deleted roles (the fake shared its list), so a
// listing during scaling misses the role just added.
func (f *fakeCM) track(r *http.Request, resp []byte) []byte {
	if f.roles == nil {
		f.roles = map[string][]json.RawMessage{}
	}
	i := strings.Index(r.URL.Path, "/roles")
	if i < 0 {
		return resp
	}
	svc := r.URL.Path[:i]
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	name := func(raw json.RawMessage) string {
		var role apiRole
		_ = json.Unmarshal(raw, &role)
		return role.Name
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/roles"):
		if json.Unmarshal(resp, &list) == nil {
			f.roles[svc] = append(f.roles[svc], list.Items...)
		}
	case r.Method == http.MethodDelete:
		gone := r.URL.Path[i+len("/roles/"):]
		f.roles[svc] = slices.DeleteFunc(f.roles[svc], func(raw json.RawMessage) bool { return name(raw) == gone })
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/roles"):
		if json.Unmarshal(resp, &list) != nil {
			return resp
		}
		listed := map[string]bool{}
		for _, raw := range list.Items {
			listed[name(raw)] = true
		}
		for _, raw := range f.roles[svc] {
			if !listed[name(raw)] {
				list.Items = append(list.Items, raw)
			}
		}
		out, _ := json.Marshal(list)
		return out
	}
	return resp
}

// roleBlocks normalises a call sequence for comparison: Sahara creates an
// instance's roles in set() order, so each run of role creations on one
// host (GET cluster, GET service, POST roles, PUT role config) is sorted.
func roleBlocks(keys []string) []string {
	type block struct {
		host, sortKey string
		calls         []string
	}
	hostRE := regexp.MustCompile(`"hostRef":\{"hostId":"([^"]+)"\}`)
	var out []string
	var run []block
	flush := func() {
		sort.SliceStable(run, func(i, j int) bool { return run[i].sortKey < run[j].sortKey })
		for _, b := range run {
			out = append(out, b.calls...)
		}
		run = nil
	}
	for i := 0; i < len(keys); {
		if i+3 < len(keys) && strings.HasPrefix(keys[i+2], "POST ") && strings.Contains(keys[i+2], "/roles ") && strings.HasPrefix(keys[i+3], "PUT ") {
			m := hostRE.FindStringSubmatch(keys[i+2])
			if m != nil {
				if len(run) > 0 && run[0].host != m[1] {
					flush()
				}
				run = append(run, block{host: m[1], sortKey: keys[i+2], calls: keys[i : i+4]})
				i += 4
				continue
			}
		}
		flush()
		out = append(out, keys[i])
		i++
	}
	flush()
	return out
}

func TestConformance_SampleClusters(t *testing.T) {
	dir := conformance.Dir(t)
	var doc cdhSamples
	conformance.ReadJSON(t, dir, "cdh/sample_cluster_ops.json", &doc)
	for _, s := range doc.Samples {
		t.Run(s.ClusterInput.Name, func(t *testing.T) { runSample(t, &s.Sample, s.RawPhases) })
	}
}

func runSample(t *testing.T, s *conformance.Sample, phases []struct {
	Phase string            `json:"phase"`
	Calls []json.RawMessage `json:"calls"`
}) {
	names := make([]string, 0, len(s.Instances))
	for n := range s.Instances {
		names = append(names, n)
	}
	c := s.Cluster(names...)
	c.Name = s.ClusterInput.Name
	c.Extra = map[string]string{hadoop.ExtraSwiftAuthURL: "http://keystone.example.org:5000/v3/", hadoop.ExtraSwiftTenant: "demo-project"}
	cm := &fakeCM{t: t, secrets: func() []string {
		var out []string
		for _, v := range c.Secrets {
			out = append(out, v)
		}
		return out
	}}
	cm.cmPassword = func() string { return c.Secrets[secretCMPassword] }
	srv := httptest.NewServer(cm)
	defer srv.Close()
	p := New(Options{HTTPClient: srv.Client(), ManagerURL: srv.URL, Sleep: func(context.Context, time.Duration) error { return nil }})
	respond := func(host, cmd string, _ int) sahara.Result {
		if strings.HasPrefix(cmd, "ls ") && cmd != "ls /etc/init.d/cloudera-scm-server" {
			return sahara.Result{ExitCode: 2}
		}
		return sahara.Result{}
	}
	var added []*sahara.Instance
	for _, ph := range phases {
		name := strings.Fields(ph.Phase)[0]
		var want []restCall
		var wantRemote []conformance.Call
		for _, raw := range ph.Calls {
			var rc restCall
			if err := json.Unmarshal(raw, &rc); err != nil {
				t.Fatal(err)
			}
			switch rc.Kind {
			case "http":
				want = append(want, rc)
			case "remote":
				var call conformance.Call
				if err := json.Unmarshal(raw, &call); err != nil {
					t.Fatal(err)
				}
				if call.Data != nil {
					d := uuidRE.ReplaceAllString(*call.Data, secretMark)
					call.Data = &d
				}
				wantRemote = append(wantRemote, call)
			}
		}
		if strings.HasPrefix(ph.Phase, "plugin.scale_cluster") {
			added = addWorker(c)
		}
		userWins(want, c)
		cm.mu.Lock()
		cm.want, cm.used, cm.got = want, make([]bool, len(want)), nil
		cm.mu.Unlock()
		rec := conformance.NewLog(t, respond)
		ctx := context.Background()
		var err error
		switch name {
		case "plugin.validate":
			continue
		case "plugin.configure_cluster":
			err = p.ConfigureCluster(ctx, c, rec)
		case "plugin.start_cluster":
			err = p.StartCluster(ctx, c, rec)
		case "plugin.scale_cluster":
			err = p.ScaleCluster(ctx, c, rec, added)
		case "plugin.decommission_nodes":
			err = p.DecommissionNodes(ctx, c, rec, added)
		default:
			t.Fatalf("unknown phase %s", ph.Phase)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		wantKeys := make([]string, len(want))
		for i, w := range want {
			wantKeys[i] = w.key(nil)
		}
		got, exp := roleBlocks(cm.got), roleBlocks(wantKeys)
		identical := 0
		for i := range exp {
			if i < len(got) && got[i] == exp[i] {
				identical++
			} else if i < len(got) {
				t.Errorf("%s: REST call #%d is\n  %.400s\nwant\n  %.400s", name, i, got[i], exp[i])
			}
		}
		if len(got) != len(exp) {
			t.Errorf("%s: %d REST calls, want %d", name, len(got), len(exp))
		}
		conformance.Report(t, Name, c.Name+" REST "+strings.TrimPrefix(name, "plugin."), identical, len(exp))
		compareRemote(t, c.Name+" "+name, maskSecrets(rec.Calls(), c), wantRemote)
	}
	checkInfo(t, s, c)
}

// maskSecrets replaces the cluster's secrets in the data written, and
// the recorded passwords in the sample, by one mark.
func maskSecrets(calls []conformance.Call, c *sahara.Cluster) []conformance.Call {
	for i, call := range calls {
		if call.Data == nil {
			continue
		}
		d := *call.Data
		for _, v := range c.Secrets {
			d = strings.ReplaceAll(d, v, secretMark)
		}
		calls[i].Data = &d
	}
	return calls
}

// compareRemote checks the remote calls (method, host, command or file).
func compareRemote(t *testing.T, label string, got, want []conformance.Call) {
	t.Helper()
	identical := 0
	for i, w := range want {
		if i < len(got) {
			if d := got[i].Matches(w); d == "" {
				identical++
			} else {
				t.Errorf("%s: remote call #%d: %s", label, i, d)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d remote calls, want %d", label, len(got), len(want))
	}
	conformance.Report(t, Name, label+" remote", identical, len(want))
}

// userWins applies saharagen's correction to the recorded bodies: a
// role config the user set keeps the user's value where Sahara's
// instance defaults replaced it (dfs_datanode_handler_count).
func userWins(want []restCall, c *sahara.Cluster) {
	for i, w := range want {
		if w.Method != http.MethodPut || !strings.Contains(w.Path, "/roles/") || len(w.Body) == 0 {
			continue
		}
		var body apiConfigList
		if json.Unmarshal(w.Body, &body) != nil {
			continue
		}
		role := w.Path[strings.Index(w.Path, "/roles/")+len("/roles/"):]
		role = strings.TrimSuffix(role, "/config")
		for _, ng := range c.NodeGroups {
			for _, in := range ng.Instances {
				for target, m := range ng.NodeConfigs {
					if roleName(in, target) != role {
						continue
					}
					for j, item := range body.Items {
						if v, ok := m[item.Name]; ok && !computedRoleConfigs[item.Name] {
							body.Items[j].Value = v
						}
					}
				}
			}
		}
		want[i].Body, _ = json.Marshal(body)
	}
}

// addWorker adds the sample's scaled instance (worker +1).
func addWorker(c *sahara.Cluster) []*sahara.Instance {
	ng := c.NodeGroup("worker")
	idx := ng.FreeIndexes(1)[0]
	in := ng.NewInstance(idx)
	in.InstanceID = "id-" + in.InstanceName
	in.InternalIP, in.ManagementIP = "10.0.0.60", "172.24.4.60"
	in.StorageDevicesNumber = ng.VolumesPerNode
	ng.AddInstance(in)
	ng.Count++
	return []*sahara.Instance{in}
}

// checkInfo compares the cluster info with Sahara's, except the
// password, which saharagen gives as a user credential only.
func checkInfo(t *testing.T, s *conformance.Sample, c *sahara.Cluster) {
	t.Helper()
	for section, kv := range s.ClusterInfoAfterStart {
		for k, v := range kv {
			got := c.Info[section][k]
			if k == "Password" {
				if got == v || strings.Contains(got, c.Secrets[secretCMPassword]) {
					t.Errorf("info %s/%s holds the password", section, k)
				}
				continue
			}
			if got != v {
				t.Errorf("info %s/%s = %q, want %q", section, k, got, v)
			}
		}
	}
	if pw := c.UserCredentials()[CredentialCMAdmin]; pw == "" || pw != c.Secrets[secretCMPassword] {
		t.Errorf("the Cloudera Manager password is not a user credential")
	}
	if !slices.Contains(mapKeysOf(c.Secrets), secretHiveDBPassword) && s.ClusterInfoAfterStart["Hue Dashboard"] != nil {
		t.Errorf("no Hive database password among the secrets")
	}
}

func mapKeysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
