package backfill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tidewatch/tidewatch/shared/backoff"
	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// Sink receives what a run reads: a *pipeline.Pipeline built with
// LearnOnly.
type Sink interface {
	// AddBatch adds the events of one log stream; the pipeline recognises
	// their kind by log group name, else by content.
	AddBatch(b *cwlogs.Batch, kind pipeline.Kind, where string)
	// Flush processes everything added and writes the learned state.
	Flush(ctx context.Context) (pipeline.Report, error)
	// Pending counts records added but not flushed.
	Pending() int
}

var _ Sink = (*pipeline.Pipeline)(nil)

// Defaults of Options.
const (
	DefaultParallel   = 4
	DefaultFlushEvery = 100000
	// maxBatch bounds the events of one batch handed to the sink, as a
	// subscription delivery is bounded.
	maxBatch = 10000
)

// Options wire a Run.
type Options struct {
	// API reads CloudWatch Logs.
	API API
	// Sink is the pipeline the events are fed to.
	Sink Sink
	// Store keeps the checkpoints: the pipeline's store.
	Store pipeline.Store
	// Parallel is how many slices are fetched at once (DefaultParallel
	// when zero). Besides the slices of the time step being fed (one per
	// log group), at most Parallel fetched slices wait in memory.
	Parallel int
	// Limiter paces FilterLogEvents calls; nil does not.
	Limiter *Limiter
	// FlushEvery flushes the sink within a slice once this many records
	// are pending (DefaultFlushEvery when zero).
	FlushEvery int
	// Clock stamps checkpoints (time.Now when nil).
	Clock func() time.Time
	// Progress, when set, is told of every page read and slice covered.
	Progress *Progress
	// OnCheckpoint, when set, is called after the checkpoints of a time
	// step are written, with them.
	OnCheckpoint func([]Checkpoint)

	retry backoff.Policy
}

// Target is one log group of a run: its plan and the account that owns
// it (empty when unknown).
type Target struct {
	Plan    Plan
	Account string
}

// GroupResult is what a run did for one log group.
type GroupResult struct {
	// Events and Bytes count what this run read.
	Events, Bytes int64
	// Slices counts the slices fed and checkpointed.
	Slices int
	// Checkpoint is the group's checkpoint after the run (nil if it has
	// none).
	Checkpoint *Checkpoint
}

// Result is what a run did.
type Result struct {
	// Report sums the pipeline's reports (records, skipped records).
	Report pipeline.Report
	// Groups holds the result of each log group, by name.
	Groups map[string]*GroupResult
}

// unit is one slice of one log group: what one goroutine fetches.
type unit struct {
	target int
	r      Range
}

type fetched struct {
	events []event
	err    error
}

// Run reads the planned slices of every target (each a different log
// group) and feeds them to the sink in time order, writing each group's
// checkpoint after every slice.
// It stops at the first error, or when ctx ends (after finishing the
// slice being fed); the result then says how far it got, and a later run
// over the same range continues from there.
func Run(ctx context.Context, o Options, targets []Target) (Result, error) {
	res := Result{Groups: map[string]*GroupResult{}}
	if o.API == nil || o.Sink == nil || o.Store == nil {
		return res, errors.New("backfill: Run needs an API, a Sink and a Store")
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.retry.Attempts == 0 {
		o.retry = defaultRetry
	}
	state := make([]*Checkpoint, len(targets))
	for i := range targets {
		p := &targets[i].Plan
		if res.Groups[p.LogGroup] != nil {
			return res, fmt.Errorf("backfill: log group %s named twice", p.LogGroup)
		}
		state[i] = p.Checkpoint
		res.Groups[p.LogGroup] = &GroupResult{Checkpoint: p.Checkpoint}
	}
	units, steps := schedule(targets)
	if len(units) == 0 {
		return res, nil
	}
	widest := 0
	for _, s := range steps {
		widest = max(widest, s[1]-s[0])
	}

	// Fetch ahead: at most Parallel slices fetched at once, and at most
	// Parallel more than the widest step held before they are fed. Units
	// start in feeding order and a step's units are released once it is
	// fed, so the step being fed can always be fetched whole.
	fctx, cancel := context.WithCancel(ctx)
	results := make([]chan fetched, len(units))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	fetching := make(chan struct{}, o.Parallel)
	held := make(chan struct{}, o.Parallel+widest)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, u := range units {
			select {
			case held <- struct{}{}:
			case <-fctx.Done():
				return
			}
			select {
			case fetching <- struct{}{}:
			case <-fctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-fetching }()
				var onPage func(int, int)
				if o.Progress != nil {
					onPage = o.Progress.Page
				}
				evs, err := fetch(fctx, o.API, o.Limiter, o.retry, targets[u.target].Plan.LogGroup, u.target, u.r, onPage)
				results[i] <- fetched{events: evs, err: err}
			}()
		}
	}()

	for _, step := range steps {
		var evs []event
		perUnit := make([]fetched, 0, step[1]-step[0])
		for i := step[0]; i < step[1]; i++ {
			select {
			case f := <-results[i]:
				if f.err != nil {
					return res, fmt.Errorf("backfill: %w", f.err)
				}
				perUnit = append(perUnit, f)
				evs = append(evs, f.events...)
			case <-ctx.Done():
				return res, fmt.Errorf("backfill: %w", ctx.Err())
			}
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("backfill: %w", err)
		}
		// From here the step runs to its end even if ctx ends, so that an
		// interruption never leaves part of a slice learned without its
		// checkpoint.
		wctx, done := stepContext(ctx)
		cps, err := o.step(wctx, targets, units[step[0]:step[1]], perUnit, evs, state, &res)
		done()
		if err != nil {
			return res, err
		}
		if o.OnCheckpoint != nil {
			o.OnCheckpoint(cps)
		}
		for range perUnit {
			<-held
		}
	}
	return res, nil
}

