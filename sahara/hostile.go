package sahara

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// User values that land in a path or a config file on the instances are
// checked for where they land, not only quoted: quoting keeps a shell
// whole, but "../root" is a fine shell word and a bad home directory, and a
// newline in a config file value adds a directive.

// LoginNameRE is what an image's login user may be: a portable POSIX user
// name (letters, digits, '.', '_', '-', not starting with '.' or '-'), at
// most 32 characters; it becomes /home/<name>.
var LoginNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]{0,31}$`)

// CheckLoginName refuses a login user that is not a plain user name.
func CheckLoginName(name string) error {
	if !LoginNameRE.MatchString(name) {
		return fmt.Errorf("login user %q is not a user name: use at most 32 letters, digits, '.', '_' and '-', starting with a letter or '_'", truncate(name, 64))
	}
	return nil
}

var hostLabelsRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)

// CheckNTPServer refuses an NTP server that is not a host name or an IP
// address: it is written into /etc/ntp.conf as "server <value> iburst".
func CheckNTPServer(s string) error {
	if net.ParseIP(s) != nil || len(s) <= 253 && hostLabelsRE.MatchString(s) {
		return nil
	}
	return fmt.Errorf("%q is not a host name or an IP address", truncate(s, 64))
}

// truncate shortens a hostile value for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// noNul refuses a NUL byte in a config value: no file, command or API
// passes one on intact.
func noNul(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("the value contains a NUL byte")
	}
	return nil
}
