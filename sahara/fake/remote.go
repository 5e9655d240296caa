package fake

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Call is one recorded remote call.
type Call struct {
	Instance string
	// Method is the Remote method name ("ExecuteCommand", "WriteFileTo", …).
	Method string
	// Arg is the command line, or the path of a file operation.
	Arg       string
	Data      []byte
	RunAsRoot bool
}

// Host is the in-memory state of one instance: its files and hostname.
type Host struct {
	mu       sync.Mutex
	Name     string
	Hostname string
	// Files by absolute path.
	Files map[string][]byte
	// OS is what GetOSDistrib returns (default "ubuntu").
	OS string
	// ServerID is the server the state belongs to; a new server with the
	// same name starts with a fresh disk.
	ServerID string
	// Packages installed on the image ("dpkg -s" / "rpm -q" succeed for them).
	Packages map[string]bool
}

// newDisk is what a freshly booted image holds.
func newDisk() map[string][]byte {
	return map[string][]byte{
		"/etc/resolv.conf": []byte("nameserver 10.0.0.2\n"),
		"/etc/hosts":       []byte("127.0.0.1 localhost\n"),
	}
}

// File returns the content of an absolute path and whether it exists.
func (h *Host) File(p string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.Files[p]
	return append([]byte(nil), b...), ok
}

// ExecFunc handles a command before the built-in emulation; handled=false
// falls through to it.
type ExecFunc func(h *Host, cmd string, opts sahara.ExecOptions) (res sahara.Result, handled bool, err error)

// Connector is an in-memory sahara.RemoteConnector: every instance is a
// Host with a file map; commands are recorded and a few (hostname, cp, rm,
// mv, cat, mkdir) are emulated, the rest succeed. Configure the exported
// fields before use.
type Connector struct {
	// CallLatency is added to every remote call.
	CallLatency time.Duration
	// Exec, when set, handles commands first.
	Exec ExecFunc

	faults faults
	calls  counter

	mu          sync.Mutex
	hosts       map[string]*Host
	hostKeys    map[string]string
	unreachable map[string]bool
	log         []Call
	connects    int
	handshakes  int
	inflight    int
	maxInflight int
}

var _ sahara.RemoteConnector = (*Connector)(nil)

// NewConnector returns a connector with no hosts; hosts appear on first use.
func NewConnector() *Connector {
	return &Connector{hosts: map[string]*Host{}, hostKeys: map[string]string{}, unreachable: map[string]bool{}}
}

// Host returns (creating it) the host of an instance name.
func (f *Connector) Host(name string) *Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.host(name)
}

func (f *Connector) host(name string) *Host {
	h := f.hosts[name]
	if h == nil {
		h = &Host{Name: name, Files: newDisk(), OS: "ubuntu", Packages: map[string]bool{}}
		f.hosts[name] = h
	}
	return h
}

// HostKey returns the SSH host key the fake instance presents.
func (f *Connector) HostKey(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.hostKeys[name]; ok {
		return k
	}
	return "ssh-ed25519 AAAAfake" + name
}

// SetHostKey changes the host key an instance presents (a MITM, a rebuild).
func (f *Connector) SetHostKey(name, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hostKeys[name] = key
}

// SetUnreachable makes WaitAccessible and every call to the instance fail.
func (f *Connector) SetUnreachable(name string, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unreachable[name] = v
}

// Fail injects a fault for method ("ExecuteCommand", "WriteFileTo",
// "WaitAccessible", …) on instance ("" = any) whose command or path contains
// match ("" = any). A failing ExecuteCommand without err returns a
// *sahara.CommandError with exit status 1.
func (f *Connector) Fail(method, instance, match string, err error) *Fault {
	x := &Fault{Method: method, Instance: instance, Match: match, Err: err}
	f.faults.add(x)
	return x
}

// ClearFaults removes every injected fault.
func (f *Connector) ClearFaults() { f.faults.clear() }

// Calls returns how many times a Remote method was called.
func (f *Connector) Calls(method string) int { return f.calls.get(method) }

// TotalCalls counts every remote call, WaitAccessible included.
func (f *Connector) TotalCalls() int { return f.calls.total() }

// Handshakes counts connections opened to instances (one per instance per pool).
func (f *Connector) Handshakes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handshakes
}

// Connects counts pools opened.
func (f *Connector) Connects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}

// MaxInflight is the highest number of remote calls seen running at once.
func (f *Connector) MaxInflight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInflight
}

