package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
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
	// settings are those of the last connection.
	settings Settings
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
		c.settings = s
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

// nonAuthAttributes are the provider attributes that are not options of the
// cloud adapter's configuration.
var nonAuthAttributes = map[string]bool{"ssh": true, "template_store_container": true, "record_store": true, "engine": true, "parallelism": true, "delete_instances_timeout": true}

// cloudConfigNotInSchema are options of the cloud adapter the provider block
// does not offer (they still come from clouds.yaml or OS_*).
var cloudConfigNotInSchema = map[string]bool{"UserAgent": true}

// setAttribute sets one field of providerModel to a non-null value unique to name.
func setAttribute(t *testing.T, f reflect.Value, name string) {
	t.Helper()
	switch f.Interface().(type) {
	case types.String:
		f.Set(reflect.ValueOf(types.StringValue("value-of-" + name)))
	case types.Bool:
		f.Set(reflect.ValueOf(types.BoolValue(true)))
	case types.Int64:
		f.Set(reflect.ValueOf(types.Int64Value(int64(len(name)))))
	case types.Map:
		f.Set(reflect.ValueOf(types.MapValueMust(types.StringType, map[string]attr.Value{"compute": types.StringValue("value-of-" + name)})))
	default:
		t.Fatalf("attribute %s: no test value for %s", name, f.Type())
	}
}

// TestProviderModel_EveryAuthAttributeReachesCloudConfig: each auth or
// transport attribute of the provider block, set alone, changes the cloud
// adapter's configuration; set together, they fill every option the schema
// offers. A new attribute or Config field the conversion forgets fails here.
func TestProviderModel_EveryAuthAttributeReachesCloudConfig(t *testing.T) {
	ctx := context.Background()
	schemaAttrs := providerSchema().Attributes
	empty, diags := providerModel{}.settings(ctx)
	if diags.HasError() {
		t.Fatal(diags)
	}
	var all providerModel
	mt := reflect.TypeFor[providerModel]()
	for i := 0; i < mt.NumField(); i++ {
		name := mt.Field(i).Tag.Get("tfsdk")
		if _, ok := schemaAttrs[name]; !ok {
			t.Errorf("providerModel field %s: %q is not a schema attribute", mt.Field(i).Name, name)
		}
		if nonAuthAttributes[name] {
			continue
		}
		var one providerModel
		setAttribute(t, reflect.ValueOf(&one).Elem().Field(i), name)
		setAttribute(t, reflect.ValueOf(&all).Elem().Field(i), name)
		s, diags := one.settings(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		if reflect.DeepEqual(s.OpenStack, empty.OpenStack) {
			t.Errorf("attribute %s does not reach the cloud configuration", name)
		}
		s.OpenStack = empty.OpenStack
		if !reflect.DeepEqual(s, empty) {
			t.Errorf("attribute %s changes Settings outside the cloud configuration: %+v", name, s)
		}
	}
	s, diags := all.settings(ctx)
	if diags.HasError() {
		t.Fatal(diags)
	}
	cfg := reflect.ValueOf(s.OpenStack)
	for i := 0; i < cfg.NumField(); i++ {
		name := cfg.Type().Field(i).Name
		switch set := !cfg.Field(i).IsZero(); {
		case set && cloudConfigNotInSchema[name]:
			t.Errorf("cloud configuration field %s is set by the provider block but listed in cloudConfigNotInSchema", name)
		case !set && !cloudConfigNotInSchema[name]:
			t.Errorf("cloud configuration field %s is set by no provider attribute: add one, or list it in cloudConfigNotInSchema", name)
		}
	}
	if *s.OpenStack.Insecure != true || s.OpenStack.ClientCertFile != "value-of-cert" || s.OpenStack.EndpointOverrides["compute"] != "value-of-endpoint_overrides" {
		t.Errorf("cloud configuration %+v", s.OpenStack)
	}
	if secrets := strings.Join(s.OpenStack.Secrets(), " "); secrets != "value-of-password value-of-token value-of-application_credential_secret" {
		t.Errorf("secrets masked in logs: %q", secrets)
	}
}

// TestProviderModel_MaxRetriesDefaultsWhenUnset: an unset max_retries leaves
// the adapter's default (retries on); 0 is kept and turns retries off; the
// description states the adapter's default.
func TestProviderModel_MaxRetriesDefaultsWhenUnset(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		in   types.Int64
		want *int
	}{
		{types.Int64Null(), nil},
		{types.Int64Value(0), new(0)},
		{types.Int64Value(2), new(2)},
	} {
		s, diags := providerModel{MaxRetries: tc.in}.settings(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		if !reflect.DeepEqual(s.OpenStack.MaxRetries, tc.want) {
			t.Errorf("max_retries %s: MaxRetries %v, want %v", tc.in, s.OpenStack.MaxRetries, tc.want)
		}
	}
	desc := providerSchema().Attributes["max_retries"].GetMarkdownDescription()
	if want := fmt.Sprintf("Default %d ", openstack.DefaultMaxRetries); !strings.Contains(desc, want) {
		t.Errorf("max_retries description does not say %q: %s", want, desc)
	}
}

// ssh.accessible_timeout is parsed into the settings the engine is built
// with; unset leaves the engine's default, which the docs state.
func TestProviderModel_AccessibleTimeout(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		in   *sshModel
		want time.Duration
	}{
		{nil, 0},
		{&sshModel{AccessibleTimeout: types.StringValue("90s")}, 90 * time.Second},
	} {
		s, diags := providerModel{SSH: tc.in}.settings(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		if s.AccessibleTimeout != tc.want {
			t.Errorf("accessible_timeout %v: %s, want %s", tc.in, s.AccessibleTimeout, tc.want)
		}
	}
	if _, diags := (providerModel{SSH: &sshModel{AccessibleTimeout: types.StringValue("ten minutes")}}).settings(ctx); !diags.HasError() {
		t.Error(`accessible_timeout "ten minutes" was accepted`)
	}
	if sahara.DefaultAccessibleTimeout != 10*time.Minute {
		t.Errorf("the engine's default accessible timeout is %s; the docs say 10m", sahara.DefaultAccessibleTimeout)
	}
}

// delete_instances_timeout is parsed into the settings the cloud adapter is
// built with; unset leaves the adapter's default, which the docs state.
func TestProviderModel_DeleteInstancesTimeout(t *testing.T) {
	ctx := context.Background()
	s, diags := providerModel{DeleteInstancesTimeout: types.StringValue("3m")}.settings(ctx)
	if diags.HasError() || s.DeleteTimeout != 3*time.Minute {
		t.Errorf("delete_instances_timeout 3m: %s (%v)", s.DeleteTimeout, diags)
	}
	if s, _ := (providerModel{}).settings(ctx); s.DeleteTimeout != 0 {
		t.Errorf("unset: %s, want 0 (the adapter's default)", s.DeleteTimeout)
	}
	if _, diags := (providerModel{DeleteInstancesTimeout: types.StringValue("soon")}).settings(ctx); !diags.HasError() {
		t.Error(`delete_instances_timeout "soon" was accepted`)
	}
	if openstack.DefaultDeleteTimeout != 10*time.Minute {
		t.Errorf("the adapter's default delete timeout is %s; the docs say 10m", openstack.DefaultDeleteTimeout)
	}
}

// The provider block's authentication and transport settings, through the
// real Terraform CLI: domain, system scope, endpoint type, certificates as
// PEM contents, and a User-Agent naming saharagen and Terraform.
func TestProvider_SettingsThroughTheCLI(t *testing.T) {
	cloud := newTestCloud(t)
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	cfg := fmt.Sprintf(`
provider "saharagen" {
  domain_id      = "d-1"
  default_domain = "dflt"
  system_scope   = true
  endpoint_type  = "internal"
  cacert_file    = %q
  record_store   = "keystone_credentials"
}
resource "saharagen_node_group_template" "worker" {
  name           = "worker"
  plugin_name    = "fake"
  plugin_version = "0.1"
  flavor_id      = "m1.small"
  node_processes = ["datanode"]
}`, ca)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config:      strings.Replace(cfg, `"internal"`, `"private"`, 1),
				ExpectError: regexp.MustCompile(`(?s)endpoint_type.*value must be one of`),
			},
			{
				Config:      strings.Replace(cfg, `"keystone_credentials"`, `"swift"`, 1),
				ExpectError: regexp.MustCompile(`(?s)record_store.*value must be one of.*"auto".*"object_storage".*"keystone_credentials"`),
			},
			{
				Config: cfg,
				Check: func(*terraform.State) error {
					o := cloud.settings.OpenStack
					if o.DomainID != "d-1" || o.DefaultDomain != "dflt" || !o.SystemScope || o.EndpointType != "internal" || o.CACertFile != ca ||
						cloud.settings.RecordStore != "keystone_credentials" {
						return fmt.Errorf("settings reached the adapter as %+v", o)
					}
					if !regexp.MustCompile(`^terraform-provider-saharagen/test Terraform/\d+\.\d+`).MatchString(o.UserAgent) {
						return fmt.Errorf("User-Agent %q", o.UserAgent)
					}
					return nil
				},
			},
		},
	})
}

