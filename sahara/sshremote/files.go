package sshremote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// sftpClient returns the instance's SFTP client (one subsystem session,
// shared by every file operation), opening it on first use.
func (r *remote) sftpClient(ctx context.Context) (*sftp.Client, error) {
	hc, cl, err := r.p.client(ctx, r.in)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if err := acquire(ctx, hc.sftpLock); err != nil {
		return nil, err
	}
	defer func() { <-hc.sftpLock }()
	if hc.sftp != nil && hc.sftpOf == cl {
		return hc.sftp, nil
	}
	if hc.sftp != nil { // from a connection that died
		hc.closeSFTP()
	}
	if err := acquire(ctx, hc.sem); err != nil {
		return nil, err
	}
	type started struct {
		s *ssh.Session
		c *sftp.Client
	}
	st, err := bounded(ctx, func() (started, error) {
		s, c, err := startSFTP(ctx, cl)
		return started{s, c}, err
	}, func(st started) { _ = st.s.Close(); go func() { _ = st.c.Close() }() })
	s, c := st.s, st.c
	if err != nil {
		<-hc.sem
		return nil, fmt.Errorf("starting SFTP: %w", err)
	}
	r.p.c.sessions.Add(1)
	hc.sftp, hc.sftpSess, hc.sftpOf = c, s, cl
	return c, nil
}

// startSFTP opens the SFTP subsystem on a session we keep, so a stuck
// transfer can be abandoned by closing the channel under it.
func startSFTP(ctx context.Context, cl *ssh.Client) (*ssh.Session, *sftp.Client, error) {
	s, err := openRetrying(ctx, cl.NewSession)
	if err != nil {
		return nil, nil, err
	}
	w, err := s.StdinPipe()
	if err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	rd, err := s.StdoutPipe()
	if err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	c, err := sftp.NewClientPipe(rd, w)
	if err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	return s, c, nil
}

// closeSFTP closes the SFTP session. The client's own Close waits for its
// reader, which a stuck server never answers (and sshd refuses signals to
// subsystems), so it runs in the background; the reader ends with the
// channel or the connection. The caller holds sftpLock.
func (hc *hostConn) closeSFTP() {
	s, c := hc.sftpSess, hc.sftp
	_ = s.Close()
	go func() { _ = c.Close() }()
	hc.sftp, hc.sftpSess, hc.sftpOf = nil, nil, nil
	<-hc.sem
}

// dropSFTP closes an SFTP client whose operation timed out.
func (r *remote) dropSFTP(c *sftp.Client) {
	hc, err := r.p.hostConn(r.in.InstanceName)
	if err != nil {
		return
	}
	hc.sftpLock <- struct{}{}
	if hc.sftp == c {
		hc.closeSFTP()
	}
	<-hc.sftpLock
}

// withSFTP runs fn on the SFTP client, bounded by the file timeout. SFTP
// calls take no context and sshd refuses signals to its SFTP server, so a
// timeout abandons fn (it ends when the pool closes the connection) and
// drops the client; fn must not touch the caller's variables after an
// error.
func (r *remote) withSFTP(ctx context.Context, what string, opts sahara.FileOptions, fn func(*sftp.Client) error) error {
	timeout := r.fileTimeout(opts)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := r.sftpClient(ctx)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", r.in.InstanceName, what, err)
	}
	done := make(chan error, 1)
	go func() { done <- fn(c) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		r.dropSFTP(c)
		err = fmt.Errorf("timed out after %s: %w", timeout, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", r.in.InstanceName, what, err)
	}
	return nil
}

func (r *remote) fileTimeout(opts sahara.FileOptions) time.Duration {
	if opts.Timeout > 0 {
		return opts.Timeout
	}
	return orDefault(r.p.c.DefaultFileTimeout, DefaultFileTimeout)
}

// rootExec runs a file operation's shell script through ExecuteCommand.
func (r *remote) exec(ctx context.Context, name, script string, stdin []byte, root bool, opts sahara.FileOptions) error {
	_, err := r.ExecuteCommand(ctx, script, sahara.ExecOptions{
		RunAsRoot: root, Timeout: r.fileTimeout(opts), Name: name, Sensitive: opts.Sensitive, Stdin: stdin,
	})
	return err
}

func fileMode(opts sahara.FileOptions) fs.FileMode {
	switch {
	case opts.Mode != 0:
		return opts.Mode.Perm()
	case opts.Sensitive:
		return 0o600
	default:
		return 0o644
	}
}

func tempName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return ".saharagen-" + hex.EncodeToString(b)
}

// checkPath refuses paths no shell or SFTP request can carry. Relative
// paths are left relative: sshd starts both shells and SFTP in the login
// user's home. A leading "-" gets "./" so no tool reads it as an option.
func checkPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", sahara.ErrNulInShellValue
	}
	if strings.HasPrefix(p, "-") {
		p = "./" + p
	}
	return p, nil
}

// WriteFileTo writes one file (see WriteFilesTo).
func (r *remote) WriteFileTo(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	return r.WriteFilesTo(ctx, []sahara.File{{Path: p, Data: data}}, opts)
}

