package openstack

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// TestServiceHosts_Testbed checks the /etc/hosts lines against the testbed's
// Keystone: its public endpoint is the auth URL's host, and an IP literal
// resolves to itself as in Sahara.
func TestServiceHosts_Testbed(t *testing.T) {
	env := testbed.Require(t)
	c, ctr := testbedCloud(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctr.reset()
	lines, err := c.ServiceHosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lines: %q (%d requests)", lines, ctr.total())
	au, err := url.Parse(env.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	host := au.Hostname()
	want := host
	if net.ParseIP(host) == nil {
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
		if err != nil || len(ips) == 0 {
			t.Fatalf("resolving the testbed's auth host %s: %v", host, err)
		}
		want = ips[0].String()
	}
	if len(lines) == 0 || lines[0] != want+" "+host {
		t.Errorf("identity line = %q, want %q", lines, want+" "+host)
	}
	if len(lines) > 2 {
		t.Errorf("%d lines, want identity and at most object-store", len(lines))
	}
	if n := ctr.total(); n != 0 {
		t.Errorf("%d requests; the catalog comes with the token", n)
	}
}
