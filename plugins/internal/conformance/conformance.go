// Package conformance is the test harness that checks saharagen's plugins
// against the outcomes of the real Sahara plugins (the conformance data in
// ../shared/conformance, see its README): validate and validate_scaling
// cases, the plugin description (versions, node processes, image tags,
// configs) and, through a recording remote, the files and ordered remote
// calls of a sample cluster. Plugins use it from their _test.go files.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// DirEnvVar names the conformance directory; the default is
// ../shared/conformance next to the repository root.
const DirEnvVar = "SAHARAGEN_CONFORMANCE_DIR"

// Dir returns the conformance directory. When it is missing the test fails
// if CI is set and is skipped with the reason otherwise.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(DirEnvVar)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatalf("conformance: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "conformance")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := fmt.Sprintf("conformance data not found at %s: set %s to the directory holding <plugin>/validate.json", dir, DirEnvVar)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// repoRoot walks up from the working directory to the directory of go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadJSON decodes dir/rel into v or fails the test.
func ReadJSON(t testing.TB, dir, rel string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("conformance: %s: %v", rel, err)
	}
}

// Outcome is the result Sahara gave for a case.
type Outcome struct {
	OK        bool    `json:"ok"`
	Exception string  `json:"exception"`
	Code      *string `json:"code"`
	Message   string  `json:"message"`
}

// NodeGroupInput is one node group of a case.
type NodeGroupInput struct {
	Name          string         `json:"name"`
	Count         int            `json:"count"`
	NodeProcesses []string       `json:"node_processes"`
	NodeConfigs   sahara.Configs `json:"node_configs"`
}

// Input is a case's cluster (and, for scaling, the request).
type Input struct {
	HadoopVersion  string           `json:"hadoop_version"`
	NodeGroups     []NodeGroupInput `json:"node_groups"`
	ClusterConfigs sahara.Configs   `json:"cluster_configs"`
	Existing       map[string]int   `json:"existing"`
	Additional     map[string]int   `json:"additional"`
}

// Case is one conformance case.
type Case struct {
	ID          string  `json:"id"`
	Description string  `json:"description"`
	Input       Input   `json:"input"`
	Outcome     Outcome `json:"outcome"`
	// SaharaBug explains a case whose Outcome corrects Sahara 8.0.0.
	SaharaBug     string   `json:"sahara_bug"`
	SaharaOutcome *Outcome `json:"sahara_outcome"`
}

// CaseFile is a <plugin>/validate*.json file.
type CaseFile struct {
	Plugin string `json:"plugin"`
	Method string `json:"method"`
	Cases  []Case `json:"cases"`
}

// ClusterName is the name the cases' messages use for the cluster.
const ClusterName = "cluster1"

// BuildCluster makes the cluster of a case: node groups in order, each
// existing group with Count instances; the groups named in Additional are
// present with their count and no instances, as Sahara's API adds them.
func BuildCluster(plugin string, in Input) *sahara.Cluster {
	c := &sahara.Cluster{ID: "conformance", Status: sahara.StatusActive}
	c.Name, c.PluginName, c.PluginVersion = ClusterName, plugin, in.HadoopVersion
	c.ClusterConfigs = in.ClusterConfigs
	for _, g := range in.NodeGroups {
		ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: g.Name, Count: g.Count, NodeProcesses: g.NodeProcesses, NodeConfigs: g.NodeConfigs, FlavorID: "42"})
		if _, added := in.Additional[g.Name]; added {
			continue
		}
		for _, i := range ng.FreeIndexes(g.Count) {
			in := ng.NewInstance(i)
			in.InstanceID = "id-" + in.InstanceName
			ng.AddInstance(in)
		}
	}
	return c
}

