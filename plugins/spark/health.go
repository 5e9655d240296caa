package spark

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.HealthChecker = (*Plugin)(nil)

// HealthWorkers is the name of the Spark workers check.
const HealthWorkers = "Spark workers"

// CheckHealth implements sahara.HealthChecker: HDFS (as vanilla's) and
// every slave registered ALIVE with the Spark master (its web UI's JSON,
// read on the master).
func (p *Plugin) CheckHealth(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) []sahara.HealthResult {
	var out []sahara.HealthResult
	if nn := first(c, ProcNameNode); nn != nil {
		out = append(out, hadoop.HDFSHealth(ctx, r.Remote(nn), "hdfs", c.InstancesWithProcess(ProcDataNode)))
	}
	if sm := first(c, ProcMaster); sm != nil {
		out = append(out, p.workersHealth(ctx, c, r.Remote(sm), c.InstancesWithProcess(ProcSlave)))
	}
	return out
}

type masterState struct {
	Workers []struct {
		Host  string `json:"host"`
		State string `json:"state"`
	} `json:"workers"`
}

func (p *Plugin) workersHealth(ctx context.Context, c *sahara.Cluster, master sahara.Remote, slaves []*sahara.Instance) sahara.HealthResult {
	h := sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthGreen}
	port, err := portConfig(c, CfgMasterWebUIPort) // a number reaches the shell
	if err != nil {
		return sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthRed, Message: err.Error()}
	}
	res, err := master.ExecuteCommand(ctx, fmt.Sprintf("curl -sf --max-time 10 http://localhost:%d/json/", port), sahara.ExecOptions{Name: "spark master state"})
	var st masterState
	if err == nil {
		err = json.Unmarshal(res.Stdout, &st)
	}
	if err != nil {
		return sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthRed, Message: "The Spark master does not answer: " + err.Error()}
	}
	alive := map[string]bool{}
	for _, w := range st.Workers {
		if w.State == "ALIVE" {
			alive[strings.ToLower(w.Host)] = true
		}
	}
	var missing []string
	for _, in := range slaves {
		if !alive[in.InternalIP] && !alive[strings.ToLower(in.Hostname())] && !alive[strings.ToLower(in.FQDN())] {
			missing = append(missing, in.InstanceName)
			h.Note(in.InstanceName, "its Spark worker is not ALIVE in the master")
		}
	}
	sort.Strings(missing)
	switch {
	case len(missing) == 0:
		h.Message = fmt.Sprintf("All %d workers are alive", len(slaves))
	case len(missing) == len(slaves):
		h.Status, h.Message = sahara.HealthRed, fmt.Sprintf("No worker is alive (0/%d)", len(slaves))
	default:
		h.Status, h.Message = sahara.HealthYellow, fmt.Sprintf("%d/%d workers are alive; not: %s", len(slaves)-len(missing), len(slaves), strings.Join(missing, ", "))
	}
	return h
}
