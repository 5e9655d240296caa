package sahara

// ResolveNodeGroup merges a node group with the node group template it
// references: template fields first, then the node group's own non-zero
// fields; node configs merged (Sahara's _populate_node_groups).
func ResolveNodeGroup(ngt *NodeGroupTemplate, own NodeGroupSpec) NodeGroupSpec {
	panic("not implemented yet")
}

// ResolveClusterSpec merges a cluster template and a request: template
// fields first, request values replace them (a request's node groups replace
// the template's list), cluster configs merged (Sahara's cluster_create).
func ResolveClusterSpec(tmpl *ClusterTemplate, req ClusterSpec) ClusterSpec {
	panic("not implemented yet")
}
