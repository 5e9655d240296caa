package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// faultyStore behaves as an object store over HTTP does: a write on a
// cancelled context fails. failPuts makes the next writes of an Active
// cluster record fail with a 503.
type faultyStore struct {
	sahara.Store
	mu       sync.Mutex
	failPuts int
	failed   int
}

var errStore503 = errors.New("object store: PUT clusters/x: 503 Service Unavailable")

func (s *faultyStore) Put(ctx context.Context, kind, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A cluster record reaches the store as a *sahara.Cluster or, through
	// sahara.SecretsApart, as its JSON without secrets.
	var rec struct{ Status sahara.ClusterStatus }
	if raw, err := json.Marshal(v); kind == sahara.KindCluster && err == nil {
		_ = json.Unmarshal(raw, &rec)
	}
	s.mu.Lock()
	if rec.Status == sahara.StatusActive && s.failPuts > 0 {
		s.failPuts--
		s.failed++
		s.mu.Unlock()
		return errStore503
	}
	s.mu.Unlock()
	return s.Store.Put(ctx, kind, id, v)
}

func (s *faultyStore) Delete(ctx context.Context, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, kind, id)
}

// A Ctrl-C cancels the request's context; the record must still be written
// at each status and at the end.
func TestRecorder_WritesAfterTheRequestIsCancelled(t *testing.T) {
	st := &faultyStore{Store: sfake.NewStore()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecorder(ctx, st)
	c := &sahara.Cluster{ID: "c1", Status: sahara.StatusSpawning}
	rec.observe(sahara.Event{Kind: sahara.EventStatus, Cluster: c, Status: c.Status})
	var got sahara.Cluster
	if err := st.Get(context.Background(), sahara.KindCluster, "c1", &got); err != nil || got.Status != sahara.StatusSpawning {
		t.Fatalf("record after a status event on a cancelled request: %v, status %q", err, got.Status)
	}
	c.Status = sahara.StatusError
	if err := rec.flush(ctx, c); err != nil {
		t.Fatalf("final write on a cancelled request: %v", err)
	}
	if err := st.Get(context.Background(), sahara.KindCluster, "c1", &got); err != nil || got.Status != sahara.StatusError {
		t.Fatalf("record after the final write: %v, status %q", err, got.Status)
	}
}

// One failed write of the final record of a successful create is retried;
// the cluster is Active in state, not tainted, and the next plan is empty.
func TestCluster_FinalRecordWriteFaultDoesNotTaint(t *testing.T) {
	defer func(d time.Duration) { finalWriteBackoff = d }(finalWriteBackoff)
	finalWriteBackoff = time.Millisecond
	cloud := newTestCloud(t)
	st := &faultyStore{Store: cloud.store, failPuts: 1}
	cloud.wrapStore = func(sahara.Store) sahara.Store { return st }
	cfg := clusterConfig(1, 2, "", "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
	if st.failed != 1 {
		t.Errorf("the store refused %d writes of the Active record, want 1 (the fault was not reached)", st.failed)
	}
}

// leaveInterruptedCreate puts in the cloud what a create killed while
// Configuring leaves (SIGKILL: no rollback, no state): the record at that
// status and its servers, and returns the cluster's ID.
func leaveInterruptedCreate(t *testing.T, cloud *testCloud, name string, workers int) string {
	t.Helper()
	ctx := context.Background()
	reg, err := staticRegistry()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.NewCluster(sahara.ClusterSpec{Name: name, PluginName: "fake", PluginVersion: "0.1", DefaultImageID: testImageID,
		NeutronManagementNetwork: testNetworkID, NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: testFlavorID, Count: 1, NodeProcesses: []string{"namenode", "resourcemanager"}},
			{Name: "worker", FlavorID: testFlavorID, Count: workers, NodeProcesses: []string{"datanode", "nodemanager"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var ins []*sahara.Instance
	for _, ng := range c.NodeGroups {
		for _, i := range ng.FreeIndexes(ng.Count) {
			in := ng.NewInstance(i)
			ng.AddInstance(in)
			ins = append(ins, in)
		}
	}
	if err := cloud.infra.PrepareCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := cloud.infra.SpawnInstances(ctx, c, ins, nil); err != nil {
		t.Fatal(err)
	}
	c.Status = sahara.StatusConfiguring
	if err := cloud.store.Put(ctx, sahara.KindCluster, c.ID, c); err != nil {
		t.Fatal(err)
	}
	if len(cloud.infra.Leftovers(c.ID)) == 0 {
		t.Fatal("the interrupted create left nothing in the cloud")
	}
	return c.ID
}

// A create killed mid-way: the next apply with the same configuration
// converges: no import, no -replace, nothing of the old attempt left, one
// cluster of the name.
func TestCluster_ApplyAfterAnInterruptedCreateConverges(t *testing.T) {
	cloud := newTestCloud(t)
	oldID := leaveInterruptedCreate(t, cloud, "demo", 2)
	cfg := clusterConfig(1, 2, "", "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
				},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
	if left := cloud.infra.Leftovers(oldID); len(left) != 0 {
		t.Errorf("objects of the interrupted attempt left: %v", left)
	}
	if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
		t.Errorf("cluster records after destroy: %v", ids)
	}
	if ids := cloud.ids(t, sahara.KindLease); len(ids) != 0 {
		t.Errorf("leases left: %v", ids)
	}
}

// A cluster of the name that is not a leftover of a create stays untouched.
func TestCluster_ActiveClusterOfTheNameIsNeverRemoved(t *testing.T) {
	cloud := newTestCloud(t)
	id := leaveInterruptedCreate(t, cloud, "demo", 2)
	var c sahara.Cluster
	if err := cloud.store.Get(context.Background(), sahara.KindCluster, id, &c); err != nil {
		t.Fatal(err)
	}
	c.Status = sahara.StatusActive
	if err := cloud.store.Put(context.Background(), sahara.KindCluster, id, &c); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config:      clusterConfig(1, 2, "", ""),
			ExpectError: regexpMust(`(?s)Cluster with name 'demo' already exists \(id\s+` + id + `, status Active\)`),
		}},
	})
	if len(cloud.infra.Leftovers(id)) == 0 {
		t.Error("the Active cluster of the name was deleted")
	}
}

