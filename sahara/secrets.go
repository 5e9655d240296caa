package sahara

import (
	"context"
	"encoding/json"
	"maps"
	"sync"
)

// A cluster record is shared through the Store (an object-store container
// that everyone with access to the project may read), but some of it grants
// access to the instances: the management private key and the plugins'
// Secrets. SecretsApart keeps those in a SecretVault instead, which the
// caller persists somewhere private (the provider: Terraform state).

// ClusterSecrets are the parts of a cluster record kept out of the Store.
type ClusterSecrets struct {
	ManagementPrivateKey string            `json:"management_private_key,omitempty"`
	Plugin               map[string]string `json:"plugin,omitempty"`
}

// IsZero reports whether there is no secret.
func (s ClusterSecrets) IsZero() bool { return s.ManagementPrivateKey == "" && len(s.Plugin) == 0 }

// SecretsOf returns the secrets of c.
func SecretsOf(c *Cluster) ClusterSecrets {
	return ClusterSecrets{ManagementPrivateKey: c.ManagementPrivateKey, Plugin: maps.Clone(c.Secrets)}
}

// SecretVault holds ClusterSecrets by cluster ID; safe for concurrent use.
type SecretVault struct {
	mu sync.Mutex
	m  map[string]ClusterSecrets
}

// Put keeps s for the cluster; a zero s changes nothing.
func (v *SecretVault) Put(clusterID string, s ClusterSecrets) {
	if s.IsZero() {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[string]ClusterSecrets{}
	}
	v.m[clusterID] = ClusterSecrets{ManagementPrivateKey: s.ManagementPrivateKey, Plugin: maps.Clone(s.Plugin)}
}

// Get returns the cluster's secrets, if the vault has them.
func (v *SecretVault) Get(clusterID string) (ClusterSecrets, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.m[clusterID]
	s.Plugin = maps.Clone(s.Plugin)
	return s, ok
}

// SecretsApart wraps a Store: cluster records are written without their
// secrets, which go to the vault, and read back with the vault's secrets
// filled in. A record written before this existed still holds its secrets:
// reading it moves them to the vault, and its next write drops them.
func SecretsApart(st Store, v *SecretVault) Store { return secretsApart{Store: st, vault: v} }

type secretsApart struct {
	Store
	vault *SecretVault
}

func (s secretsApart) Put(ctx context.Context, kind, id string, v any) error {
	c, ok := v.(*Cluster)
	if cv, isValue := v.(Cluster); isValue {
		c, ok = &cv, true
	}
	if kind != KindCluster || !ok {
		return s.Store.Put(ctx, kind, id, v)
	}
	s.vault.Put(id, SecretsOf(c))
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	delete(doc, "management_private_key")
	delete(doc, "secrets")
	if len(c.SecretConfigKeys) > 0 {
		cfg := c.ClusterConfigs.Clone()
		for _, k := range c.SecretConfigKeys {
			delete(cfg[k.Target], k.Name)
			if len(cfg[k.Target]) == 0 {
				delete(cfg, k.Target)
			}
		}
		if doc["cluster_configs"], err = json.Marshal(cfg); err != nil {
			return err
		}
	}
	return s.Store.Put(ctx, kind, id, doc)
}

func (s secretsApart) Get(ctx context.Context, kind, id string, v any) error {
	if err := s.Store.Get(ctx, kind, id, v); err != nil {
		return err
	}
	c, ok := v.(*Cluster)
	if kind != KindCluster || !ok {
		return nil
	}
	if sec, ok := s.vault.Get(id); ok {
		c.ManagementPrivateKey, c.Secrets = sec.ManagementPrivateKey, sec.Plugin
		return nil
	}
	s.vault.Put(id, SecretsOf(c)) // a record of before SecretsApart, if any
	return nil
}
