package sahara

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels callers match with errors.Is.
var (
	// ErrValidation marks every error that rejects a request before anything
	// in the cloud is touched.
	ErrValidation = errors.New("validation failed")
	// ErrNotFound marks a missing object (template, cluster record, instance).
	ErrNotFound = errors.New("not found")
	// ErrNotImplemented marks an optional plugin method the plugin lacks.
	ErrNotImplemented = errors.New("not implemented by the plugin")
)

// SaharaError is an error that carries Sahara's exception class name, error
// code and message, so callers and the conformance suite can match on them.
// Sahara appends "\nError ID: <uuid>" to messages; saharagen does not.
type SaharaError struct {
	Exception string // e.g. "InvalidComponentCountException"
	Code      string // e.g. "INVALID_COMPONENT_COUNT"
	Message   string
	// Validation marks a rejection of the request (errors.Is(err, ErrValidation)).
	Validation bool
}

func (e *SaharaError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrValidation) true for validation errors and
// errors.Is(err, ErrNotFound) true for NotFoundException.
func (e *SaharaError) Is(target error) bool {
	switch target {
	case ErrValidation:
		return e.Validation
	case ErrNotFound:
		return e.Exception == "NotFoundException"
	}
	return false
}

func validationError(exception, code, msg string) *SaharaError {
	return &SaharaError{Exception: exception, Code: code, Message: msg, Validation: true}
}

// InvalidComponentCount is Sahara's InvalidComponentCountException.
// expected is rendered with %v (1, "0 or 1", "odd", …).
func InvalidComponentCount(component string, expected any, count int, description string) *SaharaError {
	msg := fmt.Sprintf("Hadoop cluster should contain %v %s component(s). Actual %s count is %d", expected, component, component, count)
	if description != "" {
		msg += ". " + description
	}
	return validationError("InvalidComponentCountException", "INVALID_COMPONENT_COUNT", msg)
}

// RequiredServiceMissing is Sahara's RequiredServiceMissingException.
func RequiredServiceMissing(service, requiredBy string) *SaharaError {
	msg := "Cluster is missing a service: " + service
	if requiredBy != "" {
		msg += ", required by service: " + requiredBy
	}
	return validationError("RequiredServiceMissingException", "MISSING_SERVICE", msg)
}

// NodeGroupCannotBeScaled is Sahara's NodeGroupCannotBeScaled.
func NodeGroupCannotBeScaled(ng, reason string) *SaharaError {
	return validationError("NodeGroupCannotBeScaled", "NODE_GROUP_CANNOT_BE_SCALED",
		fmt.Sprintf("Chosen node group %s cannot be scaled : %s", ng, reason))
}

// ClusterCannotBeScaled is Sahara's ClusterCannotBeScaled.
func ClusterCannotBeScaled(cluster, reason string) *SaharaError {
	return validationError("ClusterCannotBeScaled", "CLUSTER_CANNOT_BE_SCALED",
		fmt.Sprintf("Cluster %s cannot be scaled : %s", cluster, reason))
}

// InvalidReference is Sahara's InvalidReferenceException (bad references
// such as an image without the required tags).
func InvalidReference(msg string) *SaharaError {
	return validationError("InvalidReferenceException", "INVALID_REFERENCE", msg)
}

// InvalidData is Sahara's InvalidDataException.
func InvalidData(msg string) *SaharaError {
	return validationError("InvalidDataException", "INVALID_DATA", msg)
}

// NotFound is Sahara's NotFoundException; it also matches ErrNotFound.
func NotFound(msg string) *SaharaError {
	return validationError("NotFoundException", "NOT_FOUND", msg)
}

// QuotaExceeded is Sahara's QuotaException for one resource.
func QuotaExceeded(resource string, requested, available int) *SaharaError {
	return validationError("QuotaException", "QUOTA_ERROR",
		fmt.Sprintf("Quota exceeded for %s: Requested %d, but available %d", resource, requested, available))
}

// ValidationError describes what is wrong with one config value (seed 003).
type ValidationError struct {
	Config       Config
	ErrorMessage string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("config %q (%s): %s", e.Config.Name, e.Config.Target, e.ErrorMessage)
}

// Is makes a ValidationError match ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// InstanceError is a failure on one instance; it names the instance.
type InstanceError struct {
	Instance string
	Err      error
}

func (e *InstanceError) Error() string {
	msg := e.Err.Error()
	// Errors from a remote already start with the instance name.
	if strings.HasPrefix(msg, e.Instance+": ") {
		return msg
	}
	return e.Instance + ": " + msg
}
func (e *InstanceError) Unwrap() error { return e.Err }

// joinMessages renders errors as "a; b; c" for status descriptions.
func joinMessages(errs []error) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		if e != nil {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, "; ")
}
