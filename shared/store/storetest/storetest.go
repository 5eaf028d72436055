package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

// Increments is how many increments each of the 8 goroutines of the
// concurrency test makes (8,000 in all); -short makes it 100 each.
const Increments = 1000

// Run runs the contract against fresh stores made by newStore, one per
// subtest. newStore must return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) pipeline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s pipeline.Store)
	}{
		{"GetPut", testGetPut},
		{"Query", testQuery},
		{"QueryLarge", testQueryLarge},
		{"Expiry", testExpiry},
		{"PutIfAbsent", testPutIfAbsent},
		{"Delete", testDelete},
		{"Update", testUpdate},
		{"UpdateUnchanged", testUpdateUnchanged},
		{"UpdateError", testUpdateError},
		{"ManyKeys", testManyKeys},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var cmpItems = []cmp.Option{cmpopts.EquateEmpty()}

func key(pk, sk string) pipeline.Key { return pipeline.Key{PK: pk, SK: sk} }

func item(pk, sk, data string) pipeline.Item {
	return pipeline.Item{Key: key(pk, sk), Data: []byte(data)}
}

// hour returns a whole-second time d from now; stores keep expiry to the
// second.
func hour(d time.Duration) time.Time {
	return time.Now().Add(d).Truncate(time.Second)
}

func mustPut(t *testing.T, s pipeline.Store, items ...pipeline.Item) {
	t.Helper()
	if err := s.PutMany(context.Background(), items); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
}

func mustGet(t *testing.T, s pipeline.Store, keys ...pipeline.Key) map[pipeline.Key]pipeline.Item {
	t.Helper()
	got, err := s.GetMany(context.Background(), keys)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	return got
}

func mustQuery(t *testing.T, s pipeline.Store, pk, prefix string) []pipeline.Item {
	t.Helper()
	got, err := s.Query(context.Background(), pk, prefix)
	if err != nil {
		t.Fatalf("Query(%q, %q): %v", pk, prefix, err)
	}
	return got
}

func testGetPut(t *testing.T, s pipeline.Store) {
	a := item("baseline#w1", "state", "one")
	b := item("baseline#w2", "state", "two")
	b2 := item("baseline#w2", "state", "two, again")
	c := pipeline.Item{Key: key("baseline#w3", "state"), Data: []byte{0, 1, 2, 255}, Expires: hour(time.Hour)}
	empty := item("baseline#w4", "state", "")
	mustPut(t, s, a, b, c, b2, empty)
	got := mustGet(t, s, a.Key, b.Key, c.Key, empty.Key, key("baseline#missing", "state"), a.Key)
	want := map[pipeline.Key]pipeline.Item{a.Key: a, b.Key: b2, c.Key: c, empty.Key: empty}
	if diff := cmp.Diff(want, got, cmpItems...); diff != "" {
		t.Errorf("GetMany (-want +got):\n%s", diff)
	}
	if got := mustGet(t, s); len(got) != 0 {
		t.Errorf("GetMany() = %v, want empty", got)
	}
	// A caller reusing its buffer must not change the stored value.
	buf := []byte("mutable")
	mustPut(t, s, pipeline.Item{Key: key("k", "s"), Data: buf})
	copy(buf, "XXXXXXX")
	if got := mustGet(t, s, key("k", "s"))[key("k", "s")].Data; string(got) != "mutable" {
		t.Errorf("stored value changed with the caller's buffer: %q", got)
	}
}

func testQuery(t *testing.T, s pipeline.Store) {
	mustPut(t, s,
		item("suppress", "b", "B"),
		item("suppress", "a", "A"),
		item("suppress", "c", "C"),
		item("suppress", "ab", "AB"),
		item("suppress", "B", "upper"),
		item("suppressx", "a", "other partition"),
		item("other", "a", "other"),
	)
	tests := []struct {
		prefix string
		want   []pipeline.Item
	}{
		{"", []pipeline.Item{item("suppress", "B", "upper"), item("suppress", "a", "A"), item("suppress", "ab", "AB"), item("suppress", "b", "B"), item("suppress", "c", "C")}},
		{"a", []pipeline.Item{item("suppress", "a", "A"), item("suppress", "ab", "AB")}},
		{"ab", []pipeline.Item{item("suppress", "ab", "AB")}},
		{"abc", nil},
		{"z", nil},
	}
	for _, tc := range tests {
		got := mustQuery(t, s, "suppress", tc.prefix)
		if diff := cmp.Diff(tc.want, got, cmpItems...); diff != "" {
			t.Errorf("Query(suppress, %q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	if got := mustQuery(t, s, "nothing", ""); len(got) != 0 {
		t.Errorf("Query(nothing) = %v, want none", got)
	}
}

// testQueryLarge crosses DynamoDB's 1 MB page, so Query must paginate.
func testQueryLarge(t *testing.T, s pipeline.Store) {
	big := bytes.Repeat([]byte("x"), 60<<10)
	var want []pipeline.Item
	for i := range 30 {
		want = append(want, pipeline.Item{Key: key("signal#w", fmt.Sprintf("%03d", i)), Data: big})
	}
	mustPut(t, s, want...)
	got := mustQuery(t, s, "signal#w", "")
	if len(got) != len(want) {
		t.Fatalf("Query returned %d items, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Key != want[i].Key || !bytes.Equal(got[i].Data, big) {
			t.Fatalf("item %d = %v (%d bytes), want %v", i, got[i].Key, len(got[i].Data), want[i].Key)
		}
	}
}

func testExpiry(t *testing.T, s pipeline.Store) {
	past := pipeline.Item{Key: key("idem#b1", "state"), Data: []byte("old"), Expires: hour(-time.Hour)}
	future := pipeline.Item{Key: key("idem#b2", "state"), Data: []byte("new"), Expires: hour(time.Hour)}
	pastQ := pipeline.Item{Key: key("win#w", "1"), Data: []byte("gone"), Expires: hour(-time.Minute)}
	futureQ := pipeline.Item{Key: key("win#w", "2"), Data: []byte("here"), Expires: hour(time.Minute)}
	mustPut(t, s, past, future, pastQ, futureQ)
	got := mustGet(t, s, past.Key, future.Key)
	want := map[pipeline.Key]pipeline.Item{future.Key: future}
	if diff := cmp.Diff(want, got, cmpItems...); diff != "" {
		t.Errorf("GetMany (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]pipeline.Item{futureQ}, mustQuery(t, s, "win#w", ""), cmpItems...); diff != "" {
		t.Errorf("Query (-want +got):\n%s", diff)
	}
	// An expired item is absent to UpdateMany too.
	var seen []string
	err := s.UpdateMany(context.Background(), []pipeline.Key{past.Key, future.Key}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		seen = append(seen, fmt.Sprintf("%s=%q", k.PK, old))
		return append([]byte("u:"), old...), time.Time{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	for _, s := range []string{`idem#b1=""`, `idem#b2="new"`} {
		if !contains(seen, s) {
			t.Errorf("UpdateMany saw %v, want %s among them", seen, s)
		}
	}
	got = mustGet(t, s, past.Key, future.Key)
	want = map[pipeline.Key]pipeline.Item{past.Key: item("idem#b1", "state", "u:"), future.Key: item("idem#b2", "state", "u:new")}
	if diff := cmp.Diff(want, got, cmpItems...); diff != "" {
		t.Errorf("after UpdateMany (-want +got):\n%s", diff)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func testPutIfAbsent(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	first := pipeline.Item{Key: key("idem#batch", "state"), Data: []byte("first"), Expires: hour(time.Hour)}
	put := func(it pipeline.Item, want bool) {
		t.Helper()
		ok, err := s.PutIfAbsent(ctx, it)
		if err != nil {
			t.Fatalf("PutIfAbsent(%s): %v", it.Data, err)
		}
		if ok != want {
			t.Errorf("PutIfAbsent(%s) = %v, want %v", it.Data, ok, want)
		}
	}
	put(first, true)
	put(pipeline.Item{Key: first.Key, Data: []byte("second")}, false)
	if diff := cmp.Diff(first, mustGet(t, s, first.Key)[first.Key], cmpItems...); diff != "" {
		t.Errorf("after a refused PutIfAbsent (-want +got):\n%s", diff)
	}
	// An expired marker counts as absent.
	expired := pipeline.Item{Key: key("idem#old", "state"), Data: []byte("expired"), Expires: hour(-time.Hour)}
	mustPut(t, s, expired)
	again := pipeline.Item{Key: expired.Key, Data: []byte("again"), Expires: hour(time.Hour)}
	put(again, true)
	if diff := cmp.Diff(again, mustGet(t, s, again.Key)[again.Key], cmpItems...); diff != "" {
		t.Errorf("after replacing an expired item (-want +got):\n%s", diff)
	}
	// A marker without expiry stays.
	forever := item("idem#forever", "state", "forever")
	put(forever, true)
	put(forever, false)
	// After Delete the key is free again.
	if err := s.Delete(ctx, forever.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	put(forever, true)
}

func testDelete(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	a, b := item("finding#1", "state", "a"), item("finding#2", "state", "b")
	mustPut(t, s, a, b)
	if err := s.Delete(ctx, a.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, key("finding#missing", "state")); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
	want := map[pipeline.Key]pipeline.Item{b.Key: b}
	if diff := cmp.Diff(want, mustGet(t, s, a.Key, b.Key), cmpItems...); diff != "" {
		t.Errorf("after Delete (-want +got):\n%s", diff)
	}
}

func testUpdate(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	exists := item("baseline#w", "state", "v1")
	mustPut(t, s, exists)
	fresh := key("baseline#new", "state")
	exp := hour(2 * time.Hour)
	calls := map[pipeline.Key]int{}
	err := s.UpdateMany(ctx, []pipeline.Key{exists.Key, fresh, exists.Key}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		calls[k]++
		if old == nil {
			return []byte("created"), exp, nil
		}
		return append(old, "+v2"...), time.Time{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	want := map[pipeline.Key]pipeline.Item{
		exists.Key: item("baseline#w", "state", "v1+v2"),
		fresh:      {Key: fresh, Data: []byte("created"), Expires: exp},
	}
	if diff := cmp.Diff(want, mustGet(t, s, exists.Key, fresh), cmpItems...); diff != "" {
		t.Errorf("after UpdateMany (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[pipeline.Key]int{exists.Key: 1, fresh: 1}, calls); diff != "" {
		t.Errorf("fn calls without contention (-want +got):\n%s", diff)
	}
	// A second update sees the first one's result.
	err = s.UpdateMany(ctx, []pipeline.Key{exists.Key}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		return append(old, "+v3"...), time.Time{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	if got := string(mustGet(t, s, exists.Key)[exists.Key].Data); got != "v1+v2+v3" {
		t.Errorf("after two updates = %q, want v1+v2+v3", got)
	}
	// An update after a blind put starts from the put's value.
	mustPut(t, s, item("baseline#w", "state", "reset"))
	err = s.UpdateMany(ctx, []pipeline.Key{exists.Key}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		return append(old, "+v4"...), time.Time{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	if got := string(mustGet(t, s, exists.Key)[exists.Key].Data); got != "reset+v4" {
		t.Errorf("after put and update = %q, want reset+v4", got)
	}
	if err := s.UpdateMany(ctx, nil, nil); err != nil {
		t.Errorf("UpdateMany(no keys) = %v", err)
	}
}

func testUpdateUnchanged(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	a := pipeline.Item{Key: key("win#a", "state"), Data: []byte("keep"), Expires: hour(time.Hour)}
	mustPut(t, s, a)
	absent := key("win#b", "state")
	err := s.UpdateMany(ctx, []pipeline.Key{a.Key, absent}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		return []byte("changed"), time.Time{}, pipeline.ErrUnchanged
	})
	if err != nil {
		t.Fatalf("UpdateMany with ErrUnchanged = %v, want nil", err)
	}
	want := map[pipeline.Key]pipeline.Item{a.Key: a}
	if diff := cmp.Diff(want, mustGet(t, s, a.Key, absent), cmpItems...); diff != "" {
		t.Errorf("after ErrUnchanged (-want +got):\n%s", diff)
	}
}

func testUpdateError(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	bad, good := key("finding#bad", "state"), key("finding#good", "state")
	mustPut(t, s, item("finding#bad", "state", "before"))
	errBoom := errors.New("boom")
	err := s.UpdateMany(ctx, []pipeline.Key{bad, good}, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		if k == bad {
			return nil, time.Time{}, errBoom
		}
		return []byte("done"), time.Time{}, nil
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("UpdateMany = %v, want it to wrap %v", err, errBoom)
	}
	if !strings.Contains(err.Error(), "finding#bad") {
		t.Errorf("error %q does not name the key", err)
	}
	want := map[pipeline.Key]pipeline.Item{bad: item("finding#bad", "state", "before"), good: item("finding#good", "state", "done")}
	if diff := cmp.Diff(want, mustGet(t, s, bad, good), cmpItems...); diff != "" {
		t.Errorf("after a failing fn (-want +got):\n%s", diff)
	}
}

// testManyKeys crosses the DynamoDB batch sizes (100 reads, 25 writes).
func testManyKeys(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	const n = 260
	var keys []pipeline.Key
	var items []pipeline.Item
	for i := range n {
		k := key(fmt.Sprintf("ident#10.0.%d.%d", i/256, i%256), "state")
		keys = append(keys, k)
		if i%2 == 0 {
			items = append(items, pipeline.Item{Key: k, Data: []byte("0")})
		}
	}
	mustPut(t, s, items...)
	if got := mustGet(t, s, keys...); len(got) != n/2 {
		t.Fatalf("GetMany found %d of %d items put", len(got), n/2)
	}
	err := s.UpdateMany(ctx, keys, func(k pipeline.Key, old []byte) ([]byte, time.Time, error) {
		v, _ := strconv.Atoi(string(old))
		return []byte(strconv.Itoa(v + 1)), time.Time{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	got := mustGet(t, s, keys...)
	if len(got) != n {
		t.Fatalf("GetMany after UpdateMany found %d items, want %d", len(got), n)
	}
	for _, k := range keys {
		if string(got[k].Data) != "1" {
			t.Fatalf("%v = %q, want 1", k, got[k].Data)
		}
	}
}

// testConcurrent has 8 goroutines increment one counter; none of their
// increments may be lost. A call that fails with store.ErrConflict after
// its own bounded retries is retried here, as the pipeline retries its
// batch, and counted; any other error fails the test.
func testConcurrent(t *testing.T, s pipeline.Store) {
	ctx := context.Background()
	const workers = 8
	per := Increments
	if testing.Short() {
		per = 100
	}
	k := key("baseline#counter", "state")
	incr := func(_ pipeline.Key, old []byte) ([]byte, time.Time, error) {
		n := 0
		if old != nil {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, time.Time{}, err
			}
		}
		return []byte(strconv.Itoa(n + 1)), time.Time{}, nil
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		failures  []error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				for try := 0; ; try++ {
					err := s.UpdateMany(ctx, []pipeline.Key{k}, incr)
					if err == nil {
						break
					}
					mu.Lock()
					conflicts++
					if try == 10 || !errors.Is(err, store.ErrConflict) {
						failures = append(failures, err)
						mu.Unlock()
						return
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d workers gave up; first error: %v", len(failures), failures[0])
	}
	got := string(mustGet(t, s, k)[k].Data)
	if want := strconv.Itoa(workers * per); got != want {
		t.Errorf("counter = %s after %d increments: updates were lost", got, workers*per)
	}
	t.Logf("%d increments, %d calls failed with a conflict and were retried", workers*per, conflicts)
}
