package sahara

import "reflect"

// ResolveNodeGroup merges a node group with the node group template it
// references: template fields first, then the node group's own non-zero
// fields; node configs merged (Sahara's _populate_node_groups). A nil
// template returns own unchanged. Plain bool fields can only be switched on
// by own (false is indistinguishable from unset); UseAutoconfig is a *bool
// and can be switched off.
func ResolveNodeGroup(ngt *NodeGroupTemplate, own NodeGroupSpec) NodeGroupSpec {
	if ngt == nil {
		return cloneNodeGroupSpec(own)
	}
	out := cloneNodeGroupSpec(ngt.NodeGroupSpec)
	overlayNonZero(&out, &own)
	out.NodeConfigs = MergeConfigs(ngt.NodeConfigs, own.NodeConfigs)
	if len(out.NodeConfigs) == 0 {
		out.NodeConfigs = nil
	}
	out.Count = own.Count
	if out.NodeGroupTemplateID == "" {
		out.NodeGroupTemplateID = ngt.ID
	}
	return cloneNodeGroupSpec(out)
}

// ResolveClusterSpec merges a cluster template and a request: template
// fields first, request values replace them (a request's node groups replace
// the template's list), cluster configs merged (Sahara's cluster_create).
// is_public and is_protected are never inherited, as in Sahara. Node groups
// of the request that reference a node group template must be resolved with
// ResolveNodeGroup by the caller, which can look templates up; the
// template's own node groups are stored already resolved.
func ResolveClusterSpec(tmpl *ClusterTemplate, req ClusterSpec) ClusterSpec {
	if tmpl == nil {
		return cloneClusterSpec(req)
	}
	out := cloneClusterSpec(tmpl.ClusterSpec)
	out.IsPublic, out.IsProtected = false, false
	overlayNonZero(&out, &req)
	out.ClusterConfigs = MergeConfigs(tmpl.ClusterConfigs, req.ClusterConfigs)
	if len(out.ClusterConfigs) == 0 {
		out.ClusterConfigs = nil
	}
	if len(req.NodeGroups) > 0 {
		out.NodeGroups = req.NodeGroups
	}
	if req.ClusterTemplateID == "" {
		out.ClusterTemplateID = tmpl.ID
	}
	return cloneClusterSpec(out)
}

// overlayNonZero copies every non-zero field of src over dst (both pointers
// to the same struct type).
func overlayNonZero(dst, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := 0; i < s.NumField(); i++ {
		if f := s.Field(i); !f.IsZero() {
			d.Field(i).Set(f)
		}
	}
}

func cloneNodeGroupSpec(s NodeGroupSpec) NodeGroupSpec {
	s.NodeProcesses = append([]string(nil), s.NodeProcesses...)
	s.SecurityGroups = cloneStrings(s.SecurityGroups)
	s.AutoSecurityGroupCIDRs = cloneStrings(s.AutoSecurityGroupCIDRs)
	s.NodeConfigs = s.NodeConfigs.Clone()
	if s.UseAutoconfig != nil {
		v := *s.UseAutoconfig
		s.UseAutoconfig = &v
	}
	return s
}

func cloneClusterSpec(s ClusterSpec) ClusterSpec {
	s.AntiAffinity = cloneStrings(s.AntiAffinity)
	s.ClusterConfigs = s.ClusterConfigs.Clone()
	if s.UseAutoconfig != nil {
		v := *s.UseAutoconfig
		s.UseAutoconfig = &v
	}
	if s.NodeGroups != nil {
		ngs := make([]NodeGroupSpec, len(s.NodeGroups))
		for i, ng := range s.NodeGroups {
			ngs[i] = cloneNodeGroupSpec(ng)
		}
		s.NodeGroups = ngs
	}
	return s
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}
