package dask

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// call is one operation a recordingRemote saw.
type call struct {
	Instance string
	Op       string // exec, write
	Cmd      string
	Opts     sahara.ExecOptions
	Files    []sahara.File
	FileOpts sahara.FileOptions
}

// recorder hands out recordingRemotes and keeps every call in order. Exec
// answers come from handler; a command it does not expect fails the test.
type recorder struct {
	t       *testing.T
	mu      sync.Mutex
	calls   []call
	handler func(inst string, cmd string, opts sahara.ExecOptions) (sahara.Result, error)
}

func (r *recorder) Remote(in *sahara.Instance) sahara.Remote {
	return &recordingRemote{rec: r, name: in.InstanceName}
}

func (r *recorder) add(c call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

type recordingRemote struct {
	rec  *recorder
	name string
}

func (m *recordingRemote) InstanceName() string { return m.name }

func (m *recordingRemote) ExecuteCommand(_ context.Context, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
	m.rec.add(call{Instance: m.name, Op: "exec", Cmd: cmd, Opts: opts})
	if m.rec.handler == nil {
		m.rec.t.Errorf("%s: unexpected command %q", m.name, cmd)
		return sahara.Result{}, fmt.Errorf("unexpected command")
	}
	res, err := m.rec.handler(m.name, cmd, opts)
	if err == nil && res.ExitCode != 0 && !opts.IgnoreExitCode {
		return res, &sahara.CommandError{Instance: m.name, Name: opts.Name, ExitCode: res.ExitCode, StderrTail: string(res.Stderr)}
	}
	return res, err
}

func (m *recordingRemote) WriteFileTo(_ context.Context, path string, data []byte, opts sahara.FileOptions) error {
	m.rec.add(call{Instance: m.name, Op: "write", Files: []sahara.File{{Path: path, Data: data}}, FileOpts: opts})
	return nil
}

func (m *recordingRemote) WriteFilesTo(_ context.Context, files []sahara.File, opts sahara.FileOptions) error {
	m.rec.add(call{Instance: m.name, Op: "write", Files: files, FileOpts: opts})
	return nil
}

func (m *recordingRemote) unexpected(op string) error {
	m.rec.t.Errorf("%s: unexpected %s", m.name, op)
	return fmt.Errorf("unexpected %s", op)
}

func (m *recordingRemote) ReadFileFrom(context.Context, string, sahara.FileOptions) ([]byte, error) {
	return nil, m.unexpected("ReadFileFrom")
}
func (m *recordingRemote) AppendToFile(context.Context, string, []byte, sahara.FileOptions) error {
	return m.unexpected("AppendToFile")
}
func (m *recordingRemote) PrependToFile(context.Context, string, []byte, sahara.FileOptions) error {
	return m.unexpected("PrependToFile")
}
func (m *recordingRemote) ReplaceRemoteString(context.Context, string, string, string, sahara.FileOptions) error {
	return m.unexpected("ReplaceRemoteString")
}
func (m *recordingRemote) ReplaceRemoteLine(context.Context, string, string, string, sahara.FileOptions) error {
	return m.unexpected("ReplaceRemoteLine")
}
func (m *recordingRemote) GetOSDistrib(context.Context) (string, error) {
	return "", m.unexpected("GetOSDistrib")
}

// ngDef describes a node group of a test cluster.
type ngDef struct {
	name  string
	procs []string
	count int
	cfg   sahara.Configs
}

// newCluster builds an Active-looking cluster "demo" with instances and IPs.
func newCluster(cfg sahara.Configs, groups ...ngDef) *sahara.Cluster {
	c := &sahara.Cluster{ID: "c1"}
	c.Name = "demo"
	c.PluginName = "dask"
	c.PluginVersion = Version
	c.ClusterConfigs = cfg
	ip := 10
	for _, g := range groups {
		ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: g.name, NodeProcesses: g.procs, Count: g.count, NodeConfigs: g.cfg})
		ng.ImageUsername = "ubuntu"
		for i := 0; i < g.count; i++ {
			in := ng.NewInstance(i)
			in.InternalIP = fmt.Sprintf("10.0.0.%d", ip)
			in.ManagementIP = fmt.Sprintf("172.24.4.%d", ip)
			ip++
			ng.AddInstance(in)
		}
	}
	return c
}

func standardCluster() *sahara.Cluster {
	return newCluster(nil,
		ngDef{name: "scheduler", procs: []string{ProcScheduler}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 3})
}
