package input

import (
	"context"
	"fmt"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// Feed is a Handler that runs what it reads through a pipeline, flushing
// it every FlushEvery records so memory stays flat however large the input.
type Feed struct {
	Ctx        context.Context
	Pipeline   *pipeline.Pipeline
	FlushEvery int
	// Total accumulates the reports of every flush.
	Total pipeline.Report
	// Err is the first pipeline error; reading should stop on it.
	Err error
}

func (f *Feed) maybeFlush() {
	if f.Err != nil || f.Pipeline.Pending() < f.FlushEvery {
		return
	}
	rep, err := f.Pipeline.Flush(f.Ctx)
	f.Total.Add(rep)
	if err != nil {
		f.Err = fmt.Errorf("flush: %w", err)
	}
}

// Finish flushes what is left and closes every open window.
func (f *Feed) Finish() error {
	if f.Err != nil {
		return f.Err
	}
	rep, err := f.Pipeline.Finish(f.Ctx)
	f.Total.Add(rep)
	return err
}

// Batch implements Handler.
func (f *Feed) Batch(b *cwlogs.Batch, where string) {
	f.Pipeline.AddBatch(b, pipeline.KindUnknown, where+" ("+b.LogGroup+"/"+b.LogStream+")")
	f.maybeFlush()
}

// Flow implements Handler.
func (f *Feed) Flow(r *flowlog.Record, where string) {
	f.Pipeline.AddFlow(r, &pipeline.Source{Where: where, Account: r.AccountID})
	f.maybeFlush()
}

// Audit implements Handler.
func (f *Feed) Audit(ev *k8saudit.Event, where string) {
	f.Pipeline.AddAudit(ev, &pipeline.Source{Where: where})
	f.maybeFlush()
}

// Insights implements Handler.
func (f *Feed) Insights(ev *insights.Event, where string) {
	f.Pipeline.AddInsights(ev, &pipeline.Source{Where: where})
	f.maybeFlush()
}

// Skip implements Handler.
func (f *Feed) Skip(reason, where string, err error) { f.Pipeline.Skip(reason, where, err) }
