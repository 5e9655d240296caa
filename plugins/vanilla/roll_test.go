package vanilla

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

const (
	rollImage  = "img-vanilla"
	rollMaster = "roll-master-0"
)

// rollSpec is a master (namenode, resourcemanager, historyserver) and 3
// workers (datanode, nodemanager) without volumes; dfs.replication 2 lets
// validate pass and a worker go at a time.
func rollSpec() sahara.ClusterSpec {
	return sahara.ClusterSpec{
		Name: "roll", PluginName: Name, PluginVersion: V282, DefaultImageID: rollImage,
		ClusterConfigs: sahara.Configs{SvcHDFS: {CfgReplication: 2}},
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{ProcNameNode, ProcResourceManager, ProcHistoryServer}},
			{Name: "worker", FlavorID: "m1", Count: 3, NodeProcesses: []string{ProcDataNode, ProcNodeManager}},
		},
	}
}

func refOf[T any](v T) *T { return &v }

// rollEvent is one entry of the roll test's log, in the order things
// happened: a remote call or poll sleep (call), an engine status or plugin
// step, or a cloud call on servers.
type rollEvent struct {
	kind  string // "call", "status", "step+", "step-", "spawn", "delete"
	call  conformance.Call
	text  string   // status or step type
	names []string // instances of a spawn or delete
	live  []string // at a delete: the datanodes the namenode still counts
}

type rollLog struct {
	mu    sync.Mutex
	ev    []rollEvent
	clock time.Time
}

func (l *rollLog) add(e rollEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
}

func (l *rollLog) events() []rollEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]rollEvent(nil), l.ev...)
}

// sleep records the plugin's poll waits and advances a fake clock, so a
// decommission that never ends fails at once rather than in hours.
func (l *rollLog) sleep(_ context.Context, d time.Duration) error {
	l.add(rollEvent{kind: "call", call: conformance.Call{Method: conformance.MethodSleep, Seconds: refOf(d.Seconds())}})
	l.mu.Lock()
	l.clock = l.clock.Add(d)
	l.mu.Unlock()
	return nil
}

func (l *rollLog) now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clock
}

func (l *rollLog) observe(ev sahara.Event) {
	switch {
	case ev.Kind == sahara.EventStatus:
		l.add(rollEvent{kind: "status", text: string(ev.Status)})
	case ev.Kind == sahara.EventStep && ev.Step.FinishedAt.IsZero():
		l.add(rollEvent{kind: "step+", text: ev.Step.Type})
	case ev.Kind == sahara.EventStep:
		l.add(rollEvent{kind: "step-", text: ev.Step.Type})
	}
}

// nodeSet is what a namenode or resource manager knows of its workers.
type nodeSet struct {
	what             string
	include, exclude map[string]bool // as read at the last refreshNodes
	started          map[string]bool // daemons running, by FQDN
	polls            map[string]int  // reports seen since the node was excluded
}

func (s *nodeSet) admitted(fqdn string) bool { return len(s.include) == 0 || s.include[fqdn] }

