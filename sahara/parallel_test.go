package sahara

import (
	"context"
	"errors"
	"testing"
)

func TestInstanceError_NamesInstanceOnce(t *testing.T) {
	inner := &CommandError{Instance: "c-w-0", Name: "mkfs", ExitCode: 1}
	err := ParallelEach(context.Background(), 2, []*Instance{{InstanceName: "c-w-0"}, {InstanceName: "c-w-1"}},
		func(_ context.Context, in *Instance) error {
			if in.InstanceName == "c-w-0" {
				return inner
			}
			return nil
		})
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("want a CommandError in %v", err)
	}
	if got, want := err.Error(), `c-w-0: command "mkfs" exited with status 1`; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}
