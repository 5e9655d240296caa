package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Remote method names, as Sahara's remote helper names them.
const (
	MethodExecute       = "execute_command"
	MethodWrite         = "write_file_to"
	MethodWriteMany     = "write_files_to"
	MethodRead          = "read_file_from"
	MethodAppend        = "append_to_file"
	MethodPrepend       = "prepend_to_file"
	MethodReplaceString = "replace_remote_string"
	MethodReplaceLine   = "replace_remote_line"
	MethodOSDistrib     = "get_os_distrib"
	MethodSleep         = "<context.sleep>"
)

// Call is one remote call (or poll sleep) in the golden format of
// sample_cluster_ops.json.
type Call struct {
	Method     string   `json:"method"`
	Host       *string  `json:"host"`
	Cmd        string   `json:"cmd,omitempty"`
	RemoteFile string   `json:"remote_file,omitempty"`
	Data       *string  `json:"data,omitempty"`
	RunAsRoot  *bool    `json:"run_as_root,omitempty"`
	OldStr     string   `json:"old_str,omitempty"`
	NewStr     string   `json:"new_str,omitempty"`
	Seconds    *float64 `json:"seconds,omitempty"`
	// RaiseWhenError is Sahara's raise_when_error (not IgnoreExitCode).
	RaiseWhenError *bool `json:"raise_when_error,omitempty"`
	// Sensitive is saharagen's: the content was marked secret.
	Sensitive bool `json:"-"`
	// StepType is Sahara's provisioning step label of the call (golden
	// data only; not compared).
	StepType *string `json:"step_type,omitempty"`
	// Files are the files of a write_files_to call (golden data only:
	// ExpandWriteMany turns such a call into one write_file_to per file,
	// which is how the recording remote records WriteFilesTo).
	Files []FileData `json:"files,omitempty"`
}

// FileData is one file of a write_files_to call.
type FileData struct {
	RemoteFile string `json:"remote_file"`
	Data       string `json:"data"`
}

// ExpandWriteMany returns calls with every write_files_to replaced by one
// write_file_to per file, in order, on the same host.
func ExpandWriteMany(calls []Call) []Call {
	var out []Call
	for _, c := range calls {
		if c.Method != MethodWriteMany {
			out = append(out, c)
			continue
		}
		for _, f := range c.Files {
			out = append(out, Call{Method: MethodWrite, Host: c.Host, RemoteFile: f.RemoteFile, Data: ptr(f.Data), RunAsRoot: c.RunAsRoot})
		}
	}
	return out
}

// String renders a call for error messages (data shortened).
func (c Call) String() string {
	host := "<none>"
	if c.Host != nil {
		host = *c.Host
	}
	s := host + " " + c.Method
	for _, f := range []string{c.Cmd, c.RemoteFile} {
		if f != "" {
			s += " " + fmt.Sprintf("%q", f)
		}
	}
	if c.OldStr != "" || c.NewStr != "" {
		s += fmt.Sprintf(" s,%s,%s,", c.OldStr, c.NewStr)
	}
	if c.Data != nil {
		d := *c.Data
		if len(d) > 60 {
			d = d[:60] + "…"
		}
		s += fmt.Sprintf(" data=%q", d)
	}
	if c.RunAsRoot != nil {
		s += fmt.Sprintf(" root=%v", *c.RunAsRoot)
	}
	if c.RaiseWhenError != nil {
		s += fmt.Sprintf(" raise=%v", *c.RaiseWhenError)
	}
	if c.Seconds != nil {
		s += fmt.Sprintf(" %vs", *c.Seconds)
	}
	return s
}

