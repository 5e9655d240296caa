package hadoop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// PropertyRules are a plugin's rules for typing its Hadoop property list,
// as Sahara's plugins apply them when they build their configs.
type PropertyRules struct {
	// ClusterWide names get scope "cluster" (CLUSTER_WIDE_CONFS).
	ClusterWide map[string]bool
	// Curated names get priority 1 and their description (PRIORITY_1_CONFS).
	Curated map[string]string
	// Describe writes the description of any other property.
	Describe func(c sahara.Config) string
}

// ReadProperties parses a property list written by plugins/internal/confgen
// (lines "target<TAB>JSON name<TAB>JSON default", # comments) into configs
// typed as Sahara types them: a bool default makes a bool config, a number
// an int one, anything else a string; node scope, optional, priority 2,
// unless rules say otherwise. label names the list in errors.
func ReadProperties(data []byte, label string, rules PropertyRules) ([]sahara.Config, error) {
	var out []sahara.Config
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%s line %d: want 3 fields", label, n)
		}
		var name string
		var def any
		if err := json.Unmarshal([]byte(f[1]), &name); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", label, n, err)
		}
		if err := json.Unmarshal([]byte(f[2]), &def); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", label, n, err)
		}
		c := sahara.Config{Name: name, Target: f[0], Scope: sahara.ScopeNode, IsOptional: true, Priority: 2, Type: sahara.ConfigString, Default: def}
		switch d := def.(type) {
		case bool:
			c.Type = sahara.ConfigBool
		case float64:
			c.Type, c.Default = sahara.ConfigInt, int(d)
		}
		if rules.ClusterWide[name] {
			c.Scope = sahara.ScopeCluster
		}
		c.Secret = SensitiveProperty.MatchString(name)
		if desc, ok := rules.Curated[name]; ok {
			c.Priority, c.Description = 1, desc
		} else {
			c.Description = rules.Describe(c)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// ResizedGroups is the first loop of Sahara's validate_scaling over the
// node groups being resized (existing: target counts by name): how many
// datanodes the shrinking groups remove, and the first resized group that
// runs a process outside scalable (nil when there is none).
func ResizedGroups(c *sahara.Cluster, existing map[string]int, scalable map[string]bool, dataNode string) (dnToDelete int, bad *sahara.NodeGroup) {
	for _, ng := range c.NodeGroups {
		target, ok := existing[ng.Name]
		if !ok {
			continue
		}
		if ng.Count > target && ng.HasProcess(dataNode) {
			dnToDelete += ng.Count - target
		}
		if !OnlyProcesses(ng, scalable) {
			return dnToDelete, ng
		}
	}
	return dnToDelete, nil
}

// SensitiveProperty is Hadoop's own list of the properties that hold
// secrets (core-default.xml's hadoop.security.sensitive-config-keys, which
// Hadoop redacts from its logs and UIs), case-insensitive so Hive's
// javax.jdo.option.ConnectionPassword is one too. They are secret configs.
var SensitiveProperty = regexp.MustCompile(`(?i)(secret$|password$|ssl\.keystore\.pass$|fs\.s3.*secret.?key|fs\.azure\.account\.key.*|credential$|oauth.*token$)`)
