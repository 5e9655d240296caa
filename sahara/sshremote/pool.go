package sshremote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var errPoolClosed = errors.New("sshremote: remote pool is closed")

// configError is a failure no retry can fix (bad key text, no login user).
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// pool is the sahara.RemotePool of one operation: one connection per
// instance (plus the bastion's), opened on first use and kept until Close.
type pool struct {
	c       *Connector
	cluster *sahara.Cluster
	log     *slog.Logger
	auth    ssh.AuthMethod
	bastion *bastionConn
	closers []io.Closer

	mu      sync.Mutex
	conns   map[string]*hostConn     // by instance name
	pinned  map[string]ssh.PublicKey // first key seen, by instance name
	clients []*ssh.Client            // every connection opened, in order
	closed  bool
}

var _ sahara.RemotePool = (*pool)(nil)

// hostConn is the connection to one host. lock serializes connecting, so
// parallel callers share one handshake; sem bounds its open sessions.
type hostConn struct {
	lock    chan struct{}
	client  *ssh.Client
	hostKey ssh.PublicKey

	sftpLock chan struct{}
	sftp     *sftp.Client
	sftpSess *ssh.Session
	sftpOf   *ssh.Client

	sem chan struct{}
}

type bastionConn struct {
	*hostConn
	config *ssh.ClientConfig
}

func newHostConn(c *Connector) *hostConn {
	n := c.MaxSessionsPerConn
	if n <= 0 {
		n = DefaultMaxSessions
	}
	return &hostConn{lock: make(chan struct{}, 1), sftpLock: make(chan struct{}, 1), sem: make(chan struct{}, n)}
}

func acquire(ctx context.Context, ch chan struct{}) error {
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pool) hostConn(name string) (*hostConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	hc := p.conns[name]
	if hc == nil {
		hc = newHostConn(p.c)
		p.conns[name] = hc
	}
	return hc, nil
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Remote returns the remote of an instance; nothing is dialed until it is used.
func (p *pool) Remote(in *sahara.Instance) sahara.Remote { return &remote{p: p, in: in} }

// client returns the instance's connection, dialing it once if needed.
func (p *pool) client(ctx context.Context, in *sahara.Instance) (*hostConn, *ssh.Client, error) {
	hc, err := p.hostConn(in.InstanceName)
	if err != nil {
		return nil, nil, err
	}
	if err := acquire(ctx, hc.lock); err != nil {
		return nil, nil, err
	}
	defer func() { <-hc.lock }()
	if hc.client != nil {
		return hc, hc.client, nil
	}
	if p.isClosed() { // Close ran while we waited for the lock
		return nil, nil, errPoolClosed
	}
	cl, key, err := p.dial(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if err := p.track(in.InstanceName, hc, cl); err != nil {
		return nil, nil, err
	}
	hc.client, hc.hostKey = cl, key
	return hc, cl, nil
}

// track registers a new connection for Close, keeps it alive, and forgets
// it once it dies so the next use redials. The caller holds hc.lock.
func (p *pool) track(name string, hc *hostConn, cl *ssh.Client) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = cl.Close()
		return errPoolClosed
	}
	p.clients = append(p.clients, cl)
	p.mu.Unlock()
	done := make(chan struct{})
	go p.keepalive(name, cl, done)
	go func() {
		_ = cl.Wait()
		close(done)
		p.untrack(cl)
		hc.lock <- struct{}{}
		if hc.client == cl {
			hc.client = nil
		}
		<-hc.lock
	}()
	return nil
}

// untrack forgets a dead connection, so redials do not pile up in Close's list.
func (p *pool) untrack(cl *ssh.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients = slices.DeleteFunc(p.clients, func(c *ssh.Client) bool { return c == cl })
}

// drop closes a connection that failed, if it is still the current one.
func (p *pool) drop(hc *hostConn, cl *ssh.Client) {
	hc.lock <- struct{}{}
	if hc.client == cl {
		hc.client = nil
	}
	<-hc.lock
	_ = cl.Close()
}

func (p *pool) port() string {
	if p.c.Port > 0 {
		return strconv.Itoa(p.c.Port)
	}
	return "22"
}

