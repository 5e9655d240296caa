package openstack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Metadata key naming the instance of a volume.
const tagInstance = "saharagen_instance"

// spawnPlan holds what every instance of one spawn step shares, resolved
// once (network, security groups, pools, keys) so each boot costs a
// constant number of requests.
type spawnPlan struct {
	cl        *sahara.Cluster
	cc, nc    *gophercloud.ServiceClient
	vc        *gophercloud.ServiceClient
	netID     string
	sgIDs     map[string]string // name or ID → ID
	pools     map[string]string // pool name or ID → network ID
	userKey   string
	flavorGB  map[string]int
	total     int
	spawned   atomic.Int32
	portFixed sync.Map // instance name → fixed IP of its port
	floating  sync.Map // instance name → floating IP address allocated

	// What an interrupted earlier attempt left, found by identity once per
	// step, so a retry adopts it instead of creating duplicates.
	oldServers map[string]servers.Server         // by name
	oldPorts   map[string]ports.Port             // by name
	oldFIPs    map[string]floatingips.FloatingIP // by port ID
	oldVolumes map[string][]volumes.Volume       // by instance name, sorted by name
}

// SpawnInstances boots the new instances in parallel and waits until they
// are ACTIVE with their volumes attached.
func (c *Cloud) SpawnInstances(ctx context.Context, cl *sahara.Cluster, instances []*sahara.Instance, progress sahara.ProgressFunc) error {
	if len(instances) == 0 {
		return nil
	}
	if progress == nil {
		progress = func(*sahara.Instance, error) {}
	}
	p, err := c.planSpawn(ctx, cl, instances)
	if err != nil {
		return err
	}
	c.log.Info(fmt.Sprintf("Spawning %d instances", len(instances)), "cluster_id", cl.ID)
	tr := &spawnTracker{failed: map[*sahara.Instance]error{}, reported: map[*sahara.Instance]bool{}, progress: progress}
	_ = sahara.ParallelEach(ctx, c.opts.parallelism, instances, func(ctx context.Context, in *sahara.Instance) error {
		if err := c.boot(ctx, p, in); err != nil {
			tr.fail(in, err)
		}
		return nil
	})
	err = c.waitActive(ctx, p, tr.live(instances), tr)
	if err == nil {
		err = c.waitVolumes(ctx, p, tr.live(instances), "available", tr.fail)
	}
	if err == nil {
		_ = sahara.ParallelEach(ctx, c.opts.parallelism, tr.live(instances), func(ctx context.Context, in *sahara.Instance) error {
			if err := c.attachVolumes(ctx, p, in); err != nil {
				tr.fail(in, err)
			}
			return nil
		})
		err = c.waitVolumes(ctx, p, tr.live(instances), "in-use", tr.fail)
	}
	return tr.finish(instances, err)
}

// spawnTracker reports each instance's outcome once, as soon as it is
// known; progress calls are serialised.
type spawnTracker struct {
	mu       sync.Mutex
	failed   map[*sahara.Instance]error
	reported map[*sahara.Instance]bool
	progress sahara.ProgressFunc
}

func (t *spawnTracker) fail(in *sahara.Instance, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed[in] != nil || t.reported[in] {
		return
	}
	t.failed[in] = err
	t.reported[in] = true
	in.LastError = err.Error()
	t.progress(in, err)
}

func (t *spawnTracker) done(in *sahara.Instance) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reported[in] {
		return
	}
	t.reported[in] = true
	in.Phase = sahara.InstanceSpawned
	in.LastError = ""
	t.progress(in, nil)
}

func (t *spawnTracker) live(instances []*sahara.Instance) []*sahara.Instance {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*sahara.Instance
	for _, in := range instances {
		if t.failed[in] == nil {
			out = append(out, in)
		}
	}
	return out
}

