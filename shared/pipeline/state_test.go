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

// staleReads hides the state items whose key starts with one of prefixes
// from reads, as if another writer had stored them after this pipeline's
// read pass.
type staleReads struct {
	pipeline.Store
	prefixes []string
}

func (s staleReads) GetMany(ctx context.Context, keys []pipeline.Key) (map[pipeline.Key]pipeline.Item, error) {
	items, err := s.Store.GetMany(ctx, keys)
	for k := range items {
		for _, pre := range s.prefixes {
			if strings.HasPrefix(k.PK, pre) {
				delete(items, k)
			}
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
	got := run(staleReads{stale, []string{"win#"}}, stale)
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

// TestResourceCommitRecomputesAfterAnotherWriter: a resource baseline that
// another writer changed between the read and the commit pass is judged
// afresh from what is stored, and so are the nodes, whose culprits are
// judged against what the workloads' pods normally take of a node: the
// state is the one fresh reads give.
func TestResourceCommitRecomputesAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	runaway := start.Add(2*24*time.Hour + 14*time.Hour)
	bombs := runaway.Add(2 * time.Hour)
	src := &pipeline.Source{Where: "test", Account: "123456789012"}
	keys := []pipeline.Key{{PK: "node#prod/" + ciNode, SK: "state"}}
	for _, w := range []string{"web", "worker", "thumbnailer"} {
		keys = append(keys, pipeline.Key{PK: "res#eks/prod/shop/Deployment/" + w, SK: "state"})
	}
	run := func(second pipeline.Store, base *store.Memory) map[pipeline.Key]pipeline.Item {
		t.Helper()
		feed := func(p *pipeline.Pipeline, from, to time.Time) {
			for h := from; h.Before(to); h = h.Add(time.Hour) {
				for ts := h; ts.Before(h.Add(time.Hour)); ts = ts.Add(time.Minute) {
					for _, ev := range estateMinute(ts, runaway, bombs) {
						p.AddInsights(&ev, src)
					}
				}
				if _, err := p.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		feed(newPipeline(t, base, &recorder{}, nil), start, runaway)
		feed(newPipeline(t, second, &recorder{}, nil), runaway, runaway.Add(4*time.Hour))
		items, err := base.GetMany(ctx, keys)
		if err != nil || len(items) != len(keys) {
			t.Fatalf("state items %d of %d: %v", len(items), len(keys), err)
		}
		return items
	}
	ref := store.NewMemory(store.WithClock(testNow))
	want := run(ref, ref)
	stale := store.NewMemory(store.WithClock(testNow))
	got := run(staleReads{stale, []string{"res#"}}, stale)
	for _, k := range keys {
		if !bytes.Equal(got[k].Data, want[k].Data) {
			t.Errorf("%s after a stale read differs from the state after a fresh one", k.PK)
		}
	}
}
