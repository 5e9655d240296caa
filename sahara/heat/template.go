package heat

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Sahara's constants (sahara/service/heat/commons.py, templates.py).
const (
	// EngineVersion is Sahara's HEAT_ENGINE_VERSION, shown in descriptions.
	EngineVersion = "heat.3.0"
	// TemplateVersion is the heat_template_version of every template.
	TemplateVersion = "2016-04-08"
	// TimeoutMins is the stack timeout Sahara asks for.
	TimeoutMins = 180
	// DefaultStackTag is Sahara's default heat_stack_tags.
	DefaultStackTag = "data-processing-cluster"
	// DefaultWaitConditionTimeout is the default of the cluster config
	// general/"Heat Wait Condition timeout" (seconds).
	DefaultWaitConditionTimeout = 3600
	// WaitConditionTimeoutTarget and WaitConditionTimeoutName name that config.
	WaitConditionTimeoutTarget = "general"
	WaitConditionTimeoutName   = "Heat Wait Condition timeout"

	instanceResource  = "inst"
	serverGroupsParam = "servgroups"
	autoSGParam       = "autosecgroup"
	sshPort           = 22
)

// waitConditionScript is Sahara's WAIT_CONDITION_SCRIPT_TEMPLATE.
const waitConditionScript = `
while true; do
    wc_notify --insecure --data-binary '{"status": "SUCCESS"}'
    if [ $? -eq 0 ]; then
        break
    fi
    sleep 10
done
`

// Environment is what the generator needs besides the cluster: what Sahara
// read from OpenStack and sahara.conf.
type Environment struct {
	// ImageUsernames maps an image ID to its login user (Glance
	// _sahara_username); used for node groups whose ImageUsername is empty.
	ImageUsernames map[string]string
	// FlavorDisks maps a flavor ID to its root disk size in GB (the size
	// of boot volumes).
	FlavorDisks map[string]int
	// PrivateCIDRs are the CIDRs of the management network's subnets: auto
	// security groups open every port to them.
	PrivateCIDRs []string
	// HostsEntry is the /etc/hosts line of the orchestration endpoint,
	// "<ip> <host>\n" (Sahara's etc_hosts_entry_for_service), written by the
	// user data so instances reach the wait-condition URL; empty omits it.
	HostsEntry string
	// NoWaitCondition is Sahara's heat_enable_wait_condition = false.
	NoWaitCondition bool
	// Designate is Sahara's use_designate: with the cluster's DomainName,
	// every instance gets A and PTR records.
	Designate bool
	// StackTags are Sahara's heat_stack_tags; nil means DefaultStackTag.
	StackTags []string
	// RestrictOpenPorts opens the plugin's ports of an auto security group
	// only to the node group's AutoSecurityGroupCIDRs, as the direct engine
	// does, instead of to 0.0.0.0/0 and ::/0 as Sahara does.
	RestrictOpenPorts bool
}

// GroupChange is the target of one node group in a create or scale.
type GroupChange struct {
	// Count is the number of members the group's ResourceGroup will have.
	Count int
	// Remove names the instances to remove, in removal order (the
	// update's removal policy).
	Remove []string
	// Retired are the member indexes Heat already removed from the group in
	// earlier updates: a ResourceGroup never reuses them (removal policies
	// mode "append"), so new members get higher indexes.
	Retired []int
}

// Request is one stack operation to generate.
type Request struct {
	Cluster *sahara.Cluster
	Env     Environment
	// Groups holds the target of each node group by name; a group missing
	// here keeps len(Instances) members.
	Groups map[string]GroupChange
	// Update is a stack update (scale, delete, rollback): rollback on
	// failure is left to Heat, as Sahara's scale does.
	Update bool
}

// Stack is what is sent to Heat: stacks.create or stack.update arguments.
type Stack struct {
	Name            string
	Template        map[string]any
	Files           map[string]map[string]any
	Tags            []string
	TimeoutMins     int
	DisableRollback bool
	Parameters      map[string]any
}

// StackName is Sahara's heat_stack_name: the cluster name (case kept) plus
// the first 8 characters of the cluster ID.
func StackName(c *sahara.Cluster) string {
	id := c.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return c.Name + id
}

