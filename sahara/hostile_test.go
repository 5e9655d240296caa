package sahara_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// hostile are values a user (or whoever registered an image) may hand in
// that must never reach a path, a config file or a shell as they are.
var hostile = map[string]string{
	"newline":    "pool.ntp.org\nrestrict default",
	"cr":         "ubuntu\r",
	"dotdot":     "../root",
	"slash":      "a/b",
	"quote":      `a'b"c`,
	"nul":        "ab\x00c",
	"space":      "a b",
	"dollar":     "$(reboot)",
	"backtick":   "`id`",
	"semicolon":  "a;b",
	"dash":       "-oProxyCommand=x",
	"very long":  strings.Repeat("a", 300),
	"empty":      "",
	"unicode":    "ubüntu",
	"dot":        ".",
	"glob":       "*",
	"tab":        "a\tb",
	"percent":    "%s%n",
	"leading .":  ".ssh",
	"trailing ;": "pool.ntp.org;",
}

func TestCheckLoginName_RefusesHostileNames(t *testing.T) {
	for name, v := range hostile {
		if err := sahara.CheckLoginName(v); err == nil {
			t.Errorf("%s: login user %q accepted", name, v)
		} else if strings.ContainsAny(err.Error(), "\x00\n") || len(err.Error()) > 300 {
			t.Errorf("%s: the error repeats the hostile value: %q", name, err)
		}
	}
	for _, ok := range []string{"ubuntu", "cloud-user", "ec2-user", "centos", "root", "_svc", "user.name", strings.Repeat("u", 32)} {
		if err := sahara.CheckLoginName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestCheckNTPServer_RefusesAllButHostsAndAddresses(t *testing.T) {
	for name, v := range hostile {
		if err := sahara.CheckNTPServer(v); err == nil {
			t.Errorf("%s: NTP server %q accepted", name, v)
		}
	}
	for _, ok := range []string{"pool.ntp.org", "0.debian.pool.ntp.org", "ntp1", "192.0.2.1", "2001:db8::1", "time.example.org."} {
		if err := sahara.CheckNTPServer(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

// A hostile NTP server fails the plan with Sahara's invalid-config error on
// cluster_configs, and no string config passes a NUL byte.
func TestValidateSpec_HostileConfigValues(t *testing.T) {
	h := newHarness(t, 0)
	for name, v := range map[string]string{"newline": hostile["newline"], "semicolon": hostile["trailing ;"], "nul": hostile["nul"]} {
		spec := demoSpec(1)
		spec.ClusterConfigs = sahara.Configs{sahara.TargetGeneral: {"URL of NTP server": v}}
		err := h.eng.ValidateSpec(context.Background(), spec)
		var se *sahara.SaharaError
		if !errors.As(err, &se) || se.Exception != "InvalidDataException" || sahara.FieldOf(err).Attribute != "cluster_configs" ||
			!strings.Contains(err.Error(), "URL of NTP server") {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg := sahara.Config{Name: "any", Type: sahara.ConfigString}
	if _, err := cfg.Parse("a\x00b"); err == nil {
		t.Error("a string config took a NUL byte")
	}
}