func (s *nodeSet) sorted() []string {
	var out []string
	for f := range s.started {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// state is a node's decommission state in a report: in progress at the
// first report after it was excluded, done from the second on.
func (s *nodeSet) state(fqdn, normal, progress, done string) string {
	if !s.exclude[fqdn] {
		return normal
	}
	s.polls[fqdn]++
	if s.polls[fqdn] == 1 {
		return progress
	}
	return done
}

// hadoopSim answers the Hadoop commands the plugin runs (Hadoop is not on
// the hosts) as the namenode and resource manager would: refreshNodes
// reads the include and exclude files from the real host it runs on, a
// node dropped from a non-empty include leaves the cluster, and a daemon
// started on a host the last refresh did not admit is refused.
type hadoopSim struct {
	t          *testing.T
	mu         sync.Mutex
	hdfs, yarn nodeSet
}

func newHadoopSim(t *testing.T) *hadoopSim {
	s := &hadoopSim{t: t}
	for _, ns := range []*nodeSet{&s.hdfs, &s.yarn} {
		ns.include, ns.exclude, ns.started, ns.polls = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}
	}
	s.hdfs.what, s.yarn.what = "datanode", "nodemanager"
	return s
}

var (
	hadoopInnerRE = regexp.MustCompile(`^sudo su (?:- -c|-lc) +"([^"]*)" hadoop\b`)
	hadoopBins    = setOf("hdfs", "yarn", "hadoop", "mapred", "hadoop-daemon.sh", "yarn-daemon.sh", "mr-jobhistory-daemon.sh")
)

// isHadoop tells the commands that would run Hadoop's binaries from those
// (file writes as the hadoop user included) that go to the real host.
func isHadoop(cmd string) bool {
	m := hadoopInnerRE.FindStringSubmatch(cmd)
	if m == nil {
		return false
	}
	f := strings.Fields(m[1])
	return len(f) > 0 && hadoopBins[f[0]]
}

// answer runs one Hadoop command; known is false for one it does not emulate.
func (s *hadoopSim) answer(ctx context.Context, rem sahara.Remote, fqdn, cmd string) (res sahara.Result, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out strings.Builder
	switch cmd {
	case asHadoop("hdfs namenode -format"), hadoop2.startNameNode, hadoop2.startSecondary, hadoop2.startRM, hadoop2.startHS:
	case hadoop2.startDataNode:
		s.start(&s.hdfs, fqdn)
	case hadoop2.startNM:
		s.start(&s.yarn, fqdn)
	case asHadoop("hdfs dfsadmin -refreshNodes"):
		return s.refresh(ctx, rem, &s.hdfs, "dn"), true
	case asHadoop("yarn rmadmin -refreshNodes"):
		return s.refresh(ctx, rem, &s.yarn, "nm"), true
	case datanodeCountCmd:
		fmt.Fprintf(&out, "%d\n", len(s.hdfs.started))
	case asHadoop("hdfs dfsadmin -report"):
		fmt.Fprintf(&out, "Configured Capacity: 0 (0 B)\n\n-------------------------------------------------\nLive datanodes (%d):\n\n", len(s.hdfs.started))
		for _, h := range s.hdfs.sorted() {
			fmt.Fprintf(&out, "Name: 10.0.0.1:50010 (%s)\nHostname: %s\nDecommission Status : %s\nConfigured Capacity: 0 (0 B)\n\n",
				h, h, s.hdfs.state(h, "Normal", "Decommission in progress", "Decommissioned"))
		}
	case asHadoop("yarn node -all -list"):
		fmt.Fprintf(&out, "Total Nodes:%d\n         Node-Id\t     Node-State\tNode-Http-Address\tNumber-of-Running-Containers\n", len(s.yarn.started))
		for _, h := range s.yarn.sorted() {
			fmt.Fprintf(&out, "%s:45454\t%s\t%s:8042\t0\n", h, s.yarn.state(h, "RUNNING", "DECOMMISSIONING", "DECOMMISSIONED"), h)
		}
	default:
		return sahara.Result{}, false
	}
	return sahara.Result{Stdout: []byte(out.String())}, true
}

func (s *hadoopSim) start(ns *nodeSet, fqdn string) {
	if !ns.admitted(fqdn) {
		// A real master refuses it (DisallowedDatanodeException) and the daemon exits.
		s.t.Errorf("%s started on %s, which the last refreshNodes did not admit (include: %v)", ns.what, fqdn, ns.include)
		return
	}
	ns.started[fqdn] = true
}

func (s *hadoopSim) refresh(ctx context.Context, rem sahara.Remote, ns *nodeSet, prefix string) sahara.Result {
	read := func(kind string) (map[string]bool, error) {
		res, err := rem.ExecuteCommand(ctx, "cat "+hadoopConfDir+"/"+prefix+"-"+kind, sahara.ExecOptions{})
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for _, l := range strings.Split(string(res.Stdout), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				set[l] = true
			}
		}
		return set, nil
	}
	inc, err := read("include")
	if err == nil {
		var exc map[string]bool
		if exc, err = read("exclude"); err == nil {
			for f := range exc {
				if !ns.exclude[f] {
					ns.polls[f] = 0
				}
			}
			ns.include, ns.exclude = inc, exc
		}
	}
	if err != nil {
		s.t.Errorf("refreshNodes of the %ss: %v", ns.what, err)
		return sahara.Result{ExitCode: 1, Stderr: []byte(err.Error())}
	}
	for f := range ns.started {
		if !ns.admitted(f) {
			delete(ns.started, f)
		}
	}
	return sahara.Result{}
}

// gone is a server deleted: its daemons are gone with it.
func (s *hadoopSim) gone(fqdn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ns := range []*nodeSet{&s.hdfs, &s.yarn} {
		delete(ns.started, fqdn)
		delete(ns.polls, fqdn)
	}
}

func (s *hadoopSim) live() (datanodes, nodemanagers []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hdfs.sorted(), s.yarn.sorted()
}

// rollConnector records every remote call and sends those that would run
// Hadoop to the simulator, everything else to the real host.
type rollConnector struct {
	inner sahara.RemoteConnector
	log   *rollLog
	sim   *hadoopSim
}

func (c *rollConnector) Connect(ctx context.Context, cl *sahara.Cluster) (sahara.RemotePool, error) {
	p, err := c.inner.Connect(ctx, cl)
	if err != nil {
		return nil, err
	}
	return &rollPool{RemotePool: p, c: c}, nil
}

type rollPool struct {
	sahara.RemotePool
	c *rollConnector
}

func (p *rollPool) Remote(in *sahara.Instance) sahara.Remote {
	return &rollRemote{real: p.RemotePool.Remote(in), c: p.c, host: in.InstanceName, fqdn: in.FQDN()}
}

type rollRemote struct {
	real       sahara.Remote
	c          *rollConnector
	host, fqdn string
}

// record logs a call with the fields the conformance recorder sets.
func (r *rollRemote) record(c conformance.Call) {
	c.Host = refOf(r.host)
	r.c.log.add(rollEvent{kind: "call", call: c})
}

func (r *rollRemote) file(method, path string, data []byte, o sahara.FileOptions) {
	c := conformance.Call{Method: method, RemoteFile: path, RunAsRoot: refOf(o.RunAsRoot), Sensitive: o.Sensitive}
	if data != nil && !o.Sensitive {
		c.Data = refOf(string(data))
	}
	r.record(c)
}

func (r *rollRemote) InstanceName() string { return r.host }

func (r *rollRemote) ExecuteCommand(ctx context.Context, cmd string, o sahara.ExecOptions) (sahara.Result, error) {
	shown := cmd
	if o.Sensitive {
		shown = o.Name
	}
	r.record(conformance.Call{Method: conformance.MethodExecute, Cmd: shown, RunAsRoot: refOf(o.RunAsRoot), RaiseWhenError: refOf(!o.IgnoreExitCode), Sensitive: o.Sensitive})
	if !isHadoop(cmd) {
		return r.real.ExecuteCommand(ctx, cmd, o)
	}
	res, known := r.c.sim.answer(ctx, r.real, r.fqdn, cmd)
	if !known {
		r.c.sim.t.Errorf("%s: Hadoop command the test does not emulate: %q", r.host, cmd)
		res = sahara.Result{ExitCode: 127, Stderr: []byte("not emulated")}
	}
	if res.ExitCode != 0 && !o.IgnoreExitCode {
		return res, &sahara.CommandError{Instance: r.host, Name: cmd, ExitCode: res.ExitCode, StderrTail: string(res.Stderr)}
	}
	return res, nil
}

