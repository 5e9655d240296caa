package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// BenchmarkTestbed_Lifecycle is `make bench`: for each cluster size N of
// SAHARAGEN_BENCH_N (default 3,10,50), the real Terraform CLI and this
// tree's provider binary create a fake-plugin cluster (real SSH work on
// every instance), scale it by +2 and −2, refresh it (terraform plan) and
// destroy it. Each operation is set against its physical limit measured in
// the same run: create and scale up, the moment the slowest new server
// answered SSH plus one instance's configure and start (the plugin phase of
// the smallest cluster's create); scale down, the plugin's decommission
// plus the cloud's own time to delete 2 servers; delete, the cloud's own
// time to delete N servers with their ports and groups sent all at once
// (testbed.Env.BulkTimes). OpenStack requests are counted by service
// at a proxy in front of the cloud (Keystone aside); SSH handshakes, the
// provider's CPU and peak RSS come from the provider's "Operation usage"
// log line. Each size runs with each engine of SAHARAGEN_BENCH_ENGINES
// (default direct,heat), one after the other on the same testbed, and the
// report sets the Heat engine's times and requests against the direct
// engine's (the provider's requests: those Heat itself makes to Nova,
// Neutron and Cinder are the cloud's work, not counted). The table goes to
// stdout, the figures as JSON to SAHARAGEN_BENCH_JSON, the provider's logs
// to SAHARAGEN_BENCH_LOGS.
//
//	SAHARAGEN_TESTBED=1 go test ./internal/provider -run '^$' -bench Testbed_Lifecycle -benchtime 1x -timeout 2h
func BenchmarkTestbed_Lifecycle(b *testing.B) {
	env := testbed.Require(b)
	sizes := benchSizes(b)
	engs := benchEngines(b)
	ctx := context.Background()
	var rows []benchRow
	var plugin time.Duration // one instance's configure and start
	for _, n := range sizes {
		for _, engine := range engs {
			rows = append(rows, benchLifecycle(ctx, b, env, n, engine, &plugin)...)
		}
	}
	rep := benchReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: benchMachine(), Rows: rows}
	rep.Engines = engineRatios(rows)
	for _, r := range rows {
		if r.Engine != engineDirect {
			continue
		}
		if r.Op == "create" && r.N == 10 {
			rep.Create10 = r.Seconds
		}
		if r.Op == "create" && r.N == 50 {
			rep.Create50 = r.Seconds
		}
	}
	if rep.Create10 > 0 && rep.Create50 > 0 {
		rep.Ratio50To10 = rep.Create50 / rep.Create10
	}
	fmt.Print(rep.markdown())
	if path := os.Getenv("SAHARAGEN_BENCH_JSON"); path != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSizes(b *testing.B) []int {
	spec := os.Getenv("SAHARAGEN_BENCH_N")
	if spec == "" {
		spec = "3,10,50"
	}
	var out []int
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 3 {
			b.Fatalf("SAHARAGEN_BENCH_N=%q: sizes are integers of at least 3 (a master and workers, minus 2 at scale down)", spec)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func benchEngines(b *testing.B) []string {
	spec := os.Getenv("SAHARAGEN_BENCH_ENGINES")
	if spec == "" {
		spec = engineDirect + "," + engineHeat
	}
	var out []string
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(engines, s) {
			b.Fatalf("SAHARAGEN_BENCH_ENGINES=%q: engines are %s", spec, strings.Join(engines, ", "))
		}
		out = append(out, s)
	}
	return out
}

// benchRow is one operation on one cluster size with one engine.
type benchRow struct {
	N      int    `json:"n"`
	Engine string `json:"engine"`
	Op     string `json:"operation"`
	// Seconds is the provider's time for the operation (its RPC), TerraformSeconds the CLI command's.
	Seconds          float64       `json:"seconds"`
	TerraformSeconds float64       `json:"terraform_seconds"`
	Statuses         []benchStatus `json:"statuses,omitempty"`
	SlowestSSH       float64       `json:"slowest_ssh_seconds,omitempty"`
	// CloudBoot (create rows) is the cloud's own time to bring N servers to ACTIVE, all requested at once.
	CloudBoot  float64            `json:"cloud_boot_seconds,omitempty"`
	Limit      float64            `json:"limit_seconds,omitempty"`
	Ratio      float64            `json:"ratio,omitempty"`
	Requests   map[string]int     `json:"requests"`
	Handshakes int                `json:"ssh_handshakes"`
	CPU        float64            `json:"cpu_seconds"`
	RSS        float64            `json:"peak_rss_mib"`
	Usage      map[string]float64 `json:"-"`
}

type benchStatus struct {
	Status  sahara.ClusterStatus `json:"status"`
	Seconds float64              `json:"seconds"`
}

type benchReport struct {
	Date    string     `json:"date"`
	Machine string     `json:"machine"`
	Rows    []benchRow `json:"rows"`
	// Engines compares the Heat engine with the direct one, operation by operation.
	Engines     []engineRatio `json:"heat_vs_direct,omitempty"`
	Create10    float64       `json:"create_10_seconds,omitempty"`
	Create50    float64       `json:"create_50_seconds,omitempty"`
	Ratio50To10 float64       `json:"create_50_to_10,omitempty"`
}

// engineRatio is one operation on one size with both engines.
type engineRatio struct {
	N              int     `json:"n"`
	Op             string  `json:"operation"`
	DirectSeconds  float64 `json:"direct_seconds"`
	HeatSeconds    float64 `json:"heat_seconds"`
	Ratio          float64 `json:"heat_to_direct"`
	DirectRequests int     `json:"direct_requests"`
	HeatRequests   int     `json:"heat_requests"`
}

// engineRatios pairs the rows of the two engines.
func engineRatios(rows []benchRow) []engineRatio {
	var out []engineRatio
	for _, d := range rows {
		if d.Engine != engineDirect {
			continue
		}
		for _, h := range rows {
			if h.Engine == engineHeat && h.N == d.N && h.Op == d.Op {
				e := engineRatio{N: d.N, Op: d.Op, DirectSeconds: d.Seconds, HeatSeconds: h.Seconds,
					DirectRequests: sum(d.Requests), HeatRequests: sum(h.Requests)}
				if d.Seconds > 0 {
					e.Ratio = h.Seconds / d.Seconds
				}
				out = append(out, e)
			}
		}
	}
	return out
}

var benchServices = []string{"compute", "network", "volumev3", "image", "object-store", "orchestration"}

func benchLifecycle(ctx context.Context, b *testing.B, env *testbed.Env, n int, engine string, plugin *time.Duration) []benchRow {
	proxy, overrides := env.FaultProxy(b, benchServices...)
	// The catalog's Glance endpoint is unversioned; an override is used as is.
	overrides["image"] = strings.TrimSuffix(overrides["image"], "/") + "/v2/"
	r := newTFRun(b, env)
	logs := b.TempDir()
	if dir := os.Getenv("SAHARAGEN_BENCH_LOGS"); dir != "" { // kept to see where the time went
		logs = filepath.Join(dir, fmt.Sprintf("n%d-%s", n, engine))
		if err := os.MkdirAll(logs, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	name := accName("bench" + engine[:1])
	workers := n - 1
	var rows []benchRow
	step := func(op string, args ...string) benchRow {
		b.Helper()
		before := map[string]int{}
		for _, s := range benchServices {
			before[s] = proxy.Requests(s)
		}
		logPath := filepath.Join(logs, op+".log")
		saved := r.env
		level := "INFO" // the usage line of a refresh is at DEBUG; elsewhere DEBUG's request dumps would cost CPU
		if op == "refresh" {
			level = "DEBUG"
		}
		r.env = append(slices.Clone(saved), "TF_LOG_PROVIDER="+level, "TF_LOG_PATH="+logPath)
		start := time.Now()
		out, code := r.exec(args...)
		wall := time.Since(start)
		r.env = saved
		if code != 0 { // a refresh of an unchanged cluster plans nothing (exit 0, not 2)
			b.Fatalf("N=%d %s %s: terraform %s: exit %d\n%s", n, engine, op, strings.Join(args, " "), code, tail(out, 4000))
		}
		row := benchRow{N: n, Engine: engine, Op: op, TerraformSeconds: wall.Seconds(), Requests: map[string]int{}}
		for _, s := range benchServices {
			if d := proxy.Requests(s) - before[s]; d > 0 {
				row.Requests[s] = d
			}
		}
		row.Usage = usageOf(b, logPath)
		row.Seconds, row.CPU, row.RSS, row.Handshakes = row.Usage["seconds"], row.Usage["cpu_seconds"], row.Usage["peak_rss_mib"], int(row.Usage["ssh_handshakes"])
		b.Logf("N=%d %s %s: %.1fs (terraform %.1fs), %d requests, %d SSH handshakes", n, engine, op, row.Seconds, wall.Seconds(), sum(row.Requests), row.Handshakes)
		return row
	}
	config := func(workers int) {
		r.write(fakeCluster(env, name, "worker", workers, overridesBlock(overrides)+fmt.Sprintf("  engine = %q\n", engine)))
	}
	destroyed := false
	b.Cleanup(func() {
		if !destroyed {
			_, _ = r.exec("destroy", "-auto-approve")
		}
	})

	config(workers)
	create := step("create", "apply", "-auto-approve")
	rec := r.record(ctx, name)
	if rec == nil {
		b.Fatalf("N=%d: no record of %s after create", n, name)
	}
	clusterID := rec.ID
	sshAt := phases(&create, rec)
	if *plugin == 0 { // the smallest cluster's configure and start: one instance's, uncontended
		*plugin = statusTime(create.Statuses, sahara.StatusConfiguring, sahara.StatusStarting)
	}
	create.Limit = (sshAt + *plugin).Seconds()

	config(workers + 2)
	up := step("scale +2", "apply", "-auto-approve")
	sshAt = phases(&up, r.record(ctx, name))
	up.Limit = (sshAt + *plugin).Seconds()
	rows = append(rows, up)

	config(workers)
	down := step("scale -2", "apply", "-auto-approve")
	rec = r.record(ctx, name)
	phases(&down, rec)
	two, err := env.BulkTimes(ctx, 2, name+"-limit2")
	if err != nil {
		b.Fatalf("N=%d: measuring the cloud's delete of 2 servers: %v", n, err)
	}
	down.Limit = (stepTime(rec, sahara.StepTypeDecommission) + two.Delete).Seconds()
	rows = append(rows, down)

	rows = append(rows, step("refresh", "plan", "-detailed-exitcode"))

	del := step("delete", "destroy", "-auto-approve")
	destroyed = true
	env.AssertNoLeftovers(b, clusterID)
	bulk, err := env.BulkTimes(ctx, n, name+"-limit")
	if err != nil {
		b.Fatalf("N=%d: measuring the cloud's delete of %d servers: %v", n, n, err)
	}
	del.Limit = bulk.Delete.Seconds()
	create.CloudBoot = bulk.Create.Seconds()
	rows = append([]benchRow{create}, rows...)
	rows = append(rows, del)
	for i := range rows {
		if rows[i].Limit > 0 {
			rows[i].Ratio = rows[i].Seconds / rows[i].Limit
		}
	}
	return rows
}

// phases fills the row's status durations from the record's last
// operation and returns when, from the operation's start, the slowest new
// server answered SSH (0 when none was waited for).
func phases(row *benchRow, c *sahara.Cluster) time.Duration {
	if c == nil {
		return 0
	}
	changes, steps := c.LastOperation()
	if len(changes) == 0 {
		return 0
	}
	for i, ch := range changes[:len(changes)-1] {
		row.Statuses = append(row.Statuses, benchStatus{Status: ch.To, Seconds: changes[i+1].At.Sub(ch.At).Seconds()})
	}
	var ssh time.Duration
	for _, st := range steps {
		if st.Name != "Wait for instance accessibility" {
			continue
		}
		for _, ev := range st.Events {
			ssh = max(ssh, ev.Time.Sub(changes[0].At))
		}
	}
	row.SlowestSSH = ssh.Seconds()
	return ssh
}

func statusTime(statuses []benchStatus, which ...sahara.ClusterStatus) time.Duration {
	var d float64
	for _, s := range statuses {
		if slices.Contains(which, s.Status) {
			d += s.Seconds
		}
	}
	return time.Duration(d * float64(time.Second))
}

// stepTime is the duration of the last operation's steps of a type.
func stepTime(c *sahara.Cluster, stepType string) time.Duration {
	if c == nil {
		return 0
	}
	_, steps := c.LastOperation()
	var d time.Duration
	for _, st := range steps {
		if st.Type == stepType && !st.FinishedAt.IsZero() {
			d += st.FinishedAt.Sub(st.StartedAt)
		}
	}
	return d
}

var usageField = regexp.MustCompile(`\b(seconds|cpu_seconds|peak_rss_mib|ssh_handshakes)=([0-9.e+-]+)`)

// usageOf reads the cluster's "Operation usage" lines of a provider log:
// seconds, CPU and handshakes add up (a plan refreshes once, an apply may
// refresh and then change), peak RSS is the highest.
func usageOf(b *testing.B, path string) map[string]float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("provider log: %v", err)
	}
	out := map[string]float64{}
	found := false
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "Operation usage") {
			continue
		}
		found = true
		isRead := strings.Contains(line, "operation=Read")
		for _, m := range usageField.FindAllStringSubmatch(line, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			switch {
			case m[1] == "peak_rss_mib":
				out[m[1]] = max(out[m[1]], v)
			case isRead && out["mutations"] > 0:
				// a refresh before the change is not the operation
			default:
				out[m[1]] += v
			}
		}
		if !isRead {
			out["mutations"]++
		}
	}
	if !found {
		b.Fatalf("no \"Operation usage\" line in the provider log %s", path)
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func benchMachine() string {
	host, _ := os.Hostname()
	cpus := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		cpus = strconv.Itoa(strings.Count(string(data), "processor\t:"))
	}
	return fmt.Sprintf("%s, %s CPUs", host, cpus)
}