// ClusterTag is the stack tag carrying the cluster's ID.
func ClusterTag(clusterID string) string { return sahara.TagCluster + "=" + clusterID }

// AutoSecurityGroupName is Sahara's generate_auto_security_group_name.
func AutoSecurityGroupName(c *sahara.Cluster, ng *sahara.NodeGroup) string {
	id := ng.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return strings.ToLower(c.Name + "-" + ng.Name + "-" + id)
}

// ServerGroupName is Sahara's generate_aa_group_name (i from 1).
func ServerGroupName(c *sahara.Cluster, i int) string {
	return strings.ToLower(fmt.Sprintf("%s-aa-group-%d", c.Name, i))
}

// NodeGroupFile is the files key of a node group's nested template.
func NodeGroupFile(ng *sahara.NodeGroup) string { return "file://" + ng.Name + ".yaml" }

// VolumeFile is the files key of a node group's volume template.
func VolumeFile(ng *sahara.NodeGroup) string { return "file://" + ng.Name + "-volume.yaml" }

// OutputKey is the main template output listing a node group's members.
func OutputKey(ng *sahara.NodeGroup) string { return ng.Name + "-instances" }

// MemberIndex is the ResourceGroup member index of an instance: the
// integer after the last "-" of its name (Sahara's
// _get_index_from_inst_name).
func MemberIndex(instanceName string) string {
	return instanceName[strings.LastIndex(instanceName, "-")+1:]
}

// MemberIndexes returns the indexes a ResourceGroup of count members uses
// when the retired indexes are never reused: the count lowest others.
func MemberIndexes(count int, retired []int) []int {
	out := make([]int, 0, count)
	for i := 0; len(out) < count; i++ {
		if !slices.Contains(retired, i) {
			out = append(out, i)
		}
	}
	return out
}

// Errors of Generate.
var (
	ErrUnsafeValue = errors.New("value unsafe in the user data script")
	ErrNoFlavor    = errors.New("flavor disk size unknown")
)

var (
	safeUsername = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	safeKey      = regexp.MustCompile(`^[A-Za-z0-9+/=@ ._:-]+\n?$`)
	safeHosts    = regexp.MustCompile(`^[A-Za-z0-9.:_ #-]+\n?$`)
)

// Generate builds the stack of the request as Sahara's ClusterStack does.
func Generate(req Request) (*Stack, error) {
	c := req.Cluster
	g := &generator{req: req, c: c, env: req.Env, files: map[string]map[string]any{}, sgIndex: 1}
	resources := map[string]any{}
	outputs := map[string]any{}
	if len(c.AntiAffinity) > 0 {
		for i := 1; i <= g.ratio(); i++ {
			name := ServerGroupName(c, i)
			resources[name] = map[string]any{
				"type":       "OS::Nova::ServerGroup",
				"properties": map[string]any{"name": name, "policies": []any{"anti-affinity"}},
			}
		}
	}
	for _, ng := range c.NodeGroups {
		rg, err := g.nodeGroup(ng, outputs)
		if err != nil {
			return nil, fmt.Errorf("node group %s: %w", ng.Name, err)
		}
		resources[ng.Name] = rg
	}
	for _, ng := range c.NodeGroups {
		if ng.AutoSecurityGroup {
			resources[AutoSecurityGroupName(c, ng)] = g.autoSecurityGroup(ng)
		}
	}
	tags := req.Env.StackTags
	if tags == nil {
		tags = []string{DefaultStackTag}
	}
	return &Stack{
		Name: StackName(c),
		Template: map[string]any{
			"heat_template_version": TemplateVersion,
			"description":           g.baseInfo(),
			"resources":             resources,
			"outputs":               outputs,
		},
		Files:           g.files,
		Tags:            append(slices.Clone(tags), ClusterTag(c.ID)),
		TimeoutMins:     TimeoutMins,
		DisableRollback: !req.Update,
		Parameters:      map[string]any{},
	}, nil
}

type generator struct {
	req     Request
	c       *sahara.Cluster
	env     Environment
	files   map[string]map[string]any
	sgIndex int
}

func (g *generator) ratio() int {
	if g.c.AntiAffinityRatio < 1 {
		return 1
	}
	return g.c.AntiAffinityRatio
}