// Matches compares the fields both calls set: method, host, command or
// file, data, run_as_root, the replace strings, raise_when_error and the
// sleep length. Timeouts are not compared (saharagen's remotes apply
// Sahara's defaults themselves).
func (c Call) Matches(want Call) string {
	var d []string
	eqp := func(name string, a, b *string) {
		if (a == nil) != (b == nil) || (a != nil && *a != *b) {
			d = append(d, name)
		}
	}
	if c.Method != want.Method {
		d = append(d, "method")
	}
	eqp("host", c.Host, want.Host)
	if c.Cmd != want.Cmd {
		d = append(d, "cmd")
	}
	if c.RemoteFile != want.RemoteFile {
		d = append(d, "remote_file")
	}
	if want.Data != nil {
		if c.Data == nil {
			d = append(d, "data (none)")
		} else if *c.Data != *want.Data {
			d = append(d, "data "+firstDiff(*c.Data, *want.Data))
		}
	}
	if want.RunAsRoot != nil && (c.RunAsRoot == nil || *c.RunAsRoot != *want.RunAsRoot) {
		d = append(d, "run_as_root")
	}
	if want.RaiseWhenError != nil && (c.RaiseWhenError == nil || *c.RaiseWhenError != *want.RaiseWhenError) {
		d = append(d, "raise_when_error")
	}
	if c.OldStr != want.OldStr || c.NewStr != want.NewStr {
		d = append(d, "old_str/new_str")
	}
	if want.Seconds != nil && (c.Seconds == nil || *c.Seconds != *want.Seconds) {
		d = append(d, "seconds")
	}
	return strings.Join(d, ", ")
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("(line %d: got %q, want %q)", i+1, a, b)
		}
	}
	return ""
}

// Responder answers an execute_command: n counts the earlier calls of the
// same command on the same host.
type Responder func(host, cmd string, n int) sahara.Result

// Recorder is a sahara.Remotes whose remotes record every call and compare
// it with the next expected call: an unexpected call fails the test and
// returns an error to the plugin, so nothing runs past the first mismatch.
// Its Sleep and Now give the plugin a fake clock that advances on sleep.
type Recorder struct {
	t       testing.TB
	mu      sync.Mutex
	want    []Call
	got     []Call
	respond Responder
	counts  map[string]int
	clock   time.Time
	failed  bool
	// free: record without comparing (NewLog).
	free bool
	// Files holds the last content written to each host:path.
	Files map[string]string
}

// NewRecorder expects exactly the calls in want, in order.
func NewRecorder(t testing.TB, want []Call, respond Responder) *Recorder {
	return &Recorder{t: t, want: want, respond: respond, counts: map[string]int{}, clock: time.Unix(1_700_000_000, 0), Files: map[string]string{}}
}

// NewLog records every call without expecting any; tests then assert on
// Calls and Files.
func NewLog(t testing.TB, respond Responder) *Recorder {
	r := NewRecorder(t, nil, respond)
	r.free = true
	return r
}

// Remote implements sahara.Remotes.
func (r *Recorder) Remote(in *sahara.Instance) sahara.Remote {
	return &recRemote{r: r, host: in.InstanceName}
}

// Sleep records a poll wait and advances the clock.
func (r *Recorder) Sleep(ctx context.Context, d time.Duration) error {
	secs := d.Seconds()
	if err := r.record(Call{Method: MethodSleep, Seconds: &secs}); err != nil {
		return err
	}
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
	return nil
}

// Now is the fake clock.
func (r *Recorder) Now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

// Calls returns the calls recorded so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.got...)
}

// Finish fails the test if expected calls were not made.
func (r *Recorder) Finish() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.free && !r.failed && len(r.got) < len(r.want) {
		r.t.Errorf("recording remote: %d of %d expected calls made; next expected: %s", len(r.got), len(r.want), r.want[len(r.got)])
	}
}

