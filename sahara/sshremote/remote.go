package sshremote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// remote is the sahara.Remote of one instance in a pool.
type remote struct {
	p  *pool
	in *sahara.Instance
}

var _ sahara.Remote = (*remote)(nil)

func (r *remote) InstanceName() string { return r.in.InstanceName }

// session opens a session on the instance's connection, redialing once
// when the connection turns out to be dead. release frees its slot.
func (r *remote) session(ctx context.Context) (*ssh.Session, func(), error) {
	for try := 0; ; try++ {
		hc, cl, err := r.p.client(ctx, r.in)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting: %w", err)
		}
		if err := acquire(ctx, hc.sem); err != nil {
			return nil, nil, err
		}
		s, err := openRetrying(ctx, func() (*ssh.Session, error) { return bounded(ctx, cl.NewSession, closeSession) })
		if err == nil {
			r.p.c.sessions.Add(1)
			return s, func() { _ = s.Close(); <-hc.sem }, nil
		}
		<-hc.sem
		var oce *ssh.OpenChannelError
		if try > 0 || errors.As(err, &oce) || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("opening SSH session: %w", err)
		}
		r.p.drop(hc, cl)
	}
}

// openRetrying retries a session open the server refused: sshd frees a
// closed session's slot only on its next loop turn, so an open right after a
// close can see "no more sessions" although the pool keeps within
// MaxSessions.
func openRetrying[T any](ctx context.Context, open func() (T, error)) (T, error) {
	wait := 20 * time.Millisecond
	for try := 1; ; try++ {
		v, err := open()
		var oce *ssh.OpenChannelError
		if err == nil || !errors.As(err, &oce) || try == 40 {
			return v, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// ExecuteCommand runs cmd in the login user's shell, or as root through
// `sudo -n bash -c <quoted cmd>`.
func (r *remote) ExecuteCommand(ctx context.Context, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
	name := commandName(cmd, opts.Name)
	line := cmd
	if opts.RunAsRoot {
		q, err := sahara.Quote(cmd)
		if err != nil {
			return sahara.Result{}, fmt.Errorf("%s: command %q: %w", r.in.InstanceName, name, err)
		}
		line = "sudo -n bash -c " + q
	} else if strings.IndexByte(cmd, 0) >= 0 {
		return sahara.Result{}, fmt.Errorf("%s: command %q: %w", r.in.InstanceName, name, sahara.ErrNulInShellValue)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = orDefault(r.p.c.DefaultCommandTimeout, DefaultCommandTimeout)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	res, err := r.run(ctx, line, opts.Stdin)
	attrs := []any{"instance", r.in.InstanceName, "name", name, "duration", time.Since(start).Round(time.Millisecond), "exit_code", res.ExitCode}
	if !opts.Sensitive {
		attrs = append(attrs, "cmd", cmd)
	}
	r.p.log.Debug(r.in.InstanceName+": command "+name, attrs...)
	if err != nil {
		// Our own bound ran out (not the caller's context); comparing the
		// elapsed time instead raced the deadline set just before start.
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && parent.Err() == nil {
			return res, fmt.Errorf("%s: command %q timed out after %s: %w", r.in.InstanceName, name, timeout, err)
		}
		return res, fmt.Errorf("%s: command %q: %w", r.in.InstanceName, name, err)
	}
	if res.ExitCode != 0 && !opts.IgnoreExitCode {
		return res, &sahara.CommandError{Instance: r.in.InstanceName, Name: name, ExitCode: res.ExitCode, StderrTail: tail(res.Stderr)}
	}
	return res, nil
}

// run runs one command line; on ctx's end it signals the command, then
// closes the session.
func (r *remote) run(ctx context.Context, line string, stdin []byte) (sahara.Result, error) {
	s, release, err := r.session(ctx)
	if err != nil {
		return sahara.Result{ExitCode: -1}, err
	}
	defer release()
	// Two buffers: one shared by both streams would race.
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	// Start waits for the server's reply to the exec request.
	if _, err := bounded(ctx, func() (struct{}, error) { return struct{}{}, s.Start(line) }, nil); err != nil {
		return sahara.Result{ExitCode: -1}, err
	}
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = s.Wait(); close(done) }()
	select {
	case <-done:
		err = waitErr
	case <-ctx.Done():
		// TERM first: sudo relays it to the command; KILL if it lingers.
		_ = s.Signal(ssh.SIGTERM)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			_ = s.Signal(ssh.SIGKILL)
		}
		_ = s.Close()
		select {
		case <-done:
			return sahara.Result{ExitCode: -1, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, ctx.Err()
		case <-time.After(5 * time.Second):
			// The output goroutines may still write: hand out no buffer.
			return sahara.Result{ExitCode: -1}, ctx.Err()
		}
	}
	res := sahara.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitStatus()
		if ee.Signal() != "" && res.ExitCode == 0 {
			res.ExitCode = -1
		}
	default:
		// Includes *ssh.ExitMissingError: the connection died mid-command.
		res.ExitCode = -1
		return res, err
	}
	return res, nil
}

// commandName is the name logged and reported for cmd: the given one, or
// the command's first word after any VAR=value assignments (which may hold
// secrets).
func commandName(cmd, name string) string {
	if name != "" {
		return name
	}
	for _, f := range strings.Fields(cmd) {
		if i := strings.IndexByte(f, '='); i > 0 && !strings.ContainsAny(f[:i], `'"$/\`) {
			continue
		}
		if len(f) > 64 {
			f = f[:64]
		}
		return strings.ToValidUTF8(f, "?")
	}
	return "command"
}

// tail is the end of stderr for error messages: the last 5 lines, at most
// 1 KiB.
func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 1024 {
		b = b[len(b)-1024:]
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.ToValidUTF8(string(bytes.Join(lines, []byte("\n"))), "?")
}
