package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// accRecords reads the acceptance tests' records where the provider keeps
// them on the testbed: the object-store container of the main project, or
// the test user's Keystone credentials in the project without object
// storage.
type accRecords struct {
	env *testbed.Env
	// keystone: the project has no object storage.
	keystone bool
}

func accRecordsOf(env *testbed.Env) accRecords {
	return accRecords{env: env, keystone: env.ProjectName == env.NoStoreProjectName && env.NoStoreProjectName != ""}
}

// all returns every record of the acceptance tests' store: name → JSON.
func (r accRecords) all(ctx context.Context) (map[string]string, error) {
	if r.keystone {
		return r.credentials(ctx)
	}
	cl, err := r.env.Clients(ctx, false)
	if err != nil {
		return nil, err
	}
	pages, err := objects.List(cl.Object, accStoreContainer, objects.ListOpts{}).AllPages(ctx)
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", accStoreContainer, err)
	}
	names, err := objects.ExtractNames(pages)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range names {
		res := objects.Download(ctx, cl.Object, accStoreContainer, n, nil)
		body, err := res.ExtractContent()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", n, err)
		}
		out[n] = string(body)
	}
	return out, nil
}

// credentials reads the Keystone credentials of the test user that hold
// records of the acceptance tests' namespace in the env's project.
func (r accRecords) credentials(ctx context.Context) (map[string]string, error) {
	recs, err := r.env.RecordCredentials(ctx)
	out := map[string]string{}
	for _, c := range recs {
		if c.Namespace == accStoreContainer {
			out[c.Kind+"/"+c.ID+" (credential "+c.CredentialID+")"] = c.Blob
		}
	}
	return out, err
}

// secretsInClear checks that the cluster's record is in the store and that
// no record holds a private key.
func (r accRecords) secretsInClear(t *testing.T, clusterID string) error {
	all, err := r.all(context.Background())
	if err != nil {
		return err
	}
	var bad []string
	found := false
	for name, body := range all {
		if strings.Contains(body, "PRIVATE KEY") {
			bad = append(bad, name)
		}
		found = found || strings.HasPrefix(name, "clusters/"+clusterID)
	}
	if !found {
		return fmt.Errorf("the record of cluster %s is not in the store (keystone=%v); it holds %d records", clusterID, r.keystone, len(all))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d records hold a private key in the clear: %v", len(bad), len(all), bad)
	}
	return nil
}

// assertEmpty checks that destroy removed every template and cluster record
// (and lease) of the acceptance tests from the store. The project-wide count
// of leftovers runs once after the whole suite (make testacc), since other
// packages' tests share the project.
func (r accRecords) assertEmpty(t *testing.T) {
	t.Helper()
	all, err := r.all(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) > 0 {
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		t.Errorf("destroy left %d records in the store (keystone=%v): %v", len(all), r.keystone, names)
	}
}
