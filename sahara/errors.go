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
)

// Field names what a validation error is about, so that a caller can point
// at it: an attribute of the cluster or template itself (NodeGroup empty),
// or of one of its node groups. Attribute is the JSON name of the field in
// the object model (node_processes, count, cluster_configs, …); it is empty
// when the error is about the node group as a whole. The zero Field means
// the error is about the request as a whole.
type Field struct {
	NodeGroup string
	Attribute string
}

// Attribute names of Field that are not a field of NodeGroupSpec or ClusterSpec.
const (
	// FieldNodeGroups is the cluster's layout as a whole (counts of
	// processes across groups, services that need each other).
	FieldNodeGroups = "node_groups"
	// FieldConvertFrom is the document a plugin's convert turns into a template.
	FieldConvertFrom = "convert_from"
	// FieldInstancesToRemove names the instances a scale-down removes first.
	FieldInstancesToRemove = "instances_to_remove"
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
	// Field is what the error is about, set where it is raised.
	Field Field
	// Component is the node process an InvalidComponentCount counts; the
	// engine points such an error at the count of the one group running it.
	Component string
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

// At returns a copy of the error that is about f.
func (e *SaharaError) At(f Field) *SaharaError {
	c := *e
	c.Field = f
	return &c
}

// AtField points err at f when it is a SaharaError not yet about a field;
// any other error is returned as it is.
func AtField(err error, f Field) error {
	var se *SaharaError
	if errors.As(err, &se) && se.Field == (Field{}) {
		return se.At(f)
	}
	return err
}

// Errors splits an error made with errors.Join (at any depth) into its parts.
func Errors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	return []error{err}
}

// FieldOf is the field err is about; the zero Field when it names none.
func FieldOf(err error) Field {
	var se *SaharaError
	if errors.As(err, &se) {
		return se.Field
	}
	return Field{}
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
	e := validationError("InvalidComponentCountException", "INVALID_COMPONENT_COUNT", msg)
	e.Component = component
	return e
}

// RequiredServiceMissing is Sahara's RequiredServiceMissingException.
func RequiredServiceMissing(service, requiredBy string) *SaharaError {
	msg := "Cluster is missing a service: " + service
	if requiredBy != "" {
		msg += ", required by service: " + requiredBy
	}
	return validationError("RequiredServiceMissingException", "MISSING_SERVICE", msg).At(Field{Attribute: FieldNodeGroups})
}

// NodeGroupCannotBeScaled is Sahara's NodeGroupCannotBeScaled.
func NodeGroupCannotBeScaled(ng, reason string) *SaharaError {
	return validationError("NodeGroupCannotBeScaled", "NODE_GROUP_CANNOT_BE_SCALED",
		fmt.Sprintf("Chosen node group %s cannot be scaled : %s", ng, reason)).At(Field{NodeGroup: ng, Attribute: "count"})
}

// ClusterCannotBeScaled is Sahara's ClusterCannotBeScaled.
func ClusterCannotBeScaled(cluster, reason string) *SaharaError {
	return validationError("ClusterCannotBeScaled", "CLUSTER_CANNOT_BE_SCALED",
		fmt.Sprintf("Cluster %s cannot be scaled : %s", cluster, reason)).At(Field{Attribute: FieldNodeGroups})
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
		fmt.Sprintf("Quota exceeded for %s: Requested %d, but available %d", resource, requested, available)).At(Field{Attribute: FieldNodeGroups})
}

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
