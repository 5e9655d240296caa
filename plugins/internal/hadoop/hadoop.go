// Package hadoop holds what saharagen's Hadoop-based plugins (vanilla,
// spark) share: the site files as Sahara renders them, the Swift file
// system settings of core-site.xml, Sahara's config lookup
// (get_config_value_or_default) and the HDFS datanode decommission poll.
package hadoop

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Keys of Cluster.Extra the Swift settings come from.
const (
	// ExtraSwiftAuthURL is the Keystone v3 URL (ending in "/v3/") that
	// core-site.xml points the Swift file system at; without it the Swift
	// lines are left out.
	ExtraSwiftAuthURL = "swift_auth_url"
	// ExtraSwiftTenant is the project name the Swift file system uses.
	ExtraSwiftTenant = "swift_tenant"
	// ExtraSwiftRegion and ExtraSwiftDomain are optional Swift settings.
	ExtraSwiftRegion = "swift_region"
	ExtraSwiftDomain = "swift_domain_name"
)

//go:embed resources/site.xml.tmpl
var tmplFS embed.FS

var siteTmpl = template.Must(template.New("site.xml.tmpl").Funcs(template.FuncMap{"xml": XMLEscape}).ParseFS(tmplFS, "resources/site.xml.tmpl"))

// XMLEscape escapes text as Python's minidom does (Sahara renders the site
// files with it), so the files are byte-identical.
func XMLEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", "\"", "&quot;", ">", "&gt;").Replace(s)
}

type property struct{ Name, Value string }

// SiteXML renders a Hadoop site file as Sahara's create_hadoop_xml does:
// properties sorted by name, minidom's pretty print.
func SiteXML(props map[string]string) ([]byte, error) {
	list := make([]property, 0, len(props))
	for k, v := range props {
		list = append(list, property{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	var b bytes.Buffer
	if err := siteTmpl.Execute(&b, list); err != nil {
		return nil, fmt.Errorf("rendering a site file: %w", err)
	}
	return b.Bytes(), nil
}

// SwiftConfigs are the values of Sahara's swift/resources/conf-template.xml
// that are not empty, from the cluster's Extra; nil without an auth URL.
func SwiftConfigs(c *sahara.Cluster) map[string]string {
	if c.Extra[ExtraSwiftAuthURL] == "" {
		return nil
	}
	out := map[string]string{
		"fs.swift.impl": "org.apache.hadoop.fs.swift.snative.SwiftNativeFileSystem",
		"fs.swift.service.sahara.auth.endpoint.prefix": "/endpoints/AUTH_",
		"fs.swift.service.sahara.http.port":            "8080",
		"fs.swift.service.sahara.https.port":           "443",
		"fs.swift.service.sahara.public":               "true",
		"fs.swift.service.sahara.auth.url":             c.Extra[ExtraSwiftAuthURL] + "auth/tokens/",
	}
	for k, extra := range map[string]string{
		"fs.swift.service.sahara.tenant":      ExtraSwiftTenant,
		"fs.swift.service.sahara.region":      ExtraSwiftRegion,
		"fs.swift.service.sahara.domain.name": ExtraSwiftDomain,
	} {
		if v := c.Extra[extra]; v != "" {
			out[k] = v
		}
	}
	return out
}

// Lookup reads a plugin's config values as Sahara does.
type Lookup struct {
	// Plugin names the plugin in errors.
	Plugin string
	// Configs is the plugin's config list of a version.
	Configs func(version string) ([]sahara.Config, error)
}

// Value is Sahara's get_config_value_or_default: the first node group whose
// merged configuration (cluster configs overlaid by its node configs) sets
// the value wins, else the config's default; the value is parsed by the
// config's type ("2" is 2). A value that does not parse is an InvalidData
// error at that config.
func (l Lookup) Value(c *sahara.Cluster, target, name string) (any, error) {
	list, err := l.Configs(c.PluginVersion)
	if err != nil {
		return nil, err
	}
	cfg, known := sahara.FindConfig(list, target, name)
	for _, ng := range c.NodeGroups {
		if v, ok := ng.Configuration().Get(target, name); ok {
			if !known {
				return v, nil
			}
			pv, err := cfg.Parse(v)
			if err != nil {
				return nil, sahara.InvalidData(fmt.Sprintf("Node group %s: %v", ng.Name, err)).At(sahara.ConfigField(ng, target, name))
			}
			return pv, nil
		}
	}
	if !known {
		return nil, fmt.Errorf("%s: unable to get parameter '%s' from service %s", l.Plugin, name, target)
	}
	return cfg.Default, nil
}

// Int is Value as an int.
func (l Lookup) Int(c *sahara.Cluster, target, name string) (int, error) {
	v, err := l.Value(c, target, name)
	if err != nil {
		return 0, err
	}
	return sahara.AsInt(v)
}

// Bool is Value as a bool.
func (l Lookup) Bool(c *sahara.Cluster, target, name string) (bool, error) {
	v, err := l.Value(c, target, name)
	if err != nil {
		return false, err
	}
	return sahara.AsBool(v)
}

// String is Value as a string.
func (l Lookup) String(c *sahara.Cluster, target, name string) (string, error) {
	v, err := l.Value(c, target, name)
	if err != nil {
		return "", err
	}
	return sahara.AsString(v), nil
}

// ClusterOption is plugin_option_poll's lookup of a general int option:
// cluster configs only, then the config's default.
func (l Lookup) ClusterOption(c *sahara.Cluster, name string) (int, error) {
	list, err := l.Configs(c.PluginVersion)
	if err != nil {
		return 0, err
	}
	cfg, _ := sahara.FindConfig(list, sahara.TargetGeneral, name)
	v, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name)
	if !ok {
		return sahara.AsInt(cfg.Default)
	}
	n, err := sahara.AsInt(v)
	if err != nil {
		return 0, sahara.InvalidData(fmt.Sprintf("cluster config %q: %v", name, err)).At(sahara.ConfigField(nil, sahara.TargetGeneral, name))
	}
	return n, nil
}

// OnlyProcesses reports whether every process of ng is in set.
func OnlyProcesses(ng *sahara.NodeGroup, set map[string]bool) bool {
	for _, proc := range ng.NodeProcesses {
		if !set[proc] {
			return false
		}
	}
	return true
}

// WithProcess are the instances of ins whose node group runs proc.
func WithProcess(ins []*sahara.Instance, proc string) []*sahara.Instance {
	var out []*sahara.Instance
	for _, in := range ins {
		if in.NodeGroup().HasProcess(proc) {
			out = append(out, in)
		}
	}
	return out
}

// WebAddress is Sahara's get_ip_or_dns_name: the address users reach an
// instance's web UIs at (management IP, else internal IP).
func WebAddress(in *sahara.Instance) string {
	if in.ManagementIP != "" {
		return in.ManagementIP
	}
	return in.InternalIP
}

// PyStr renders a config value as Python's str() does, which is how Sahara
// writes values into site files: booleans are "True" and "False" (Hadoop
// reads booleans case-insensitively); everything else as sahara.AsString.
func PyStr(v any) string {
	if b, ok := v.(bool); ok {
		if b {
			return "True"
		}
		return "False"
	}
	return sahara.AsString(v)
}
