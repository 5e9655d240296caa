package hadoop

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Health check names shared by the Hadoop plugins.
const (
	HealthHDFS = "HDFS"
	HealthYARN = "YARN nodemanagers"
)

// DFSUsedWarn is the DFS use (percent) from which HDFS is YELLOW.
const DFSUsedWarn = 90.0

// ReportCmd is `hdfs dfsadmin -report` run as user.
func ReportCmd(user string) string { return `sudo su -lc "hdfs dfsadmin -report" ` + user }

// DFSReport is what a health check reads from `hdfs dfsadmin -report`.
type DFSReport struct {
	UnderReplicated, Corrupt, Missing int
	UsedPercent                       float64
	Live, Dead                        []DataNode
}

// ParseDFSHealth reads the summary and the live and dead datanodes of a
// Hadoop 2/3 `hdfs dfsadmin -report`.
func ParseDFSHealth(out string) DFSReport {
	var r DFSReport
	summary, rest, _ := strings.Cut(out, "-------------------------------------------------")
	for _, line := range strings.Split(summary, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "Under replicated blocks":
			r.UnderReplicated, _ = strconv.Atoi(v)
		case "Blocks with corrupt replicas":
			r.Corrupt, _ = strconv.Atoi(v)
		case "Missing blocks":
			r.Missing, _ = strconv.Atoi(v)
		case "DFS Used%":
			r.UsedPercent, _ = strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		}
	}
	// Sections: "Live datanodes (n):", "Dead datanodes (n):", each a list of
	// blank-line separated blocks.
	dead := false
	var section strings.Builder
	flush := func() {
		nodes := ParseDFSReport(section.String())
		if dead {
			r.Dead = append(r.Dead, nodes...)
		} else {
			r.Live = append(r.Live, nodes...)
		}
		section.Reset()
	}
	for _, line := range strings.Split(rest, "\n") {
		switch {
		case strings.HasPrefix(line, "Live datanodes"):
			flush()
			dead = false
		case strings.HasPrefix(line, "Dead datanodes"), strings.HasPrefix(line, "Decommissioning datanodes"):
			flush()
			dead = true
		default:
			section.WriteString(line + "\n")
		}
	}
	flush()
	return r
}

// HDFSHealth checks HDFS from the namenode: every datanode instance live,
// no missing or corrupt blocks (RED), no under-replicated blocks and DFS use
// under DFSUsedWarn (YELLOW).
func HDFSHealth(ctx context.Context, nn sahara.Remote, user string, datanodes []*sahara.Instance) sahara.HealthResult {
	res, err := nn.ExecuteCommand(ctx, ReportCmd(user), sahara.ExecOptions{Name: "hdfs dfsadmin -report"})
	if err != nil {
		return sahara.HealthResult{Name: HealthHDFS, Status: sahara.HealthRed, Message: "The namenode does not answer: " + err.Error()}
	}
	r := ParseDFSHealth(string(res.Stdout))
	live := map[string]bool{}
	for _, d := range r.Live {
		live[d.Address()] = true
	}
	h := sahara.HealthResult{Name: HealthHDFS, Status: sahara.HealthGreen}
	for _, in := range datanodes {
		if !live[in.InternalIP] {
			h.Note(in.InstanceName, "not a live datanode of the namenode")
		}
	}
	var problems []string
	worse := func(s sahara.HealthStatus, msg string) {
		problems = append(problems, msg)
		if s == sahara.HealthRed || h.Status == sahara.HealthGreen {
			h.Status = s
		}
	}
	switch n := len(h.Instances); {
	case n > 0 && n == len(datanodes):
		worse(sahara.HealthRed, fmt.Sprintf("no datanode is live (0/%d)", len(datanodes)))
	case n > 0:
		worse(sahara.HealthYellow, fmt.Sprintf("%d/%d datanodes are live", len(datanodes)-n, len(datanodes)))
	}
	if r.Missing > 0 || r.Corrupt > 0 {
		worse(sahara.HealthRed, fmt.Sprintf("%d missing and %d corrupt blocks", r.Missing, r.Corrupt))
	}
	if r.UnderReplicated > 0 {
		worse(sahara.HealthYellow, fmt.Sprintf("%d under-replicated blocks", r.UnderReplicated))
	}
	if r.UsedPercent >= DFSUsedWarn {
		worse(sahara.HealthYellow, fmt.Sprintf("DFS use is %.1f%%", r.UsedPercent))
	}
	if len(problems) == 0 {
		h.Message = fmt.Sprintf("All %d datanodes are live; no missing or under-replicated blocks; DFS use %.1f%%", len(datanodes), r.UsedPercent)
	} else {
		h.Message = strings.Join(problems, "; ")
	}
	return h
}

// YARNHealth checks that every nodemanager instance is RUNNING in the
// resourcemanager's `yarn node -list -all`, run as user.
func YARNHealth(ctx context.Context, rm sahara.Remote, user string, nodemanagers []*sahara.Instance) sahara.HealthResult {
	res, err := rm.ExecuteCommand(ctx, `sudo su -lc "yarn node -list -all" `+user, sahara.ExecOptions{Name: "yarn node -list"})
	if err != nil {
		return sahara.HealthResult{Name: HealthYARN, Status: sahara.HealthRed, Message: "The resourcemanager does not answer: " + err.Error()}
	}
	running := map[string]bool{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "RUNNING" {
			host, _, _ := strings.Cut(f[0], ":")
			running[strings.ToLower(host)] = true
		}
	}
	h := sahara.HealthResult{Name: HealthYARN, Status: sahara.HealthGreen, Message: fmt.Sprintf("All %d nodemanagers are running", len(nodemanagers))}
	for _, in := range nodemanagers {
		if !running[strings.ToLower(in.FQDN())] && !running[strings.ToLower(in.Hostname())] {
			h.Note(in.InstanceName, "its nodemanager is not RUNNING in the resourcemanager")
		}
	}
	if n := len(h.Instances); n > 0 {
		h.Status = sahara.HealthYellow
		if n == len(nodemanagers) {
			h.Status = sahara.HealthRed
		}
		h.Message = fmt.Sprintf("%d/%d nodemanagers are running; not: %s", len(nodemanagers)-n, len(nodemanagers), h.Noted())
	}
	return h
}
