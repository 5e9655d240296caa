package conformance

import (
	"sort"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Sample is a <plugin>/sample_cluster_ops.json file: a cluster, its
// instances and the remote calls of each plugin phase.
type Sample struct {
	Plugin        string             `json:"plugin"`
	HadoopVersion string             `json:"hadoop_version"`
	ClusterInput  sahara.ClusterSpec `json:"cluster_input"`
	Instances     map[string]struct {
		FQDN         string   `json:"fqdn"`
		InternalIP   string   `json:"internal_ip"`
		ManagementIP string   `json:"management_ip"`
		NodeGroup    string   `json:"node_group"`
		StoragePaths []string `json:"storage_paths"`
	} `json:"instances"`
	Phases                 []Phase                      `json:"phases"`
	ClusterInfoAfterStart  map[string]map[string]string `json:"cluster_info_after_start"`
	ClusterExtraAfterStart []string                     `json:"cluster_extra_keys_after_start"`
	OpenPorts              map[string][]int             `json:"open_ports_per_node_group"`
	FilesPerInstance       map[string]map[string]string `json:"configure_files_per_instance"`
}

// Phase is one recorded operation.
type Phase struct {
	Phase    string  `json:"phase"`
	StepType *string `json:"step_type"`
	Error    any     `json:"error"`
	Calls    []Call  `json:"calls"`
}

// LoadSample reads <plugin>/sample_cluster_ops.json.
func LoadSample(t testing.TB, dir, plugin string) *Sample {
	t.Helper()
	var s Sample
	ReadJSON(t, dir, plugin+"/sample_cluster_ops.json", &s)
	return &s
}

// PhaseCalls returns the calls of the phase whose name starts with prefix.
func (s *Sample) PhaseCalls(t testing.TB, prefix string) []Call {
	t.Helper()
	for _, p := range s.Phases {
		if strings.HasPrefix(p.Phase, prefix) {
			return p.Calls
		}
	}
	t.Fatalf("conformance: no phase %q in the sample", prefix)
	return nil
}

// Cluster builds the sample cluster with the given instances (by name) in
// their node groups, with the sample's addresses and volumes.
func (s *Sample) Cluster(names ...string) *sahara.Cluster {
	c := &sahara.Cluster{ID: "sample-id", ClusterSpec: s.ClusterInput, Status: sahara.StatusActive}
	c.NodeGroups = nil
	c.PluginVersion = s.HadoopVersion
	for _, spec := range s.ClusterInput.NodeGroups {
		c.AddNodeGroup(spec)
	}
	sort.Strings(names)
	for _, name := range names {
		in := s.Instances[name]
		ng := c.NodeGroup(in.NodeGroup)
		idx := 0
		if i := strings.LastIndexByte(name, '-'); i >= 0 {
			for _, ch := range name[i+1:] {
				idx = idx*10 + int(ch-'0')
			}
		}
		inst := ng.NewInstance(idx)
		inst.InstanceID = "id-" + name
		inst.InternalIP, inst.ManagementIP = in.InternalIP, in.ManagementIP
		if len(in.StoragePaths) > 0 && in.StoragePaths[0] != "/mnt" {
			inst.StorageDevicesNumber = len(in.StoragePaths)
		}
		ng.AddInstance(inst)
	}
	return c
}
