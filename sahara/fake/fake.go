// Package fake holds in-memory implementations of sahara.Infrastructure,
// sahara.RemoteConnector and sahara.Store for unit tests of the engine and
// of plugins. They inject faults (fail a call for an instance, delay calls,
// make an instance unreachable) and count calls. They never stand in for the
// real adapters in integration tests.
package fake

import (
	"errors"
	"strings"
	"sync"
)

// Fault makes matching calls fail. Method is the method name as counted
// (e.g. "SpawnInstances", "ExecuteCommand"); Instance an instance name or ""
// for any; Match a substring of the command or path, or "" for any. Times
// bounds how often it fires (0 = always).
type Fault struct {
	Method   string
	Instance string
	Match    string
	Err      error
	Times    int

	fired int
}

// ErrInjected is the default error of a Fault without Err.
var ErrInjected = errors.New("injected fault")

type faults struct {
	mu   sync.Mutex
	list []*Fault
}

func (f *faults) add(x *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, x)
}

func (f *faults) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = nil
}

// match returns the error of the first fault matching the call, if any.
func (f *faults) match(method, instance, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.list {
		if x.Method != method || (x.Instance != "" && x.Instance != instance) ||
			(x.Match != "" && !strings.Contains(arg, x.Match)) || (x.Times > 0 && x.fired >= x.Times) {
			continue
		}
		x.fired++
		if x.Err == nil {
			return ErrInjected
		}
		return x.Err
	}
	return nil
}

// counter counts calls per method.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) inc(method string, by int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[method] += by
}

func (c *counter) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}