func (r *rollRemote) WriteFileTo(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	r.file(conformance.MethodWrite, path, data, o)
	return r.real.WriteFileTo(ctx, path, data, o)
}

func (r *rollRemote) WriteFilesTo(ctx context.Context, files []sahara.File, o sahara.FileOptions) error {
	for _, f := range files {
		r.file(conformance.MethodWrite, f.Path, f.Data, o)
	}
	return r.real.WriteFilesTo(ctx, files, o)
}

func (r *rollRemote) ReadFileFrom(ctx context.Context, path string, o sahara.FileOptions) ([]byte, error) {
	r.file(conformance.MethodRead, path, nil, o)
	return r.real.ReadFileFrom(ctx, path, o)
}

func (r *rollRemote) AppendToFile(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	r.file(conformance.MethodAppend, path, data, o)
	return r.real.AppendToFile(ctx, path, data, o)
}

func (r *rollRemote) PrependToFile(ctx context.Context, path string, data []byte, o sahara.FileOptions) error {
	r.file(conformance.MethodPrepend, path, data, o)
	return r.real.PrependToFile(ctx, path, data, o)
}

func (r *rollRemote) ReplaceRemoteString(ctx context.Context, path, old, new string, o sahara.FileOptions) error {
	r.record(conformance.Call{Method: conformance.MethodReplaceString, RemoteFile: path, OldStr: old, NewStr: new})
	return r.real.ReplaceRemoteString(ctx, path, old, new, o)
}

func (r *rollRemote) ReplaceRemoteLine(ctx context.Context, path, oldLineStart, newLine string, o sahara.FileOptions) error {
	r.record(conformance.Call{Method: conformance.MethodReplaceLine, RemoteFile: path, OldStr: oldLineStart, NewStr: newLine})
	return r.real.ReplaceRemoteLine(ctx, path, oldLineStart, newLine, o)
}

func (r *rollRemote) GetOSDistrib(ctx context.Context) (string, error) {
	r.record(conformance.Call{Method: conformance.MethodOSDistrib})
	return r.real.GetOSDistrib(ctx)
}

// rollInfra is the in-memory cloud with real hosts behind its servers: a
// new server gets the next unused sshd host (a fresh disk, even when an
// instance name is reused), and a deleted server's host is stopped.
type rollInfra struct {
	*fake.Infra
	lab *sshtest.Lab
	log *rollLog
	sim *hadoopSim

	mu    sync.Mutex
	free  []*sshtest.Host
	hosts map[string]*sshtest.Host // of the current servers, by instance name
}

func instanceNamesOf(ins []*sahara.Instance) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.InstanceName
	}
	return out
}

func (f *rollInfra) SpawnInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance, progress sahara.ProgressFunc) error {
	f.mu.Lock()
	for _, in := range instances {
		if len(f.free) == 0 {
			f.mu.Unlock()
			return fmt.Errorf("no sshd host left for %s", in.InstanceName)
		}
		h := f.free[0]
		f.free = f.free[1:]
		f.hosts[in.InstanceName] = h
		f.Addresses[in.InstanceName] = h.IP()
		f.PublishedHostKeys[in.InstanceName] = []string{h.HostKey}
	}
	f.mu.Unlock()
	f.log.add(rollEvent{kind: "spawn", names: instanceNamesOf(instances)})
	return f.Infra.SpawnInstances(ctx, c, instances, progress)
}

func (f *rollInfra) DeleteInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	dns, _ := f.sim.live()
	f.log.add(rollEvent{kind: "delete", names: instanceNamesOf(instances), live: dns})
	if err := f.Infra.DeleteInstances(ctx, c, instances); err != nil {
		return err
	}
	for _, in := range instances {
		f.sim.gone(in.FQDN())
		f.mu.Lock()
		h := f.hosts[in.InstanceName]
		delete(f.hosts, in.InstanceName)
		f.mu.Unlock()
		if h != nil {
			f.lab.Stop(h)
		}
	}
	return nil
}

func (f *rollInfra) host(name string) *sshtest.Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[name]
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// pluginWindow is one plugin step of a roll: scale_cluster with the
// instances the scale added, or decommission_nodes with those it retired.
type pluginWindow struct {
	decommission bool
	from, to     int      // the step's calls are events from+1 … to-1
	names        []string // added (spawned before) or retired (deleted after)
	deleted      int      // decommission: the event deleting the servers
	live         []string // decommission: datanodes the namenode counted then
}

func (w pluginWindow) String() string {
	if w.decommission {
		return fmt.Sprintf("decommission %v", w.names)
	}
	return fmt.Sprintf("scale %v", w.names)
}

// pluginWindows cuts the events of a roll into its plugin steps.
func pluginWindows(t *testing.T, ev []rollEvent) []pluginWindow {
	t.Helper()
	var out []pluginWindow
	var spawned []string
	for i := 0; i < len(ev); i++ {
		e := ev[i]
		switch {
		case e.kind == "spawn":
			spawned = e.names
		case e.kind == "step+" && (e.text == sahara.StepTypePluginScale || e.text == sahara.StepTypeDecommission):
			w := pluginWindow{decommission: e.text == sahara.StepTypeDecommission, from: i, to: -1, deleted: -1}
			for j := i + 1; j < len(ev); j++ {
				if ev[j].kind == "step-" && ev[j].text == e.text {
					w.to = j
					break
				}
			}
			if w.to < 0 {
				t.Fatalf("the %s step that started at event %d never ended", e.text, i)
			}
			if w.decommission {
				for j := w.to; j < len(ev); j++ {
					if ev[j].kind == "delete" {
						w.deleted, w.names, w.live = j, ev[j].names, ev[j].live
						break
					}
				}
				if w.deleted < 0 {
					t.Fatalf("no server deleted after the decommission step at event %d", i)
				}
			} else {
				w.names, spawned = spawned, nil
			}
			out = append(out, w)
			i = w.to
		}
	}
	return out
}