// TestProviderModel_Engine: direct by default, SAHARAGEN_ENGINE when the
// block sets none, the block's over it; anything else is refused.
func TestProviderModel_Engine(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SAHARAGEN_ENGINE", "")
	if s, diags := (providerModel{}).settings(ctx); diags.HasError() || s.Engine != engineDirect {
		t.Errorf("default engine %q (%v), want direct", s.Engine, diags)
	}
	t.Setenv("SAHARAGEN_ENGINE", engineHeat)
	if s, _ := (providerModel{}).settings(ctx); s.Engine != engineHeat {
		t.Errorf("engine %q with SAHARAGEN_ENGINE=heat", s.Engine)
	}
	if s, _ := (providerModel{Engine: types.StringValue(engineDirect)}).settings(ctx); s.Engine != engineDirect {
		t.Errorf("engine %q: the block's direct must win over SAHARAGEN_ENGINE", s.Engine)
	}
	if _, diags := (providerModel{Engine: types.StringValue("nova")}).settings(ctx); !diags.HasError() {
		t.Error("engine \"nova\" accepted")
	}
}

// TestBackend_ForEngine: a cluster's engine picks its Infrastructure; a
// record without one is the direct engine's.
func TestBackend_ForEngine(t *testing.T) {
	direct, heat := sfake.NewInfra(), sfake.NewInfra()
	b := &Backend{Infra: direct, Engines: map[string]sahara.Infrastructure{engineHeat: heat}}
	for _, tc := range []struct {
		engine string
		want   sahara.Infrastructure
	}{{"", direct}, {engineDirect, direct}, {engineHeat, heat}} {
		c := &sahara.Cluster{Engine: tc.engine}
		if got := b.ForCluster(c).Infra; got != tc.want {
			t.Errorf("engine %q: wrong infrastructure", tc.engine)
		}
	}
	if b.Infra != direct {
		t.Error("For changed the backend it was called on")
	}
	if single := (&Backend{Infra: direct}); single.For(engineHeat).Infra != direct {
		t.Error("a backend with one Infra must serve every engine")
	}
}
