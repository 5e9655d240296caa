// Package heat is saharagen's Heat engine: the cluster's servers, ports,
// floating IPs, volumes, anti-affinity server groups and auto security
// groups are one Heat stack, generated as Sahara 16's heat engine generates
// it (sahara/service/heat/templates.py), so an operator who knew Sahara's
// stacks finds the same resources, names and outputs.
//
// Generate is a pure function from the cluster (sahara.Cluster with its
// node groups and instances), the target of each node group and an
// Environment (login users, flavor disk sizes, private CIDRs, the
// orchestration endpoint's hosts line, wait-condition and Designate
// switches) to the stack: its name (cluster name plus the first 8
// characters of the cluster ID), the main HOT template, the nested
// templates keyed file://<node group>.yaml and file://<node
// group>-volume.yaml, tags, timeout and rollback switch. Its output is
// compared with what the real Sahara passed to Heat for 19 clusters (the
// conformance data in ../shared/conformance/heat).
//
// Where saharagen differs from Sahara, on purpose:
//
//   - The stack's tags are Sahara's (heat_stack_tags) followed by
//     saharagen's cluster tag "saharagen_cluster=<cluster id>", the
//     identity every saharagen object carries.
//   - Sahara defect, corrected: with boot_volume_local_to_instance Sahara
//     gives the boot volume the scheduler hint local_to_instance
//     {get_param: instance}, a parameter the node group template does not
//     declare (and the server does not exist before the volume it boots
//     from). saharagen gives the boot volume no such hint.
//   - Sahara defect, corrected: with Designate, Sahara adds the external A
//     and PTR records (the floating IP's) to every node group, so a group
//     without floating_ip_pool refers to a floating_ip resource that does
//     not exist. saharagen adds them only to groups with a floating IP pool.
//   - Sahara defect, corrected: the servgroups list given to a
//     ResourceGroup is indexed by member index but has count entries. A
//     ResourceGroup never reuses a removed member's index, so after a
//     scale-down a scale-up creates members whose index is past the end of
//     the list. saharagen makes the list cover the highest index the group
//     will use (GroupChange.Retired names the indexes Heat will skip).
//   - The user data installs the management key with Sahara's script, byte
//     for byte; instead of quoting, the values it embeds (the key, the
//     login user, the hosts line) are checked to hold no shell
//     metacharacters (ErrUnsafeValue).
//   - Environment.RestrictOpenPorts opens the plugin's ports of an auto
//     security group to the node group's AutoSecurityGroupCIDRs only, as
//     the direct engine does (Sahara opens them to 0.0.0.0/0 and ::/0).
package heat
