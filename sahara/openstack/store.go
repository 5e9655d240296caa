package openstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Store keeps templates and cluster records in a Swift container, one JSON
// object per record named "<kind>/<id>.json". A Swift PUT replaces an object
// atomically, so readers see the old or the new record, never a mix.
type Store struct {
	sc        *gophercloud.ServiceClient
	container string

	mu    sync.Mutex
	ready bool
}

var _ sahara.Store = (*Store)(nil)

// NewStore authenticates with cfg and returns the store in container.
func NewStore(ctx context.Context, cfg Config, container string, opts ...Option) (*Store, error) {
	c, err := New(ctx, cfg, opts...)
	if err != nil {
		return nil, err
	}
	return c.Store(ctx, container)
}

// Store returns a template store on this cloud's object storage.
func (c *Cloud) Store(ctx context.Context, container string) (*Store, error) {
	if container == "" || strings.Contains(container, "/") {
		return nil, fmt.Errorf("invalid store container name %q: it must be non-empty and contain no '/'", container)
	}
	sc, err := c.client(ctx, svcObject)
	if err != nil {
		return nil, err
	}
	return &Store{sc: sc, container: container}, nil
}

func objectName(kind, id string) (string, error) {
	switch kind {
	case sahara.KindNodeGroupTemplate, sahara.KindClusterTemplate, sahara.KindCluster, sahara.KindLease:
	default:
		return "", fmt.Errorf("unknown store kind %q", kind)
	}
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return "", fmt.Errorf("invalid %s id %q: it must be non-empty and contain no '/'", kind, id)
	}
	return kind + "/" + id + ".json", nil
}

// ensureContainer creates the container once (PUT is idempotent in Swift).
func (s *Store) ensureContainer(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	if _, err := containers.Create(ctx, s.sc, s.container, nil).Extract(); err != nil {
		return fmt.Errorf("creating object-store container %q: %w", s.container, err)
	}
	s.ready = true
	return nil
}

// Put writes v as JSON.
func (s *Store) Put(ctx context.Context, kind, id string, v any) error {
	name, err := objectName(kind, id)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	if err := s.ensureContainer(ctx); err != nil {
		return err
	}
	_, err = objects.Create(ctx, s.sc, s.container, name, objects.CreateOpts{
		Content: bytes.NewReader(data), ContentType: "application/json",
	}).Extract()
	if err != nil {
		return fmt.Errorf("writing %s to container %q: %w", name, s.container, err)
	}
	return nil
}

// Get decodes the record into v; a missing record is sahara.ErrNotFound.
func (s *Store) Get(ctx context.Context, kind, id string, v any) error {
	name, err := objectName(kind, id)
	if err != nil {
		return err
	}
	res := objects.Download(ctx, s.sc, s.container, name, nil)
	if res.Err != nil {
		if isNotFound(res.Err) {
			return fmt.Errorf("%s %q: %w", kind, id, sahara.ErrNotFound)
		}
		return fmt.Errorf("reading %s from container %q: %w", name, s.container, res.Err)
	}
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s: %w", name, err)
	}
	return nil
}

// Delete removes the record; a missing one counts as done.
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	name, err := objectName(kind, id)
	if err != nil {
		return err
	}
	_, err = objects.Delete(ctx, s.sc, s.container, name, nil).Extract()
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s from container %q: %w", name, s.container, err)
	}
	return nil
}

// List returns the IDs of every record of a kind, sorted (Swift lists in order).
func (s *Store) List(ctx context.Context, kind string) ([]string, error) {
	if _, err := objectName(kind, "x"); err != nil {
		return nil, err
	}
	prefix := kind + "/"
	pages, err := objects.List(s.sc, s.container, objects.ListOpts{Prefix: prefix}).AllPages(ctx)
	if err != nil {
		if isNotFound(err) {
			return nil, nil // no container yet: nothing stored
		}
		return nil, fmt.Errorf("listing %s in container %q: %w", kind, s.container, err)
	}
	names, err := objects.ExtractNames(pages)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range names {
		id := strings.TrimSuffix(strings.TrimPrefix(n, prefix), ".json")
		if id != "" && !strings.Contains(id, "/") && strings.HasSuffix(n, ".json") {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
