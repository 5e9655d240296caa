package spark

import (
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
)

func TestConformance_Validate(t *testing.T) { conformance.CheckValidate(t, New(Options{})) }

func TestConformance_ValidateScaling(t *testing.T) {
	conformance.CheckValidateScaling(t, New(Options{}))
}

func TestConformance_PluginDescription(t *testing.T) { conformance.CheckPlugin(t, New(Options{})) }
