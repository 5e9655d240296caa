package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

type diagsT = diag.Diagnostics

// Settings is the provider configuration in library terms.
type Settings struct {
	// OpenStack holds the auth and transport options (auth_url … max_retries)
	// as the cloud adapter declares them; empty fields mean "not set" (the
	// adapter then reads OS_* / clouds.yaml).
	OpenStack CloudConfig

	BastionHost, BastionUser, BastionPrivateKey string
	BastionHostKey                              string
	UseAgent                                    bool
	SSHConnectionTimeout                        time.Duration
	// AccessibleTimeout bounds the wait for an instance to accept SSH (0: the engine's default).
	AccessibleTimeout time.Duration
	// DeleteTimeout bounds each wait of a deletion for the cloud (0: the adapter's default).
	DeleteTimeout          time.Duration
	TemplateStoreContainer string
	// RecordStore is one of recordStores.
	RecordStore string
	// Engine is one of engines: the default of clusters that set none.
	Engine      string
	Parallelism int
	// Logger is for the long-lived cloud adapter and SSH remote (set by the provider, not the block).
	Logger *slog.Logger
}

func (s *Settings) applyDefaults() {
	if s.TemplateStoreContainer == "" {
		s.TemplateStoreContainer = os.Getenv("SAHARAGEN_TEMPLATE_STORE_CONTAINER")
	}
	if s.TemplateStoreContainer == "" {
		s.TemplateStoreContainer = DefaultTemplateContainer
	}
	if s.RecordStore == "" {
		s.RecordStore = os.Getenv("SAHARAGEN_RECORD_STORE")
	}
	if s.RecordStore == "" {
		s.RecordStore = recordStoreAuto
	}
	if s.Engine == "" {
		s.Engine = os.Getenv("SAHARAGEN_ENGINE")
	}
	if s.Engine == "" {
		s.Engine = engineDirect
	}
	if s.Parallelism == 0 {
		s.Parallelism = 16
	}
}

// Engines: what provisions a cluster's cloud objects (the engine setting).
const (
	engineDirect = "direct"
	engineHeat   = "heat"
)

var engines = []string{engineDirect, engineHeat}

// engineOf is the engine of a cluster record ("" in records older than
// the setting: the direct engine).
func engineOf(c *sahara.Cluster) string {
	if c.Engine == "" {
		return engineDirect
	}
	return c.Engine
}

// Where records are kept (the record_store setting).
const (
	recordStoreAuto     = "auto"
	recordStoreObject   = "object_storage"
	recordStoreKeystone = "keystone_credentials"
)

var recordStores = []string{recordStoreAuto, recordStoreObject, recordStoreKeystone}

// ImageRegistry is the Glance side of saharagen_image: Sahara's image
// registry lives in image properties (_sahara_username, _sahara_description,
// _sahara_tag_<tag>). sahara/openstack's cloud implements it.
type ImageRegistry interface {
	// GetImage reads the image's name, Sahara username and Sahara tags; a
	// missing image is an error matching sahara.ErrNotFound.
	GetImage(ctx context.Context, imageID string) (sahara.Image, error)
	// ImageDescription reads _sahara_description ("" when unset).
	ImageDescription(ctx context.Context, imageID string) (string, error)
	// RegisterImage sets _sahara_username and _sahara_description and makes
	// the _sahara_tag_* properties exactly tags (others are removed).
	RegisterImage(ctx context.Context, imageID, username, description string, tags []string) error
	// UnregisterImage removes every _sahara_* property; a missing image counts as done.
	UnregisterImage(ctx context.Context, imageID string) error
}

// Backend is the cloud side of the provider, created on first use.
type Backend struct {
	// Infra is the direct engine's; Engines the others by name (engines).
	Infra   sahara.Infrastructure
	Engines map[string]sahara.Infrastructure
	Remotes sahara.RemoteConnector
	Store   sahara.Store
	// StoreName says where Store keeps records, for diagnostics.
	StoreName string
	// Images is nil when the cloud adapter has no image registry.
	Images ImageRegistry
}

