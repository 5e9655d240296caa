package openstack

import (
	"fmt"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// UserData is the boot script Sahara gave its instances: it appends the
// management key (and the user's key, since Nova takes one key_name) to the
// image user's authorized_keys and disables requiretty for sudo. Every value
// is shell-quoted; keys are rejected if they span lines, a login user that
// is not a plain user name (it becomes a path) too.
func UserData(username string, keys ...string) ([]byte, error) {
	var lines []string
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if strings.ContainsAny(k, "\r\n") {
			return nil, fmt.Errorf("public key holds a line break")
		}
		q, err := sahara.Quote(k)
		if err != nil {
			return nil, err
		}
		lines = append(lines, q)
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	if username != "" && len(lines) > 0 {
		if err := sahara.CheckLoginName(username); err != nil {
			return nil, err
		}
		home := "/home/" + username
		if username == "root" {
			home = "/root"
		}
		qh, err := sahara.Quote(home + "/.ssh")
		if err != nil {
			return nil, err
		}
		qu, err := sahara.Quote(username)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "mkdir -p %s\n", qh)
		for _, q := range lines {
			fmt.Fprintf(&b, "printf '%%s\\n' %s >> %s/authorized_keys\n", q, qh)
		}
		fmt.Fprintf(&b, "chmod 700 %s; chmod 600 %s/authorized_keys\n", qh, qh)
		fmt.Fprintf(&b, "chown -R %s %s\n", qu, qh)
	}
	b.WriteString("if [ -f /etc/sudoers ]; then sed -i 's/^Defaults\\s*requiretty/#Defaults requiretty/' /etc/sudoers; fi\n")
	return []byte(b.String()), nil
}
