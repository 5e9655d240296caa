package testbed

import (
	"os"
	"testing"
)

// TestProject_NoLeftovers is the suite's last check (make testacc runs it on
// its own after every other package): whatever the tests created in the test
// projects — saharagen and saharagen-nostore (NoStore) — servers, ports,
// floating IPs, volumes, security groups, server groups, keypairs, stored
// objects — must be gone. Tests check their own clusters as they go; this
// catches what none of them owns.
func TestProject_NoLeftovers(t *testing.T) {
	if os.Getenv("SAHARAGEN_TESTBED_FINAL") != "1" {
		t.Skip("runs after the whole acceptance suite: SAHARAGEN_TESTBED_FINAL=1 (make testacc)")
	}
	env := Require(t)
	ns := RequireNoStore(t)
	for _, e := range []*Env{env, ns} {
		t.Run(e.ProjectName, func(t *testing.T) { e.AssertNoLeftovers(t, "") })
	}
}
