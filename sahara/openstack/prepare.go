package openstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// PrepareCluster creates the management keypair, the anti-affinity server
// groups and the auto security groups. Each is reused when it exists, so a
// second call after an interruption completes the set.
func (c *Cloud) PrepareCluster(ctx context.Context, cl *sahara.Cluster) error {
	if cl.ID == "" {
		return errors.New("cluster has no ID")
	}
	if err := c.ensureKeypair(ctx, cl); err != nil {
		return err
	}
	if err := c.ensureServerGroups(ctx, cl); err != nil {
		return err
	}
	return c.ensureSecurityGroups(ctx, cl)
}

func keypairName(cl *sahara.Cluster) string { return sahara.ClusterResourcePrefix(cl.ID) }

func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}

func (c *Cloud) ensureKeypair(ctx context.Context, cl *sahara.Cluster) error {
	if cl.ManagementPublicKey == "" {
		return fmt.Errorf("cluster %s has no management public key", cl.ID)
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	name := keypairName(cl)
	kp, err := keypairs.Get(ctx, cc, name, nil).Extract()
	switch {
	case err == nil && sameKey(kp.PublicKey, cl.ManagementPublicKey):
		return nil
	case err == nil:
		// A stale key of an earlier attempt: replace it.
		if err := keypairs.Delete(ctx, cc, name, nil).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("replacing keypair %s: %w", name, err)
		}
	case !isNotFound(err):
		return fmt.Errorf("reading keypair %s: %w", name, err)
	}
	if _, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: name, PublicKey: cl.ManagementPublicKey}).Extract(); err != nil {
		return fmt.Errorf("creating keypair %s: %w", name, err)
	}
	c.log.Info("Created management keypair", "cluster_id", cl.ID, "keypair", name)
	return nil
}

func serverGroupName(cl *sahara.Cluster, i int) string {
	return fmt.Sprintf("%s-aa-%d", sahara.ClusterResourcePrefix(cl.ID), i)
}

func antiAffinityGroups(cl *sahara.Cluster) int {
	if len(cl.AntiAffinity) == 0 {
		return 0
	}
	return max(1, cl.AntiAffinityRatio)
}

func (c *Cloud) ensureServerGroups(ctx context.Context, cl *sahara.Cluster) error {
	n := antiAffinityGroups(cl)
	if n == 0 {
		return nil
	}
	cc, err := c.compute(ctx)
	if err != nil {
		return err
	}
	existing, err := clusterServerGroups(ctx, cc, cl.ID)
	if err != nil {
		return err
	}
	byName := map[string]string{}
	for _, g := range existing {
		byName[g.Name] = g.ID
	}
	ids := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		name := serverGroupName(cl, i)
		if id := byName[name]; id != "" {
			ids = append(ids, id)
			continue
		}
		opts := servergroups.CreateOpts{Name: name, Policies: []string{"anti-affinity"}}
		if cc.Microversion != "" {
			opts = servergroups.CreateOpts{Name: name, Policy: "anti-affinity"}
		}
		g, err := servergroups.Create(ctx, cc, opts).Extract()
		if err != nil {
			return fmt.Errorf("creating server group %s: %w", name, err)
		}
		ids = append(ids, g.ID)
	}
	cl.ServerGroupIDs = ids
	c.log.Info("Anti-affinity server groups ready", "cluster_id", cl.ID, "count", n)
	return nil
}

func clusterServerGroups(ctx context.Context, cc *gophercloud.ServiceClient, clusterID string) ([]servergroups.ServerGroup, error) {
	pages, err := servergroups.List(cc, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing server groups: %w", err)
	}
	all, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return nil, err
	}
	prefix := sahara.ClusterResourcePrefix(clusterID) + "-"
	var out []servergroups.ServerGroup
	for _, g := range all {
		if strings.HasPrefix(g.Name, prefix) {
			out = append(out, g)
		}
	}
	return out, nil
}

// AutoSecurityGroupName is Sahara's auto security group name:
// "<cluster>-<node group>-<node group id[:8]>", lowercase.
func AutoSecurityGroupName(cl *sahara.Cluster, ng *sahara.NodeGroup) string {
	id := ng.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return strings.ToLower(cl.Name + "-" + ng.Name + "-" + id)
}

// SecurityRule is one ingress rule of an auto security group: from a CIDR
// (Prefix) or from the members of a security group (RemoteGroup); no
// Protocol is any protocol.
type SecurityRule struct {
	EtherType   string
	Protocol    string
	Min, Max    int
	Prefix      string
	RemoteGroup string
}

// key identifies a rule as Neutron reports it: a full 1-65535 range is
// stored as no range.
func (r SecurityRule) key() string {
	if r.Min == 1 && r.Max == 65535 {
		r.Min, r.Max = 0, 0
	}
	return fmt.Sprintf("%s|%s|%d|%d|%s|%s", r.EtherType, r.Protocol, r.Min, r.Max, r.Prefix, r.RemoteGroup)
}

