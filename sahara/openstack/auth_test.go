package openstack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// fakeKeystone issues a token whose catalog holds only compute (and the
// identity endpoint), like a cloud without Swift.
func fakeKeystone(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v3/auth/tokens":
			w.Header().Set("X-Subject-Token", "tok")
			reply(w, 201, fmt.Sprintf(`{"token": {"expires_at": "2099-01-01T00:00:00.000000Z",
				"project": {"id": "proj", "name": "p"}, "user": {"id": "u", "name": "u"},
				"catalog": [{"type": "compute", "name": "nova", "endpoints": [{"interface": "public", "region": "R1", "region_id": "R1", "url": "%s/compute/v2.1"}]}]}}`, srv.URL))
		case r.URL.Path == "/swift-override/my-container":
			reply(w, 201, ``)
		case r.URL.Path == "/swift-override/my-container/node-group-templates/t1.json":
			th := r.Header.Get("X-Auth-Token")
			if th != "tok" {
				t.Errorf("object PUT without the token: %q", th)
			}
			reply(w, 201, ``)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			reply(w, 404, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStore_NoObjectStoreEndpointIsAClearError(t *testing.T) {
	clearOSEnv(t)
	ks := fakeKeystone(t)
	ctr := newCounter(nil)
	cfg := Config{AuthURL: ks.URL + "/v3", UserName: "u", Password: "p", TenantName: "p", UserDomainName: "Default", ProjectDomainName: "Default", Region: "R1"}
	ctx := context.Background()
	c, err := New(ctx, cfg, WithTransport(ctr))
	if err != nil {
		t.Fatal(err)
	}
	if c.ProjectID() != "proj" || ctr.count("POST", "/v3/auth/tokens") != 1 {
		t.Fatalf("project %q, requests:\n%s", c.ProjectID(), ctr)
	}
	_, err = c.Store(ctx, "my-container")
	if err == nil || !strings.HasPrefix(err.Error(), "the cloud has no object-store endpoint: ") {
		t.Fatalf("got %v", err)
	}
	// an endpoint override supplies the missing service
	cfg.EndpointOverrides = map[string]string{"object-store": ks.URL + "/swift-override"}
	c, err = New(ctx, cfg, WithTransport(ctr))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Store(ctx, "my-container")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sahara.KindNodeGroupTemplate, "t1", map[string]string{"id": "t1"}); err != nil {
		t.Fatal(err)
	}
}

func TestNew_AuthenticatesEveryWayOnTestbed(t *testing.T) {
	env := testbed.Require(t)
	clearOSEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	check := func(name string, cfg Config) *Cloud {
		t.Helper()
		c, err := New(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.ProjectID() != env.ProjectID {
			t.Fatalf("%s: project %q, want %q", name, c.ProjectID(), env.ProjectID)
		}
		if _, err := c.GetImage(ctx, env.Images["fake"]); err != nil {
			t.Fatalf("%s: an API call failed: %v", name, err)
		}
		return c
	}

	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	first := check("clouds.yaml", Config{Cloud: env.Cloud})
	t.Setenv("OS_CLIENT_CONFIG_FILE", t.TempDir()+"/none.yaml")

	check("explicit", Config{AuthURL: env.AuthURL, UserName: env.Username, Password: env.Password, TenantName: env.ProjectName,
		UserDomainName: env.UserDomainName, ProjectDomainName: env.ProjectDomainName, Region: env.Region})

	t.Setenv("OS_AUTH_URL", env.AuthURL)
	t.Setenv("OS_USERNAME", env.Username)
	t.Setenv("OS_PASSWORD", env.Password)
	t.Setenv("OS_PROJECT_NAME", env.ProjectName)
	t.Setenv("OS_USER_DOMAIN_NAME", env.UserDomainName)
	t.Setenv("OS_PROJECT_DOMAIN_NAME", env.ProjectDomainName)
	t.Setenv("OS_REGION_NAME", env.Region)
	check("OS_* environment", Config{})
	clearOSEnv(t)

	check("token", Config{AuthURL: env.AuthURL, Token: first.pc.Token(), TenantID: env.ProjectID})

	// an application credential of the test user, removed afterwards
	user, err := first.pc.GetAuthResult().(tokens.CreateResult).ExtractUser()
	if err != nil {
		t.Fatal(err)
	}
	ic, err := gcos.NewIdentityV3(first.pc, first.eo)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := applicationcredentials.Create(ctx, ic, user.ID, applicationcredentials.CreateOpts{Name: "saharagen-test-" + newUUID()[:8]}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = applicationcredentials.Delete(context.Background(), ic, user.ID, ac.ID).ExtractErr() })
	check("application credential", Config{AuthURL: env.AuthURL, ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret})
}
