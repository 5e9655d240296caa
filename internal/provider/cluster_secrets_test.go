package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// storeHoldsNoSecret reads every object of every kind of the store and fails
// on a private key or the cluster's management key in any of them.
func storeHoldsNoSecret(t *testing.T, st sahara.Store, key string) error {
	ctx := context.Background()
	for _, kind := range []string{sahara.KindNodeGroupTemplate, sahara.KindClusterTemplate, sahara.KindCluster, sahara.KindLease} {
		ids, err := st.List(ctx, kind)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var raw json.RawMessage
			if err := st.Get(ctx, kind, id, &raw); err != nil {
				return err
			}
			if s := string(raw); strings.Contains(s, "PRIVATE KEY") || (key != "" && strings.Contains(s, key)) {
				return fmt.Errorf("%s/%s holds a secret in the clear: %.200s", kind, id, s)
			}
		}
	}
	return nil
}

// TestCluster_SecretsStayInState: the record in the store has no management
// key; the state has it, and later runs (each a new provider process with
// an empty vault) take it from the state for their reads and scaling.
func TestCluster_SecretsStayInState(t *testing.T) {
	cloud := newTestCloud(t)
	var key string
	keyFromState := func(s *terraform.State) error {
		key = s.RootModule().Resources[clusterAddr].Primary.Attributes["management_private_key"]
		if !strings.Contains(key, "PRIVATE KEY") {
			return fmt.Errorf("management_private_key in state = %.40q, want a PEM key", key)
		}
		return storeHoldsNoSecret(t, cloud.store, key)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 1, "", ""), Check: keyFromState},
			{Config: clusterConfig(1, 2, "", ""), Check: func(s *terraform.State) error {
				if got := s.RootModule().Resources[clusterAddr].Primary.Attributes["management_private_key"]; got != key {
					return fmt.Errorf("the key changed or was lost across runs: %.40q", got)
				}
				return storeHoldsNoSecret(t, cloud.store, key)
			}, ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
			}},
			{Config: clusterConfig(1, 2, "", ""), PlanOnly: true},
		},
	})
}

// TestCluster_ImportWithoutTheKeySaysHowToMoveIt: an import into another
// workspace brings the record, not the key; reading works, changing the
// instances is refused with the way to bring the key along.
func TestCluster_ImportWithoutTheKeySaysHowToMoveIt(t *testing.T) {
	cloud := newTestCloud(t)
	otherWorkspace := func(s *terraform.State) error {
		id := s.RootModule().Resources[clusterAddr].Primary.ID
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: cloud.factories(),
			Steps: []resource.TestStep{
				{
					Config: clusterConfig(1, 1, "", ""), ResourceName: clusterAddr, ImportState: true, ImportStatePersist: true,
					ImportStateIdFunc: func(*terraform.State) (string, error) { return id, nil },
					ImportStateCheck: func(states []*terraform.InstanceState) error {
						if k := states[0].Attributes["management_private_key"]; k != "" {
							return fmt.Errorf("an import read the key from the store: %.40q", k)
						}
						return nil
					},
				},
				{Config: clusterConfig(1, 2, "", ""), ExpectError: msgRE("", "Import brings the record, not the key")},
				{Config: clusterConfig(1, 1, "", ""), PlanOnly: true},
			},
		})
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		// The other workspace's run ends by destroying the cluster, so this
		// one's refresh then plans it anew.
		Steps: []resource.TestStep{{Config: clusterConfig(1, 1, "", ""), Check: otherWorkspace, ExpectNonEmptyPlan: true}},
	})
}