var (
	hostListRE = regexp.MustCompile(`^sudo su - -c "echo '([^']*)' > (\S+)" hadoop$`)
	fqdnRE     = regexp.MustCompile(`[a-z0-9-]+\.novalocal`)
	quotedRE   = regexp.MustCompile(`'[^']*'`)
)

// hostFileWrite returns the hosts and the file of a dn-/nm- include or
// exclude write.
func hostFileWrite(c conformance.Call) (hosts []string, path string, ok bool) {
	m := hostListRE.FindStringSubmatch(c.Cmd)
	if m == nil {
		return nil, "", false
	}
	return strings.Split(m[1], "\n"), m[2], true
}

func fqdnsOf(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ".novalocal"
	}
	return out
}

// workerIndex sorts instance names as the cluster orders instances.
func workerIndex(name string) int {
	n := 0
	for _, ch := range name[strings.LastIndexByte(name, '-')+1:] {
		n = n*10 + int(ch-'0')
	}
	return n
}

func sortedWorkers(set map[string]bool) []string {
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Slice(out, func(a, b int) bool { return workerIndex(out[a]) < workerIndex(out[b]) })
	return out
}

// checkWindow asserts the order of one plugin step's remote calls on the
// master, the added or retired instances and the others; members are the
// workers before the step.
func checkWindow(t *testing.T, ev []rollEvent, w pluginWindow, members map[string]bool) {
	t.Helper()
	type at struct {
		i int
		c conformance.Call
	}
	var calls []at
	for i := w.from + 1; i < w.to; i++ {
		if ev[i].kind == "call" {
			calls = append(calls, at{i, ev[i].call})
		}
	}
	host := func(c conformance.Call) string {
		if c.Host == nil {
			return ""
		}
		return *c.Host
	}
	// find returns the first call at or after event from on host (any
	// host: "") that pred accepts, or -1.
	find := func(from int, on string, pred func(conformance.Call) bool) int {
		for _, a := range calls {
			if a.i >= from && (on == "" || host(a.c) == on) && pred(a.c) {
				return a.i
			}
		}
		return -1
	}
	cmdIs := func(cmd string) func(conformance.Call) bool {
		return func(c conformance.Call) bool { return c.Method == conformance.MethodExecute && c.Cmd == cmd }
	}
	writes := func(file string, want []string) func(conformance.Call) bool {
		return func(c conformance.Call) bool {
			hosts, path, ok := hostFileWrite(c)
			if !ok || path != hadoopConfDir+"/"+file {
				return false
			}
			if want == nil {
				return true
			}
			a, b := slices.Clone(hosts), slices.Clone(want)
			sort.Strings(a)
			sort.Strings(b)
			return slices.Equal(a, b)
		}
	}
	before := func(what string, a, b int, bWhat string) {
		t.Helper()
		switch {
		case a < 0:
			t.Errorf("%s: missing: %s", w, what)
		case b < 0:
			t.Errorf("%s: missing: %s", w, bWhat)
		case a >= b:
			t.Errorf("%s: %s (event %d) is not before %s (event %d)", w, what, a, bWhat, b)
		}
	}
	refreshHDFS, refreshYARN := asHadoop("hdfs dfsadmin -refreshNodes"), asHadoop("yarn rmadmin -refreshNodes")

	if !w.decommission {
		all := map[string]bool{}
		for n := range members {
			all[n] = true
		}
		for _, n := range w.names {
			all[n] = true
		}
		listed := fqdnsOf(sortedWorkers(all))
		incDN := find(w.from, rollMaster, writes("dn-include", listed))
		incNM := find(w.from, rollMaster, writes("nm-include", listed))
		ref := find(w.from, rollMaster, cmdIs(refreshHDFS))
		refY := find(w.from, rollMaster, cmdIs(refreshYARN))
		for _, n := range w.names {
			post := find(w.from, n, cmdIs("sudo /tmp/post_conf.sh"))
			before(n+" configured (post_conf.sh)", post, incDN, fmt.Sprintf("the master's dn-include listing %v", listed))
			before(n+" configured (post_conf.sh)", post, incNM, "the master's nm-include listing it")
			before("hdfs dfsadmin -refreshNodes", ref, find(w.from, n, cmdIs(hadoop2.startDataNode)), "the datanode start on "+n)
			before("yarn rmadmin -refreshNodes", refY, find(w.from, n, cmdIs(hadoop2.startNM)), "the nodemanager start on "+n)
		}
		before("the master's dn-include", incDN, ref, "hdfs dfsadmin -refreshNodes")
		before("the master's nm-include", incNM, refY, "yarn rmadmin -refreshNodes")
		for n := range all {
			before("dn-include on "+n, find(w.from, n, writes("dn-include", listed)), ref, "hdfs dfsadmin -refreshNodes")
		}
		return
	}

	left := map[string]bool{}
	for n := range members {
		left[n] = true
	}
	for _, n := range w.names {
		if !members[n] {
			t.Errorf("%s: %s was not a worker", w, n)
		}
		delete(left, n)
	}
	gone := fqdnsOf(w.names)
	exDN := find(w.from, rollMaster, writes("dn-exclude", gone))
	exNM := find(w.from, rollMaster, writes("nm-exclude", gone))
	ref := find(w.from, rollMaster, cmdIs(refreshHDFS))
	refY := find(w.from, rollMaster, cmdIs(refreshYARN))
	before(fmt.Sprintf("the master's dn-exclude listing %v", gone), exDN, ref, "hdfs dfsadmin -refreshNodes")
	before("the master's nm-exclude listing them", exNM, refY, "yarn rmadmin -refreshNodes")
	for n := range members {
		before("dn-exclude on "+n, find(w.from, n, writes("dn-exclude", gone)), ref, "hdfs dfsadmin -refreshNodes")
	}
	var reports, lists, sleeps []int
	for _, a := range calls {
		switch {
		case a.c.Method == conformance.MethodSleep:
			sleeps = append(sleeps, a.i)
		case host(a.c) == rollMaster && a.c.Cmd == asHadoop("hdfs dfsadmin -report"):
			reports = append(reports, a.i)
		case host(a.c) == rollMaster && a.c.Cmd == asHadoop("yarn node -all -list"):
			lists = append(lists, a.i)
		}
	}
	// The simulator reports a node in progress once: a wait that ends
	// early polls once.
	if len(reports) < 2 || len(lists) < 2 {
		t.Errorf("%s: %d datanode reports and %d nodemanager lists, want the wait to poll until done (2 each)", w, len(reports), len(lists))
		return
	}
	before("hdfs dfsadmin -refreshNodes", ref, reports[0], "the first dfsadmin report")
	before("yarn rmadmin -refreshNodes", refY, lists[0], "the first nodemanager list")
	if !slices.ContainsFunc(sleeps, func(i int) bool { return i > reports[0] && i < reports[len(reports)-1] }) {
		t.Errorf("%s: no poll sleep between the dfsadmin reports", w)
	}
	listed := fqdnsOf(sortedWorkers(left))
	incDN := find(reports[len(reports)-1], rollMaster, writes("dn-include", listed))
	incNM := find(reports[len(reports)-1], rollMaster, writes("nm-include", listed))
	before("the last dfsadmin report", reports[len(reports)-1], incDN, fmt.Sprintf("the master's dn-include listing %v", listed))
	before("the last dfsadmin report", reports[len(reports)-1], incNM, "the master's nm-include without them")
	clr := find(incDN, rollMaster, cmdIs(asHadoop("echo > "+hadoopConfDir+"/dn-exclude")))
	before("the master's dn-include without them", incDN, clr, "the master's dn-exclude cleared")
	before("the master's dn-exclude cleared", clr, find(max(clr, 0), rollMaster, cmdIs(refreshHDFS)), "the last hdfs dfsadmin -refreshNodes")
	// Sahara stops no daemon: the namenode drops the nodes the include no
	// longer lists, then their servers are deleted.
	for _, f := range gone {
		if slices.Contains(w.live, f) {
			t.Errorf("%s: the namenode still counted %s when its server was deleted (datanodes %v)", w, f, w.live)
		}
	}
	// Nothing reaches a deleted server (a later one may reuse its name).
	for _, n := range w.names {
		for i := w.deleted + 1; i < len(ev); i++ {
			if ev[i].kind == "spawn" && slices.Contains(ev[i].names, n) {
				break
			}
			if c := ev[i].call; ev[i].kind == "call" && c.Host != nil && *c.Host == n {
				t.Errorf("%s: a call on %s after its server was deleted: %s", w, n, c)
				break
			}
		}
	}
}