func (g *generator) baseInfo() string {
	return "Data Processing Cluster by Sahara\nSahara cluster name: " + g.c.Name + "\nSahara engine: " + EngineVersion
}

// nextServerGroup is Sahara's round robin (_get_server_group_name): the
// counter starts at 1 and is advanced before use, so with ratio 2 the
// first member gets group 2.
func (g *generator) nextServerGroup() string {
	if g.sgIndex < g.ratio() {
		g.sgIndex++
	} else {
		g.sgIndex = 1
	}
	return ServerGroupName(g.c, g.sgIndex)
}

func (g *generator) change(ng *sahara.NodeGroup) GroupChange {
	if ch, ok := g.req.Groups[ng.Name]; ok {
		return ch
	}
	return GroupChange{Count: len(ng.Instances)}
}

func (g *generator) nodeGroup(ng *sahara.NodeGroup, outputs map[string]any) (map[string]any, error) {
	file, err := g.nodeGroupFile(ng)
	if err != nil {
		return nil, err
	}
	g.files[NodeGroupFile(ng)] = file
	outputs[OutputKey(ng)] = map[string]any{"value": map[string]any{"get_attr": []any{ng.Name, "instance"}}}
	ch := g.change(ng)
	props := map[string]any{"instance_index": "%index%"}
	if len(g.c.AntiAffinity) > 0 {
		// servgroups is indexed by member index. Sahara sizes it by count,
		// which is too short once Heat skips retired indexes (a scale-up
		// after a scale-down): cover the highest index used instead.
		retired := slices.Clone(ch.Retired)
		for _, name := range ch.Remove {
			if i, err := strconv.Atoi(MemberIndex(name)); err == nil {
				retired = append(retired, i)
			}
		}
		n := 0
		if idx := MemberIndexes(ch.Count, retired); len(idx) > 0 {
			n = idx[len(idx)-1] + 1
		}
		var sgs []any
		for range n {
			sgs = append(sgs, map[string]any{"get_resource": g.nextServerGroup()})
		}
		if n > 0 {
			props[serverGroupsParam] = sgs
		}
	}
	if ng.AutoSecurityGroup {
		props[autoSGParam] = map[string]any{"get_resource": AutoSecurityGroupName(g.c, ng)}
	}
	removal := []any{}
	if len(ch.Remove) > 0 {
		list := make([]any, len(ch.Remove))
		for i, name := range ch.Remove {
			list[i] = MemberIndex(name)
		}
		removal = append(removal, map[string]any{"resource_list": list})
	}
	return map[string]any{
		"type": "OS::Heat::ResourceGroup",
		"properties": map[string]any{
			"count":            ch.Count,
			"removal_policies": removal,
			"resource_def":     map[string]any{"type": NodeGroupFile(ng), "properties": props},
		},
	}, nil
}

func (g *generator) nodeGroupFile(ng *sahara.NodeGroup) (map[string]any, error) {
	params := map[string]any{"instance_index": map[string]any{"type": "string"}}
	if len(g.c.AntiAffinity) > 0 {
		params[serverGroupsParam] = map[string]any{"type": "comma_delimited_list", "default": []any{}}
	}
	if ng.AutoSecurityGroup {
		params[autoSGParam] = map[string]any{"type": "string"}
	}
	resources, err := g.instance(ng)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"heat_template_version": TemplateVersion,
		"description":           g.baseInfo() + "\nNode group " + ng.Name,
		"parameters":            params,
		"resources":             resources,
		"outputs": map[string]any{"instance": map[string]any{"value": map[string]any{
			"physical_id": map[string]any{"get_resource": instanceResource},
			"name":        map[string]any{"get_attr": []any{instanceResource, "name"}},
		}}},
	}, nil
}

// nameOf is a list_join of the lower-cased cluster and group names, the
// member index and the given suffixes.
func (g *generator) nameOf(ng *sahara.NodeGroup, suffix ...any) map[string]any {
	parts := []any{strings.ToLower(g.c.Name), strings.ToLower(ng.Name), map[string]any{"get_param": "instance_index"}}
	return map[string]any{"list_join": []any{"-", append(parts, suffix...)}}
}

