package fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Flavor is what the fake knows of a flavor, for quota estimates.
type Flavor struct {
	Name         string
	VCPUs, RAMMB int
}

// Server is a server the fake cloud holds.
type Server struct {
	ID, Name, ClusterID, NodeGroup string
	Status                         string
	InternalIP, ManagementIP       string
	Volumes                        []sahara.Volume
	FloatingIPID                   string
}

// Infra is an in-memory sahara.Infrastructure. Configure the exported fields
// before use; they are not guarded.
type Infra struct {
	// Images by ID (GetImage also finds them by name); another fails with
	// sahara.ErrNotFound.
	Images map[string]sahara.Image
	// Flavors by ID (Flavor also finds them by name); unknown flavors count
	// as 1 vCPU, 1024 MB unless OnlyKnownFlavors.
	Flavors          map[string]Flavor
	OnlyKnownFlavors bool
	// Networks by ID (also found by name); nil means every network exists
	// and is external.
	Networks map[string]sahara.Network
	// Available is the free quota; nil means unlimited.
	Available *sahara.QuotaRequest
	// BootLatency is how long each server takes to become ACTIVE; servers
	// boot concurrently, as in a cloud.
	BootLatency time.Duration
	// Delay is added to every call of the named method.
	Delay map[string]time.Duration
	// PublishedHostKeys are returned by HostKeys, by instance name.
	PublishedHostKeys map[string][]string
	// Addresses maps instance names to the IP their server gets (internal
	// and management), so tests can point instances at real sshd hosts.
	Addresses map[string]string
	// ServiceHostLines, when set, are returned by ServiceHosts.
	ServiceHostLines []string

	faults faults
	calls  counter

	mu      sync.Mutex
	nextID  int
	servers map[string]*Server
	// objects per cluster ID: keypair, security groups, server groups.
	objects map[string]map[string]bool
	// sgCIDRs: the CIDRs each auto security group admits to the plugin's ports.
	sgCIDRs map[string][]string
}

var (
	_ sahara.Infrastructure       = (*Infra)(nil)
	_ sahara.ServiceHostsProvider = (*Infra)(nil)
)

// NewInfra returns an empty cloud that knows the given images.
func NewInfra(images ...sahara.Image) *Infra {
	f := &Infra{Images: map[string]sahara.Image{}, servers: map[string]*Server{}, objects: map[string]map[string]bool{}}
	for _, im := range images {
		f.Images[im.ID] = im
	}
	return f
}

// Fail injects a fault: method is an Infrastructure method name; instance an
// instance name ("" = any call). For SpawnInstances the server is created
// and goes to ERROR, as a failed boot does in a cloud.
func (f *Infra) Fail(method, instance string, err error) *Fault {
	x := &Fault{Method: method, Instance: instance, Err: err}
	f.faults.add(x)
	return x
}

// ClearFaults removes every injected fault.
func (f *Infra) ClearFaults() { f.faults.clear() }

// Calls returns how many times method was called.
func (f *Infra) Calls(method string) int { return f.calls.get(method) }

// TotalCalls returns the number of Infrastructure calls.
func (f *Infra) TotalCalls() int { return f.calls.total() }

// Changes counts the calls that are not lookups (GetImage, Flavor, Network):
// those that could create, change or delete something.
func (f *Infra) Changes() int {
	return f.calls.total() - f.calls.get("GetImage") - f.calls.get("Flavor") - f.calls.get("Network")
}

// ResetCalls zeroes the call counters.
func (f *Infra) ResetCalls() { f.calls.reset() }

