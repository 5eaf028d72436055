package pipeline_test

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

// staleReads hides the workload state items from reads, as if another
// writer had stored them after this pipeline's read pass.
type staleReads struct{ pipeline.Store }

func (s staleReads) GetMany(ctx context.Context, keys []pipeline.Key) (map[pipeline.Key]pipeline.Item, error) {
	items, err := s.Store.GetMany(ctx, keys)
	for k := range items {
		if strings.HasPrefix(k.PK, "win#") {
			delete(items, k)
		}
	}
	return items, err
}

// flows adds a minute of traffic from one internal address for each minute
// in [from, to).
func flows(p *pipeline.Pipeline, from, to int) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for m := from; m < to; m++ {
		start := t0.Add(time.Duration(m) * time.Minute).Unix()
		r := flowlog.Record{
			Version: 2, AccountID: "123456789012", InterfaceID: "eni-0a1b2c3d4e5f60718",
			SrcAddr: netip.MustParseAddr("10.0.1.5"), DstAddr: netip.MustParseAddr("10.0.2.9"),
			SrcPort: 40000 + int32(m), DstPort: 443, Protocol: 6, Packets: 40, Bytes: 30000,
			Start: start, End: start + 50, Action: flowlog.ActionAccept,
		}
		p.AddFlow(&r, &pipeline.Source{Where: "test"})
	}
}

// TestCommitRecomputesAfterAnotherWriter: the commit pass writes the state
// its read pass computed only when the stored item is still the one read;
// when another writer changed it in between, the state is computed afresh
// from what is stored, and nothing that writer learned is lost.
func TestCommitRecomputesAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	run := func(second pipeline.Store, base *store.Memory) []byte {
		t.Helper()
		first := newPipeline(t, base, &recorder{}, nil)
		flows(first, 0, 30)
		if _, err := first.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		p := newPipeline(t, second, &recorder{}, nil)
		flows(p, 30, 60)
		if _, err := p.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		key := pipeline.Key{PK: "win#vpc/eni-0a1b2c3d4e5f60718/10.0.1.5", SK: "state"}
		items, err := base.GetMany(ctx, []pipeline.Key{key})
		if err != nil {
			t.Fatal(err)
		}
		it, ok := items[key]
		if !ok {
			var keys []string
			all, _ := base.Query(ctx, key.PK, "")
			for _, a := range all {
				keys = append(keys, a.PK+"/"+a.SK)
			}
			t.Fatalf("no state item %v; have %v", key, keys)
		}
		return it.Data
	}
	ref := store.NewMemory(store.WithClock(testNow))
	want := run(ref, ref)
	stale := store.NewMemory(store.WithClock(testNow))
	got := run(staleReads{stale}, stale)
	if !bytes.Equal(got, want) {
		t.Errorf("state after a stale read differs from the state after a fresh one (%d vs %d bytes)", len(got), len(want))
	}
	// The check can fail: the state of the second batch alone differs.
	alone := store.NewMemory(store.WithClock(testNow))
	p := newPipeline(t, alone, &recorder{}, nil)
	flows(p, 30, 60)
	if _, err := p.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	items, _ := alone.GetMany(ctx, []pipeline.Key{{PK: "win#vpc/eni-0a1b2c3d4e5f60718/10.0.1.5", SK: "state"}})
	for _, it := range items {
		if bytes.Equal(it.Data, want) {
			t.Fatal("the second batch alone gives the same state: the test cannot tell")
		}
	}
}
