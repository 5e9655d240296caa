package conformance

import (
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// OpsFile is <plugin>/ops_state_machine.json: Sahara's engine and plugin
// run through create, scale and failure scenarios.
type OpsFile struct {
	Template  sahara.ClusterSpec `json:"cluster_template_input"`
	Scenarios []OpsScenario      `json:"scenarios"`
}

// OpsScenario is one recorded scenario.
type OpsScenario struct {
	Name         string        `json:"scenario"`
	Calls        []Call        `json:"calls"`
	ClusterAfter *ClusterAfter `json:"cluster_after"`
}

// ClusterAfter is the cluster record at the end of a scenario.
type ClusterAfter struct {
	ClusterConfigs    sahara.Configs `json:"cluster_configs"`
	Status            string         `json:"status"`
	StatusDescription string         `json:"status_description"`
	NodeGroups        []struct {
		Name          string         `json:"name"`
		Count         int            `json:"count"`
		NodeConfigs   sahara.Configs `json:"node_configs"`
		ImageUsername string         `json:"image_username"`
		Instances     []struct {
			InstanceID           string `json:"instance_id"`
			InstanceName         string `json:"instance_name"`
			InternalIP           string `json:"internal_ip"`
			ManagementIP         string `json:"management_ip"`
			StorageDevicesNumber int    `json:"storage_devices_number"`
		} `json:"instances"`
	} `json:"node_groups"`
}

// LoadOps reads <plugin>/ops_state_machine.json.
func LoadOps(t testing.TB, dir, plugin string) *OpsFile {
	t.Helper()
	var f OpsFile
	ReadJSON(t, dir, plugin+"/ops_state_machine.json", &f)
	var v struct {
		Template struct {
			HadoopVersion string `json:"hadoop_version"`
		} `json:"cluster_template_input"`
	}
	ReadJSON(t, dir, plugin+"/ops_state_machine.json", &v)
	if f.Template.PluginVersion == "" {
		f.Template.PluginVersion = v.Template.HadoopVersion
	}
	return &f
}

// Scenario returns the scenario whose name starts with prefix.
func (f *OpsFile) Scenario(t testing.TB, prefix string) *OpsScenario {
	t.Helper()
	for i := range f.Scenarios {
		if strings.HasPrefix(f.Scenarios[i].Name, prefix) {
			return &f.Scenarios[i]
		}
	}
	t.Fatalf("conformance: no scenario %q", prefix)
	return nil
}

// healthCheckCmd is Sahara core's "Check of instances accessibility",
// run after every create and scale; the recording labels it with the last
// step type, but it is the engine's, not the plugin's.
const healthCheckCmd = "cat /etc/resolv.conf"

// PluginCalls are the remote calls and poll sleeps made in the scenario's
// plugin steps (step type "Plugin: …"), without the status changes and
// Sahara core's health check.
func (s *OpsScenario) PluginCalls() []Call {
	var out []Call
	for _, c := range s.Calls {
		if c.StepType == nil || !strings.HasPrefix(*c.StepType, "Plugin:") || c.Cmd == healthCheckCmd {
			continue
		}
		if strings.HasPrefix(c.Method, "<") && c.Method != MethodSleep {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Cluster builds the scenario's cluster from the template and the record
// after the scenario: node group specs from the template, configs, node
// configs and instances from the record. extra lists instances to add by
// name (ones the scenario removed), with the storage of their group.
func (f *OpsFile) Cluster(s *OpsScenario, extra ...string) *sahara.Cluster {
	c := &sahara.Cluster{ID: "ops-id", ClusterSpec: f.Template, Status: sahara.StatusActive}
	c.NodeGroups = nil
	after := s.ClusterAfter
	c.ClusterConfigs = after.ClusterConfigs
	for i, spec := range f.Template.NodeGroups {
		ng := c.AddNodeGroup(spec)
		a := after.NodeGroups[i]
		ng.NodeConfigs, ng.ImageUsername, ng.Count = a.NodeConfigs, a.ImageUsername, a.Count
		for _, ai := range a.Instances {
			if c.Name == f.Template.Name {
				c.Name = strings.TrimSuffix(ai.InstanceName, "-"+ng.Name+"-"+ai.InstanceName[strings.LastIndexByte(ai.InstanceName, '-')+1:])
			}
			in := &sahara.Instance{InstanceID: ai.InstanceID, InstanceName: ai.InstanceName, InternalIP: ai.InternalIP, ManagementIP: ai.ManagementIP, StorageDevicesNumber: ai.StorageDevicesNumber}
			in.Index = atoi(ai.InstanceName[strings.LastIndexByte(ai.InstanceName, '-')+1:])
			ng.AddInstance(in)
		}
	}
	for _, name := range extra {
		for _, ng := range c.NodeGroups {
			if strings.HasPrefix(name, c.Name+"-"+ng.Name+"-") && len(ng.Instances) > 0 {
				in := &sahara.Instance{InstanceID: "nova-" + name, InstanceName: name, StorageDevicesNumber: ng.Instances[0].StorageDevicesNumber}
				in.Index = atoi(name[strings.LastIndexByte(name, '-')+1:])
				ng.AddInstance(in)
				ng.Count++
			}
		}
	}
	return c
}

func atoi(s string) int {
	n := 0
	for _, ch := range s {
		n = n*10 + int(ch-'0')
	}
	return n
}
