package sahara

import "time"

// Step is a provisioning step (Sahara's ClusterProvisionStep): a named unit
// of work over Total instances, with one InstanceEvent per instance done.
type Step struct {
	Name       string          `json:"step_name"`
	Type       string          `json:"step_type"`
	Total      int             `json:"total"`
	Successful *bool           `json:"successful,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitempty"`
	Events     []InstanceEvent `json:"events,omitempty"`
}

// InstanceEvent is the outcome of one instance in a step (Sahara's ClusterEvent).
type InstanceEvent struct {
	NodeGroup    string    `json:"node_group,omitempty"`
	InstanceID   string    `json:"instance_id,omitempty"`
	InstanceName string    `json:"instance_name"`
	Successful   bool      `json:"successful"`
	Info         string    `json:"event_info,omitempty"`
	Time         time.Time `json:"created_at"`
}

// Step types, as Sahara's ops.py labels its phases.
const (
	StepTypeEngineCreate   = "Engine: create cluster"
	StepTypeConfigure      = "Plugin: configure cluster"
	StepTypeStart          = "Plugin: start cluster"
	StepTypeDecommission   = "Plugin: decommission cluster"
	StepTypeEngineScale    = "Engine: scale cluster"
	StepTypePluginScale    = "Plugin: scale cluster"
	StepTypeEngineRollback = "Engine: rollback cluster"
	StepTypePluginShutdown = "Plugin: shutdown cluster"
	StepTypeEngineShutdown = "Engine: shutdown cluster"
)

// EventKind tells what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStatus   EventKind = "status"   // the cluster status changed
	EventStep     EventKind = "step"     // a step started or finished
	EventInstance EventKind = "instance" // one instance finished a step
)

// Event is what the engine hands to the Observer after every change, so a
// caller can persist progress (the cluster record is included).
type Event struct {
	Kind     EventKind
	Time     time.Time
	Cluster  *Cluster
	Status   ClusterStatus
	Step     *Step
	Instance *InstanceEvent
}

// Observer receives engine events; it must not block for long.
type Observer func(Event)
