package sahara_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

const s3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// A config the plugin marks secret passes only as a secret config, in
// every kind of object, and no error shows its value.
func TestValidate_SecretConfigsOnlyAsSecrets(t *testing.T) {
	secret := sahara.Configs{"Hadoop": {"fs.s3a.secret.key": s3Secret}}
	for kind, err := range checkAll(t, secret) {
		if err == nil || !strings.Contains(err.Error(), "Config 'fs.s3a.secret.key' of applicable target 'Hadoop' is a secret") {
			t.Errorf("%s: node_configs with a secret: %v, want it refused", kind, err)
		}
		if err != nil && strings.Contains(err.Error(), s3Secret) {
			t.Errorf("%s: the error shows the secret: %v", kind, err)
		}
	}
	_, eng := validationRegistry(t)
	spec := vanillaLayout(nil)
	spec.ClusterConfigs = secret.Clone()
	if err := eng.ValidateSpec(context.Background(), spec); err == nil {
		t.Error("a secret in cluster_configs passed")
	}
	spec = vanillaLayout(nil)
	spec.ApplySecretConfigs(secret)
	if err := eng.ValidateSpec(context.Background(), spec); err != nil {
		t.Errorf("a secret config given as a secret: %v", err)
	}
	// A bad value of a secret config: refused without showing it.
	spec = vanillaLayout(nil)
	spec.ApplySecretConfigs(sahara.Configs{"HDFS": {"dfs.replication": "two-" + s3Secret}})
	err := eng.ValidateSpec(context.Background(), spec)
	if err == nil || strings.Contains(err.Error(), s3Secret) || !strings.Contains(err.Error(), "not shown: it is a secret") {
		t.Errorf("bad secret value: %v", err)
	}
}

// The plugin sees the secret configs; the store never does, and a record
// read back has their names but no values.
func TestSecretsApart_SecretConfigsStayInMemory(t *testing.T) {
	ctx := context.Background()
	inner := fake.NewStore()
	st := sahara.SecretsApart(inner, &sahara.SecretVault{})
	c := &sahara.Cluster{ID: "c1"}
	c.ClusterConfigs = sahara.Configs{"HDFS": {"dfs.replication": "2"}}
	c.ApplySecretConfigs(sahara.Configs{"Hadoop": {"fs.s3a.secret.key": s3Secret}, "Hive": {"javax.jdo.option.ConnectionPassword": "pw-" + s3Secret}})
	c.Link()
	if v, _ := c.ClusterConfigs.Get("Hadoop", "fs.s3a.secret.key"); v != s3Secret {
		t.Fatalf("the plugin does not see the secret config: %v", c.ClusterConfigs)
	}
	if err := st.Put(ctx, sahara.KindCluster, c.ID, c); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := inner.Get(ctx, sahara.KindCluster, c.ID, &raw); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw)
	if strings.Contains(string(b), s3Secret) {
		t.Fatalf("the record holds a secret config value: %s", b)
	}
	if v, _ := c.ClusterConfigs.Get("Hadoop", "fs.s3a.secret.key"); v != s3Secret {
		t.Error("Put took the secret from the caller's cluster")
	}
	var got sahara.Cluster
	if err := st.Get(ctx, sahara.KindCluster, c.ID, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.ClusterConfigs.Get("Hadoop", "fs.s3a.secret.key"); ok {
		t.Error("a record read back has a secret config value")
	}
	if v, _ := got.ClusterConfigs.Get("HDFS", "dfs.replication"); v != "2" {
		t.Errorf("the record lost an ordinary config: %v", got.ClusterConfigs)
	}
	if len(got.SecretConfigKeys) != 2 {
		t.Errorf("the record names %d secret configs, want 2: %v", len(got.SecretConfigKeys), got.SecretConfigKeys)
	}
}