// WriteFilesTo writes the files in order over the instance's SFTP session.
// Each file replaces its target atomically (a temporary file next to it,
// renamed over it). As root, files go to temporary files in the login
// user's home, then one root script moves each into place with its mode
// and owner.
func (r *remote) WriteFilesTo(ctx context.Context, files []sahara.File, opts sahara.FileOptions) error {
	if len(files) == 0 {
		return nil
	}
	dests := make([]string, len(files))
	for i, f := range files {
		d, err := checkPath(f.Path)
		if err != nil {
			return fmt.Errorf("%s: writing %q: %w", r.in.InstanceName, f.Path, err)
		}
		dests[i] = d
	}
	mode := fileMode(opts)
	what := fmt.Sprintf("writing %d file(s) (%s…)", len(files), files[0].Path)
	if len(files) == 1 {
		what = "writing " + files[0].Path
	}
	start := time.Now()
	defer func() {
		r.p.log.Debug(r.in.InstanceName+": wrote files", "instance", r.in.InstanceName, "files", len(files),
			"root", opts.RunAsRoot, "duration", time.Since(start).Round(time.Millisecond))
	}()
	if !opts.RunAsRoot {
		err := r.withSFTP(ctx, what, opts, func(c *sftp.Client) error {
			for i, f := range files {
				tmp := path.Join(path.Dir(dests[i]), tempName())
				if err := upload(c, tmp, f.Data, mode); err != nil {
					return fmt.Errorf("%s: %w", f.Path, err)
				}
				if err := c.PosixRename(tmp, dests[i]); err != nil {
					_ = c.Remove(tmp)
					return fmt.Errorf("%s: %w", f.Path, err)
				}
			}
			return nil
		})
		if err != nil || opts.Owner == "" {
			return err
		}
		return r.chown(ctx, dests, opts)
	}

	temps := make([]string, len(files))
	for i := range files {
		temps[i] = tempName()
	}
	err := r.withSFTP(ctx, what, opts, func(c *sftp.Client) error {
		for i, f := range files {
			if err := upload(c, temps[i], f.Data, 0o600); err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
		}
		return nil
	})
	if err == nil {
		var script strings.Builder
		script.WriteString(`set -e; t=; trap 'rm -f -- "$t"' EXIT
put() { t=$(mktemp -- "$2.XXXXXX"); cat -- "$1" > "$t"; chmod -- "$3" "$t"; if [ -n "$4" ]; then chown -- "$4" "$t"; fi; mv -f -- "$t" "$2"; t=; rm -f -- "$1"; }
`)
		for i := range files {
			line, qerr := sahara.ShellJoin("put", temps[i], dests[i], fmt.Sprintf("%04o", mode), opts.Owner)
			if qerr != nil {
				err = qerr
				break
			}
			script.WriteString(line + "\n")
		}
		if err == nil {
			err = r.exec(ctx, "write-files", script.String(), nil, true, opts)
		}
	}
	if err != nil {
		// Leave nothing behind in the home directory.
		_ = r.withSFTP(context.WithoutCancel(ctx), "cleanup", sahara.FileOptions{Timeout: 30 * time.Second}, func(c *sftp.Client) error {
			for _, t := range temps {
				_ = c.Remove(t)
			}
			return nil
		})
	}
	return err
}

// upload creates path exclusively, sets its mode before any data is in it
// (secrets are never readable by others), and writes data.
func upload(c *sftp.Client, p string, data []byte, mode fs.FileMode) error {
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		_ = c.Remove(p)
		return err
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		_ = f.Close()
		_ = c.Remove(p)
		return err
	}
	if err := f.Close(); err != nil {
		_ = c.Remove(p)
		return err
	}
	return nil
}

func (r *remote) chown(ctx context.Context, dests []string, opts sahara.FileOptions) error {
	args := append([]string{"chown", "--", opts.Owner}, dests...)
	line, err := sahara.ShellJoin(args...)
	if err != nil {
		return err
	}
	return r.exec(ctx, "chown", line, nil, true, opts)
}

