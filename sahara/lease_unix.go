//go:build unix

package sahara

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process of this host exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
