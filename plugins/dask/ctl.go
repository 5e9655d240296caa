package dask

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Exit codes of resources/dask_ctl.py.
const (
	ctlUnreachable = 3
	ctlRemaining   = 4
)

// connectTimeout bounds one client connection to the scheduler.
const connectTimeout = 10 * time.Second

type ctlWorker struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	Host     string `json:"host"`
	NThreads int    `json:"nthreads"`
}

type ctlReply struct {
	Error     string      `json:"error"`
	Workers   []ctlWorker `json:"workers"`
	Retired   []string    `json:"retired"`
	Absent    []string    `json:"absent"`
	Remaining []string    `json:"remaining"`
	exitCode  int
}

// errUnreachable marks a scheduler that does not answer (yet).
type errUnreachable struct{ msg string }

func (e *errUnreachable) Error() string { return e.msg }

// ctl runs resources/dask_ctl.py on the scheduler instance with the image's
// Python (the script goes in on stdin, so it always matches this plugin).
func (p *Plugin) ctl(ctx context.Context, r sahara.Remotes, sched *sahara.Instance, cs clusterSettings, timeout time.Duration, args ...string) (ctlReply, error) {
	full := append([]string{cs.python, "-", args[0], schedulerAddress(sched, cs), strconv.Itoa(int(connectTimeout.Seconds()))}, args[1:]...)
	if cs.tls {
		// The scheduler instance's certificate is a client certificate too.
		full = append([]string{"env",
			"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True",
			"DASK_DISTRIBUTED__COMM__TLS__CA_FILE=" + p.tlsCA(),
			"DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=" + p.tlsCert(),
			"DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=" + p.tlsKey()}, full...)
	}
	cmd, err := sahara.ShellJoin(full...)
	if err != nil {
		return ctlReply{}, err
	}
	res, err := r.Remote(sched).ExecuteCommand(ctx, cmd, sahara.ExecOptions{
		Stdin: ctlScript, Timeout: timeout, IgnoreExitCode: true, Name: "dask_ctl " + args[0],
	})
	if err != nil {
		return ctlReply{}, fmt.Errorf("%s: dask_ctl %s: %w", sched.InstanceName, args[0], err)
	}
	var reply ctlReply
	lines := bytes.Split(bytes.TrimSpace(res.Stdout), []byte("\n"))
	if jerr := json.Unmarshal(lines[len(lines)-1], &reply); jerr != nil {
		return ctlReply{}, fmt.Errorf("%s: dask_ctl %s exited with status %d without a reply: %s", sched.InstanceName, args[0], res.ExitCode, tailOf(res.Stderr, 400))
	}
	reply.exitCode = res.ExitCode
	switch res.ExitCode {
	case 0, ctlRemaining:
		return reply, nil
	case ctlUnreachable:
		return reply, &errUnreachable{msg: reply.Error}
	default:
		return reply, fmt.Errorf("%s: dask_ctl %s exited with status %d: %s %s", sched.InstanceName, args[0], res.ExitCode, reply.Error, tailOf(res.Stderr, 400))
	}
}

func tailOf(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
