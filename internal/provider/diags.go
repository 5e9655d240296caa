package provider

import (
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// addPathErrors reports validation errors on their attributes; the detail is
// Sahara's message, which users and scripts match on.
func addPathErrors(diags *diagsT, title string, errs []pathError) {
	for _, e := range errs {
		addAttrError(diags, e.Path, title, e.Err.Error())
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