func (g *generator) imageUsername(ng *sahara.NodeGroup) string {
	if ng.ImageUsername != "" {
		return ng.ImageUsername
	}
	return g.env.ImageUsernames[ng.ImageIDOrDefault()]
}

func (g *generator) instance(ng *sahara.NodeGroup) (map[string]any, error) {
	resources := map[string]any{}
	props := map[string]any{}
	if g.c.UserKeypairID != "" {
		props["key_name"] = g.c.UserKeypairID
	}
	port := map[string]any{
		"network_id":         g.c.NeutronManagementNetwork,
		"replacement_policy": "AUTO",
		"name":               g.nameOf(ng, "port"),
	}
	var sgs []any
	for _, s := range ng.SecurityGroups {
		sgs = append(sgs, s)
	}
	if ng.AutoSecurityGroup {
		sgs = append(sgs, map[string]any{"get_param": autoSGParam})
	}
	if len(sgs) > 0 {
		port["security_groups"] = sgs
	}
	resources["port"] = map[string]any{"type": "OS::Neutron::Port", "properties": port}
	props["networks"] = []any{map[string]any{"port": map[string]any{"get_resource": "port"}}}
	if ng.FloatingIPPool != "" {
		resources["floating_ip"] = map[string]any{
			"type": "OS::Neutron::FloatingIP",
			"properties": map[string]any{
				"floating_network_id": ng.FloatingIPPool,
				"port_id":             map[string]any{"get_resource": "port"},
			},
		}
	}
	username := g.imageUsername(ng)
	script, err := g.keyScript(username)
	if err != nil {
		return nil, err
	}
	var userData any = script
	if !g.env.NoWaitCondition {
		parts := []string{script}
		if g.env.HostsEntry != "" {
			if !safeHosts.MatchString(g.env.HostsEntry) {
				return nil, fmt.Errorf("%w: hosts entry %q", ErrUnsafeValue, g.env.HostsEntry)
			}
			parts = append(parts, "echo '"+g.env.HostsEntry+"' | sudo tee -a /etc/hosts")
		}
		parts = append(parts, waitConditionScript)
		userData = map[string]any{"str_replace": map[string]any{
			"template": strings.Join(parts, "\n"),
			"params": map[string]any{"wc_notify": map[string]any{
				"get_attr": []any{ng.Name + "-wc-handle", "curl_cli"},
			}},
		}}
	}
	if ng.AvailabilityZone != "" {
		props["availability_zone"] = ng.AvailabilityZone
	}
	if g.needsServerGroup(ng) {
		props["scheduler_hints"] = map[string]any{"group": map[string]any{
			"get_param": []any{serverGroupsParam, map[string]any{"get_param": "instance_index"}},
		}}
	}
	props["name"] = g.nameOf(ng)
	props["flavor"] = ng.FlavorID
	props["admin_user"] = username
	props["user_data"] = userData
	if ng.BootFromVolume {
		vol, err := g.bootVolume(ng)
		if err != nil {
			return nil, err
		}
		resources["bootable_volume"] = vol
		props["block_device_mapping"] = []any{map[string]any{
			"device_name":           "vda",
			"volume_id":             map[string]any{"get_resource": "bootable_volume"},
			"delete_on_termination": "true",
		}}
	} else {
		props["image"] = ng.ImageIDOrDefault()
	}
	resources[instanceResource] = map[string]any{"type": "OS::Nova::Server", "properties": props}
	g.designate(ng, resources)
	if ng.VolumesSize > 0 && ng.VolumesPerNode > 0 {
		g.files[VolumeFile(ng)] = g.volumeFile(ng)
		resources[ng.Name] = map[string]any{
			"type": "OS::Heat::ResourceGroup",
			"properties": map[string]any{
				"count": ng.VolumesPerNode,
				"resource_def": map[string]any{
					"type": VolumeFile(ng),
					"properties": map[string]any{
						"volume_index":   "%index%",
						"instance_index": map[string]any{"get_param": "instance_index"},
						"instance":       map[string]any{"get_resource": instanceResource},
					},
				},
			},
		}
	}
	if !g.env.NoWaitCondition {
		timeout, err := g.waitTimeout(ng)
		if err != nil {
			return nil, err
		}
		resources[ng.Name+"-wc-handle"] = map[string]any{"type": "OS::Heat::WaitConditionHandle"}
		resources[ng.Name+"-wc-waiter"] = map[string]any{
			"type":       "OS::Heat::WaitCondition",
			"depends_on": instanceResource,
			"properties": map[string]any{
				"timeout": timeout,
				"handle":  map[string]any{"get_resource": ng.Name + "-wc-handle"},
			},
		}
	}
	return resources, nil
}

