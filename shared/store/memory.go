package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidewatch/tidewatch/shared/pipeline"
)

var _ pipeline.Store = (*Memory)(nil)

// Memory is a pipeline.Store held in process memory, safe for concurrent
// use. Expired items are dropped lazily, when a reader meets them. Values
// are copied on the way in and out, so callers may reuse their buffers.
type Memory struct {
	opts  options
	mu    sync.Mutex
	parts map[string]map[string]memItem // pk → sk → item
}

type memItem struct {
	data    []byte
	expires time.Time
}

// NewMemory returns an empty store. Of the options only WithClock applies.
func NewMemory(opts ...Option) *Memory {
	return &Memory{opts: newOptions(opts), parts: make(map[string]map[string]memItem)}
}

// lookup returns the live item at k; m.mu must be held.
func (m *Memory) lookup(k pipeline.Key, now time.Time) (memItem, bool) {
	it, ok := m.parts[k.PK][k.SK]
	if !ok {
		return memItem{}, false
	}
	if !live(it.expires, now) {
		m.remove(k)
		return memItem{}, false
	}
	return it, true
}

// set stores it at k; m.mu must be held.
func (m *Memory) set(k pipeline.Key, it memItem) {
	part, ok := m.parts[k.PK]
	if !ok {
		part = make(map[string]memItem)
		m.parts[k.PK] = part
	}
	part[k.SK] = it
}

// remove drops k; m.mu must be held.
func (m *Memory) remove(k pipeline.Key) {
	part := m.parts[k.PK]
	delete(part, k.SK)
	if len(part) == 0 {
		delete(m.parts, k.PK)
	}
}

// GetMany implements pipeline.Store.
func (m *Memory) GetMany(ctx context.Context, keys []pipeline.Key) (map[pipeline.Key]pipeline.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[pipeline.Key]pipeline.Item, len(keys))
	for _, k := range keys {
		if it, ok := m.lookup(k, now); ok {
			out[k] = pipeline.Item{Key: k, Data: clone(it.data), Expires: it.expires}
		}
	}
	return out, nil
}

// UpdateMany implements pipeline.Store. Every key is attempted; the error
// joins the failure of each key that failed. fn runs under the store's
// lock, so it never sees a conflict and must not call the store.
func (m *Memory) UpdateMany(ctx context.Context, keys []pipeline.Key, fn pipeline.UpdateFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, k := range dedupe(keys) {
		var old []byte
		if it, ok := m.lookup(k, now); ok {
			old = clone(it.data)
		}
		data, expires, err := fn(k, old)
		if errors.Is(err, pipeline.ErrUnchanged) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("store: update %s: %w", keyString(k), err))
			continue
		}
		m.set(k, memItem{data: clone(data), expires: expires})
	}
	return errors.Join(errs...)
}

// PutMany implements pipeline.Store.
func (m *Memory) PutMany(ctx context.Context, items []pipeline.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		m.set(it.Key, memItem{data: clone(it.Data), expires: it.Expires})
	}
	return nil
}

// Query implements pipeline.Store.
func (m *Memory) Query(ctx context.Context, pk, prefix string) ([]pipeline.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pipeline.Item
	for sk := range m.parts[pk] {
		if !strings.HasPrefix(sk, prefix) {
			continue
		}
		k := pipeline.Key{PK: pk, SK: sk}
		if it, ok := m.lookup(k, now); ok {
			out = append(out, pipeline.Item{Key: k, Data: clone(it.data), Expires: it.expires})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SK < out[j].SK })
	return out, nil
}

// PutIfAbsent implements pipeline.Store.
func (m *Memory) PutIfAbsent(ctx context.Context, item pipeline.Item) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.lookup(item.Key, now); ok {
		return false, nil
	}
	m.set(item.Key, memItem{data: clone(item.Data), expires: item.Expires})
	return true, nil
}

// Delete implements pipeline.Store.
func (m *Memory) Delete(ctx context.Context, key pipeline.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(key)
	return nil
}

// Len returns how many items the store holds, expired ones included until
// a reader drops them.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, part := range m.parts {
		n += len(part)
	}
	return n
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// dedupe returns keys without repeats, in first-seen order.
func dedupe(keys []pipeline.Key) []pipeline.Key {
	seen := make(map[pipeline.Key]bool, len(keys))
	out := make([]pipeline.Key, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func keyString(k pipeline.Key) string {
	return k.PK + " " + k.SK
}
