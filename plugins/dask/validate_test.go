package dask

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func cfg(kv ...any) sahara.Configs {
	cs := sahara.Configs{}
	for i := 0; i < len(kv); i += 2 {
		cs.Set(Service, kv[i].(string), kv[i+1])
	}
	return cs
}

func TestValidate_Layouts(t *testing.T) {
	sched := []string{ProcScheduler}
	work := []string{ProcWorker}
	cases := []struct {
		name      string
		groups    []ngDef
		cluster   sahara.Configs
		exception string
		message   string // exact, or a substring when contains is set
		contains  bool
	}{
		{name: "one scheduler three workers", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 3, nil}}},
		{name: "scheduler with dashboard and a worker", groups: []ngDef{{"s", []string{ProcScheduler, ProcDashboard}, 1, nil}, {"w", work, 1, nil}}},
		{name: "all in one", groups: []ngDef{{"aio", []string{ProcScheduler, ProcWorker}, 1, nil}}},
		{name: "no scheduler", groups: []ngDef{{"w", work, 2, nil}},
			exception: "InvalidComponentCountException", message: "Hadoop cluster should contain 1 scheduler component(s). Actual scheduler count is 0"},
		{name: "two schedulers", groups: []ngDef{{"s", sched, 2, nil}, {"w", work, 2, nil}},
			exception: "InvalidComponentCountException", message: "Hadoop cluster should contain 1 scheduler component(s). Actual scheduler count is 2"},
		{name: "no worker", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 0, nil}},
			exception: "InvalidComponentCountException", message: "Hadoop cluster should contain 1 or more worker component(s). Actual worker count is 0"},
		{name: "two dashboards", groups: []ngDef{{"s", []string{ProcScheduler, ProcDashboard}, 1, nil}, {"d", []string{ProcDashboard, ProcWorker}, 1, nil}},
			exception: "InvalidComponentCountException", message: "Hadoop cluster should contain 0 or 1 dashboard component(s). Actual dashboard count is 2"},
		{name: "dashboard without scheduler", groups: []ngDef{{"s", sched, 1, nil}, {"w", []string{ProcWorker, ProcDashboard}, 1, nil}},
			exception: "InvalidDataException", message: `Node group "w" runs the Dask dashboard without the scheduler`, contains: true},
		{name: "scheduler port out of range", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgSchedulerPort, 70000),
			exception: "InvalidDataException", message: `Dask config "Scheduler port" must be an integer from 1 to 65535, got 70000`},
		{name: "scheduler port not an integer", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgSchedulerPort, "http"),
			exception: "InvalidDataException", message: `Dask config "Scheduler port": config "Scheduler port": "http" is not an integer`},
		{name: "dashboard port equals scheduler port", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgDashboardPort, "8786"),
			exception: "InvalidDataException", message: `Dask config "Dashboard port" must differ from "Scheduler port" (both are 8786)`},
		{name: "worker range holds the scheduler port", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgWorkerPorts, "8780:8790"),
			exception: "InvalidDataException", message: `Dask config "Worker port range" 8780:8790 must not contain the scheduler port 8786`},
		{name: "reversed range", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgNannyPorts, "9010:9005"),
			exception: "InvalidDataException", message: `Dask config "Nanny port range" must be a port ("9000") or a range "first:last" of at most 100 ports within 1-65535, got "9010:9005"`},
		{name: "overlapping ranges", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgNannyPorts, "9004:9008"),
			exception: "InvalidDataException", message: `Dask config "Nanny port range" 9004:9008 must not overlap "Worker port range" 9000:9004`},
		{name: "relative python", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgPythonPath, "python3"),
			exception: "InvalidDataException", message: `Dask config "Python interpreter" must be a clean absolute path such as /usr/bin/python3, got "python3"`},
		{name: "zero retire timeout", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, nil}}, cluster: cfg(CfgRetireTimeout, 0),
			exception: "InvalidDataException", message: `Dask config "Workers retirement timeout" must be an integer from 1 to 86400, got 0`},
		{name: "bad memory limit on a node group", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, cfg(CfgWorkerMemory, "lots; reboot")}},
			exception: "InvalidDataException", message: `Node group "w": Dask config "Worker memory limit" must be "auto", a size such as "4GiB" or "512MB", a byte count or a fraction such as "0.5", got "lots; reboot"`},
		{name: "negative threads", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, cfg(CfgWorkerThreads, -1)}},
			exception: "InvalidDataException", message: `Node group "w": Dask config "Worker threads" must be an integer from 0 to 4096, got -1`},
		{name: "memory limit with a unit", groups: []ngDef{{"s", sched, 1, nil}, {"w", work, 1, cfg(CfgWorkerMemory, "1.5GiB", CfgWorkerThreads, "2")}}},
	}
	p := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Validate(context.Background(), newCluster(tc.cluster, tc.groups...))
			if tc.exception == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var se *sahara.SaharaError
			if !errors.As(err, &se) {
				t.Fatalf("Validate = %v, want a %s", err, tc.exception)
			}
			if se.Exception != tc.exception || !errors.Is(err, sahara.ErrValidation) {
				t.Errorf("exception %s (validation %v), want %s", se.Exception, se.Validation, tc.exception)
			}
			if tc.contains && !strings.Contains(se.Message, tc.message) || !tc.contains && se.Message != tc.message {
				t.Errorf("message\n got %q\nwant %q", se.Message, tc.message)
			}
		})
	}
}

