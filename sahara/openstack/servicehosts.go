package openstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.ServiceHostsProvider = (*Cloud)(nil)

// etcHostsServices are the services whose public endpoint hosts Sahara
// adds to /etc/hosts, in its order.
var etcHostsServices = []string{"identity", svcObject}

// resolveIPv4 is socket.gethostbyname, which Sahara uses: the first IPv4
// address of host (an IPv4 literal is its own answer; an IPv6-only host
// fails). Tests replace it to stay off the network.
var resolveIPv4 = func(ctx context.Context, host string) (string, error) {
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return "", err
	}
	return ips[0].String(), nil
}

// safeHost is what may be written into /etc/hosts as a host name.
var safeHost = regexp.MustCompile(`^[a-z0-9._:-]+$`)

// ServiceHosts implements sahara.ServiceHostsProvider as Sahara's
// etc_hosts_entry_for_service: for the identity and object-store public
// endpoints of the token's catalog (in the cloud's region), "<ip> <host>"
// with the host resolved from here, or "# Failed to resolve <host> during
// deployment"; nothing for a service the catalog lacks. An endpoint
// override takes the catalog's place, as it does for the clients.
func (c *Cloud) ServiceHosts(ctx context.Context) ([]string, error) {
	var lines []string
	var catalog *tokens.ServiceCatalog
	for _, svc := range etcHostsServices {
		line, err := c.serviceHostEntry(ctx, svc, &catalog)
		if err != nil {
			return nil, err
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// ServiceHostEntry is Sahara's etc_hosts_entry_for_service for one service
// type: "<ip> <host>" for its public endpoint's host resolved from here,
// "# Failed to resolve <host> during deployment", or "" when the catalog
// has no such endpoint (or its host is not a host name).
func (c *Cloud) ServiceHostEntry(ctx context.Context, svc string) (string, error) {
	var catalog *tokens.ServiceCatalog
	return c.serviceHostEntry(ctx, svc, &catalog)
}

// serviceHostEntry is ServiceHostEntry reading the catalog into *catalog
// once for several services.
func (c *Cloud) serviceHostEntry(ctx context.Context, svc string, catalog **tokens.ServiceCatalog) (string, error) {
	u := c.overrides[svc]
	if u == "" {
		if *catalog == nil {
			var err error
			if *catalog, err = c.serviceCatalog(ctx); err != nil {
				return "", fmt.Errorf("reading the service catalog: %w", err)
			}
		}
		var err error
		u, err = gcos.V3Endpoint(ctx, c.pc, *catalog, gophercloud.EndpointOpts{Type: svc, Region: c.eo.Region, Availability: gophercloud.AvailabilityPublic})
		if errors.As(err, new(*gophercloud.ErrEndpointNotFound)) {
			c.log.Debug("no public endpoint in the catalog; nothing in /etc/hosts for it", "service", svc)
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("public %s endpoint: %w", svc, err)
		}
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("public %s endpoint %q: %w", svc, u, err)
	}
	host := strings.ToLower(pu.Hostname())
	if !safeHost.MatchString(host) {
		c.log.Warn("public endpoint host is not a host name; nothing in /etc/hosts for it", "service", svc, "host", host)
		return "", nil
	}
	ip, err := resolveIPv4(ctx, host)
	if err != nil {
		c.log.Warn("failed to resolve the host of a public endpoint", "service", svc, "host", host, "error", err)
		return "# Failed to resolve " + host + " during deployment", nil
	}
	return ip + " " + host, nil
}

// serviceCatalog is the catalog of the token the cloud authenticated with,
// or, when the provider client holds no auth result, of its current token.
func (c *Cloud) serviceCatalog(ctx context.Context) (*tokens.ServiceCatalog, error) {
	switch r := c.pc.GetAuthResult().(type) {
	case tokens.CreateResult:
		return r.ExtractServiceCatalog()
	case tokens.GetResult:
		return r.ExtractServiceCatalog()
	}
	ic, err := gcos.NewIdentityV3(c.pc, c.eo)
	if err != nil {
		return nil, err
	}
	return tokens.Get(ctx, ic, c.pc.Token()).ExtractServiceCatalog()
}
