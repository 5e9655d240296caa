package hadoop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// DataNodeCountCmd prints the number of live datanodes, the report run as
// user. Sahara's command escapes its grep quotes (\'), which the shell
// passes to grep as file names, so its count is never found; this is the
// working form.
func DataNodeCountCmd(user string) string {
	return `sudo su -lc "hdfs dfsadmin -report" ` + user + ` | grep 'Live datanodes\|Datanodes available:' | grep -o '[0-9]\+' | head -n 1`
}

// AwaitDataNodes waits until nn reports want live datanodes (countCmd,
// from DataNodeCountCmd), polling every second within timeout seconds, the
// value of the cluster option named option; op names the wait in the
// timeout error, as Sahara's plugin_option_poll does.
func (r Runtime) AwaitDataNodes(ctx context.Context, c *sahara.Cluster, nn sahara.Remote, countCmd string, want, timeout int, option, op string) error {
	if want < 1 {
		return nil
	}
	r.Logger(ctx).Info(op, "cluster", c.Name)
	return r.Poll(ctx, timeout, option, op, time.Second, func() (bool, error) {
		res, err := nn.ExecuteCommand(ctx, countCmd, sahara.ExecOptions{Name: "hdfs dfsadmin -report"})
		if err != nil {
			return false, err
		}
		got, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
		if err != nil {
			r.Logger(ctx).Info(fmt.Sprintf("Live datanodes: none reported yet, want %d", want), "cluster", c.Name)
			return false, nil
		}
		r.Logger(ctx).Info(fmt.Sprintf("Live datanodes: %d/%d", got, want), "cluster", c.Name)
		return got == want, nil
	})
}

// DataNode is one datanode of a `dfsadmin -report`.
type DataNode struct {
	// Name is "<ip>:<port> (<host>)".
	Name, Hostname string
	// Status is the "Decommission Status" as reported ("Normal",
	// "Decommission in progress", "Decommissioned").
	Status string
}

// ParseDFSReport reads the datanodes of `hdfs dfsadmin -report` (Hadoop 1's
// "Datanodes available:" layout and Hadoop 2+'s "Live datanodes (n):"
// alike): every blank-line separated block with a "Name" line.
func ParseDFSReport(out string) []DataNode {
	var res []DataNode
	var cur map[string]string
	flush := func() {
		if cur["Name"] != "" {
			res = append(res, DataNode{Name: cur["Name"], Hostname: cur["Hostname"], Status: cur["Decommission Status"]})
		}
		cur = map[string]string{}
	}
	flush()
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	flush()
	return res
}

// Address is the IP address of a datanode's Name ("10.0.0.1:50010 (h)" is
// "10.0.0.1").
func (d DataNode) Address() string {
	a, _, _ := strings.Cut(d.Name, " ")
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		a = a[:i]
	}
	return a
}
