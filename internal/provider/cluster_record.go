package provider

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The cluster record in the store, written while an operation runs.

// recorder is the engine's Observer: it writes the cluster record to the
// store at each status change, so an interrupted apply leaves a record that
// import, the next run or another runner can read.
type recorder struct {
	store sahara.Store
	mu    sync.Mutex
	ctx   context.Context
}

func newRecorder(ctx context.Context, store sahara.Store) *recorder {
	return (&recorder{store: store}).bind(ctx)
}

// bind sets the context log lines and store writes use.
func (r *recorder) bind(ctx context.Context) *recorder {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	return r
}

func (r *recorder) observe(e sahara.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	id := ""
	if e.Cluster != nil {
		id = e.Cluster.ID
	}
	// The engine logs statuses and per-step counts itself; here the record
	// is persisted at each status (no instance work runs then), also after a
	// cancel: the rollback that follows changes the status too.
	if e.Kind == sahara.EventStatus && e.Cluster != nil {
		wctx, cancel := detached(ctx)
		err := r.store.Put(wctx, sahara.KindCluster, e.Cluster.ID, e.Cluster)
		cancel()
		if err != nil {
			tflogLine(ctx, slog.LevelWarn, logMask{}, "Writing the cluster record failed; it is written again at the end of the operation",
				map[string]any{"cluster_id": id, "status": string(e.Status), "error": err.Error()})
		}
	}
}

// Writes that record what an operation did run on a context of their own:
// a cancelled request (Ctrl-C) must still leave a record that says what
// exists. Each write is bounded; the final one is tried a few times, since a
// passing object-store fault must not turn a finished operation into an
// error (which would taint an Active cluster).
const (
	recordWriteTimeout = 30 * time.Second
	finalWriteAttempts = 4
)

// finalWriteBackoff is the pause before the second attempt; it doubles.
var finalWriteBackoff = time.Second

// detached is ctx without its cancellation, bounded by recordWriteTimeout;
// its values (log sinks) are kept.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordWriteTimeout)
}

// flush writes the final record after an operation, retrying a failed write.
func (r *recorder) flush(ctx context.Context, c *sahara.Cluster) error {
	var err error
	pause := finalWriteBackoff
	for attempt := 1; ; attempt++ {
		wctx, cancel := detached(ctx)
		err = r.store.Put(wctx, sahara.KindCluster, c.ID, c)
		cancel()
		if err == nil || attempt == finalWriteAttempts {
			return err
		}
		tflogLine(ctx, slog.LevelWarn, logMask{}, "Writing the cluster record failed; retrying",
			map[string]any{"cluster_id": c.ID, "attempt": attempt, "error": err.Error()})
		time.Sleep(pause)
		pause *= 2
	}
}

// recordNotSaved is the warning for a final write that failed: Terraform's
// state is right, the shared record is behind.
func recordNotSaved(diags *diagsT, c *sahara.Cluster, err error) {
	diags.AddWarning("Cluster Record Not Saved",
		fmt.Sprintf("Cluster %q (%s) is %s and Terraform's state says so, but writing its record to the template store failed %d times. "+
			"Other runs and imports read an older record until the next operation on the cluster writes it again; check that the "+
			"record store (record_store, template_store_container) is writable.\n\n%v", c.Name, c.ID, c.Status, finalWriteAttempts, err))
}
