package sshremote

import (
	"context"
	"time"

	"golang.org/x/crypto/ssh"
)

// bounded runs a blocking SSH call that takes no context (channel opens,
// requests waiting for a reply). When ctx ends first it returns ctx's error
// at once and hands a late success to cleanup; the call itself ends when
// its connection answers or is closed (by keepalive or the pool).
func bounded[T any](ctx context.Context, call func() (T, error), cleanup func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := call()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil && cleanup != nil {
				cleanup(r.v)
			}
		}()
		var zero T
		return zero, ctx.Err()
	}
}

func closeSession(s *ssh.Session) { _ = s.Close() }

// keepalive closes a connection whose peer stops answering: a server
// deleted under us drops packets without a reset, and everything waiting on
// that connection would otherwise wait for TCP to give up (a quarter of an
// hour) or forever when nothing is being sent.
func (p *pool) keepalive(name string, cl *ssh.Client, done <-chan struct{}) {
	every := p.c.KeepaliveInterval
	if every == 0 {
		every = DefaultKeepaliveInterval
	}
	if every < 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		// OpenSSH answers an unknown global request with a failure: any answer
		// means alive.
		_, err := bounded(ctx, func() (bool, error) {
			ok, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
			return ok, err
		}, nil)
		cancel()
		if err != nil {
			select {
			case <-done:
			default:
				p.log.Info(name+": SSH connection unresponsive, closing it", "instance", name, "error", err.Error())
			}
			_ = cl.Close()
			return
		}
	}
}
