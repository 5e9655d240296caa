package ambari

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// opsFile is ambari/sample_cluster_ops.json.
type opsFile struct {
	Samples []opsSample `json:"samples"`
}

// opsSample is one sample: the shared Sample's cluster, instances, info
// and ports, with the phases in this file's format (HTTP and remote calls).
type opsSample struct {
	conformance.Sample
	Title  string     `json:"title"`
	Phases []opsPhase `json:"phases"`
}

type opsPhase struct {
	Phase string    `json:"phase"`
	Error any       `json:"error"`
	Calls []opsCall `json:"calls"`
}

type opsCall struct {
	Kind     string          `json:"kind"`
	Seq      int             `json:"seq"`
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Query    map[string]any  `json:"query"`
	Body     any             `json:"body"`
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
	Auth     *struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"auth"`
	// Remote calls.
	Host       string `json:"host"`
	Cmd        string `json:"cmd"`
	RemoteFile string `json:"remote_file"`
	Data       string `json:"data"`
	NewLine    string `json:"new_line"`
	OldLine    string `json:"old_line_with_start_string"`
	NewStr     string `json:"new_str"`
	OldStr     string `json:"old_str"`
}

func (c opsCall) isHTTP() bool { return c.Kind == "http" }

// volatileRE matches Sahara's generate_uuid() results (passwords, file names).
var volatileRE = regexp.MustCompile(`00000000-0000-4000-8000-[0-9a-f]{12}`)

// nullTyped are the properties Sahara maps to the config type "null"
// (they are not in the stack's lists); saharagen writes them to their
// service's primary site file.
var nullTyped = map[string]string{"dfs.datanode.handler.count": "hdfs-site"}

// normalize makes a body comparable: volatile values replaced, component
// lists sorted (Sahara orders client components through a set), Ambari
// config lists merged into one map by type (their order is that of
// Sahara's config dicts), config groups and their configs sorted.
func normalize(t *testing.T, v any, nnHA bool) any {
	switch x := v.(type) {
	case string:
		return volatileRE.ReplaceAllString(x, "<uuid>")
	case float64:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(t, e, nnHA)
		}
		if len(out) > 0 {
			if m, ok := out[0].(map[string]any); ok {
				if _, isGroup := m["ConfigGroup"]; isGroup {
					sort.Slice(out, func(i, j int) bool { return groupKey(out[i]) < groupKey(out[j]) })
				}
				if _, isComp := m["name"]; isComp && len(m) == 1 {
					sort.Slice(out, func(i, j int) bool {
						return fmt.Sprint(out[i].(map[string]any)["name"]) < fmt.Sprint(out[j].(map[string]any)["name"])
					})
				}
				if _, isDesired := m["type"]; isDesired && m["properties"] != nil {
					// Sahara leaves the null-typed properties out of config
					// groups; saharagen has them in their site file.
					for _, e := range out {
						props, _ := e.(map[string]any)["properties"].(map[string]any)
						for name := range nullTyped {
							delete(props, name)
						}
					}
					sort.Slice(out, func(i, j int) bool {
						return fmt.Sprint(out[i].(map[string]any)["type"]) < fmt.Sprint(out[j].(map[string]any)["type"])
					})
				}
			}
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "configurations" {
				out[k] = mergeConfigs(t, normalize(t, e, nnHA), nnHA)
				continue
			}
			out[k] = normalize(t, e, nnHA)
		}
		return out
	default:
		return v
	}
}

func groupKey(v any) string {
	g, _ := v.(map[string]any)["ConfigGroup"].(map[string]any)
	return fmt.Sprint(g["group_name"], "/", g["tag"])
}

func mergeConfigs(t *testing.T, v any, nnHA bool) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for _, e := range list {
		for typ, props := range e.(map[string]any) {
			if typ == "null" {
				for name, val := range props.(map[string]any) {
					to, ok := nullTyped[name]
					if !ok {
						t.Errorf("recorded config type null for %s: no correction known", name)
						continue
					}
					section(out, to)[name] = val
				}
				continue
			}
			for name, val := range props.(map[string]any) {
				section(out, typ)[name] = val
			}
		}
	}
	// Sahara's RM-HA step overwrites the NameNode-HA fs.defaultFS.
	if core, ok := out["core-site"].(map[string]any); ok && nnHA {
		core["fs.defaultFS"] = "hdfs://hdfs-ha"
	}
	return out
}

func section(m map[string]any, typ string) map[string]any {
	if m[typ] == nil {
		m[typ] = map[string]any{}
	}
	return m[typ].(map[string]any)
}

// fakeAmbari answers the plugin's requests with the recorded answers. Each
// request must match a recorded one not yet used (method, path, query,
// normalized body, Basic-auth user); requests made in another order than
// Sahara's are counted apart.
type fakeAmbari struct {
	t        *testing.T
	mu       sync.Mutex
	want     []opsCall
	used     []bool
	inOrder  int
	matched  int
	unknown  []string
	nnHA     bool
	password string
}

func (f *fakeAmbari) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	var body any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("%s %s: body is not JSON: %v", r.Method, r.URL.Path, err)
		}
	}
	got := normalize(f.t, body, f.nnHA)
	user, pw, _ := r.BasicAuth()
	first := -1
	for i, rec := range f.want {
		if !f.used[i] && first < 0 {
			first = i
		}
		if f.used[i] || rec.Method != r.Method || rec.Path != r.URL.Path || queryString(rec.Query) != r.URL.RawQuery {
			continue
		}
		if want := normalize(f.t, rec.Body, f.nnHA); !reflect.DeepEqual(got, want) {
			continue
		}
		f.used[i] = true
		f.matched++
		if i == first {
			f.inOrder++
		}
		if rec.Auth == nil || user != rec.Auth.User || r.Header.Get("X-Requested-By") != "sahara" {
			f.t.Errorf("%s %s: user %q, X-Requested-By %q, want %+v and sahara", r.Method, r.URL.Path, user, r.Header.Get("X-Requested-By"), rec.Auth)
		}
		if rec.Auth != nil && (rec.Auth.Password == "admin") != (pw == "admin") || rec.Auth != nil && rec.Auth.Password != "admin" && pw != f.password {
			f.t.Errorf("%s %s: wrong Basic-auth password", r.Method, r.URL.Path)
		}
		if r.Method == http.MethodPut && r.URL.Path == "/api/v1/users/admin" {
			f.password = body.(map[string]any)["Users"].(map[string]any)["password"].(string)
		}
		status := rec.Status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, rec.Response)
		return
	}
	b, _ := json.Marshal(got)
	f.unknown = append(f.unknown, fmt.Sprintf("%s %s?%s %s", r.Method, r.URL.Path, r.URL.RawQuery, shorten(string(b), 600)))
	http.Error(w, `{"message":"not in the recording"}`, http.StatusInternalServerError)
}

func writeJSON(w http.ResponseWriter, status int, resp json.RawMessage) {
	if len(resp) == 0 || string(resp) == "null" {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func queryString(q map[string]any) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+fmt.Sprint(q[k]))
	}
	return strings.Join(parts, "&")
}

// remoteLog is a remote that records every call and answers as the
// recording's fake did: CentOS, hadoop-openstack.jar present, HDP's hadoop
// version, exit 0 otherwise.
type remoteLog struct {
	mu    sync.Mutex
	calls []opsCall
}

type logRemote struct {
	l    *remoteLog
	host string
}

func (l *remoteLog) Remote(in *sahara.Instance) sahara.Remote {
	return &logRemote{l: l, host: in.InstanceName}
}

func (l *remoteLog) add(c opsCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.Kind = "remote"
	l.calls = append(l.calls, c)
}

func (r *logRemote) InstanceName() string { return r.host }
func (r *logRemote) ExecuteCommand(_ context.Context, cmd string, o sahara.ExecOptions) (sahara.Result, error) {
	r.l.add(opsCall{Method: "execute_command", Host: r.host, Cmd: cmd})
	if strings.HasPrefix(cmd, "sudo hadoop version") {
		return sahara.Result{Stdout: []byte("2.7.3.2.6.5.0-292\n")}, nil
	}
	return sahara.Result{}, nil
}
func (r *logRemote) WriteFileTo(_ context.Context, path string, data []byte, _ sahara.FileOptions) error {
	r.l.add(opsCall{Method: "write_file_to", Host: r.host, RemoteFile: path, Data: string(data)})
	return nil
}
func (r *logRemote) WriteFilesTo(ctx context.Context, files []sahara.File, o sahara.FileOptions) error {
	for _, f := range files {
		_ = r.WriteFileTo(ctx, f.Path, f.Data, o)
	}
	return nil
}
func (r *logRemote) ReadFileFrom(context.Context, string, sahara.FileOptions) ([]byte, error) {
	return nil, fmt.Errorf("unexpected read")
}
func (r *logRemote) AppendToFile(_ context.Context, path string, data []byte, _ sahara.FileOptions) error {
	r.l.add(opsCall{Method: "append_to_file", Host: r.host, RemoteFile: path, Data: string(data)})
	return nil
}
func (r *logRemote) PrependToFile(context.Context, string, []byte, sahara.FileOptions) error {
	return fmt.Errorf("unexpected prepend")
}
func (r *logRemote) ReplaceRemoteString(_ context.Context, path, old, new string, _ sahara.FileOptions) error {
	r.l.add(opsCall{Method: "replace_remote_string", Host: r.host, RemoteFile: path, OldStr: old, NewStr: new})
	return nil
}
func (r *logRemote) ReplaceRemoteLine(_ context.Context, path, old, new string, _ sahara.FileOptions) error {
	r.l.add(opsCall{Method: "replace_remote_line", Host: r.host, RemoteFile: path, OldLine: old, NewLine: new})
	return nil
}
func (r *logRemote) GetOSDistrib(context.Context) (string, error) {
	r.l.add(opsCall{Method: "get_os_distrib", Host: r.host})
	return "centos", nil
}

// remoteKey renders a remote call for comparison; Sahara's
// update_repository is saharagen's get_os_distrib + "yum clean all", and
// the /tmp/<uuid> file of the server start a random name.
var tmpRE = regexp.MustCompile(`/tmp/[0-9a-f-]{20,}`)

func remoteKeys(calls []opsCall) []string {
	var out []string
	for _, c := range calls {
		if c.Kind != "remote" {
			continue
		}
		switch c.Method {
		case "get_http_client", "close_http_session":
			continue
		case "update_repository":
			out = append(out, c.Host+" get_os_distrib", c.Host+" execute_command yum clean all")
			continue
		}
		k := strings.Join([]string{c.Host, c.Method, tmpRE.ReplaceAllString(c.Cmd, "/tmp/<random>"), c.RemoteFile, c.Data, c.OldLine, c.NewLine, c.OldStr, c.NewStr}, " ")
		out = append(out, strings.TrimRight(k, " "))
	}
	return out
}

// runPhase runs one plugin phase against the fake Ambari server and the
// recording remote, and reports REST and remote calls identical.
func runPhase(t *testing.T, s opsSample, ph opsPhase, run func(p *Plugin, rs sahara.Remotes) error, f *fakeAmbari) {
	t.Helper()
	var want []opsCall
	for _, c := range ph.Calls {
		if c.isHTTP() {
			want = append(want, c)
		}
	}
	f.want, f.used, f.inOrder, f.matched, f.unknown = want, make([]bool, len(want)), 0, 0, nil
	srv := httptest.NewServer(f)
	defer srv.Close()
	n := 0
	p := New(Options{
		Options: hadoop.Options{Parallelism: 1, Sleep: func(context.Context, time.Duration) error { return nil }},
		Connect: func(_ context.Context, server *sahara.Instance, _ sahara.Remote) (Endpoint, error) {
			return Endpoint{Client: srv.Client(), BaseURL: srv.URL, Probe: func(ctx context.Context) error {
				c, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Listener.Addr().String())
				if err == nil {
					_ = c.Close()
				}
				return err
			}}, nil
		},
		NewPassword: func() (string, error) { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012x", n), nil },
	})
	log := &remoteLog{}
	if err := run(p, log); err != nil {
		t.Errorf("%s: %v", ph.Phase, err)
	}
	for _, u := range f.unknown {
		t.Errorf("%s: request not in the recording: %s", ph.Phase, u)
	}
	for i, used := range f.used {
		if !used {
			t.Errorf("%s: recorded request not made: %s %s", ph.Phase, want[i].Method, want[i].Path)
		}
	}
	name := strings.Fields(strings.TrimPrefix(ph.Phase, "plugin."))[0]
	conformance.Report(t, "ambari", fmt.Sprintf("sample %q %s REST calls (%d in Sahara's order)", s.Title, name, f.inOrder), f.matched, len(want))
	gotR, wantR := remoteKeys(log.calls), remoteKeys(ph.Calls)
	same := 0
	for i := range wantR {
		if i < len(gotR) && gotR[i] == wantR[i] {
			same++
		} else if i < len(gotR) {
			t.Errorf("%s: remote call #%d\n got: %s\nwant: %s", ph.Phase, i, gotR[i], wantR[i])
		}
	}
	if len(gotR) != len(wantR) {
		t.Errorf("%s: %d remote calls, want %d", ph.Phase, len(gotR), len(wantR))
	}
	conformance.Report(t, "ambari", fmt.Sprintf("sample %q %s remote calls", s.Title, name), same, len(wantR))
}

func loadOps(t *testing.T) []opsSample {
	var f opsFile
	conformance.ReadJSON(t, conformance.Dir(t), "ambari/sample_cluster_ops.json", &f)
	if len(f.Samples) == 0 {
		t.Fatal("no samples")
	}
	return f.Samples
}

// sampleCluster builds a sample's cluster with the named instances and
// the fake Keystone of the recording for the Swift settings.
func sampleCluster(s opsSample, names ...string) *sahara.Cluster {
	c := s.Cluster(names...)
	c.Extra = map[string]string{hadoop.ExtraSwiftAuthURL: "http://keystone.example.org:5000/v3/", hadoop.ExtraSwiftTenant: "demo-project"}
	return c
}

func phase(t *testing.T, s opsSample, prefix string) opsPhase {
	for _, ph := range s.Phases {
		if strings.HasPrefix(ph.Phase, prefix) && ph.Error == nil {
			return ph
		}
	}
	t.Fatalf("no phase %s without error", prefix)
	return opsPhase{}
}

func TestConformance_SampleOps(t *testing.T) {
	for _, s := range loadOps(t) {
		t.Run(s.Title, func(t *testing.T) {
			var initial []string
			for name := range s.Instances {
				if !strings.HasSuffix(name, "-3") || !strings.Contains(name, "worker") {
					initial = append(initial, name)
				}
			}
			c := sampleCluster(s, initial...)
			nnHA := generalBool(c, CfgNameNodeHA, false)
			f := &fakeAmbari{t: t, nnHA: nnHA}
			runPhase(t, s, phase(t, s, "plugin.configure_cluster"), func(p *Plugin, rs sahara.Remotes) error {
				return p.ConfigureCluster(context.Background(), c, rs)
			}, f)
			runPhase(t, s, phase(t, s, "plugin.start_cluster"), func(p *Plugin, rs sahara.Remotes) error {
				return p.StartCluster(context.Background(), c, rs)
			}, f)
			checkInfo(t, s, c, f.password)
			// The scale phase is named "plugin.scale_cluster (<group> +1: <instance>)".
			scale := phase(t, s, "plugin.scale_cluster")
			var group, name string
			if _, err := fmt.Sscanf(scale.Phase, "plugin.scale_cluster (%s +1: %s", &group, &name); err != nil {
				t.Fatalf("phase %q: %v", scale.Phase, err)
			}
			name = strings.TrimSuffix(name, ")")
			ng := c.NodeGroup(group)
			inst := ng.NewInstance(len(ng.Instances))
			inst.InstanceID = "id-" + name
			inst.StorageDevicesNumber = ng.Instances[0].StorageDevicesNumber
			ng.AddInstance(inst)
			ng.Count++
			if inst.InstanceName != name {
				t.Fatalf("new instance is %s, want %s", inst.InstanceName, name)
			}
			added := []*sahara.Instance{inst}
			runPhase(t, s, scale, func(p *Plugin, rs sahara.Remotes) error {
				return p.ScaleCluster(context.Background(), c, rs, added)
			}, f)
			runPhase(t, s, phase(t, s, "plugin.decommission_nodes"), func(p *Plugin, rs sahara.Remotes) error {
				return p.DecommissionNodes(context.Background(), c, rs, added)
			}, f)
			for _, ng := range c.NodeGroups {
				if got, want := New(Options{}).OpenPorts(c, ng), s.OpenPorts[ng.Name]; !reflect.DeepEqual(got, want) {
					t.Errorf("open ports of %s = %v, want %v", ng.Name, got, want)
				}
			}
		})
	}
}

// checkInfo compares the cluster info with Sahara's, whose Ambari password
// saharagen gives as a user credential instead; no secret may be in the info.
func checkInfo(t *testing.T, s opsSample, c *sahara.Cluster, adminPassword string) {
	t.Helper()
	want := map[string]map[string]string{}
	for sec, kv := range s.ClusterInfoAfterStart {
		want[sec] = map[string]string{}
		for k, v := range kv {
			if sec == ProcAmbari && k == "Password" {
				continue
			}
			want[sec][k] = v
		}
	}
	if !reflect.DeepEqual(c.Info, want) {
		t.Errorf("cluster info = %v, want %v", c.Info, want)
	}
	if adminPassword == "" || c.UserCredentials()[CredentialAmbariPassword] != adminPassword {
		t.Errorf("user credential %s is not the Ambari admin password set", CredentialAmbariPassword)
	}
	raw, _ := json.Marshal(c.Info)
	for k, v := range c.Secrets {
		if strings.Contains(string(raw), v) {
			t.Errorf("cluster info shows secret %s", k)
		}
	}
}
