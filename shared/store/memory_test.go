package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
	"github.com/tidewatch/tidewatch/shared/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) pipeline.Store { return store.NewMemory() })
}

func TestMemoryClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := store.NewMemory(store.WithClock(func() time.Time { return now }))
	k := pipeline.Key{PK: "idem#b", SK: "state"}
	it := pipeline.Item{Key: k, Data: []byte("x"), Expires: now.Add(time.Minute)}
	if ok, err := m.PutIfAbsent(ctx, it); err != nil || !ok {
		t.Fatalf("PutIfAbsent = %v, %v; want true", ok, err)
	}
	now = now.Add(59 * time.Second)
	if got, _ := m.GetMany(ctx, []pipeline.Key{k}); len(got) != 1 {
		t.Errorf("item gone before it expired")
	}
	if ok, _ := m.PutIfAbsent(ctx, it); ok {
		t.Errorf("PutIfAbsent over a live item = true")
	}
	now = now.Add(time.Second)
	if got, _ := m.GetMany(ctx, []pipeline.Key{k}); len(got) != 0 {
		t.Errorf("item still readable at its expiry time")
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d after the reader met the expired item, want 0", m.Len())
	}
	if ok, _ := m.PutIfAbsent(ctx, it); !ok {
		t.Errorf("PutIfAbsent over an expired item = false")
	}
}