// AutoSecurityGroupRules are the ingress rules of an auto security group,
// least exposure first (Sahara opened the plugin's ports to 0.0.0.0/0 and
// everything to the cluster network): SSH from anywhere (the provider
// configures the instances over it), the plugin's open ports (its UIs and
// client ports) from the node group's CIDRs only, and every protocol from
// the members of each of the cluster's auto security groups (memberGroups,
// this group's own ID included), so the cluster's processes reach each other
// and nothing else on the network reaches them.
func AutoSecurityGroupRules(openPorts []int, cidrs, memberGroups []string) []SecurityRule {
	var out []SecurityRule
	for _, g := range memberGroups {
		out = append(out, SecurityRule{EtherType: "IPv4", RemoteGroup: g}, SecurityRule{EtherType: "IPv6", RemoteGroup: g})
	}
	out = append(out,
		SecurityRule{EtherType: "IPv4", Protocol: "tcp", Min: 22, Max: 22, Prefix: "0.0.0.0/0"},
		SecurityRule{EtherType: "IPv6", Protocol: "tcp", Min: 22, Max: 22, Prefix: "::/0"})
	seen := map[int]bool{22: true}
	for _, p := range openPorts {
		if p <= 0 || p >= 65536 || seen[p] {
			continue
		}
		seen[p] = true
		for _, cidr := range cidrs {
			out = append(out, SecurityRule{EtherType: etherType(cidr), Protocol: "tcp", Min: p, Max: p, Prefix: cidr})
		}
	}
	return out
}

func etherType(cidr string) string {
	if ip, _, err := net.ParseCIDR(cidr); err == nil && ip.To4() == nil {
		return "IPv6"
	}
	return "IPv4"
}

// ensureSecurityGroups makes each auto security group of the cluster exist
// with exactly its rules (AutoSecurityGroupRules): first every group, since
// each group's rules name all of them, then the rules. Rules another run or
// an older release added are removed; egress rules are left as Neutron made them.
func (c *Cloud) ensureSecurityGroups(ctx context.Context, cl *sahara.Cluster) error {
	var auto []*sahara.NodeGroup
	for _, ng := range cl.NodeGroups {
		if ng.AutoSecurityGroup {
			auto = append(auto, ng)
		}
	}
	if len(auto) == 0 {
		return nil
	}
	nc, err := c.network(ctx)
	if err != nil {
		return err
	}
	existing, err := clusterSecurityGroups(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	sgs := make([]*groups.SecGroup, len(auto))
	var members []string
	for i, ng := range auto {
		name := AutoSecurityGroupName(cl, ng)
		for j := range existing {
			if existing[j].ID == ng.SecurityGroupID || existing[j].Name == name {
				sgs[i] = &existing[j]
				break
			}
		}
		if sgs[i] == nil {
			created, err := groups.Create(ctx, nc, groups.CreateOpts{Name: name, Description: clusterTag(cl.ID)}).Extract()
			if err != nil {
				return fmt.Errorf("creating security group %s: %w", name, err)
			}
			sgs[i] = created
		}
		ng.SecurityGroupID = sgs[i].ID
		if err := tagNeutron(ctx, nc, "security-groups", sgs[i].ID, cl.ID); err != nil {
			return err
		}
		members = append(members, sgs[i].ID)
	}
	for i, ng := range auto {
		if err := c.ensureRules(ctx, nc, sgs[i], AutoSecurityGroupRules(ng.OpenPorts, ng.AutoSecurityGroupCIDRs, members)); err != nil {
			return fmt.Errorf("security group %s: %w", sgs[i].Name, err)
		}
	}
	c.log.Info("Auto security groups ready", "cluster_id", cl.ID, "count", len(auto))
	return nil
}

// ensureRules makes the group's ingress rules exactly want: the missing
// ones in one bulk request, then the others deleted.
func (c *Cloud) ensureRules(ctx context.Context, nc *gophercloud.ServiceClient, sg *groups.SecGroup, want []SecurityRule) error {
	wanted := map[string]bool{}
	for _, r := range want {
		wanted[r.key()] = true
	}
	have := map[string]bool{}
	var stale []string
	for _, r := range sg.Rules {
		if r.Direction != "ingress" {
			continue
		}
		k := SecurityRule{r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax, r.RemoteIPPrefix, r.RemoteGroupID}.key()
		if wanted[k] && !have[k] {
			have[k] = true
		} else {
			stale = append(stale, r.ID)
		}
	}
	var opts []rules.CreateOpts
	for _, r := range want {
		if have[r.key()] {
			continue
		}
		have[r.key()] = true
		opts = append(opts, rules.CreateOpts{
			Direction: rules.DirIngress, EtherType: rules.RuleEtherType(r.EtherType), SecGroupID: sg.ID,
			Protocol: rules.RuleProtocol(r.Protocol), PortRangeMin: r.Min, PortRangeMax: r.Max,
			RemoteIPPrefix: r.Prefix, RemoteGroupID: r.RemoteGroup,
		})
	}
	if len(opts) > 0 {
		if _, err := rules.CreateBulk(ctx, nc, opts).Extract(); err != nil {
			return fmt.Errorf("creating %d rules: %w", len(opts), err)
		}
	}
	for _, id := range stale {
		if err := rules.Delete(ctx, nc, id).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting rule %s: %w", id, err)
		}
	}
	return nil
}
