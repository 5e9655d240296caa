//go:build unix

package provider

import (
	"runtime"
	"syscall"
	"time"
)

// processCPU is the user plus system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSKiB is this process's peak resident set size.
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" { // bytes there, KiB elsewhere
		return int64(ru.Maxrss) / 1024 //nolint:unconvert // int32 on some platforms
	}
	return int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
}
