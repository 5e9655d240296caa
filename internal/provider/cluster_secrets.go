package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A cluster's secrets live in Terraform state, never in the shared store
// (sahara.SecretsApart): the management key is the sensitive attribute
// management_private_key, the plugins' secrets (vanilla's hadoop key pair)
// are private state. Before a record is read, the state's secrets go into
// the vault that the store fills records from; after an operation, the
// vault's plugin secrets go back to private state.

const privateSecretsKey = "plugin_secrets"

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// loadSecrets puts the secrets Terraform keeps for the cluster in st into
// the vault.
func (r *clusterResource) loadSecrets(ctx context.Context, st *clusterModel, private privateGetter, diags *diagsT) {
	if st == nil || st.ID.ValueString() == "" {
		return
	}
	s := sahara.ClusterSecrets{ManagementPrivateKey: st.ManagementPrivateKey.ValueString()}
	raw, d := private.GetKey(ctx, privateSecretsKey)
	diags.Append(d...)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &s.Plugin); err != nil {
			diags.AddError("Private State Error", "The plugin secrets of cluster "+st.ID.ValueString()+" in private state are not readable: "+err.Error())
		}
	}
	r.data.vault.Put(st.ID.ValueString(), s)
}

// saveSecrets keeps the cluster's plugin secrets in private state.
func (r *clusterResource) saveSecrets(ctx context.Context, clusterID string, private privateSetter, diags *diagsT) {
	s, ok := r.data.vault.Get(clusterID)
	if !ok || len(s.Plugin) == 0 {
		return
	}
	raw, err := json.Marshal(s.Plugin)
	if err != nil {
		diags.AddError("Private State Error", err.Error())
		return
	}
	diags.Append(private.SetKey(ctx, privateSecretsKey, raw)...)
}