// Servers lists the servers of a cluster, sorted by name.
func (f *Infra) Servers(clusterID string) []Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Server
	for _, s := range f.servers {
		if s.ClusterID == clusterID {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Leftovers lists every object of the cluster still in the cloud: servers,
// volumes, floating IPs and per-cluster objects.
func (f *Infra) Leftovers(clusterID string) []string {
	var out []string
	for _, s := range f.Servers(clusterID) {
		out = append(out, "server/"+s.Name)
		for _, v := range s.Volumes {
			out = append(out, "volume/"+v.ID)
		}
		if s.FloatingIPID != "" {
			out = append(out, "floatingip/"+s.FloatingIPID)
		}
	}
	f.mu.Lock()
	for o := range f.objects[clusterID] {
		out = append(out, o)
	}
	f.mu.Unlock()
	sort.Strings(out)
	return out
}

func (f *Infra) enter(ctx context.Context, method, instance string) error {
	f.calls.inc(method, 1)
	if d := f.Delay[method]; d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return f.faults.match(method, instance, "")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetImage implements sahara.Infrastructure.
func (f *Infra) GetImage(ctx context.Context, imageID string) (sahara.Image, error) {
	if err := f.enter(ctx, "GetImage", ""); err != nil {
		return sahara.Image{}, err
	}
	if im, ok := f.Images[imageID]; ok {
		return im, nil
	}
	for _, im := range f.Images {
		if im.Name == imageID {
			return im, nil
		}
	}
	return sahara.Image{}, fmt.Errorf("image %q: %w", imageID, sahara.ErrNotFound)
}

// CheckQuotas implements sahara.Infrastructure against Available.
func (f *Infra) CheckQuotas(ctx context.Context, c *sahara.Cluster, req sahara.QuotaRequest) error {
	if err := f.enter(ctx, "CheckQuotas", ""); err != nil {
		return err
	}
	a := f.Available
	if a == nil {
		return nil
	}
	for _, q := range []struct {
		name       string
		req, avail int
	}{
		{"instances", req.Instances, a.Instances}, {"cores", req.Cores, a.Cores}, {"ram", req.RAMMB, a.RAMMB},
		{"floatingip", req.FloatingIPs, a.FloatingIPs}, {"security_group", req.SecurityGroups, a.SecurityGroups},
		{"volumes", req.Volumes, a.Volumes}, {"volume_gb", req.VolumeGB, a.VolumeGB},
	} {
		if q.req > q.avail {
			return sahara.QuotaExceeded(q.name, q.req, q.avail)
		}
	}
	return nil
}

// EstimateQuota implements sahara.Infrastructure.
func (f *Infra) EstimateQuota(ctx context.Context, c *sahara.Cluster, newInstances []*sahara.Instance) (sahara.QuotaRequest, error) {
	if err := f.enter(ctx, "EstimateQuota", ""); err != nil {
		return sahara.QuotaRequest{}, err
	}
	var q sahara.QuotaRequest
	sgs := map[string]bool{}
	for _, in := range newInstances {
		ng := in.NodeGroup()
		fl, ok := f.Flavors[ng.FlavorID]
		if !ok {
			fl = Flavor{VCPUs: 1, RAMMB: 1024}
		}
		q.Instances++
		q.Cores += fl.VCPUs
		q.RAMMB += fl.RAMMB
		q.Ports++
		q.Volumes += ng.VolumesPerNode
		q.VolumeGB += ng.VolumesPerNode * ng.VolumesSize
		if ng.FloatingIPPool != "" {
			q.FloatingIPs++
		}
		if ng.AutoSecurityGroup && ng.SecurityGroupID == "" && !sgs[ng.Name] {
			sgs[ng.Name] = true
			q.SecurityGroups++
			q.SecurityRules += 2*len(ng.OpenPorts) + 5
		}
	}
	return q, nil
}

// PrepareCluster implements sahara.Infrastructure: a keypair, one server
// group per anti-affinity ratio and auto security groups.
func (f *Infra) PrepareCluster(ctx context.Context, c *sahara.Cluster) error {
	if err := f.enter(ctx, "PrepareCluster", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	objs := f.objects[c.ID]
	if objs == nil {
		objs = map[string]bool{}
		f.objects[c.ID] = objs
	}
	objs["keypair/"+sahara.ClusterResourcePrefix(c.ID)] = true
	if len(c.AntiAffinity) > 0 && len(c.ServerGroupIDs) == 0 {
		n := max(c.AntiAffinityRatio, 1)
		for i := 1; i <= n; i++ {
			id := fmt.Sprintf("%s-aa-group-%d", c.Name, i)
			objs["servergroup/"+id] = true
			c.ServerGroupIDs = append(c.ServerGroupIDs, id)
		}
	}
	for _, ng := range c.NodeGroups {
		if ng.AutoSecurityGroup && ng.SecurityGroupID == "" {
			ng.SecurityGroupID = fmt.Sprintf("sg-%s-%s", c.Name, ng.Name)
			objs["securitygroup/"+ng.SecurityGroupID] = true
		}
		if ng.AutoSecurityGroup {
			if f.sgCIDRs == nil {
				f.sgCIDRs = map[string][]string{}
			}
			f.sgCIDRs[ng.SecurityGroupID] = slices.Clone(ng.AutoSecurityGroupCIDRs)
		}
	}
	return nil
}

// SecurityGroupCIDRs returns the CIDRs the auto security group admits to
// the plugin's ports, as the last PrepareCluster left them.
func (f *Infra) SecurityGroupCIDRs(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sgCIDRs[id])
}

// SpawnInstances implements sahara.Infrastructure: every server boots
// concurrently in BootLatency.
func (f *Infra) SpawnInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance, progress sahara.ProgressFunc) error {
	if err := f.enter(ctx, "SpawnInstances", ""); err != nil {
		return err
	}
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i, in := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.spawn(ctx, c, in)
			if progress != nil {
				progress(in, errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f *Infra) spawn(ctx context.Context, c *sahara.Cluster, in *sahara.Instance) error {
	ng := in.NodeGroup()
	f.calls.inc("CreateServer", 1)
	f.mu.Lock()
	f.nextID++
	n := f.nextID
	s := &Server{
		ID: fmt.Sprintf("srv-%04d", n), Name: in.InstanceName, ClusterID: c.ID, NodeGroup: ng.Name, Status: "BUILD",
		InternalIP: fmt.Sprintf("10.0.%d.%d", n/250, n%250+2),
	}
	for v := 0; v < ng.VolumesPerNode; v++ {
		s.Volumes = append(s.Volumes, sahara.Volume{
			ID: fmt.Sprintf("vol-%04d-%d", n, v), Device: "/dev/vd" + string(rune('b'+v)), SizeGB: ng.VolumesSize,
		})
	}
	if ip, ok := f.Addresses[in.InstanceName]; ok {
		s.InternalIP = ip
	}
	s.ManagementIP = s.InternalIP
	if ng.FloatingIPPool != "" {
		s.FloatingIPID = fmt.Sprintf("fip-%04d", n)
		s.ManagementIP = fmt.Sprintf("172.24.%d.%d", n/250, n%250+2)
	}
	f.servers[s.ID] = s
	f.mu.Unlock()

	in.InstanceID = s.ID
	if err := sleep(ctx, f.BootLatency); err != nil {
		return err
	}
	if err := f.faults.match("SpawnInstances", in.InstanceName, ""); err != nil {
		f.mu.Lock()
		s.Status = "ERROR"
		f.mu.Unlock()
		in.CloudStatus = "ERROR"
		return fmt.Errorf("server %s went to ERROR: %w", in.InstanceName, err)
	}
	f.mu.Lock()
	s.Status = "ACTIVE"
	f.mu.Unlock()
	in.CloudStatus = "ACTIVE"
	in.InternalIP, in.ManagementIP = s.InternalIP, s.ManagementIP
	in.Volumes = append([]sahara.Volume(nil), s.Volumes...)
	in.FloatingIPID = s.FloatingIPID
	return nil
}

// ServiceHosts implements sahara.ServiceHostsProvider from ServiceHostLines.
func (f *Infra) ServiceHosts(ctx context.Context) ([]string, error) {
	if err := f.enter(ctx, "ServiceHosts", ""); err != nil {
		return nil, err
	}
	return f.ServiceHostLines, nil
}

// HostKeys implements sahara.Infrastructure from PublishedHostKeys.
func (f *Infra) HostKeys(ctx context.Context, in *sahara.Instance) ([]string, error) {
	if err := f.enter(ctx, "HostKeys", in.InstanceName); err != nil {
		return nil, err
	}
	return f.PublishedHostKeys[in.InstanceName], nil
}

// DeleteInstances implements sahara.Infrastructure; servers are found by ID
// or, for instances whose ID was never recorded, by cluster and name.
func (f *Infra) DeleteInstances(ctx context.Context, c *sahara.Cluster, instances []*sahara.Instance) error {
	for _, in := range instances {
		if err := f.enter(ctx, "DeleteInstances", in.InstanceName); err != nil {
			return fmt.Errorf("deleting %s: %w", in.InstanceName, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range instances {
		for id, s := range f.servers {
			if (in.InstanceID != "" && id == in.InstanceID) || (s.ClusterID == c.ID && s.Name == in.InstanceName) {
				delete(f.servers, id)
			}
		}
	}
	return nil
}

// DeleteCluster implements sahara.Infrastructure.
func (f *Infra) DeleteCluster(ctx context.Context, c *sahara.Cluster) error {
	if err := f.enter(ctx, "DeleteCluster", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, s := range f.servers {
		if s.ClusterID == c.ID {
			delete(f.servers, id)
		}
	}
	delete(f.objects, c.ID)
	return nil
}

// RefreshInstances implements sahara.Infrastructure.
func (f *Infra) RefreshInstances(ctx context.Context, c *sahara.Cluster) error {
	if err := f.enter(ctx, "RefreshInstances", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range c.Instances() {
		s, ok := f.servers[in.InstanceID]
		if !ok {
			in.CloudStatus = sahara.CloudStatusMissing
			continue
		}
		in.CloudStatus = s.Status
		in.InternalIP, in.ManagementIP = s.InternalIP, s.ManagementIP
	}
	return nil
}

// ClusterServers implements sahara.Infrastructure.
func (f *Infra) ClusterServers(ctx context.Context, c *sahara.Cluster) ([]string, error) {
	if err := f.enter(ctx, "ClusterServers", ""); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range f.Servers(c.ID) {
		out = append(out, s.Name)
	}
	return out, nil
}

// SetServerStatus changes a server's status, as a cloud failure would.
func (f *Infra) SetServerStatus(name, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		if s.Name == name {
			s.Status = status
		}
	}
}

// RemoveServer deletes a server behind the engine's back.
func (f *Infra) RemoveServer(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, s := range f.servers {
		if s.Name == name {
			delete(f.servers, id)
		}
	}
}