// shapeOf is a call with hosts replaced by their role in the step (M the
// master, NEW added, OLD retired, W another worker), each host list reduced
// to the set of roles in it, and file contents dropped (addresses, keys and
// storage differ from Sahara's recording).
func shapeOf(c conformance.Call, role func(string) string) conformance.Call {
	if c.Host != nil {
		c.Host = refOf(role(*c.Host))
	}
	c.Data = nil
	c.Cmd = fqdnRE.ReplaceAllStringFunc(c.Cmd, func(f string) string { return role(strings.TrimSuffix(f, ".novalocal")) })
	c.Cmd = quotedRE.ReplaceAllStringFunc(c.Cmd, func(q string) string {
		roles := strings.Split(strings.Trim(q, "'"), "\n")
		sort.Strings(roles)
		return "'" + strings.Join(slices.Compact(roles), "\n") + "'"
	})
	return c
}

// onHost is the calls of one host, with the poll sleeps for the master's.
func onHost(calls []conformance.Call, host string, sleeps bool) []conformance.Call {
	var out []conformance.Call
	for _, c := range calls {
		if (c.Host != nil && *c.Host == host) || (c.Host == nil && sleeps) {
			out = append(out, c)
		}
	}
	return out
}

func shapes(calls []conformance.Call, role func(string) string) []conformance.Call {
	out := make([]conformance.Call, len(calls))
	for i, c := range calls {
		out[i] = shapeOf(c, role)
	}
	return out
}