// ReadFileFrom reads a file over SFTP, or as root with sudo cat.
func (r *remote) ReadFileFrom(ctx context.Context, p string, opts sahara.FileOptions) ([]byte, error) {
	q, err := checkPath(p)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %q: %w", r.in.InstanceName, p, err)
	}
	if opts.RunAsRoot {
		line, err := sahara.ShellJoin("cat", "--", q)
		if err != nil {
			return nil, err
		}
		res, err := r.ExecuteCommand(ctx, line, sahara.ExecOptions{RunAsRoot: true, Timeout: r.fileTimeout(opts), Name: "cat", Sensitive: opts.Sensitive})
		if err != nil {
			return nil, err
		}
		return res.Stdout, nil
	}
	var buf bytes.Buffer
	err = r.withSFTP(ctx, "reading "+p, opts, func(c *sftp.Client) error {
		f, err := c.Open(q)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		_, err = f.WriteTo(&buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendToFile appends data, creating the file if needed: over SFTP, or as
// root by piping data into `cat >>`. A file it creates has its final mode
// (0600 for Sensitive data) before the first byte is written.
func (r *remote) AppendToFile(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	q, err := checkPath(p)
	if err != nil {
		return fmt.Errorf("%s: appending to %q: %w", r.in.InstanceName, p, err)
	}
	mode := fileMode(opts)
	if opts.RunAsRoot {
		script := `set -e; d=` + sahara.MustQuote(q) + `
if [ ! -e "$d" ]; then (umask 077; : > "$d"); chmod ` + fmt.Sprintf("%04o", mode) + ` -- "$d"; fi
cat >> "$d"`
		return r.exec(ctx, "append", script, data, true, opts)
	}
	return r.withSFTP(ctx, "appending to "+p, opts, func(c *sftp.Client) error {
		if _, err := c.Stat(q); errors.Is(err, os.ErrNotExist) {
			f, err := c.OpenFile(q, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
			if err != nil {
				return err
			}
			err = f.Chmod(mode)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		f, err := c.OpenFile(q, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			return err
		}
		return f.Close()
	})
}

// PrependToFile puts data before the file's content (an empty file when
// missing), replacing the file atomically with its mode and owner kept.
func (r *remote) PrependToFile(ctx context.Context, p string, data []byte, opts sahara.FileOptions) error {
	q, err := checkPath(p)
	if err != nil {
		return fmt.Errorf("%s: prepending to %q: %w", r.in.InstanceName, p, err)
	}
	script := `set -e; d=` + sahara.MustQuote(q) + `; t=$(mktemp -- "$d.XXXXXX"); trap 'rm -f -- "$t"' EXIT
if [ -e "$d" ]; then cat - "$d" > "$t"; chmod --reference="$d" -- "$t"; chown --reference="$d" -- "$t" 2>/dev/null || true
else cat > "$t"; chmod ` + fmt.Sprintf("%04o", fileMode(opts)) + ` -- "$t"; fi
mv -f -- "$t" "$d"; t=`
	return r.exec(ctx, "prepend", script, data, opts.RunAsRoot, opts)
}

// ReplaceRemoteString runs, as root, sed -i 's,old,new,g' on the file with
// Sahara's semantics (old is a basic regular expression, new a sed
// replacement), the delimiter and newlines escaped so neither value can end
// the s command and add sed flags or commands of its own.
func (r *remote) ReplaceRemoteString(ctx context.Context, p, old, new string, opts sahara.FileOptions) error {
	if old == "" {
		return fmt.Errorf("%s: replacing in %q: empty pattern", r.in.InstanceName, p)
	}
	return r.sed(ctx, p, "s,"+sedEscape(old, true)+","+sedEscape(new, false)+",g", opts)
}

// ReplaceRemoteLine replaces, as root, each line starting with oldLineStart
// (a basic regular expression) by newLine: Sahara's sed -i 's/^old.*/new/'.
func (r *remote) ReplaceRemoteLine(ctx context.Context, p, oldLineStart, newLine string, opts sahara.FileOptions) error {
	return r.sed(ctx, p, "s,^"+sedEscape(oldLineStart, true)+".*,"+sedEscape(newLine, false)+",", opts)
}

func (r *remote) sed(ctx context.Context, p, expr string, opts sahara.FileOptions) error {
	q, err := checkPath(p)
	if err != nil {
		return fmt.Errorf("%s: editing %q: %w", r.in.InstanceName, p, err)
	}
	line, err := sahara.ShellJoin("sed", "-i", "-e", expr, "--", q)
	if err != nil {
		return fmt.Errorf("%s: editing %q: %w", r.in.InstanceName, p, err)
	}
	return r.exec(ctx, "sed", line, nil, true, opts)
}

// sedEscape makes s safe between "," delimiters of a GNU sed s command:
// escape pairs are kept (\1, \., \,), a bare "," becomes "\,", a newline
// becomes \n in the pattern and an escaped newline in the replacement, and
// a trailing lone backslash is doubled.
func sedEscape(s string, pattern bool) string {
	newline := "\\\n"
	if pattern {
		newline = `\n`
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				b.WriteString(`\\`)
				continue
			}
			i++
			if s[i] == '\n' {
				b.WriteString(newline)
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		case ',':
			b.WriteString(`\,`)
		case '\n':
			b.WriteString(newline)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// GetOSDistrib reads ID from /etc/os-release (lower case).
func (r *remote) GetOSDistrib(ctx context.Context) (string, error) {
	var id string
	err := r.withSFTP(ctx, "reading os-release", sahara.FileOptions{}, func(c *sftp.Client) error {
		for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
			f, err := c.Open(p)
			if err != nil {
				continue
			}
			v, err := osReleaseID(f)
			_ = f.Close()
			if err == nil {
				id = v
				return nil
			}
		}
		return errors.New("no ID in /etc/os-release or /usr/lib/os-release")
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func osReleaseID(rd io.Reader) (string, error) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && k == "ID" {
			v = strings.Trim(v, `"'`)
			if v != "" {
				return strings.ToLower(v), nil
			}
		}
	}
	return "", errors.New("no ID")
}
