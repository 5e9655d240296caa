package sshremote

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

const (
	oddDir     = "/tmp/odd dir $HOME `id` 'q' \"dq\" ü"
	oddRootDir = "/etc/odd dir $(id) ;|& 'q'"
	oddName    = "fi le\n$(touch pwned) ü 'n' \\ -x.txt"
)

var oddContent = []byte("line1 'single' \"double\" $HOME `touch /tmp/pwned` \\ back\nünïcödé\n\x00\xff\xfe binary\n")

// onHost reads a file inside the host without SSH.
func onHost(t *testing.T, h *sshtest.Host, p string) []byte {
	t.Helper()
	out := h.Run(t, "base64 -w0 < "+sahara.MustQuote(p))
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func statOnHost(t *testing.T, h *sshtest.Host, p string) string {
	t.Helper()
	return strings.TrimSpace(h.Run(t, "stat -c '%a %U:%G' -- "+sahara.MustQuote(p)))
}

func assertNotPwned(t *testing.T, h *sshtest.Host) {
	t.Helper()
	if out, _ := h.Exec("ls -d /tmp/pwned* /pwned* /root/pwned* /home/*/pwned* 2>/dev/null"); strings.TrimSpace(out) != "" {
		t.Fatalf("an odd value was executed: %s", out)
	}
}

func TestWriteFileTo_OddNamesAndContentsRoundTrip(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	h := hs[0]
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	h.Run(t, "mkdir -p "+sahara.MustQuote(oddDir)+" "+sahara.MustQuote(oddRootDir)+" && chmod 1777 "+sahara.MustQuote(oddDir))
	ctx := ctxT(t, 2*time.Minute)

	cases := []struct {
		name, path, onHostPath string
		opts                   sahara.FileOptions
		wantStat               string
	}{
		{"user absolute", oddDir + "/" + oddName, "", sahara.FileOptions{}, "644 cloud-user:cloud-user"},
		{"user relative to home", "rel " + oddName, "/home/cloud-user/rel " + oddName, sahara.FileOptions{Mode: 0o640}, "640 cloud-user:cloud-user"},
		{"user leading dash", "-n", "/home/cloud-user/-n", sahara.FileOptions{}, "644 cloud-user:cloud-user"},
		{"root", oddRootDir + "/" + oddName, "", sahara.FileOptions{RunAsRoot: true}, "644 root:root"},
		{"root sensitive", oddRootDir + "/secret", "", sahara.FileOptions{RunAsRoot: true, Sensitive: true}, "600 root:root"},
		{"root mode and owner", oddRootDir + "/owned", "", sahara.FileOptions{RunAsRoot: true, Mode: 0o751, Owner: "cloud-user:cloud-user"}, "751 cloud-user:cloud-user"},
		{"user with owner", "owned", "/home/cloud-user/owned", sahara.FileOptions{Owner: "root"}, "644 root:cloud-user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hp := c.onHostPath
			if hp == "" {
				hp = c.path
			}
			// Twice: the second write replaces an existing file.
			for _, data := range [][]byte{[]byte("old content\n"), oddContent} {
				if err := r.WriteFileTo(ctx, c.path, data, c.opts); err != nil {
					t.Fatal(err)
				}
			}
			if got := onHost(t, h, hp); !bytes.Equal(got, oddContent) {
				t.Fatalf("on the host: %q", got)
			}
			got, err := r.ReadFileFrom(ctx, c.path, c.opts)
			if err != nil || !bytes.Equal(got, oddContent) {
				t.Fatalf("ReadFileFrom: %q, %v", got, err)
			}
			if st := statOnHost(t, h, hp); st != c.wantStat {
				t.Fatalf("stat = %q, want %q", st, c.wantStat)
			}
		})
	}
	// No temporary file is left next to the targets or in the home directory.
	if out := h.Run(t, "ls -A /home/cloud-user "+sahara.MustQuote(oddDir)+" "+sahara.MustQuote(oddRootDir)+" | grep -c saharagen || true"); strings.TrimSpace(out) != "0" {
		t.Fatalf("temporary files left: %s", h.Run(t, "ls -lA /home/cloud-user "+sahara.MustQuote(oddDir)))
	}
	assertNotPwned(t, h)
}

