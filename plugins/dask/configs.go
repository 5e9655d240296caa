package dask

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Config names (target Service).
const (
	CfgSchedulerPort   = "Scheduler port"
	CfgDashboardPort   = "Dashboard port"
	CfgWorkerThreads   = "Worker threads"
	CfgWorkerMemory    = "Worker memory limit"
	CfgWorkerPorts     = "Worker port range"
	CfgNannyPorts      = "Nanny port range"
	CfgStartupTimeout  = "Workers startup timeout"
	CfgRetireTimeout   = "Workers retirement timeout"
	CfgPythonPath      = "Python interpreter"
	CfgTLS             = "Use TLS"
	maxPortRangeLength = 100
)

// Configs lists the plugin's configs (without the common ones).
func (p *Plugin) Configs(version string) ([]sahara.Config, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return configList(), nil
}

func configList() []sahara.Config {
	c := func(name, desc string, typ sahara.ConfigType, def any, scope string, prio int) sahara.Config {
		return sahara.Config{Name: name, Description: desc, Type: typ, Default: def, Target: Service,
			Scope: scope, IsOptional: true, Priority: prio}
	}
	return []sahara.Config{
		c(CfgSchedulerPort, "TCP port the scheduler listens on for clients and workers", sahara.ConfigInt, 8786, sahara.ScopeCluster, 1),
		c(CfgDashboardPort, "TCP port of the scheduler's web dashboard (with the dashboard process)", sahara.ConfigInt, 8787, sahara.ScopeCluster, 1),
		c(CfgWorkerThreads, "Threads per worker; 0 runs one thread per CPU of the instance", sahara.ConfigInt, 0, sahara.ScopeNode, 1),
		c(CfgWorkerMemory, `Memory a worker may use before it spills to disk and pauses: "auto" (a share of the instance's memory), bytes ("4GiB", "512MB") or a fraction of the instance's memory ("0.5")`, sahara.ConfigString, "auto", sahara.ScopeNode, 1),
		c(CfgWorkerPorts, `Ports a worker may listen on, "first:last" or one port`, sahara.ConfigString, "9000:9004", sahara.ScopeCluster, 2),
		c(CfgNannyPorts, `Ports a worker's nanny (its supervising process) may listen on, "first:last" or one port`, sahara.ConfigString, "9005:9009", sahara.ScopeCluster, 2),
		c(CfgStartupTimeout, "Seconds to wait for the scheduler and every worker to be up after start or scale", sahara.ConfigInt, 600, sahara.ScopeCluster, 2),
		c(CfgRetireTimeout, "Seconds to wait for retiring workers to hand their data to the remaining workers when the cluster shrinks", sahara.ConfigInt, 600, sahara.ScopeCluster, 2),
		c(CfgTLS, "Scheduler, workers and clients talk TLS and authenticate each other with certificates of a per-cluster CA "+
			"(the client's are the cluster's credentials); false runs plain TCP, which anyone who reaches the ports can use", sahara.ConfigBool, true, sahara.ScopeCluster, 1),
		c(CfgPythonPath, "Absolute path of the Python 3 interpreter that has the distributed package on the image", sahara.ConfigString, "/usr/bin/python3", sahara.ScopeCluster, 2),
	}
}

// portRange is an inclusive range of TCP ports.
type portRange struct{ first, last int }

func (r portRange) String() string {
	if r.first == r.last {
		return strconv.Itoa(r.first)
	}
	return fmt.Sprintf("%d:%d", r.first, r.last)
}

func (r portRange) contains(p int) bool { return p >= r.first && p <= r.last }

func (r portRange) overlaps(o portRange) bool { return r.first <= o.last && o.first <= r.last }

func (r portRange) ports() []int {
	out := make([]int, 0, r.last-r.first+1)
	for p := r.first; p <= r.last; p++ {
		out = append(out, p)
	}
	return out
}

// clusterSettings are the cluster-scope values (read from cluster configs
// only, as Sahara's plugins read theirs).
type clusterSettings struct {
	schedulerPort, dashboardPort int
	workerPorts, nannyPorts      portRange
	startupTimeout               time.Duration
	retireTimeout                time.Duration
	python                       string
	// tls: the cluster runs Dask over TLS (decided at create; see usesTLS).
	tls bool
}

// nodeSettings are the node-scope values of one node group.
type nodeSettings struct {
	threads int
	memory  string
}

// invalidConfig is an InvalidData error naming the config (and where it was
// set, for node-scope configs) and what is allowed.
func invalidConfig(name, format string, args ...any) error {
	return sahara.InvalidData(fmt.Sprintf("Dask config %q ", name) + fmt.Sprintf(format, args...))
}

// inNodeGroup names the node group in an error about its config name, and
// points it at where the group's value was set.
func inNodeGroup(err error, ng *sahara.NodeGroup, name string) error {
	if se, ok := err.(*sahara.SaharaError); ok {
		cp := se.At(sahara.ConfigField(ng, Service, name))
		cp.Message = strings.Replace(cp.Message, "Dask config ", fmt.Sprintf("Node group %q: Dask config ", ng.Name), 1)
		return cp
	}
	return err
}

