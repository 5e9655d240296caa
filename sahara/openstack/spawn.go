package openstack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Metadata keys of volumes: the instance a volume belongs to, and "true"
// on an instance's boot volume (which is never attached as a data volume).
const (
	tagInstance   = "saharagen_instance"
	tagBootVolume = "saharagen_boot_volume"
)

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
	flavorIDs map[string]string // flavor name or ID → ID
	flavorGB  map[string]int    // flavor name or ID → root disk GB
	imageIDs  map[string]string // image name or ID → ID
	total     int
	spawned   atomic.Int32
	portFixed sync.Map // instance name → fixed IP of its port
	floating  sync.Map // instance name → floating IP address allocated
	bootVols  sync.Map // instance name → ID of its boot volume

	// What an interrupted earlier attempt left, found by identity once per
	// step, so a retry adopts it instead of creating duplicates.
	oldServers map[string]servers.Server         // by name
	oldPorts   map[string]ports.Port             // by name
	oldFIPs    map[string]floatingips.FloatingIP // by port ID
	oldVolumes map[string][]volumes.Volume       // by instance name, sorted by name
	oldBoot    map[string]volumes.Volume         // boot volumes not in use, by instance name
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
	c.log.Info(fmt.Sprintf("Booting %d servers", len(instances)), "cluster_id", cl.ID)
	tr := &spawnTracker{failed: map[*sahara.Instance]error{}, reported: map[*sahara.Instance]bool{}, progress: progress}
	if err := c.prepareBootVolumes(ctx, p, instances, tr); err != nil {
		return tr.finish(instances, err)
	}
	_ = sahara.ParallelEach(ctx, c.opts.parallelism, tr.live(instances), func(ctx context.Context, in *sahara.Instance) error {
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
	p := &spawnPlan{cl: cl, total: len(instances), sgIDs: map[string]string{}, pools: map[string]string{},
		flavorIDs: map[string]string{}, flavorGB: map[string]int{}, imageIDs: map[string]string{}}
	var err error
	if p.cc, err = c.compute(ctx); err != nil {
		return nil, err
	}
	if p.nc, err = c.network(ctx); err != nil {
		return nil, err
	}
	if p.netID, err = c.resolveNetwork(ctx, cl.NeutronManagementNetwork, "neutron_management_network"); err != nil {
		return nil, err
	}
	var sgRefs []string
	needVolumes := false
	warned := map[*sahara.NodeGroup]bool{}
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
			if p.pools[ng.FloatingIPPool], err = c.resolveNetwork(ctx, ng.FloatingIPPool, "floating_ip_pool of node group "+ng.Name); err != nil {
				return nil, err
			}
		}
		if ng.VolumesPerNode > 0 {
			needVolumes = true
		}
		if ng.BootFromVolume {
			needVolumes = true
			if ng.BootVolumeLocalToInstance && !warned[ng] {
				warned[ng] = true
				c.log.Warn("boot_volume_local_to_instance has no effect: the boot volume is created before its instance",
					"cluster_id", cl.ID, "node_group", ng.Name)
			}
		}
		if err := c.resolveImageAndFlavor(ctx, p, ng); err != nil {
			return nil, err
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

// resolveImageAndFlavor finds the IDs of the group's flavor and image, which
// the user may have given by name. Glance IDs are UUIDs; a Nova flavor ID may
// be any string, so flavors are always looked up (once per run).
func (c *Cloud) resolveImageAndFlavor(ctx context.Context, p *spawnPlan, ng *sahara.NodeGroup) error {
	if _, ok := p.flavorIDs[ng.FlavorID]; !ok {
		f, err := c.Flavor(ctx, ng.FlavorID)
		if err != nil {
			return fmt.Errorf("flavor of node group %s: %w", ng.Name, err)
		}
		p.flavorIDs[ng.FlavorID], p.flavorGB[ng.FlavorID] = f.ID, max(f.DiskGB, 1)
	}
	img := ng.ImageIDOrDefault()
	if _, ok := p.imageIDs[img]; !ok {
		p.imageIDs[img] = img
		if !uuidRE.MatchString(img) {
			im, err := c.GetImage(ctx, img)
			if err != nil {
				return fmt.Errorf("image of node group %s: %w", ng.Name, err)
			}
			p.imageIDs[img] = im.ID
		}
	}
	return nil
}

// findLeftovers lists the cluster's servers and ports (and floating IPs and
// volumes when the step uses them): a constant number of requests.
func (c *Cloud) findLeftovers(ctx context.Context, p *spawnPlan, instances []*sahara.Instance) error {
	p.oldServers, p.oldPorts = map[string]servers.Server{}, map[string]ports.Port{}
	p.oldFIPs, p.oldVolumes = map[string]floatingips.FloatingIP{}, map[string][]volumes.Volume{}
	p.oldBoot = map[string]volumes.Volume{}
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
			n := v.Metadata[tagInstance]
			switch {
			case v.Metadata[tagBootVolume] != "":
				if v.Status == "available" || v.Status == "creating" || v.Status == "downloading" {
					p.oldBoot[n] = v
				}
			case v.Status == "available" || v.Status == "creating":
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
			FlavorRef:        p.flavorIDs[ng.FlavorID],
			ImageRef:         p.imageIDs[ng.ImageIDOrDefault()],
			AvailabilityZone: ng.AvailabilityZone,
			Networks:         []servers.Network{{Port: portID}},
			Metadata:         map[string]string{sahara.TagCluster: cl.ID, sahara.TagNodeGroup: ng.Name},
			UserData:         userData,
		}
		if c.computeTags {
			opts.Tags = []string{clusterTag(cl.ID)}
		}
		if ng.BootFromVolume {
			volID, ok := p.bootVols.Load(in.InstanceName)
			if !ok {
				return fmt.Errorf("instance %s has no boot volume", in.InstanceName)
			}
			opts.ImageRef = ""
			opts.BlockDevice = []servers.BlockDevice{{
				SourceType: servers.SourceVolume, UUID: volID.(string), DestinationType: servers.DestinationVolume,
				BootIndex: 0, DeleteOnTermination: true,
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
	// The engine logs "Spawning n/N instances" per outcome; this counts boot requests.
	c.log.Info(fmt.Sprintf("Booting %d/%d servers", n, p.total), "cluster_id", cl.ID, "instance", in.InstanceName)
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

// prepareBootVolumes creates the boot volume of each new instance of a
// boot_from_volume node group, as Sahara's Heat template does:
// a Cinder volume of the flavor's disk size from the image, with
// boot_volume_type and boot_volume_availability_zone, tagged like the
// cluster's other volumes; then waits until they are available, since Nova
// boots only from an available volume. A boot volume an interrupted
// attempt left is reused. Instances that fail here are reported to tr.
func (c *Cloud) prepareBootVolumes(ctx context.Context, p *spawnPlan, instances []*sahara.Instance, tr *spawnTracker) error {
	var need []*sahara.Instance
	for _, in := range instances {
		if _, adopt := p.oldServers[in.InstanceName]; in.NodeGroup().BootFromVolume && in.InstanceID == "" && !adopt {
			need = append(need, in)
		}
	}
	if len(need) == 0 {
		return nil
	}
	_ = sahara.ParallelEach(ctx, c.opts.parallelism, need, func(ctx context.Context, in *sahara.Instance) error {
		if err := c.ensureBootVolume(ctx, p, in); err != nil {
			tr.fail(in, err)
		}
		return nil
	})
	owner := map[string]*sahara.Instance{}
	for _, in := range tr.live(need) {
		if id, ok := p.bootVols.Load(in.InstanceName); ok {
			owner[id.(string)] = in
		}
	}
	return c.waitVolumeStatus(ctx, p, owner, "boot volumes", "available", tr.fail)
}

func (c *Cloud) ensureBootVolume(ctx context.Context, p *spawnPlan, in *sahara.Instance) error {
	cl, ng := p.cl, in.NodeGroup()
	if v, ok := p.oldBoot[in.InstanceName]; ok {
		c.log.Info("Adopting the boot volume of an earlier attempt", "cluster_id", cl.ID, "instance", in.InstanceName, "volume_id", v.ID)
		p.bootVols.Store(in.InstanceName, v.ID)
		return nil
	}
	v, err := volumes.Create(ctx, p.vc, volumes.CreateOpts{
		Name: in.InstanceName + "-boot", Size: p.flavorGB[ng.FlavorID], ImageID: p.imageIDs[ng.ImageIDOrDefault()],
		VolumeType: ng.BootVolumeType, AvailabilityZone: ng.BootVolumeAvailabilityZone,
		Metadata: map[string]string{sahara.TagCluster: cl.ID, sahara.TagNodeGroup: ng.Name, tagInstance: in.InstanceName,
			tagBootVolume: "true"},
	}, nil).Extract()
	if err != nil {
		return fmt.Errorf("creating the boot volume: %w", err)
	}
	p.bootVols.Store(in.InstanceName, v.ID)
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

// attachVolumes attaches the instance's (available) volumes in order and
// records the device each attachment reports.
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
