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

// retryTransport retries requests the cloud did not complete: 429 and 503
// for every method; 409, 500, 502, 504 and connection resets only for
// idempotent methods, because a POST that reached the server may already
// have created a server or a port. Backoff is exponential with jitter and
// honours Retry-After; waits end with the request's context.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	base       time.Duration
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
		if attempt >= t.maxRetries || !replayable(req) || !t.retryable(req, resp, err) {
			return resp, err
		}
		wait := t.backoff(attempt, resp)
		if t.logger != nil {
			what := "connection error"
			if resp != nil {
				what = resp.Status
			}
			t.logger.Debug("retrying OpenStack request", "method", req.Method, "path", req.URL.Path,
				"reason", what, "attempt", attempt+1, "of", t.maxRetries, "wait", wait)
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

func (t *retryTransport) retryable(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		if req.Context().Err() != nil {
			return false
		}
		// A refused connection never reached the server: safe for any method.
		if errors.Is(err, syscall.ECONNREFUSED) {
			return true
		}
		var ne net.Error
		return idempotent(req.Method) && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) ||
			errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &ne) && ne.Timeout()))
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusConflict, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent(req.Method)
	}
	return false
}

func (t *retryTransport) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, time.Minute)
		}
	}
	base := t.base
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	d := base << min(attempt, 6)
	return min(d/2+rand.N(d/2+1), 30*time.Second)
}