// A run that another run's lease keeps out is refused at once, with the
// holder named; nothing is created.
func TestCluster_ApplyRefusedWhileAnotherRunHoldsTheCluster(t *testing.T) {
	cloud := newTestCloud(t)
	other := sahara.Lease{Holder: "ci-runner-7 (pid 4242)", Operation: "scale", Since: time.Now().Add(-time.Minute),
		Expires: time.Now().Add(time.Hour), Token: "other"}
	if err := cloud.store.Put(context.Background(), sahara.KindLease, sahara.LeaseKey(sahara.KindCluster, "demo"), other); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config:      clusterConfig(1, 2, "", ""),
			ExpectError: regexpMust(`(?s)Cluster Busy.*cluster "demo" is being changed by another run: ci-runner-7 \(pid 4242\)\s+holds\s+it\s+\(scale\)`),
		}},
	})
	if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
		t.Errorf("records created while another run held the name: %v", ids)
	}
	if n := cloud.infra.Calls("SpawnInstances"); n != 0 {
		t.Errorf("servers spawned while another run held the name: %d calls", n)
	}
}

// leaveInterruptedScale turns the stored record of the only cluster into
// what a scale of the worker group by +2, killed in Adding Instances,
// leaves: the new count, one new instance recorded but never started, and
// one server booted under the next name that no record names.
func leaveInterruptedScale(t *testing.T, cloud *testCloud) {
	t.Helper()
	ctx := context.Background()
	ids := cloud.ids(t, sahara.KindCluster)
	if len(ids) != 1 {
		t.Fatalf("cluster records: %v", ids)
	}
	var c sahara.Cluster
	if err := cloud.store.Get(ctx, sahara.KindCluster, ids[0], &c); err != nil {
		t.Fatal(err)
	}
	c.Link()
	ng := c.NodeGroup("worker")
	ng.Count += 2
	free := ng.FreeIndexes(2)
	recorded, unnamed := ng.NewInstance(free[0]), ng.NewInstance(free[1])
	ng.AddInstance(recorded)
	if err := cloud.infra.SpawnInstances(ctx, &c, []*sahara.Instance{recorded, unnamed}, nil); err != nil {
		t.Fatal(err)
	}
	recorded.Phase = sahara.InstanceAccessible
	c.Status = sahara.StatusAddingInstances
	if err := cloud.store.Put(ctx, sahara.KindCluster, c.ID, &c); err != nil {
		t.Fatal(err)
	}
}

