package provider

import (
	"regexp"
	"sort"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// One list feeds both the validators and the documentation.

// pluginNames lists the plugins this build registers, sorted.
func pluginNames() []string {
	var out []string
	for _, p := range registeredPlugins() {
		out = append(out, p.Name())
	}
	sort.Strings(out)
	return out
}

// clusterStatuses lists Sahara's status labels in lifecycle order.
func clusterStatuses() []string {
	var out []string
	for _, s := range sahara.AllStatuses() {
		out = append(out, string(s))
	}
	return out
}

// configTypes are the types of plugin configs.
func configTypes() []string {
	return []string{string(sahara.ConfigString), string(sahara.ConfigInt), string(sahara.ConfigBool), string(sahara.ConfigEnum)}
}

// configScopes are the scopes of plugin configs.
func configScopes() []string { return []string{sahara.ScopeNode, sahara.ScopeCluster} }

// docList renders values as "`a`, `b`" for MarkdownDescription.
func docList(values []string) string {
	if len(values) == 0 {
		return "(none in this build)"
	}
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "`" + v + "`"
	}
	return strings.Join(q, ", ")
}

// hostnameRE is Sahara's name format valid_name_hostname; names also have
// Sahara's 50-character limit.
var hostnameRE = sahara.HostnameRE

const hostnameRule = "1 to 50 characters: dot-separated DNS labels of letters, digits and hyphens, each starting with a letter and not ending with a hyphen"

// posix_path of Sahara's schema (volume_mount_prefix).
var posixPathRE = regexp.MustCompile(`^(/([A-Z]|[a-z]|[0-9]|\-|_)+)+$`)

// Sahara's valid_keypair_name.
var keypairNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_ ]+$`)

// tagRE is what a Glance property suffix _sahara_tag_<tag> can hold.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
