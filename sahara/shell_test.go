package sahara

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// shellSeeds are the values most likely to break quoting.
var shellSeeds = []string{
	"", "plain", "two words", " lead", "trail ", "'", "''", `"`, `\`, `\'`, "'\\''",
	"$HOME", "${PATH}", "$(id)", "`id`", "a;b", "a&&b", "a|b", "a>b", "<in", "x\ny", "\n", "\t",
	"*", "?", "[a]", "~", "~root", "-n", "--", "a=b", "#comment", "!", "!!", "{a,b}", "%", "@",
	"dfs.replication=3", "/etc/hadoop/conf/core-site.xml", "héllo wörld", "日本語",
	"\xff\xfe", "bad\x80utf8", "\x01\x02\x1b[31m", "\r\n", strings.Repeat("'", 50),
	"it's a \"test\" with $vars and `cmd` and \\n",
}

// shellRoundTrip runs printf %s with the quoted value through a real shell
// and returns what the shell passed on.
func shellRoundTrip(t *testing.T, shell, q string) []byte {
	t.Helper()
	out, err := exec.Command(shell, "-c", "printf %s "+q).Output()
	if err != nil {
		t.Fatalf("%s -c printf %%s %s: %v", shell, q, err)
	}
	return out
}

// shellProc is one long-lived /bin/sh fed "printf %s <quoted>" lines; a NUL
// ends each answer (quoted values never hold one). One process per fuzz
// worker keeps forks out of the fuzz loop.
type shellProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var fuzzShell *shellProc

func startShell(t *testing.T) *shellProc {
	cmd := exec.Command("/bin/sh")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &shellProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

func (p *shellProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// roundTrip returns what the shell printed for printf %s q; an open quote
// (the shell waiting for more input) fails after a few seconds.
func (p *shellProc) roundTrip(q string) ([]byte, error) {
	if _, err := io.WriteString(p.in, "printf %s "+q+"; printf '\\000'\n"); err != nil {
		return nil, err
	}
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		b, err := p.out.ReadBytes(0)
		ch <- answer{b, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, a.err
		}
		return a.b[:len(a.b)-1], nil
	case <-time.After(5 * time.Second):
		return nil, errors.New("the shell is still reading: the quoted value left a quote open")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range shellSeeds {
		f.Add(s)
	}
	f.Add("nul\x00inside")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Quote(s)
		if strings.IndexByte(s, 0) >= 0 {
			if !errors.Is(err, ErrNulInShellValue) {
				t.Fatalf("Quote(%q) = %q, %v; want ErrNulInShellValue", s, q, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Quote(%q): %v", s, err)
		}
		if fuzzShell == nil {
			fuzzShell = startShell(t)
		}
		got, err := fuzzShell.roundTrip(q)
		if err != nil {
			fuzzShell.kill()
			fuzzShell = nil
			t.Fatalf("sh: Quote(%q) = %s: %v", s, q, err)
		}
		if !bytes.Equal(got, []byte(s)) {
			t.Fatalf("sh: Quote(%q) = %s expanded to %q", s, q, got)
		}
	})
}

func TestQuote_RoundTripsThroughBash(t *testing.T) {
	// Root commands run as `sudo -n bash -c <quoted>`: bash must agree with sh.
	for _, s := range shellSeeds {
		q := MustQuote(s)
		if got := shellRoundTrip(t, "/bin/bash", q); !bytes.Equal(got, []byte(s)) {
			t.Errorf("bash: Quote(%q) = %s expanded to %q", s, q, got)
		}
	}
}

func TestQuote_NestedInBashC(t *testing.T) {
	// The remote's root wrapper quotes a whole command line that itself
	// holds quoted values; the inner value must survive both levels.
	for _, s := range shellSeeds {
		inner := "printf %s " + MustQuote(s)
		out, err := exec.Command("/bin/sh", "-c", "bash -c "+MustQuote(inner)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !bytes.Equal(out, []byte(s)) {
			t.Errorf("nested: %q came back as %q", s, out)
		}
	}
}

func TestQuote_RefusesNul(t *testing.T) {
	if _, err := Quote("a\x00b"); !errors.Is(err, ErrNulInShellValue) {
		t.Fatalf("Quote with NUL: %v", err)
	}
	if _, err := ShellJoin("ok", "a\x00b"); !errors.Is(err, ErrNulInShellValue) {
		t.Fatalf("ShellJoin with NUL: %v", err)
	}
}

func TestShellJoin_KeepsArgumentsApart(t *testing.T) {
	args := []string{"a b", "", "$x", "'"}
	line, err := ShellJoin(args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/sh", "-c", `for a in `+line+`; do printf '<%s>' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "<a b><><$x><'>"; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}
