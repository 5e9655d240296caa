package provider

import (
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The library validates; the provider only places its errors. A library
// error names its field as data (sahara.Field), and the field names are the
// attribute names of the schema, so the path follows without reading the
// message.

// fieldPath is the attribute a library field is: node group fields of a
// cluster or cluster template under node_groups[name], the rest (and the
// fields of a node group template) at the root.
func fieldPath(f sahara.Field) path.Path {
	if f.NodeGroup == "" {
		return path.Root(f.Attribute)
	}
	p := path.Root("node_groups").AtMapKey(f.NodeGroup)
	if f.Attribute != "" {
		p = p.AtName(f.Attribute)
	}
	return p
}

// addValidationErrors reports every error of a library validation, each on
// the attribute it names (on the resource when it names none); the detail
// is Sahara's message, which users and scripts match on.
func addValidationErrors(diags *diagsT, title string, err error) {
	for _, e := range sahara.Errors(err) {
		f := sahara.FieldOf(e)
		if f == (sahara.Field{}) {
			diags.AddError(errorTitle(e, title), e.Error())
			continue
		}
		addAttrError(diags, fieldPath(f), errorTitle(e, title), e.Error())
	}
}

// setIfUnknown marks a string the configuration sets but whose value is
// known only at apply, so that validation at plan does not take it for unset.
func setIfUnknown(v types.String, dst *string) {
	if v.IsUnknown() {
		*dst = "(known after apply)"
	}
}

// addAttrError attaches an error to an attribute. Terraform can point only at
// the enclosing block for an element of a map of node groups, so such paths
// are also named in the detail, after the message.
func addAttrError(diags *diagsT, p path.Path, title, msg string) {
	if len(p.Steps()) > 1 {
		msg += "\n\nAttribute: " + p.String()
	}
	diags.AddAttributeError(p, title, msg)
}

// errorTitle is the diagnostic title of a library error.
func errorTitle(err error, fallback string) string {
	var se *sahara.SaharaError
	if errors.As(err, &se) && se.Exception != "" {
		return fallback + ": " + se.Exception
	}
	return fallback
}
