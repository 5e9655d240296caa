package openstack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/utils/v2/openstack/clientconfig"
)

func clearOSEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OS_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
}

func TestConfigResolve_CloudsYAMLThenExplicitThenEnv(t *testing.T) {
	clearOSEnv(t)
	dir := t.TempDir()
	yaml := `clouds:
  mycloud:
    auth:
      auth_url: https://keystone.example.test:5000/v3
      username: demo
      password: yaml-secret
      project_name: demo-project
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionTwo
    interface: internal
    verify: false
`
	if err := os.WriteFile(filepath.Join(dir, "clouds.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(dir, "clouds.yaml"))

	cfg := Config{Cloud: "mycloud", Password: "explicit", TenantName: "other"}
	ao, cloud, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if ao.IdentityEndpoint != "https://keystone.example.test:5000/v3" || ao.Username != "demo" || ao.Password != "explicit" ||
		ao.Scope == nil || ao.Scope.ProjectName != "other" || !ao.AllowReauth {
		t.Fatalf("auth options %+v scope %+v", ao, ao.Scope)
	}
	if cfg.region(cloud) != "RegionTwo" {
		t.Errorf("region %q", cfg.region(cloud))
	}
	if av, err := cfg.availability(cloud); err != nil || av != gophercloud.AvailabilityInternal {
		t.Errorf("interface %v %v", av, err)
	}
	tc, err := cfg.tlsConfig(cloud)
	if err != nil || !tc.InsecureSkipVerify {
		t.Errorf("verify: false not honoured: %v", err)
	}
	no := false
	cfg.Insecure = &no
	if tc, _ := cfg.tlsConfig(cloud); tc.InsecureSkipVerify {
		t.Error("explicit insecure=false did not win")
	}

	// OS_CLOUD selects the entry too
	t.Setenv("OS_CLOUD", "mycloud")
	if ao, _, err := (Config{}).resolve(); err != nil || ao.Username != "demo" {
		t.Fatalf("OS_CLOUD: %+v %v", ao, err)
	}
	_ = os.Unsetenv("OS_CLOUD")

	// environment only, as an openrc sets it
	t.Setenv("OS_AUTH_URL", "https://env.example.test:5000/v3")
	t.Setenv("OS_USERNAME", "envuser")
	t.Setenv("OS_PASSWORD", "envpass")
	t.Setenv("OS_PROJECT_NAME", "envproj")
	t.Setenv("OS_USER_DOMAIN_NAME", "Default")
	t.Setenv("OS_PROJECT_DOMAIN_NAME", "Default")
	t.Setenv("OS_REGION_NAME", "EnvRegion")
	ao, cloud, err = (Config{}).resolve()
	if err != nil || ao.Username != "envuser" || ao.Scope.ProjectName != "envproj" || (Config{}).region(cloud) != "EnvRegion" {
		t.Fatalf("env: %+v %v", ao, err)
	}
	// application credentials and tokens
	ao, _, err = (Config{AuthURL: "https://x/v3", ApplicationCredentialID: "acid", ApplicationCredentialSecret: "s"}).resolve()
	if err != nil || ao.ApplicationCredentialID != "acid" || ao.ApplicationCredentialSecret != "s" {
		t.Fatalf("app credential: %+v %v", ao, err)
	}
	ao, _, err = (Config{AuthURL: "https://x/v3", Token: "tok"}).resolve()
	if err != nil || ao.TokenID != "tok" || ao.AllowReauth {
		t.Fatalf("token: %+v %v", ao, err)
	}
}

func TestConfigResolve_ClearErrors(t *testing.T) {
	clearOSEnv(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(t.TempDir(), "none.yaml"))
	if _, _, err := (Config{UserName: "u", Password: "p"}).resolve(); err == nil || !strings.Contains(err.Error(), "auth URL") {
		t.Errorf("missing auth URL: %v", err)
	}
	if _, err := (Config{EndpointType: "sideways"}).availability(emptyCloud()); err == nil || !strings.Contains(err.Error(), "public, internal and admin") {
		t.Errorf("bad endpoint type: %v", err)
	}
	if _, err := (Config{ClientCertFile: "/x"}).tlsConfig(emptyCloud()); err == nil {
		t.Error("cert without key accepted")
	}
}

// retryServer answers with the given statuses in turn, then 200.
func retryServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == -1 { // drop the connection
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				_ = conn.Close()
				return
			}
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(statuses[i])
			return
		}
		_, _ = w.Write(body) // echo: a replayed body must arrive whole
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetryTransport_RetriesTransientFailures(t *testing.T) {
	rt := &retryTransport{next: http.DefaultTransport, maxRetries: 3, base: time.Millisecond}
	client := &http.Client{Transport: rt}
	cases := []struct {
		method   string
		statuses []int
		attempts int32
		final    int
	}{
		{"GET", []int{503, 429, 502}, 4, 200},
		{"GET", []int{409}, 2, 200},
		{"DELETE", []int{-1}, 2, 200}, // connection reset
		{"PUT", []int{500, 500, 500, 500}, 4, 500},
		{"POST", []int{503}, 2, 200},
		{"POST", []int{500}, 1, 500}, // may have created something: not replayed
		{"POST", []int{409}, 1, 409},
		{"GET", []int{404}, 1, 404},
	}
	for _, tc := range cases {
		srv, n := retryServer(t, tc.statuses...)
		req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader("payload"))
		resp, err := client.Do(req)
		if tc.final == 0 {
			if err == nil {
				t.Errorf("%s %v: no error", tc.method, tc.statuses)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", tc.method, tc.statuses, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.final || n.Load() != tc.attempts {
			t.Errorf("%s %v: status %d after %d attempts, want %d after %d", tc.method, tc.statuses, resp.StatusCode, n.Load(), tc.final, tc.attempts)
		}
		if tc.final == 200 && string(body) != "payload" {
			t.Errorf("%s %v: replayed body %q", tc.method, tc.statuses, body)
		}
	}
}

func TestRetryTransport_NoRetriesByDefaultAndStopsWithContext(t *testing.T) {
	srv, n := retryServer(t, 503, 503)
	resp, err := (&http.Client{Transport: &retryTransport{next: http.DefaultTransport}}).Get(srv.URL)
	if err != nil || resp.StatusCode != 503 || n.Load() != 1 {
		t.Fatalf("max_retries 0: %v %v attempts %d", resp, err, n.Load())
	}
	_ = resp.Body.Close()
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	}))
	defer srv2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv2.URL, nil)
	start := time.Now()
	resp, err = (&http.Client{Transport: &retryTransport{next: http.DefaultTransport, maxRetries: 5}}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("a 30 s Retry-After outlived the context: %v", err)
	}
}

func emptyCloud() *clientconfig.Cloud { return &clientconfig.Cloud{} }
