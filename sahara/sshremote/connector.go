// Package sshremote is the instance remote of the sahara library over SSH
// (golang.org/x/crypto/ssh and github.com/pkg/sftp): Sahara's
// ssh_remote.py, with one connection per instance reused for the whole
// operation, verified host keys, access through a proxy gateway instance or
// a bastion host, and an optional SSH agent.
//
//	conn := &sshremote.Connector{Logger: logger}
//	pool, err := conn.Connect(ctx, cluster) // one pool per operation
//	defer pool.Close()
//	key, err := pool.WaitAccessible(ctx, in) // store key in in.HostKey
//	res, err := pool.Remote(in).ExecuteCommand(ctx, "hostname", sahara.ExecOptions{})
//
// Host keys: an instance's in.HostKey (from the cloud's console log, or
// pinned by an earlier operation) is the only key accepted; without it the
// first key seen is pinned for the pool and returned by WaitAccessible.
// A different key is refused with a *HostKeyError.
package sshremote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Defaults of Connector (Sahara: ssh_timeout_common 300 s, ssh_timeout_files 600 s).
const (
	DefaultCommandTimeout = 300 * time.Second
	DefaultFileTimeout    = 600 * time.Second
	DefaultConnectTimeout = 30 * time.Second
	DefaultRetryBackoff   = time.Second
	// DefaultMaxSessions is OpenSSH's MaxSessions: sessions (commands and the
	// SFTP subsystem) open at once on one connection.
	DefaultMaxSessions = 10
	// DefaultKeepaliveInterval is how often an idle connection is probed; one
	// that does not answer within the interval is closed.
	DefaultKeepaliveInterval = 15 * time.Second
)

// BastionConfig is a jump host the user gives; every instance (or the proxy
// gateway, when the cluster has one) is reached through it.
type BastionConfig struct {
	Host string
	Port int // default 22
	User string
	// PrivateKey is a PEM private key (unencrypted); optional with UseAgent.
	PrivateKey string
	// UseAgent authenticates with the keys of the SSH agent at SSH_AUTH_SOCK.
	UseAgent bool
	// HostKey holds the bastion's host keys in authorized_keys format, one a
	// line. Without it KnownHostsFile (default ~/.ssh/known_hosts) is used;
	// a bastion whose key cannot be verified is refused.
	HostKey        string
	KnownHostsFile string
}

func (b *BastionConfig) addr() string {
	port := b.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(b.Host, fmt.Sprint(port))
}

// Connector opens remote pools (sahara.RemoteConnector). The zero value
// works; set fields before the first Connect and do not copy it afterwards.
type Connector struct {
	Logger  *slog.Logger // nil: discard
	Bastion *BastionConfig
	// UseAgent adds the keys of the SSH agent at SSH_AUTH_SOCK to the
	// cluster's management key for instances.
	UseAgent bool
	// Port of sshd on instances (default 22).
	Port int
	// ConnectTimeout bounds one TCP connect plus SSH handshake.
	ConnectTimeout time.Duration
	// RetryBackoff is WaitAccessible's first pause; it doubles up to 10 times that.
	RetryBackoff          time.Duration
	DefaultCommandTimeout time.Duration
	DefaultFileTimeout    time.Duration
	// MaxSessionsPerConn bounds the sessions open at once on one connection;
	// keep it at or below the instances' sshd MaxSessions (10 by default).
	MaxSessionsPerConn int
	// KeepaliveInterval: see DefaultKeepaliveInterval; negative disables.
	KeepaliveInterval time.Duration

	handshakes atomic.Int64
	sessions   atomic.Int64
}

var _ sahara.RemoteConnector = (*Connector)(nil)

// Handshakes counts the SSH handshakes started (instances, gateways and the
// bastion), for benchmarks and tests.
func (c *Connector) Handshakes() int64 { return c.handshakes.Load() }

// Sessions counts the SSH sessions opened (commands, SFTP subsystems).
func (c *Connector) Sessions() int64 { return c.sessions.Load() }

