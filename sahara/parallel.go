package sahara

import (
	"context"
	"errors"
	"sync"
)

// ParallelEach runs fn for every instance with at most limit running at once
// (limit < 1 means unbounded) and returns the errors joined, each wrapped in
// an *InstanceError naming its instance. It stops starting new work once ctx
// is done.
func ParallelEach(ctx context.Context, limit int, instances []*Instance, fn func(ctx context.Context, in *Instance) error) error {
	if limit < 1 || limit > len(instances) {
		limit = len(instances)
	}
	if limit == 0 {
		return nil
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, len(instances))
	var wg sync.WaitGroup
	for i, in := range instances {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = &InstanceError{Instance: in.InstanceName, Err: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func(i int, in *Instance) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, in); err != nil {
				errs[i] = &InstanceError{Instance: in.InstanceName, Err: err}
			}
		}(i, in)
	}
	wg.Wait()
	return errors.Join(errs...)
}
