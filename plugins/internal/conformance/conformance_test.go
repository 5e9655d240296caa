package conformance

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// stopTB records how Dir ended: Skip and Fatal stop the goroutine as the
// real ones do.
type stopTB struct {
	testing.TB
	skipped, fatal string
}

func (s *stopTB) Helper() {}
func (s *stopTB) Skip(args ...any) {
	s.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (s *stopTB) Fatal(args ...any) {
	s.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (s *stopTB) Fatalf(format string, args ...any) {
	s.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func dirOutcome(t *testing.T) (dir string, tb *stopTB) {
	tb = &stopTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dir = Dir(tb)
	}()
	<-done
	return dir, tb
}

func TestDir_MissingSkipsOutsideCIAndFailsInCI(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	t.Setenv(DirEnvVar, missing)
	t.Setenv("CI", "")
	if _, tb := dirOutcome(t); tb.skipped == "" || tb.fatal != "" {
		t.Errorf("without CI: skipped %q, fatal %q; want a skip", tb.skipped, tb.fatal)
	}
	t.Setenv("CI", "true")
	if _, tb := dirOutcome(t); tb.fatal == "" {
		t.Errorf("with CI: not failed (skipped %q)", tb.skipped)
	}
	present := t.TempDir()
	t.Setenv(DirEnvVar, present)
	if dir, tb := dirOutcome(t); dir != present || tb.fatal != "" || tb.skipped != "" {
		t.Errorf("present dir: got %q (%q, %q)", dir, tb.skipped, tb.fatal)
	}
}