// compareWithSahara compares, host by host, each plugin step's calls with
// Sahara's recorded "scale up worker 3 -> 4" (scale) and "scale down worker
// 4 -> 2" (decommission): the master's with its master's, an added or
// retired instance's with Sahara's, another worker's with worker-0's.
func compareWithSahara(t *testing.T, label string, ev []rollEvent, windows []pluginWindow, members []map[string]bool) {
	t.Helper()
	dir := conformance.Dir(t)
	ops := conformance.LoadOps(t, dir, Name)
	up := ops.Scenario(t, "scale up worker 3 -> 4").PluginCalls()
	down := ops.Scenario(t, "scale down worker 4 -> 2").PluginCalls()
	saharaRole := func(changed ...string) func(string) string {
		return func(h string) string {
			switch {
			case h == "opsdemo-master-0":
				return "M"
			case slices.Contains(changed, h):
				if len(changed) == 1 {
					return "NEW"
				}
				return "OLD"
			}
			return "W"
		}
	}
	upRole, downRole := saharaRole("opsdemo-worker-3"), saharaRole("opsdemo-worker-3", "opsdemo-worker-2")
	identical, total := 0, 0
	for k, w := range windows {
		var got []conformance.Call
		for i := w.from + 1; i < w.to; i++ {
			if ev[i].kind == "call" {
				got = append(got, ev[i].call)
			}
		}
		mine := func(h string) string {
			switch {
			case h == rollMaster:
				return "M"
			case slices.Contains(w.names, h) && w.decommission:
				return "OLD"
			case slices.Contains(w.names, h):
				return "NEW"
			}
			return "W"
		}
		want, wantRole, changed := up, upRole, "opsdemo-worker-3"
		if w.decommission {
			want, wantRole, changed = down, downRole, "opsdemo-worker-2"
		}
		hosts := append([]string{rollMaster}, sortedWorkers(members[k])...)
		for _, n := range w.names {
			if !members[k][n] {
				hosts = append(hosts, n)
			}
		}
		for _, h := range hosts {
			saharaHost := "opsdemo-worker-0"
			switch mine(h) {
			case "M":
				saharaHost = "opsdemo-master-0"
			case "NEW", "OLD":
				saharaHost = changed
			}
			g := shapes(onHost(got, h, h == rollMaster), mine)
			s := shapes(onHost(want, saharaHost, h == rollMaster), wantRole)
			total += len(s)
			bad := 0
			for i := 0; i < max(len(g), len(s)) && bad < 3; i++ {
				var diff string
				switch {
				case i >= len(s):
					diff = "is not in Sahara's: " + g[i].String()
				case i >= len(g):
					diff = "is missing; Sahara's: " + s[i].String()
				default:
					if d := g[i].Matches(s[i]); d != "" {
						diff = fmt.Sprintf("differs in %s:\n got: %s\nwant: %s", d, g[i], s[i])
					}
				}
				if diff == "" {
					identical++
					continue
				}
				bad++
				t.Errorf("%s %s, on %s: call #%d %s", label, w, h, i, diff)
			}
		}
	}
	conformance.Report(t, Name, label+" per-host plugin calls", identical, total)
}

