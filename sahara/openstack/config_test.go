package openstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
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
func emptyCloud() *clientconfig.Cloud { return &clientconfig.Cloud{} }

// testPEM makes a self-signed certificate and its key, PEM-encoded.
func testPEM(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "saharagen-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// cacert_file, cert and key take a path or the PEM contents (a remote run
// has variables, not files); an error never repeats a key.
func TestTLSConfig_PathOrContents(t *testing.T) {
	clearOSEnv(t)
	certPEM, keyPEM := testPEM(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certPath, []byte(certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"contents": {CACertFile: certPEM, ClientCertFile: certPEM, ClientKeyFile: keyPEM},
		"paths":    {CACertFile: certPath, ClientCertFile: certPath, ClientKeyFile: keyPath},
		"mixed":    {CACertFile: certPath, ClientCertFile: certPEM, ClientKeyFile: keyPath},
	} {
		tc, err := cfg.tlsConfig(&clientconfig.Cloud{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tc.RootCAs == nil || len(tc.Certificates) != 1 {
			t.Errorf("%s: roots %v, %d client certificates", name, tc.RootCAs != nil, len(tc.Certificates))
		}
	}
	_, otherKey := testPEM(t)
	_, err := Config{ClientCertFile: certPEM, ClientKeyFile: otherKey}.tlsConfig(&clientconfig.Cloud{})
	if err == nil || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("a key that does not match: %v", err)
	}
	if _, err := (Config{CACertFile: filepath.Join(dir, "missing.pem")}).tlsConfig(&clientconfig.Cloud{}); err == nil || !strings.Contains(err.Error(), "reading cacert_file") {
		t.Errorf("a missing CA file: %v", err)
	}
}
