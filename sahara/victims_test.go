package sahara

import (
	"errors"
	"strings"
	"testing"
)

type inst struct {
	idx     int
	id      string
	cloud   string
	phase   InstancePhase
	lastErr string
}

func victimGroup(insts ...inst) *NodeGroup {
	c := &Cluster{ClusterSpec: ClusterSpec{Name: "c"}}
	ng := c.AddNodeGroup(NodeGroupSpec{Name: "w"})
	for _, x := range insts {
		in := ng.NewInstance(x.idx)
		in.InstanceID, in.CloudStatus, in.Phase, in.LastError = x.id, x.cloud, x.phase, x.lastErr
		ng.AddInstance(in)
	}
	return ng
}

func names(ins []*Instance) string {
	var s []string
	for _, in := range ins {
		s = append(s, in.InstanceName)
	}
	return strings.Join(s, ",")
}

func TestVictims_Table(t *testing.T) {
	healthy := func(i int) inst {
		return inst{idx: i, id: "srv-" + string(rune('a'+i)), cloud: "ACTIVE", phase: InstanceStarted}
	}
	for _, tc := range []struct {
		name  string
		insts []inst
		n     int
		named []string
		want  string
		err   string
	}{
		{"highest index first (Sahara 4->2)", []inst{healthy(0), healthy(1), healthy(2), healthy(3)}, 2, nil, "c-w-3,c-w-2", ""},
		{"none", []inst{healthy(0), healthy(1)}, 0, nil, "", ""},
		{"all", []inst{healthy(0), healthy(1)}, 2, nil, "c-w-1,c-w-0", ""},
		{"named by name first", []inst{healthy(0), healthy(1), healthy(2), healthy(3)}, 2, []string{"c-w-0"}, "c-w-0,c-w-3", ""},
		{"named by server id", []inst{healthy(0), healthy(1), healthy(2)}, 1, []string{"srv-b"}, "c-w-1", ""},
		{"named keep caller order", []inst{healthy(0), healthy(1), healthy(2)}, 2, []string{"c-w-0", "c-w-2"}, "c-w-0,c-w-2", ""},
		{"error before healthy", []inst{healthy(0), {idx: 1, cloud: "ERROR", phase: InstanceStarted}, healthy(2)}, 1, nil, "c-w-1", ""},
		{"missing before healthy", []inst{{idx: 0, cloud: CloudStatusMissing, phase: InstanceStarted}, healthy(1), healthy(2)}, 1, nil, "c-w-0", ""},
		{"last step failed before healthy", []inst{healthy(0), {idx: 1, cloud: "ACTIVE", phase: InstanceStarted, lastErr: "dial tcp: no route to host"}, healthy(2)}, 1, nil, "c-w-1", ""},
		{"failed phase before unconfigured", []inst{{idx: 0, cloud: "ACTIVE", phase: InstanceFailed}, {idx: 1, cloud: "ACTIVE", phase: InstancePrepared}, healthy(2)}, 2, nil, "c-w-0,c-w-1", ""},
		{"unconfigured before healthy", []inst{healthy(0), {idx: 1, cloud: "ACTIVE", phase: InstanceSpawned}, healthy(2)}, 2, nil, "c-w-1,c-w-2", ""},
		{"two in error: highest index first", []inst{{idx: 0, cloud: "ERROR"}, healthy(1), {idx: 2, cloud: "ERROR"}}, 2, nil, "c-w-2,c-w-0", ""},
		{"named then error then index", []inst{healthy(0), healthy(1), {idx: 2, cloud: "ERROR", phase: InstanceStarted}, healthy(3)}, 3, []string{"c-w-1"}, "c-w-1,c-w-2,c-w-3", ""},
		{"index 10 beats 9 (numeric)", []inst{healthy(9), healthy(10)}, 1, nil, "c-w-10", ""},
		{"unknown reference", []inst{healthy(0), healthy(1)}, 1, []string{"nope"}, "", "Instance nope not found"},
		{"too many named", []inst{healthy(0), healthy(1)}, 1, []string{"c-w-0", "c-w-1"}, "", "Number of specific instances (2) to delete can not be greater than the count difference (1 during scaling)"},
		{"duplicate named", []inst{healthy(0), healthy(1)}, 2, []string{"c-w-0", "srv-a"}, "", "Duplicates in instances to delete are detected: srv-a"},
		{"more than there are", []inst{healthy(0)}, 2, nil, "", "Node group w has 1 instances; cannot remove 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ng := victimGroup(tc.insts...)
			before := names(ng.Instances)
			got, err := Victims(ng, tc.n, tc.named)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, ErrValidation) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names(got) != tc.want {
				t.Errorf("victims = %q, want %q", names(got), tc.want)
			}
			if names(ng.Instances) != before {
				t.Errorf("Victims changed the node group: %s", names(ng.Instances))
			}
			again, _ := Victims(ng, tc.n, tc.named)
			if names(again) != names(got) {
				t.Errorf("not deterministic: %s then %s", names(got), names(again))
			}
		})
	}
}

func TestFreeIndexes_ReusesFreedIndexes(t *testing.T) {
	ng := victimGroup(inst{idx: 0}, inst{idx: 2}, inst{idx: 3})
	if got := ng.FreeIndexes(3); len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("FreeIndexes = %v", got)
	}
}
