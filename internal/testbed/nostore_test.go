package testbed_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/utils/v2/openstack/clientconfig"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// catalogOf logs in as clouds.yaml's cloud (as the provider does) and
// returns the project the token is scoped to and its catalog's service types.
func catalogOf(ctx context.Context, t *testing.T, cloud string) (string, map[string]bool) {
	t.Helper()
	ao, err := clientconfig.AuthOptions(&clientconfig.ClientOpts{Cloud: cloud})
	if err != nil {
		t.Fatalf("clouds.yaml cloud %s: %v", cloud, err)
	}
	pc, err := openstack.AuthenticatedClient(ctx, *ao)
	if err != nil {
		t.Fatalf("token for cloud %s: %v", cloud, err)
	}
	res, ok := pc.GetAuthResult().(tokens.CreateResult)
	if !ok {
		t.Fatalf("cloud %s: not a Keystone v3 token: %T", cloud, pc.GetAuthResult())
	}
	project, err := res.ExtractProject()
	if err != nil || project == nil {
		t.Fatalf("cloud %s: token without a project: %v", cloud, err)
	}
	catalog, err := res.ExtractServiceCatalog()
	if err != nil {
		t.Fatalf("cloud %s: catalog: %v", cloud, err)
	}
	types := map[string]bool{}
	for _, e := range catalog.Entries {
		if len(e.Endpoints) > 0 {
			types[e.Type] = true
		}
	}
	return project.ID, types
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestNoStoreProject: the testbed's second project is a cloud without object
// storage — its tokens' catalog has every service but object-store while the
// main project's has object-store too — and it sees what the acceptance tests
// use: the images (by ID and by name), the flavors, the tenant network and
// its subnet, the external network; Leftovers counts there.
func TestNoStoreProject(t *testing.T) {
	env := testbed.Require(t)
	ns := testbed.RequireNoStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)

	if ns.Cloud == env.Cloud || ns.ProjectID == env.ProjectID || ns.ProjectName == env.ProjectName {
		t.Fatalf("NoStore Env names the main project: cloud %s project %s (%s)", ns.Cloud, ns.ProjectName, ns.ProjectID)
	}
	if again := ns.NoStore(); again == nil || again.Cloud != ns.Cloud || again.ProjectID != ns.ProjectID {
		t.Errorf("NoStore of the NoStore Env: %+v", again)
	}

	mainProject, mainTypes := catalogOf(ctx, t, env.Cloud)
	nsProject, nsTypes := catalogOf(ctx, t, ns.Cloud)
	if mainProject != env.ProjectID || nsProject != ns.ProjectID {
		t.Errorf("tokens scoped to %s and %s, want %s (%s) and %s (%s)", mainProject, nsProject, env.ProjectID, env.ProjectName, ns.ProjectID, ns.ProjectName)
	}
	if !mainTypes["object-store"] {
		t.Errorf("cloud %s: no object-store in the catalog %v", env.Cloud, keys(mainTypes))
	}
	if nsTypes["object-store"] {
		t.Errorf("cloud %s: object-store in the catalog %v", ns.Cloud, keys(nsTypes))
	}
	for _, want := range []string{"identity", "compute", "network", "image", "volumev3", "block-storage", "placement"} {
		if !nsTypes[want] || !mainTypes[want] {
			t.Errorf("%s missing from a catalog: %s %v, %s %v", want, env.Cloud, keys(mainTypes), ns.Cloud, keys(nsTypes))
		}
	}
	t.Logf("catalog of %s: %v; of %s: %v", env.Cloud, keys(mainTypes), ns.Cloud, keys(nsTypes))

	c, err := ns.Clients(ctx, false)
	if err != nil {
		t.Fatalf("clients in %s: %v", ns.ProjectName, err)
	}
	if c.Object != nil {
		t.Errorf("project %s has an object-store client: %s", ns.ProjectName, c.Object.Endpoint)
	}
	if mc, err := env.Clients(ctx, false); err != nil || mc.Object == nil {
		t.Errorf("main project: no object-store client (%v)", err)
	}

	for plugin, id := range env.Images {
		img, err := images.Get(ctx, c.Image, id).Extract()
		if err != nil {
			t.Errorf("image %s (%s) from %s: %v", plugin, id, ns.ProjectName, err)
			continue
		}
		if img.Status != images.ImageStatusActive || img.Visibility != images.ImageVisibilityPublic {
			t.Errorf("image %s: status %s, visibility %s", img.Name, img.Status, img.Visibility)
		}
		pages, err := images.List(c.Image, images.ListOpts{Name: env.ImageNames[plugin]}).AllPages(ctx)
		if err != nil {
			t.Fatalf("listing images named %s: %v", env.ImageNames[plugin], err)
		}
		if list, _ := images.ExtractImages(pages); len(list) != 1 || list[0].ID != id {
			t.Errorf("image name %s from %s: %d images, want exactly %s", env.ImageNames[plugin], ns.ProjectName, len(list), id)
		}
	}
	pages, err := flavors.ListDetail(c.Compute, flavors.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatalf("listing flavors: %v", err)
	}
	fl, _ := flavors.ExtractFlavors(pages)
	byName := map[string]string{}
	for _, f := range fl {
		byName[f.Name] = f.ID
	}
	for name, id := range env.Flavors {
		if byName[name] != id {
			t.Errorf("flavor %s (%s) not visible in %s: %v", name, id, ns.ProjectName, byName)
		}
	}
	if byName[env.FlavorName] != env.FlavorID {
		t.Errorf("default flavor %s (%s) not visible in %s", env.FlavorName, env.FlavorID, ns.ProjectName)
	}

	type network struct {
		networks.Network
		external.NetworkExternalExt
	}
	lookup := func(name string) []network {
		t.Helper()
		var list []network
		pages, err := networks.List(c.Network, networks.ListOpts{Name: name}).AllPages(ctx)
		if err == nil {
			err = networks.ExtractNetworksInto(pages, &list)
		}
		if err != nil {
			t.Fatalf("listing networks named %s: %v", name, err)
		}
		return list
	}
	if l := lookup(env.NetworkName); len(l) != 1 || l[0].ID != env.NetworkID || l[0].External {
		t.Errorf("network %s from %s: %+v, want exactly %s", env.NetworkName, ns.ProjectName, l, env.NetworkID)
	}
	if l := lookup(env.ExternalNetworkName); len(l) != 1 || l[0].ID != env.ExternalNetworkID || !l[0].External {
		t.Errorf("external network %s from %s: %+v, want exactly %s", env.ExternalNetworkName, ns.ProjectName, l, env.ExternalNetworkID)
	}
	sp, err := subnets.List(c.Network, subnets.ListOpts{NetworkID: env.NetworkID}).AllPages(ctx)
	if err != nil {
		t.Fatalf("listing subnets: %v", err)
	}
	if sl, _ := subnets.ExtractSubnets(sp); len(sl) != 1 || sl[0].ID != env.SubnetID || sl[0].CIDR != env.SubnetCIDR {
		t.Errorf("subnets of %s from %s: %+v, want %s (%s)", env.NetworkName, ns.ProjectName, sl, env.SubnetID, env.SubnetCIDR)
	}

	// Leftovers works without an object-store endpoint (objects are counted
	// in the project's Swift account all the same).
	n, err := ns.Leftovers(ctx, "no-such-cluster")
	if err != nil || n.Total() != 0 {
		t.Errorf("Leftovers in %s of an unknown cluster: %v %v", ns.ProjectName, n, err)
	}
}
