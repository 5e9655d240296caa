package provider

import (
	"context"
	"log/slog"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Field keys whose values are secrets; tflog masks them wherever they appear.
var secretFieldKeys = []string{
	"password", "token", "secret", "private_key", "management_private_key",
	"bastion_private_key", "application_credential_secret", "key",
}

// pemBlock matches a PEM private key inside a log message.
var pemBlock = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)

// withLogMasks returns ctx with tflog's masks for secret fields and PEM keys.
func withLogMasks(ctx context.Context, secrets ...string) context.Context {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)
	ctx = tflog.MaskAllFieldValuesRegexes(ctx, pemBlock)
	ctx = tflog.MaskMessageRegexes(ctx, pemBlock)
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	if len(s) > 0 {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, s...)
		ctx = tflog.MaskMessageStrings(ctx, s...)
	}
	return ctx
}

// tflogHandler forwards the library's slog records to tflog. tflog finds its
// sink in the request context, so the handler keeps the context of the
// Terraform operation that created it.
type tflogHandler struct {
	ctx    context.Context
	attrs  []slog.Attr
	groups []string
}

// newTFLogger returns a slog.Logger writing to the tflog sink of ctx, with the
// given fields (e.g. cluster_id) on every line and secrets masked.
func newTFLogger(ctx context.Context, fields map[string]any, secrets ...string) *slog.Logger {
	ctx = withLogMasks(ctx, secrets...)
	for k, v := range fields {
		ctx = tflog.SetField(ctx, k, v)
	}
	return slog.New(&tflogHandler{ctx: ctx})
}

func (h *tflogHandler) Enabled(_ context.Context, l slog.Level) bool {
	switch {
	case l >= slog.LevelError:
		return tflog.IsError(h.ctx)
	case l >= slog.LevelWarn:
		return tflog.IsWarn(h.ctx)
	case l >= slog.LevelInfo:
		return tflog.IsInfo(h.ctx)
	case l >= slog.LevelDebug:
		return tflog.IsDebug(h.ctx)
	default:
		return tflog.IsTrace(h.ctx)
	}
}

func (h *tflogHandler) Handle(_ context.Context, r slog.Record) error {
	fields := make(map[string]any, len(h.attrs)+r.NumAttrs())
	prefix := strings.Join(h.groups, ".")
	add := func(a slog.Attr) {
		k := a.Key
		if prefix != "" {
			k = prefix + "." + k
		}
		fields[k] = a.Value.Resolve().Any()
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	switch {
	case r.Level >= slog.LevelError:
		tflog.Error(h.ctx, r.Message, fields)
	case r.Level >= slog.LevelWarn:
		tflog.Warn(h.ctx, r.Message, fields)
	case r.Level >= slog.LevelInfo:
		tflog.Info(h.ctx, r.Message, fields)
	case r.Level >= slog.LevelDebug:
		tflog.Debug(h.ctx, r.Message, fields)
	default:
		tflog.Trace(h.ctx, r.Message, fields)
	}
	return nil
}

func (h *tflogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &n
}

func (h *tflogHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.groups = append(append([]string{}, h.groups...), name)
	return &n
}
