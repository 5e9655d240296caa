package sahara

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// KindLease is the store kind of leases: one object per object being
// changed, named after the object's kind and name.
const KindLease = "leases"

// ErrLeased marks a refusal because another run holds the lease.
var ErrLeased = errors.New("held by another run")

// Lease says that one run is changing an object, and until when. A run
// renews it while it works; a run that died stops renewing, and its lease
// lapses at Expires without anyone's help.
type Lease struct {
	Holder    string    `json:"holder"`    // who: host, process, Terraform run if known
	Operation string    `json:"operation"` // what: "create", "scale", …
	Since     time.Time `json:"since"`
	Expires   time.Time `json:"expires"`
	Token     string    `json:"token"` // tells one holding from another
	// Host and PID are the holding process, so that a run on the same host
	// can tell a holder that was killed from one that is working.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
}

// dead reports whether the lease's holder is a process of this host that
// no longer exists: its lease need not be waited out.
func (l *Lease) dead() bool {
	host, _ := os.Hostname()
	return l.Host != "" && l.Host == host && l.PID > 0 && l.PID != os.Getpid() && !processAlive(l.PID)
}

// LeaseOptions tune leases; the zero value gives the defaults.
type LeaseOptions struct {
	// TTL is how long a lease lasts without renewal (default 1 min); it is
	// renewed every TTL/4.
	TTL time.Duration
	// Settle is the pause between writing a lease and reading it back. The
	// object store has no compare-and-swap: of two runs that write within
	// this pause, the later write wins and the other sees it on reading
	// back (default 1 s).
	Settle time.Duration
	// Holder names this run (default: host name and process ID, plus the
	// Terraform Cloud run ID when TFC_RUN_ID is set).
	Holder string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o LeaseOptions) withDefaults() LeaseOptions {
	if o.TTL <= 0 {
		o.TTL = time.Minute
	}
	if o.Settle <= 0 {
		o.Settle = time.Second
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s (pid %d)", host, os.Getpid())
		if run := os.Getenv("TFC_RUN_ID"); run != "" {
			o.Holder += ", Terraform run " + run
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// LeaseKey is the store ID of the lease on an object of a kind by name:
// names are unique within a project, so two runs creating the same name
// contend for one lease.
func LeaseKey(kind, name string) string { return kind + "." + name }

// LeaseError is a refusal: another run holds the lease.
type LeaseError struct {
	Object string
	Held   Lease
}

func (e *LeaseError) Error() string {
	return fmt.Sprintf("%s is being changed by another run: %s holds it (%s) since %s; "+
		"try again when that run ends. If that run died, its lease lapses by itself at %s.",
		e.Object, e.Held.Holder, e.Held.Operation,
		e.Held.Since.UTC().Format(time.RFC3339), e.Held.Expires.UTC().Format(time.RFC3339))
}

func (e *LeaseError) Is(target error) bool { return target == ErrLeased }

// HeldLease is a lease this run holds; Release ends it.
type HeldLease struct {
	store Store
	key   string
	opts  LeaseOptions
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	lease Lease
}

// AcquireLease takes the lease on an object (its store kind and name) for an
// operation, or returns a *LeaseError naming the run that holds it. While
// held it is renewed in the background; Release ends it.
func AcquireLease(ctx context.Context, st Store, kind, name, operation string, opts LeaseOptions) (*HeldLease, error) {
	o := opts.withDefaults()
	key := LeaseKey(kind, name)
	object := fmt.Sprintf("%s %q", kindNoun(kind), name)
	if err := CheckLease(ctx, st, kind, name, o); err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	now := o.Now()
	host, _ := os.Hostname()
	l := Lease{Holder: o.Holder, Operation: operation, Since: now, Expires: now.Add(o.TTL), Token: hex.EncodeToString(tok),
		Host: host, PID: os.Getpid()}
	if err := st.Put(ctx, KindLease, key, l); err != nil {
		return nil, fmt.Errorf("writing the lease on %s: %w", object, err)
	}
	select {
	case <-time.After(o.Settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	held, err := readLease(ctx, st, key)
	if err != nil {
		return nil, err
	}
	if held == nil || held.Token != l.Token {
		if held == nil {
			held = &Lease{Holder: "a run that released it at once", Operation: operation, Since: now, Expires: now}
		}
		return nil, &LeaseError{Object: object, Held: *held}
	}
	h := &HeldLease{store: st, key: key, opts: o, lease: l, stop: make(chan struct{}), done: make(chan struct{})}
	go h.renew(context.WithoutCancel(ctx))
	return h, nil
}

// CheckLease returns a *LeaseError naming the holder when a live run holds
// the lease on an object, and nil when none does: a plan refuses early what
// its apply would be refused.
func CheckLease(ctx context.Context, st Store, kind, name string, opts LeaseOptions) error {
	o := opts.withDefaults()
	held, err := readLease(ctx, st, LeaseKey(kind, name))
	if err != nil {
		return err
	}
	if held != nil && o.Now().Before(held.Expires) && !held.dead() {
		return &LeaseError{Object: fmt.Sprintf("%s %q", kindNoun(kind), name), Held: *held}
	}
	return nil
}

func readLease(ctx context.Context, st Store, key string) (*Lease, error) {
	var l Lease
	if err := st.Get(ctx, KindLease, key, &l); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading lease %s: %w", key, err)
	}
	return &l, nil
}

// renew extends the lease every TTL/4 until Release.
func (h *HeldLease) renew(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.opts.TTL / 4)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		l := h.lease
		l.Expires = h.opts.Now().Add(h.opts.TTL)
		h.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, h.opts.TTL/4)
		err := h.store.Put(wctx, KindLease, h.key, l)
		cancel()
		if err == nil { // a failed renewal is tried again at the next tick
			h.mu.Lock()
			h.lease = l
			h.mu.Unlock()
		}
	}
}

// Release stops renewing and removes the lease if it is still this run's.
func (h *HeldLease) Release(ctx context.Context) error {
	close(h.stop)
	<-h.done
	held, err := readLease(ctx, h.store, h.key)
	if err != nil {
		return err
	}
	if held == nil || held.Token != h.lease.Token {
		return nil // lapsed and taken: not ours to remove
	}
	return h.store.Delete(ctx, KindLease, h.key)
}

// kindNoun names a store kind in messages.
func kindNoun(kind string) string {
	switch kind {
	case KindCluster:
		return "cluster"
	case KindClusterTemplate:
		return "cluster template"
	case KindNodeGroupTemplate:
		return "node group template"
	}
	return kind
}