// keyScript is Sahara's _generate_user_data_script: install the management
// key for the login user and comment out requiretty. The values are
// checked instead of quoted, so the script stays Sahara's byte for byte.
func (g *generator) keyScript(username string) (string, error) {
	if !safeUsername.MatchString(username) {
		return "", fmt.Errorf("%w: image login user %q", ErrUnsafeValue, username)
	}
	key := g.c.ManagementPublicKey
	if !safeKey.MatchString(key) {
		return "", fmt.Errorf("%w: the management public key", ErrUnsafeValue)
	}
	home := "/home/" + username + "/"
	if username == "root" {
		home = "/root/"
	}
	return "#!/bin/bash\n" +
		"echo \"" + key + "\" >> " + home + "/.ssh/authorized_keys\n\n" +
		"# ====== COMMENT OUT Defaults requiretty in /etc/sudoers ========\n" +
		"sed '/^Defaults    requiretty*/ s/^/#/' -i /etc/sudoers\n\n", nil
}

func (g *generator) needsServerGroup(ng *sahara.NodeGroup) bool {
	for _, p := range ng.NodeProcesses {
		if slices.Contains(g.c.AntiAffinity, p) {
			return true
		}
	}
	return false
}

// bootVolume is Sahara's _get_bootable_volume, except that
// boot_volume_local_to_instance adds no scheduler hint: Sahara's refers
// to an "instance" parameter the template does not declare, and the
// volume a server boots from exists before the server anyway.
func (g *generator) bootVolume(ng *sahara.NodeGroup) (map[string]any, error) {
	disk, ok := g.env.FlavorDisks[ng.FlavorID]
	if !ok {
		return nil, fmt.Errorf("%w: flavor %s", ErrNoFlavor, ng.FlavorID)
	}
	props := map[string]any{"size": disk, "image": ng.ImageIDOrDefault()}
	if ng.BootVolumeType != "" {
		props["volume_type"] = ng.BootVolumeType
	}
	if ng.BootVolumeAvailabilityZone != "" {
		props["availability_zone"] = ng.BootVolumeAvailabilityZone
	}
	return map[string]any{"type": "OS::Cinder::Volume", "properties": props}, nil
}

