package sahara

import (
	"fmt"
	"sort"
	"strings"
)

// Victims chooses the n instances of ng a scale-down removes, in removal
// order, without side effects (the provider shows them in a plan):
//  1. the instances the caller named (instance names or server IDs), in the
//     order given;
//  2. instances in error, gone or unreachable (cloud status ERROR or
//     MISSING, failed while provisioning, or whose last step failed);
//  3. instances not yet configured;
//  4. Sahara's rule: highest index first.
//
// Ties are broken by name, so the choice is deterministic.
func Victims(ng *NodeGroup, n int, named []string) ([]*Instance, error) {
	if n < 0 || n > len(ng.Instances) {
		return nil, InvalidData(fmt.Sprintf("Node group %s has %d instances; cannot remove %d", ng.Name, len(ng.Instances), n)).
			At(Field{NodeGroup: ng.Name, Attribute: "count"})
	}
	if len(named) > n {
		return nil, InvalidData(fmt.Sprintf("Number of specific instances (%d) to delete can not be greater than the count difference (%d during scaling)", len(named), n)).
			At(Field{NodeGroup: ng.Name, Attribute: FieldInstancesToRemove})
	}
	chosen := map[*Instance]bool{}
	out := make([]*Instance, 0, n)
	for _, ref := range named {
		in := findInstance(ng, ref)
		if in == nil {
			return nil, NotFound(fmt.Sprintf("Instance %s not found", ref)).At(Field{NodeGroup: ng.Name, Attribute: FieldInstancesToRemove})
		}
		if chosen[in] {
			return nil, InvalidData(fmt.Sprintf("Duplicates in instances to delete are detected: %s", ref)).At(Field{NodeGroup: ng.Name, Attribute: FieldInstancesToRemove})
		}
		chosen[in] = true
		out = append(out, in)
	}
	rest := make([]*Instance, 0, len(ng.Instances))
	for _, in := range ng.Instances {
		if !chosen[in] {
			rest = append(rest, in)
		}
	}
	sort.SliceStable(rest, func(a, b int) bool {
		ra, rb := victimRank(rest[a]), victimRank(rest[b])
		if ra != rb {
			return ra < rb
		}
		ia, ib := nameIndex(rest[a]), nameIndex(rest[b])
		if ia != ib {
			return ia > ib
		}
		return rest[a].InstanceName < rest[b].InstanceName
	})
	return append(out, rest[:n-len(out)]...), nil
}

func findInstance(ng *NodeGroup, ref string) *Instance {
	for _, in := range ng.Instances {
		if in.InstanceName == ref || (ref != "" && in.InstanceID == ref) {
			return in
		}
	}
	return nil
}

// victimRank orders instances by how little is lost removing them.
func victimRank(in *Instance) int {
	switch {
	case in.CloudStatus == "ERROR" || in.CloudStatus == CloudStatusMissing || in.Phase == InstanceFailed || in.LastError != "":
		return 0
	case in.Phase != InstanceConfigured && in.Phase != InstanceStarted:
		return 1
	default:
		return 2
	}
}

// nameIndex is Sahara's sort key: the integer after the last "-" of the
// instance name, falling back to Index.
func nameIndex(in *Instance) int {
	if i := strings.LastIndexByte(in.InstanceName, '-'); i >= 0 {
		n := 0
		digits := in.InstanceName[i+1:]
		ok := digits != ""
		for _, c := range digits {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int(c-'0')
		}
		if ok {
			return n
		}
	}
	return in.Index
}
