// Package openstack implements sahara.Infrastructure and sahara.Store on an
// OpenStack cloud with gophercloud v2: Nova servers, Neutron ports, floating
// IPs and security groups, Cinder volumes, and Swift for templates.
//
// Every object it creates carries the cluster's identity: Nova metadata and
// tags, Cinder metadata, Neutron tags plus a description (so an object created
// just before a crash, before its tags were set, is still found), and the
// name prefix saharagen-<cluster id> for keypairs and server groups.
package openstack

import (
	"context"
	"fmt"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Cloud is an authenticated OpenStack cloud; it implements sahara.Infrastructure.
type Cloud struct {
	pc        *gophercloud.ProviderClient
	eo        gophercloud.EndpointOpts
	overrides map[string]string
	opts      options
	log       *slog.Logger
	projectID string

	mu      sync.Mutex
	clients map[string]*gophercloud.ServiceClient
	// computeTags: the compute API accepts server tags (microversion ≥ 2.52).
	computeTags bool
	// flavors caches sahara.Flavor by the name or ID asked for, networks
	// sahara.Network likewise: what a run names is read once.
	flavors  sync.Map
	networks sync.Map
	// catalogMu guards flavorList, the flavors listed once to find names.
	catalogMu  sync.Mutex
	flavorList []flavors.Flavor
}

var _ sahara.Infrastructure = (*Cloud)(nil)

// New authenticates to the cloud described by cfg.
func New(ctx context.Context, cfg Config, opts ...Option) (*Cloud, error) {
	o := options{pollInterval: 2 * time.Second, parallelism: 8}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pc, eo, err := cfg.providerClient(ctx, &o)
	if err != nil {
		return nil, err
	}
	c := &Cloud{pc: pc, eo: eo, overrides: cfg.EndpointOverrides, opts: o, log: o.logger, clients: map[string]*gophercloud.ServiceClient{}}
	if tr, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := tr.ExtractProject(); err == nil && p != nil {
			c.projectID = p.ID
		}
	}
	return c, nil
}

// ProjectID is the project the token is scoped to ("" for unscoped tokens).
func (c *Cloud) ProjectID() string { return c.projectID }

// Service types of the clients.
const (
	svcCompute = "compute"
	svcNetwork = "network"
	svcVolume  = "volumev3"
	svcObject  = "object-store"
	svcImage   = "image"
	// svcOrchestration is Heat, used by the Heat engine (sahara/heat).
	svcOrchestration = "orchestration"
)

// gophercloudType is gophercloud's client type of each service type
// (it selects the microversion header).
var gophercloudType = map[string]string{
	svcCompute: "compute", svcNetwork: "network", svcVolume: "block-storage", svcObject: "object-store", svcImage: "image",
	svcOrchestration: "orchestration",
}

// client returns the service client of one service, created on first use
// so a cloud without, say, Cinder still serves clusters without volumes.
func (c *Cloud) client(ctx context.Context, svc string) (*gophercloud.ServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc := c.clients[svc]; sc != nil {
		return sc, nil
	}
	var sc *gophercloud.ServiceClient
	var err error
	switch svc {
	case svcCompute:
		sc, err = gcos.NewComputeV2(c.pc, c.eo)
	case svcNetwork:
		sc, err = gcos.NewNetworkV2(c.pc, c.eo)
	case svcVolume:
		sc, err = gcos.NewBlockStorageV3(c.pc, c.eo)
	case svcObject:
		sc, err = gcos.NewObjectStorageV1(c.pc, c.eo)
	case svcImage:
		sc, err = gcos.NewImageV2(c.pc, c.eo)
	case svcOrchestration:
		sc, err = gcos.NewOrchestrationV1(c.pc, c.eo)
	default:
		return nil, fmt.Errorf("unknown service %q", svc)
	}
	if u := c.overrides[svc]; u != "" {
		// The catalog may lack the service: build the client by hand.
		sc = &gophercloud.ServiceClient{ProviderClient: c.pc, Type: gophercloudType[svc]}
		err = nil
		sc.Endpoint = strings.TrimRight(u, "/") + "/"
		sc.ResourceBase = ""
		if svc == svcNetwork {
			sc.ResourceBase = sc.Endpoint + "v2.0/"
		}
	}
	if err != nil {
		if svc == svcObject {
			return nil, fmt.Errorf("%w: %w", ErrNoObjectStorage, err)
		}
		return nil, fmt.Errorf("the cloud has no %s endpoint: %w", svc, err)
	}
	if svc == svcCompute {
		c.negotiateCompute(ctx, sc)
	}
	c.clients[svc] = sc
	return sc, nil
}

// negotiateCompute picks microversion 2.64 (server tags, the server group
// policy field) when the cloud offers it, else the base API.
func (c *Cloud) negotiateCompute(ctx context.Context, sc *gophercloud.ServiceClient) {
	mv, err := utils.GetSupportedMicroversions(ctx, sc)
	if err == nil {
		if ok, _ := mv.IsSupported("2.64"); ok {
			sc.Microversion = "2.64"
			c.computeTags = true
			return
		}
	}
	c.log.Debug("compute API without microversion 2.64: no server tags", "error", err)
}

// ServiceClient returns the client of a service type ("compute",
// "network", "volumev3", "image", "object-store", "orchestration"), for
// engines built on this one (sahara/heat).
func (c *Cloud) ServiceClient(ctx context.Context, serviceType string) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, serviceType)
}

func (c *Cloud) compute(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, svcCompute)
}
func (c *Cloud) network(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, svcNetwork)
}
func (c *Cloud) volume(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, svcVolume)
}

// clusterTag is the Neutron tag and Nova server tag of a cluster's objects.
func clusterTag(id string) string { return sahara.TagCluster + "=" + id }

// isNotFound reports a 404 from any service.
func isNotFound(err error) bool { return gophercloud.ResponseCodeIs(err, 404) }
