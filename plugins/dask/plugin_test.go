package dask

import (
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestPlugin_Metadata(t *testing.T) {
	p := New(Options{})
	if p.Name() != "dask" || !reflect.DeepEqual(p.Versions(), []string{Version}) {
		t.Fatalf("name %q versions %v", p.Name(), p.Versions())
	}
	if got := sahara.RequiredImageTags(p, Version); !reflect.DeepEqual(got, []string{"dask", Version}) {
		t.Errorf("required image tags %v", got)
	}
	svcs, err := p.NodeProcesses(Version)
	if err != nil || len(svcs) != 1 || svcs[0].Name != Service ||
		!reflect.DeepEqual(svcs[0].Processes, []string{ProcScheduler, ProcWorker, ProcDashboard}) {
		t.Errorf("node processes %+v %v", svcs, err)
	}
	if _, err := p.NodeProcesses("2024.1.0"); err == nil {
		t.Error("NodeProcesses accepted an unknown version")
	}
	cfgs, err := p.Configs(Version)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		typ   sahara.ConfigType
		def   any
		scope string
	}{
		CfgSchedulerPort:  {sahara.ConfigInt, 8786, sahara.ScopeCluster},
		CfgDashboardPort:  {sahara.ConfigInt, 8787, sahara.ScopeCluster},
		CfgWorkerThreads:  {sahara.ConfigInt, 0, sahara.ScopeNode},
		CfgWorkerMemory:   {sahara.ConfigString, "auto", sahara.ScopeNode},
		CfgWorkerPorts:    {sahara.ConfigString, "9000:9004", sahara.ScopeCluster},
		CfgNannyPorts:     {sahara.ConfigString, "9005:9009", sahara.ScopeCluster},
		CfgStartupTimeout: {sahara.ConfigInt, 600, sahara.ScopeCluster},
		CfgRetireTimeout:  {sahara.ConfigInt, 600, sahara.ScopeCluster},
		CfgPythonPath:     {sahara.ConfigString, "/usr/bin/python3", sahara.ScopeCluster},
		CfgTLS:            {sahara.ConfigBool, true, sahara.ScopeCluster},
	}
	if len(cfgs) != len(want) {
		t.Errorf("%d configs, want %d", len(cfgs), len(want))
	}
	for _, c := range cfgs {
		w, ok := want[c.Name]
		if !ok || c.Type != w.typ || c.Default != w.def || c.Scope != w.scope || c.Target != Service || c.Description == "" {
			t.Errorf("config %+v, want %+v", c, w)
		}
		// every default passes the plugin's own checks
		if _, err := c.Parse(c.Default); err != nil {
			t.Errorf("default of %q: %v", c.Name, err)
		}
	}
}

// The version constant is the one Debian's python3-distributed carries, as
// the testbed images are tagged with it.
func TestVersion_MatchesInstalledPackage(t *testing.T) {
	out, err := exec.Command("/usr/bin/python3", "-c", "import distributed; print(distributed.__version__)").Output()
	if err != nil {
		if os.Getenv("SAHARAGEN_TESTBED") == "1" {
			t.Fatalf("python3-distributed must be installed on a testbed machine: %v", err)
		}
		t.Skipf("python3-distributed is not installed here (apt-get install python3-distributed): %v", err)
	}
	installed, _, _ := strings.Cut(strings.TrimSpace(string(out)), "+")
	if installed != Version {
		t.Fatalf("installed distributed %s, plugin Version %s", installed, Version)
	}
}

func TestOpenPorts_PerProcess(t *testing.T) {
	c := newCluster(cfg(CfgWorkerPorts, "9100:9101", CfgNannyPorts, "9200"),
		ngDef{name: "master", procs: []string{ProcScheduler, ProcDashboard}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 2})
	p := New(Options{})
	if got := p.OpenPorts(c, c.NodeGroup("master")); !reflect.DeepEqual(got, []int{8786, 8787}) {
		t.Errorf("scheduler ports %v", got)
	}
	if got := p.OpenPorts(c, c.NodeGroup("workers")); !reflect.DeepEqual(got, []int{9100, 9101, 9200}) {
		t.Errorf("worker ports %v", got)
	}
}
