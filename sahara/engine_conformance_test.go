package sahara_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// conformanceDir finds Sahara's golden data: $SAHARAGEN_CONFORMANCE_DIR or
// ../shared/conformance next to the repository root. Missing data fails
// under CI and skips otherwise (users clone the project alone).
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SAHARAGEN_CONFORMANCE_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for ; ; wd = filepath.Dir(wd) {
			if _, err := os.Stat(filepath.Join(wd, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(wd) == wd {
				t.Fatal("no go.mod above the working directory")
			}
		}
		dir = filepath.Join(wd, "..", "shared", "conformance")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := fmt.Sprintf("conformance data not found at %s: set SAHARAGEN_CONFORMANCE_DIR", dir)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

type sampleOps struct {
	Instances map[string]struct {
		InternalIP string `json:"internal_ip"`
		NodeGroup  string `json:"node_group"`
	} `json:"instances"`
	Phases []struct {
		Phase string `json:"phase"`
		Calls []struct {
			Host       string `json:"host"`
			Method     string `json:"method"`
			RemoteFile string `json:"remote_file"`
			Cmd        string `json:"cmd"`
			Data       string `json:"data"`
			RunAsRoot  bool   `json:"run_as_root"`
		} `json:"calls"`
	} `json:"phases"`
}

// TestEngineCreate_PreparingMatchesSaharaSample provisions Sahara's sample
// cluster (master + 3 workers, same addresses and endpoints) and checks
// that each instance gets exactly the calls of Sahara's
// _configure_instance_etc_hosts recorded in
// vanilla/sample_cluster_ops.json, in one uninterrupted run and with the
// same /etc/hosts bytes.
func TestEngineCreate_PreparingMatchesSaharaSample(t *testing.T) {
	var sample sampleOps
	b, err := os.ReadFile(filepath.Join(conformanceDir(t), "vanilla", "sample_cluster_ops.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	phase := sample.Phases[0]
	if !strings.Contains(phase.Phase, "/etc/hosts") {
		t.Fatalf("first phase is %q", phase.Phase)
	}
	h := newHarness(t, 0)
	h.infra.Addresses = map[string]string{}
	for name, in := range sample.Instances {
		h.infra.Addresses[name] = in.InternalIP
	}
	// The endpoint lines Sahara appended after the instances.
	for _, l := range strings.Split(strings.TrimSuffix(phase.Calls[0].Data, "\n"), "\n") {
		if !strings.Contains(l, ".novalocal") && !strings.HasPrefix(l, "127.0.0.1 ") {
			h.infra.ServiceHostLines = append(h.infra.ServiceHostLines, l)
		}
	}
	spec := demoSpec(3)
	spec.Name = "sample"
	if err := h.eng.Create(context.Background(), mustCluster(t, h, spec)); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, c := range phase.Calls {
		if c.RunAsRoot {
			t.Fatalf("unexpected root call %+v", c)
		}
		switch c.Method {
		case "write_file_to":
			want[c.Host] = append(want[c.Host], "WriteFileTo "+c.RemoteFile+" "+c.Data)
		case "execute_command":
			want[c.Host] = append(want[c.Host], "ExecuteCommand "+c.Cmd)
		default:
			t.Fatalf("unexpected method %s", c.Method)
		}
	}
	if len(want) != 4 {
		t.Fatalf("sample has %d hosts", len(want))
	}
	for host, calls := range want {
		var got []string
		for _, c := range h.conn.LogFor(host) {
			s := c.Method + " " + c.Arg
			if c.Method == "WriteFileTo" {
				s += " " + string(c.Data)
			}
			if c.RunAsRoot {
				s += " (root)"
			}
			got = append(got, s)
		}
		start := -1
		for i, s := range got {
			if s == calls[0] {
				start = i
				break
			}
		}
		if start < 0 || start+len(calls) > len(got) {
			t.Errorf("%s: Sahara's first call %q not found in\n%s", host, calls[0], strings.Join(got, "\n"))
			continue
		}
		for i, w := range calls {
			if got[start+i] != w {
				t.Errorf("%s call %d:\n got %q\nwant %q", host, i, got[start+i], w)
			}
		}
	}
}

func mustCluster(t *testing.T, h *harness, spec sahara.ClusterSpec) *sahara.Cluster {
	t.Helper()
	c, err := h.eng.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
