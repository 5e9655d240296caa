package openstack

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// DefaultMaxRetries is how often a request is retried when Config.MaxRetries
// is unset: Sahara's [retries] retries_number.
const DefaultMaxRetries = 5

// Backoff bounds: the first wait is about retryBase, each next one twice as
// long, never more than retryCap; a Retry-After answer wins up to maxRetryAfter.
const (
	retryBase     = time.Second
	retryCap      = 30 * time.Second
	maxRetryAfter = time.Minute
)

// retryTransport is the one retry path of the adapter: it sits under
// gophercloud (whose RetryBackoffFunc sees only 429 answers, and whose
// RetryFunc sees errors without knowing whether the request left the
// machine) and retries what the cloud cannot have done:
//
//   - GET, HEAD, OPTIONS, PUT and DELETE after 429, 502, 503 or 504 and after
//     a connection error before the answer (refused, reset, closed, timed out);
//   - POST only after 429 or 503 (the API refused the request) or when the
//     connection could not be opened. A POST whose answer was lost after it
//     was sent may already have created a server or a port: never replayed.
//
// Backoff is exponential with jitter and honours Retry-After; waits end with
// the request's context. Each retry is logged at Warn with the method, the
// URL path (never the query or headers) and the status or error.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	base       time.Duration // first backoff (default retryBase)
	logger     *slog.Logger
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		resp, err := t.next.RoundTrip(req)
		if attempt >= t.maxRetries || !replayable(req) || !retryable(req, resp, err) {
			return resp, err
		}
		wait := t.backoff(attempt, resp)
		if t.logger != nil {
			args := []any{"method", req.Method, "path", req.URL.Path}
			if resp != nil {
				args = append(args, "status", resp.StatusCode)
			} else {
				args = append(args, "error", err.Error())
			}
			t.logger.Warn("Retrying OpenStack request", append(args, "retry", attempt+1, "of", t.maxRetries, "wait", wait.Round(time.Millisecond))...)
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

// replayable: a body can be sent again only if it can be re-read.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func retryable(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		if req.Context().Err() != nil {
			return false
		}
		return notSent(err) || idempotent(req.Method) && lostAnswer(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent(req.Method)
	}
	return false
}

// notSent: the connection could not be opened, so the request never left;
// safe to send again whatever the method. A name that does not resolve is
// not transient.
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}

// lostAnswer: the connection broke or timed out before an answer came; the
// request may have been acted on.
func lostAnswer(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) && ne.Timeout()
}

func (t *retryTransport) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(d, maxRetryAfter)
		}
	}
	base := t.base
	if base <= 0 {
		base = retryBase
	}
	d := min(base<<min(attempt, 10), retryCap)
	return d/2 + rand.N(d/2+1) // "equal jitter": between d/2 and d
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}
