package openstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gophercloud/utils/v2/client"
)

// The HTTP debug log is gophercloud/utils' logging round tripper, as in
// terraform-provider-openstack: requests and answers with their headers
// (tokens masked) and JSON bodies. Bodies go through maskJSON first: cluster
// records carry private keys, and plugin configs may carry secrets.

// debugLogger writes the round tripper's lines at DEBUG.
type debugLogger struct{ l *slog.Logger }

func (d debugLogger) Printf(format string, args ...any) { d.l.Debug(fmt.Sprintf(format, args...)) }

// withDebugLog wraps rt in the logging round tripper.
func withDebugLog(rt http.RoundTripper, l *slog.Logger) http.RoundTripper {
	return &client.RoundTripper{Rt: rt, Logger: debugLogger{l}, FormatJSON: maskJSON}
}

// secretKey matches the names of JSON fields whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)(password|secret|private_?key|token|credential|passphrase)`)

const masked = "***"

// maskJSON formats a JSON body for the log with every secret masked: fields
// named like a secret, any string holding a PEM private key, then
// gophercloud/utils' own masking of auth requests. It never returns the raw
// body, even when the body is not JSON.
func maskJSON(raw []byte) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Sprintf("(a body of %d bytes that is not JSON)", len(raw)), nil
	}
	b, err := json.Marshal(maskValue(v))
	if err != nil {
		return fmt.Sprintf("(a body of %d bytes)", len(raw)), nil
	}
	return client.FormatJSON(b)
}

func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if _, isObj := val.(map[string]any); !isObj && secretKey.MatchString(k) {
				x[k] = masked
				continue
			}
			x[k] = maskValue(val)
		}
	case []any:
		for i := range x {
			x[i] = maskValue(x[i])
		}
	case string:
		if strings.Contains(x, "PRIVATE KEY") {
			return masked
		}
	}
	return v
}
