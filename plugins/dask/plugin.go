// Package dask is the saharagen plugin for Dask distributed clusters: one
// scheduler, any number of workers, graceful retirement of workers (their
// data moves to the others before they leave) when a cluster shrinks.
//
// It runs Debian's python3-distributed as it is installed on the image: the
// plugin renders one config file per process, a small pid-file supervisor
// script (resources/dask-service.sh) and drives the scheduler through a
// Python client script (resources/dask_ctl.py) on the scheduler instance.
//
// Unless the cluster config "Use TLS" is false, the cluster talks TLS with
// mutual authentication: the plugin makes a CA per cluster (kept in the
// cluster's Secrets), a certificate per instance at configure, and a client
// certificate for the users (Cluster.UserCredentials); see tls.go.
package dask

import (
	"context"
	_ "embed"
	"io"
	"log/slog"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Version is the Dask distributed version of the images this plugin
// supports: Debian bookworm's python3-distributed (2022.12.1+ds.1) without
// the Debian suffix. Images carry the tags "dask" and this version.
const Version = "2022.12.1"

// Service is the one service of the plugin (the target of its configs).
const Service = "Dask"

// Node processes.
const (
	ProcScheduler = "scheduler"
	ProcWorker    = "worker"
	// ProcDashboard is the scheduler's web dashboard; it needs bokeh on the image.
	ProcDashboard = "dashboard"
)

var (
	//go:embed resources/dask-service.sh
	serviceScript []byte
	//go:embed resources/dask_ctl.py
	ctlScript []byte
)

// Options configure the plugin.
type Options struct {
	// Logger receives progress at Info (nil: discard).
	Logger *slog.Logger
	// PollInterval is the pause between scheduler polls (default 2 s).
	PollInterval time.Duration
	// Root prefixes every path the plugin writes on an instance; "" on real
	// instances. Tests that run several "instances" on one host use it.
	Root string
}

// Plugin is the dask provisioning plugin.
type Plugin struct {
	log  *slog.Logger
	poll time.Duration
	root string
}

var (
	_ sahara.Plugin           = (*Plugin)(nil)
	_ sahara.Validator        = (*Plugin)(nil)
	_ sahara.ScalingValidator = (*Plugin)(nil)
	_ sahara.Scaler           = (*Plugin)(nil)
	_ sahara.Terminator       = (*Plugin)(nil)
	_ sahara.PortOpener       = (*Plugin)(nil)
	_ sahara.HealthChecker    = (*Plugin)(nil)
)

// New returns the plugin.
func New(o Options) *Plugin {
	p := &Plugin{log: o.Logger, poll: o.PollInterval, root: o.Root}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.poll <= 0 {
		p.poll = 2 * time.Second
	}
	return p
}

// Name is the registry name.
func (p *Plugin) Name() string { return "dask" }

// Title is the human name.
func (p *Plugin) Title() string { return "Dask" }

// Description says what the plugin provisions.
func (p *Plugin) Description() string {
	return "Dask distributed clusters (Debian's python3-distributed): one scheduler and any number of workers; " +
		"shrinking retires workers gracefully so the data they hold moves to the remaining workers."
}

// Versions lists the supported Dask distributed versions.
func (p *Plugin) Versions() []string { return []string{Version} }

// NodeProcesses lists the service and its processes.
func (p *Plugin) NodeProcesses(version string) ([]sahara.Service, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	return []sahara.Service{{Name: Service, Processes: []string{ProcScheduler, ProcWorker, ProcDashboard}}}, nil
}

func checkVersion(version string) error {
	if version != Version {
		return sahara.InvalidReference("Requested plugin 'dask' doesn't support version '" + version + "'").At(sahara.Field{Attribute: "plugin_version"})
	}
	return nil
}

// ctx helper: a child context bounded by d (no bound when d <= 0).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// logger is the operation's logger when the engine passed one in ctx
// (sahara.WithLogger), else Options.Logger.
func (p *Plugin) logger(ctx context.Context) *slog.Logger { return sahara.LoggerFrom(ctx, p.log) }
