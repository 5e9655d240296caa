package provider

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The engine's slog lines reach tflog at INFO with their fields: every status
// and the "N/M instances" progress of a create; secrets never appear.
func TestTFLogHandler_ForwardsEngineProgressAndMasksSecrets(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	cloud := newTestCloud(t)
	d, err := newProviderData(Settings{Parallelism: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Backend{Infra: cloud.infra, Remotes: cloud.remotes, Store: cloud.store}
	eng, err := d.Engine(ctx, b, map[string]any{"cluster_name": "logs"}, newRecorder(ctx, cloud.store).observe)
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.NewCluster(sahara.ClusterSpec{
		Name: "logs", PluginName: "fake", PluginVersion: "0.1", DefaultImageID: testImageID, NeutronManagementNetwork: testNetworkID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: testFlavorID, NodeProcesses: []string{"namenode", "resourcemanager"}, Count: 1},
			{Name: "worker", FlavorID: testFlavorID, NodeProcesses: []string{"datanode", "nodemanager"}, Count: 2},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	newTFLogger(ctx, nil).Info("connecting", "password", "hunter2", "key", c.ManagementPrivateKey)

	logs, err := tflogtest.MultilineJSONDecode(&out)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	statuses := map[string]bool{}
	for _, l := range logs {
		msg, _ := l["@message"].(string)
		if l["@level"] == "info" {
			msgs = append(msgs, msg)
		}
		if to, ok := l["to"].(string); ok {
			statuses[to] = true
		}
		if l["cluster_name"] != "logs" && msg != "connecting" {
			t.Errorf("line %q lacks the cluster_name field: %v", msg, l)
		}
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"Spawning 3/3 instances", "Accessible 3/3 instances"} {
		if !strings.Contains(all, want) {
			t.Errorf("INFO lines lack %q:\n%s", want, all)
		}
	}
	for _, s := range []sahara.ClusterStatus{sahara.StatusValidating, sahara.StatusSpawning, sahara.StatusWaiting,
		sahara.StatusPreparing, sahara.StatusConfiguring, sahara.StatusStarting, sahara.StatusActive} {
		if !statuses[string(s)] {
			t.Errorf("no INFO line for status %s (got %v)", s, statuses)
		}
	}
	raw := out.String()
	if strings.Contains(raw, "hunter2") || strings.Contains(raw, "PRIVATE KEY") {
		t.Errorf("a secret reached the log:\n%s", raw)
	}
	// The record was persisted at each status: the store holds the final one.
	var stored sahara.Cluster
	if err := cloud.store.Get(ctx, sahara.KindCluster, c.ID, &stored); err != nil || stored.Status != sahara.StatusActive {
		t.Errorf("stored record: status %q, err %v; want Active", stored.Status, err)
	}
}

// The cloud adapter's and SSH remote's logger outlives operations: its lines
// go to the log of the latest operation, masked.
func TestLogContext_LongLivedLoggerFollowsTheOperation(t *testing.T) {
	d, err := newProviderData(Settings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.settings.Logger.Info("before any operation") // no sink yet: dropped, no panic
	var first, second bytes.Buffer
	d.logCtx.set(tflogtest.RootLogger(context.Background(), &first))
	d.settings.Logger.Info("Waiting for servers to be deleted: 2 left", "cluster_id", "c1")
	d.logCtx.set(tflogtest.RootLogger(context.Background(), &second))
	d.settings.Logger.Info("Deleted the cluster's objects", "password", "hunter2")
	if !strings.Contains(first.String(), "Waiting for servers to be deleted: 2 left") || strings.Contains(first.String(), "Deleted") {
		t.Errorf("first operation's log: %s", first.String())
	}
	if !strings.Contains(second.String(), "Deleted the cluster's objects") || strings.Contains(second.String(), "hunter2") {
		t.Errorf("second operation's log (secret must be masked): %s", second.String())
	}
}

// The engine logs from many goroutines at once. tflog's masks rewrite the
// context's field map in place (terraform-plugin-log#246), which crashed the
// provider with "concurrent map iteration and map write" as soon as logging
// was on: lines are masked by the handler instead.
func TestTFLogHandler_ConcurrentLinesDoNotRace(t *testing.T) {
	var out bytes.Buffer // hclog serializes its writes
	ctx := tflogtest.RootLogger(context.Background(), &out)
	d, err := newProviderData(Settings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.logCtx.set(ctx)
	engine := newTFLogger(ctx, map[string]any{"cluster_id": "c1"}, "hunter2")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				engine.Info("Preparing", "instance", fmt.Sprintf("w-%d-%d", g, i), "password", "hunter2")
				d.settings.Logger.Info("Waiting for servers", "n", i)
				tflogInfo(ctx, "plan", map[string]any{"n": i})
			}
		})
	}
	wg.Wait()
	if s := out.String(); strings.Contains(s, "hunter2") || strings.Count(s, `"@message":"Preparing"`) != 2000 {
		t.Errorf("want 2000 masked Preparing lines; got %d, secret shown: %v",
			strings.Count(s, `"@message":"Preparing"`), strings.Contains(s, "hunter2"))
	}
}
