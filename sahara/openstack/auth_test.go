package openstack

import (
	"context"
	"encoding/json"
	"errors"
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
			replyToken(w, "compute", srv.URL+"/compute/v2.1")
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

// replyToken issues token "tok" of user u in project proj whose catalog has
// one service (no object-store).
func replyToken(w http.ResponseWriter, service, url string) {
	w.Header().Set("X-Subject-Token", "tok")
	reply(w, 201, fmt.Sprintf(`{"token": {"expires_at": "2099-01-01T00:00:00.000000Z",
		"project": {"id": "proj", "name": "p"}, "user": {"id": "u", "name": "u"},
		"catalog": [{"type": %q, "name": %q, "endpoints": [{"interface": "public", "region": "R1", "region_id": "R1", "url": %q}]}]}}`,
		service, service, url))
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

// A fake credentials API: two runs created the same record at once, so it is
// two credentials; every reader takes the one with the smaller ID, and the
// next write removes the other. A listing that races a deletion is retried.
func TestCredentialStore_DuplicateRecordsResolveToTheSmallestID(t *testing.T) {
	clearOSEnv(t)
	blob := func(status string) string {
		return fmt.Sprintf(`{"saharagen_namespace":"ns","kind":"clusters","id":"c1","data":{"id":"c1","status":%q}}`, status)
	}
	creds := map[string]string{"b2": blob("Spawning"), "a1": blob("Active"),
		"c3": `{"saharagen_namespace":"other","kind":"clusters","id":"c1","data":{}}`}
	var deleted, patched []string
	lists := 0
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v3/auth/tokens":
			replyToken(w, "identity", srv.URL+"/v3")
		case r.Method == "GET" && r.URL.Path == "/v3/credentials":
			if lists++; lists == 1 { // a credential deleted while Keystone listed
				reply(w, 404, `{"error":{"code":404,"message":"Could not find credential: x9."}}`)
				return
			}
			if q := r.URL.Query(); q.Get("type") != CredentialType || q.Get("user_id") != "u" {
				t.Errorf("credentials listed with %s", r.URL.RawQuery)
			}
			var items []string
			for _, id := range []string{"b2", "c3", "a1"} { // Keystone's order is not the IDs'
				if b, ok := creds[id]; ok {
					q, _ := json.Marshal(b)
					items = append(items, fmt.Sprintf(`{"id":%q,"user_id":"u","project_id":"proj","type":%q,"blob":%s}`, id, CredentialType, q))
				}
			}
			reply(w, 200, `{"credentials":[`+strings.Join(items, ",")+`],"links":{"next":null}}`)
		case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/v3/credentials/"):
			id := strings.TrimPrefix(r.URL.Path, "/v3/credentials/")
			var body struct {
				Credential struct{ Blob string } `json:"credential"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			creds[id] = body.Credential.Blob
			patched = append(patched, id)
			reply(w, 200, fmt.Sprintf(`{"credential":{"id":%q}}`, id))
		case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/v3/credentials/"):
			id := strings.TrimPrefix(r.URL.Path, "/v3/credentials/")
			delete(creds, id)
			deleted = append(deleted, id)
			w.WriteHeader(204)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			reply(w, 404, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := New(ctx, Config{AuthURL: srv.URL + "/v3", UserName: "u", Password: "p", TenantName: "p",
		UserDomainName: "Default", ProjectDomainName: "Default", Region: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, "ns"); !errors.Is(err, ErrNoObjectStorage) {
		t.Fatalf("Store on a cloud without object storage: %v", err)
	}
	s, err := c.CredentialStore(ctx, "ns")
	if err != nil {
		t.Fatal(err)
	}
	var got sahara.Cluster
	if err := s.Get(ctx, sahara.KindCluster, "c1", &got); err != nil || got.Status != sahara.StatusActive {
		t.Fatalf("Get took %+v (%v), want the record of credential a1 (Active)", got, err)
	}
	got.Status = sahara.StatusError
	if err := s.Put(ctx, sahara.KindCluster, "c1", got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(patched, ",") != "a1" || strings.Join(deleted, ",") != "b2" || creds["c3"] == "" {
		t.Fatalf("Put patched %v and deleted %v; want a1 patched, b2 deleted, c3 (another namespace) kept", patched, deleted)
	}
	if ids, err := s.List(ctx, sahara.KindCluster); err != nil || strings.Join(ids, ",") != "c1" {
		t.Fatalf("List: %v %v", ids, err)
	}
	if err := s.Delete(ctx, sahara.KindCluster, "c1"); err != nil || len(creds) != 1 {
		t.Fatalf("Delete left %v (%v)", creds, err)
	}
}
