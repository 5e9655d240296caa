package sahara

import (
	"errors"
	"fmt"
	"testing"
)

func TestSaharaError_MatchesSentinels(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		validation, nf bool
	}{
		{"not found", NotFound("Instance x not found"), true, true},
		{"wrapped not found", fmt.Errorf("scaling: %w", NotFound("Instance x not found")), true, true},
		{"component count", InvalidComponentCount("namenode", 1, 2, ""), true, false},
		{"runtime", &SaharaError{Exception: "RemoteCommandException", Message: "boom"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, ErrValidation); got != tt.validation {
				t.Errorf("errors.Is(ErrValidation) = %v, want %v", got, tt.validation)
			}
			if got := errors.Is(tt.err, ErrNotFound); got != tt.nf {
				t.Errorf("errors.Is(ErrNotFound) = %v, want %v", got, tt.nf)
			}
		})
	}
}

func TestInvalidComponentCount_Message(t *testing.T) {
	err := InvalidComponentCount("zookeeper", "odd", 2, "Number of zookeeper nodes should be odd.")
	want := "Hadoop cluster should contain odd zookeeper component(s). Actual zookeeper count is 2. Number of zookeeper nodes should be odd."
	if err.Error() != want || err.Code != "INVALID_COMPONENT_COUNT" {
		t.Fatalf("got %q (%s), want %q", err.Error(), err.Code, want)
	}
}
