// Package testbed gives tests access to the project's local OpenStack testbed
// (internal/testbed/scripts/testbed-up.sh, `make testbed-up`): credentials,
// gophercloud clients, and counters of the OpenStack objects a test left
// behind.
//
// Tests that need the testbed call Require, which skips them unless
// SAHARAGEN_TESTBED=1 and fails them (never skips) when the testbed is
// enabled but not reachable:
//
//	func TestSomething(t *testing.T) {
//		env := testbed.Require(t)
//		pc, err := env.ProviderClient(ctx, false)
//		...
//		env.AssertNoLeftovers(t, clusterID)
//	}
package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/credentials"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/gophercloud/gophercloud/v2/openstack/orchestration/v1/stacks"
)

// EnvVar enables the testbed tests when set to "1".
const EnvVar = "SAHARAGEN_TESTBED"

// DirEnvVar overrides the directory holding env.json (default <repo>/.testbed).
const DirEnvVar = "SAHARAGEN_TESTBED_DIR"

// AutoUpEnvVar, when "1", lets Require run testbed-up.sh if the testbed is
// enabled but not reachable.
const AutoUpEnvVar = "SAHARAGEN_TESTBED_AUTOUP"

// InstancesDir holds each testbed instance's overlay (<server id>/upper is
// what the instance wrote), as virt.py keeps it.
const InstancesDir = "/var/lib/saharagen-testbed/instances"

// Tag keys of the project's tagging convention.
const (
	// ClusterTag is the Nova metadata key, the Cinder metadata key and the
	// Neutron tag prefix ("saharagen_cluster=<id>") of a cluster's objects.
	ClusterTag = "saharagen_cluster"
	// NodeGroupTag is the Nova metadata key of the node group name.
	NodeGroupTag = "saharagen_node_group"
)

// Kinds of objects counted by Leftovers.
var Kinds = []string{"stacks", "servers", "ports", "floating_ips", "volumes", "security_groups", "server_groups", "keypairs", "objects", "records"}