func TestWriteFilesTo_InOrderAsRoot(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	h := hs[0]
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	ctx := ctxT(t, time.Minute)
	files := []sahara.File{
		{Path: "/etc/a.conf", Data: []byte("a")},
		{Path: "/etc/b.conf", Data: []byte("first")},
		{Path: "/etc/b.conf", Data: []byte("second")}, // later wins
	}
	if err := r.WriteFilesTo(ctx, files, sahara.FileOptions{RunAsRoot: true, Mode: fs.FileMode(0o600)}); err != nil {
		t.Fatal(err)
	}
	if a, b := onHost(t, h, "/etc/a.conf"), onHost(t, h, "/etc/b.conf"); string(a) != "a" || string(b) != "second" {
		t.Fatalf("a=%q b=%q", a, b)
	}
	// Secret contents never reach the log.
	secret := []sahara.File{{Path: "/etc/secret.key", Data: []byte("TOPSECRET-1")}}
	if err := r.WriteFilesTo(ctx, secret, sahara.FileOptions{RunAsRoot: true, Sensitive: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.AppendToFile(ctx, "/etc/secret.key", []byte("TOPSECRET-2"), sahara.FileOptions{RunAsRoot: true, Sensitive: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.ReadFileFrom(ctx, "/etc/secret.key", sahara.FileOptions{RunAsRoot: true, Sensitive: true}); err != nil || string(got) != "TOPSECRET-1TOPSECRET-2" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if strings.Contains(f.log.String(), "TOPSECRET") {
		t.Fatalf("file content logged:\n%s", f.log.String())
	}
	if st := statOnHost(t, h, "/etc/secret.key"); st != "600 root:root" {
		t.Fatalf("secret file mode: %s", st)
	}
	// A failing batch leaves no temporary file in the home directory.
	err := r.WriteFilesTo(ctx, []sahara.File{{Path: "/nonexistent-dir/x", Data: []byte("x")}}, sahara.FileOptions{RunAsRoot: true})
	if err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	if out := strings.TrimSpace(h.Run(t, "ls -A /home/cloud-user | grep -c saharagen || true")); out != "0" {
		t.Fatalf("temporary files left after a failure: %s", out)
	}
}

func TestAppendPrepend_RoundTrip(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	h := hs[0]
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	ctx := ctxT(t, time.Minute)
	for _, root := range []bool{false, true} {
		dir := oddDir
		if root {
			dir = oddRootDir
		}
		h.Run(t, "mkdir -p "+sahara.MustQuote(dir)+" && chmod 1777 "+sahara.MustQuote(dir))
		p := dir + "/" + oddName
		opts := sahara.FileOptions{RunAsRoot: root}
		if err := r.AppendToFile(ctx, p, []byte("middle $x\n"), opts); err != nil { // creates it
			t.Fatal(err)
		}
		h.Run(t, "chmod 0640 "+sahara.MustQuote(p))
		if err := r.AppendToFile(ctx, p, []byte("end `y`\n"), opts); err != nil {
			t.Fatal(err)
		}
		if err := r.PrependToFile(ctx, p, []byte("start 'z'\n"), opts); err != nil {
			t.Fatal(err)
		}
		want := "start 'z'\nmiddle $x\nend `y`\n"
		if got := onHost(t, h, p); string(got) != want {
			t.Fatalf("root=%v: %q, want %q", root, got, want)
		}
		if st := statOnHost(t, h, p); !strings.HasPrefix(st, "640 ") {
			t.Fatalf("root=%v: prepend lost the mode: %s", root, st)
		}
		missing := dir + "/new-by-prepend"
		if err := r.PrependToFile(ctx, missing, []byte("only\n"), opts); err != nil {
			t.Fatal(err)
		}
		if got := onHost(t, h, missing); string(got) != "only\n" {
			t.Fatalf("prepend to a missing file: %q", got)
		}
		// A secret appended to a new file: 0600 from its creation, not
		// the umask's 0644 until a later chmod (vanilla's id_rsa).
		secret := dir + "/id_rsa"
		if err := r.AppendToFile(ctx, secret, []byte("KEY\n"), sahara.FileOptions{RunAsRoot: root, Sensitive: true}); err != nil {
			t.Fatal(err)
		}
		if st := statOnHost(t, h, secret); !strings.HasPrefix(st, "600 ") {
			t.Fatalf("root=%v: a secret appended to a new file has mode %s, want 600", root, st)
		}
		// An existing file keeps its mode.
		if err := r.AppendToFile(ctx, p, []byte("more\n"), sahara.FileOptions{RunAsRoot: root, Sensitive: true}); err != nil {
			t.Fatal(err)
		}
		if st := statOnHost(t, h, p); !strings.HasPrefix(st, "640 ") {
			t.Fatalf("root=%v: append changed an existing file's mode: %s", root, st)
		}
	}
	assertNotPwned(t, h)
}

func TestReplaceRemoteString_SedSemanticsAndNoInjection(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	h := hs[0]
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	ctx := ctxT(t, time.Minute)
	p := oddRootDir + "/" + oddName
	h.Run(t, "mkdir -p "+sahara.MustQuote(oddRootDir))
	content := "port=1\nx,w /tmp/pwned1 marker\npath\\x\ncomma,c $HOME 'q' `x`\nfoo\n"
	if err := r.WriteFileTo(ctx, p, []byte(content), sahara.FileOptions{RunAsRoot: true}); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ old, new string }{
		{"port=1", "port=2"},                         // plain
		{"x,w /tmp/pwned1", "y,e touch /tmp/pwned2"}, // delimiter in both: no w or e flag
		{`h\`, "H"},          // trailing backslash is literal
		{`,c \$HOME`, "[&]"}, // BRE escape kept, & is the match
		{"'q' `x`", "\"q\" $(touch /tmp/pwned3)"}, // shell metacharacters are plain text
		{"foo", "bar\nbaz"},                       // newline in the replacement
		{"no such\nline", "never"},                // newline in the pattern cannot end the command
	}
	for _, s := range steps {
		if err := r.ReplaceRemoteString(ctx, p, s.old, s.new, sahara.FileOptions{}); err != nil {
			t.Fatalf("replace %q → %q: %v", s.old, s.new, err)
		}
	}
	want := "port=2\ny,e touch /tmp/pwned2 marker\npatHx\ncomma[,c $HOME] \"q\" $(touch /tmp/pwned3)\nbar\nbaz\n"
	if got := onHost(t, h, p); string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if err := r.ReplaceRemoteString(ctx, p, "", "x", sahara.FileOptions{}); err == nil {
		t.Fatal("empty pattern accepted")
	}
	assertNotPwned(t, h)
}

func TestReplaceRemoteLine_ReplacesLinesByPrefix(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	h := hs[0]
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	ctx := ctxT(t, time.Minute)
	if err := r.WriteFileTo(ctx, "/etc/app.conf", []byte("a=1\nkey=old value\nb=2 key=\nkey=again\n"), sahara.FileOptions{RunAsRoot: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.ReplaceRemoteLine(ctx, "/etc/app.conf", "key=", "key=new 'v' $x,y `z`", sahara.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "a=1\nkey=new 'v' $x,y `z`\nb=2 key=\nkey=new 'v' $x,y `z`\n"
	if got := onHost(t, h, "/etc/app.conf"); string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestGetOSDistrib_ReadsOSReleaseID(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	want := strings.TrimSpace(hs[0].Run(t, ". /etc/os-release && echo $ID"))
	got, err := r.GetOSDistrib(ctxT(t, time.Minute))
	if err != nil || got != want || got == "" {
		t.Fatalf("GetOSDistrib = %q, %v; want %q", got, err, want)
	}
}

func TestSedEscape_NoUnescapedDelimiter(t *testing.T) {
	for in, want := range map[string]string{
		"a,b":    `a\,b`,
		`a\,b`:   `a\,b`,
		`end\`:   `end\\`,
		`\1`:     `\1`,
		"x\ny":   `x\ny`,
		"x\\\ny": `x\ny`,
	} {
		if got := sedEscape(in, true); got != want {
			t.Errorf("sedEscape(%q, pattern) = %q, want %q", in, got, want)
		}
	}
	if got := sedEscape("x\ny", false); got != "x\\\ny" {
		t.Errorf("replacement newline: %q", got)
	}
}

func TestReadFileFrom_TimeoutAbandonsStuckTransfer(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{})
	r := f.connect(t).Remote(f.group("workers", false, 0, hs...)[0])
	// Opening a FIFO without a writer blocks the SFTP server.
	hs[0].Run(t, "mkfifo /tmp/stuck && chmod 666 /tmp/stuck")
	for _, root := range []bool{false, true} {
		_, err := r.ReadFileFrom(context.Background(), "/tmp/stuck", sahara.FileOptions{RunAsRoot: root, Timeout: 500 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("root=%v: want a timeout, got %v", root, err)
		}
	}
	// The next transfer gets a fresh SFTP session on the same connection.
	if err := r.WriteFileTo(ctxT(t, time.Minute), "after-timeout", []byte("ok"), sahara.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := onHost(t, hs[0], "/home/cloud-user/after-timeout"); string(got) != "ok" {
		t.Fatalf("after timeout: %q", got)
	}
	if n := f.connector.Handshakes(); n != 1 {
		t.Fatalf("handshakes = %d, want 1", n)
	}
}
