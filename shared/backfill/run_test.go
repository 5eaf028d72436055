package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

const (
	flowGroup  = "/tidewatch/test/flows"
	auditGroup = "/aws/eks/prod/cluster"
)

// TestRunFeedsInTimeOrder: slices are fetched concurrently and the first
// one is answered last, yet the sink receives every event once, in time
// order, the events of both log groups merged, with a flush at the end of
// every hour before the next hour starts.
func TestRunFeedsInTimeOrder(t *testing.T) {
	logs := newFakeLogs()
	total := 0
	for m := 0; m < 6*60; m += 7 {
		ts := at(0, 0).Add(time.Duration(m) * time.Minute)
		logs.put(flowGroup, "eni-b-all", ts, fmt.Sprintf("flow b %d", m))
		logs.put(flowGroup, "eni-a-all", ts.Add(3*time.Second), fmt.Sprintf("flow a %d", m))
		logs.put(auditGroup, "kube-apiserver-audit-1", ts.Add(time.Second), fmt.Sprintf("audit %d", m))
		total += 3
	}
	// The first hour is answered only once a later hour has been.
	var laterServed sync.WaitGroup
	laterServed.Add(1)
	var once sync.Once
	logs.before = func(in *cloudwatchlogs.FilterLogEventsInput) error {
		if aws.ToInt64(in.StartTime) == at(0, 0).UnixMilli() {
			done := make(chan struct{})
			go func() { laterServed.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("no later slice was fetched while the first one waited")
			}
			return nil
		}
		once.Do(laterServed.Done)
		return nil
	}
	sink := &fakeSink{}
	st := store.NewMemory()
	o := Options{API: logs, Sink: sink, Store: st, Parallel: 4, retry: fastRetry, Clock: func() time.Time { return at(12, 0) }}
	res, err := Run(context.Background(), o, plans(Range{at(0, 0), at(6, 0)}, flowGroup, auditGroup))
	if err != nil {
		t.Fatal(err)
	}
	if first := logs.served[0]; first == at(0, 0).UnixMilli() {
		t.Errorf("the first slice was answered first: the test did not reorder completion")
	}
	if len(sink.events) != total {
		t.Fatalf("fed %d events, want %d", len(sink.events), total)
	}
	seen := map[string]bool{}
	for i, e := range sink.events {
		if seen[e.msg] {
			t.Errorf("event %q fed twice", e.msg)
		}
		seen[e.msg] = true
		if i > 0 && e.ts < sink.events[i-1].ts {
			t.Fatalf("event %d (%q at %d) fed after a later one (%q at %d)", i, e.msg, e.ts, sink.events[i-1].msg, sink.events[i-1].ts)
		}
	}
	// One flush per hour, each after exactly that hour's events.
	if len(sink.flushes) != 6 {
		t.Fatalf("flushes at %v, want one per hour", sink.flushes)
	}
	for h, n := range sink.flushes {
		if last := sink.events[n-1].ts; last >= at(h+1, 0).UnixMilli() {
			t.Errorf("flush %d came after an event of hour %d", h, h+1)
		}
		if n < len(sink.events) && sink.events[n].ts < at(h+1, 0).UnixMilli() {
			t.Errorf("flush %d came before the end of hour %d", h, h)
		}
	}
	cps, err := LoadCheckpoints(context.Background(), st, []string{flowGroup, auditGroup})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*Checkpoint{
		flowGroup:  {LogGroup: flowGroup, From: at(0, 0), To: at(6, 0), Events: int64(total * 2 / 3), Bytes: cps[flowGroup].Bytes, Updated: at(12, 0)},
		auditGroup: {LogGroup: auditGroup, From: at(0, 0), To: at(6, 0), Events: int64(total / 3), Bytes: cps[auditGroup].Bytes, Updated: at(12, 0)},
	}
	if diff := cmp.Diff(want, cps); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	if g := res.Groups[flowGroup]; g.Events != int64(total*2/3) || g.Slices != 6 || g.Bytes == 0 {
		t.Errorf("result of %s: %+v", flowGroup, g)
	}
	if res.Report.Records["fake"] != total {
		t.Errorf("report %v, want %d records", res.Report.Records, total)
	}
}

