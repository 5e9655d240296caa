package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"golang.org/x/crypto/ssh"
)

// HostKeysFromConsole extracts the SSH host keys that the instance printed to
// its console log between cloud-init's "-----BEGIN SSH HOST KEY KEYS-----"
// and "-----END SSH HOST KEY KEYS-----" lines.
func HostKeysFromConsole(console string) ([]ssh.PublicKey, error) {
	const begin, end = "-----BEGIN SSH HOST KEY KEYS-----", "-----END SSH HOST KEY KEYS-----"
	i := strings.LastIndex(console, begin)
	if i < 0 {
		return nil, errors.New("no SSH host keys in the console log (yet)")
	}
	rest := console[i+len(begin):]
	j := strings.Index(rest, end)
	if j < 0 {
		return nil, errors.New("unterminated SSH host key block in the console log")
	}
	var keys []ssh.PublicKey
	for _, line := range strings.Split(rest[:j], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("parsing host key %q: %w", line, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("empty SSH host key block in the console log")
	}
	return keys, nil
}

// ConsoleHostKeys polls the server's console log (os-getConsoleOutput) until
// it holds the host keys, or ctx ends.
func ConsoleHostKeys(ctx context.Context, compute *gophercloud.ServiceClient, serverID string) ([]ssh.PublicKey, error) {
	for {
		out, err := servers.ShowConsoleOutput(ctx, compute, serverID, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil {
			if keys, kerr := HostKeysFromConsole(out); kerr == nil {
				return keys, nil
			} else {
				err = kerr
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("host keys of server %s: %w (last: %v)", serverID, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// PinnedHostKeys is an ssh.HostKeyCallback accepting only the given keys.
func PinnedHostKeys(keys []ssh.PublicKey) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil
			}
		}
		return fmt.Errorf("host key of %s (%s) is not the one in the console log", hostname, ssh.FingerprintSHA256(key))
	}
}

// DialSSH connects to addr:22 as user with the given signer, verifying the
// host key against keys; it retries until ctx ends (servers boot
// asynchronously).
func DialSSH(ctx context.Context, addr, user string, signer ssh.Signer, keys []ssh.PublicKey) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: PinnedHostKeys(keys),
		Timeout:         5 * time.Second,
	}
	var last error
	for {
		c, err := ssh.Dial("tcp", net.JoinHostPort(addr, "22"), cfg)
		if err == nil {
			return c, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh %s@%s: %w (last: %v)", user, addr, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Run runs a command over an SSH client and returns stdout; stderr is part
// of the error.
func Run(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer func() { _ = s.Close() }()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	if err := s.Run(cmd); err != nil {
		return out.String(), fmt.Errorf("%q: %w: %s", cmd, err, errb.String())
	}
	return out.String(), nil
}
