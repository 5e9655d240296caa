package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is one rule of a FaultProxy: the next Count requests to Service that
// match Method and Path (after Skip matching ones went through) are answered
// with Status, or have their connection dropped, instead of reaching the
// service.
type Fault struct {
	// Service is the service type the proxy fronts: "compute", "network",
	// "volumev3", "object-store", "image".
	Service string
	// Method matches the request method ("" any).
	Method string
	// Path is a regular expression searched in the URL path ("" any), e.g.
	// `/servers$` for Nova's server creation, `/ports` for Neutron's ports.
	Path string
	// Skip is how many matching requests go through before the fault starts.
	Skip int
	// Count is how many matching requests get the fault (at least 1).
	Count int
	// Status is the injected answer: 503, 429, 401, 500, …
	Status int
	// RetryAfter is the Retry-After header of the answer ("" none).
	RetryAfter string
	// Drop closes the connection after reading the request instead of
	// answering; with Forward the request first reaches the service (the
	// cloud acts, its answer is lost).
	Drop, Forward bool
	// Hold lets the request reach the service and keeps its answer until
	// Release (or the client goes): the service did the work, the client
	// waits. A point to stop a run at, e.g. just after a record was written.
	Hold bool
	// Body is a string the request body must contain ("" any).
	Body string

	path *regexp.Regexp
	seen int // matching requests so far
}

func (f *Fault) spent() bool { return f.seen >= f.Skip+f.Count }

// Injection is a fault the proxy injected.
type Injection struct {
	Service, Method, Path string
	Status                int  // 0 when the connection was dropped or the answer held
	Held                  bool // the answer was held (Fault.Hold)
}

func (i Injection) String() string {
	what := strconv.Itoa(i.Status)
	switch {
	case i.Held:
		what = "held"
	case i.Status == 0:
		what = "dropped"
	}
	return i.Service + " " + i.Method + " " + i.Path + " → " + what
}

// FaultProxy is an HTTP reverse proxy on 127.0.0.1 in front of chosen
// OpenStack services, one listener per service. Requests go through to the
// service unchanged except those a Fault rule catches. Point the cloud
// adapter at it with the endpoint overrides Front returns
// (openstack.Config.EndpointOverrides); Keystone stays direct, so a token
// renewal after an injected 401 reaches the real one. Every method is safe
// for concurrent use.
type FaultProxy struct {
	mu         sync.Mutex
	fronts     map[string]*httptest.Server
	faults     []*Fault
	injections []Injection
	requests   map[string]int
	transport  *http.Transport
	latch      *latch
}

// latch is one round of Hold rules: held closes at the first held answer,
// release lets them go.
type latch struct {
	held, release         chan struct{}
	heldOnce, releaseOnce sync.Once
}

func newLatch() *latch { return &latch{held: make(chan struct{}), release: make(chan struct{})} }

// NewFaultProxy returns a proxy fronting no service yet.
func NewFaultProxy() *FaultProxy {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // straight to the loopback services
	return &FaultProxy{fronts: map[string]*httptest.Server{}, requests: map[string]int{}, transport: t,
		latch: newLatch()}
}

// Front starts a listener for service in front of endpoint (a loopback URL
// such as http://127.0.0.1:8774/v2.1) and returns the same endpoint through
// the proxy.
func (p *FaultProxy) Front(service, endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("fault proxy: endpoint of %s: %w", service, err)
	}
	if !loopback(u.Hostname()) {
		return "", fmt.Errorf("fault proxy: endpoint %s of %s is not on the loopback interface", endpoint, service)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fronts[service] != nil {
		return "", fmt.Errorf("fault proxy: %s is already fronted", service)
	}
	upstream := &url.URL{Scheme: u.Scheme, Host: u.Host}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport: p.transport,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(service, upstream, rp, w, r)
	}))
	p.fronts[service] = srv
	front := *u
	front.Host = strings.TrimPrefix(srv.URL, "http://")
	front.Scheme = "http"
	return front.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Inject adds fault rules. A request is caught by the first rule, in the
// order added, that matches it and has let its Skip requests through; it
// counts towards the Skip of every matching rule still skipping, whichever
// rule catches it.
func (p *FaultProxy) Inject(faults ...Fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range faults {
		if p.fronts[f.Service] == nil {
			return fmt.Errorf("fault proxy: %q is not fronted", f.Service)
		}
		if f.Status == 0 && !f.Drop && !f.Hold {
			return errors.New("fault proxy: a fault needs a Status, Drop or Hold")
		}
		if f.Hold && (f.Status != 0 || f.Drop) {
			return errors.New("fault proxy: Hold forwards the request; it takes no Status or Drop")
		}
		re, err := regexp.Compile(f.Path)
		if err != nil {
			return fmt.Errorf("fault proxy: path %q: %w", f.Path, err)
		}
		f.path, f.seen, f.Count = re, 0, max(f.Count, 1)
		p.faults = append(p.faults, &f)
	}
	return nil
}