func (g *generator) waitTimeout(ng *sahara.NodeGroup) (int, error) {
	v, ok := g.c.ClusterConfigs.Get(WaitConditionTimeoutTarget, WaitConditionTimeoutName)
	if !ok {
		return DefaultWaitConditionTimeout, nil
	}
	switch t := v.(type) {
	case int:
		return t, nil
	case float64:
		return int(t), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			return 0, fmt.Errorf("cluster config %s/%s: %w", WaitConditionTimeoutTarget, WaitConditionTimeoutName, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("cluster config %s/%s: not a number: %v", WaitConditionTimeoutTarget, WaitConditionTimeoutName, v)
}

// designate adds Sahara's Designate records. The external ones (the
// floating IP's A and PTR records) only when the group has a floating IP
// pool: Sahara adds them always and so refers to a floating_ip resource
// that does not exist.
func (g *generator) designate(ng *sahara.NodeGroup, resources map[string]any) {
	if !g.env.Designate || g.c.DomainName == "" {
		return
	}
	domain := g.c.DomainName
	hostname := map[string]any{"list_join": []any{".", []any{
		map[string]any{"get_attr": []any{instanceResource, "name"}}, domain,
	}}}
	reversed := func(ip any) map[string]any {
		parts := []any{}
		for i := 3; i >= 0; i-- {
			parts = append(parts, map[string]any{"str_split": []any{".", ip, i}})
		}
		return map[string]any{"list_join": []any{".", append(parts, "in-addr.arpa.")}}
	}
	record := func(name any, typ string, data any, domain string) map[string]any {
		return map[string]any{"type": "OS::Designate::Record", "properties": map[string]any{
			"name": name, "type": typ, "data": data, "domain": domain,
		}}
	}
	internal := func() any { return map[string]any{"get_attr": []any{instanceResource, "networks", "private", 0}} }
	resources["internal_designate_record"] = record(hostname, "A", internal(), domain)
	resources["internal_designate_reverse_record"] = record(reversed(internal()), "PTR", hostname, "in-addr.arpa.")
	if ng.FloatingIPPool == "" {
		return
	}
	external := func() any { return map[string]any{"get_attr": []any{"floating_ip", "ip"}} }
	resources["external_designate_record"] = record(hostname, "A", external(), domain)
	resources["external_designate_reverse_record"] = record(reversed(external()), "PTR", hostname, "in-addr.arpa.")
}

func (g *generator) volumeFile(ng *sahara.NodeGroup) map[string]any {
	props := map[string]any{
		"name": g.nameOf(ng, "volume", map[string]any{"get_param": "volume_index"}),
		"size": strconv.Itoa(ng.VolumesSize),
	}
	if ng.VolumeType != "" {
		props["volume_type"] = ng.VolumeType
	}
	if ng.VolumesAvailabilityZone != "" {
		props["availability_zone"] = ng.VolumesAvailabilityZone
	}
	if ng.VolumeLocalToInstance {
		props["scheduler_hints"] = map[string]any{"local_to_instance": map[string]any{"get_param": "instance"}}
	}
	str := map[string]any{"type": "string"}
	return map[string]any{
		"heat_template_version": TemplateVersion,
		"description":           g.baseInfo() + "\nVolume for Sahara Node Group " + ng.Name,
		"parameters":            map[string]any{"volume_index": str, "instance_index": str, "instance": str},
		"resources": map[string]any{
			"volume": map[string]any{"type": "OS::Cinder::Volume", "properties": props},
			"volume-attachment": map[string]any{
				"type": "OS::Cinder::VolumeAttachment",
				"properties": map[string]any{
					"instance_uuid": map[string]any{"get_param": "instance"},
					"volume_id":     map[string]any{"get_resource": "volume"},
				},
			},
		},
		"outputs": map[string]any{},
	}
}

// autoSecurityGroup is Sahara's auto security group: the plugin's ports
// and SSH from anywhere (IPv4 and IPv6), every port from the private
// subnets. With Environment.RestrictOpenPorts the plugin's ports are open
// to the node group's AutoSecurityGroupCIDRs only.
func (g *generator) autoSecurityGroup(ng *sahara.NodeGroup) map[string]any {
	rule := func(cidr, proto string, from, to int) any {
		return map[string]any{
			"ethertype":        etherType(cidr),
			"remote_ip_prefix": cidr,
			"protocol":         proto,
			"port_range_min":   strconv.Itoa(from),
			"port_range_max":   strconv.Itoa(to),
		}
	}
	world := []string{"0.0.0.0/0", "::/0"}
	portCIDRs := world
	if g.env.RestrictOpenPorts {
		portCIDRs = ng.AutoSecurityGroupCIDRs
	}
	rules := []any{}
	for _, p := range ng.OpenPorts {
		for _, cidr := range portCIDRs {
			rules = append(rules, rule(cidr, "tcp", p, p))
		}
	}
	for _, cidr := range world {
		rules = append(rules, rule(cidr, "tcp", sshPort, sshPort))
	}
	for _, cidr := range g.env.PrivateCIDRs {
		rules = append(rules, rule(cidr, "tcp", 1, 65535), rule(cidr, "udp", 1, 65535), rule(cidr, "icmp", 0, 255))
	}
	return map[string]any{
		"type": "OS::Neutron::SecurityGroup",
		"properties": map[string]any{
			"description": g.baseInfo() + "\nAuto security group for Sahara Node Group: " + ng.Name,
			"rules":       rules,
		},
	}
}

// etherType is Sahara's rule: a CIDR with ":" is IPv6.
func etherType(cidr string) string {
	if strings.Contains(cidr, ":") {
		return "IPv6"
	}
	return "IPv4"
}