func (c *Connector) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Connect returns the pool of one operation on cluster c. It checks the keys
// and the bastion settings; connections are opened when first used.
func (c *Connector) Connect(ctx context.Context, cl *sahara.Cluster) (sahara.RemotePool, error) {
	if cl == nil {
		return nil, errors.New("sshremote: no cluster")
	}
	if cl.ManagementPrivateKey == "" {
		return nil, fmt.Errorf("sshremote: cluster %q has no management key", cl.Name)
	}
	key, err := ssh.ParsePrivateKey([]byte(cl.ManagementPrivateKey))
	if err != nil {
		// The parse error never quotes the key.
		return nil, fmt.Errorf("sshremote: cluster %q management key: %w", cl.Name, err)
	}
	p := &pool{
		c:       c,
		cluster: cl,
		log:     c.logger(),
		conns:   map[string]*hostConn{},
		pinned:  map[string]ssh.PublicKey{},
	}
	var ag agent.ExtendedAgent
	if c.UseAgent || (c.Bastion != nil && c.Bastion.UseAgent) {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, errors.New("sshremote: use of the SSH agent requested but SSH_AUTH_SOCK is not set")
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
		if err != nil {
			return nil, fmt.Errorf("sshremote: connecting to the SSH agent: %w", err)
		}
		p.closers = append(p.closers, conn)
		ag = agent.NewClient(conn)
	}
	p.auth = authMethod([]ssh.Signer{key}, agentIf(ag, c.UseAgent))
	if c.Bastion != nil {
		if err := p.setupBastion(ag); err != nil {
			p.closeAll()
			return nil, err
		}
	}
	return p, nil
}

func agentIf(ag agent.ExtendedAgent, use bool) agent.ExtendedAgent {
	if use {
		return ag
	}
	return nil
}

// authMethod offers the fixed signers, then the agent's keys.
func authMethod(signers []ssh.Signer, ag agent.ExtendedAgent) ssh.AuthMethod {
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		out := append([]ssh.Signer(nil), signers...)
		if ag != nil {
			as, err := ag.Signers()
			if err != nil {
				return nil, fmt.Errorf("listing SSH agent keys: %w", err)
			}
			out = append(out, as...)
		}
		return out, nil
	})
}

func (p *pool) setupBastion(ag agent.ExtendedAgent) error {
	b := p.c.Bastion
	if b.Host == "" || b.User == "" {
		return errors.New("sshremote: bastion needs a host and a user")
	}
	var signers []ssh.Signer
	if b.PrivateKey != "" {
		s, err := ssh.ParsePrivateKey([]byte(b.PrivateKey))
		if err != nil {
			return fmt.Errorf("sshremote: bastion %s private key: %w", b.addr(), err)
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 && !b.UseAgent {
		return fmt.Errorf("sshremote: bastion %s needs a private key or use of the SSH agent", b.addr())
	}
	hk, algos, err := bastionHostKeys(b)
	if err != nil {
		return err
	}
	p.bastion = &bastionConn{
		hostConn: newHostConn(p.c),
		config: &ssh.ClientConfig{
			User:              b.User,
			Auth:              []ssh.AuthMethod{authMethod(signers, agentIf(ag, b.UseAgent))},
			HostKeyCallback:   hk,
			HostKeyAlgorithms: algos,
		},
	}
	return nil
}

// bastionHostKeys verifies the bastion against HostKey, else a known_hosts file.
func bastionHostKeys(b *BastionConfig) (ssh.HostKeyCallback, []string, error) {
	if strings.TrimSpace(b.HostKey) != "" {
		keys, err := parseAuthorizedKeys(b.HostKey)
		if err != nil {
			return nil, nil, fmt.Errorf("sshremote: bastion %s host key: %w", b.addr(), err)
		}
		return func(_ string, _ net.Addr, got ssh.PublicKey) error {
			return checkKey("bastion", b.addr(), keys, got)
		}, hostKeyAlgorithms(keys), nil
	}
	file := b.KnownHostsFile
	if file == "" {
		home, err := os.UserHomeDir()
		if err == nil {
			file = filepath.Join(home, ".ssh", "known_hosts")
		}
	}
	if file == "" {
		return nil, nil, fmt.Errorf("sshremote: bastion %s: no host key to verify it against (set its host key or a known_hosts file)", b.addr())
	}
	if _, err := os.Stat(file); err != nil {
		return nil, nil, fmt.Errorf("sshremote: bastion %s: no host key to verify it against (set its host key, or a known_hosts file; %s: %v)", b.addr(), file, err)
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, nil, fmt.Errorf("sshremote: bastion known_hosts %s: %w", file, err)
	}
	return cb, nil, nil
}

var _ io.Closer = (*pool)(nil)
