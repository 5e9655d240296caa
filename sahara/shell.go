package sahara

import (
	"errors"
	"strings"
)

// ErrNulInShellValue is returned by Quote for a value holding a NUL byte,
// which no shell argument can carry.
var ErrNulInShellValue = errors.New("value contains a NUL byte and cannot be passed to a shell")

// Quote returns s as one POSIX shell word that expands to exactly s, whatever
// it holds (spaces, quotes, $, backticks, newlines, non-UTF-8 bytes). It is
// the one quoting helper for every value that reaches a remote shell.
func Quote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", ErrNulInShellValue
	}
	if s != "" && isShellSafe(s) {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// MustQuote is Quote for values known to hold no NUL byte (names the
// library generated, constants); it panics otherwise.
func MustQuote(s string) string {
	q, err := Quote(s)
	if err != nil {
		panic(err)
	}
	return q
}

// ShellJoin quotes each argument and joins them with spaces.
func ShellJoin(args ...string) (string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		q, err := Quote(a)
		if err != nil {
			return "", err
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}

func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_./:@%+,", c) >= 0:
		default:
			return false
		}
	}
	return true
}
