package sahara

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ConfigType is the type of a plugin config value.
type ConfigType string

// Config types used by Sahara plugins.
const (
	ConfigString ConfigType = "string"
	ConfigInt    ConfigType = "int"
	ConfigBool   ConfigType = "bool"
	ConfigEnum   ConfigType = "enum"
)

// Scopes of a config.
const (
	ScopeNode    = "node"
	ScopeCluster = "cluster"
)

// TargetGeneral is the applicable_target of configs that belong to no service.
const TargetGeneral = "general"

// Config describes one configuration entry a plugin accepts (Sahara's
// plugins.provisioning.Config).
type Config struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Type        ConfigType `json:"config_type"`
	// Values lists the allowed values of an enum config.
	Values []string `json:"config_values,omitempty"`
	// Default is the default value: string, int or bool by Type; nil when none.
	Default any `json:"default_value"`
	// Target is a service name returned by NodeProcesses, or "general".
	Target     string `json:"applicable_target"`
	Scope      string `json:"scope"`
	IsOptional bool   `json:"is_optional"`
	// Priority is 1 (always shown) or 2 (advanced).
	Priority int `json:"priority"`
	// Check, when set, refuses string values that are unsafe where the
	// config lands on the instances.
	Check func(string) error `json:"-"`
	// Secret: the value grants access (passwords, secret keys). It is
	// accepted only as a secret config (ClusterSpec.ApplySecretConfigs), so
	// it is never in a record, a template, a plan or state, and errors
	// never show it.
	Secret bool `json:"secret,omitempty"`
}

// Configs holds config values by applicable target, then config name. Values
// are strings, ints or bools (Terraform passes strings; parse them with
// Config.Parse).
type Configs map[string]map[string]any

// Get returns the value of name under target and whether it is set (non-nil).
func (c Configs) Get(target, name string) (any, bool) {
	v, ok := c[target][name]
	return v, ok && v != nil
}

// Set stores a value, creating the target map as needed.
func (c Configs) Set(target, name string, v any) {
	if c[target] == nil {
		c[target] = map[string]any{}
	}
	c[target][name] = v
}

// ConfigKey names one config.
type ConfigKey struct {
	Target string `json:"target"`
	Name   string `json:"name"`
}

// Clone returns a deep copy (the value maps are copied; values are scalars).
func (c Configs) Clone() Configs {
	if c == nil {
		return nil
	}
	out := make(Configs, len(c))
	for t, m := range c {
		mm := make(map[string]any, len(m))
		for k, v := range m {
			mm[k] = v
		}
		out[t] = mm
	}
	return out
}

// MergeConfigs merges config sets per applicable target: later sets update
// earlier ones key by key (Sahara's utils/configs.py:merge_configs).
func MergeConfigs(sets ...Configs) Configs {
	out := Configs{}
	for _, s := range sets {
		for t, m := range s {
			if out[t] == nil {
				out[t] = map[string]any{}
			}
			for k, v := range m {
				out[t][k] = v
			}
		}
	}
	return out
}

// Parse converts a user value to the config's type: an int config accepts
// 2, 2.0 and "2"; a bool config accepts true/false and their string forms.
func (cfg Config) Parse(v any) (any, error) {
	switch cfg.Type {
	case ConfigInt:
		n, err := AsInt(v)
		if err != nil {
			return nil, fmt.Errorf("config %q: %w", cfg.Name, err)
		}
		return n, nil
	case ConfigBool:
		b, err := AsBool(v)
		if err != nil {
			return nil, fmt.Errorf("config %q: %w", cfg.Name, err)
		}
		return b, nil
	case ConfigEnum:
		s := AsString(v)
		for _, allowed := range cfg.Values {
			if s == allowed {
				return s, nil
			}
		}
		return nil, fmt.Errorf("config %q: %q is not one of %s", cfg.Name, s, strings.Join(cfg.Values, ", "))
	default:
		s := AsString(v)
		err := noNul(s)
		if err == nil && cfg.Check != nil {
			err = cfg.Check(s)
		}
		if err != nil {
			return nil, fmt.Errorf("config %q: %w", cfg.Name, err)
		}
		return s, nil
	}
}

// AsInt converts an int-like value (int kinds, integral floats, decimal strings).
func AsInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int32:
		return int(x), nil
	case int64:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(x), nil
	case bool:
		// JSON schema of Sahara lets booleans pass as integers.
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
	}
}

// AsBool converts a bool-like value (bools, "true"/"false", 0/1).
func AsBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("%q is not a boolean", x)
		}
		return b, nil
	default:
		return false, fmt.Errorf("%v (%T) is not a boolean", v, v)
	}
}

// AsString renders a config value the way it is written into files.
func AsString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// CommonConfigs are the configs Sahara's core adds to every plugin
// (provisioning.py:list_of_common_configs), all target general, scope cluster.
func CommonConfigs() []Config {
	return []Config{
		{Name: "Timeout for disk preparing", Description: "Timeout in seconds for formatting and mounting the volumes of an instance", Type: ConfigInt, Default: 300, Target: TargetGeneral, Scope: ScopeCluster, IsOptional: true, Priority: 1},
		{Name: "Enable NTP service", Description: "Configure NTP on the instances so their clocks agree", Type: ConfigBool, Default: true, Target: TargetGeneral, Scope: ScopeCluster, IsOptional: false, Priority: 1},
		{Name: "URL of NTP server", Description: "NTP server the instances synchronise with", Type: ConfigString, Default: "", Target: TargetGeneral, Scope: ScopeCluster, IsOptional: true, Priority: 1, Check: CheckNTPServer},
		{Name: "Heat Wait Condition timeout", Description: "Seconds to wait for an instance to boot", Type: ConfigInt, Default: 3600, Target: TargetGeneral, Scope: ScopeCluster, IsOptional: true, Priority: 1},
		{Name: "Enable XFS", Description: "Format volumes with XFS (ext4 otherwise)", Type: ConfigBool, Default: true, Target: TargetGeneral, Scope: ScopeCluster, IsOptional: true, Priority: 1},
	}
}

// FindConfig returns the config with this target and name from list.
func FindConfig(list []Config, target, name string) (Config, bool) {
	for _, c := range list {
		if c.Target == target && c.Name == name {
			return c, true
		}
	}
	return Config{}, false
}
