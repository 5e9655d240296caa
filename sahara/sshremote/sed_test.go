package sshremote

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// randomValue draws from an alphabet heavy in what could end or extend a
// sed s command: the delimiter, backslashes, newlines, flag letters (w e p g),
// command separators and shell metacharacters.
func randomValue(r *rand.Rand, alphabet []string) string {
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// runSed applies expr to input with the machine's GNU sed (the instances'
// sed) in dir, and reports sed's stderr.
func runSed(t *testing.T, dir, expr, input string) (string, string, error) {
	t.Helper()
	f := filepath.Join(dir, "in")
	if err := os.WriteFile(f, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sed", "-i", "-e", expr, "--", f)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	out, _ := os.ReadFile(f)
	return string(out), stderr.String(), err
}

func TestSedEscape_LiteralValuesReplaceExactly(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	// Characters that are literal in a BRE pattern and in a replacement.
	alphabet := []string{",", ",", " ", "w", "e", "p", "g", "/", ";", "#", "{", "}", "'", `"`, "`", "!", "x", "ü", "|", "(", ")", "=", "%"}
	for range 300 {
		old := "k" + randomValue(r, alphabet)
		repl := randomValue(r, alphabet)
		input := "a " + old + " b " + old + "\nsecond line\n"
		got, stderr, err := runSed(t, dir, "s,"+sedEscape(old, true)+","+sedEscape(repl, false)+",g", input)
		if err != nil {
			t.Fatalf("old %q new %q: sed failed: %v %s", old, repl, err, stderr)
		}
		if want := strings.ReplaceAll(input, old, repl); got != want {
			t.Fatalf("old %q new %q: got %q, want %q", old, repl, got, want)
		}
	}
}

func TestSedEscape_RandomValuesNeverEscapeTheSCommand(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{",", `\`, `\`, "\n", "w", "e", " ", "/tmp/pwned", "p", "g", ";", "&", "1", "(", ")", "*", "[", "]", "^", "$", "x"}
	for range 400 {
		old, repl := "x"+randomValue(r, alphabet), randomValue(r, alphabet)
		expr := "s," + sedEscape(old, true) + "," + sedEscape(repl, false) + ",g"
		_, stderr, err := runSed(t, dir, expr, "x line\n")
		// sed may reject a pattern or replacement as a regex (\( unmatched,
		// \1 without a group; an unclosed [ swallows the rest of the
		// command), never as extra flags or commands; the e flag would make
		// the shell complain about the command "x line".
		unclosedBracket := strings.Contains(old, "[") && strings.Contains(stderr, "unterminated `s' command")
		if strings.Contains(stderr, "unknown option to") || strings.Contains(stderr, "unknown command") ||
			strings.Contains(stderr, "not found") || (strings.Contains(stderr, "unterminated") && !unclosedBracket) {
			t.Fatalf("old %q new %q: expression %q escaped the s command: %v %s", old, repl, expr, err, stderr)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("old %q new %q: sed wrote other files: %v", old, repl, entries)
		}
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Fatal("/tmp/pwned exists")
	}
}
