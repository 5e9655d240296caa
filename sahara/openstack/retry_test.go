package openstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// drop, as a status of retryServer, closes the connection after the whole
// request was read: the cloud may have acted, the answer is lost.
const drop = -1

// retryServer answers its requests with statuses in turn, then echoes the
// request body with 200; it counts the requests.
func retryServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == drop {
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				_ = conn.Close()
				return
			}
			w.WriteHeader(statuses[i])
			return
		}
		_, _ = w.Write(body) // echo: a replayed body must arrive whole
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetryTransport_RetriesOnlyWhatTheCloudCannotHaveDone(t *testing.T) {
	client := &http.Client{Transport: &retryTransport{next: http.DefaultTransport, maxRetries: DefaultMaxRetries, base: time.Millisecond}}
	cases := []struct {
		method   string
		statuses []int
		attempts int32
		final    int // 0: a transport error
	}{
		{"GET", []int{503, 503, 503}, 4, 200},
		{"GET", []int{429, 502, 504}, 4, 200},
		{"HEAD", []int{503}, 2, 200},
		{"DELETE", []int{drop}, 2, 200}, // answer lost: a DELETE can be sent again
		{"PUT", []int{503, drop}, 3, 200},
		{"GET", []int{503, 503, 503, 503, 503, 503, 503}, 6, 503}, // 5 retries, then the answer
		{"POST", []int{503}, 2, 200},
		{"POST", []int{429, 503}, 3, 200},
		{"POST", []int{drop}, 1, 0},  // may have created a server: never replayed
		{"POST", []int{502}, 1, 502}, // a gateway's answer: the API may have acted
		{"POST", []int{504}, 1, 504},
		{"PUT", []int{500}, 1, 500}, // not transient
		{"GET", []int{409}, 1, 409},
		{"GET", []int{404}, 1, 404},
		{"GET", []int{401}, 1, 401}, // gophercloud re-authenticates
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s %v", tc.method, tc.statuses)
		srv, n := retryServer(t, tc.statuses...)
		req, _ := http.NewRequest(tc.method, srv.URL+"/v2.1/servers", strings.NewReader("payload"))
		resp, err := client.Do(req)
		if n.Load() != tc.attempts {
			t.Errorf("%s: %d requests, want %d", name, n.Load(), tc.attempts)
		}
		if tc.final == 0 {
			if err == nil {
				_ = resp.Body.Close()
				t.Errorf("%s: status %d, want a transport error", name, resp.StatusCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.final {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.final)
		}
		if tc.final == 200 && tc.method != "HEAD" && string(body) != "payload" {
			t.Errorf("%s: replayed body %q", name, body)
		}
	}
}

func TestRetryTransport_RefusedConnectionIsRetriedForPOST(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens: connections are refused
	ctr := newCounter(nil)
	client := &http.Client{Transport: &retryTransport{next: ctr, maxRetries: 2, base: time.Millisecond}}
	resp, err := client.Post("http://"+addr+"/v2.0/ports", "application/json", strings.NewReader("{}"))
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("no error from a closed port")
	}
	if got := ctr.count("POST", "/v2.0/ports"); got != 3 {
		t.Fatalf("%d requests, want 3: %v", got, err)
	}
}

func TestRetryTransport_HonoursRetryAfter(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: &retryTransport{next: http.DefaultTransport, maxRetries: 3, base: time.Millisecond}}
	start := time.Now()
	resp, err := client.Post(srv.URL+"/v2.1/servers", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != 200 || n.Load() != 2 || took < 900*time.Millisecond {
		t.Fatalf("status %d after %d requests in %s; want 200 after 2, waiting the 1 s Retry-After", resp.StatusCode, n.Load(), took)
	}

	at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	if d, ok := retryAfter(at); !ok || d <= time.Second || d > 3*time.Second {
		t.Errorf("Retry-After %q: %s %v", at, d, ok)
	}
	if _, ok := retryAfter("soon"); ok {
		t.Error("Retry-After \"soon\" parsed")
	}
	rt := &retryTransport{}
	if d := rt.backoff(0, &http.Response{Header: http.Header{"Retry-After": {"3600"}}}); d != maxRetryAfter {
		t.Errorf("an hour's Retry-After waits %s, want the cap %s", d, maxRetryAfter)
	}
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, retryCap, retryCap} {
		if d := rt.backoff(attempt, nil); d < want/2 || d > want {
			t.Errorf("backoff %d: %s, want between %s and %s", attempt, d, want/2, want)
		}
	}
}