// finish reports the rest: done, or failed with the wait's error.
func (t *spawnTracker) finish(instances []*sahara.Instance, waitErr error) error {
	for _, in := range instances {
		if waitErr != nil {
			t.fail(in, waitErr)
		} else {
			t.done(in)
		}
	}
	var errs []error
	for _, in := range instances {
		if err := t.failed[in]; err != nil {
			errs = append(errs, &sahara.InstanceError{Instance: in.InstanceName, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (c *Cloud) planSpawn(ctx context.Context, cl *sahara.Cluster, instances []*sahara.Instance) (*spawnPlan, error) {
	if cl.ID == "" {
		return nil, errors.New("cluster has no ID")
	}
	p := &spawnPlan{cl: cl, total: len(instances), sgIDs: map[string]string{}, pools: map[string]string{}, flavorGB: map[string]int{}}
	var err error
	if p.cc, err = c.compute(ctx); err != nil {
		return nil, err
	}
	if p.nc, err = c.network(ctx); err != nil {
		return nil, err
	}
	if p.netID, err = resolveNetwork(ctx, p.nc, cl.NeutronManagementNetwork, "neutron_management_network"); err != nil {
		return nil, err
	}
	var sgRefs []string
	needVolumes := false
	for _, in := range instances {
		ng := in.NodeGroup()
		if ng == nil {
			return nil, fmt.Errorf("instance %s belongs to no node group", in.InstanceName)
		}
		if ng.AutoSecurityGroup && ng.SecurityGroupID == "" {
			return nil, fmt.Errorf("node group %s: its auto security group does not exist yet (PrepareCluster first)", ng.Name)
		}
		if ng.ImageIDOrDefault() == "" {
			return nil, fmt.Errorf("node group %s has no image and the cluster has no default image", ng.Name)
		}
		sgRefs = append(sgRefs, ng.SecurityGroups...)
		if ng.FloatingIPPool != "" && p.pools[ng.FloatingIPPool] == "" {
			if p.pools[ng.FloatingIPPool], err = resolveNetwork(ctx, p.nc, ng.FloatingIPPool, "floating_ip_pool of node group "+ng.Name); err != nil {
				return nil, err
			}
		}
		if ng.VolumesPerNode > 0 {
			needVolumes = true
		}
		if ng.BootFromVolume {
			if _, ok := p.flavorGB[ng.FlavorID]; !ok {
				f, err := flavors.Get(ctx, p.cc, ng.FlavorID).Extract()
				if err != nil {
					return nil, fmt.Errorf("reading flavor %s of node group %s: %w", ng.FlavorID, ng.Name, err)
				}
				p.flavorGB[ng.FlavorID] = max(f.Disk, 1)
			}
		}
		if ng.ImageUsername == "" {
			img, err := c.GetImage(ctx, ng.ImageIDOrDefault())
			if err != nil {
				return nil, err
			}
			ng.ImageUsername = img.Username
		}
	}
	if p.sgIDs, err = resolveSecurityGroups(ctx, p.nc, c.projectID, sgRefs); err != nil {
		return nil, err
	}
	if needVolumes {
		if p.vc, err = c.volume(ctx); err != nil {
			return nil, err
		}
	}
	if err := c.findLeftovers(ctx, p, instances); err != nil {
		return nil, err
	}
	if cl.UserKeypairID != "" {
		kp, err := keypairs.Get(ctx, p.cc, cl.UserKeypairID, nil).Extract()
		if err != nil {
			return nil, fmt.Errorf("reading user keypair %q: %w", cl.UserKeypairID, err)
		}
		p.userKey = kp.PublicKey
	}
	return p, nil
}

// findLeftovers lists the cluster's servers and ports (and floating IPs and
// volumes when the step uses them): a constant number of requests.
func (c *Cloud) findLeftovers(ctx context.Context, p *spawnPlan, instances []*sahara.Instance) error {
	p.oldServers, p.oldPorts = map[string]servers.Server{}, map[string]ports.Port{}
	p.oldFIPs, p.oldVolumes = map[string]floatingips.FloatingIP{}, map[string][]volumes.Volume{}
	srvs, err := c.listClusterServers(ctx, p.cc, p.cl)
	if err != nil {
		return err
	}
	for _, s := range srvs {
		if s.Status != "ERROR" && s.Status != "DELETED" && s.Status != "SOFT_DELETED" {
			p.oldServers[s.Name] = s
		}
	}
	pl, err := clusterPorts(ctx, p.nc, p.cl.ID)
	if err != nil {
		return err
	}
	adoptable := map[string]bool{}
	for _, s := range p.oldServers {
		adoptable[s.ID] = true
	}
	for _, port := range pl {
		if port.DeviceID == "" || adoptable[port.DeviceID] {
			p.oldPorts[port.Name] = port
		}
	}
	if len(p.pools) > 0 {
		fl, err := clusterFloatingIPs(ctx, p.nc, p.cl.ID)
		if err != nil {
			return err
		}
		for _, f := range fl {
			if f.PortID != "" {
				p.oldFIPs[f.PortID] = f
			}
		}
	}
	if p.vc != nil {
		vl, err := c.listClusterVolumes(ctx, p.vc, p.cl.ID)
		if err != nil {
			return err
		}
		sort.Slice(vl, func(i, j int) bool { return vl[i].Name < vl[j].Name })
		for _, v := range vl {
			if v.Status == "available" || v.Status == "creating" {
				n := v.Metadata[tagInstance]
				p.oldVolumes[n] = append(p.oldVolumes[n], v)
			}
		}
	}
	return nil
}

// serverGroupFor picks the anti-affinity group of an instance: round robin
// over the cluster's groups, the counter running on across node groups.
func serverGroupFor(cl *sahara.Cluster, in *sahara.Instance) string {
	ng := in.NodeGroup()
	if len(cl.ServerGroupIDs) == 0 || !hasAntiAffinityProcess(cl, ng) {
		return ""
	}
	offset := 0
	for _, g := range cl.NodeGroups {
		if g == ng || g.Name == ng.Name {
			break
		}
		if hasAntiAffinityProcess(cl, g) {
			offset += max(g.Count, len(g.Instances))
		}
	}
	return cl.ServerGroupIDs[(offset+in.Index)%len(cl.ServerGroupIDs)]
}

func hasAntiAffinityProcess(cl *sahara.Cluster, ng *sahara.NodeGroup) bool {
	for _, p := range cl.AntiAffinity {
		if ng.HasProcess(p) {
			return true
		}
	}
	return false
}

// boot creates the port, the server, its floating IP and its volumes.
func (c *Cloud) boot(ctx context.Context, p *spawnPlan, in *sahara.Instance) error {
	cl, ng := p.cl, in.NodeGroup()
	portID, fixedIP, err := c.ensurePort(ctx, p, in)
	if err != nil {
		return err
	}
	p.portFixed.Store(in.InstanceName, fixedIP)
	if s, ok := p.oldServers[in.InstanceName]; ok && in.InstanceID == "" {
		c.log.Info("Adopting the server of an earlier attempt", "cluster_id", cl.ID, "instance", in.InstanceName, "server_id", s.ID)
		in.InstanceID = s.ID
	}
	if in.InstanceID == "" {
		userData, err := UserData(ng.ImageUsername, cl.ManagementPublicKey, p.userKey)
		if err != nil {
			return err
		}
		opts := servers.CreateOpts{
			Name:             in.InstanceName,
			FlavorRef:        ng.FlavorID,
			ImageRef:         ng.ImageIDOrDefault(),
			AvailabilityZone: ng.AvailabilityZone,
			Networks:         []servers.Network{{Port: portID}},
			Metadata:         map[string]string{sahara.TagCluster: cl.ID, sahara.TagNodeGroup: ng.Name},
			UserData:         userData,
		}
		if c.computeTags {
			opts.Tags = []string{clusterTag(cl.ID)}
		}
		if ng.BootFromVolume {
			opts.ImageRef = ""
			opts.BlockDevice = []servers.BlockDevice{{
				SourceType: servers.SourceImage, UUID: ng.ImageIDOrDefault(), DestinationType: servers.DestinationVolume,
				VolumeSize: p.flavorGB[ng.FlavorID], BootIndex: 0, DeleteOnTermination: true,
			}}
		}
		var hints servers.SchedulerHintOptsBuilder
		if g := serverGroupFor(cl, in); g != "" {
			hints = servers.SchedulerHintOpts{Group: g}
		}
		srv, err := servers.Create(ctx, p.cc, keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: keypairName(cl)}, hints).Extract()
		if err != nil {
			return fmt.Errorf("creating server: %w", err)
		}
		in.InstanceID = srv.ID
		in.CloudStatus = "BUILD"
	}
	n := p.spawned.Add(1)
	c.log.Info(fmt.Sprintf("Spawning %d/%d instances", n, p.total), "cluster_id", cl.ID, "instance", in.InstanceName)
	if f, ok := p.oldFIPs[portID]; ok && in.FloatingIPID == "" {
		in.FloatingIPID = f.ID
		p.floating.Store(in.InstanceName, f.FloatingIP)
	}
	if ng.FloatingIPPool != "" && in.FloatingIPID == "" {
		fip, err := floatingips.Create(ctx, p.nc, floatingips.CreateOpts{
			FloatingNetworkID: p.pools[ng.FloatingIPPool], PortID: portID, Description: clusterTag(cl.ID),
		}).Extract()
		if err != nil {
			return fmt.Errorf("allocating a floating IP from %s: %w", ng.FloatingIPPool, err)
		}
		in.FloatingIPID = fip.ID
		p.floating.Store(in.InstanceName, fip.FloatingIP)
		if err := tagNeutron(ctx, p.nc, "floatingips", fip.ID, cl.ID); err != nil {
			return err
		}
	}
	known := map[string]bool{}
	for _, v := range in.Volumes {
		known[v.ID] = true
	}
	for _, v := range p.oldVolumes[in.InstanceName] {
		if len(in.Volumes) < ng.VolumesPerNode && !known[v.ID] {
			in.Volumes = append(in.Volumes, sahara.Volume{ID: v.ID, SizeGB: v.Size})
		}
	}
	for i := len(in.Volumes); i < ng.VolumesPerNode; i++ {
		var hints volumes.SchedulerHintOptsBuilder
		if ng.VolumeLocalToInstance {
			hints = volumes.SchedulerHintOpts{LocalToInstance: in.InstanceID}
		}
		v, err := volumes.Create(ctx, p.vc, volumes.CreateOpts{
			Name: fmt.Sprintf("%s-%d", in.InstanceName, i+1), Size: ng.VolumesSize, VolumeType: ng.VolumeType,
			AvailabilityZone: ng.VolumesAvailabilityZone,
			Metadata:         map[string]string{sahara.TagCluster: cl.ID, sahara.TagNodeGroup: ng.Name, tagInstance: in.InstanceName},
		}, hints).Extract()
		if err != nil {
			return fmt.Errorf("creating volume %d of %d: %w", i+1, ng.VolumesPerNode, err)
		}
		in.Volumes = append(in.Volumes, sahara.Volume{ID: v.ID, SizeGB: v.Size})
	}
	return nil
}

// ensurePort finds the instance's port (an earlier attempt may have made
// it) or creates it, tagged and with the node group's security groups.
func (c *Cloud) ensurePort(ctx context.Context, p *spawnPlan, in *sahara.Instance) (id, fixedIP string, err error) {
	ng := in.NodeGroup()
	var sgs []string
	for _, ref := range ng.SecurityGroups {
		sgs = append(sgs, p.sgIDs[ref])
	}
	if ng.SecurityGroupID != "" {
		sgs = append(sgs, ng.SecurityGroupID)
	}
	opts := ports.CreateOpts{NetworkID: p.netID, Name: in.InstanceName, Description: clusterTag(p.cl.ID)}
	if len(sgs) > 0 {
		opts.SecurityGroups = &sgs
	}
	if old, ok := p.oldPorts[in.InstanceName]; ok {
		if !contains(old.Tags, clusterTag(p.cl.ID)) {
			if err := tagNeutron(ctx, p.nc, "ports", old.ID, p.cl.ID); err != nil {
				return "", "", err
			}
		}
		return old.ID, firstFixedIP(old), nil
	}
	port, err := ports.Create(ctx, p.nc, opts).Extract()
	if err != nil {
		return "", "", fmt.Errorf("creating port on network %s: %w", p.netID, err)
	}
	if err := tagNeutron(ctx, p.nc, "ports", port.ID, p.cl.ID); err != nil {
		return "", "", err
	}
	return port.ID, firstFixedIP(*port), nil
}

func listPorts(ctx context.Context, nc *gophercloud.ServiceClient, o ports.ListOpts) ([]ports.Port, error) {
	pages, err := ports.List(nc, o).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return ports.ExtractPorts(pages)
}

func firstFixedIP(p ports.Port) string {
	for _, ip := range p.FixedIPs {
		if !strings.Contains(ip.IPAddress, ":") {
			return ip.IPAddress
		}
	}
	if len(p.FixedIPs) > 0 {
		return p.FixedIPs[0].IPAddress
	}
	return ""
}

// listClusterServers is the one list call per poll: filtered by the
// cluster's server tag, or by name prefix when the API has no tags, and
// always checked against the metadata.
func (c *Cloud) listClusterServers(ctx context.Context, cc *gophercloud.ServiceClient, cl *sahara.Cluster) (map[string]servers.Server, error) {
	opts := servers.ListOpts{}
	switch {
	case c.computeTags:
		opts.Tags = clusterTag(cl.ID)
	case cl.Name != "":
		opts.Name = "^" + regexp.QuoteMeta(strings.ToLower(cl.Name)) + "-"
	}
	pages, err := servers.List(cc, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's servers: %w", err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, err
	}
	out := map[string]servers.Server{}
	for _, s := range list {
		if s.Metadata[sahara.TagCluster] == cl.ID {
			out[s.ID] = s
		}
	}
	return out, nil
}

// waitActive polls until every instance is ACTIVE with addresses; a server
// in ERROR fails its instance with Nova's fault message.
func (c *Cloud) waitActive(ctx context.Context, p *spawnPlan, instances []*sahara.Instance, tr *spawnTracker) error {
	pending := map[*sahara.Instance]bool{}
	for _, in := range instances {
		pending[in] = true
	}
	for polls := 0; ; polls++ {
		if len(pending) == 0 {
			return nil
		}
		if polls > 0 {
			if err := c.sleep(ctx); err != nil {
				return fmt.Errorf("waiting for %d servers to become ACTIVE: %w", len(pending), err)
			}
		}
		srvs, err := c.listClusterServers(ctx, p.cc, p.cl)
		if err != nil {
			return err
		}
		for in := range pending {
			s, ok := srvs[in.InstanceID]
			if !ok {
				continue // not listed yet
			}
			in.CloudStatus = s.Status
			switch {
			case s.Status == "ERROR":
				delete(pending, in)
				tr.fail(in, fmt.Errorf("server %s (%s) is in ERROR: %s", in.InstanceName, s.ID, c.faultOf(ctx, p.cc, s)))
			case s.Status == "ACTIVE" && len(s.Addresses) > 0:
				delete(pending, in)
				c.applyAddresses(p.cl, in, s, p)
				if len(in.Volumes) == 0 {
					tr.done(in)
				}
			}
		}
		c.log.Info(fmt.Sprintf("Waiting for instances to become ACTIVE: %d/%d ready", len(instances)-len(pending), len(instances)), "cluster_id", p.cl.ID)
	}
}

func (c *Cloud) faultOf(ctx context.Context, cc *gophercloud.ServiceClient, s servers.Server) string {
	if s.Fault.Message == "" {
		if full, err := servers.Get(ctx, cc, s.ID).Extract(); err == nil {
			s.Fault = full.Fault
		}
	}
	if s.Fault.Message == "" {
		return "the cloud gave no fault message"
	}
	return s.Fault.Message
}

// applyAddresses sets InternalIP and ManagementIP (digest §4.1): the
// floating IP when there is one, except behind a proxy gateway.
func (c *Cloud) applyAddresses(cl *sahara.Cluster, in *sahara.Instance, s servers.Server, p *spawnPlan) {
	fixed, floating := serverAddresses(s)
	if p != nil {
		// Nova's address cache may lag behind Neutron: use what we created.
		if v, ok := p.portFixed.Load(in.InstanceName); ok && fixed == "" {
			fixed = v.(string)
		}
		if v, ok := p.floating.Load(in.InstanceName); ok && floating == "" {
			floating = v.(string)
		}
	}
	in.InternalIP = fixed
	in.ManagementIP = fixed
	if gw := cl.ProxyGateway(); floating != "" && (gw == nil || in.NodeGroup() == nil || in.NodeGroup().IsProxyGateway) {
		in.ManagementIP = floating
	}
}

// serverAddresses returns the first fixed and floating addresses, IPv4 first.
func serverAddresses(s servers.Server) (fixed, floating string) {
	nets := make([]string, 0, len(s.Addresses))
	for n := range s.Addresses {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	var fixed6, floating6 string
	for _, n := range nets {
		list, _ := s.Addresses[n].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			addr, _ := m["addr"].(string)
			typ, _ := m["OS-EXT-IPS:type"].(string)
			v6 := strings.Contains(addr, ":")
			switch {
			case typ == "floating" && !v6 && floating == "":
				floating = addr
			case typ == "floating" && v6 && floating6 == "":
				floating6 = addr
			case typ != "floating" && !v6 && fixed == "":
				fixed = addr
			case typ != "floating" && v6 && fixed6 == "":
				fixed6 = addr
			}
		}
	}
	if fixed == "" {
		fixed = fixed6
	}
	if floating == "" {
		floating = floating6
	}
	return fixed, floating
}

// attachVolumes attaches the instance's (available) volumes in order and records the device each attachment reports.
func (c *Cloud) attachVolumes(ctx context.Context, p *spawnPlan, in *sahara.Instance) error {
	if len(in.Volumes) == 0 {
		return nil
	}
	for i := range in.Volumes {
		v := &in.Volumes[i]
		if v.Device != "" {
			continue
		}
		a, err := volumeattach.Create(ctx, p.cc, in.InstanceID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
		if err != nil {
			return fmt.Errorf("attaching volume %d (%s): %w", i+1, v.ID, err)
		}
		v.Device = a.Device
	}
	return nil
}

// waitVolumes polls the cluster's volumes (one list call per poll) until
// every volume of the instances has the wanted status.
func (c *Cloud) waitVolumes(ctx context.Context, p *spawnPlan, instances []*sahara.Instance, want string, fail func(*sahara.Instance, error)) error {
	owner := map[string]*sahara.Instance{}
	for _, in := range instances {
		for _, v := range in.Volumes {
			owner[v.ID] = in
		}
	}
	total := len(owner)
	for polls := 0; len(owner) > 0; polls++ {
		if polls > 0 {
			if err := c.sleep(ctx); err != nil {
				return fmt.Errorf("waiting for %d volumes to become %s: %w", len(owner), want, err)
			}
		}
		vols, err := c.listClusterVolumes(ctx, p.vc, p.cl.ID)
		if err != nil {
			return err
		}
		for _, v := range vols {
			in := owner[v.ID]
			if in == nil {
				continue
			}
			switch {
			case v.Status == want:
				delete(owner, v.ID)
			case want == "in-use" && v.Status == "available":
				// Nova reserves the volume before the attach call returns:
				// available again means the attachment was rolled back.
				delete(owner, v.ID)
				fail(in, fmt.Errorf("attaching volume %s to %s failed: the volume is available again (see the server's instance actions)", v.ID, in.InstanceName))
			case strings.HasPrefix(v.Status, "error"):
				delete(owner, v.ID)
				fail(in, fmt.Errorf("volume %s of %s is in status %s", v.ID, in.InstanceName, v.Status))
			}
		}
		if total > 1 {
			c.log.Info(fmt.Sprintf("Waiting for volumes to become %s: %d/%d ready", want, total-len(owner), total), "cluster_id", p.cl.ID)
		}
	}
	return nil
}

func (c *Cloud) listClusterVolumes(ctx context.Context, vc *gophercloud.ServiceClient, clusterID string) ([]volumes.Volume, error) {
	pages, err := volumes.List(vc, volumes.ListOpts{Metadata: map[string]string{sahara.TagCluster: clusterID}}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's volumes: %w", err)
	}
	list, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, v := range list {
		if v.Metadata[sahara.TagCluster] == clusterID {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *Cloud) sleep(ctx context.Context) error {
	t := time.After(c.opts.pollInterval)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t:
		return nil
	}
}

// RefreshInstances updates every instance from one servers list call.
func (c *Cloud) RefreshInstances(ctx context.Context, cl *sahara.Cluster) error {
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	srvs, err := c.listClusterServers(ctx, cc, cl)
	if err != nil {
		return err
	}
	byName := map[string]servers.Server{}
	for _, s := range srvs {
		byName[s.Name] = s
	}
	for _, in := range cl.Instances() {
		s, ok := srvs[in.InstanceID]
		if !ok && in.InstanceID == "" {
			s, ok = byName[in.InstanceName]
		}
		if !ok {
			in.CloudStatus = sahara.CloudStatusMissing
			continue
		}
		in.InstanceID = s.ID
		in.CloudStatus = s.Status
		if len(s.Addresses) > 0 {
			c.applyAddresses(cl, in, s, nil)
		}
	}
	return nil
}

// HostKeys reads the SSH host keys cloud-init printed to the console.
func (c *Cloud) HostKeys(ctx context.Context, in *sahara.Instance) ([]string, error) {
	if in.InstanceID == "" {
		return nil, fmt.Errorf("instance %s has no server", in.InstanceName)
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return nil, err
	}
	out, err := servers.ShowConsoleOutput(ctx, cc, in.InstanceID, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil {
		return nil, fmt.Errorf("reading the console of %s: %w", in.InstanceName, err)
	}
	return sahara.ParseConsoleHostKeys(out), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
