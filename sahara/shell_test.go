package sahara

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
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
		if got := shellRoundTrip(t, "/bin/sh", q); !bytes.Equal(got, []byte(s)) {
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
