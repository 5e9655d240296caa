package ambari

import (
	"context"
	"fmt"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// ScaleCluster implements sahara.Scaler (scale_cluster): agents on the new
// instances, then Ambari adds them as hosts with a config group each for
// their storage directories and node group configs, installs and starts
// their components.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	server, err := ambariServer(c)
	if err != nil {
		return err
	}
	if err := p.setupAgents(ctx, instances, server, rs); err != nil {
		return err
	}
	cl, err := p.client(ctx, c, server, rs)
	if err != nil {
		return err
	}
	if err := p.waitRegistration(ctx, cl, instances); err != nil {
		return err
	}
	if err := p.resolvePackageConflicts(ctx, instances, rs); err != nil {
		return err
	}
	for _, in := range instances {
		if err := cl.addHostToCluster(ctx, c.Name, in.FQDN()); err != nil {
			return fmt.Errorf("%s: adding the host to Ambari's cluster: %w", in.InstanceName, err)
		}
	}
	s, err := stackOf(c.PluginVersion)
	if err != nil {
		return err
	}
	var groups []map[string]any
	for _, in := range instances {
		groups = append(groups, configGroups(s, c, in)...)
	}
	if len(groups) > 0 {
		if err := cl.createConfigGroups(ctx, c.Name, groups); err != nil {
			return fmt.Errorf("creating the config groups of the new hosts: %w", err)
		}
	}
	if err := p.installComponents(ctx, cl, c, instances); err != nil {
		return err
	}
	if err := p.startComponents(ctx, cl, c, instances); err != nil {
		return err
	}
	return p.addSwiftJar(ctx, instances, rs)
}

// installComponents adds the components of each new host (its node
// group's and the cluster's clients) and installs them.
func (p *Plugin) installComponents(ctx context.Context, cl *client, c *sahara.Cluster, instances []*sahara.Instance) error {
	clientList := clients(c)
	var ids []int
	for _, in := range instances {
		for _, comp := range append(groupComponents(in.NodeGroup()), clientList...) {
			if err := cl.addComponentToHost(ctx, c.Name, in.FQDN(), comp); err != nil {
				return fmt.Errorf("%s: adding %s: %w", in.InstanceName, comp, err)
			}
			id, err := cl.setComponentState(ctx, c.Name, in.FQDN(), comp, "INSTALLED")
			if err != nil {
				return fmt.Errorf("%s: installing %s: %w", in.InstanceName, comp, err)
			}
			ids = append(ids, id)
		}
	}
	return p.waitRequests(ctx, cl, c.Name, ids)
}

// startComponents starts the node group's components and the metrics
// monitor of each new host.
func (p *Plugin) startComponents(ctx context.Context, cl *client, c *sahara.Cluster, instances []*sahara.Instance) error {
	var ids []int
	for _, in := range instances {
		for _, comp := range append(groupComponents(in.NodeGroup()), everywhere...) {
			id, err := cl.setComponentState(ctx, c.Name, in.FQDN(), comp, "STARTED")
			if err != nil {
				return fmt.Errorf("%s: starting %s: %w", in.InstanceName, comp, err)
			}
			ids = append(ids, id)
		}
	}
	return p.waitRequests(ctx, cl, c.Name, ids)
}

// DecommissionNodes implements sahara.Scaler (decommission_nodes, as Sahara
// meant it: Sahara 8.0.0 crashes before its first call on Python 3): the
// NodeManagers and DataNodes leave YARN and HDFS, the hosts' components are
// stopped and removed, the hosts leave Ambari's cluster, the NameNodes and
// ResourceManagers restart, the hosts' config groups go. Hosts or groups
// already gone count as done, so a retry resumes.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	server, err := ambariServer(c)
	if err != nil {
		return err
	}
	cl, err := p.client(ctx, c, server, rs)
	if err != nil {
		return err
	}
	for _, d := range []struct{ proc, slave, service, component string }{
		{ProcNodeManager, "NODEMANAGER", "YARN", "RESOURCEMANAGER"},
		{ProcDataNode, "DATANODE", "HDFS", "NAMENODE"},
	} {
		var hosts []string
		for _, in := range instances {
			if in.NodeGroup().HasProcess(d.proc) {
				hosts = append(hosts, in.FQDN())
			}
		}
		if len(hosts) == 0 {
			continue
		}
		p.Logger(ctx).Info("decommissioning", "slave_type", d.slave, "hosts", len(hosts))
		id, err := cl.postRequest(ctx, c.Name, decommissionRequest(c.Name, d.slave, d.service, d.component, hosts))
		if err != nil {
			return fmt.Errorf("decommissioning %s: %w", d.slave, err)
		}
		if err := p.waitRequests(ctx, cl, c.Name, []int{id}); err != nil {
			return err
		}
	}
	for _, in := range instances {
		if err := p.removeHost(ctx, cl, c.Name, in); err != nil {
			return fmt.Errorf("%s: removing the host from Ambari: %w", in.InstanceName, err)
		}
	}
	for _, r := range []struct{ proc, what, service, component string }{
		{ProcNameNode, "NameNode", "HDFS", "NAMENODE"},
		{ProcResourceManager, "ResourceManager", "YARN", "RESOURCEMANAGER"},
	} {
		for _, in := range c.InstancesWithProcess(r.proc) {
			id, err := cl.postRequest(ctx, c.Name, restartRequest(c.Name, r.what, r.service, r.component, in.FQDN()))
			if err != nil {
				return fmt.Errorf("%s: restarting the %s: %w", in.InstanceName, r.what, err)
			}
			if err := p.waitRequests(ctx, cl, c.Name, []int{id}); err != nil {
				return err
			}
		}
	}
	return p.cleanupConfigGroups(ctx, cl, c, instances)
}

// removeHost stops and removes every component of the host, waits until
// none is left, then removes the host.
func (p *Plugin) removeHost(ctx context.Context, cl *client, cluster string, in *sahara.Instance) error {
	comps, err := cl.hostComponents(ctx, cluster, in.FQDN())
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, comp := range comps {
		id, err := cl.stopComponent(ctx, cluster, in.FQDN(), comp)
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("stopping %s: %w", comp, err)
		}
		if id != 0 {
			if err := p.waitRequests(ctx, cl, cluster, []int{id}); err != nil {
				return err
			}
		}
		if err := cl.removeComponent(ctx, cluster, in.FQDN(), comp); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing %s: %w", comp, err)
		}
	}
	for {
		left, err := cl.hostComponents(ctx, cluster, in.FQDN())
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(left) == 0 {
			break
		}
		if err := p.Sleep(ctx, 5*time.Second); err != nil {
			return err
		}
	}
	if err := cl.deleteHost(ctx, cluster, in.FQDN()); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// cleanupConfigGroups removes the config groups of the removed hosts
// (named "<cluster>:<instance>").
func (p *Plugin) cleanupConfigGroups(ctx context.Context, cl *client, c *sahara.Cluster, instances []*sahara.Instance) error {
	remove := map[string]bool{}
	for _, in := range instances {
		remove[c.Name+":"+in.InstanceName] = true
	}
	ids, err := cl.configGroupIDs(ctx, c.Name)
	if err != nil {
		return err
	}
	for _, id := range ids {
		name, err := cl.configGroupName(ctx, c.Name, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !remove[name] {
			continue
		}
		if err := cl.removeConfigGroup(ctx, c.Name, id); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing config group %s: %w", name, err)
		}
	}
	return nil
}
