package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// Unit tests drive the real Terraform CLI (resource.UnitTest) against a
// provider whose cloud is sahara/fake, injected through newWithConnector.

const (
	testImageID   = "11111111-2222-3333-4444-555555555555"
	testFlavorID  = "m1.small"
	testNetworkID = "net-1"
)

// testCloud is the in-memory cloud of one test.
type testCloud struct {
	infra   *sfake.Infra
	remotes *sfake.Connector
	store   *sfake.Store
	images  *memImages
	connect int
	// wrapStore, when set, puts a store in front of store (to inject faults).
	wrapStore func(sahara.Store) sahara.Store
}

func newTestCloud(t testing.TB) *testCloud {
	t.Helper()
	img := sahara.Image{ID: testImageID, Name: "fake-image", Username: "ubuntu", Tags: []string{"fake", fake.Version}}
	return &testCloud{
		infra:   sfake.NewInfra(img),
		remotes: sfake.NewConnector(),
		store:   sfake.NewStore(),
		images:  &memImages{images: map[string]*memImage{testImageID: {name: "fake-image"}}},
	}
}

func (c *testCloud) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	connect := func(ctx context.Context, s Settings) (*Backend, error) {
		c.connect++
		var st sahara.Store = c.store
		if c.wrapStore != nil {
			st = c.wrapStore(st)
		}
		return &Backend{Infra: c.infra, Remotes: c.remotes, Store: st, Images: c.images}, nil
	}
	return map[string]func() (tfprotov6.ProviderServer, error){
		"saharagen": providerserver.NewProtocol6WithError(newWithConnector("test", connect)()),
	}
}

// ids lists the stored objects of a kind.
func (c *testCloud) ids(t *testing.T, kind string) []string {
	t.Helper()
	ids, err := c.store.List(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// memImage is a Glance image's Sahara properties.
type memImage struct {
	name, username, description string
	tags                        []string
}

// memImages is an in-memory ImageRegistry for unit tests of the resource logic.
type memImages struct {
	mu     sync.Mutex
	images map[string]*memImage
}

func (m *memImages) get(id string) (*memImage, error) {
	im, ok := m.images[id]
	if !ok {
		return nil, fmt.Errorf("image %s: %w", id, sahara.ErrNotFound)
	}
	return im, nil
}

func (m *memImages) GetImage(_ context.Context, id string) (sahara.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	im, err := m.get(id)
	if err != nil {
		return sahara.Image{}, err
	}
	return sahara.Image{ID: id, Name: im.name, Username: im.username, Tags: append([]string(nil), im.tags...)}, nil
}

func (m *memImages) ImageDescription(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	im, err := m.get(id)
	if err != nil {
		return "", err
	}
	return im.description, nil
}

func (m *memImages) RegisterImage(_ context.Context, id, username, description string, tags []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	im, err := m.get(id)
	if err != nil {
		return err
	}
	im.username, im.description = username, description
	im.tags = append([]string(nil), tags...)
	sort.Strings(im.tags)
	return nil
}

func (m *memImages) UnregisterImage(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if im, ok := m.images[id]; ok {
		im.username, im.description, im.tags = "", "", nil
	}
	return nil
}

// hcl joins configuration lines after the provider block.
func hcl(parts ...string) string {
	return "provider \"saharagen\" {}\n" + strings.Join(parts, "\n")
}

// msgRE matches msg in Terraform's output, which wraps long lines; the
// attribute's name must appear before it (the source line Terraform quotes).
func msgRE(attr, msg string) *regexp.Regexp {
	words := strings.Fields(msg)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(`(?s)` + attr + `.*` + strings.Join(words, `\s+`))
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// pathMsgRE matches msg followed by the attribute path the diagnostic names.
func pathMsgRE(msg, attrPath string) *regexp.Regexp {
	re := msgRE("", msg).String()
	return regexp.MustCompile(re + `.*Attribute:\s+` + regexp.QuoteMeta(attrPath))
}

// The unit tests' store is memory: a read after a write sees it at once, so
// a lease needs no real pause to settle.
func init() { leaseOptions.Settle = 5 * time.Millisecond }
