package vanilla

import (
	"context"
	"fmt"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// zkValue is Sahara's get_config_value_or_default for the ZooKeeper
// options: cluster configs, then the first node group that sets it, then
// the default. Values go into zoo.cfg, so they must be integers.
func zkValue(c *sahara.Cluster, name string) (int, error) {
	var v any
	at := sahara.ConfigField(nil, SvcZooKeeper, name)
	if x, ok := c.ClusterConfigs.Get(SvcZooKeeper, name); ok {
		v = x
	} else {
		for _, ng := range c.NodeGroups {
			if x, ok := ng.Configuration().Get(SvcZooKeeper, name); ok && sahara.AsString(x) != "" {
				v, at = x, sahara.ConfigField(ng, SvcZooKeeper, name)
				break
			}
		}
	}
	if v == nil {
		cfg, _ := sahara.FindConfig(zookeeperConfigs(), SvcZooKeeper, name)
		v = cfg.Default
	}
	n, err := sahara.AsInt(v)
	if err != nil {
		return 0, sahara.InvalidData(fmt.Sprintf("ZooKeeper config %q: %v", name, err)).At(at)
	}
	return n, nil
}

// zkServers are the cluster's ZooKeeper instances without the removed ones.
func zkServers(c *sahara.Cluster, removedInstances []*sahara.Instance) []*sahara.Instance {
	gone := removed(removedInstances)
	var out []*sahara.Instance
	for _, in := range c.InstancesWithProcess(ProcZooKeeper) {
		if !gone(in) {
			out = append(out, in)
		}
	}
	return out
}

// configureZooKeeper writes zoo.cfg (the quorum of the remaining servers)
// and each server's myid.
func (p *Plugin) configureZooKeeper(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, removedInstances []*sahara.Instance) error {
	servers := zkServers(c, removedInstances)
	if len(servers) == 0 {
		return nil
	}
	data := map[string]any{}
	for key, name := range map[string]string{"TickTime": "tickTime", "InitLimit": "initLimit", "SyncLimit": "syncLimit"} {
		n, err := zkValue(c, name)
		if err != nil {
			return err
		}
		data[key] = n
	}
	hosts := make([]string, len(servers))
	for i, in := range servers {
		hosts[i] = in.Hostname()
	}
	data["Servers"] = hosts
	cfg, err := render("zoo.cfg.tmpl", data)
	if err != nil {
		return err
	}
	p.Logger(ctx).Info(fmt.Sprintf("Configuring ZooKeeper on %d instances", len(servers)), "cluster", c.Name)
	index := map[*sahara.Instance]int{}
	for i, in := range servers {
		index[in] = i
	}
	return sahara.ParallelEach(ctx, p.Parallelism, servers, func(ctx context.Context, in *sahara.Instance) error {
		rem := r.Remote(in)
		if err := rem.WriteFileTo(ctx, "/opt/zookeeper/conf/zoo.cfg", cfg, sahara.FileOptions{RunAsRoot: true}); err != nil {
			return err
		}
		return run(ctx, rem, asHadoop(fmt.Sprintf("echo %d > /var/zookeeper/myid", index[in])))
	})
}

// zooKeeperServers runs zkServer.sh <op> on the remaining ZooKeeper servers.
func (p *Plugin) zooKeeperServers(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, removedInstances []*sahara.Instance, op string) error {
	servers := zkServers(c, removedInstances)
	if len(servers) == 0 {
		return nil
	}
	p.Logger(ctx).Info(fmt.Sprintf("ZooKeeper %s on %d instances", op, len(servers)), "cluster", c.Name)
	return sahara.ParallelEach(ctx, p.Parallelism, servers, func(ctx context.Context, in *sahara.Instance) error {
		return run(ctx, r.Remote(in), asHadoop("bash /opt/zookeeper/bin/zkServer.sh "+op))
	})
}
