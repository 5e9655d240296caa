package heat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/heat"
)

// conformanceDir finds Sahara's golden data as plugins/internal/conformance
// does (that package is internal to plugins/): $SAHARAGEN_CONFORMANCE_DIR or
// ../shared/conformance next to the repository root; missing data fails
// under CI and skips otherwise.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SAHARAGEN_CONFORMANCE_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(wd, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(wd)
			if parent == wd {
				t.Fatal(errors.New("no go.mod above the working directory"))
			}
			wd = parent
		}
		dir = filepath.Join(wd, "..", "shared", "conformance")
	}
	dir = filepath.Join(dir, "heat")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := fmt.Sprintf("conformance data not found at %s: set SAHARAGEN_CONFORMANCE_DIR to the directory holding heat/", dir)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// heatCase is one conformance/heat/<case>.json (see its README).
type heatCase struct {
	ID          string `json:"id"`
	Operation   string `json:"operation"`
	Input       json.RawMessage
	Environment struct {
		Conf struct {
			WaitCondition bool     `json:"heat_enable_wait_condition"`
			UseDesignate  bool     `json:"use_designate"`
			StackTags     []string `json:"heat_stack_tags"`
		} `json:"conf"`
		Flavors map[string]struct {
			Disk int `json:"disk"`
		} `json:"flavors"`
		ImageUsernames map[string]string `json:"image_usernames"`
		PrivateCIDRs   []string          `json:"private_network_cidrs"`
	} `json:"environment"`
	Volatile struct {
		ClusterID  string `json:"cluster_id"`
		PublicKey  string `json:"management_public_key"`
		HostsEntry string `json:"orchestration_etc_hosts_entry"`
	} `json:"volatile"`
	State struct {
		StackName         string            `json:"stack_name"`
		OpenPorts         map[string][]int  `json:"open_ports"`
		ImageUsername     map[string]string `json:"image_username"`
		TargetCount       map[string]int    `json:"target_count"`
		InstancesToDelete []string          `json:"instances_to_delete"`
	} `json:"sahara_state"`
	Heat struct {
		Call            string                    `json:"call"`
		StackName       string                    `json:"stack_name"`
		TimeoutMins     int                       `json:"timeout_mins"`
		DisableRollback bool                      `json:"disable_rollback"`
		Parameters      map[string]any            `json:"parameters"`
		Tags            string                    `json:"tags"`
		Template        map[string]any            `json:"template"`
		Files           map[string]map[string]any `json:"files"`
	} `json:"heat"`
}

// request builds the generator's input from the case: the cluster in
// saharagen's model (Sahara's field names decode into it), what Sahara
// computed (open ports, login users, target counts, removal order) and
// the environment.
func (hc *heatCase) request(t *testing.T) heat.Request {
	t.Helper()
	var c sahara.Cluster
	if err := json.Unmarshal(hc.Input, &c); err != nil {
		t.Fatalf("input: %v", err)
	}
	c.Link()
	c.ManagementPublicKey = hc.Volatile.PublicKey
	groups := map[string]heat.GroupChange{}
	for _, ng := range c.NodeGroups {
		ng.ImageUsername = hc.State.ImageUsername[ng.Name]
		ng.OpenPorts = hc.State.OpenPorts[ng.Name]
		ch := heat.GroupChange{Count: hc.State.TargetCount[ng.Name]}
		for _, name := range hc.State.InstancesToDelete {
			if slices.ContainsFunc(ng.Instances, func(in *sahara.Instance) bool { return in.InstanceName == name }) {
				ch.Remove = append(ch.Remove, name)
			}
		}
		groups[ng.Name] = ch
	}
	env := heat.Environment{
		ImageUsernames:  hc.Environment.ImageUsernames,
		FlavorDisks:     map[string]int{},
		PrivateCIDRs:    hc.Environment.PrivateCIDRs,
		HostsEntry:      hc.Volatile.HostsEntry,
		NoWaitCondition: !hc.Environment.Conf.WaitCondition,
		Designate:       hc.Environment.Conf.UseDesignate,
		StackTags:       hc.Environment.Conf.StackTags,
	}
	for id, f := range hc.Environment.Flavors {
		env.FlavorDisks[id] = f.Disk
	}
	return heat.Request{Cluster: &c, Env: env, Groups: groups, Update: hc.Operation == "scale"}
}