// TestRoll_DatanodesOnRealHosts creates a vanilla cluster through the
// engine on namespace sshd hosts (in-memory cloud, real SSH; Hadoop's
// commands answered by a simulator), rolls the workers to a new flavor one
// at a time, then two at a time, and checks the remote calls of every
// batch, the files on the hosts and the servers left.
func TestRoll_DatanodesOnRealHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("real sshd hosts: not in -short runs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	started := time.Now()
	elog := &rollLog{clock: time.Unix(1_700_000_000, 0)}
	sim := newHadoopSim(t)
	reg, err := sahara.NewRegistry(New(Options{Sleep: elog.sleep, Now: elog.now}))
	if err != nil {
		t.Fatal(err)
	}
	infra := &rollInfra{Infra: fake.NewInfra(sahara.Image{ID: rollImage, Username: sshtest.DefaultUser, Tags: []string{Name, V282}}),
		log: elog, sim: sim, hosts: map[string]*sshtest.Host{}}
	infra.Flavors = map[string]fake.Flavor{"m1": {VCPUs: 2, RAMMB: 4096}, "m2": {VCPUs: 4, RAMMB: 8192}, "m3": {VCPUs: 8, RAMMB: 16384}}
	infra.Addresses, infra.PublishedHostKeys = map[string]string{}, map[string][]string{}
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine log:\n%s", logs.String())
		}
	})
	eng, err := sahara.New(sahara.Options{
		Infra:    infra,
		Remotes:  &rollConnector{inner: &sshremote.Connector{ConnectTimeout: 10 * time.Second, RetryBackoff: 100 * time.Millisecond}, log: elog, sim: sim},
		Plugins:  reg,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: elog.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.NewCluster(rollSpec())
	if err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		flavor   string
		surge    int
		first    string   // the first plugin step
		windows  []string // all of them, where the engine fixes them
		names    []string // workers after the roll
		maxGroup int
	}{
		// Sahara's names: each replacement takes the lowest free index.
		{"m2", 1, "scale [roll-worker-3]", []string{
			"scale [roll-worker-3]", "decommission [roll-worker-0]",
			"scale [roll-worker-0]", "decommission [roll-worker-1]",
			"scale [roll-worker-1]", "decommission [roll-worker-2]",
		}, []string{"roll-worker-0", "roll-worker-1", "roll-worker-3"}, 4},
		// How many a decommission retires at once is the engine's
		// (RetireLimiter); the invariants below hold either way.
		{"m3", 2, "scale [roll-worker-2 roll-worker-4]", nil, []string{"roll-worker-0", "roll-worker-2", "roll-worker-4"}, 5},
	}
	// A fresh host per server: 4 to create, 3 per roll.
	lab := sshtest.New(t)
	hosts := lab.AddHosts(t, 4+3*len(runs), sshtest.HostOptions{Name: "rh", AuthorizedKeys: []string{c.ManagementPublicKey}})
	for _, h := range hosts {
		h.Run(t, imagePrep)
	}
	infra.lab, infra.free = lab, hosts
	t.Logf("%d hosts up and prepared: %s", len(hosts), time.Since(started).Round(time.Millisecond))

	step := time.Now()
	if err := eng.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Logf("create: %s", time.Since(step).Round(time.Millisecond))
	masterID := c.Instance(rollMaster).InstanceID
	masterHost := infra.host(rollMaster)
	workers := func() map[string]bool {
		m := map[string]bool{}
		for _, in := range c.NodeGroup("worker").Instances {
			m[in.InstanceName] = true
		}
		return m
	}

	for _, run := range runs {
		label := fmt.Sprintf("roll max_surge %d", run.surge)
		oldIDs := map[string]string{}
		for _, in := range c.NodeGroup("worker").Instances {
			oldIDs[in.InstanceID] = in.InstanceName
		}
		before := workers()
		first := len(elog.events())
		spec := c.NodeGroup("worker").NodeGroupSpec
		spec.FlavorID = run.flavor
		step := time.Now()
		if err := eng.Roll(ctx, c, "worker", spec, sahara.RollPolicy{MaxSurge: run.surge}); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		t.Logf("%s: %s", label, time.Since(step).Round(time.Millisecond))
		ev := elog.events()[first:]
		windows := pluginWindows(t, ev)
		var got []string
		for _, w := range windows {
			got = append(got, w.String())
		}
		t.Logf("%s: plugin steps %q", label, got)
		if run.windows != nil && !slices.Equal(got, run.windows) {
			t.Errorf("%s: plugin steps %q, want %q", label, got, run.windows)
		}
		if len(got) == 0 || got[0] != run.first {
			t.Errorf("%s: the first plugin step is not %q", label, run.first)
		}

		// Replay the steps: each scale adds new instances only, each
		// decommission retires old ones only, and the group never shrinks
		// below its count nor grows beyond count+max_surge.
		members := map[string]bool{}
		for n := range before {
			members[n] = true
		}
		var membersAt []map[string]bool
		retired, added := map[string]bool{}, 0
		for _, w := range windows {
			membersAt = append(membersAt, maps.Clone(members))
			checkWindow(t, ev, w, members)
			for _, n := range w.names {
				switch {
				case !w.decommission && members[n]:
					t.Errorf("%s: %s added while it was a worker", label, n)
				case w.decommission && (!before[n] || retired[n]):
					t.Errorf("%s: %s retired, which is not an old worker still there", label, n)
				}
				if w.decommission {
					delete(members, n)
					retired[n] = true
				} else {
					members[n] = true
					added++
				}
			}
			if n := len(members); n < 3 || n > run.maxGroup {
				t.Errorf("%s: %d workers after %s, want 3 to %d", label, n, w, run.maxGroup)
			}
			if !w.decommission && len(w.names) > run.surge {
				t.Errorf("%s: %s adds more than max_surge", label, w)
			}
		}
		if len(retired) != len(before) || added != len(before) {
			t.Errorf("%s: %d retired and %d added, want all %d old workers replaced", label, len(retired), added, len(before))
		}
		if n := countStatus(ev, sahara.StatusActive); n != len(windows) {
			t.Errorf("%s: Active %d times, want after each of the %d scales", label, n, len(windows))
		}
		t.Run(fmt.Sprintf("conformance_max_surge_%d", run.surge), func(t *testing.T) {
			compareWithSahara(t, label, ev, windows, membersAt)
		})

		// The cluster, the cloud and the hosts after the roll.
		ng := c.NodeGroup("worker")
		var names []string
		for _, in := range ng.Instances {
			names = append(names, in.InstanceName)
			if oldIDs[in.InstanceID] != "" {
				t.Errorf("%s: %s runs on the old server %s", label, in.InstanceName, in.InstanceID)
			}
			if in.Settings != ng.ServerSettings() {
				t.Errorf("%s: %s has settings %s, want the group's %s", label, in.InstanceName, in.Settings, ng.ServerSettings())
			}
		}
		if !slices.Equal(names, run.names) || ng.Count != 3 || ng.FlavorID != run.flavor || c.Status != sahara.StatusActive {
			t.Errorf("%s: workers %v (count %d, flavor %s), cluster %s %q; want %v of %s, Active",
				label, names, ng.Count, ng.FlavorID, c.Status, c.StatusDescription, run.names, run.flavor)
		}
		if id := c.Instance(rollMaster).InstanceID; id != masterID {
			t.Errorf("%s: the master's server changed: %s, was %s", label, id, masterID)
		}
		var servers []string
		for _, s := range infra.Servers(c.ID) {
			servers = append(servers, s.Name)
			if oldIDs[s.ID] != "" {
				t.Errorf("%s: old server %s (%s) is still in the cloud", label, s.ID, oldIDs[s.ID])
			}
			if in := c.Instance(s.Name); in == nil || in.InstanceID != s.ID {
				t.Errorf("%s: server %s %s is no instance of the cluster", label, s.Name, s.ID)
			}
		}
		if want := append([]string{rollMaster}, run.names...); !slices.Equal(servers, want) {
			t.Errorf("%s: servers %v, want %v", label, servers, want)
		}
		listed := strings.Join(fqdnsOf(run.names), "\n") + "\n"
		for _, f := range []string{"dn-include", "nm-include"} {
			if got := masterHost.Run(t, "cat "+hadoopConfDir+"/"+f); got != listed {
				t.Errorf("%s: the master's %s = %q, want the new workers %q", label, f, got, listed)
			}
		}
		if got := masterHost.Run(t, "cat "+hadoopConfDir+"/dn-exclude "+hadoopConfDir+"/nm-exclude"); strings.TrimSpace(got) != "" {
			t.Errorf("%s: exclude files left with %q", label, got)
		}
		etcHosts := "127.0.0.1 localhost\n"
		for _, in := range c.Instances() {
			etcHosts += fmt.Sprintf("%s %s %s\n", in.InternalIP, in.FQDN(), in.InstanceName)
		}
		for _, in := range c.Instances() {
			h := infra.host(in.InstanceName)
			if h == nil {
				t.Fatalf("%s: no host behind %s", label, in.InstanceName)
			}
			if got := h.Run(t, "cat /etc/hosts"); got != etcHosts {
				t.Errorf("%s: %s /etc/hosts = %q, want %q", label, in.InstanceName, got, etcHosts)
			}
			if in.NodeGroup().Name != "worker" {
				continue
			}
			if got := strings.TrimSpace(h.Run(t, "hostname")); got != in.FQDN() {
				t.Errorf("%s: %s hostname %q", label, in.InstanceName, got)
			}
			for _, f := range wantSiteFiles(t, c, in) {
				if got := h.Run(t, "cat "+f.path); got != string(f.data) {
					t.Errorf("%s: %s:%s differs from the plugin's\n%s", label, in.InstanceName, f.path, got)
				}
			}
		}
		dns, nms := sim.live()
		if want := fqdnsOf(run.names); !slices.Equal(dns, want) || !slices.Equal(nms, want) {
			t.Errorf("%s: Hadoop counts datanodes %v and nodemanagers %v, want %v", label, dns, nms, want)
		}
	}
	t.Logf("total: %s", time.Since(started).Round(time.Millisecond))
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a private key reached the log")
	}
}

