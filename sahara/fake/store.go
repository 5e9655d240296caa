package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Store is an in-memory sahara.Store holding JSON documents.
type Store struct {
	mu   sync.Mutex
	docs map[string]map[string][]byte
}

var _ sahara.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store { return &Store{docs: map[string]map[string][]byte{}} }

// Put implements sahara.Store.
func (s *Store) Put(ctx context.Context, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", kind, id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[kind] == nil {
		s.docs[kind] = map[string][]byte{}
	}
	s.docs[kind][id] = b
	return nil
}

// Get implements sahara.Store.
func (s *Store) Get(ctx context.Context, kind, id string, v any) error {
	s.mu.Lock()
	b, ok := s.docs[kind][id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%s/%s: %w", kind, id, sahara.ErrNotFound)
	}
	return json.Unmarshal(b, v)
}

// Delete implements sahara.Store.
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs[kind], id)
	return nil
}

// List implements sahara.Store.
func (s *Store) List(ctx context.Context, kind string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.docs[kind]))
	for id := range s.docs[kind] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}
