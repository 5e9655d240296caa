package sahara

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// ParseConsoleHostKeys extracts the SSH host public keys that cloud-init
// prints to the console between "-----BEGIN SSH HOST KEY KEYS-----" and
// "-----END SSH HOST KEY KEYS-----". Keys are returned as "<type> <base64>"
// (comments dropped), in order, without duplicates; lines whose blob does not
// decode or does not name its own type are ignored, since a console log is
// untrusted text. Lines may carry cloud-init's "ec2: " prefix or CR endings.
func ParseConsoleHostKeys(console string) []string {
	var out []string
	seen := map[string]bool{}
	in := false
	for _, line := range strings.Split(console, "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "ec2:"))
		switch {
		case strings.Contains(line, "-----BEGIN SSH HOST KEY KEYS-----"):
			in = true
			continue
		case strings.Contains(line, "-----END SSH HOST KEY KEYS-----"):
			in = false
			continue
		}
		if !in {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !validKeyBlob(f[0], f[1]) {
			continue
		}
		k := f[0] + " " + f[1]
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// validKeyBlob checks that blob is base64 whose first SSH string is algo.
func validKeyBlob(algo, blob string) bool {
	b, err := base64.StdEncoding.DecodeString(blob)
	if err != nil || len(b) < 4 {
		return false
	}
	n := binary.BigEndian.Uint32(b)
	return uint64(n) <= uint64(len(b)-4) && string(b[4:4+n]) == algo
}