// Log returns the recorded calls, in the order they started.
func (f *Connector) Log() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.log...)
}

// LogFor returns the recorded calls of one instance.
func (f *Connector) LogFor(instance string) []Call {
	var out []Call
	for _, c := range f.Log() {
		if c.Instance == instance {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls clears the counters and the log.
func (f *Connector) ResetCalls() {
	f.calls.reset()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log, f.connects, f.handshakes, f.maxInflight = nil, 0, 0, 0
}

// HostNames lists the hosts that were reached, sorted.
func (f *Connector) HostNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.hosts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Connect implements sahara.RemoteConnector.
func (f *Connector) Connect(ctx context.Context, c *sahara.Cluster) (sahara.RemotePool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	return &pool{f: f, open: map[string]bool{}}, nil
}

type pool struct {
	f      *Connector
	mu     sync.Mutex
	open   map[string]bool
	closed bool
}

func (p *pool) Remote(in *sahara.Instance) sahara.Remote { return &remote{p: p, in: in} }

func (p *pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// begin records a call and applies latency, reachability and faults.
func (p *pool) begin(ctx context.Context, in *sahara.Instance, method, arg string, data []byte, root bool) (*Host, func(), error) {
	f := p.f
	f.calls.inc(method, 1)
	f.mu.Lock()
	f.log = append(f.log, Call{Instance: in.InstanceName, Method: method, Arg: arg, Data: append([]byte(nil), data...), RunAsRoot: root})
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	unreachable := f.unreachable[in.InstanceName]
	h := f.host(in.InstanceName)
	f.mu.Unlock()
	h.mu.Lock()
	if in.InstanceID != "" && h.ServerID != in.InstanceID {
		if h.ServerID != "" {
			h.Files, h.Hostname = newDisk(), ""
		}
		h.ServerID = in.InstanceID
	}
	h.mu.Unlock()
	done := func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}
	p.mu.Lock()
	closed := p.closed
	first := !p.open[in.InstanceName]
	if !unreachable {
		p.open[in.InstanceName] = true
	}
	p.mu.Unlock()
	if closed {
		done()
		return nil, nil, fmt.Errorf("%s: remote pool is closed", in.InstanceName)
	}
	if f.CallLatency > 0 {
		if err := sleep(ctx, f.CallLatency); err != nil {
			done()
			return nil, nil, err
		}
	}
	if unreachable {
		done()
		return nil, nil, fmt.Errorf("%s: dial %s:22: connection refused", in.InstanceName, in.ManagementIP)
	}
	if first {
		f.mu.Lock()
		f.handshakes++
		f.mu.Unlock()
	}
	if err := f.faults.match(method, in.InstanceName, arg); err != nil {
		done()
		return nil, nil, err
	}
	return h, done, nil
}

type remote struct {
	p  *pool
	in *sahara.Instance
}

func (r *remote) InstanceName() string { return r.in.InstanceName }

// WaitAccessible implements sahara.RemotePool; it verifies the pinned host
// key (one or more authorized_keys lines) like the SSH remote does.
func (p *pool) WaitAccessible(ctx context.Context, in *sahara.Instance) (string, error) {
	_, done, err := p.begin(ctx, in, "WaitAccessible", "", nil, false)
	if err != nil {
		return "", err
	}
	defer done()
	key := p.f.HostKey(in.InstanceName)
	if in.HostKey != "" && !containsLine(in.HostKey, key) {
		return "", fmt.Errorf("%s: ssh: host key mismatch", in.InstanceName)
	}
	return key, nil
}

func containsLine(lines, line string) bool {
	for _, l := range strings.Split(lines, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func (r *remote) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	user := r.in.Username()
	if user == "" {
		user = "ubuntu"
	}
	home := "/home/" + user
	if user == "root" {
		home = "/root"
	}
	return path.Join(home, p)
}

func (r *remote) ExecuteCommand(ctx context.Context, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
	h, done, err := r.p.begin(ctx, r.in, "ExecuteCommand", cmd, opts.Stdin, opts.RunAsRoot)
	if err != nil {
		if err == ErrInjected {
			return sahara.Result{ExitCode: 1}, &sahara.CommandError{Instance: r.in.InstanceName, Name: cmdName(cmd, opts), ExitCode: 1, StderrTail: "injected failure"}
		}
		return sahara.Result{}, err
	}
	defer done()
	if fn := r.p.f.Exec; fn != nil {
		if res, handled, err := fn(h, cmd, opts); handled {
			if err == nil && res.ExitCode != 0 && !opts.IgnoreExitCode {
				err = &sahara.CommandError{Instance: r.in.InstanceName, Name: cmdName(cmd, opts), ExitCode: res.ExitCode, StderrTail: string(res.Stderr)}
			}
			return res, err
		}
	}
	res := r.emulate(h, cmd)
	if res.ExitCode != 0 && !opts.IgnoreExitCode {
		return res, &sahara.CommandError{Instance: r.in.InstanceName, Name: cmdName(cmd, opts), ExitCode: res.ExitCode, StderrTail: string(res.Stderr)}
	}
	return res, nil
}

func cmdName(cmd string, opts sahara.ExecOptions) string {
	if opts.Name != "" {
		return opts.Name
	}
	if f := strings.Fields(cmd); len(f) > 0 {
		if f[0] == "sudo" && len(f) > 1 {
			return f[1]
		}
		return f[0]
	}
	return ""
}

// emulate runs the few commands whose effect tests look at.
func (r *remote) emulate(h *Host, cmd string) sahara.Result {
	args := splitWords(cmd)
	if len(args) > 0 && args[0] == "sudo" {
		args = args[1:]
	}
	if len(args) == 0 {
		return sahara.Result{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fail := func(msg string) sahara.Result { return sahara.Result{ExitCode: 1, Stderr: []byte(msg)} }
	switch args[0] {
	case "hostname":
		if len(args) == 2 {
			h.Hostname = args[1]
		}
	case "cp", "mv":
		if len(args) != 3 {
			return fail(args[0] + ": want 2 operands")
		}
		src, dst := r.abs(args[1]), r.abs(args[2])
		b, ok := h.Files[src]
		if !ok {
			return fail(args[0] + ": cannot stat '" + args[1] + "': No such file or directory")
		}
		h.Files[dst] = append([]byte(nil), b...)
		if args[0] == "mv" {
			delete(h.Files, src)
		}
	case "rm":
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			delete(h.Files, r.abs(a))
		}
	case "grep":
		return grepFiles(h, r, args[1:])
	case "dpkg", "rpm":
		if len(args) == 3 && (args[1] == "-s" || args[1] == "-q") && h.Packages[args[2]] {
			return sahara.Result{}
		}
		return fail(args[0] + ": package is not installed")
	case "mount":
		// Record the mount so a later check sees the device as in use.
		var pos []string
		typ := "auto"
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "-t":
				i++
				if i < len(args) {
					typ = args[i]
				}
			case "-o":
				i++
			default:
				pos = append(pos, args[i])
			}
		}
		if len(pos) == 2 {
			h.Files["/proc/mounts"] = append(h.Files["/proc/mounts"], []byte(pos[0]+" "+pos[1]+" "+typ+" rw 0 0\n")...)
		}
	case "cat":
		var out []byte
		for _, a := range args[1:] {
			b, ok := h.Files[r.abs(a)]
			if !ok {
				return fail("cat: " + a + ": No such file or directory")
			}
			out = append(out, b...)
		}
		return sahara.Result{Stdout: out}
	}
	return sahara.Result{}
}

// grepFiles emulates grep [-q] [-s] [-F] [-x] [--] pattern file: exit 0
// when a line contains (with -x: equals) the fixed pattern.
func grepFiles(h *Host, r *remote, args []string) sahara.Result {
	exact := false
	var pos []string
	opts := true
	for _, a := range args {
		if opts && a == "--" {
			opts = false
			continue
		}
		if opts && strings.HasPrefix(a, "-") && len(a) > 1 {
			exact = exact || strings.Contains(a, "x")
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) < 2 {
		return sahara.Result{ExitCode: 2}
	}
	for _, f := range pos[1:] {
		for _, line := range strings.Split(string(h.Files[r.abs(f)]), "\n") {
			if (exact && line == pos[0]) || (!exact && strings.Contains(line, pos[0])) {
				return sahara.Result{Stdout: []byte(line + "\n")}
			}
		}
	}
	return sahara.Result{ExitCode: 1}
}

// splitWords splits a command line into words, honouring single and double
// quotes and backslashes (enough for the engine's and plugins' commands).
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q == '\'':
			if c == '\'' {
				q = 0
			} else {
				cur.WriteByte(c)
			}
		case q == '"':
			if c == '"' {
				q = 0
			} else if c == '\\' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			q, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// withFiles records one call and runs fn on the host's files under its lock.
func (r *remote) withFiles(ctx context.Context, method, arg string, data []byte, root bool, fn func(files map[string][]byte) error) error {
	h, done, err := r.p.begin(ctx, r.in, method, arg, data, root)
	if err != nil {
		return err
	}
	defer done()
	h.mu.Lock()
	defer h.mu.Unlock()
	return fn(h.Files)
}

// noFile is what sed says about a missing file.
func (r *remote) noFile(p string) error {
	return &sahara.CommandError{Instance: r.in.InstanceName, Name: "sed", ExitCode: 2, StderrTail: "sed: can't read " + p + ": No such file or directory"}
}

func (r *remote) WriteFileTo(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	return r.withFiles(ctx, "WriteFileTo", p, data, opts.RunAsRoot, func(files map[string][]byte) error {
		files[r.abs(p)] = append([]byte(nil), data...)
		return nil
	})
}

func (r *remote) WriteFilesTo(ctx context.Context, list []sahara.File, opts sahara.FileOptions) error {
	names := make([]string, len(list))
	for i, fl := range list {
		names[i] = fl.Path
	}
	return r.withFiles(ctx, "WriteFilesTo", strings.Join(names, " "), nil, opts.RunAsRoot, func(files map[string][]byte) error {
		for _, fl := range list {
			files[r.abs(fl.Path)] = append([]byte(nil), fl.Data...)
		}
		return nil
	})
}

func (r *remote) ReadFileFrom(ctx context.Context, p string, opts sahara.FileOptions) ([]byte, error) {
	var out []byte
	err := r.withFiles(ctx, "ReadFileFrom", p, nil, opts.RunAsRoot, func(files map[string][]byte) error {
		b, ok := files[r.abs(p)]
		if !ok {
			return fmt.Errorf("%s: reading %s: no such file", r.in.InstanceName, p)
		}
		out = append([]byte(nil), b...)
		return nil
	})
	return out, err
}

func (r *remote) AppendToFile(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	return r.withFiles(ctx, "AppendToFile", p, data, opts.RunAsRoot, func(files map[string][]byte) error {
		a := r.abs(p)
		files[a] = append(files[a], data...)
		return nil
	})
}

func (r *remote) PrependToFile(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	return r.withFiles(ctx, "PrependToFile", p, data, opts.RunAsRoot, func(files map[string][]byte) error {
		a := r.abs(p)
		files[a] = append(append([]byte(nil), data...), files[a]...)
		return nil
	})
}

// ReplaceRemoteString treats old as a Go regular expression, close enough
// to sed's basic expressions for the patterns plugins use.
func (r *remote) ReplaceRemoteString(ctx context.Context, p, old, new string, opts sahara.FileOptions) error {
	re, err := regexp.Compile(strings.ReplaceAll(old, `\#`, `#`))
	if err != nil {
		re = regexp.MustCompile(regexp.QuoteMeta(old))
	}
	return r.withFiles(ctx, "ReplaceRemoteString", p, []byte(old+"\x00"+new), true, func(files map[string][]byte) error {
		a := r.abs(p)
		b, ok := files[a]
		if !ok {
			return r.noFile(p)
		}
		files[a] = re.ReplaceAllLiteral(b, []byte(new))
		return nil
	})
}

func (r *remote) ReplaceRemoteLine(ctx context.Context, p, oldLineStart, newLine string, opts sahara.FileOptions) error {
	return r.withFiles(ctx, "ReplaceRemoteLine", p, []byte(oldLineStart+"\x00"+newLine), true, func(files map[string][]byte) error {
		a := r.abs(p)
		b, ok := files[a]
		if !ok {
			return r.noFile(p)
		}
		lines := strings.SplitAfter(string(b), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, oldLineStart) {
				nl := ""
				if strings.HasSuffix(l, "\n") {
					nl = "\n"
				}
				lines[i] = newLine + nl
			}
		}
		files[a] = []byte(strings.Join(lines, ""))
		return nil
	})
}

func (r *remote) GetOSDistrib(ctx context.Context) (string, error) {
	h, done, err := r.p.begin(ctx, r.in, "GetOSDistrib", "", nil, false)
	if err != nil {
		return "", err
	}
	defer done()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.OS, nil
}
