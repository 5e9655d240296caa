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
//
// Infra is the sahara.Infrastructure over that stack (the provider selects
// it with engine = "heat"); images, quotas, flavors and host keys are the
// direct engine's (sahara/openstack):
//
//   - SpawnInstances creates the stack, or updates it with the new counts
//     (the whole template regenerated, as Sahara's scale does); a stack of
//     the cluster's name carrying its tag is adopted, so a run interrupted
//     after the create does not make a second stack, and one without the
//     tag is refused. It waits for CREATE/UPDATE_COMPLETE; a failure is a
//     StackError with the stack's reason and the failed resources' reasons
//     (nested stacks included). The outputs <node group>-instances give each
//     new instance its server by name; an instance the engine planned at a
//     freed index is renamed to the member Heat made (a ResourceGroup never
//     reuses a removed index). Addresses come from one Nova list call,
//     volumes and their devices from Cinder.
//   - DeleteInstances is a stack update whose removal policies name the
//     instances' member indexes in the order given; the indexes removed are
//     kept in Cluster.Extra ("heat_retired_indexes:<node group>") for the
//     server-group lists. A failed scale is undone the same way: the engine
//     deletes the new instances, which is the previous template again.
//   - DeleteCluster deletes the stack, waits until it is gone, then sweeps
//     whatever carries the cluster's tag as the direct engine does.
//   - The servers themselves carry no saharagen metadata (the template is
//     Sahara's): RefreshInstances and ClusterServers find them through the
//     stack's outputs.
//   - The Infra opens the plugin's ports as the direct engine does
//     (Environment.RestrictOpenPorts) unless WithEnvironment says otherwise.
//   - PrepareCluster creates nothing before the stack exists; on a running
//     cluster (a change of the auto security groups' CIDRs, a scale adding
//     a group with an auto security group) it updates the stack with the
//     same members, so the regenerated groups and rules take effect.
//   - A rolling replacement of a node group is refused (RefuseRoll): the
//     group is one template, and Heat would change every member at once.
//   - When the orchestration endpoint is a loopback address (a cloud on one
//     machine, such as saharagen's testbed), no server could signal a wait
//     condition: the stack has none (as with heat_enable_wait_condition =
//     false) and the engine's SSH wait finds the instances ready.
//   - Heat hides stacks tagged data-processing-cluster (its
//     hidden_stack_tags) from stack lists; the Infra finds its stack by
//     name, so this does not matter to it, but a list needs show_hidden.
package heat
