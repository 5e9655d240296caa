package testbed

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFaultProxy_InjectsThenPassesThrough: rules catch the requests they
// match, in order, after Skip; everything else reaches the service.
func TestFaultProxy_InjectsThenPassesThrough(t *testing.T) {
	var reached atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+string(body))
	}))
	defer upstream.Close()
	p := NewFaultProxy()
	defer p.Close()
	front, err := p.Front("compute", upstream.URL+"/v2.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(front, "http://127.0.0.1:") || !strings.HasSuffix(front, "/v2.1") || strings.HasPrefix(front, upstream.URL) {
		t.Fatalf("front %s", front)
	}
	if err := p.Inject(
		Fault{Service: "compute", Method: "POST", Path: `/servers$`, Count: 2, Status: 503},
		Fault{Service: "compute", Method: "POST", Path: `/servers$`, Status: 429, RetryAfter: "1"},
		Fault{Service: "compute", Method: "GET", Skip: 1, Status: 401},
	); err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, front+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	for i, want := range []int{503, 503, 429, 200} {
		code, ra, body := do("POST", "/servers", `{"server": {}}`)
		if code != want {
			t.Errorf("POST %d: %d %s", i, code, body)
		}
		if want == 429 && ra != "1" {
			t.Errorf("429 without Retry-After: %q", ra)
		}
		if want == 200 && body != `POST /v2.1/servers? {"server": {}}` {
			t.Errorf("forwarded as %q", body)
		}
	}
	if code, _, _ := do("POST", "/servers/x/action", "{}"); code != 200 {
		t.Errorf("POST /servers/x/action: %d", code)
	}
	for i, want := range []int{200, 401, 200} {
		if code, _, body := do("GET", "/servers/detail?name=a", ""); code != want {
			t.Errorf("GET %d: %d %s", i, code, body)
		}
	}
	if p.Injected("compute") != 4 || p.Injected("network") != 0 || p.Requests("compute") != 8 || p.Pending() != 0 || reached.Load() != 4 {
		t.Errorf("injected %d, requests %d, pending %d, reached %d: %v", p.Injected("compute"), p.Requests("compute"), p.Pending(), reached.Load(), p.Injections())
	}
	if got := p.Injections()[3].String(); got != "compute GET /v2.1/servers/detail → 401" {
		t.Errorf("injection %q", got)
	}
}

// TestFaultProxy_DropsConnections: Drop loses the request, Drop+Forward
// loses only the answer.
func TestFaultProxy_DropsConnections(t *testing.T) {
	var reached atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer upstream.Close()
	p := NewFaultProxy()
	defer p.Close()
	front, err := p.Front("object-store", upstream.URL+"/v1/AUTH_p")
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Inject(Fault{Service: "object-store", Method: "PUT", Drop: true},
		Fault{Service: "object-store", Method: "PUT", Drop: true, Forward: true})
	for i, want := range []int32{0, 1} {
		req, _ := http.NewRequest("PUT", front+"/c/o", strings.NewReader("data"))
		if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
			_ = resp.Body.Close()
			t.Fatalf("PUT %d: answered %d", i, resp.StatusCode)
		}
		if reached.Load() != want {
			t.Errorf("PUT %d: the service saw %d requests, want %d", i, reached.Load(), want)
		}
	}
	if p.Injected("") != 2 || p.Injections()[0].Status != 0 {
		t.Errorf("injections %v", p.Injections())
	}
}

func TestFaultProxy_RefusesWhatItCannotDo(t *testing.T) {
	p := NewFaultProxy()
	defer p.Close()
	if _, err := p.Front("compute", "http://192.0.2.1:8774/v2.1"); err == nil {
		t.Error("fronted a service off the loopback interface")
	}
	if err := p.Inject(Fault{Service: "network", Status: 503}); err == nil {
		t.Error("a fault for a service not fronted")
	}
	if _, err := p.Front("network", "http://127.0.0.1:9696/"); err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(Fault{Service: "network"}); err == nil {
		t.Error("a fault without a status")
	}
	if err := p.Inject(Fault{Service: "network", Path: "(", Status: 503}); err == nil {
		t.Error("a bad path expression")
	}
}

// TestFaultProxy_SkipCountsRequestsOtherRulesCatch: a rule's Skip counts
// every matching request, also those an earlier rule answered.
func TestFaultProxy_SkipCountsRequestsOtherRulesCatch(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer upstream.Close()
	p := NewFaultProxy()
	defer p.Close()
	front, err := p.Front("network", upstream.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Inject(Fault{Service: "network", Method: "POST", Status: 503},
		Fault{Service: "network", Method: "POST", Skip: 2, Status: 500})
	for i, want := range []int{503, 200, 500, 200} {
		resp, err := http.Post(front+"v2.0/ports", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

// TestFaultProxy_HoldsAnswersUntilReleased: a Hold rule matching the body
// lets the request reach the service at once and keeps its answer until
// Release; requests whose body does not match pass.
func TestFaultProxy_HoldsAnswersUntilReleased(t *testing.T) {
	var reached atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusCreated)
	}))
	defer upstream.Close()
	p := NewFaultProxy()
	defer p.Close()
	front, err := p.Front("object-store", upstream.URL+"/v1/AUTH_x")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(Fault{Service: "object-store", Method: "PUT", Body: `"status":"Configuring"`, Hold: true}); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code     int
		upstream string
	}
	put := func(body string) (answer, error) {
		req, _ := http.NewRequest("PUT", front+"/c/clusters/1", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return answer{}, err
		}
		_ = resp.Body.Close()
		return answer{resp.StatusCode, resp.Header.Get("X-Upstream")}, nil
	}
	if a, err := put(`{"status":"Spawning"}`); err != nil || a.code != http.StatusCreated {
		t.Fatalf("a body the rule does not match: %v %v", a, err)
	}
	// held sends a PUT a Hold rule catches and checks that it reached the
	// service at once and that its answer waited for Release.
	held := func(body string, reachedBefore int32) answer {
		t.Helper()
		answered := make(chan answer, 1)
		go func() {
			a, err := put(body)
			if err != nil {
				t.Error(err)
			}
			answered <- a
		}()
		select {
		case <-p.Holding():
		case <-time.After(10 * time.Second):
			t.Fatal("the matching request was not held")
		}
		if n := reached.Load(); n != reachedBefore+1 {
			t.Errorf("the held request did not reach the service first: %d requests reached it, want %d", n, reachedBefore+1)
		}
		select {
		case <-answered:
			t.Fatal("the held answer went before Release")
		case <-time.After(200 * time.Millisecond):
		}
		p.Release()
		return <-answered
	}
	if a := held(`{"id":"1","status":"Configuring"}`, 1); a.code != http.StatusCreated || a.upstream != "yes" {
		t.Fatalf("the released answer is not the service's: %+v", a)
	}
	if got := p.Injections(); len(got) != 1 || got[0].String() != "object-store PUT /v1/AUTH_x/c/clusters/1 → held" {
		t.Errorf("injections %v", got)
	}
	// A new round: a new rule, held again until the next Release.
	p.Rearm()
	if err := p.Inject(Fault{Service: "object-store", Method: "PUT", Hold: true}); err != nil {
		t.Fatal(err)
	}
	if a := held(`{}`, 2); a.code != http.StatusCreated {
		t.Fatalf("the second released answer: %+v", a)
	}
	if err := p.Inject(Fault{Service: "object-store", Hold: true, Status: 503}); err == nil {
		t.Error("a Hold rule with a Status was taken")
	}
}