func TestRetryTransport_ZeroRetriesSendsOneRequest(t *testing.T) {
	srv, n := retryServer(t, 503, 503)
	resp, err := (&http.Client{Transport: &retryTransport{next: http.DefaultTransport}}).Get(srv.URL)
	if err != nil || resp.StatusCode != 503 || n.Load() != 1 {
		t.Fatalf("max_retries 0: %v %v after %d requests", resp, err, n.Load())
	}
	_ = resp.Body.Close()
	if got := (Config{}).maxRetries(); got != DefaultMaxRetries {
		t.Errorf("unset MaxRetries: %d retries, want %d", got, DefaultMaxRetries)
	}
	if got := (Config{MaxRetries: new(0)}).maxRetries(); got != 0 {
		t.Errorf("MaxRetries 0: %d retries", got)
	}
}

// TestNew_RetriesByDefault: a cloud built without MaxRetries retries a 503
// (here from Keystone); with MaxRetries 0 the 503 is the answer.
func TestNew_RetriesByDefault(t *testing.T) {
	clearOSEnv(t)
	var fail atomic.Int32
	ks := fakeKeystone(t)
	flaky := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if fail.Add(-1) >= 0 {
			return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Request: r,
				Header: http.Header{"Retry-After": {"0"}}, Body: io.NopCloser(strings.NewReader(""))}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	cfg := Config{AuthURL: ks.URL + "/v3", UserName: "u", Password: "p", TenantName: "p", UserDomainName: "Default", ProjectDomainName: "Default", Region: "R1"}
	ctx := context.Background()
	fail.Store(2)
	if _, err := New(ctx, cfg, WithTransport(flaky)); err != nil {
		t.Fatalf("two 503 with the default retries: %v", err)
	}
	fail.Store(1)
	cfg.MaxRetries = new(0)
	if _, err := New(ctx, cfg, WithTransport(flaky)); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("a 503 with max_retries 0: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRetryTransport_LogsEachRetryWithoutSecrets(t *testing.T) {
	srv, _ := retryServer(t, 503, 429)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	client := &http.Client{Transport: &retryTransport{next: http.DefaultTransport, maxRetries: 3, base: time.Millisecond, logger: logger}}
	req, _ := http.NewRequest("GET", srv.URL+"/v2.0/ports?device_id=x&temp_url_sig=s3cret", nil)
	req.Header.Set("X-Auth-Token", "t0ken")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	out := logs.String()
	if strings.Count(out, "level=WARN msg=\"Retrying OpenStack request\" method=GET path=/v2.0/ports") != 2 ||
		!strings.Contains(out, "status=503") || !strings.Contains(out, "status=429") {
		t.Errorf("retry log:\n%s", out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "t0ken") || strings.Contains(out, "device_id") {
		t.Errorf("the retry log shows the query or the token:\n%s", out)
	}
}

func TestRetryTransport_StopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start := time.Now()
	resp, err := (&http.Client{Transport: &retryTransport{next: http.DefaultTransport, maxRetries: 5}}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("a 30 s Retry-After outlived the context: %v", err)
	}
}

// Polls start at 250 ms and double up to the interval, so a wait that the
// cloud ends in a second is seen within a quarter of a second of its end.
func TestPollWait_StartsShortAndBacksOffToTheInterval(t *testing.T) {
	var got []time.Duration
	for polls := 1; polls <= 6; polls++ {
		got = append(got, pollWait(2*time.Second, polls))
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if d := pollWait(10*time.Millisecond, 1); d != 10*time.Millisecond {
		t.Fatalf("an interval below the first wait bounds it: %v", d)
	}
}