// Compare returns "" when err matches want, else what differs.
func Compare(err error, want Outcome) string {
	if want.OK {
		if err != nil {
			return fmt.Sprintf("want ok, got error %v", err)
		}
		return ""
	}
	if err == nil {
		return fmt.Sprintf("want %s %q, got ok", want.Exception, want.Message)
	}
	var se *sahara.SaharaError
	if !errors.As(err, &se) {
		return fmt.Sprintf("want %s %q, got a non-Sahara error %T: %v", want.Exception, want.Message, err, err)
	}
	var diffs []string
	if se.Exception != want.Exception {
		diffs = append(diffs, fmt.Sprintf("exception %q, want %q", se.Exception, want.Exception))
	}
	if want.Code != nil && se.Code != *want.Code {
		diffs = append(diffs, fmt.Sprintf("code %q, want %q", se.Code, *want.Code))
	}
	if se.Message != want.Message {
		diffs = append(diffs, fmt.Sprintf("message %q, want %q", se.Message, want.Message))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprint(diffs)
}

// Report logs and prints the summary line of one file, so it shows in
// `go test -v` output and in CI logs.
func Report(t testing.TB, plugin, method string, identical, total int) {
	t.Helper()
	line := fmt.Sprintf("conformance %s %s: %d/%d identical", plugin, method, identical, total)
	t.Log(line)
	fmt.Println(line)
}

// ValidateFunc runs a plugin's validation of one case's cluster.
type ValidateFunc func(c *sahara.Cluster, in Input) error

// RunCases runs every case of <plugin>/<method>.json through fn, reports
// each mismatch with its case id, and prints the summary line.
func RunCases(t *testing.T, dir, plugin, method string, fn ValidateFunc) (identical, total int) {
	t.Helper()
	var f CaseFile
	ReadJSON(t, dir, filepath.Join(plugin, method+".json"), &f)
	if len(f.Cases) == 0 {
		t.Fatalf("conformance %s %s: no cases", plugin, method)
	}
	for _, tc := range f.Cases {
		c := BuildCluster(plugin, tc.Input)
		err := fn(c, tc.Input)
		if diff := Compare(err, tc.Outcome); diff != "" {
			t.Errorf("conformance %s %s: case %s (%s): %s", plugin, method, tc.ID, tc.Description, diff)
			continue
		}
		identical++
		// Where the error is reported comes from its field, never its text.
		for _, e := range sahara.Errors(sahara.Locate(c, err)) {
			if f := sahara.FieldOf(e); !f.Names(c) {
				t.Errorf("conformance %s %s: case %s: error %q names no attribute of the request (field %+v)", plugin, method, tc.ID, e, f)
			}
		}
	}
	Report(t, plugin, method, identical, len(f.Cases))
	return identical, len(f.Cases)
}

// PluginJSON is <plugin>/plugin.json.
type PluginJSON struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Versions    []string `json:"versions"`
	Details     map[string]struct {
		NodeProcesses     map[string][]string `json:"node_processes"`
		RequiredImageTags []string            `json:"required_image_tags"`
		Configs           []ConfigJSON        `json:"configs"`
	} `json:"versions_detail"`
}

// ConfigJSON is one config as Sahara's to_dict renders it.
type ConfigJSON struct {
	Name       string          `json:"name"`
	Type       string          `json:"config_type"`
	Default    json.RawMessage `json:"default_value"`
	Target     string          `json:"applicable_target"`
	Scope      string          `json:"scope"`
	IsOptional bool            `json:"is_optional"`
	Priority   int             `json:"priority"`
}

func (c ConfigJSON) key() string {
	return fmt.Sprintf("%s|%s|type=%s|default=%s|scope=%s|optional=%v|priority=%d", c.Target, c.Name, c.Type, compactJSON(c.Default), c.Scope, c.IsOptional, c.Priority)
}

func compactJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// ComparePlugin checks the plugin's name, title, description, that it lists
// Sahara's versions, and for each of them the node processes, required
// image tags and configs (name, type, default, target, scope, optional,
// priority; in Sahara's order). It prints the summary line and returns the
// number of identical items (a version's node processes, its image tags and
// each config count one each) and the total.
func ComparePlugin(t *testing.T, dir string, p sahara.Plugin) (identical, total int) {
	t.Helper()
	var want PluginJSON
	ReadJSON(t, dir, filepath.Join(p.Name(), "plugin.json"), &want)
	if p.Name() != want.Name || p.Title() != want.Title || p.Description() != want.Description {
		t.Errorf("conformance %s: name/title/description = %q/%q/%q, want %q/%q/%q", want.Name, p.Name(), p.Title(), p.Description(), want.Name, want.Title, want.Description)
	}
	defer func() { Report(t, want.Name, "plugin.json", identical, total) }()
	for _, v := range want.Versions {
		d := want.Details[v]
		total += 2 + len(d.Configs)
		if !sahara.SupportsVersion(p, v) {
			t.Errorf("conformance %s: version %s missing from %v", want.Name, v, p.Versions())
			continue
		}
		svcs, err := p.NodeProcesses(v)
		if err != nil {
			t.Errorf("conformance %s %s: NodeProcesses: %v", want.Name, v, err)
			continue
		}
		got := map[string][]string{}
		for _, s := range svcs {
			got[s.Name] = s.Processes
		}
		if a, b := mustJSON(got), mustJSON(d.NodeProcesses); a != b {
			t.Errorf("conformance %s %s: node processes %s, want %s", want.Name, v, a, b)
		} else {
			identical++
		}
		if a, b := mustJSON(sahara.RequiredImageTags(p, v)), mustJSON(d.RequiredImageTags); a != b {
			t.Errorf("conformance %s %s: required image tags %s, want %s", want.Name, v, a, b)
		} else {
			identical++
		}
		cs, err := p.Configs(v)
		if err != nil {
			t.Errorf("conformance %s %s: Configs: %v", want.Name, v, err)
			continue
		}
		identical += compareConfigs(t, want.Name+" "+v, cs, d.Configs)
	}
	return identical, total
}

