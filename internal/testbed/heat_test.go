package testbed_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/orchestration/v1/stacks"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// rawStack is a stack create or update body sent as is.
type rawStack map[string]any

func (b rawStack) ToStackCreateMap() (map[string]any, error) { return b, nil }
func (b rawStack) ToStackUpdateMap() (map[string]any, error) { return b, nil }

// TestHeatStack: the test user creates a stack (a ResourceGroup of servers
// in an anti-affinity server group, a security group), counted by
// Leftovers as its cluster's; an update adds a server (Heat acts as the
// trustee of the user's trust: a wrong [trustee] section fails here);
// delete; nothing left.
func TestHeatStack(t *testing.T) {
	env := requireSmoke(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, err := env.Clients(ctx, false)
	must(t, "clients", err)
	cid := "smoke" + randomID(t)
	name := "smoke-heat-" + cid[len(cid)-8:]
	tmpl := map[string]any{
		"heat_template_version": "2018-08-31",
		"parameters":            map[string]any{"count": map[string]any{"type": "number"}},
		"resources": map[string]any{
			"sg":  map[string]any{"type": "OS::Neutron::SecurityGroup", "properties": map[string]any{"name": name}},
			"grp": map[string]any{"type": "OS::Nova::ServerGroup", "properties": map[string]any{"name": name, "policies": []string{"anti-affinity"}}},
			"nodes": map[string]any{
				"type": "OS::Heat::ResourceGroup",
				"properties": map[string]any{
					"count": map[string]any{"get_param": "count"},
					"resource_def": map[string]any{
						"type": "OS::Nova::Server",
						"properties": map[string]any{
							"name": name + "-%index%", "image": env.Images["fake"], "flavor": env.FlavorID,
							"networks":        []any{map[string]any{"network": env.NetworkID}},
							"security_groups": []any{map[string]any{"get_resource": "sg"}},
							"scheduler_hints": map[string]any{"group": map[string]any{"get_resource": "grp"}},
						},
					},
				},
			},
		},
		"outputs": map[string]any{"ips": map[string]any{"value": map[string]any{"get_attr": []any{"nodes", "first_address"}}}},
	}
	tb, err := json.Marshal(tmpl)
	must(t, "template", err)
	body := func(count int) rawStack {
		return rawStack{"template": string(tb), "parameters": map[string]any{"count": count},
			"tags": testbed.ClusterTag + "=" + cid, "timeout_mins": 5}
	}
	wait := func(id, want string, since time.Time) *stacks.RetrievedStack {
		t.Helper()
		for {
			st, err := stacks.Get(ctx, c.Orchestration, name, id).Extract()
			must(t, "get stack", err)
			if !strings.HasSuffix(st.Status, "_IN_PROGRESS") && (since.IsZero() || !st.UpdatedTime.Equal(since)) {
				if st.Status != want {
					t.Fatalf("stack %s is %s, want %s: %s", name, st.Status, want, st.StatusReason)
				}
				return st
			}
			if ctx.Err() != nil {
				t.Fatalf("stack %s still %s", name, st.Status)
			}
			time.Sleep(time.Second)
		}
	}

	start := time.Now()
	create := body(1)
	create["stack_name"] = name
	created, err := stacks.Create(ctx, c.Orchestration, create).Extract()
	must(t, "create stack", err)
	t.Cleanup(func() { _ = stacks.Delete(context.Background(), c.Orchestration, name, created.ID).ExtractErr() })
	st := wait(created.ID, "CREATE_COMPLETE", time.Time{})
	t.Logf("stack %s created in %v", name, time.Since(start).Round(100*time.Millisecond))
	counts, err := env.Leftovers(ctx, cid)
	must(t, "leftovers", err)
	if counts["stacks"] != 1 {
		t.Errorf("Leftovers(%s) counts %d stacks, want 1 (%v)", cid, counts["stacks"], counts)
	}

	start = time.Now()
	must(t, "update stack", stacks.Update(ctx, c.Orchestration, name, created.ID, body(2)).ExtractErr())
	st = wait(created.ID, "UPDATE_COMPLETE", st.UpdatedTime)
	var ips []any
	for _, o := range st.Outputs {
		if o["output_key"] == "ips" {
			ips, _ = o["output_value"].([]any)
		}
	}
	if len(ips) != 2 {
		t.Errorf("after the update the stack's servers have addresses %v, want 2", ips)
	}
	t.Logf("stack updated to 2 servers in %v: %v", time.Since(start).Round(100*time.Millisecond), ips)

	start = time.Now()
	err = stacks.Delete(ctx, c.Orchestration, name, created.ID).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		t.Fatalf("delete stack: %v", err)
	}
	for {
		// a deleted stack is still shown by ID, DELETE_COMPLETE
		st, err := stacks.Get(ctx, c.Orchestration, name, created.ID).Extract()
		if gophercloud.ResponseCodeIs(err, 404) || (err == nil && st.Status == "DELETE_COMPLETE") {
			break
		}
		if err == nil && st.Status == "DELETE_FAILED" {
			t.Fatalf("stack %s: DELETE_FAILED: %s", name, st.StatusReason)
		}
		if ctx.Err() != nil {
			t.Fatalf("stack %s not gone: %v", name, err)
		}
		time.Sleep(time.Second)
	}
	t.Logf("stack deleted in %v", time.Since(start).Round(100*time.Millisecond))
	env.AssertNoLeftovers(t, cid)
}
