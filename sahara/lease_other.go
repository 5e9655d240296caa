//go:build !unix

package sahara

// processAlive cannot tell here, so a holder is taken to be alive and its
// lease is waited out.
func processAlive(int) bool { return true }
