package openstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	th "github.com/gophercloud/gophercloud/v2/testhelper"
)

// fakeDNS replaces the resolver: names resolve from the map, IP literals
// as the system does (no query), anything else fails; nothing leaves the
// machine.
func fakeDNS(t *testing.T, names map[string]string) {
	t.Helper()
	real := resolveIPv4
	resolveIPv4 = func(ctx context.Context, host string) (string, error) {
		if ip, ok := names[host]; ok {
			return ip, nil
		}
		if net.ParseIP(host) != nil {
			return real(ctx, host)
		}
		return "", fmt.Errorf("lookup %s: no such host", host)
	}
	t.Cleanup(func() { resolveIPv4 = real })
}

const catalogEntryFmt = `{"type": %q, "name": "x", "endpoints": [%s]}`

func endpoint(iface, region, url string) string {
	return fmt.Sprintf(`{"interface": %q, "region": %q, "region_id": %q, "url": %q}`, iface, region, region, url)
}

func entry(svc string, endpoints ...string) string {
	return fmt.Sprintf(catalogEntryFmt, svc, strings.Join(endpoints, ", "))
}

// catalogKeystone authenticates and hands out a token with the given catalog.
func catalogKeystone(t *testing.T, entries ...string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v3/auth/tokens" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			reply(w, 404, `{}`)
			return
		}
		w.Header().Set("X-Subject-Token", "tok")
		reply(w, 201, `{"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "project": {"id": "proj", "name": "p"},
			"user": {"id": "u", "name": "u"}, "catalog": [`+strings.Join(entries, ", ")+`]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func catalogCloud(t *testing.T, overrides map[string]string, entries ...string) (*Cloud, *countingTransport) {
	t.Helper()
	clearOSEnv(t)
	ks := catalogKeystone(t, entries...)
	ctr := newCounter(nil)
	cfg := Config{AuthURL: ks.URL + "/v3", UserName: "u", Password: "p", TenantName: "p", UserDomainName: "Default",
		ProjectDomainName: "Default", Region: "R1", EndpointOverrides: overrides}
	c, err := New(context.Background(), cfg, WithTransport(ctr), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctr.reset()
	return c, ctr
}

func TestServiceHosts_PublicEndpointsOfTheRegionResolved(t *testing.T) {
	fakeDNS(t, map[string]string{"keystone.example.org": "192.0.2.10", "internal.example.org": "192.0.2.99"})
	c, ctr := catalogCloud(t, nil,
		entry("compute", endpoint("public", "R1", "http://nova.example.org/v2.1")),
		entry("identity",
			endpoint("internal", "R1", "http://internal.example.org:5000/v3"),
			endpoint("public", "R2", "http://other-region.example.org:5000/v3"),
			endpoint("public", "R1", "https://Keystone.Example.org:5000/v3")),
		entry("object-store", endpoint("public", "R1", "http://127.0.0.1:8080/v1/AUTH_proj")),
	)
	got, err := c.ServiceHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Sahara's gethostbyname of an IP literal is the literal itself.
	want := []string{"192.0.2.10 keystone.example.org", "127.0.0.1 127.0.0.1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
	if n := ctr.total(); n != 0 {
		t.Errorf("%d requests; the catalog comes with the token:\n%s", n, ctr)
	}
}

func TestServiceHosts_FailedResolutionAndMissingService(t *testing.T) {
	fakeDNS(t, nil)
	c, _ := catalogCloud(t, nil, entry("identity", endpoint("public", "R1", "http://nowhere.invalid:5000/v3")))
	got, err := c.ServiceHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"# Failed to resolve nowhere.invalid during deployment"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q (no object-store line: it is not in the catalog)", got, want)
	}
}

func TestServiceHosts_IPv6LiteralFailsAsGethostbyname(t *testing.T) {
	fakeDNS(t, nil)
	c, _ := catalogCloud(t, nil,
		entry("identity", endpoint("public", "R1", "http://[::1]:5000/v3")),
		entry("object-store", endpoint("public", "R1", "http://10.0.0.5:8080/v1")))
	got, err := c.ServiceHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"# Failed to resolve ::1 during deployment", "10.0.0.5 10.0.0.5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestServiceHosts_OverrideReplacesCatalogAndHostileHostIsDropped(t *testing.T) {
	fakeDNS(t, map[string]string{"swift.example.org": "192.0.2.20"})
	c, _ := catalogCloud(t, map[string]string{"object-store": "http://swift.example.org:8080/v1"},
		entry("identity", endpoint("public", "R1", "http://evil;reboot:5000/v3")),
		entry("object-store", endpoint("public", "R1", "http://catalog-swift.example.org:8080/v1")))
	got, err := c.ServiceHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.20 swift.example.org"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestServiceHosts_ReadsCatalogWithTokenWhenNoAuthResult(t *testing.T) {
	fakeDNS(t, map[string]string{"keystone.example.org": "192.0.2.10"})
	fs := th.SetupHTTP()
	t.Cleanup(fs.Teardown)
	gets := 0
	fs.Mux.HandleFunc("/v3/auth/tokens", func(w http.ResponseWriter, r *http.Request) {
		th.TestMethod(t, r, "GET")
		gets++
		if r.Header.Get("X-Subject-Token") != "tok" {
			reply(w, 404, `{"error": {"code": 404, "message": "token not found"}}`)
			return
		}
		reply(w, 200, `{"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "catalog": [`+
			entry("identity", endpoint("public", "", "http://keystone.example.org:5000/v3"))+`]}}`)
	})
	pc := &gophercloud.ProviderClient{TokenID: "tok", IdentityBase: fs.Endpoint(), IdentityEndpoint: fs.Endpoint() + "v3/"}
	c := &Cloud{pc: pc, log: testLogger(t), clients: map[string]*gophercloud.ServiceClient{}}
	got, err := c.ServiceHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.10 keystone.example.org"}; !reflect.DeepEqual(got, want) || gets != 1 {
		t.Errorf("lines = %q (want %q), %d token reads (want 1)", got, want, gets)
	}
	c.pc.TokenID = "expired"
	_, err = c.ServiceHosts(context.Background())
	if err == nil || !strings.Contains(err.Error(), "reading the service catalog") {
		t.Errorf("a failed token read gave %v", err)
	}
}
