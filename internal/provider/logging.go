package provider

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Field keys whose values are secrets: masked wherever they appear.
var secretFieldKeys = []string{
	"password", "token", "secret", "private_key", "management_private_key",
	"bastion_private_key", "application_credential_secret", "key",
}

// pemBlock matches a PEM private key inside a log message.
var pemBlock = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)

const masked = "***"

// logMask hides secrets in a log line: values of secret field keys, PEM
// private keys and the given strings, in the message and every field. We
// mask the line here rather than with tflog's masks: those rewrite the
// context's shared field map in place, which crashes the provider when the
// engine logs from several goroutines (terraform-plugin-log#246).
type logMask struct{ secrets []string }

func newLogMask(secrets ...string) logMask {
	var m logMask
	for _, s := range secrets {
		if s != "" {
			m.secrets = append(m.secrets, s)
		}
	}
	return m
}

func (m logMask) text(s string) string {
	s = pemBlock.ReplaceAllString(s, masked)
	for _, secret := range m.secrets {
		s = strings.ReplaceAll(s, secret, masked)
	}
	return s
}

// line returns the masked message and a masked copy of fields.
func (m logMask) line(msg string, fields map[string]any) (string, map[string]any) {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if slices.Contains(secretFieldKeys, k[strings.LastIndexByte(k, '.')+1:]) {
			out[k] = masked
			continue
		}
		switch x := v.(type) {
		case string:
			v = m.text(x)
		case error:
			v = m.text(x.Error())
		case fmt.Stringer:
			v = m.text(x.String())
		}
		out[k] = v
	}
	return m.text(msg), out
}

// tflogLine logs one line, masked, at level to the tflog sink of ctx.
func tflogLine(ctx context.Context, level slog.Level, mask logMask, msg string, fields map[string]any) {
	msg, fields = mask.line(msg, fields)
	switch {
	case level >= slog.LevelError:
		tflog.Error(ctx, msg, fields)
	case level >= slog.LevelWarn:
		tflog.Warn(ctx, msg, fields)
	case level >= slog.LevelInfo:
		tflog.Info(ctx, msg, fields)
	case level >= slog.LevelDebug:
		tflog.Debug(ctx, msg, fields)
	default:
		tflog.Trace(ctx, msg, fields)
	}
}

// tflogInfo logs one masked INFO line to the tflog sink of ctx.
func tflogInfo(ctx context.Context, msg string, fields map[string]any, secrets ...string) {
	tflogLine(ctx, slog.LevelInfo, newLogMask(secrets...), msg, fields)
}

// tflogHandler forwards the library's slog records to tflog. tflog finds its
// sink in the request context, so the handler keeps the context of the
// Terraform operation that created it.
type tflogHandler struct {
	ctx context.Context
	// current, when set, supplies the context instead of ctx: for loggers
	// that outlive one operation (the cloud adapter's, the SSH remote's).
	current func() context.Context
	attrs   []slog.Attr
	groups  []string
	mask    logMask
}

func (h *tflogHandler) context() context.Context {
	if h.current != nil {
		return h.current()
	}
	return h.ctx
}

// logContext holds the context of the latest operation, for long-lived loggers.
type logContext struct {
	mu  sync.Mutex
	ctx context.Context
}

func (l *logContext) set(ctx context.Context) {
	l.mu.Lock()
	l.ctx = ctx
	l.mu.Unlock()
}

func (l *logContext) get() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx == nil {
		return context.Background() // tflog is a no-op without a sink
	}
	return l.ctx
}

// logger returns a long-lived slog.Logger writing to the latest operation's tflog sink.
func (l *logContext) logger() *slog.Logger {
	return slog.New(&tflogHandler{current: l.get})
}

// newTFLogger returns a slog.Logger writing to the tflog sink of ctx, with the
// given fields (e.g. cluster_id) on every line and secrets masked.
func newTFLogger(ctx context.Context, fields map[string]any, secrets ...string) *slog.Logger {
	mask := newLogMask(secrets...)
	_, fields = mask.line("", fields)
	for k, v := range fields {
		ctx = tflog.SetField(ctx, k, v)
	}
	return slog.New(&tflogHandler{ctx: ctx, mask: mask})
}

func (h *tflogHandler) Enabled(_ context.Context, l slog.Level) bool {
	ctx := h.context()
	switch {
	case l >= slog.LevelError:
		return tflog.IsError(ctx)
	case l >= slog.LevelWarn:
		return tflog.IsWarn(ctx)
	case l >= slog.LevelInfo:
		return tflog.IsInfo(ctx)
	case l >= slog.LevelDebug:
		return tflog.IsDebug(ctx)
	default:
		return tflog.IsTrace(ctx)
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
	tflogLine(h.context(), r.Level, h.mask, r.Message, fields)
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