// normalize turns a structure into what JSON parsing gives (as Heat sees it).
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diff lists the paths where got and want differ (at most a few).
func diff(path string, got, want any, out *[]string) {
	if len(*out) >= 10 || reflect.DeepEqual(got, want) {
		return
	}
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		keys := map[string]bool{}
		for k := range gm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diff(path+"."+k, gm[k], wm[k], out)
		}
		return
	}
	gl, gok := got.([]any)
	wl, wok := want.([]any)
	if gok && wok && len(gl) == len(wl) {
		for i := range gl {
			diff(fmt.Sprintf("%s[%d]", path, i), gl[i], wl[i], out)
		}
		return
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, g, w))
}

// correctBootVolumeHint removes from the golden data Sahara's defect with
// boot_volume_local_to_instance: the boot volume's scheduler hint
// local_to_instance {get_param: instance}, a parameter the node group
// template does not declare (and a server that does not exist before its
// boot volume). It asserts the defect is there as the README says and
// returns the node group files it corrected.
func correctBootVolumeHint(t *testing.T, hc *heatCase, req heat.Request) []string {
	t.Helper()
	var corrected []string
	for _, ng := range req.Cluster.NodeGroups {
		if !ng.BootFromVolume || !ng.BootVolumeLocalToInstance {
			continue
		}
		file := hc.Heat.Files[heat.NodeGroupFile(ng)]
		props := file["resources"].(map[string]any)["bootable_volume"].(map[string]any)["properties"].(map[string]any)
		want := map[string]any{"local_to_instance": map[string]any{"get_param": "instance"}}
		if !reflect.DeepEqual(props["scheduler_hints"], want) {
			t.Fatalf("%s: expected Sahara's boot volume hint %v, found %v", ng.Name, want, props["scheduler_hints"])
		}
		if _, declared := file["parameters"].(map[string]any)["instance"]; declared {
			t.Fatalf("%s: the golden template declares an instance parameter: no defect to correct", ng.Name)
		}
		delete(props, "scheduler_hints")
		corrected = append(corrected, heat.NodeGroupFile(ng))
	}
	return corrected
}

// TestConformance_HeatStacks generates the stack of every case and compares
// the parsed templates with what Sahara 16 passed to Heat, exactly: only the
// documented defect is corrected (and asserted), and saharagen adds its
// cluster tag after Sahara's tags.
func TestConformance_HeatStacks(t *testing.T) {
	dir := conformanceDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var identical, corrected, total int
	for _, p := range paths {
		if filepath.Base(p) == "meta.json" {
			continue
		}
		total++
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var hc heatCase
		if err := json.Unmarshal(raw, &hc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		t.Run(hc.ID, func(t *testing.T) {
			req := hc.request(t)
			st, err := heat.Generate(req)
			if err != nil {
				t.Fatal(err)
			}
			wantCall := map[string]string{"create": "stacks.create", "scale": "stack.update"}[hc.Operation]
			if hc.Heat.Call != wantCall {
				t.Fatalf("case operation %s but Heat call %s", hc.Operation, hc.Heat.Call)
			}
			if st.Name != hc.Heat.StackName || st.Name != hc.State.StackName {
				t.Errorf("stack name %q, want %q", st.Name, hc.Heat.StackName)
			}
			if st.TimeoutMins != hc.Heat.TimeoutMins || st.DisableRollback != hc.Heat.DisableRollback {
				t.Errorf("timeout %d disable_rollback %v, want %d %v", st.TimeoutMins, st.DisableRollback, hc.Heat.TimeoutMins, hc.Heat.DisableRollback)
			}
			if !reflect.DeepEqual(normalize(t, st.Parameters), normalize(t, hc.Heat.Parameters)) {
				t.Errorf("parameters %v, want %v", st.Parameters, hc.Heat.Parameters)
			}
			// saharagen's addition: the cluster tag after Sahara's tags.
			wantTags := hc.Heat.Tags + "," + sahara.TagCluster + "=" + hc.Volatile.ClusterID
			if got := strings.Join(st.Tags, ","); got != wantTags {
				t.Errorf("tags %q, want %q", got, wantTags)
			}
			fixed := correctBootVolumeHint(t, &hc, req)
			var diffs []string
			diff("template", normalize(t, st.Template), normalize(t, hc.Heat.Template), &diffs)
			diff("files", normalize(t, st.Files), normalize(t, hc.Heat.Files), &diffs)
			for _, d := range diffs {
				t.Error(d)
			}
			if t.Failed() {
				return
			}
			if len(fixed) > 0 {
				corrected++
				t.Logf("identical except Sahara's boot volume hint, corrected in %v", fixed)
				return
			}
			identical++
		})
	}
	t.Logf("%d cases: %d identical, %d identical but for a corrected Sahara defect", total, identical, corrected)
	if total != 19 {
		t.Errorf("expected the README's 19 cases, found %d", total)
	}
}