// A scale killed in Adding Instances: the next plan is not empty even when
// the configuration did not change, the state counts the running instances
// (not the record's target), and the apply rolls the scale back and then
// applies the configuration, with Sahara's names and nothing duplicated.
func TestCluster_ApplyAfterAnInterruptedScaleConverges(t *testing.T) {
	cloud := newTestCloud(t)
	servers := func() int {
		ids := cloud.ids(t, sahara.KindCluster)
		if len(ids) != 1 {
			t.Fatalf("cluster records: %v", ids)
		}
		return len(cloud.infra.Servers(ids[0]))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{
				PreConfig: func() { leaveInterruptedScale(t, cloud) },
				Config:    clusterConfig(1, 2, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
				},
			},
			{
				PreConfig: func() {
					if n := servers(); n != 3 {
						t.Errorf("servers after the rollback: %d, want 3", n)
					}
					leaveInterruptedScale(t, cloud)
				},
				Config: clusterConfig(1, 4, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"),
						instanceNames("demo-worker-0", "demo-worker-1", "demo-worker-2", "demo-worker-3")),
				},
			},
			{
				PreConfig: func() {
					if n := servers(); n != 5 {
						t.Errorf("servers after roll back and scale to 4: %d, want 5", n)
					}
				},
				Config:   clusterConfig(1, 4, "", ""),
				PlanOnly: true,
			},
		},
	})
}

// A broken server of a group the plugin cannot scale (the master) is
// named at plan and refused at apply with the plugin's reason, before
// anything changes: it needs a rebuild, never a silent one. The destroy
// after it is not blocked (Terraform plans with the configuration before
// a destroy too).
func TestCluster_RepairOfAGroupThePluginCannotScaleIsRefused(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := clusterConfig(1, 2, "", "")
	var id string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					id = cloud.ids(t, sahara.KindCluster)[0]
					cloud.infra.RemoveServer("demo-master-0")
				},
				Config: cfg,
				ExpectError: pathMsgRE("Chosen node group master cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode resourcemanager",
					`node_groups["master"].count`),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
				return fmt.Errorf("cluster records left: %v", ids)
			}
			if n := len(cloud.infra.Servers(id)); n != 0 {
				return fmt.Errorf("servers left: %d", n)
			}
			return nil
		},
	})
}

// A scale status the refresh sees while another run holds the cluster's
// lease is that run's work in progress: the plan is refused with the holder
// named, never planned as an interrupted scale to roll back.
func TestCluster_PlanWhileAnotherRunChangesItIsRefused(t *testing.T) {
	cloud := newTestCloud(t)
	key := sahara.LeaseKey(sahara.KindCluster, "demo")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{
				PreConfig: func() {
					leaveInterruptedScale(t, cloud)
					now := time.Now()
					l := sahara.Lease{Holder: "pipeline-7", Operation: "update", Since: now, Expires: now.Add(time.Hour), Token: "t"}
					if err := cloud.store.Put(context.Background(), sahara.KindLease, key, l); err != nil {
						t.Fatal(err)
					}
				},
				Config:      clusterConfig(1, 3, "", ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Cluster Busy(.|\n)*pipeline-7 holds it \(update\)`),
			},
			{
				// that run died: its lease is gone, so this apply rolls its scale back
				PreConfig: func() {
					if err := cloud.store.Delete(context.Background(), sahara.KindLease, key); err != nil {
						t.Fatal(err)
					}
				},
				Config: clusterConfig(1, 3, "", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"),
						instanceNames("demo-worker-0", "demo-worker-1", "demo-worker-2")),
				},
			},
		},
	})
}

// leaveFailedDestroy leaves what a destroy that failed half-way leaves: the
// record in Deleting, one server gone.
func leaveFailedDestroy(t *testing.T, cloud *testCloud) {
	t.Helper()
	ids := cloud.ids(t, sahara.KindCluster)
	if len(ids) != 1 {
		t.Fatalf("cluster records: %v", ids)
	}
	var c sahara.Cluster
	if err := cloud.store.Get(context.Background(), sahara.KindCluster, ids[0], &c); err != nil {
		t.Fatal(err)
	}
	c.Status = sahara.StatusDeleting
	if err := cloud.store.Put(context.Background(), sahara.KindCluster, c.ID, &c); err != nil {
		t.Fatal(err)
	}
	cloud.infra.RemoveServer("demo-worker-0")
}

// A cluster a failed destroy left Deleting is neither scaled nor repaired:
// the next destroy finishes it (its refresh plan must not refuse a repair),
// and an apply replaces it.
func TestCluster_PartlyDeletedClusterIsDestroyedOrReplaced(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := clusterConfig(1, 2, "", "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() { leaveFailedDestroy(t, cloud) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
				},
			},
			{
				PreConfig: func() { leaveFailedDestroy(t, cloud) },
				Config:    cfg,
				Destroy:   true,
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
				return fmt.Errorf("cluster records left: %v", ids)
			}
			return nil
		},
	})
}