func countStatus(ev []rollEvent, st sahara.ClusterStatus) int {
	n := 0
	for _, e := range ev {
		if e.kind == "status" && e.text == string(st) {
			n++
		}
	}
	return n
}

// TestRoll_NamenodeGroupIsRefused: the master group runs the namenode,
// which the vanilla plugin cannot scale, so it cannot be rolled either; the
// refusal is validate_scaling's, before any server or remote call.
func TestRoll_NamenodeGroupIsRefused(t *testing.T) {
	ctx := context.Background()
	infra := fake.NewInfra(sahara.Image{ID: rollImage, Username: "ubuntu", Tags: []string{Name, V282}})
	conn := fake.NewConnector()
	conn.Exec = func(_ *fake.Host, cmd string, _ sahara.ExecOptions) (sahara.Result, bool, error) {
		if cmd == datanodeCountCmd {
			return sahara.Result{Stdout: []byte("3\n")}, true, nil
		}
		return sahara.Result{}, false, nil
	}
	reg, err := sahara.NewRegistry(New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Infra: infra, Remotes: conn, Plugins: reg})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.NewCluster(rollSpec())
	if err != nil {
		t.Fatal(err)
	}
	// The env scripts of Sahara's image, which the plugin edits.
	for _, name := range []string{rollMaster, "roll-worker-0", "roll-worker-1", "roll-worker-2"} {
		for _, f := range []string{"hadoop-env.sh", "yarn-env.sh", "mapred-env.sh"} {
			conn.Host(name).Files[hadoopConfDir+"/"+f] = []byte("\n")
		}
	}
	if err := eng.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v", err)
	}
	servers := infra.Servers(c.ID)
	if len(servers) != 4 {
		t.Fatalf("%d servers after create, want 4", len(servers))
	}
	infra.ResetCalls()
	conn.ResetCalls()
	if err := eng.ValidateRoll(ctx, c, "worker", sahara.RollPolicy{MaxSurge: 1}); err != nil {
		t.Fatalf("the worker group cannot be rolled: %v", err)
	}
	spec := c.NodeGroup("master").NodeGroupSpec
	spec.FlavorID = "m2"
	const want = "Chosen node group master cannot be scaled : Vanilla plugin cannot scale nodegroup with processes: namenode resourcemanager historyserver"
	var last error
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"ValidateRoll", eng.ValidateRoll(ctx, c, "master", sahara.RollPolicy{MaxSurge: 1})},
		{"Roll", eng.Roll(ctx, c, "master", spec, sahara.RollPolicy{MaxSurge: 1})},
	} {
		var se *sahara.SaharaError
		if !errors.As(tc.err, &se) || se.Exception != "NodeGroupCannotBeScaled" || se.Message != want {
			t.Errorf("%s of the master group: %v, want NodeGroupCannotBeScaled %q", tc.name, tc.err, want)
			continue
		}
		if f := sahara.FieldOf(tc.err); f.NodeGroup != "master" || !errors.Is(tc.err, sahara.ErrValidation) {
			t.Errorf("%s: error at %+v (validation: %v), want a validation error on node group master", tc.name, f, errors.Is(tc.err, sahara.ErrValidation))
		}
		last = tc.err
	}
	if n := infra.TotalCalls(); n != 0 {
		t.Errorf("the refused roll made %d cloud calls (spawn %d, delete %d)", n, infra.Calls("SpawnInstances"), infra.Calls("DeleteInstances"))
	}
	if n := conn.TotalCalls(); n != 0 {
		t.Errorf("the refused roll made %d remote calls", n)
	}
	if got := infra.Servers(c.ID); !slices.EqualFunc(got, servers, func(a, b fake.Server) bool { return a.ID == b.ID && a.Name == b.Name && a.Status == b.Status }) {
		t.Errorf("servers changed: %v, were %v", got, servers)
	}
	if ng := c.NodeGroup("master"); ng.FlavorID != "m1" || len(ng.Outdated()) != 0 || c.Status != sahara.StatusActive {
		t.Errorf("the refused roll changed the cluster: master flavor %s, %d outdated, status %s", ng.FlavorID, len(ng.Outdated()), c.Status)
	}

	// The same reason as Sahara's validate_scaling for a resized master.
	t.Run("conformance", func(t *testing.T) {
		var f conformance.CaseFile
		conformance.ReadJSON(t, conformance.Dir(t), Name+"/validate_scaling.json", &f)
		i := slices.IndexFunc(f.Cases, func(tc conformance.Case) bool { return tc.ID == "resize-master-group" })
		if i < 0 {
			t.Fatal("no case resize-master-group in validate_scaling.json")
		}
		if diff := conformance.Compare(last, f.Cases[i].Outcome); diff != "" {
			t.Errorf("refusal differs from Sahara's: %s", diff)
		}
	})
}
