package dask

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// parallelism bounds concurrent work over instances.
const parallelism = 16

// versionMarker and bokehMarker prefix the probe lines of the prepare command.
const (
	versionMarker = "saharagen-dask-version "
	bokehMarker   = "saharagen-dask-bokeh "
)

func schedulerOf(c *sahara.Cluster) (*sahara.Instance, error) {
	ins := c.InstancesWithProcess(ProcScheduler)
	if len(ins) != 1 {
		return nil, sahara.InvalidComponentCount(ProcScheduler, 1, len(ins), "")
	}
	return ins[0], nil
}

// ConfigureCluster writes the supervisor script, each process's config file
// and (with TLS) the instance's certificate on every instance, after
// checking the image's Dask version.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	if err := chooseTransport(c); err != nil {
		return err
	}
	return p.configure(ctx, c, r, c.Instances())
}

// chooseTransport settles, once per cluster, whether it runs TLS (making
// its CA and the users' client certificate then).
func chooseTransport(c *sahara.Cluster) error {
	if c.Extra[extraTransport] == "" {
		v, err := value(c.ClusterConfigs, CfgTLS)
		if err != nil {
			return err
		}
		if c.Extra == nil {
			c.Extra = map[string]string{}
		}
		c.Extra[extraTransport] = "tcp"
		if v.(bool) {
			c.Extra[extraTransport] = "tls"
		}
	}
	if usesTLS(c) {
		_, err := clusterCA(c, true)
		return err
	}
	return nil
}

func (p *Plugin) configure(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return err
	}
	sched, err := schedulerOf(c)
	if err != nil {
		return err
	}
	var ca *certAuthority
	if cs.tls {
		if ca, err = clusterCA(c, false); err != nil {
			return err
		}
	}
	p.logger(ctx).Info("Configuring Dask", "instances", len(instances), "scheduler", schedulerAddress(sched, cs))
	return sahara.ParallelEach(ctx, parallelism, instances, func(ctx context.Context, in *sahara.Instance) error {
		return p.configureInstance(ctx, c, cs, ca, sched, r.Remote(in), in)
	})
}

func (p *Plugin) configureInstance(ctx context.Context, c *sahara.Cluster, cs clusterSettings, ca *certAuthority, sched *sahara.Instance, rem sahara.Remote, in *sahara.Instance) error {
	ng := in.NodeGroup()
	ns, err := nodeSettingsOf(ng)
	if err != nil {
		return err
	}
	if err := p.prepare(ctx, c, cs, rem, in); err != nil {
		return err
	}
	if err := rem.WriteFileTo(ctx, p.script(), serviceScript, sahara.FileOptions{RunAsRoot: true, Mode: 0o755}); err != nil {
		return fmt.Errorf("writing %s: %w", p.script(), err)
	}
	if ca != nil {
		if err := p.writeCertificate(ctx, ca, rem, in); err != nil {
			return err
		}
	}
	var files []sahara.File
	for _, role := range roles(in) {
		var data []byte
		if role == ProcScheduler {
			data, err = p.schedulerConf(in, cs)
		} else {
			data, err = p.workerConf(in, sched, cs, ns)
		}
		if err != nil {
			return err
		}
		files = append(files, sahara.File{Path: p.conf(role), Data: data})
	}
	if len(files) > 0 {
		if err := rem.WriteFilesTo(ctx, files, sahara.FileOptions{RunAsRoot: true, Mode: 0o644}); err != nil {
			return fmt.Errorf("writing Dask config files: %w", err)
		}
	}
	p.logger(ctx).Info(in.InstanceName+": configured Dask", "processes", strings.Join(roles(in), ","))
	return nil
}

// prepare makes the directories (logs and pid files owned by the image user,
// who runs the processes) and checks that the image has the cluster's Dask.
func (p *Plugin) prepare(ctx context.Context, c *sahara.Cluster, cs clusterSettings, rem sahara.Remote, in *sahara.Instance) error {
	dirs := []string{p.root + confDir, p.root + path.Dir(scriptPath), p.root + logDir, p.root + runDir}
	if cs.tls {
		dirs = append(dirs, p.root+tlsDir)
	}
	owned := []string{p.root + logDir, p.root + runDir}
	if in.NodeGroup().HasProcess(ProcWorker) {
		dirs = append(dirs, p.localDir(in))
		owned = append(owned, p.localDir(in))
	}
	mkdir, err := sahara.ShellJoin(append([]string{"mkdir", "-p", "--"}, dirs...)...)
	if err != nil {
		return err
	}
	cmd := mkdir
	if user := in.Username(); user != "" {
		chown, err := sahara.ShellJoin(append([]string{"chown", "--", user}, owned...)...)
		if err != nil {
			return err
		}
		cmd += " && " + chown
	}
	py := sahara.MustQuote(cs.python)
	cmd += " && { " + py + " -c " + sahara.MustQuote(`import distributed; print("`+versionMarker+`" + distributed.__version__)`) + " 2>&1 || true; }"
	wantBokeh := in.NodeGroup().HasProcess(ProcDashboard)
	if wantBokeh {
		cmd += " && { " + py + " -c " + sahara.MustQuote(`import bokeh; print("`+bokehMarker+`" + bokeh.__version__)`) + " 2>&1 || true; }"
	}
	res, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{RunAsRoot: true, Name: "dask prepare"})
	if err != nil {
		return fmt.Errorf("preparing Dask directories: %w", err)
	}
	out := string(res.Stdout)
	got := markerValue(out, versionMarker)
	if got == "" {
		return fmt.Errorf("the image has no Dask: %s cannot import the distributed package (install Debian's python3-distributed on the image, or set %q): %s",
			cs.python, CfgPythonPath, tailOf(res.Stdout, 300))
	}
	if upstream, _, _ := strings.Cut(got, "+"); upstream != c.PluginVersion {
		return fmt.Errorf("the image has Dask distributed %s but the cluster is plugin version %s: use an image whose tags match its installed python3-distributed", got, c.PluginVersion)
	}
	if wantBokeh && markerValue(out, bokehMarker) == "" {
		return fmt.Errorf("node group %q runs the dashboard, which needs the bokeh package, but %s cannot import it: install bokeh on the image or remove %q from the node group",
			in.NodeGroup().Name, cs.python, ProcDashboard)
	}
	return nil
}

func markerValue(out, marker string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), marker); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// writeCertificate puts the CA certificate and the instance's own
// certificate and key (readable by the image user only, who runs Dask) in
// place.
func (p *Plugin) writeCertificate(ctx context.Context, ca *certAuthority, rem sahara.Remote, in *sahara.Instance) error {
	certPEM, keyPEM, err := ca.issueFor(in)
	if err != nil {
		return err
	}
	public := []sahara.File{{Path: p.tlsCA(), Data: []byte(ca.CertPEM)}, {Path: p.tlsCert(), Data: certPEM}}
	if err := rem.WriteFilesTo(ctx, public, sahara.FileOptions{RunAsRoot: true, Mode: 0o644}); err != nil {
		return fmt.Errorf("writing the Dask TLS certificates: %w", err)
	}
	if err := rem.WriteFileTo(ctx, p.tlsKey(), keyPEM, sahara.FileOptions{RunAsRoot: true, Mode: 0o600, Owner: in.Username(), Sensitive: true}); err != nil {
		return fmt.Errorf("writing %s: %w", p.tlsKey(), err)
	}
	return nil
}
