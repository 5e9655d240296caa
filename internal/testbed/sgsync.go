package testbed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The testbed enforces Neutron security groups: every instance namespace has
// an iptables ruleset (ingress only) that the daemon sgsync
// (python/saharagen_testbed/sgsync.py, started by testbed-up) keeps in line
// with the security groups of the instance's ports.
const (
	sgsyncPIDFile    = "/run/saharagen-testbed/sgsync.pid"
	sgsyncStatusFile = "/run/saharagen-testbed/sgsync.status"
)

// SGSyncStatus is what sgsync writes after each fetch pass (about once a
// second): its counters since it started.
type SGSyncStatus struct {
	PID         int     `json:"pid"`
	Started     float64 `json:"started"`       // Unix time
	LastFetch   float64 `json:"last_fetch"`    // Unix time of the last successful fetch pass
	LastFetchMS float64 `json:"last_fetch_ms"` // how long it took
	Passes      int     `json:"passes"`
	APICalls    int     `json:"api_calls"` // Neutron requests
	Logins      int     `json:"logins"`    // Keystone token requests
	Loads       int     `json:"loads"`     // rulesets loaded into namespaces
	LoadErrors  int     `json:"load_errors"`
	FetchErrors int     `json:"fetch_errors"`
	LastError   string  `json:"last_error"`
	Instances   int     `json:"instances"`
	CPUSeconds  float64 `json:"cpu_seconds"` // its own and that of the ip/iptables-restore processes it ran
}

// ReadSGSyncStatus reads sgsync's status file.
func ReadSGSyncStatus() (*SGSyncStatus, error) {
	b, err := os.ReadFile(sgsyncStatusFile)
	if err != nil {
		return nil, err
	}
	var s SGSyncStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", sgsyncStatusFile, err)
	}
	return &s, nil
}

// Namespace is the network namespace of a testbed server (its instance).
func Namespace(serverID string) string { return "sgtb-" + serverID }

// checkSGSync fails when the testbed enforces security groups but its daemon
// is dead or has not read Neutron for a minute: new instances would stay
// closed (default deny) and every SSH would time out minutes later. A
// testbed without the daemon (no PID file: brought up before security groups
// were enforced) has open instances and passes.
func checkSGSync() error {
	b, err := os.ReadFile(sgsyncPIDFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("testbed: %s: %w", sgsyncPIDFile, err)
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("testbed: the security group daemon sgsync (pid %d) is not running, "+
			"so new servers stay closed (see /var/log/saharagen-testbed/sgsync.log; `make testbed-up` restarts it)", pid)
	}
	st, err := ReadSGSyncStatus()
	if err != nil {
		return nil // it has not finished its first pass yet
	}
	now := float64(time.Now().Unix())
	if now-st.Started > 60 && now-st.LastFetch > 60 {
		return fmt.Errorf("testbed: the security group daemon sgsync has not read Neutron for %.0f s "+
			"(last error: %s; see /var/log/saharagen-testbed/sgsync.log)", now-st.LastFetch, st.LastError)
	}
	return nil
}
