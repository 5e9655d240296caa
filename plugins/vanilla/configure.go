package vanilla

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// notProvisioned are Sahara processes saharagen validates like Sahara but
// cannot provision yet (their resources are not part of the plugin).
var notProvisioned = []string{ProcOozie, ProcHiveServer, ProcSparkHistory}

func checkProvisionable(c *sahara.Cluster) error {
	for _, ng := range c.NodeGroups {
		for _, proc := range notProvisioned {
			if ng.HasProcess(proc) {
				return sahara.InvalidData(fmt.Sprintf("Node group %s: the vanilla plugin of saharagen cannot provision %q yet; supported processes are namenode, secondarynamenode, datanode, resourcemanager, nodemanager, historyserver and zookeeper", ng.Name, proc)).
					At(sahara.Field{NodeGroup: ng.Name, Attribute: "node_processes"})
			}
		}
	}
	return nil
}

// ConfigureCluster implements sahara.Plugin (configure_cluster): the site
// files, heap sizes and directories of every instance, then ZooKeeper.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	if err := checkProvisionable(c); err != nil {
		return err
	}
	if err := p.configureInstances(ctx, c, r, l, c.Instances()); err != nil {
		return err
	}
	return p.configureZooKeeper(ctx, c, r, nil)
}

// configureInstances is Sahara's configure_instances. Sahara configures one
// instance after the other; saharagen runs up to Parallelism at once, each
// instance's calls in Sahara's order.
func (p *Plugin) configureInstances(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, l *line, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	p.Logger(ctx).Info("Configuring instances", "cluster", c.Name, "instances", len(instances))
	var done atomic.Int32
	return sahara.ParallelEach(ctx, p.Parallelism, instances, func(ctx context.Context, in *sahara.Instance) error {
		if err := p.configureInstance(ctx, c, r.Remote(in), l, in); err != nil {
			return err
		}
		p.Logger(ctx).Info(fmt.Sprintf("Configured %d/%d instances", done.Add(1), len(instances)), "cluster", c.Name, "instance", in.InstanceName)
		return nil
	})
}

func (p *Plugin) configureInstance(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, l *line, in *sahara.Instance) error {
	d, err := dirsOf(in)
	if err != nil {
		return err
	}
	files, err := siteFiles(c, l, in, d)
	if err != nil {
		return err
	}
	heaps, err := heapSizes(in.NodeGroup())
	if err != nil {
		return err
	}
	script, err := postConfScript(l, d)
	if err != nil {
		return err
	}
	for _, f := range files {
		opts := sahara.FileOptions{RunAsRoot: true}
		if f.secret { // post_conf.sh gives it to hadoop:hadoop; nobody else reads it
			opts.Mode, opts.Sensitive = 0o640, true
		}
		if err := rem.WriteFileTo(ctx, f.path, f.data, opts); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	for _, e := range l.envEdits {
		path := hadoopConfDir + "/" + e.file
		if err := rem.ReplaceRemoteString(ctx, path, e.old, fmt.Sprintf(e.format, heaps[e.config]), sahara.FileOptions{RunAsRoot: true}); err != nil {
			return fmt.Errorf("setting %s in %s: %w", e.config, path, err)
		}
	}
	if err := rem.WriteFileTo(ctx, "/tmp/post_conf.sh", script, sahara.FileOptions{}); err != nil {
		return fmt.Errorf("writing /tmp/post_conf.sh: %w", err)
	}
	for _, cmd := range []string{"chmod +x /tmp/post_conf.sh", "sudo /tmp/post_conf.sh"} {
		if _, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}
