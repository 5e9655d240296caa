package hadoop

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Options configure a Hadoop-based plugin.
type Options struct {
	// Logger receives progress at Info when the ctx of a call carries no
	// logger of the engine (sahara.WithLogger); nil: discard.
	Logger *slog.Logger
	// Sleep pauses between polls (default: a timer bounded by ctx). Tests
	// inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock of poll timeouts (default time.Now).
	Now func() time.Time
	// Parallelism bounds the instances worked on at once (default 16; 1
	// runs them in cluster order, as the conformance suite needs).
	Parallelism int
}

// Runtime is what a plugin made from Options works with: its logger,
// clock, sleep and parallelism.
type Runtime struct {
	Log         *slog.Logger
	Sleep       func(ctx context.Context, d time.Duration) error
	Now         func() time.Time
	Parallelism int
}

// NewRuntime fills in the defaults of o.
func NewRuntime(o Options) Runtime {
	r := Runtime{Log: o.Logger, Sleep: o.Sleep, Now: o.Now, Parallelism: o.Parallelism}
	if r.Log == nil {
		r.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.Sleep == nil {
		r.Sleep = sleepCtx
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Parallelism <= 0 {
		r.Parallelism = 16
	}
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Logger is the engine's operation logger when ctx carries one.
func (r Runtime) Logger(ctx context.Context) *slog.Logger { return sahara.LoggerFrom(ctx, r.Log) }

// Poll is Sahara's plugin_option_poll: check at least once, then every
// interval until timeout seconds (the value of the cluster-level option
// named option) have passed; then Sahara's TimeoutException naming op.
func (r Runtime) Poll(ctx context.Context, timeout int, option, op string, interval time.Duration, check func() (bool, error)) error {
	start := r.Now()
	for once := true; once || r.Now().Sub(start) < time.Duration(timeout)*time.Second; once = false {
		ok, err := check()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := r.Sleep(ctx, interval); err != nil {
			return err
		}
	}
	return &sahara.SaharaError{
		Exception: "TimeoutException", Code: "TIMEOUT",
		Message: fmt.Sprintf("'Operation with name '%s'' timed out after %d second(s) and following timeout was violated: %s", op, timeout, option),
	}
}
