package sshtest

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// InstanceHost starts a host for instance in, named after it, with the
// login key pub authorized, runs prep on it (when not empty) and points the
// instance at it: addresses, host key and the node group's login user.
func (l *Lab) InstanceHost(t testing.TB, in *sahara.Instance, pub, prep string) *Host {
	t.Helper()
	h := l.AddHost(t, HostOptions{Name: in.InstanceName, AuthorizedKeys: []string{pub}})
	in.InternalIP, in.ManagementIP, in.HostKey = h.IP(), h.IP(), h.HostKey
	in.NodeGroup().ImageUsername = h.User
	if prep != "" {
		h.Run(t, prep)
	}
	return h
}

// ClusterHosts is InstanceHost for every instance of c, by instance name.
func (l *Lab) ClusterHosts(t testing.TB, c *sahara.Cluster, pub, prep string) map[string]*Host {
	t.Helper()
	hosts := map[string]*Host{}
	for _, in := range c.Instances() {
		hosts[in.InstanceName] = l.InstanceHost(t, in, pub, prep)
	}
	return hosts
}

// TestLogger is a logger into a buffer that the test prints when it fails
// (or always with -v when verbose is set), and the buffer.
func TestLogger(t testing.TB, verbose bool) (*slog.Logger, *bytes.Buffer) {
	var logs bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() || (verbose && testing.Verbose()) {
			t.Logf("plugin log:\n%s", logs.String())
		}
	})
	return slog.New(slog.NewTextHandler(&logs, nil)), &logs
}