func TestValidateScaling_Rules(t *testing.T) {
	base := func() *sahara.Cluster {
		return newCluster(nil,
			ngDef{name: "master", procs: []string{ProcScheduler, ProcDashboard}, count: 1},
			ngDef{name: "workers", procs: []string{ProcWorker}, count: 3},
			ngDef{name: "more", procs: []string{ProcWorker}, count: 1})
	}
	cases := []struct {
		name                 string
		existing, additional map[string]int
		addGroup             *ngDef
		exception, message   string
	}{
		{name: "grow workers", existing: map[string]int{"workers": 5}},
		{name: "shrink workers to one", existing: map[string]int{"workers": 0, "more": 1}},
		{name: "add a worker group", additional: map[string]int{"extra": 2}, addGroup: &ngDef{name: "extra", procs: []string{ProcWorker}, count: 2}},
		{name: "resize the scheduler", existing: map[string]int{"master": 2},
			exception: "NodeGroupCannotBeScaled", message: "Chosen node group master cannot be scaled : Dask plugin cannot scale nodegroup with processes: scheduler dashboard"},
		{name: "add a scheduler group", additional: map[string]int{"s2": 1}, addGroup: &ngDef{name: "s2", procs: []string{ProcScheduler}, count: 1},
			exception: "NodeGroupCannotBeScaled", message: "Chosen node group s2 cannot be scaled : Dask plugin cannot scale nodegroup with processes: scheduler"},
		{name: "no worker left", existing: map[string]int{"workers": 0, "more": 0},
			exception: "ClusterCannotBeScaled", message: "Cluster demo cannot be scaled : Dask plugin cannot shrink cluster because it would have no worker left to hold the data of the retiring workers"},
		{name: "added group with a bad config", additional: map[string]int{"extra": 1}, addGroup: &ngDef{name: "extra", procs: []string{ProcWorker}, count: 1, cfg: cfg(CfgWorkerThreads, "many")},
			exception: "InvalidDataException", message: `Node group "extra": Dask config "Worker threads": config "Worker threads": "many" is not an integer`},
	}
	p := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			if tc.addGroup != nil {
				c.AddNodeGroup(sahara.NodeGroupSpec{Name: tc.addGroup.name, NodeProcesses: tc.addGroup.procs, Count: tc.addGroup.count, NodeConfigs: tc.addGroup.cfg})
			}
			err := p.ValidateScaling(context.Background(), c, tc.existing, tc.additional)
			if tc.exception == "" {
				if err != nil {
					t.Fatalf("ValidateScaling: %v", err)
				}
				return
			}
			var se *sahara.SaharaError
			if !errors.As(err, &se) || se.Exception != tc.exception || se.Message != tc.message {
				t.Fatalf("ValidateScaling = %#v\nwant %s %q", err, tc.exception, tc.message)
			}
		})
	}
}
