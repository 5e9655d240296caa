package testbed

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHostKeysFromConsole(t *testing.T) {
	console := `testbed-init: booting n1 (10.90.0.5)
-----BEGIN SSH HOST KEY FINGERPRINTS-----
256 SHA256:W8gZ+a6Rj7hPm8SCzhIw25M7tPnXfecC9XdBGbcjFOU root@n1 (ED25519)
-----END SSH HOST KEY FINGERPRINTS-----
-----BEGIN SSH HOST KEY KEYS-----
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/2rAG6Pvej4QsLoQQidB0qR92P8ctgWQUYdgEad5zd root@n1
-----END SSH HOST KEY KEYS-----
testbed-init: Cloud-init finished, starting sshd
`
	keys, err := HostKeysFromConsole(console)
	if err != nil || len(keys) != 1 || keys[0].Type() != "ssh-ed25519" {
		t.Fatalf("keys %v, err %v", keys, err)
	}
	if _, err := HostKeysFromConsole("booting\n"); err == nil {
		t.Error("no error without a key block")
	}
	if _, err := HostKeysFromConsole("-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAA"); err == nil {
		t.Error("no error for an unterminated block")
	}
}

func TestLoadAndDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnvVar, dir)
	if _, err := Load(); err == nil {
		t.Fatal("Load without env.json succeeded")
	}
	js := `{"auth_url":"http://127.0.0.1:5000/v3","username":"u","images":{"dask":"img"},"compute_hosts":5,"cloud":"saharagen-testbed"}`
	if err := os.WriteFile(filepath.Join(dir, "env.json"), []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if e.Dir != dir || e.Images["dask"] != "img" || e.ComputeHosts != 5 || e.CloudsYAML != filepath.Join(dir, "clouds.yaml") {
		t.Errorf("loaded %+v", e)
	}
	t.Setenv(EnvVar, "")
	if Enabled() {
		t.Error("Enabled with empty env var")
	}
}

func TestCounts(t *testing.T) {
	c := Counts{"servers": 2, "ports": 0, "objects": 1}
	if c.Total() != 3 || c.String() != "servers=2 objects=1" || (Counts{}).String() != "none" {
		t.Errorf("total %d string %q", c.Total(), c.String())
	}
}

func TestNoStore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnvVar, dir)
	js := `{"cloud":"saharagen-testbed","project_name":"saharagen","project_id":"p1","network_id":"n1","images":{"fake":"img"},` +
		`"nostore_cloud":"saharagen-testbed-nostore","nostore_project_name":"saharagen-nostore","nostore_project_id":"p2"}`
	if err := os.WriteFile(filepath.Join(dir, "env.json"), []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ns := e.NoStore()
	if ns == nil || ns == e {
		t.Fatalf("NoStore: %v", ns)
	}
	if ns.Cloud != "saharagen-testbed-nostore" || ns.ProjectName != "saharagen-nostore" || ns.ProjectID != "p2" ||
		ns.NetworkID != "n1" || ns.Images["fake"] != "img" || ns.Dir != dir || ns.CloudsYAML != e.CloudsYAML {
		t.Errorf("NoStore: %+v", ns)
	}
	if e.Cloud != "saharagen-testbed" || e.ProjectID != "p1" {
		t.Errorf("NoStore changed the main Env: %+v", e)
	}
	if again := ns.NoStore(); again == nil || again.ProjectID != "p2" || again.Cloud != ns.Cloud {
		t.Errorf("NoStore of NoStore: %+v", again)
	}
	if (&Env{Cloud: "c", ProjectID: "p1"}).NoStore() != nil {
		t.Error("NoStore without a nostore project in env.json is not nil")
	}
}