func (p *pool) address(in *sahara.Instance) (string, error) {
	ip := in.ManagementIP
	if ip == "" {
		ip = in.InternalIP
	}
	if ip == "" {
		return "", &configError{fmt.Errorf("instance %s has no IP address", in.InstanceName)}
	}
	return net.JoinHostPort(ip, p.port()), nil
}

// gatewayFor returns the proxy gateway to go through, or nil: instances of
// non-gateway groups go through the cluster's gateway, as in Sahara.
func (p *pool) gatewayFor(in *sahara.Instance) *sahara.Instance {
	gw := p.cluster.ProxyGateway()
	if gw == nil || gw == in || gw.InstanceName == in.InstanceName {
		return nil
	}
	if ng := in.NodeGroup(); ng != nil && ng.IsProxyGateway {
		return nil
	}
	return gw
}

// dial opens and authenticates a connection to an instance: direct, through
// the proxy gateway, or through the bastion.
func (p *pool) dial(ctx context.Context, in *sahara.Instance) (*ssh.Client, ssh.PublicKey, error) {
	user := in.Username()
	if user == "" {
		return nil, nil, &configError{fmt.Errorf("instance %s has no login user (its node group's image username is not set)", in.InstanceName)}
	}
	addr, err := p.address(in)
	if err != nil {
		return nil, nil, err
	}
	var seen ssh.PublicKey
	hk, algos, err := p.hostKeyCheck(in.InstanceName, addr, in.HostKey, &seen)
	if err != nil {
		return nil, nil, err
	}
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{p.auth}, HostKeyCallback: hk, HostKeyAlgorithms: algos}

	var conn net.Conn
	via := addr
	if gw := p.gatewayFor(in); gw != nil {
		_, gcl, err := p.client(ctx, gw)
		if err != nil {
			return nil, nil, fmt.Errorf("through proxy gateway %s: %w", gw.InstanceName, err)
		}
		via = addr + " via proxy gateway " + gw.InstanceName
		conn, err = gcl.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", via, err)
		}
	} else if p.bastion != nil {
		bcl, err := p.bastionClient(ctx)
		if err != nil {
			return nil, nil, err
		}
		via = addr + " via bastion " + p.c.Bastion.addr()
		conn, err = bcl.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", via, err)
		}
	} else {
		d := net.Dialer{Timeout: orDefault(p.c.ConnectTimeout, DefaultConnectTimeout)}
		conn, err = d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, err
		}
	}
	cl, err := p.handshake(ctx, conn, addr, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", via, err)
	}
	p.log.Debug(in.InstanceName+": connected", "instance", in.InstanceName, "addr", via, "user", user)
	return cl, seen, nil
}

func (p *pool) bastionClient(ctx context.Context) (*ssh.Client, error) {
	b := p.bastion
	if err := acquire(ctx, b.lock); err != nil {
		return nil, err
	}
	defer func() { <-b.lock }()
	if b.client != nil {
		return b.client, nil
	}
	if p.isClosed() {
		return nil, errPoolClosed
	}
	addr := p.c.Bastion.addr()
	d := net.Dialer{Timeout: orDefault(p.c.ConnectTimeout, DefaultConnectTimeout)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bastion %s: %w", addr, err)
	}
	cl, err := p.handshake(ctx, conn, addr, b.config)
	if err != nil {
		return nil, fmt.Errorf("bastion %s: %w", addr, err)
	}
	if err := p.track("bastion", b.hostConn, cl); err != nil {
		return nil, err
	}
	b.client = cl
	p.log.Debug("connected to bastion", "addr", addr)
	return cl, nil
}

