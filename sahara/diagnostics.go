package sahara

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// LogNamer is implemented by plugins whose software logs to files on the
// instances: a failed operation collects their last lines.
type LogNamer interface {
	LogFiles(c *Cluster, in *Instance) []string
}

// Diagnostics is what a failed operation collected from the instances
// involved, before any rollback deleted them: the failed commands and the
// tails of the plugin's logs, bounded and with the cluster's secrets masked.
type Diagnostics struct {
	At        time.Time             `json:"at"`
	Status    ClusterStatus         `json:"status"`
	Error     string                `json:"error"`
	Instances []InstanceDiagnostics `json:"instances,omitempty"`
}

// InstanceDiagnostics is one instance's part of Diagnostics.
type InstanceDiagnostics struct {
	Instance string `json:"instance"`
	// Command, ExitCode and Output are the failed command's name, exit
	// status and the tail of its output.
	Command  string `json:"command,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
	Output   string `json:"output,omitempty"`
	// Logs are the last lines of the plugin's log files, by path.
	Logs map[string]string `json:"logs,omitempty"`
	// Unavailable says why the logs could not be read.
	Unavailable string `json:"unavailable,omitempty"`
}

// Bounds of a collection.
const (
	diagMaxInstances = 5
	diagLogLines     = 40
	diagLogBytes     = 8 << 10
	diagTimeout      = 30 * time.Second
)

// Summary renders the bundle for a person, each log cut to maxLog bytes.
func (d *Diagnostics) Summary(maxLog int) string {
	var b strings.Builder
	for _, in := range d.Instances {
		fmt.Fprintf(&b, "\n%s:", in.Instance)
		if in.Command != "" {
			fmt.Fprintf(&b, " command %q exited with status %d", in.Command, in.ExitCode)
			if in.Output != "" {
				fmt.Fprintf(&b, "; its output ended:\n%s", indent(in.Output))
			}
		}
		for _, p := range slices.Sorted(maps.Keys(in.Logs)) {
			log := in.Logs[p]
			if len(log) > maxLog {
				log = "…" + log[len(log)-maxLog:]
			}
			fmt.Fprintf(&b, "\n  last lines of %s:\n%s", p, indent(log))
		}
		if in.Unavailable != "" {
			fmt.Fprintf(&b, "\n  logs unavailable: %s", in.Unavailable)
		}
	}
	return b.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// commandErrors lists the failed commands in err's tree.
func commandErrors(err error) []*CommandError {
	var out []*CommandError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if ce, ok := err.(*CommandError); ok {
			out = append(out, ce)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

var privateKeyBlock = regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)`)

// masker replaces the cluster's secrets (management key, plugin secrets,
// secret config values) and any private key block with "****".
func masker(c *Cluster) func(string) string {
	var secrets []string
	add := func(s string) {
		if len(s) >= 4 {
			secrets = append(secrets, s)
		}
	}
	add(c.ManagementPrivateKey)
	for _, v := range c.Secrets {
		add(v)
	}
	for _, k := range c.SecretConfigKeys {
		if v, ok := c.ClusterConfigs.Get(k.Target, k.Name); ok {
			add(AsString(v))
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return func(s string) string {
		s = privateKeyBlock.ReplaceAllString(s, "****")
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, "****")
		}
		return s
	}
}

// collectDiagnostics records in c.Diagnostics what the instances named by
// err's failed commands show: the command's output and the last lines of
// the plugin's logs. It runs before a rollback deletes instances and is
// bounded in time; a failure without a failed command collects nothing.
func (op *operation) collectDiagnostics(ctx context.Context, err error) {
	ces := commandErrors(err)
	if len(ces) == 0 || op.pool == nil {
		return
	}
	mask := masker(op.c)
	d := &Diagnostics{At: time.Now().UTC(), Status: op.c.Status, Error: mask(err.Error())}
	seen := map[string]bool{}
	for _, ce := range ces {
		if seen[ce.Instance] || len(d.Instances) == diagMaxInstances {
			continue
		}
		seen[ce.Instance] = true
		d.Instances = append(d.Instances, InstanceDiagnostics{Instance: ce.Instance, Command: ce.Name, ExitCode: ce.ExitCode, Output: mask(ce.StderrTail)})
	}
	p, _ := op.e.opts.Plugins.PluginVersion(op.c.PluginName, op.c.PluginVersion)
	namer, _ := p.(LogNamer)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range d.Instances { // at most diagMaxInstances
		in := op.c.Instance(d.Instances[i].Instance)
		if in == nil || namer == nil {
			continue
		}
		wg.Add(1)
		go func(di *InstanceDiagnostics) {
			defer wg.Done()
			logs, why := readLogTails(cctx, op.pool.Remote(in), namer.LogFiles(op.c, in))
			di.Unavailable = why
			for path, text := range logs {
				if di.Logs == nil {
					di.Logs = map[string]string{}
				}
				di.Logs[path] = mask(text)
			}
		}(&d.Instances[i])
	}
	wg.Wait()
	op.mu.Lock()
	op.c.Diagnostics = d
	op.mu.Unlock()
	op.log.Info("collected failure diagnostics", "instances", len(d.Instances))
}

// readLogTails reads the last lines of each file (as root: logs are often
// not the login user's), bounded per file.
func readLogTails(ctx context.Context, rem Remote, paths []string) (map[string]string, string) {
	out := map[string]string{}
	var errs []error
	for _, p := range paths {
		cmd, err := ShellJoin("tail", "-n", fmt.Sprint(diagLogLines), "--", p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := rem.ExecuteCommand(ctx, cmd+" 2>&1 | tail -c "+fmt.Sprint(diagLogBytes), ExecOptions{RunAsRoot: true, IgnoreExitCode: true, Name: "tail " + p})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p] = string(res.Stdout)
	}
	if err := errors.Join(errs...); err != nil {
		return out, err.Error()
	}
	return out, ""
}
