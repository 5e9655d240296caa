package sahara

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

func TestLoggerFrom_PrefersTheContextLogger(t *testing.T) {
	var own, op bytes.Buffer
	fallback := slog.New(slog.NewTextHandler(&own, nil))
	if LoggerFrom(context.Background(), fallback) != fallback {
		t.Fatal("no logger in ctx: want the fallback")
	}
	ctx := WithLogger(context.Background(), slog.New(slog.NewTextHandler(&op, nil)))
	LoggerFrom(ctx, fallback).Info("Spawning 3/5 instances")
	if own.Len() != 0 || !bytes.Contains(op.Bytes(), []byte("Spawning 3/5 instances")) {
		t.Fatalf("own %q, operation %q", own.String(), op.String())
	}
	if WithLogger(ctx, nil) != ctx {
		t.Error("WithLogger(nil) changed the context")
	}
}
