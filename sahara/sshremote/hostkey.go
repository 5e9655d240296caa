package sshremote

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ErrHostKeyMismatch matches every *HostKeyError.
var ErrHostKeyMismatch = errors.New("SSH host key mismatch")

// HostKeyError is a host that presented a key other than the one trusted
// (pinned at first contact, or published by the cloud in the console log).
// It is never retried.
type HostKeyError struct {
	Instance string
	Addr     string
	Expected []string // SHA256 fingerprints
	Got      string
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("host key of %s (%s) changed: expected %s, got %s",
		e.Instance, e.Addr, strings.Join(e.Expected, " or "), e.Got)
}

// Is makes errors.Is(err, ErrHostKeyMismatch) true.
func (e *HostKeyError) Is(target error) bool { return target == ErrHostKeyMismatch }

// parseAuthorizedKeys reads one or more authorized_keys lines.
func parseAuthorizedKeys(s string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	rest := []byte(s)
	for len(bytes.TrimSpace(rest)) > 0 {
		k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		rest = r
	}
	return keys, nil
}

func checkKey(name, addr string, trusted []ssh.PublicKey, got ssh.PublicKey) error {
	for _, k := range trusted {
		if bytes.Equal(k.Marshal(), got.Marshal()) {
			return nil
		}
	}
	e := &HostKeyError{Instance: name, Addr: addr, Got: ssh.FingerprintSHA256(got)}
	for _, k := range trusted {
		e.Expected = append(e.Expected, ssh.FingerprintSHA256(k))
	}
	return e
}

// hostKeyAlgorithms asks the server for the trusted key types only, so a
// host with several keys presents one we can check.
func hostKeyAlgorithms(keys []ssh.PublicKey) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	for _, k := range keys {
		if k.Type() == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		} else {
			add(k.Type())
		}
	}
	return out
}

func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// hostKeyCheck verifies an instance's key: against in.HostKey when set,
// else against the key pinned earlier in this pool, else it pins the key.
// seen receives the key the server presented.
func (p *pool) hostKeyCheck(name, addr, published string, seen *ssh.PublicKey) (ssh.HostKeyCallback, []string, error) {
	var trusted []ssh.PublicKey
	if strings.TrimSpace(published) != "" {
		keys, err := parseAuthorizedKeys(published)
		if err != nil {
			return nil, nil, &configError{fmt.Errorf("host key of %s: %w", name, err)}
		}
		trusted = keys
	} else {
		p.mu.Lock()
		if k := p.pinned[name]; k != nil {
			trusted = []ssh.PublicKey{k}
		}
		p.mu.Unlock()
	}
	cb := func(_ string, _ net.Addr, got ssh.PublicKey) error {
		if len(trusted) > 0 {
			if err := checkKey(name, addr, trusted, got); err != nil {
				return err
			}
		} else {
			p.mu.Lock()
			if k := p.pinned[name]; k != nil && !bytes.Equal(k.Marshal(), got.Marshal()) {
				p.mu.Unlock()
				return checkKey(name, addr, []ssh.PublicKey{k}, got)
			}
			p.pinned[name] = got
			p.mu.Unlock()
		}
		*seen = got
		return nil
	}
	return cb, hostKeyAlgorithms(trusted), nil
}
