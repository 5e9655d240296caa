package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// handshakeCounter is what an SSH connector that counts its handshakes
// offers (sahara/sshremote.Connector).
type handshakeCounter interface{ Handshakes() int64 }

// logUsage starts measuring one operation of a resource; the returned func
// logs what it used, so an operator (and `make bench`) can see where a run's
// time and resources went: wall time, SSH handshakes, the provider process's
// CPU during the operation and its peak RSS so far. Mutations log at INFO,
// refreshes at DEBUG.
func logUsage(ctx context.Context, op string, b *Backend) func() {
	start, cpu0 := time.Now(), processCPU()
	var hs handshakeCounter
	var hs0 int64
	if b != nil {
		if h, ok := b.Remotes.(handshakeCounter); ok {
			hs, hs0 = h, h.Handshakes()
		}
	}
	return func() {
		fields := map[string]any{
			"operation":      op,
			"seconds":        time.Since(start).Seconds(),
			"cpu_seconds":    (processCPU() - cpu0).Seconds(),
			"peak_rss_mib":   float64(peakRSSKiB()) / 1024,
			"ssh_handshakes": int64(0),
		}
		if hs != nil {
			fields["ssh_handshakes"] = hs.Handshakes() - hs0
		}
		if op == "Read" {
			tflog.Debug(ctx, "Operation usage", fields)
			return
		}
		tflog.Info(ctx, "Operation usage", fields)
	}
}
