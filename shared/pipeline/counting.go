package pipeline

import (
	"context"
	"time"
)

// StoreStats counts store operations and the items they read or wrote.
type StoreStats struct {
	Calls        int `json:"calls"`
	ItemsRead    int `json:"itemsRead"`
	ItemsWritten int `json:"itemsWritten"`
}

// countingStore wraps a Store to count what the pipeline asks of it.
type countingStore struct {
	Store
	stats StoreStats
}

func (c *countingStore) GetMany(ctx context.Context, keys []Key) (map[Key]Item, error) {
	if len(keys) == 0 {
		return map[Key]Item{}, nil
	}
	c.stats.Calls++
	m, err := c.Store.GetMany(ctx, keys)
	c.stats.ItemsRead += len(m)
	return m, err
}

func (c *countingStore) UpdateMany(ctx context.Context, keys []Key, fn UpdateFunc) error {
	if len(keys) == 0 {
		return nil
	}
	c.stats.Calls++
	c.stats.ItemsRead += len(keys)
	return c.Store.UpdateMany(ctx, keys, func(k Key, old []byte) ([]byte, time.Time, error) {
		data, exp, err := fn(k, old)
		if err == nil {
			c.stats.ItemsWritten++
		}
		return data, exp, err
	})
}

func (c *countingStore) PutMany(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	c.stats.Calls++
	c.stats.ItemsWritten += len(items)
	return c.Store.PutMany(ctx, items)
}

func (c *countingStore) Query(ctx context.Context, pk, prefix string) ([]Item, error) {
	c.stats.Calls++
	items, err := c.Store.Query(ctx, pk, prefix)
	c.stats.ItemsRead += len(items)
	return items, err
}

func (c *countingStore) PutIfAbsent(ctx context.Context, item Item) (bool, error) {
	c.stats.Calls++
	ok, err := c.Store.PutIfAbsent(ctx, item)
	if ok {
		c.stats.ItemsWritten++
	}
	return ok, err
}

func (c *countingStore) Delete(ctx context.Context, key Key) error {
	c.stats.Calls++
	return c.Store.Delete(ctx, key)
}
