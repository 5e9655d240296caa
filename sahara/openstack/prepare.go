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

// SecurityRule is one ingress rule of an auto security group.
type SecurityRule struct {
	EtherType string
	Protocol  string
	Min, Max  int
	Prefix    string
}

// key identifies a rule as Neutron reports it: a full 1-65535 range is
// stored as no range.
func (r SecurityRule) key() string {
	if r.Min == 1 && r.Max == 65535 {
		r.Min, r.Max = 0, 0
	}
	return fmt.Sprintf("%s|%s|%d|%d|%s", r.EtherType, r.Protocol, r.Min, r.Max, r.Prefix)
}

// AutoSecurityGroupRules are the ingress rules Sahara gives an auto security
// group: each open port and SSH over TCP from anywhere (IPv4
// and IPv6), and all TCP, UDP and ICMP from each CIDR of the cluster network.
func AutoSecurityGroupRules(openPorts []int, cidrs []string) []SecurityRule {
	var out []SecurityRule
	seen := map[int]bool{22: true}
	tcpAnywhere := func(p int) {
		out = append(out,
			SecurityRule{EtherType: "IPv4", Protocol: "tcp", Min: p, Max: p, Prefix: "0.0.0.0/0"},
			SecurityRule{EtherType: "IPv6", Protocol: "tcp", Min: p, Max: p, Prefix: "::/0"})
	}
	for _, p := range openPorts {
		if p > 0 && p < 65536 && !seen[p] {
			seen[p] = true
			tcpAnywhere(p)
		}
	}
	tcpAnywhere(22)
	for _, cidr := range cidrs {
		et, icmp := "IPv4", "icmp"
		if ip, _, err := net.ParseCIDR(cidr); err == nil && ip.To4() == nil {
			et, icmp = "IPv6", "ipv6-icmp"
		}
		out = append(out,
			SecurityRule{EtherType: et, Protocol: "tcp", Min: 1, Max: 65535, Prefix: cidr},
			SecurityRule{EtherType: et, Protocol: "udp", Min: 1, Max: 65535, Prefix: cidr},
			SecurityRule{EtherType: et, Protocol: icmp, Prefix: cidr})
	}
	return out
}

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
	netID, err := c.resolveNetwork(ctx, cl.NeutronManagementNetwork, "neutron_management_network")
	if err != nil {
		return err
	}
	cidrs, err := networkCIDRs(ctx, nc, netID)
	if err != nil {
		return err
	}
	existing, err := clusterSecurityGroups(ctx, nc, cl.ID)
	if err != nil {
		return err
	}
	for _, ng := range auto {
		name := AutoSecurityGroupName(cl, ng)
		var sg *groups.SecGroup
		for i := range existing {
			if existing[i].ID == ng.SecurityGroupID || existing[i].Name == name {
				sg = &existing[i]
				break
			}
		}
		if sg == nil {
			created, err := groups.Create(ctx, nc, groups.CreateOpts{Name: name, Description: clusterTag(cl.ID)}).Extract()
			if err != nil {
				return fmt.Errorf("creating security group %s: %w", name, err)
			}
			sg = created
		}
		ng.SecurityGroupID = sg.ID
		if err := tagNeutron(ctx, nc, "security-groups", sg.ID, cl.ID); err != nil {
			return err
		}
		if err := c.ensureRules(ctx, nc, sg, AutoSecurityGroupRules(ng.OpenPorts, cidrs)); err != nil {
			return fmt.Errorf("security group %s: %w", name, err)
		}
	}
	c.log.Info("Auto security groups ready", "cluster_id", cl.ID, "count", len(auto))
	return nil
}

// ensureRules adds the wanted rules the group lacks, in one bulk request.
func (c *Cloud) ensureRules(ctx context.Context, nc *gophercloud.ServiceClient, sg *groups.SecGroup, want []SecurityRule) error {
	have := map[string]bool{}
	for _, r := range sg.Rules {
		if r.Direction == "ingress" {
			have[SecurityRule{r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax, r.RemoteIPPrefix}.key()] = true
		}
	}
	var opts []rules.CreateOpts
	for _, r := range want {
		if have[r.key()] {
			continue
		}
		opts = append(opts, rules.CreateOpts{
			Direction: rules.DirIngress, EtherType: rules.RuleEtherType(r.EtherType), SecGroupID: sg.ID,
			Protocol: rules.RuleProtocol(r.Protocol), PortRangeMin: r.Min, PortRangeMax: r.Max, RemoteIPPrefix: r.Prefix,
		})
	}
	if len(opts) == 0 {
		return nil
	}
	if _, err := rules.CreateBulk(ctx, nc, opts).Extract(); err != nil {
		return fmt.Errorf("creating %d rules: %w", len(opts), err)
	}
	return nil
}