// finishGrace bounds how long the step being fed may still take once the
// run's context has ended.
const finishGrace = 2 * time.Minute

// stepContext returns a context that outlives ctx by finishGrace, and a
// function to release it.
func stepContext(ctx context.Context) (context.Context, func()) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(finishGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-wctx.Done():
		}
	})
	return wctx, func() {
		stop()
		cancel()
	}
}

// step feeds the events of one time step, flushes, and writes and
// returns the checkpoint of each slice in it.
func (o *Options) step(ctx context.Context, targets []Target, units []unit, perUnit []fetched, evs []event, state []*Checkpoint, res *Result) ([]Checkpoint, error) {
	if err := feed(ctx, o, targets, evs, &res.Report); err != nil {
		return nil, fmt.Errorf("backfill: %s: %w", units[0].r, err)
	}
	now := o.Clock()
	cps := make([]Checkpoint, 0, len(perUnit))
	items := make([]pipeline.Item, 0, len(perUnit))
	sizes := make([]int64, len(perUnit))
	for k, f := range perUnit {
		u := units[k]
		g := targets[u.target].Plan.LogGroup
		for _, e := range f.events {
			sizes[k] += int64(len(e.message))
		}
		cp := advance(state[u.target], g, u.r, int64(len(f.events)), sizes[k], now)
		data, err := cp.Encode()
		if err != nil {
			return nil, err
		}
		items = append(items, pipeline.Item{Key: CheckpointKey(g), Data: data})
		cps = append(cps, cp)
		state[u.target] = &cp
	}
	if err := o.Store.PutMany(ctx, items); err != nil {
		return nil, fmt.Errorf("backfill: write checkpoints at %s: %w", units[0].r.End.Format(time.RFC3339), err)
	}
	for k := range cps {
		u := units[k]
		gr := res.Groups[cps[k].LogGroup]
		gr.Checkpoint = state[u.target]
		gr.Slices++
		gr.Events += int64(len(perUnit[k].events))
		gr.Bytes += sizes[k]
		if o.Progress != nil {
			o.Progress.Covered(u.r)
		}
	}
	return cps, nil
}

// schedule orders the slices of every target by start time (then target)
// and groups overlapping ones into steps, [lo, hi) index ranges of units:
// every event of a step is earlier than every event of the next. Slices
// cut on one grid overlap exactly when they fall in the same grid cell.
func schedule(targets []Target) ([]unit, [][2]int) {
	var units []unit
	for i := range targets {
		for _, s := range targets[i].Plan.Slices {
			units = append(units, unit{target: i, r: s})
		}
	}
	sort.SliceStable(units, func(a, b int) bool {
		if !units[a].r.Start.Equal(units[b].r.Start) {
			return units[a].r.Start.Before(units[b].r.Start)
		}
		return units[a].target < units[b].target
	})
	var steps [][2]int
	for i := 0; i < len(units); {
		end := units[i].r.End
		j := i + 1
		for j < len(units) && units[j].r.Start.Before(end) {
			if units[j].r.End.After(end) {
				end = units[j].r.End
			}
			j++
		}
		steps = append(steps, [2]int{i, j})
		i = j
	}
	return units, steps
}

// feed hands the events of one step to the sink in timestamp order, as
// batches of consecutive events of one log stream, and flushes.
func feed(ctx context.Context, o *Options, targets []Target, evs []event, rep *pipeline.Report) error {
	if len(evs) == 0 {
		return nil
	}
	// Stable: events of equal time keep the order CloudWatch Logs gave.
	slices.SortStableFunc(evs, func(a, b event) int {
		switch {
		case a.ts < b.ts:
			return -1
		case a.ts > b.ts:
			return 1
		}
		return 0
	})
	batch := cwlogs.Batch{MessageType: cwlogs.MessageTypeData}
	logEvents := make([]cwlogs.LogEvent, 0, 64)
	flushIfFull := func() error {
		if o.Sink.Pending() < o.FlushEvery {
			return nil
		}
		r, err := o.Sink.Flush(ctx)
		rep.Add(r)
		return err
	}
	for i := 0; i < len(evs); {
		first := &evs[i]
		j := i
		logEvents = logEvents[:0]
		for j < len(evs) && j-i < maxBatch && evs[j].group == first.group && evs[j].stream == first.stream {
			e := &evs[j]
			logEvents = append(logEvents, cwlogs.LogEvent{ID: e.id, Timestamp: e.ts, Message: []byte(e.message)})
			j++
		}
		t := &targets[first.group]
		batch.Owner = t.Account
		batch.LogGroup = t.Plan.LogGroup
		batch.LogStream = first.stream
		batch.LogEvents = logEvents
		where := t.Plan.LogGroup + "/" + first.stream + " at " + time.UnixMilli(first.ts).UTC().Format("2006-01-02T15:04:05.000Z")
		o.Sink.AddBatch(&batch, pipeline.KindUnknown, where)
		if err := flushIfFull(); err != nil {
			return err
		}
		i = j
	}
	r, err := o.Sink.Flush(ctx)
	rep.Add(r)
	return err
}
