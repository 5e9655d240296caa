package provider

import (
	"errors"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// addPathErrors reports validation errors on their attributes; the detail is
// Sahara's message, which users and scripts match on.
func addPathErrors(diags *diagsT, title string, errs []pathError) {
	for _, e := range errs {
		diags.AddAttributeError(e.Path, title, e.Err.Error())
	}
}

// errorTitle is the diagnostic title of a library error.
func errorTitle(err error, fallback string) string {
	var se *sahara.SaharaError
	if errors.As(err, &se) && se.Exception != "" {
		return fallback + ": " + se.Exception
	}
	return fallback
}