// catch returns the rule that catches the request, if any, and counts the
// request in the rules still skipping.
func (p *FaultProxy) catch(service string, r *http.Request, body []byte) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[service]++
	var caught *Fault
	for _, f := range p.faults {
		if f.spent() || f.Service != service || f.Method != "" && f.Method != r.Method || !f.path.MatchString(r.URL.Path) ||
			f.Body != "" && !bytes.Contains(body, []byte(f.Body)) {
			continue
		}
		if f.seen < f.Skip {
			f.seen++
		} else if caught == nil {
			f.seen++
			caught = f
		}
	}
	if caught != nil {
		status := caught.Status
		if caught.Drop {
			status = 0
		}
		p.injections = append(p.injections, Injection{Service: service, Method: r.Method, Path: r.URL.Path, Status: status, Held: caught.Hold})
	}
	return caught
}

func (p *FaultProxy) serve(service string, upstream *url.URL, rp *httputil.ReverseProxy, w http.ResponseWriter, r *http.Request) {
	var body []byte
	if p.matchesBodies(service) {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	f := p.catch(service, r, body)
	if f == nil {
		rp.ServeHTTP(w, r)
		return
	}
	if f.Hold {
		p.hold(upstream, w, r)
		return
	}
	if !f.Drop {
		_, _ = io.Copy(io.Discard, r.Body)
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = fmt.Fprintf(w, `{"error": {"code": %d, "title": %q, "message": "injected by the testbed fault proxy"}}`,
			f.Status, http.StatusText(f.Status))
		return
	}
	if f.Forward {
		if resp, err := p.forward(r.Context(), upstream, r); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	} else {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// forward sends the request to the service itself, on ctx.
func (p *FaultProxy) forward(ctx context.Context, upstream *url.URL, r *http.Request) (*http.Response, error) {
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = upstream.Scheme, upstream.Host, ""
	return p.transport.RoundTrip(out)
}

// matchesBodies reports whether a live rule for service looks at bodies.
func (p *FaultProxy) matchesBodies(service string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if f.Service == service && f.Body != "" && !f.spent() {
			return true
		}
	}
	return false
}

// hold forwards the request, then keeps the answer until Release or until
// the client goes away.
func (p *FaultProxy) hold(upstream *url.URL, w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	l := p.latch
	p.mu.Unlock()
	resp, err := p.forward(context.WithoutCancel(r.Context()), upstream, r) // the service finishes even if the client dies
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	l.heldOnce.Do(func() { close(l.held) })
	select {
	case <-l.release:
	case <-r.Context().Done():
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// Holding is closed once the service answered a request a Hold rule caught
// and its answer is being held.
func (p *FaultProxy) Holding() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latch.held
}

// Release lets every held answer go, now and later (until Rearm).
func (p *FaultProxy) Release() {
	p.mu.Lock()
	l := p.latch
	p.mu.Unlock()
	l.releaseOnce.Do(func() { close(l.release) })
}

// Rearm releases what is held and starts a new round: Holding and Release
// then concern the answers held from now on.
func (p *FaultProxy) Rearm() {
	p.Release()
	p.mu.Lock()
	p.latch = newLatch()
	p.mu.Unlock()
}

// Injected counts the faults injected into service ("" every service).
func (p *FaultProxy) Injected(service string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, i := range p.injections {
		if service == "" || i.Service == service {
			n++
		}
	}
	return n
}

// Injections lists the faults injected so far, in order.
func (p *FaultProxy) Injections() []Injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Injection(nil), p.injections...)
}

// Requests counts the requests that reached the proxy for service ("" every
// service), injected or not.
func (p *FaultProxy) Requests(service string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if service != "" {
		return p.requests[service]
	}
	n := 0
	for _, v := range p.requests {
		n += v
	}
	return n
}

// Pending counts the faults rules still hold (not yet injected).
func (p *FaultProxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.faults {
		n += f.Skip + f.Count - f.seen
	}
	return n
}

// Close releases held answers and stops every listener.
func (p *FaultProxy) Close() {
	p.Release()
	p.mu.Lock()
	fronts := p.fronts
	p.fronts = map[string]*httptest.Server{}
	p.mu.Unlock()
	for _, s := range fronts {
		s.CloseClientConnections()
		s.Close()
	}
	p.transport.CloseIdleConnections()
}

// FaultProxy starts a FaultProxy in front of services of the test user's
// catalog ("compute", "network", "volumev3", "object-store", "image",
// "orchestration"),
// closed when the test ends, and returns it with the endpoint overrides
// that send the cloud adapter through it.
func (e *Env) FaultProxy(t testing.TB, services ...string) (*FaultProxy, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := e.Clients(ctx, false)
	if err != nil {
		t.Fatalf("testbed: fault proxy: %v", err)
	}
	endpoints := map[string]string{
		"compute": c.Compute.Endpoint, "network": c.Network.Endpoint, "volumev3": c.Volume.Endpoint,
		"image": c.Image.Endpoint, "orchestration": c.Orchestration.Endpoint,
	}
	if c.Object != nil { // nil in the project without object storage (NoStore)
		endpoints["object-store"] = c.Object.Endpoint
	}
	p := NewFaultProxy()
	t.Cleanup(p.Close)
	overrides := map[string]string{}
	for _, s := range services {
		ep, ok := endpoints[s]
		if !ok {
			t.Fatalf("testbed: fault proxy: service %q unknown or not in the catalog of project %s", s, e.ProjectName)
		}
		if overrides[s], err = p.Front(s, ep); err != nil {
			t.Fatal(err)
		}
	}
	return p, overrides
}
