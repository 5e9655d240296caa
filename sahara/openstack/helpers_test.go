package openstack

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// countingTransport counts requests by "METHOD /path-pattern" (IDs
// replaced by {id}) on their way to the real transport.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func newCounter(next http.RoundTripper) *countingTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &countingTransport{next: next, n: map[string]int{}}
}

var idSegment = regexp.MustCompile(`/[0-9a-fA-F-]{32,36}|/[0-9a-f]{32}|/saharagen-[^/]+`)

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + idSegment.ReplaceAllString(req.URL.Path, "/{id}")
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

func (c *countingTransport) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

func (c *countingTransport) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// count sums the requests whose key has the method and ends with suffix.
func (c *countingTransport) count(method, suffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for k, v := range c.n {
		if strings.HasPrefix(k, method+" ") && strings.HasSuffix(k, suffix) {
			t += v
		}
	}
	return t
}

func (c *countingTransport) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.n))
	for k := range c.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %4d %s\n", c.n[k], k)
	}
	return b.String()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
