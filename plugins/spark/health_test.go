package spark

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// masterJSON is a Spark 2.3 master's /json/ with one worker ALIVE and one DEAD.
const masterJSON = `{"url":"spark://c1-master-0:7077","workers":[` +
	`{"id":"worker-20261205100000-10.0.0.11-39345","host":"10.0.0.11","port":39345,"webuiaddress":"http://10.0.0.11:8081","cores":2,"coresused":0,"coresfree":2,"memory":2048,"memoryused":0,"memoryfree":2048,"state":"ALIVE","lastheartbeat":1796464800000},` +
	`{"id":"worker-20261205100000-10.0.0.12-40121","host":"10.0.0.12","port":40121,"webuiaddress":"http://10.0.0.12:8081","cores":2,"coresused":0,"coresfree":2,"memory":2048,"memoryused":0,"memoryfree":2048,"state":"DEAD","lastheartbeat":1796464000000}],` +
	`"cores":2,"coresused":0,"memory":2048,"memoryused":0,"activeapps":[],"completedapps":[],"activedrivers":[],"completeddrivers":[],"status":"ALIVE"}`

func TestWorkersHealth_FromTheMastersJSON(t *testing.T) {
	c := layout(nil)
	ng := c.NodeGroup("worker")
	ng.Count = 2
	for i := 0; i < 2; i++ {
		in := ng.NewInstance(i)
		in.InternalIP = fmt.Sprintf("10.0.0.%d", 11+i)
		ng.AddInstance(in)
	}
	c.Link()
	var cmds []string
	rec := conformance.NewLog(t, func(_, cmd string, _ int) sahara.Result {
		cmds = append(cmds, cmd)
		return sahara.Result{Stdout: []byte(masterJSON)}
	})
	h := New(Options{}).workersHealth(context.Background(), c, rec.Remote(&sahara.Instance{InstanceName: "c1-master-0"}), ng.Instances)
	if h.Status != sahara.HealthYellow || len(h.Instances) != 1 || h.Instances["c1-worker-1"] == "" ||
		!strings.Contains(h.Message, "1/2 workers are alive; not: c1-worker-1") {
		t.Errorf("%+v", h)
	}
	if len(cmds) != 1 || cmds[0] != "curl -sf --max-time 10 http://localhost:8080/json/" {
		t.Errorf("commands %q", cmds)
	}
}