func (r *Recorder) record(c Call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := len(r.got)
	r.got = append(r.got, c)
	if r.free {
		return nil
	}
	if r.failed {
		return fmt.Errorf("recording remote: call after a mismatch: %s", c)
	}
	if i >= len(r.want) {
		r.failed = true
		r.t.Errorf("recording remote: unexpected call #%d: %s", i, c)
		return fmt.Errorf("recording remote: unexpected call %s", c)
	}
	if diff := c.Matches(r.want[i]); diff != "" {
		r.failed = true
		r.t.Errorf("recording remote: call #%d differs in %s:\n got: %s\nwant: %s", i, diff, c, r.want[i])
		return fmt.Errorf("recording remote: unexpected call %s", c)
	}
	return nil
}

type recRemote struct {
	r    *Recorder
	host string
}

func ptr[T any](v T) *T { return &v }

func (m *recRemote) InstanceName() string { return m.host }

func (m *recRemote) ExecuteCommand(ctx context.Context, cmd string, o sahara.ExecOptions) (sahara.Result, error) {
	if err := m.r.record(Call{Method: MethodExecute, Host: ptr(m.host), Cmd: cmd, RunAsRoot: ptr(o.RunAsRoot), RaiseWhenError: ptr(!o.IgnoreExitCode), Sensitive: o.Sensitive}); err != nil {
		return sahara.Result{ExitCode: 1}, err
	}
	m.r.mu.Lock()
	key := m.host + "\x00" + cmd
	n := m.r.counts[key]
	m.r.counts[key]++
	m.r.mu.Unlock()
	if m.r.respond == nil {
		return sahara.Result{}, nil
	}
	res := m.r.respond(m.host, cmd, n)
	if res.ExitCode != 0 && !o.IgnoreExitCode {
		return res, &sahara.CommandError{Instance: m.host, Name: cmd, ExitCode: res.ExitCode}
	}
	return res, nil
}

func (m *recRemote) file(method, path string, data []byte, o sahara.FileOptions) error {
	c := Call{Method: method, Host: ptr(m.host), RemoteFile: path, RunAsRoot: ptr(o.RunAsRoot), Sensitive: o.Sensitive}
	if data != nil {
		c.Data = ptr(string(data))
	}
	if err := m.r.record(c); err != nil {
		return err
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	switch method {
	case MethodWrite:
		m.r.Files[m.host+":"+path] = string(data)
	case MethodAppend:
		m.r.Files[m.host+":"+path] += string(data)
	}
	return nil
}

func (m *recRemote) WriteFileTo(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	return m.file(MethodWrite, path, data, o)
}

func (m *recRemote) WriteFilesTo(ctx context.Context, files []sahara.File, o sahara.FileOptions) error {
	for _, f := range files {
		if err := m.file(MethodWrite, f.Path, f.Data, o); err != nil {
			return err
		}
	}
	return nil
}

func (m *recRemote) ReadFileFrom(ctx context.Context, path string, o sahara.FileOptions) ([]byte, error) {
	if err := m.file(MethodRead, path, nil, o); err != nil {
		return nil, err
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	return []byte(m.r.Files[m.host+":"+path]), nil
}

func (m *recRemote) AppendToFile(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	return m.file(MethodAppend, path, data, o)
}

func (m *recRemote) PrependToFile(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	return m.file(MethodPrepend, path, data, o)
}

func (m *recRemote) ReplaceRemoteString(ctx context.Context, path, old, new string, o sahara.FileOptions) error {
	return m.r.record(Call{Method: MethodReplaceString, Host: ptr(m.host), RemoteFile: path, OldStr: old, NewStr: new})
}

func (m *recRemote) ReplaceRemoteLine(ctx context.Context, path, oldLineStart, newLine string, o sahara.FileOptions) error {
	return m.r.record(Call{Method: MethodReplaceLine, Host: ptr(m.host), RemoteFile: path, OldStr: oldLineStart, NewStr: newLine})
}

func (m *recRemote) GetOSDistrib(ctx context.Context) (string, error) {
	if err := m.r.record(Call{Method: MethodOSDistrib, Host: ptr(m.host)}); err != nil {
		return "", err
	}
	return "ubuntu", nil
}
