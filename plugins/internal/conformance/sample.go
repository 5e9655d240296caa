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

// RunPhase runs one plugin operation against the expected calls want (a
// recording remote answering with respond), checks they were all made,
// prints the "conformance <plugin> sample <phase>: N/M identical" line and
// returns the recorder for the files it saw.
func RunPhase(t *testing.T, plugin, phase string, want []Call, respond Responder, run func(rec *Recorder) error) *Recorder {
	t.Helper()
	rec := NewRecorder(t, want, respond)
	if err := run(rec); err != nil {
		t.Errorf("%s: %v", phase, err)
	}
	rec.Finish()
	identical := 0
	for i, got := range rec.Calls() {
		if i < len(want) && got.Matches(want[i]) == "" {
			identical++
		}
	}
	Report(t, plugin, "sample "+strings.TrimPrefix(strings.Fields(phase)[0], "plugin."), identical, len(want))
	return rec
}

// CompareFiles checks the files the recorder saw written against the
// sample's configured files per instance and prints the summary line.
func (s *Sample) CompareFiles(t *testing.T, rec *Recorder) {
	t.Helper()
	files, same := 0, 0
	for host, byPath := range s.FilesPerInstance {
		for path, want := range byPath {
			files++
			if got, ok := rec.Files[host+":"+path]; !ok || got != want {
				t.Errorf("configure: %s:%s differs from the sample", host, path)
				continue
			}
			same++
		}
	}
	Report(t, s.Plugin, "sample configured files", same, files)
}