func (rep benchReport) markdown() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n### saharagen on the testbed, %s (%s)\n\n", rep.Date[:10], rep.Machine)
	sb.WriteString("| N | engine | operation | provider s | limit s | ratio | slowest SSH s | statuses (s) | OpenStack requests | SSH handshakes | CPU s | peak RSS MiB |\n")
	sb.WriteString("|---:|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|\n")
	for _, r := range rep.Rows {
		var st []string
		for _, s := range r.Statuses {
			st = append(st, fmt.Sprintf("%s %.1f", s.Status, s.Seconds))
		}
		var req []string
		for _, s := range slices.Sorted(maps.Keys(r.Requests)) {
			req = append(req, fmt.Sprintf("%s %d", s, r.Requests[s]))
		}
		fmt.Fprintf(&sb, "| %d | %s | %s | %.1f | %s | %s | %s | %s | %d: %s | %d | %.2f | %.0f |\n", r.N, r.Engine, r.Op, r.Seconds,
			orDash(r.Limit, "%.1f"), orDash(r.Ratio, "%.2f"), orDash(r.SlowestSSH, "%.1f"), strings.Join(st, ", "),
			sum(r.Requests), strings.Join(req, ", "), r.Handshakes, r.CPU, r.RSS)
	}
	if len(rep.Engines) > 0 {
		sb.WriteString("\nHeat engine against the direct engine (provider's seconds; the provider's OpenStack requests, Heat's own calls not counted):\n\n")
		sb.WriteString("| N | operation | direct s | heat s | heat / direct | direct requests | heat requests |\n")
		sb.WriteString("|---:|---|---:|---:|---:|---:|---:|\n")
		for _, e := range rep.Engines {
			fmt.Fprintf(&sb, "| %d | %s | %.1f | %.1f | %.2f | %d | %d |\n", e.N, e.Op, e.DirectSeconds, e.HeatSeconds, e.Ratio, e.DirectRequests, e.HeatRequests)
		}
	}
	sb.WriteString("\n")
	for _, r := range rep.Rows {
		if r.CloudBoot > 0 {
			fmt.Fprintf(&sb, "- N=%d: the cloud alone brings %d servers to ACTIVE in %.1f s (all requested at once, no SSH).\n", r.N, r.N, r.CloudBoot)
		}
	}
	if rep.Ratio50To10 > 0 {
		fmt.Fprintf(&sb, "- Create N=50 / N=10: %.2f.\n", rep.Ratio50To10)
	}
	return sb.String()
}

func orDash(v float64, format string) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf(format, v)
}