// recordingStore remembers every key written, to compare whole stores.
type recordingStore struct {
	pipeline.Store
	mu   sync.Mutex
	keys map[pipeline.Key]bool
}

func newRecordingStore() *recordingStore {
	return &recordingStore{Store: store.NewMemory(), keys: map[pipeline.Key]bool{}}
}

func (r *recordingStore) note(ks ...pipeline.Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range ks {
		r.keys[k] = true
	}
}

func (r *recordingStore) UpdateMany(ctx context.Context, keys []pipeline.Key, fn pipeline.UpdateFunc) error {
	r.note(keys...)
	return r.Store.UpdateMany(ctx, keys, fn)
}

func (r *recordingStore) PutMany(ctx context.Context, items []pipeline.Item) error {
	for _, it := range items {
		r.note(it.Key)
	}
	return r.Store.PutMany(ctx, items)
}

func (r *recordingStore) PutIfAbsent(ctx context.Context, it pipeline.Item) (bool, error) {
	r.note(it.Key)
	return r.Store.PutIfAbsent(ctx, it)
}

// contents returns every live item written.
func (r *recordingStore) contents(t *testing.T) map[pipeline.Key]pipeline.Item {
	t.Helper()
	keys := make([]pipeline.Key, 0, len(r.keys))
	for k := range r.keys {
		keys = append(keys, k)
	}
	items, err := r.Store.GetMany(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// flowHistory puts 6 hours of traffic of two workloads into a fake, one
// record per workload and minute, and returns how many.
func flowHistory(logs *fakeLogs) int {
	n := 0
	for m := 0; m < 6*60; m++ {
		ts := at(0, 0).Add(time.Duration(m) * time.Minute)
		logs.put(flowGroup, "eni-0a1b2c3d4e5f60718-all", ts, flowLine(ts, "10.0.1.5", 1000+m))
		logs.put(flowGroup, "eni-0a1b2c3d4e5f60718-all", ts, flowLine(ts, "10.0.1.6", 2000+m%7))
		n += 2
	}
	return n
}

// learnOnly returns a learn-only pipeline over st, on event time.
func learnOnly(t *testing.T, st pipeline.Store) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(pipeline.Options{Store: st, LearnOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run plans groups over r against the checkpoints in st and runs.
func run(ctx context.Context, t *testing.T, logs *fakeLogs, st pipeline.Store, r Range, edit func(*Options)) (Result, []Plan, error) {
	t.Helper()
	cps, err := LoadCheckpoints(context.Background(), st, []string{flowGroup})
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanGroup(flowGroup, r, cps[flowGroup], time.Hour)
	o := Options{API: logs, Sink: learnOnly(t, st), Store: st, Parallel: 3, retry: fastRetry, Clock: func() time.Time { return at(23, 0) }}
	if edit != nil {
		edit(&o)
	}
	res, err := Run(ctx, o, []Target{{Plan: plan, Account: "123456789012"}})
	return res, []Plan{plan}, err
}

// TestRunResumesAfterInterruption: a run cancelled after two slices keeps
// what it learned and its checkpoint; the next run reads only the rest,
// and the state it leaves is exactly that of one uninterrupted run. A
// third run reads nothing and writes nothing.
func TestRunResumesAfterInterruption(t *testing.T) {
	logs := newFakeLogs()
	total := flowHistory(logs)
	whole := Range{at(0, 0), at(6, 0)}

	once := newRecordingStore()
	if _, _, err := run(context.Background(), t, logs, once, whole, nil); err != nil {
		t.Fatal(err)
	}

	twice := newRecordingStore()
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	res, _, err := run(ctx, t, logs, twice, whole, func(o *Options) {
		o.OnCheckpoint = func([]Checkpoint) {
			if steps++; steps == 2 {
				cancel()
			}
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	if cp := res.Groups[flowGroup].Checkpoint; cp == nil || !cp.To.Equal(at(2, 0)) {
		t.Fatalf("interrupted run's checkpoint = %+v, want one ending at 02:00", cp)
	}
	first := res.Groups[flowGroup].Events

	calls := logs.calls
	res, plan, err := run(context.Background(), t, logs, twice, whole, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan[0].Read; got != (Range{at(2, 0), at(6, 0)}) {
		t.Errorf("resumed run read %s, want 02:00 → 06:00", got)
	}
	if first+res.Groups[flowGroup].Events != int64(total) {
		t.Errorf("the two runs read %d + %d events, want %d in all", first, res.Groups[flowGroup].Events, total)
	}
	if res.Report.Records["flow"] != total-int(first) {
		t.Errorf("the resumed run fed %d flow records, want %d", res.Report.Records["flow"], total-int(first))
	}
	if calls == logs.calls {
		t.Error("the resumed run made no calls")
	}

	got, want := twice.contents(t), once.contents(t)
	if len(want) < 3 {
		t.Fatalf("one run left only %d items", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state after an interrupted and a resumed run differs from one run (-once +twice):\n%s", diff)
	}

	calls = logs.calls
	res, plan, err = run(context.Background(), t, logs, twice, whole, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !plan[0].Read.Empty() || !strings.Contains(plan[0].Describe(), "already covered") {
		t.Errorf("third run plans %q", plan[0].Describe())
	}
	if logs.calls != calls || res.Groups[flowGroup].Events != 0 {
		t.Errorf("third run made %d calls and read %d events", logs.calls-calls, res.Groups[flowGroup].Events)
	}
	if diff := cmp.Diff(want, twice.contents(t)); diff != "" {
		t.Errorf("third run changed the state (-before +after):\n%s", diff)
	}
}

// TestInterruptFinishesTheStep: an interruption while a slice is being
// flushed lets that flush and its checkpoint complete, then stops.
func TestInterruptFinishesTheStep(t *testing.T) {
	logs := newFakeLogs()
	flowHistory(logs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &fakeSink{onFlush: func(fctx context.Context) error {
		cancel()
		return fctx.Err()
	}}
	st := store.NewMemory()
	res, err := Run(ctx, Options{API: logs, Sink: sink, Store: st, retry: fastRetry}, plans(Range{at(0, 0), at(6, 0)}, flowGroup))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(sink.flushes) != 1 {
		t.Errorf("%d flushes, want the one that was interrupted", len(sink.flushes))
	}
	cps, err := LoadCheckpoints(context.Background(), st, []string{flowGroup})
	if err != nil {
		t.Fatal(err)
	}
	if cp := cps[flowGroup]; cp == nil || !cp.To.Equal(at(1, 0)) || res.Groups[flowGroup].Slices != 1 {
		t.Errorf("checkpoint %+v after an interrupted first slice, want it written to 01:00", cp)
	}
}

// TestRunLaterEndContinues: a run to 03:00 then one to 06:00 read each
// event once and leave one contiguous checkpoint.
func TestRunLaterEndContinues(t *testing.T) {
	logs := newFakeLogs()
	total := flowHistory(logs)
	st := newRecordingStore()
	a, _, err := run(context.Background(), t, logs, st, Range{at(0, 0), at(3, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, plan, err := run(context.Background(), t, logs, st, Range{at(0, 0), at(6, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].Read != (Range{at(3, 0), at(6, 0)}) {
		t.Errorf("second run read %s", plan[0].Read)
	}
	if n := a.Groups[flowGroup].Events + b.Groups[flowGroup].Events; n != int64(total) {
		t.Errorf("read %d events in all, want %d", n, total)
	}
	cp := b.Groups[flowGroup].Checkpoint
	if !cp.From.Equal(at(0, 0)) || !cp.To.Equal(at(6, 0)) || cp.Events != int64(total) {
		t.Errorf("checkpoint %+v, want 00:00 → 06:00 with %d events", cp, total)
	}
}

// TestBadRecordKeepsItsSlice: a record that does not parse is counted and
// skipped; the good records around it in the same batch are learned.
func TestBadRecordKeepsItsSlice(t *testing.T) {
	logs := newFakeLogs()
	for m := 0; m < 30; m++ {
		ts := at(0, 0).Add(time.Duration(m) * time.Minute)
		logs.put(flowGroup, "eni-0a1b2c3d4e5f60718-all", ts, flowLine(ts, "10.0.1.5", 1000))
		if m == 10 {
			logs.put(flowGroup, "eni-0a1b2c3d4e5f60718-all", ts, "2 123456789012 this is not a flow record")
		}
	}
	st := newRecordingStore()
	res, _, err := run(context.Background(), t, logs, st, Range{at(0, 0), at(1, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Records["flow"] != 30 || res.Report.Skipped["bad flow record"] != 1 {
		t.Errorf("report: %s", res.Report.String())
	}
	if len(res.Report.Examples) == 0 || !strings.Contains(res.Report.Examples[0], flowGroup+"/eni-0a1b2c3d4e5f60718-all at 2026-11-20T00:") {
		t.Errorf("skipped record is not located: %q", res.Report.Examples)
	}
	learned := 0
	for k := range st.contents(t) {
		if strings.HasPrefix(k.PK, "win#") {
			learned++
		}
	}
	if learned == 0 {
		t.Error("no workload state was learned")
	}
}

func throttled() error {
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
}

func TestRunRetriesThrottling(t *testing.T) {
	logs := newFakeLogs()
	total := flowHistory(logs)
	var mu sync.Mutex
	throttles := 0
	logs.before = func(*cloudwatchlogs.FilterLogEventsInput) error {
		mu.Lock()
		defer mu.Unlock()
		if throttles < 3 {
			throttles++
			return throttled()
		}
		return nil
	}
	res, _, err := run(context.Background(), t, logs, newRecordingStore(), Range{at(0, 0), at(6, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if throttles != 3 || res.Groups[flowGroup].Events != int64(total) {
		t.Errorf("%d throttles, %d of %d events read", throttles, res.Groups[flowGroup].Events, total)
	}
}

// TestRunStopsAtAnError: a failure names the log group and the slice, and
// the checkpoint keeps what was done before it.
func TestRunStopsAtAnError(t *testing.T) {
	logs := newFakeLogs()
	flowHistory(logs)
	logs.before = func(in *cloudwatchlogs.FilterLogEventsInput) error {
		if aws.ToInt64(in.StartTime) == at(3, 0).UnixMilli() {
			return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}
		}
		return nil
	}
	st := newRecordingStore()
	res, _, err := run(context.Background(), t, logs, st, Range{at(0, 0), at(6, 0)}, nil)
	if err == nil || !strings.Contains(err.Error(), flowGroup) || !strings.Contains(err.Error(), "2026-11-20T03:00:00Z") ||
		!strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("err = %v, want the group, the slice and the cause", err)
	}
	if cp := res.Groups[flowGroup].Checkpoint; cp == nil || !cp.To.Equal(at(3, 0)) {
		t.Errorf("checkpoint %+v, want one ending at 03:00", cp)
	}
}

func TestRunMissingGroup(t *testing.T) {
	logs := newFakeLogs()
	_, err := Run(context.Background(), Options{API: logs, Sink: &fakeSink{}, Store: store.NewMemory(), retry: fastRetry},
		plans(Range{at(0, 0), at(2, 0)}, "/no/such/group"))
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.LogGroup != "/no/such/group" {
		t.Fatalf("err = %v, want a *NotFoundError for /no/such/group", err)
	}
	if !strings.Contains(err.Error(), `log group "/no/such/group" does not exist (ResourceNotFoundException)`) {
		t.Errorf("message: %v", err)
	}
	_, err = Run(context.Background(), Options{API: logs, Sink: &fakeSink{}, Store: store.NewMemory()},
		plans(Range{at(0, 0), at(2, 0)}, flowGroup, flowGroup))
	if err == nil || !strings.Contains(err.Error(), "named twice") {
		t.Errorf("a group named twice: err = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	logs := newFakeLogs()
	logs.put("/aws/eks/prod/cluster", "s", at(0, 0), "0123456789")
	logs.put("/aws/eks/prod/cluster-other", "s", at(0, 0), "x")
	logs.put("/aws/eks/prod", "s", at(0, 0), "x")
	info, err := Describe(context.Background(), logs, "/aws/eks/prod/cluster")
	if err != nil {
		t.Fatal(err)
	}
	want := GroupInfo{Name: "/aws/eks/prod/cluster", Account: "123456789012", StoredBytes: 10,
		Created: at(0, 0).Add(-24 * time.Hour), Retention: 14 * 24 * time.Hour}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
	_, err = Describe(context.Background(), logs, "/aws/eks/prod/clust")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.LogGroup != "/aws/eks/prod/clust" {
		t.Errorf("a prefix of a group: err = %v, want a *NotFoundError", err)
	}
}

func TestEstimateRead(t *testing.T) {
	// 14 days retained, 140 MB stored: 10 MB a day.
	info := GroupInfo{StoredBytes: 140_000_000, Created: at(0, 0).AddDate(0, -2, 0), Retention: 14 * 24 * time.Hour}
	now := at(0, 0)
	day := Range{now.Add(-24 * time.Hour), now}
	if got := EstimateRead(info, day, 24, now); got.Bytes != 10_000_000 || got.Calls != 24 {
		t.Errorf("one day in 24 slices: %+v, want 10 MB and 24 calls (one per slice)", got)
	}
	if got := EstimateRead(info, day, 2, now); got.Calls != 10 {
		t.Errorf("one day in 2 slices: %+v, want 10 calls (a page per MiB)", got)
	}
	before := Range{now.Add(-30 * 24 * time.Hour), now.Add(-20 * 24 * time.Hour)}
	if got := EstimateRead(info, before, 3, now); got.Bytes != 0 || got.Calls != 3 {
		t.Errorf("range past retention: %+v, want nothing but a call per slice", got)
	}
	// A group created yesterday holds all it stores since then.
	young := GroupInfo{StoredBytes: 5_000_000, Created: now.Add(-24 * time.Hour)}
	if got := EstimateRead(young, Range{now.Add(-14 * 24 * time.Hour), now}, 14, now); got.Bytes != 5_000_000 {
		t.Errorf("young group: %+v, want all its bytes", got)
	}
}

func TestLimiterSpacesCalls(t *testing.T) {
	lim := NewLimiter(200) // 5 ms apart
	ctx := context.Background()
	start := time.Now()
	for range 6 {
		if err := lim.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("6 calls at 200/s took %v, want at least 25ms", d)
	}
	if NewLimiter(0) != nil {
		t.Error("a zero rate should not limit")
	}
	if err := (*Limiter)(nil).Wait(ctx); err != nil {
		t.Error(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := NewLimiter(1).Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// BenchmarkFeed measures handing one slice of interleaved flow records
// from many streams to a sink: sort, batch, add.
func BenchmarkFeed(b *testing.B) {
	const n = 20000
	evs := make([]event, n)
	for i := range evs {
		evs[i] = event{stream: fmt.Sprintf("eni-%03d-all", i%200), id: fmt.Sprint(i), ts: int64((n - i) * 37 % 3600000),
			message: flowLine(at(0, 0), "10.0.1.5", i)}
	}
	targets := plans(Range{at(0, 0), at(1, 0)}, flowGroup)
	sink := &fakeSink{}
	o := Options{Sink: sink, FlushEvery: DefaultFlushEvery}
	work := make([]event, n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(work, evs)
		sink.events = sink.events[:0]
		var rep pipeline.Report
		if err := feed(context.Background(), &o, targets, work, &rep); err != nil {
			b.Fatal(err)
		}
	}
}