// compareConfigs returns how many of want are matched at their position.
func compareConfigs(t *testing.T, label string, got []sahara.Config, want []ConfigJSON) int {
	t.Helper()
	gotKeys := make([]string, len(got))
	for i, c := range got {
		def, _ := json.Marshal(c.Default)
		gotKeys[i] = ConfigJSON{Name: c.Name, Type: string(c.Type), Default: def, Target: c.Target, Scope: c.Scope, IsOptional: c.IsOptional, Priority: c.Priority}.key()
	}
	wantKeys := make([]string, len(want))
	for i, c := range want {
		wantKeys[i] = c.key()
	}
	bad := 0
	for i := 0; i < len(gotKeys) || i < len(wantKeys); i++ {
		var g, w string
		if i < len(gotKeys) {
			g = gotKeys[i]
		}
		if i < len(wantKeys) {
			w = wantKeys[i]
		}
		if g != w {
			if bad < 10 {
				t.Errorf("conformance %s: config #%d is %q, want %q", label, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		gs, ws := append([]string(nil), gotKeys...), append([]string(nil), wantKeys...)
		sort.Strings(gs)
		sort.Strings(ws)
		t.Errorf("conformance %s: %d of %d configs differ (%d listed, %d in Sahara; same set ignoring order: %v)", label, bad, len(wantKeys), len(gotKeys), len(wantKeys), mustJSON(gs) == mustJSON(ws))
	}
	same := 0
	for i, w := range wantKeys {
		if i < len(gotKeys) && gotKeys[i] == w {
			same++
		}
	}
	return same
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ValidatingPlugin is a plugin with both of Sahara's validations.
type ValidatingPlugin interface {
	sahara.Plugin
	sahara.Validator
	sahara.ScalingValidator
}

// CheckValidate runs every case of <plugin>/validate.json through the
// plugin's Validate and fails unless all are identical.
func CheckValidate(t *testing.T, p ValidatingPlugin) {
	t.Helper()
	n, m := RunCases(t, Dir(t), p.Name(), "validate", func(c *sahara.Cluster, _ Input) error {
		return p.Validate(context.Background(), c)
	})
	if n != m {
		t.Errorf("conformance %s validate: %d/%d identical, want all", p.Name(), n, m)
	}
}

// CheckValidateScaling runs every case of <plugin>/validate_scaling.json
// through the plugin's ValidateScaling and fails unless all are identical.
func CheckValidateScaling(t *testing.T, p ValidatingPlugin) {
	t.Helper()
	n, m := RunCases(t, Dir(t), p.Name(), "validate_scaling", func(c *sahara.Cluster, in Input) error {
		return p.ValidateScaling(context.Background(), c, in.Existing, in.Additional)
	})
	if n != m {
		t.Errorf("conformance %s validate_scaling: %d/%d identical, want all", p.Name(), n, m)
	}
}

// CheckPlugin compares the plugin with <plugin>/plugin.json and fails
// unless every item is identical.
func CheckPlugin(t *testing.T, p sahara.Plugin) {
	t.Helper()
	if n, m := ComparePlugin(t, Dir(t), p); n != m {
		t.Errorf("conformance %s plugin.json: %d/%d identical, want all", p.Name(), n, m)
	}
}
