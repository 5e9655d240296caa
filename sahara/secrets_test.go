package sahara_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

func TestSecretsApart_RecordsLeaveTheirSecretsInTheVault(t *testing.T) {
	ctx := context.Background()
	inner := fake.NewStore()
	vault := &sahara.SecretVault{}
	st := sahara.SecretsApart(inner, vault)
	c := &sahara.Cluster{ID: "c1", ManagementPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----x", ManagementPublicKey: "ssh-ed25519 AAAA",
		Secrets: map[string]string{"vanilla_keypair": `{"private":"-----BEGIN RSA PRIVATE KEY-----y"}`}, Extra: map[string]string{"k": "v"}}
	for _, v := range []any{c, *c} {
		if err := st.Put(ctx, sahara.KindCluster, "c1", v); err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := inner.Get(ctx, sahara.KindCluster, "c1", &raw); err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(raw); strings.Contains(string(b), "PRIVATE KEY") {
			t.Fatalf("the store holds a private key: %s", b)
		}
		if raw["management_public_key"] != "ssh-ed25519 AAAA" || raw["extra"] == nil {
			t.Errorf("the store lost what is not secret: %v", raw)
		}
	}
	if c.ManagementPrivateKey == "" || c.Secrets == nil {
		t.Fatal("Put changed the caller's cluster")
	}
	// Another run reads the record: the vault (filled from its state) gives the secrets back.
	got := &sahara.Cluster{}
	if err := st.Get(ctx, sahara.KindCluster, "c1", got); err != nil {
		t.Fatal(err)
	}
	if got.ManagementPrivateKey != c.ManagementPrivateKey || got.Secrets["vanilla_keypair"] != c.Secrets["vanilla_keypair"] {
		t.Errorf("Get = key %q secrets %v, want the vault's", got.ManagementPrivateKey, got.Secrets)
	}
	// Without the vault's secrets (an import elsewhere), the record says nothing secret.
	other := &sahara.Cluster{}
	if err := sahara.SecretsApart(inner, &sahara.SecretVault{}).Get(ctx, sahara.KindCluster, "c1", other); err != nil {
		t.Fatal(err)
	}
	if other.ManagementPrivateKey != "" || other.Secrets != nil {
		t.Errorf("a run without the secrets read them: %q %v", other.ManagementPrivateKey, other.Secrets)
	}
}

func TestSecretsApart_OldRecordsMoveTheirSecretsOut(t *testing.T) {
	ctx := context.Background()
	inner := fake.NewStore()
	old := &sahara.Cluster{ID: "c1", ManagementPrivateKey: "PRIVATE-old"}
	if err := inner.Put(ctx, sahara.KindCluster, "c1", old); err != nil { // written before SecretsApart
		t.Fatal(err)
	}
	vault := &sahara.SecretVault{}
	st := sahara.SecretsApart(inner, vault)
	var c sahara.Cluster
	if err := st.Get(ctx, sahara.KindCluster, "c1", &c); err != nil {
		t.Fatal(err)
	}
	if s, ok := vault.Get("c1"); !ok || s.ManagementPrivateKey != "PRIVATE-old" || c.ManagementPrivateKey != "PRIVATE-old" {
		t.Fatalf("vault %+v, cluster key %q: want the old record's key in both", s, c.ManagementPrivateKey)
	}
	if err := st.Put(ctx, sahara.KindCluster, "c1", &c); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := inner.Get(ctx, sahara.KindCluster, "c1", &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["management_private_key"]; ok {
		t.Errorf("the next write kept the key in the store: %v", raw)
	}
	// The vault's secrets win over an old record's.
	vault2 := &sahara.SecretVault{}
	vault2.Put("c2", sahara.ClusterSecrets{ManagementPrivateKey: "PRIVATE-new"})
	_ = inner.Put(ctx, sahara.KindCluster, "c2", &sahara.Cluster{ID: "c2", ManagementPrivateKey: "PRIVATE-stale"})
	var c2 sahara.Cluster
	if err := sahara.SecretsApart(inner, vault2).Get(ctx, sahara.KindCluster, "c2", &c2); err != nil || c2.ManagementPrivateKey != "PRIVATE-new" {
		t.Errorf("key %q, %v; want the vault's", c2.ManagementPrivateKey, err)
	}
}
