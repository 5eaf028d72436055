package store_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

// BenchmarkMemoryUpdateMany is replay's hot path: one batch updating the
// windows and baselines of many workloads.
func BenchmarkMemoryUpdateMany(b *testing.B) {
	m := store.NewMemory()
	keys := make([]pipeline.Key, 200)
	for i := range keys {
		keys[i] = pipeline.Key{PK: fmt.Sprintf("win#eks/prod/ns/Deployment/app-%d", i), SK: "state"}
	}
	fn := func(_ pipeline.Key, old []byte) ([]byte, time.Time, error) {
		n, _ := strconv.Atoi(string(old))
		return strconv.AppendInt(nil, int64(n+1), 10), time.Time{}, nil
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.UpdateMany(ctx, keys, fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryGetMany(b *testing.B) {
	m := store.NewMemory()
	keys := make([]pipeline.Key, 200)
	items := make([]pipeline.Item, len(keys))
	for i := range keys {
		keys[i] = pipeline.Key{PK: fmt.Sprintf("ip#10.0.%d.%d", i/256, i%256), SK: "state"}
		items[i] = pipeline.Item{Key: keys[i], Data: make([]byte, 64)}
	}
	ctx := context.Background()
	if err := m.PutMany(ctx, items); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.GetMany(ctx, keys); err != nil {
			b.Fatal(err)
		}
	}
}
