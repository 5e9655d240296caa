package sahara_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

func TestEngineCreate_EventsReachObserver(t *testing.T) {
	h := newHarness(t, 0)
	var mu sync.Mutex
	var events []sahara.Event
	c, _ := h.eng.NewCluster(demoSpec(3))
	h.onStatus = nil
	reg, _ := sahara.NewRegistry(h.plugin)
	eng, _ := sahara.New(sahara.Options{Infra: h.infra, Remotes: h.conn, Plugins: reg, Observer: func(ev sahara.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Step != nil {
			st := *ev.Step
			ev.Step = &st
		}
		events = append(events, ev)
	}})
	if err := eng.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	perStep := map[string]int{}
	stepType := map[string]string{}
	var statuses []string
	for _, ev := range events {
		switch ev.Kind {
		case sahara.EventStatus:
			statuses = append(statuses, string(ev.Status))
		case sahara.EventInstance:
			if !ev.Instance.Successful || ev.Instance.Time.IsZero() {
				t.Errorf("failed event %+v", ev.Instance)
			}
			perStep[ev.Step.Name]++
		case sahara.EventStep:
			stepType[ev.Step.Name] = ev.Step.Type
		}
	}
	if got := strings.Join(statuses, ","); got != "Validating,InfraUpdating,Spawning,Waiting,Preparing,Configuring,Starting,Active" {
		t.Errorf("statuses %s", got)
	}
	for step, n := range map[string]int{"Spawn instances": 4, "Wait for instance accessibility": 4, "Configure instances": 4, "Configure cluster": 1, "Start cluster": 1} {
		if perStep[step] != n {
			t.Errorf("step %q: %d instance events, want %d", step, perStep[step], n)
		}
	}
	for step, typ := range map[string]string{"Spawn instances": sahara.StepTypeEngineCreate, "Configure cluster": sahara.StepTypeConfigure, "Start cluster": sahara.StepTypeStart} {
		if stepType[step] != typ {
			t.Errorf("step %q type %q, want %q", step, stepType[step], typ)
		}
	}
	if len(c.Progress) != 5 {
		t.Errorf("progress has %d steps", len(c.Progress))
	}
}

func TestEngineRefresh_FeedsVictimRanking(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(4))
	h.infra.RemoveServer("demo-worker-0")
	h.infra.SetServerStatus("demo-worker-1", "ERROR")
	if err := h.eng.Refresh(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if h.infra.Calls("RefreshInstances") != 1 {
		t.Errorf("refresh made %d list calls", h.infra.Calls("RefreshInstances"))
	}
	w := c.NodeGroup("worker").Instances
	if w[0].CloudStatus != sahara.CloudStatusMissing || w[1].CloudStatus != "ERROR" || w[2].CloudStatus != "ACTIVE" {
		t.Fatalf("statuses %s %s %s", w[0].CloudStatus, w[1].CloudStatus, w[2].CloudStatus)
	}
	plan, err := h.eng.PlanScale(c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if v := plan.Victims["worker"]; len(v) != 2 || v[0].InstanceName != "demo-worker-1" || v[1].InstanceName != "demo-worker-0" {
		t.Fatalf("victims %v", instanceNamesOf(v))
	}
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(instanceNames(c), ","); got != "demo-master-0,demo-worker-2,demo-worker-3" {
		t.Fatalf("instances %s", got)
	}
}

func instanceNamesOf(ins []*sahara.Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.InstanceName)
	}
	return out
}

