package dask

import (
	"bytes"
	"fmt"
	"net"
	"strconv"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Where the plugin puts things on an instance (under Options.Root).
const (
	scriptPath = "/opt/saharagen/dask/dask-service"
	confDir    = "/etc/dask"
	logDir     = "/var/log/dask"
	runDir     = "/var/lib/dask"
	// localSubdir is the worker's spill directory under the first storage path.
	localSubdir = "dask"
	// stopTimeout is how long dask-service stop waits before SIGKILL.
	stopTimeout = 30
)

func (p *Plugin) script() string             { return p.root + scriptPath }
func (p *Plugin) conf(role string) string    { return p.root + confDir + "/" + role + ".conf" }
func (p *Plugin) logFile(role string) string { return p.root + logDir + "/" + role + ".log" }
func (p *Plugin) pidFile(role string) string { return p.root + runDir + "/" + role + ".pid" }
func (p *Plugin) localDir(in *sahara.Instance) string {
	return p.root + in.StoragePaths()[0] + "/" + localSubdir
}

// LogPath is where a process of role ("scheduler", "worker") logs on an instance.
func LogPath(role string) string { return logDir + "/" + role + ".log" }

// roles lists the dask-service roles an instance runs (the dashboard is part
// of the scheduler process).
func roles(in *sahara.Instance) []string {
	ng := in.NodeGroup()
	var out []string
	if ng.HasProcess(ProcScheduler) {
		out = append(out, ProcScheduler)
	}
	if ng.HasProcess(ProcWorker) {
		out = append(out, ProcWorker)
	}
	return out
}

func schedulerAddress(sched *sahara.Instance, cs clusterSettings) string {
	return cs.protocol() + "://" + net.JoinHostPort(sched.InternalIP, strconv.Itoa(cs.schedulerPort))
}

func (cs clusterSettings) protocol() string {
	if cs.tls {
		return "tls"
	}
	return "tcp"
}

// tlsSettings are the TLS lines of a process's config (empty files: TCP).
func (p *Plugin) tlsSettings(cs clusterSettings) [][2]string {
	out := [][2]string{{"DASK_PROTOCOL", cs.protocol()}, {"DASK_TLS_CA", ""}, {"DASK_TLS_CERT", ""}, {"DASK_TLS_KEY", ""}}
	if cs.tls {
		out = out[:1]
		out = append(out, [2]string{"DASK_TLS_CA", p.tlsCA()}, [2]string{"DASK_TLS_CERT", p.tlsCert()}, [2]string{"DASK_TLS_KEY", p.tlsKey()})
	}
	return out
}

// renderConf writes one KEY=value line per setting, every value quoted with
// sahara.Quote, so dask-service can source the file whatever the values hold.
func renderConf(in *sahara.Instance, settings [][2]string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Rendered by saharagen's dask plugin for this instance; read by %s.\n", scriptPath)
	b.WriteString("# Changes are overwritten when the cluster is configured again.\n")
	for _, kv := range settings {
		q, err := sahara.Quote(kv[1])
		if err != nil {
			return nil, fmt.Errorf("%s: rendering %s: %w", in.InstanceName, kv[0], err)
		}
		b.WriteString(kv[0] + "=" + q + "\n")
	}
	return b.Bytes(), nil
}

func (p *Plugin) schedulerConf(in *sahara.Instance, cs clusterSettings) ([]byte, error) {
	dash := "false"
	if in.NodeGroup().HasProcess(ProcDashboard) {
		dash = "true"
	}
	return renderConf(in, append([][2]string{
		{"DASK_ROLE", ProcScheduler},
		{"DASK_PYTHON", cs.python},
		{"DASK_HOST", in.InternalIP},
		{"DASK_PORT", strconv.Itoa(cs.schedulerPort)},
		{"DASK_DASHBOARD", dash},
		{"DASK_DASHBOARD_PORT", strconv.Itoa(cs.dashboardPort)},
		{"DASK_LOG", p.logFile(ProcScheduler)},
		{"DASK_PIDFILE", p.pidFile(ProcScheduler)},
		{"DASK_STOP_TIMEOUT", strconv.Itoa(stopTimeout)},
	}, p.tlsSettings(cs)...))
}

func (p *Plugin) workerConf(in, sched *sahara.Instance, cs clusterSettings, ns nodeSettings) ([]byte, error) {
	return renderConf(in, append([][2]string{
		{"DASK_ROLE", ProcWorker},
		{"DASK_PYTHON", cs.python},
		{"DASK_SCHEDULER", schedulerAddress(sched, cs)},
		{"DASK_HOST", in.InternalIP},
		{"DASK_NAME", in.InstanceName},
		{"DASK_NTHREADS", strconv.Itoa(ns.threads)},
		{"DASK_MEMORY_LIMIT", ns.memory},
		{"DASK_WORKER_PORT", cs.workerPorts.String()},
		{"DASK_NANNY_PORT", cs.nannyPorts.String()},
		{"DASK_LOCAL_DIR", p.localDir(in)},
		{"DASK_LOG", p.logFile(ProcWorker)},
		{"DASK_PIDFILE", p.pidFile(ProcWorker)},
		{"DASK_STOP_TIMEOUT", strconv.Itoa(stopTimeout)},
	}, p.tlsSettings(cs)...))
}

// serviceCmd is the command line of dask-service for one role.
func (p *Plugin) serviceCmd(action, role string) string {
	return sahara.MustQuote("sh") + " " + sahara.MustQuote(p.script()) + " " + action + " " + sahara.MustQuote(p.conf(role))
}
