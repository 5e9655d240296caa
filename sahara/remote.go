package sahara

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"time"
)

// ExecOptions are the options of Remote.ExecuteCommand (Sahara's
// execute_command keyword arguments). The zero value runs as the login user
// with the default timeout and fails on a non-zero exit status.
type ExecOptions struct {
	RunAsRoot bool
	// Timeout bounds the command; 0 means the remote's default (300 s).
	Timeout time.Duration
	// IgnoreExitCode is Sahara's raise_when_error=False: a non-zero status is
	// returned in Result instead of a *CommandError.
	IgnoreExitCode bool
	// Name is the command's name in logs and errors; default its first word.
	Name string
	// Sensitive: the command line holds secrets; only Name is ever logged.
	Sensitive bool
	// Stdin is fed to the command, when set.
	Stdin []byte
}

// FileOptions are the options of the file operations of Remote.
type FileOptions struct {
	RunAsRoot bool
	// Mode of a written file; 0 means 0644 (0600 when Sensitive).
	Mode fs.FileMode
	// Owner ("user" or "user:group") of a written file, set as root.
	Owner string
	// Timeout bounds the operation; 0 means the remote's default.
	Timeout time.Duration
	// Sensitive: the content is secret (keys, passwords) and never logged.
	Sensitive bool
}

// File is one file of Remote.WriteFilesTo.
type File struct {
	Path string
	Data []byte
}

// Result is the outcome of a command.
type Result struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// CommandError is a command that exited non-zero (Sahara's
// RemoteCommandException). It names the command, never its secret arguments.
type CommandError struct {
	Instance   string
	Name       string
	ExitCode   int
	StderrTail string
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: command %q exited with status %d", e.Instance, e.Name, e.ExitCode)
	if e.StderrTail != "" {
		msg += ": " + e.StderrTail
	}
	return msg
}

// Remote runs commands and moves files on one instance — Sahara's instance
// remote (sahara/utils/remote.py, ssh_remote.py). Paths without a leading
// slash are relative to the login user's home. Every value that reaches a
// remote shell must go through Quote.
type Remote interface {
	// InstanceName names the instance this remote reaches.
	InstanceName() string
	ExecuteCommand(ctx context.Context, cmd string, opts ExecOptions) (Result, error)
	WriteFileTo(ctx context.Context, path string, data []byte, opts FileOptions) error
	// WriteFilesTo writes the files in order over one session.
	WriteFilesTo(ctx context.Context, files []File, opts FileOptions) error
	ReadFileFrom(ctx context.Context, path string, opts FileOptions) ([]byte, error)
	AppendToFile(ctx context.Context, path string, data []byte, opts FileOptions) error
	PrependToFile(ctx context.Context, path string, data []byte, opts FileOptions) error
	// ReplaceRemoteString replaces every match of the sed basic regular
	// expression old by new in the file, as root (Sahara: sed -i 's,old,new,g').
	ReplaceRemoteString(ctx context.Context, path, old, new string, opts FileOptions) error
	// ReplaceRemoteLine replaces each line starting with oldLineStart by newLine, as root.
	ReplaceRemoteLine(ctx context.Context, path, oldLineStart, newLine string, opts FileOptions) error
	// GetOSDistrib returns the lower-case distribution id ("ubuntu", "debian", …).
	GetOSDistrib(ctx context.Context) (string, error)
}

// Dialer is implemented by remotes that can open a TCP connection from the
// instance itself (SSH's direct-tcpip), so a plugin reaches a management
// server's REST API on the instance's loopback without opening its port to
// the provider's host, as Sahara's remote did for Ambari and Cloudera
// Manager. Plugins type-assert a Remote to it.
type Dialer interface {
	// DialContext connects to addr ("host:port") as seen from the instance.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Remotes hands out the remote of each instance of a cluster.
type Remotes interface {
	Remote(in *Instance) Remote
}

// RemotePool is the set of connections of one operation on one cluster: one
// connection per instance, opened lazily, reused by every command and file
// transfer, closed by Close.
type RemotePool interface {
	Remotes
	// WaitAccessible retries until the instance accepts a login with the
	// cluster's management key (Sahara's "Wait for instance accessibility"),
	// or ctx ends. It verifies the host key: in.HostKey when set, else the
	// first key seen, which it returns so the caller can pin it.
	WaitAccessible(ctx context.Context, in *Instance) (hostKey string, err error)
	Close() error
}

// RemoteConnector opens remote pools; the engine opens one per operation.
type RemoteConnector interface {
	Connect(ctx context.Context, c *Cluster) (RemotePool, error)
}