// value returns the parsed config value from cs, or its default.
func value(cs sahara.Configs, name string) (any, error) {
	cfg, _ := sahara.FindConfig(configList(), Service, name)
	v, ok := cs.Get(Service, name)
	if !ok {
		return cfg.Default, nil
	}
	pv, err := cfg.Parse(v)
	if err != nil {
		return nil, sahara.InvalidData(fmt.Sprintf("Dask config %q: %v", name, err))
	}
	if s, ok := pv.(string); ok && strings.IndexByte(s, 0) >= 0 {
		return nil, invalidConfig(name, "must not contain a NUL byte")
	}
	return pv, nil
}

func intValue(cs sahara.Configs, name string, min, max int) (int, error) {
	v, err := value(cs, name)
	if err != nil {
		return 0, err
	}
	n := v.(int)
	if n < min || n > max {
		return 0, invalidConfig(name, "must be an integer from %d to %d, got %d", min, max, n)
	}
	return n, nil
}

func parsePortRange(name, s string) (portRange, error) {
	bad := func() (portRange, error) {
		return portRange{}, invalidConfig(name, `must be a port ("9000") or a range "first:last" of at most %d ports within 1-65535, got %q`, maxPortRangeLength, s)
	}
	first, last, isRange := strings.Cut(strings.TrimSpace(s), ":")
	if !isRange {
		last = first
	}
	a, err1 := strconv.Atoi(first)
	b, err2 := strconv.Atoi(last)
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b || b-a+1 > maxPortRangeLength {
		return bad()
	}
	return portRange{a, b}, nil
}

func (p *Plugin) clusterSettings(c *sahara.Cluster) (clusterSettings, error) {
	cs := c.ClusterConfigs
	var s clusterSettings
	var err error
	if s.schedulerPort, err = intValue(cs, CfgSchedulerPort, 1, 65535); err != nil {
		return s, err
	}
	if s.dashboardPort, err = intValue(cs, CfgDashboardPort, 1, 65535); err != nil {
		return s, err
	}
	if s.schedulerPort == s.dashboardPort {
		return s, invalidConfig(CfgDashboardPort, "must differ from %q (both are %d)", CfgSchedulerPort, s.schedulerPort)
	}
	for _, x := range []struct {
		name string
		dst  *portRange
	}{{CfgWorkerPorts, &s.workerPorts}, {CfgNannyPorts, &s.nannyPorts}} {
		v, err := value(cs, x.name)
		if err != nil {
			return s, err
		}
		if *x.dst, err = parsePortRange(x.name, v.(string)); err != nil {
			return s, err
		}
		for _, fixed := range []struct {
			name string
			port int
		}{{CfgSchedulerPort, s.schedulerPort}, {CfgDashboardPort, s.dashboardPort}} {
			if x.dst.contains(fixed.port) {
				return s, invalidConfig(x.name, "%s must not contain the %s %d", x.dst, strings.ToLower(fixed.name), fixed.port)
			}
		}
	}
	if s.workerPorts.overlaps(s.nannyPorts) {
		return s, invalidConfig(CfgNannyPorts, "%s must not overlap %q %s", s.nannyPorts, CfgWorkerPorts, s.workerPorts)
	}
	startup, err := intValue(cs, CfgStartupTimeout, 1, 86400)
	if err != nil {
		return s, err
	}
	retire, err := intValue(cs, CfgRetireTimeout, 1, 86400)
	if err != nil {
		return s, err
	}
	s.startupTimeout, s.retireTimeout = time.Duration(startup)*time.Second, time.Duration(retire)*time.Second
	v, err := value(cs, CfgPythonPath)
	if err != nil {
		return s, err
	}
	s.python = v.(string)
	if _, err := value(cs, CfgTLS); err != nil {
		return s, err
	}
	s.tls = usesTLS(c)
	if !path.IsAbs(s.python) || path.Clean(s.python) != s.python {
		return s, invalidConfig(CfgPythonPath, "must be a clean absolute path such as /usr/bin/python3, got %q", s.python)
	}
	return s, nil
}

// memoryLimit is what dask-worker --memory-limit accepts: "auto", a byte
// count with an optional unit, or a fraction of the instance's memory.
var memoryLimit = regexp.MustCompile(`^(auto|[0-9]+(\.[0-9]+)?\s*([kKmMgGtTpP]i?)?[bB]?)$`)

func nodeSettingsOf(ng *sahara.NodeGroup) (nodeSettings, error) {
	cs := ng.Configuration()
	var s nodeSettings
	var err error
	if s.threads, err = intValue(cs, CfgWorkerThreads, 0, 4096); err != nil {
		return s, inNodeGroup(err, ng, CfgWorkerThreads)
	}
	v, err := value(cs, CfgWorkerMemory)
	if err != nil {
		return s, inNodeGroup(err, ng, CfgWorkerMemory)
	}
	s.memory = strings.TrimSpace(v.(string))
	if !memoryLimit.MatchString(s.memory) {
		return s, inNodeGroup(invalidConfig(CfgWorkerMemory, `must be "auto", a size such as "4GiB" or "512MB", a byte count or a fraction such as "0.5", got %q`, s.memory), ng, CfgWorkerMemory)
	}
	return s, nil
}