func TestEngineCheckHealth(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	res, err := h.eng.CheckHealth(context.Background(), c)
	if err != nil || len(res) != 3 || sahara.WorstHealth(res) != sahara.HealthGreen || res[0].Name != sahara.HealthServers {
		t.Fatalf("%+v %v", res, err)
	}
	h.conn.SetUnreachable("demo-worker-1", true)
	res, _ = h.eng.CheckHealth(context.Background(), c)
	if res[1].Status != sahara.HealthRed || res[1].Message != "Cluster health is RED. Reason: Unavailable instances: demo-worker-1" ||
		res[1].Instances["demo-worker-1"] == "" || len(res[1].Instances) != 1 || res[0].Status != sahara.HealthGreen {
		t.Fatalf("%+v", res)
	}
	h.conn.SetUnreachable("demo-worker-1", false)
	// A server deleted by hand: RED, named, and not asked over SSH.
	h.infra.RemoveServer("demo-worker-0")
	res, _ = h.eng.CheckHealth(context.Background(), c)
	if res[0].Status != sahara.HealthRed || !strings.Contains(res[0].Instances["demo-worker-0"], "no longer exists") ||
		res[1].Status != sahara.HealthGreen || sahara.WorstHealth(res) != sahara.HealthRed {
		t.Fatalf("%+v", res)
	}
}

// TestEngineDelete_AfterCrashMidCreate: a process persisted the record when
// spawning started and died; another process loads the record and deletes
// the cluster, and nothing of it is left in the cloud.
func TestEngineDelete_AfterCrashMidCreate(t *testing.T) {
	h := newHarness(t, 0)
	h.infra.BootLatency = time.Hour // the "dead" process never gets further
	store := fake.NewStore()
	reg, _ := sahara.NewRegistry(h.plugin)
	persisted := make(chan struct{})
	var once sync.Once
	eng, _ := sahara.New(sahara.Options{Infra: h.infra, Remotes: h.conn, Plugins: reg, Observer: func(ev sahara.Event) {
		if ev.Kind == sahara.EventStep && ev.Step.Name == "Spawn instances" && ev.Step.FinishedAt.IsZero() {
			if err := store.Put(context.Background(), sahara.KindCluster, ev.Cluster.ID, ev.Cluster); err != nil {
				t.Error(err)
			}
			once.Do(func() { close(persisted) })
		}
	}})
	c, _ := eng.NewCluster(demoSpec(3))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Create(ctx, c)
	}()
	<-persisted
	for len(h.infra.Servers(c.ID)) < 4 {
		time.Sleep(time.Millisecond)
	}

	var rec sahara.Cluster
	if err := store.Get(context.Background(), sahara.KindCluster, c.ID, &rec); err != nil {
		t.Fatal(err)
	}
	rec.Link()
	if rec.Status != sahara.StatusSpawning || len(rec.Instances()) != 4 {
		t.Fatalf("persisted record: %s with %d instances", rec.Status, len(rec.Instances()))
	}
	if err := h.eng.Delete(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	if left := h.infra.Leftovers(c.ID); len(left) != 0 {
		t.Fatalf("leftovers after delete: %v", left)
	}
	cancel()
	<-done
}

// LastOperation is the create, then the scale alone: every status it went
// through in order, and only its steps.
func TestCluster_LastOperation(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(2))
	changes, steps := c.LastOperation()
	var got []string
	for _, ch := range changes {
		got = append(got, string(ch.To))
	}
	if want := "Validating InfraUpdating Spawning Waiting Preparing Configuring Starting Active"; strings.Join(got, " ") != want {
		t.Errorf("create went through %v, want %s", got, want)
	}
	if len(steps) == 0 || len(steps) != len(c.Progress) {
		t.Errorf("create: %d steps of %d", len(steps), len(c.Progress))
	}
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 3}}); err != nil {
		t.Fatal(err)
	}
	changes, steps = c.LastOperation()
	if changes[0].From != sahara.StatusActive || changes[len(changes)-1].To != sahara.StatusActive {
		t.Errorf("scale: %+v", changes)
	}
	for _, st := range steps {
		if st.StartedAt.Before(changes[0].At) {
			t.Errorf("scale: step %s is the create's", st.Name)
		}
	}
	if len(steps) == 0 || len(steps) >= len(c.Progress) {
		t.Errorf("scale: %d steps of %d", len(steps), len(c.Progress))
	}
}
