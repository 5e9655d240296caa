package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Allowed values and patterns of attributes: one list feeds both the schema's
// validators and the documentation.

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

// durationValidator accepts Go durations ("30s", "2m").
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "value must be a Go duration such as 30s or 2m"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%q is not a positive Go duration; use a value such as \"30s\" or \"2m\".", req.ConfigValue.ValueString()))
	}
}

// cidrValidator accepts IPv4 and IPv6 CIDRs.
type cidrValidator struct{}

func (cidrValidator) Description(context.Context) string {
	return "value must be a CIDR such as 203.0.113.0/24 or 2001:db8::/48"
}

func (v cidrValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (cidrValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, _, err := net.ParseCIDR(req.ConfigValue.ValueString()); err != nil {
		addAttrError(&resp.Diagnostics, req.Path, "Invalid CIDR",
			fmt.Sprintf("%q is not a CIDR; use a network such as \"203.0.113.0/24\", \"198.51.100.7/32\" or \"2001:db8::/48\".", req.ConfigValue.ValueString()))
	}
}
