package dask

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// probeOK answers the prepare probe of every instance.
func probeOK(string, string, sahara.ExecOptions) (sahara.Result, error) {
	return ok([]byte(versionOut))
}

// writtenFiles returns, per instance, the files the plugin wrote and how.
func writtenFiles(rec *recorder) map[string]map[string]call {
	out := map[string]map[string]call{}
	for _, cl := range rec.snapshot() {
		if cl.Op != "write" {
			continue
		}
		for _, f := range cl.Files {
			if out[cl.Instance] == nil {
				out[cl.Instance] = map[string]call{}
			}
			one := cl
			one.Files = []sahara.File{f}
			out[cl.Instance][f.Path] = one
		}
	}
	return out
}

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("not PEM: %q", data)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Every instance gets a certificate of the cluster's CA that serves and
// connects; the users get one that only connects; the CA outlives a
// reconfigure; the private keys go only where they belong.
func TestTLS_CertificatesOfTheClusterCA(t *testing.T) {
	c := standardCluster()
	rec := &recorder{t: t, handler: probeOK}
	p := New(Options{})
	if err := p.ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	if c.Extra[extraTransport] != "tls" {
		t.Fatalf("transport %q, want tls by default", c.Extra[extraTransport])
	}
	for k, v := range c.Extra {
		if strings.Contains(v, "PRIVATE KEY") {
			t.Errorf("Extra[%s] holds a private key: Extra goes to the store", k)
		}
	}
	creds := c.UserCredentials()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(creds[CredentialCA])) {
		t.Fatalf("credential %s is not a certificate: %q", CredentialCA, creds[CredentialCA])
	}
	verify := func(cert *x509.Certificate, usage x509.ExtKeyUsage) error {
		_, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}

	files := writtenFiles(rec)
	for _, in := range c.Instances() {
		f := files[in.InstanceName]
		ca, cert, key := f[tlsDir+"/ca.pem"], f[tlsDir+"/node.pem"], f[tlsDir+"/node.key"]
		if len(ca.Files) == 0 || len(cert.Files) == 0 || len(key.Files) == 0 {
			t.Fatalf("%s: TLS files %v, want ca.pem, node.pem and node.key", in.InstanceName, f)
		}
		if string(ca.Files[0].Data) != creds[CredentialCA] {
			t.Errorf("%s: ca.pem is not the cluster's CA", in.InstanceName)
		}
		if key.FileOpts.Mode != 0o600 || key.FileOpts.Owner != in.Username() || !key.FileOpts.Sensitive {
			t.Errorf("%s: node.key written with %+v", in.InstanceName, key.FileOpts)
		}
		if _, err := tls.X509KeyPair(cert.Files[0].Data, key.Files[0].Data); err != nil {
			t.Errorf("%s: node.key does not match node.pem: %v", in.InstanceName, err)
		}
		nc := parseCert(t, cert.Files[0].Data)
		for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if err := verify(nc, u); err != nil {
				t.Errorf("%s: certificate for usage %v: %v", in.InstanceName, u, err)
			}
		}
		if err := nc.VerifyHostname(in.InternalIP); err != nil {
			t.Errorf("%s: %v", in.InstanceName, err)
		}
	}

	client := parseCert(t, []byte(creds[CredentialClientCert]))
	if err := verify(client, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if verify(client, x509.ExtKeyUsageServerAuth) == nil {
		t.Error("the users' client certificate can also serve: a user could pose as a worker's listener")
	}
	if _, err := tls.X509KeyPair([]byte(creds[CredentialClientCert]), []byte(creds[CredentialClientKey])); err != nil {
		t.Errorf("client key does not match its certificate: %v", err)
	}

	// A configure after an interruption keeps the CA and the users' credentials.
	if err := p.ConfigureCluster(context.Background(), c, &recorder{t: t, handler: probeOK}); err != nil {
		t.Fatal(err)
	}
	if got := c.UserCredentials(); got[CredentialCA] != creds[CredentialCA] || got[CredentialClientCert] != creds[CredentialClientCert] {
		t.Error("a second configure replaced the cluster's CA or the users' certificate")
	}
}

func TestTLS_PlainTCPOnlyWhenAsked(t *testing.T) {
	c := newCluster(cfg(CfgTLS, false),
		ngDef{name: "scheduler", procs: []string{ProcScheduler}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 1})
	rec := &recorder{t: t, handler: probeOK}
	if err := New(Options{}).ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	if c.Extra[extraTransport] != "tcp" || len(c.Secrets) != 0 {
		t.Errorf("transport %q, secrets %v: want tcp and no CA", c.Extra[extraTransport], c.Secrets)
	}
	for inst, fs := range writtenFiles(rec) {
		for path, cl := range fs {
			if strings.HasPrefix(path, tlsDir) {
				t.Errorf("%s: wrote %s on a TCP cluster", inst, path)
			}
			if strings.HasSuffix(path, ".conf") && !strings.Contains(string(cl.Files[0].Data), "DASK_PROTOCOL=tcp\n") {
				t.Errorf("%s: %s does not say tcp:\n%s", inst, path, cl.Files[0].Data)
			}
		}
	}
}

// A TLS cluster whose CA is not at hand (imported from another workspace)
// cannot get new workers: their certificates would not be the cluster's.
func TestTLS_ScaleWithoutTheCASaysWhereItIs(t *testing.T) {
	c := standardCluster()
	c.Extra = map[string]string{extraTransport: "tls"}
	ng := c.NodeGroup("workers")
	added := ng.NewInstance(ng.FreeIndexes(1)[0])
	ng.AddInstance(added)
	rec := &recorder{t: t, handler: probeOK}
	err := New(Options{}).ScaleCluster(context.Background(), c, rec, []*sahara.Instance{added})
	if err == nil || !strings.Contains(err.Error(), "Terraform state of the workspace that created the cluster") {
		t.Fatalf("ScaleCluster = %v, want the CA's whereabouts", err)
	}
	if len(rec.snapshot()) != 0 {
		t.Error("touched instances before finding the CA missing")
	}
}