// Env is what testbed-up.sh wrote to .testbed/env.json.
type Env struct {
	Dir        string `json:"-"`
	CloudsYAML string `json:"clouds_yaml"`
	Cloud      string `json:"cloud"`
	AdminCloud string `json:"admin_cloud"`

	AuthURL           string `json:"auth_url"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	ProjectName       string `json:"project_name"`
	ProjectID         string `json:"project_id"`
	UserDomainName    string `json:"user_domain_name"`
	ProjectDomainName string `json:"project_domain_name"`
	Region            string `json:"region"`

	AdminUsername    string `json:"admin_username"`
	AdminPassword    string `json:"admin_password"`
	AdminProjectName string `json:"admin_project_name"`

	FlavorID            string            `json:"flavor_id"`   // m1.small: 1 vCPU, 512 MB, 1 GB
	FlavorName          string            `json:"flavor_name"` // m1.small
	Flavors             map[string]string `json:"flavors"`     // name -> id
	NetworkID           string            `json:"network_id"`  // the tenant network
	NetworkName         string            `json:"network_name"`
	SubnetID            string            `json:"subnet_id"`
	SubnetCIDR          string            `json:"subnet_cidr"`
	RouterID            string            `json:"router_id"`
	ExternalNetworkID   string            `json:"external_network_id"` // floating IP pool
	ExternalNetworkName string            `json:"external_network_name"`
	ExternalCIDR        string            `json:"external_cidr"` // where floating IPs come from
	ImageUser           string            `json:"image_user"`    // ubuntu
	DaskVersion         string            `json:"dask_version"`  // distributed.__version__ of Debian's python3-distributed
	Images              map[string]string `json:"images"`        // plugin name -> image id
	ImageNames          map[string]string `json:"image_names"`   // plugin name -> image name
	ComputeHosts        int               `json:"compute_hosts"`

	// The second test project, a cloud without object storage: the same
	// user, images, flavors and network (shared with it by Neutron RBAC;
	// RouterID is the main project's router, not visible there), but its
	// tokens' catalog has no object-store endpoint (Keystone endpoint
	// filtering). NoStore returns the Env that points at it. Empty in an
	// env.json written before the project existed.
	NoStoreCloud       string `json:"nostore_cloud"`        // saharagen-testbed-nostore
	NoStoreProjectName string `json:"nostore_project_name"` // saharagen-nostore
	NoStoreProjectID   string `json:"nostore_project_id"`

	mu      sync.Mutex
	clients map[bool]*Clients // cached by admin flag (tokens re-authenticate)
}

// Enabled reports whether the testbed tests are enabled (SAHARAGEN_TESTBED=1).
func Enabled() bool { return os.Getenv(EnvVar) == "1" }

// Require returns the testbed for a test. Not enabled: the test is skipped.
// Enabled but unreachable (no env.json, or no Keystone token), or its
// security group daemon is dead: the test fails.
func Require(t testing.TB) *Env {
	t.Helper()
	if !Enabled() {
		t.Skipf("testbed test: set %s=1 (after `make testbed-up`) to run it", EnvVar)
	}
	env, err := Load()
	if err == nil {
		err = env.Ping(context.Background())
	}
	if err == nil {
		err = checkSGSync()
	}
	if err != nil && os.Getenv(AutoUpEnvVar) == "1" {
		t.Logf("testbed not reachable (%v): running testbed-up.sh", err)
		if uerr := Up(context.Background()); uerr != nil {
			t.Fatalf("testbed: %s=1 but testbed-up failed: %v", EnvVar, uerr)
		}
		env, err = Load()
		if err == nil {
			err = env.Ping(context.Background())
		}
		if err == nil {
			err = checkSGSync()
		}
	}
	if err != nil {
		t.Fatalf("testbed: %s=1 but the testbed is not usable (run `make testbed-up`): %v", EnvVar, err)
	}
	return env
}

// RequireNoStore is Require for a test that runs in the project without
// object storage: the Env returned by NoStore. It fails (never skips) when the
// testbed is enabled but its env.json has no such project (bootstrapped
// before it existed: run `make testbed-up`) or its user gets no token there.
func RequireNoStore(t testing.TB) *Env {
	t.Helper()
	ns := Require(t).NoStore()
	if ns == nil {
		t.Fatalf("testbed: %s=1 but env.json has no project without object storage (nostore_*): run `make testbed-up`", EnvVar)
	}
	if err := ns.Ping(context.Background()); err != nil {
		t.Fatalf("testbed: project %s (no object storage) is not usable (run `make testbed-up`): %v", ns.ProjectName, err)
	}
	return ns
}

// NoStore returns a copy of the Env for the testbed's second project,
// saharagen-nostore, whose tokens' catalog has no object-store endpoint:
// Cloud, ProjectName and ProjectID name that project, everything else
// (user, images, flavors, network, external network) is the same. A provider
// configured with its Cloud runs on a cloud without object storage;
// Leftovers, AssertNoLeftovers and SetQuota act on that project; its Clients
// have no Object client. NoStore of that copy is an equal copy. Nil when
// env.json has no such project (written before it existed).
func (e *Env) NoStore() *Env {
	if e.NoStoreProjectID == "" || e.NoStoreCloud == "" {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("testbed: copying the Env: %v", err)) // only plain fields: cannot happen
	}
	var ns Env
	if err := json.Unmarshal(b, &ns); err != nil {
		panic(fmt.Sprintf("testbed: copying the Env: %v", err))
	}
	ns.Dir = e.Dir
	ns.Cloud, ns.ProjectName, ns.ProjectID = e.NoStoreCloud, e.NoStoreProjectName, e.NoStoreProjectID
	return &ns
}

// RepoRoot finds the repository root (the directory holding go.mod) from the
// working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testbed: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Dir is the testbed directory: $SAHARAGEN_TESTBED_DIR or <repo root>/.testbed.
func Dir() (string, error) {
	if d := os.Getenv(DirEnvVar); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".testbed"), nil
}

// Load reads env.json from Dir().
func Load() (*Env, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "env.json"))
	if err != nil {
		return nil, fmt.Errorf("testbed: %w (run `make testbed-up`)", err)
	}
	var e Env
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("testbed: parsing %s/env.json: %w", dir, err)
	}
	e.Dir = dir
	if e.CloudsYAML == "" {
		e.CloudsYAML = filepath.Join(dir, "clouds.yaml")
	}
	return &e, nil
}

// Up runs internal/testbed/scripts/testbed-up.sh (idempotent; a few seconds
// when the testbed is already up, minutes otherwise).
func Up(ctx context.Context) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "internal/testbed/scripts/testbed-up.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testbed-up.sh: %w\n%s", err, tail(string(out), 3000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// AuthOptions returns the Keystone password credentials of the test user
// (admin=false) or of the cloud admin (admin=true).
func (e *Env) AuthOptions(admin bool) gophercloud.AuthOptions {
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: e.AuthURL,
		Username:         e.Username,
		Password:         e.Password,
		DomainName:       e.UserDomainName,
		Scope: &gophercloud.AuthScope{
			ProjectName: e.ProjectName,
			DomainName:  e.ProjectDomainName,
		},
	}
	if admin {
		ao.Username, ao.Password = e.AdminUsername, e.AdminPassword
		ao.Scope.ProjectName = e.AdminProjectName
	}
	return ao
}

// ProviderClient authenticates (gophercloud v2) as the test user or as admin.
func (e *Env) ProviderClient(ctx context.Context, admin bool) (*gophercloud.ProviderClient, error) {
	ao := e.AuthOptions(admin)
	ao.AllowReauth = true
	pc, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("testbed: keystone auth at %s as %s: %w", e.AuthURL, ao.Username, err)
	}
	return pc, nil
}

// Ping checks that Keystone issues a token for the test user.
func (e *Env) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := e.ProviderClient(ctx, false)
	return err
}

func (e *Env) endpoint() gophercloud.EndpointOpts {
	return gophercloud.EndpointOpts{Region: e.Region, Availability: gophercloud.AvailabilityPublic}
}

// Clients are the service clients of one identity. Object is nil when the
// token's catalog has no object-store endpoint (the Env of NoStore).
// Orchestration is Heat's.
type Clients struct {
	Compute, Network, Volume, Object, Image, Orchestration *gophercloud.ServiceClient
}

// Clients returns compute, network, block-storage v3, object-store and image
// clients for the test user (admin=false) or admin (Object: nil when the
// catalog has no object-store endpoint). They are cached in the
// Env (one Keystone login per identity; tokens renew themselves) and shared:
// copy a ServiceClient before changing its Microversion.
func (e *Env) Clients(ctx context.Context, admin bool) (*Clients, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.clients[admin]; c != nil {
		return c, nil
	}
	c, err := e.newClients(ctx, admin)
	if err != nil {
		return nil, err
	}
	if e.clients == nil {
		e.clients = map[bool]*Clients{}
	}
	e.clients[admin] = c
	return c, nil
}

func (e *Env) newClients(ctx context.Context, admin bool) (*Clients, error) {
	pc, err := e.ProviderClient(ctx, admin)
	if err != nil {
		return nil, err
	}
	eo := e.endpoint()
	var c Clients
	if c.Compute, err = openstack.NewComputeV2(pc, eo); err != nil {
		return nil, err
	}
	c.Compute.Microversion = "2.64"
	if c.Network, err = openstack.NewNetworkV2(pc, eo); err != nil {
		return nil, err
	}
	if c.Volume, err = openstack.NewBlockStorageV3(pc, eo); err != nil {
		return nil, err
	}
	if c.Object, err = openstack.NewObjectStorageV1(pc, eo); err != nil {
		var nf *gophercloud.ErrEndpointNotFound
		if !errors.As(err, &nf) {
			return nil, err
		}
		c.Object = nil // a project without object storage (NoStore)
	}
	if c.Image, err = openstack.NewImageV2(pc, eo); err != nil {
		return nil, err
	}
	if c.Orchestration, err = openstack.NewOrchestrationV1(pc, eo); err != nil {
		return nil, fmt.Errorf("testbed: no orchestration (Heat) endpoint; run make testbed-up: %w", err)
	}
	return &c, nil
}

// Counts maps an object kind (see Kinds) to a number of objects.
type Counts map[string]int

// Total is the sum over all kinds.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// String lists the non-zero kinds, e.g. "servers=2 ports=2".
func (c Counts) String() string {
	var parts []string
	for _, k := range Kinds {
		if c[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// Leftovers counts the OpenStack objects of the Env's test project (the main
// one, or NoStore's: each Env counts its own). With clusterID
// "" it counts everything the testbed bootstrap did not create (Heat stacks, servers,
// ports except router/DHCP/network-owned ones, floating IPs, volumes,
// security groups except "default", server groups, keypairs of the test user
// — per user, so the same in both projects —, objects in every Swift
// container of the project's account, which is counted even when the
// project's catalog has no object-store endpoint). With a cluster id it counts only that
// cluster's objects: stacks tagged saharagen_cluster=<id> (the Heat
// engine's; what a stack holds carries no cluster mark and is the stack's
// until the stack is gone), Nova metadata / Cinder metadata saharagen_cluster=<id>,
// Neutron tag saharagen_cluster=<id> (and ports of the cluster's servers),
// keypairs and server groups named saharagen-<id>..., Swift objects named
// clusters/<id>... .
func (e *Env) Leftovers(ctx context.Context, clusterID string) (Counts, error) {
	c, err := e.Clients(ctx, false)
	if err != nil {
		return nil, err
	}
	counts := Counts{}
	for _, k := range Kinds {
		counts[k] = 0
	}
	tag := ClusterTag + "=" + clusterID
	prefix := "saharagen-" + clusterID

	// Heat stacks (not nested ones; a deleted stack is not listed). Heat
	// hides the stacks tagged data-processing-cluster (Sahara's tag; its
	// hidden_stack_tags) from lists unless show_hidden.
	pages, err := stacks.List(c.Orchestration, stacks.ListOpts{ShowHidden: true}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing stacks: %w", err)
	}
	stl, err := stacks.ExtractStacks(pages)
	if err != nil {
		return nil, err
	}
	for _, st := range stl {
		if clusterID == "" || hasTag(st.Tags, tag) {
			counts["stacks"]++
		}
	}

	// servers
	pages, err = servers.List(c.Compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing servers: %w", err)
	}
	srvs, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, err
	}
	clusterServers := map[string]bool{}
	for _, s := range srvs {
		if clusterID == "" || s.Metadata[ClusterTag] == clusterID {
			counts["servers"]++
			clusterServers[s.ID] = true
		}
	}

	// ports
	pages, err = ports.List(c.Network, ports.ListOpts{ProjectID: e.ProjectID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing ports: %w", err)
	}
	pl, err := ports.ExtractPorts(pages)
	if err != nil {
		return nil, err
	}
	for _, p := range pl {
		if clusterID == "" {
			if !strings.HasPrefix(p.DeviceOwner, "network:") {
				counts["ports"]++
			}
		} else if hasTag(p.Tags, tag) || (p.DeviceID != "" && clusterServers[p.DeviceID]) {
			counts["ports"]++
		}
	}

	// floating IPs
	pages, err = floatingips.List(c.Network, floatingips.ListOpts{ProjectID: e.ProjectID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing floating IPs: %w", err)
	}
	fl, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil {
		return nil, err
	}
	for _, f := range fl {
		if clusterID == "" || hasTag(f.Tags, tag) {
			counts["floating_ips"]++
		}
	}

	// security groups
	pages, err = groups.List(c.Network, groups.ListOpts{ProjectID: e.ProjectID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing security groups: %w", err)
	}
	gl, err := groups.ExtractGroups(pages)
	if err != nil {
		return nil, err
	}
	for _, g := range gl {
		if clusterID == "" {
			if g.Name != "default" {
				counts["security_groups"]++
			}
		} else if hasTag(g.Tags, tag) {
			counts["security_groups"]++
		}
	}

	// volumes
	pages, err = volumes.List(c.Volume, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	vl, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, err
	}
	for _, v := range vl {
		if clusterID == "" || v.Metadata[ClusterTag] == clusterID {
			counts["volumes"]++
		}
	}

	// server groups
	pages, err = servergroups.List(c.Compute, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing server groups: %w", err)
	}
	sgl, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return nil, err
	}
	for _, g := range sgl {
		if clusterID == "" || strings.HasPrefix(g.Name, prefix) {
			counts["server_groups"]++
		}
	}

	// keypairs (of the test user)
	pages, err = keypairs.List(c.Compute, keypairs.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing keypairs: %w", err)
	}
	kl, err := keypairs.ExtractKeyPairs(pages)
	if err != nil {
		return nil, err
	}
	for _, k := range kl {
		if clusterID == "" || strings.HasPrefix(k.Name, prefix) {
			counts["keypairs"]++
		}
	}

	// Swift objects in every container
	oc, err := e.objectClient(ctx, c)
	if err != nil {
		return nil, err
	}
	n, err := countObjects(ctx, oc, clusterID)
	if err != nil {
		return nil, err
	}
	counts["objects"] = n

	// records kept in Keystone credentials (a cloud without object storage)
	n, err = e.countRecordCredentials(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	counts["records"] = n
	return counts, nil
}

// recordCredentialType is the Keystone credential type of the provider's
// records where there is no object storage (sahara/openstack.CredentialType).
const recordCredentialType = "saharagen-record"

// RecordCredential is a record the provider keeps in a Keystone credential.
type RecordCredential struct {
	CredentialID string
	Namespace    string `json:"saharagen_namespace"`
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	Blob         string
}

// RecordCredentials lists the test user's record credentials in the Env's project.
func (e *Env) RecordCredentials(ctx context.Context) ([]RecordCredential, error) {
	c, err := e.Clients(ctx, false)
	if err != nil {
		return nil, err
	}
	ic, err := openstack.NewIdentityV3(c.Compute.ProviderClient, e.endpoint())
	if err != nil {
		return nil, err
	}
	pages, err := credentials.List(ic, credentials.ListOpts{Type: recordCredentialType}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing Keystone credentials: %w", err)
	}
	creds, err := credentials.ExtractCredentials(pages)
	if err != nil {
		return nil, err
	}
	var out []RecordCredential
	for _, cr := range creds {
		var rec RecordCredential
		if cr.ProjectID != e.ProjectID || json.Unmarshal([]byte(cr.Blob), &rec) != nil {
			continue
		}
		rec.CredentialID, rec.Blob = cr.ID, cr.Blob
		out = append(out, rec)
	}
	return out, nil
}

// countRecordCredentials counts the test user's record credentials in the
// project; with a cluster id, that cluster's record only.
func (e *Env) countRecordCredentials(ctx context.Context, clusterID string) (int, error) {
	recs, err := e.RecordCredentials(ctx)
	n := 0
	for _, r := range recs {
		if clusterID == "" || (r.Kind == "clusters" && r.ID == clusterID) {
			n++
		}
	}
	return n, err
}

// objectClient is the test user's object-store client: the catalog's, or,
// when the project's catalog has none (NoStore), one for the project's
// account on the same Swift (the admin's catalog URL with AUTH_<project id>):
// Swift authorizes by the token's project, not by the catalog, so whatever
// reached the store anyway still counts.
func (e *Env) objectClient(ctx context.Context, c *Clients) (*gophercloud.ServiceClient, error) {
	if c.Object != nil {
		return c.Object, nil
	}
	a, err := e.Clients(ctx, true)
	if err != nil {
		return nil, err
	}
	if a.Object == nil {
		return nil, errors.New("testbed: the admin's catalog has no object-store endpoint either")
	}
	base := strings.TrimRight(a.Object.Endpoint, "/")
	i := strings.LastIndex(base, "/AUTH_")
	if i < 0 {
		return nil, fmt.Errorf("testbed: object-store endpoint %s does not end in an AUTH_ account", a.Object.Endpoint)
	}
	return &gophercloud.ServiceClient{
		ProviderClient: c.Compute.ProviderClient,
		Endpoint:       base[:i] + "/AUTH_" + e.ProjectID + "/",
		Type:           "object-store",
	}, nil
}

func countObjects(ctx context.Context, oc *gophercloud.ServiceClient, clusterID string) (int, error) {
	pages, err := containers.List(oc, containers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing containers: %w", err)
	}
	names, err := containers.ExtractNames(pages)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, cn := range names {
		opts := objects.ListOpts{}
		if clusterID != "" {
			opts.Prefix = "clusters/" + clusterID
		}
		op, err := objects.List(oc, cn, opts).AllPages(ctx)
		if err != nil {
			return 0, fmt.Errorf("listing objects of %s: %w", cn, err)
		}
		on, err := objects.ExtractNames(op)
		if err != nil {
			return 0, err
		}
		n += len(on)
	}
	return n, nil
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// AssertNoLeftovers fails the test if Leftovers(clusterID) finds anything.
// Deletions in OpenStack are asynchronous, so it polls for up to 60 s.
func (e *Env) AssertNoLeftovers(t testing.TB, clusterID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var last Counts
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := e.Leftovers(ctx, clusterID)
		if err != nil {
			t.Fatalf("testbed: counting leftovers of cluster %q: %v", clusterID, err)
		}
		if c.Total() == 0 {
			return
		}
		last = c
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	what := "in the test project " + e.ProjectName
	if clusterID != "" {
		what = "of cluster " + clusterID
	}
	t.Fatalf("testbed: objects left %s: %s", what, last)
}

// Quota keys understood by SetQuota, by service.
var (
	computeQuotaKeys = []string{"instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members", "metadata_items"}
	networkQuotaKeys = []string{"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"}
	volumeQuotaKeys  = []string{"volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "per_volume_gigabytes"}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SetQuota sets quotas of the test project (as admin) and returns a function
// that restores the previous values. Keys: instances, cores, ram, key_pairs,
// server_groups, server_group_members, metadata_items (Nova); network,
// subnet, port, router, floatingip, security_group, security_group_rule
// (Neutron); volumes, gigabytes, snapshots, backups, backup_gigabytes,
// per_volume_gigabytes (Cinder). Values below the current usage are accepted
// (Nova: force). The project is shared by every test on the machine: a quota
// test should set limits relative to the usage it sees.
func (e *Env) SetQuota(ctx context.Context, q map[string]int) (func(), error) {
	c, err := e.Clients(ctx, true)
	if err != nil {
		return nil, err
	}
	type svc struct {
		client  *gophercloud.ServiceClient
		url     string
		wrapper string
		want    map[string]int
	}
	compute := &svc{c.Compute, c.Compute.ServiceURL("os-quota-sets", e.ProjectID), "quota_set", map[string]int{}}
	network := &svc{c.Network, c.Network.ServiceURL("quotas", e.ProjectID), "quota", map[string]int{}}
	volume := &svc{c.Volume, c.Volume.ServiceURL("os-quota-sets", e.ProjectID), "quota_set", map[string]int{}}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case contains(computeQuotaKeys, k):
			compute.want[k] = q[k]
		case contains(networkQuotaKeys, k):
			network.want[k] = q[k]
		case contains(volumeQuotaKeys, k):
			volume.want[k] = q[k]
		default:
			return nil, fmt.Errorf("testbed: unknown quota %q", k)
		}
	}
	var restores []func()
	restore := func() {
		for i := len(restores) - 1; i >= 0; i-- {
			restores[i]()
		}
	}
	for _, s := range []*svc{compute, network, volume} {
		if len(s.want) == 0 {
			continue
		}
		var cur map[string]map[string]any
		if _, err := s.client.Get(ctx, s.url, &cur, nil); err != nil { //nolint:bodyclose // gophercloud reads and closes the body
			restore()
			return nil, fmt.Errorf("testbed: reading quotas: %w", err)
		}
		old := map[string]any{}
		for k := range s.want {
			old[k] = cur[s.wrapper][k]
		}
		want := map[string]any{}
		for k, v := range s.want {
			want[k] = v
		}
		if s == compute {
			want["force"] = true // allowed below current usage
		}
		body := map[string]any{s.wrapper: want}
		if _, err := s.client.Put(ctx, s.url, body, nil, &gophercloud.RequestOpts{OkCodes: []int{200, 202}}); err != nil { //nolint:bodyclose // gophercloud reads and closes the body
			restore()
			return nil, fmt.Errorf("testbed: setting quotas %v: %w", s.want, err)
		}

		restores = append(restores, func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if s == compute {
				old["force"] = true
			}
			_, _ = s.client.Put(ctx, s.url, map[string]any{s.wrapper: old}, nil, &gophercloud.RequestOpts{OkCodes: []int{200, 202}}) //nolint:bodyclose // gophercloud reads and closes the body
		})
	}
	return restore, nil
}