// handshake runs the SSH handshake bounded by ConnectTimeout and ctx;
// tunnelled connections have no deadlines, so the bound closes the conn.
func (p *pool) handshake(ctx context.Context, conn net.Conn, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	hctx, cancel := context.WithTimeout(ctx, orDefault(p.c.ConnectTimeout, DefaultConnectTimeout))
	defer cancel()
	stop := context.AfterFunc(hctx, func() { _ = conn.Close() })
	p.c.handshakes.Add(1)
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() {
		if err == nil {
			_ = cc.Close()
		}
		return nil, fmt.Errorf("SSH handshake: %w", hctx.Err())
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

// WaitAccessible retries until the instance accepts the management key, or
// ctx ends (Sahara's "Wait for instance accessibility"). The connection is
// kept for the rest of the operation. It returns the verified host key.
func (p *pool) WaitAccessible(ctx context.Context, in *sahara.Instance) (string, error) {
	backoff := orDefault(p.c.RetryBackoff, DefaultRetryBackoff)
	maxBackoff := 10 * backoff
	start := time.Now()
	var lastErr error
	for attempt := 1; ; attempt++ {
		hc, _, err := p.client(ctx, in)
		if err == nil {
			if attempt > 1 {
				p.log.Info(fmt.Sprintf("%s: accessible over SSH after %d attempts", in.InstanceName, attempt),
					"instance", in.InstanceName, "attempts", attempt, "waited", time.Since(start).Round(time.Millisecond))
			}
			return authorizedKey(hc.hostKey), nil
		}
		if !retryable(err) {
			return "", fmt.Errorf("instance %s: %w", in.InstanceName, err)
		}
		if ctx.Err() == nil || lastErr == nil {
			lastErr = err
		}
		notAccessible := func() error {
			addr, _ := p.address(in)
			return fmt.Errorf("instance %s (%s, user %q) not accessible over SSH after %d attempts in %s: last failure: %v: %w",
				in.InstanceName, addr, in.Username(), attempt, time.Since(start).Round(time.Millisecond), lastErr, ctx.Err())
		}
		if ctx.Err() != nil {
			return "", notAccessible()
		}
		lvl := slog.LevelDebug
		if attempt == 1 || attempt%10 == 0 {
			lvl = slog.LevelInfo
		}
		p.log.Log(ctx, lvl, fmt.Sprintf("%s: waiting for SSH (attempt %d)", in.InstanceName, attempt),
			"instance", in.InstanceName, "attempt", attempt, "error", err.Error())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", notAccessible()
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// retryable: anything but a host key mismatch, a configuration error or
// the pool closing may go away while the instance boots (refused, timeouts,
// unreachable, sshd not ready, key not yet installed).
func retryable(err error) bool {
	var ce *configError
	return !errors.Is(err, ErrHostKeyMismatch) && !errors.As(err, &ce) && !errors.Is(err, errPoolClosed)
}

// Close closes every connection: tunnelled ones first, then the gateway's,
// then the bastion's. It does not wait for calls in flight on them.
func (p *pool) Close() error {
	p.closeAll()
	return nil
}

func (p *pool) closeAll() {
	p.mu.Lock()
	p.closed = true
	conns, clients := p.conns, p.clients
	p.conns, p.clients = map[string]*hostConn{}, nil
	p.mu.Unlock()
	// Newest first: a tunnelled connection is newer than its gateway's or
	// the bastion's. Closing them before taking any lock ends every call
	// still waiting on them, so the locks below are released promptly.
	for i := len(clients) - 1; i >= 0; i-- {
		_ = clients[i].Close()
	}
	for _, hc := range conns {
		hc.close()
	}
	if p.bastion != nil {
		p.bastion.close()
	}
	for _, c := range p.closers {
		_ = c.Close()
	}
}

func (hc *hostConn) close() {
	hc.lock <- struct{}{}
	cl := hc.client
	hc.client = nil
	<-hc.lock
	hc.sftpLock <- struct{}{}
	if hc.sftp != nil {
		hc.closeSFTP()
	}
	<-hc.sftpLock
	if cl != nil {
		_ = cl.Close()
	}
}

// DialContext opens a TCP connection from the instance over its SSH
// connection (sahara.Dialer).
func (r *remote) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	_, cl, err := r.p.client(ctx, r.in)
	if err != nil {
		return nil, err
	}
	conn, err := cl.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s from the instance: %w", r.in.InstanceName, addr, err)
	}
	return conn, nil
}

var _ sahara.Dialer = (*remote)(nil)
