package sshremote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestExecuteCommand_AsLoginUserAndRoot(t *testing.T) {
	f := newFixture(t)
	h := f.hosts(t, 1, sshtest.HostOptions{Name: "exec"})
	in := f.group("workers", false, 0, h...)[0]
	r := f.connect(t).Remote(in)

	if got := mustRun(t, r, "whoami; pwd", sahara.ExecOptions{}); got != sshtest.DefaultUser+"\n/home/"+sshtest.DefaultUser {
		t.Fatalf("as user: %q", got)
	}
	// A root command holding quotes, $ and a pipeline survives the sudo wrapper.
	cmd := `x='it'"'"'s $HOME'; echo "$x" | tr a-z A-Z; whoami`
	if got := mustRun(t, r, cmd, sahara.ExecOptions{RunAsRoot: true}); got != "IT'S $HOME\nroot" {
		t.Fatalf("as root: %q", got)
	}
	if got := mustRun(t, r, "cat | wc -c", sahara.ExecOptions{Stdin: bytes.Repeat([]byte("z"), 12345)}); got != "12345" {
		t.Fatalf("stdin: %q", got)
	}
	if _, err := r.ExecuteCommand(context.Background(), "echo a\x00b", sahara.ExecOptions{RunAsRoot: true}); !errors.Is(err, sahara.ErrNulInShellValue) {
		t.Fatalf("NUL in root command: %v", err)
	}
}

func TestExecuteCommand_NonZeroExitIsCommandError(t *testing.T) {
	f := newFixture(t)
	in := f.group("workers", false, 0, f.hosts(t, 1, sshtest.HostOptions{})...)[0]
	r := f.connect(t).Remote(in)
	ctx := ctxT(t, time.Minute)

	_, err := r.ExecuteCommand(ctx, "DB_PASSWORD=s3cret-value ls /nonexistent-dir", sahara.ExecOptions{RunAsRoot: true, Sensitive: true})
	var ce *sahara.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("want *sahara.CommandError, got %T %v", err, err)
	}
	if ce.Instance != in.InstanceName || ce.Name != "ls" || ce.ExitCode != 2 || !strings.Contains(ce.StderrTail, "No such file") {
		t.Fatalf("CommandError = %+v", ce)
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(f.log.String(), "s3cret") {
		t.Fatalf("secret leaked: error %q, log %q", err, f.log.String())
	}
	if !strings.Contains(f.log.String(), "exit_code=2") {
		t.Fatalf("command not logged at debug with its exit code:\n%s", f.log.String())
	}

	res, err := r.ExecuteCommand(ctx, "echo out; echo err >&2; exit 7", sahara.ExecOptions{IgnoreExitCode: true, Name: "custom"})
	if err != nil || res.ExitCode != 7 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Fatalf("IgnoreExitCode: %+v %v", res, err)
	}
	if !strings.Contains(f.log.String(), `cmd="echo out; echo err >&2; exit 7"`) {
		t.Fatalf("non-sensitive command line not logged:\n%s", f.log.String())
	}
}

func TestExecuteCommand_TimeoutKillsCommand(t *testing.T) {
	f := newFixture(t)
	h := f.hosts(t, 1, sshtest.HostOptions{})
	in := f.group("workers", false, 0, h...)[0]
	r := f.connect(t).Remote(in)

	for marker, root := range map[string]bool{"sleep 4242": false, "sleep 4343": true} {
		_, err := r.ExecuteCommand(context.Background(), marker, sahara.ExecOptions{RunAsRoot: root, Timeout: 500 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 500ms") {
			t.Fatalf("root=%v: want a timeout error, got %v", root, err)
		}
		// The command is gone from the instance, not left running.
		var left string
		for i := 0; i < 50; i++ {
			left, _ = h[0].Exec("pgrep -af " + sahara.MustQuote("^"+marker) + " || true")
			if strings.TrimSpace(left) == "" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if strings.TrimSpace(left) != "" {
			t.Fatalf("root=%v: command still running after the timeout: %s", root, left)
		}
	}
	// The connection still works after a timeout.
	if got := mustRun(t, r, "echo ok", sahara.ExecOptions{}); got != "ok" {
		t.Fatalf("after timeout: %q", got)
	}
}

func TestExecuteCommand_TenMegabytesOnBothStreams(t *testing.T) {
	f := newFixture(t)
	in := f.group("workers", false, 0, f.hosts(t, 1, sshtest.HostOptions{})...)[0]
	r := f.connect(t).Remote(in)
	const n = 10 << 20
	cmd := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a & head -c %d /dev/zero | tr '\\0' b >&2; wait", n, n)
	res, err := r.ExecuteCommand(ctxT(t, 2*time.Minute), cmd, sahara.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != n || len(res.Stderr) != n {
		t.Fatalf("got %d bytes stdout, %d stderr; want %d each", len(res.Stdout), len(res.Stderr), n)
	}
	if bytes.Count(res.Stdout, []byte("a")) != n || bytes.Count(res.Stderr, []byte("b")) != n {
		t.Fatal("streams mixed up")
	}
}

func TestExecuteCommand_ParallelSessionsShareOneConnection(t *testing.T) {
	f := newFixture(t)
	in := f.group("workers", false, 0, f.hosts(t, 1, sshtest.HostOptions{})...)[0]
	p := f.connect(t)
	r := p.Remote(in)
	const n = 25 // more than sshd's MaxSessions (10): the pool queues them
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.ExecuteCommand(context.Background(), fmt.Sprintf("sleep 0.2; echo %d", i), sahara.ExecOptions{RunAsRoot: i%2 == 0})
			if err == nil && strings.TrimSpace(string(res.Stdout)) != fmt.Sprint(i) {
				err = fmt.Errorf("command %d printed %q", i, res.Stdout)
			}
			errs[i] = err
		}()
	}
	// File transfers run alongside on the same connection.
	if err := r.WriteFileTo(context.Background(), "parallel.txt", []byte("x"), sahara.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if hs := f.connector.Handshakes(); hs != 1 {
		t.Fatalf("handshakes = %d, want 1", hs)
	}
	if s := f.connector.Sessions(); s != n+1 {
		t.Fatalf("sessions = %d, want %d (commands + one SFTP)", s, n+1)
	}
}

func TestCommandName_NeverSecretAssignments(t *testing.T) {
	for cmd, want := range map[string]string{
		"ls -l":                         "ls",
		"PASS=x KEY=y /usr/bin/tool a":  "/usr/bin/tool",
		"  ":                            "command",
		"echo 'a=b'":                    "echo",
		"A=1":                           "command",
		"'/odd path/x=y' run":           "'/odd",
		strings.Repeat("a", 100) + " b": strings.Repeat("a", 64),
	} {
		if got := commandName(cmd, ""); got != want {
			t.Errorf("commandName(%q) = %q, want %q", cmd, got, want)
		}
	}
	if got := commandName("secret-cmd", "given"); got != "given" {
		t.Errorf("explicit name ignored: %q", got)
	}
}
