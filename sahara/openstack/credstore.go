package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/credentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// ErrNoObjectStorage: the catalog has no object-store endpoint.
var ErrNoObjectStorage = errors.New("the cloud has no object-store endpoint")

// CredentialType is the Keystone credential type of the records a
// CredentialStore keeps.
const CredentialType = "saharagen-record"

// CredentialStore keeps templates, cluster records and leases as Keystone
// credentials (the /v3/credentials API every Keystone v3 has), for clouds
// without object storage. A credential belongs to one user, so the records
// are shared by the runs of that user in the project, not by the project's
// other users; Keystone encrypts blobs at rest and caps credentials per user
// (`[credential] user_limit`, 500 by default).
//
// Keystone chooses credential IDs, so two runs that create the same record
// at once make two credentials: every read lists the user's records and
// takes the one with the smallest ID, so both runs see the same record (what
// the lease protocol needs), and the next write of the record removes the
// other.
type CredentialStore struct {
	sc                *gophercloud.ServiceClient
	userID, projectID string
	namespace         string
}

var _ sahara.Store = (*CredentialStore)(nil)

// credentialRecord is a record's blob.
type credentialRecord struct {
	Namespace string          `json:"saharagen_namespace"`
	Kind      string          `json:"kind"`
	ID        string          `json:"id"`
	Data      json.RawMessage `json:"data"`
}

// CredentialStore returns a record store in the token user's Keystone
// credentials; namespace plays the object store container's part.
func (c *Cloud) CredentialStore(_ context.Context, namespace string) (*CredentialStore, error) {
	if namespace == "" {
		return nil, errors.New("the record namespace must not be empty")
	}
	tr, ok := c.pc.GetAuthResult().(tokens.CreateResult)
	if !ok {
		return nil, errors.New("keeping records in Keystone credentials needs a token issued to a user (password, token or application credential)")
	}
	u, err := tr.ExtractUser()
	if err != nil || u == nil || u.ID == "" || c.projectID == "" {
		return nil, fmt.Errorf("keeping records in Keystone credentials needs a project-scoped token of a user: %v", err)
	}
	sc, err := gcos.NewIdentityV3(c.pc, c.eo)
	if err != nil {
		return nil, fmt.Errorf("the cloud has no identity v3 endpoint: %w", err)
	}
	return &CredentialStore{sc: sc, userID: u.ID, projectID: c.projectID, namespace: namespace}, nil
}

// found is a record's credentials, the one that counts first.
type found struct {
	ids  []string
	data json.RawMessage
}

// index lists the user's records of kind in this namespace, by record ID.
func (s *CredentialStore) index(ctx context.Context, kind string) (map[string]*found, error) {
	// Keystone answers a listing 404 when a credential it lists is deleted
	// meanwhile (another record's write or release): list again.
	var pages pagination.Page
	var err error
	for try := 0; ; try++ {
		pages, err = credentials.List(s.sc, credentials.ListOpts{Type: CredentialType, UserID: s.userID}).AllPages(ctx)
		if err == nil || !isNotFound(err) || try == 4 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing Keystone credentials of type %s: %w", CredentialType, err)
	}
	creds, err := credentials.ExtractCredentials(pages)
	if err != nil {
		return nil, err
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].ID < creds[j].ID })
	out := map[string]*found{}
	for _, cr := range creds {
		var r credentialRecord
		if cr.ProjectID != s.projectID || json.Unmarshal([]byte(cr.Blob), &r) != nil || r.Namespace != s.namespace || r.Kind != kind {
			continue
		}
		f := out[r.ID]
		if f == nil {
			f = &found{data: r.Data}
			out[r.ID] = f
		}
		f.ids = append(f.ids, cr.ID)
	}
	return out, nil
}

func (s *CredentialStore) lookup(ctx context.Context, kind, id string) (*found, error) {
	if _, err := objectName(kind, id); err != nil {
		return nil, err
	}
	idx, err := s.index(ctx, kind)
	if err != nil {
		return nil, err
	}
	return idx[id], nil
}

// Put writes v as the record's blob, creating the credential when there is none.
func (s *CredentialStore) Put(ctx context.Context, kind, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", kind, id, err)
	}
	blob, err := json.Marshal(credentialRecord{Namespace: s.namespace, Kind: kind, ID: id, Data: data})
	if err != nil {
		return err
	}
	f, err := s.lookup(ctx, kind, id)
	if err != nil {
		return err
	}
	if f == nil {
		_, err = credentials.Create(ctx, s.sc, credentials.CreateOpts{
			Type: CredentialType, UserID: s.userID, ProjectID: s.projectID, Blob: string(blob),
		}).Extract()
		if err != nil {
			return fmt.Errorf("writing %s %s as a Keystone credential: %w", kind, id, err)
		}
		return nil
	}
	if _, err := credentials.Update(ctx, s.sc, f.ids[0], credentials.UpdateOpts{Blob: string(blob)}).Extract(); err != nil {
		return fmt.Errorf("writing %s %s to Keystone credential %s: %w", kind, id, f.ids[0], err)
	}
	return s.remove(ctx, f.ids[1:])
}

// Get decodes the record into v; a missing record is sahara.ErrNotFound.
func (s *CredentialStore) Get(ctx context.Context, kind, id string, v any) error {
	f, err := s.lookup(ctx, kind, id)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("%s %q: %w", kind, id, sahara.ErrNotFound)
	}
	if err := json.Unmarshal(f.data, v); err != nil {
		return fmt.Errorf("decoding %s %s: %w", kind, id, err)
	}
	return nil
}

// Delete removes the record (every credential of it); a missing one counts as done.
func (s *CredentialStore) Delete(ctx context.Context, kind, id string) error {
	f, err := s.lookup(ctx, kind, id)
	if err != nil || f == nil {
		return err
	}
	return s.remove(ctx, f.ids)
}

func (s *CredentialStore) remove(ctx context.Context, ids []string) error {
	for _, cid := range ids {
		if err := credentials.Delete(ctx, s.sc, cid).ExtractErr(); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting Keystone credential %s: %w", cid, err)
		}
	}
	return nil
}

// List returns the IDs of every record of a kind, sorted.
func (s *CredentialStore) List(ctx context.Context, kind string) ([]string, error) {
	if _, err := objectName(kind, "x"); err != nil {
		return nil, err
	}
	idx, err := s.index(ctx, kind)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(idx))
	for id := range idx {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}
