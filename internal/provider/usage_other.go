//go:build !unix

package provider

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }

// peakRSSKiB is not measured on this platform.
func peakRSSKiB() int64 { return 0 }
