package dask

import (
	"context"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// BenchmarkConfigureAndStart counts the remote operations (SSH sessions on
// real instances) that configure + start cost per instance on a 1 + 49
// cluster, the scheduler answering at once.
func BenchmarkConfigureAndStart(b *testing.B) {
	c := newCluster(nil,
		ngDef{name: "scheduler", procs: []string{ProcScheduler}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 49})
	all := names(c.InstancesWithProcess(ProcWorker))
	p := New(Options{PollInterval: time.Millisecond})
	var ops, polls int
	for i := 0; i < b.N; i++ {
		rec := &recorder{handler: func(_ string, _ string, opts sahara.ExecOptions) (sahara.Result, error) {
			switch opts.Name {
			case "dask prepare":
				return ok([]byte(versionOut))
			case "dask_ctl workers":
				return ok(workersJSON(all...))
			}
			return ok(nil)
		}}
		if err := p.ConfigureCluster(context.Background(), c, rec); err != nil {
			b.Fatal(err)
		}
		if err := p.StartCluster(context.Background(), c, rec); err != nil {
			b.Fatal(err)
		}
		calls := rec.snapshot()
		ops += len(calls)
		for _, cl := range calls {
			if cl.Opts.Name == "dask_ctl workers" {
				polls++
			}
		}
	}
	n := float64(b.N * len(c.Instances()))
	b.ReportMetric(float64(ops)/n, "remote-ops/instance")
	b.ReportMetric(float64(polls)/float64(b.N), "scheduler-polls/op")
}
