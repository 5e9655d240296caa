package sahara_test

import (
	"context"
	"strings"
	"testing"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// A scale whose new instance fails its configure step: before the rollback
// deletes the instance, the engine keeps the failed command's output and
// the tail of the plugin's log, secrets masked; the next operation clears it.
func TestDiagnostics_CollectedBeforeTheRollback(t *testing.T) {
	h := newHarness(t, 0)
	c := h.create(demoSpec(1))
	key := c.ManagementPrivateKey
	h.conn.Exec = func(_ *fake.Host, cmd string, opts sahara.ExecOptions) (sahara.Result, bool, error) {
		switch {
		case opts.Name == "fake configure":
			return sahara.Result{ExitCode: 3, Stderr: []byte("pretend disk check: 0 of 1 disks usable\n")}, true, nil
		case strings.Contains(cmd, "tail") && strings.Contains(cmd, pfake.LogFile):
			return sahara.Result{Stdout: []byte("disk check failed\nleaked " + key + " here\n")}, true, nil
		}
		return sahara.Result{}, false, nil
	}
	bad := sahara.NodeGroupSpec{Name: "bad", FlavorID: "m1", Count: 1, NodeProcesses: []string{"datanode"},
		NodeConfigs: sahara.Configs{sahara.TargetGeneral: {pfake.ConfFailConfigure: true}}}
	err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Add: []sahara.NodeGroupSpec{bad}})
	if err == nil {
		t.Fatal("the scale passed")
	}
	if got := h.infra.Servers(c.ID); len(got) != 2 {
		t.Fatalf("%d servers after the rollback, want the 2 of before", len(got))
	}
	d := c.Diagnostics
	if d == nil || len(d.Instances) != 1 {
		t.Fatalf("diagnostics %+v", d)
	}
	in := d.Instances[0]
	if in.Instance != "demo-bad-0" || in.Command != "fake configure" || in.ExitCode != 3 || !strings.Contains(in.Output, "0 of 1 disks usable") {
		t.Errorf("instance diagnostics %+v", in)
	}
	log := in.Logs[pfake.LogFile]
	if !strings.Contains(log, "disk check failed") || strings.Contains(log, "PRIVATE KEY") || !strings.Contains(log, "leaked ****") {
		t.Errorf("log tail %q: want it, with the key masked", log)
	}
	if s := d.Summary(100); !strings.Contains(s, "demo-bad-0") || !strings.Contains(s, pfake.LogFile) {
		t.Errorf("summary %s", s)
	}
	h.conn.Exec = nil
	if err := h.eng.Scale(context.Background(), c, sahara.ScaleRequest{Resize: map[string]int{"worker": 2}}); err != nil {
		t.Fatal(err)
	}
	if c.Diagnostics != nil {
		t.Error("a successful operation kept the last failure's diagnostics")
	}
}