// For is the backend of a cluster of the given engine: Infra is that
// engine's. A backend without Engines (the tests' fake cloud) serves every
// engine with its one Infra.
func (b *Backend) For(engine string) *Backend {
	if b == nil || len(b.Engines) == 0 || engine == "" || engine == engineDirect {
		return b
	}
	cp := *b
	cp.Infra = b.Engines[engine]
	return &cp
}

// ForCluster is For(the cluster's engine).
func (b *Backend) ForCluster(c *sahara.Cluster) *Backend { return b.For(engineOf(c)) }

// Connector builds the Backend from the settings; it may contact the cloud.
type Connector func(ctx context.Context, s Settings) (*Backend, error)

// providerData is what resources and data sources receive in Configure.
type providerData struct {
	settings Settings
	plugins  *sahara.Registry
	connect  Connector

	mu      sync.Mutex
	backend *Backend
	logCtx  logContext
	// vault holds the clusters' secrets, which the store never sees.
	vault sahara.SecretVault
}

func newProviderData(s Settings, connect Connector) (*providerData, error) {
	reg, err := sahara.NewRegistry(registeredPlugins()...)
	if err != nil {
		return nil, err
	}
	d := &providerData{settings: s, plugins: reg, connect: connect}
	d.settings.Logger = d.logCtx.logger()
	return d, nil
}

// Backend connects to the cloud once; a failed attempt is retried next time.
func (d *providerData) Backend(ctx context.Context) (*Backend, diagsT) {
	var diags diagsT
	d.logCtx.set(ctx) // the cloud adapter's and SSH remote's lines go to this operation's log
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.backend != nil {
		return d.backend, nil
	}
	tflogInfo(ctx, "Connecting to OpenStack", map[string]any{"template_store_container": d.settings.TemplateStoreContainer, "record_store": d.settings.RecordStore},
		d.settings.OpenStack.Secrets()...)
	b, err := d.connect(ctx, d.settings)
	if err != nil {
		diags.AddError("OpenStack Connection Error",
			"The provider could not connect to OpenStack. Check the provider block, the OS_* environment variables "+
				"or the clouds.yaml entry selected by `cloud`/OS_CLOUD, and that the identity endpoint is reachable.\n\n"+err.Error())
		return nil, diags
	}
	b.Store = sahara.SecretsApart(b.Store, &d.vault)
	d.backend = b
	return b, nil
}

// storeName says where records are kept.
func (d *providerData) storeName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.backend != nil && d.backend.StoreName != "" {
		return d.backend.StoreName
	}
	return fmt.Sprintf("the record store %q (template_store_container)", d.settings.TemplateStoreContainer)
}

// Engine returns an engine for one operation whose log lines go to the tflog
// sink of ctx with the given fields (e.g. cluster_id).
func (d *providerData) Engine(ctx context.Context, b *Backend, fields map[string]any, observer sahara.Observer) (*sahara.Engine, error) {
	opts := sahara.Options{
		Plugins:     d.plugins,
		Logger:      newTFLogger(ctx, fields),
		Observer:    observer,
		Parallelism: d.settings.Parallelism,

		AccessibleTimeout: d.settings.AccessibleTimeout,
	}
	if b != nil {
		opts.Infra, opts.Remotes = b.Infra, b.Remotes
	}
	return sahara.New(opts)
}

// OfflineEngine is an engine without a cloud, for plan-time validation.
func (d *providerData) OfflineEngine(ctx context.Context) (*sahara.Engine, error) {
	return d.Engine(ctx, nil, nil, nil)
}

// providerDataFrom converts the Configure payload; nil until the provider is configured.
func providerDataFrom(v any, diags *diagsT) *providerData {
	if v == nil {
		return nil
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", v))
		return nil
	}
	return d
}

var errNoImageRegistry = errors.New("the cloud adapter has no image registry")
