// Package test holds the end-to-end tests: the sample events of events/
// replayed through the whole pipeline, judged against the expectations the
// simulator wrote beside them.
package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/input"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/simulate"
	"github.com/tidewatch/tidewatch/shared/store"
)

// pending lists the expected detections the current detectors miss on
// these samples, each with why. Every other expectation must hold.
var pending = map[string]string{}

type collector map[string]finding.Finding

func (c collector) Publish(_ context.Context, fs []finding.Finding) error {
	for _, f := range fs {
		c[f.ID] = f
	}
	return nil
}

// replayEvents returns the findings of the sample events, replayed once
// for every test that judges them; the findings are shared, read only.
func replayEvents(t *testing.T) []finding.Finding {
	t.Helper()
	r, err := replayOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.skipped {
		t.Error(s)
	}
	return r.findings
}

// replay is what replaying events/ gave: the findings, and a line for each
// reason records were skipped for.
type replay struct {
	findings []finding.Finding
	skipped  []string
}

var replayOnce = sync.OnceValues(func() (replay, error) {
	cfg, err := config.Load("../events/tidewatch.yaml")
	if err != nil {
		return replay{}, err
	}
	var opts pipeline.Options
	if err := opts.Configure(&cfg); err != nil {
		return replay{}, err
	}
	var p *pipeline.Pipeline
	opts.Store = store.NewMemory(store.WithClock(func() time.Time { return p.EventTime() }))
	sink := collector{}
	opts.Publisher = sink
	if p, err = pipeline.New(opts); err != nil {
		return replay{}, err
	}
	f := opts.FlowFormat
	feed := &input.Feed{Ctx: context.Background(), Pipeline: p, FlushEvery: 50000}
	dirs := []string{"../events/flowlogs", "../events/audit", "../events/metrics"}
	if err := input.Read(dirs, input.Options{FlowFormat: &f}, feed); err != nil {
		return replay{}, err
	}
	if err := feed.Finish(); err != nil {
		return replay{}, err
	}
	var r replay
	for reason, n := range feed.Total.Skipped {
		if !strings.HasPrefix(reason, "ignored Container Insights type") {
			r.skipped = append(r.skipped, fmt.Sprintf("%d records skipped: %s (%v)", n, reason, feed.Total.Examples))
		}
	}
	r.findings = make([]finding.Finding, 0, len(sink))
	for _, f := range sink {
		r.findings = append(r.findings, f)
	}
	return r, nil
})

func TestSampleScenarios(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "events", simulate.ExpectedFile))
	if err != nil {
		t.Fatal(err)
	}
	var exps []simulate.Expectation
	if err := json.Unmarshal(data, &exps); err != nil {
		t.Fatal(err)
	}
	findings := replayEvents(t)
	observed := func(f *finding.Finding) (time.Time, time.Time) {
		a, _ := finding.ParseTimestamp(f.FirstObservedAt)
		b, _ := finding.ParseTimestamp(f.LastObservedAt)
		return a, b
	}
	for _, e := range exps {
		if e.Quiet {
			continue
		}
		t.Run("attack/"+e.Scenario+"/"+e.Detector, func(t *testing.T) {
			if why, ok := pending[e.Detector]; ok {
				t.Skipf("pending: %s", why)
			}
			for i := range findings {
				f := &findings[i]
				first, last := observed(f)
				if f.ProductFields[finding.FieldDetector] == e.Detector && f.ProductFields[finding.FieldWorkload] == e.Workload &&
					!first.After(e.To) && !last.Before(e.From.Add(-time.Minute)) {
					if !strings.HasPrefix(f.ProductFields[finding.FieldTechnique], strings.SplitN(e.Technique, ".", 2)[0]) {
						t.Errorf("technique %s, want %s", f.ProductFields[finding.FieldTechnique], e.Technique)
					}
					return
				}
			}
			t.Errorf("no %s finding on %s between %s and %s", e.Detector, e.Workload, e.From, e.To)
		})
	}
	for _, e := range exps {
		if !e.Quiet {
			continue
		}
		t.Run("trap/"+e.Scenario+"/"+e.Workload, func(t *testing.T) {
			for i := range findings {
				f := &findings[i]
				first, last := observed(f)
				if f.ProductFields[finding.FieldWorkload] == e.Workload && first.Before(e.To) && !last.Before(e.From) {
					t.Errorf("trap %s: finding %q (%s) between %s and %s", e.Scenario, f.Title, f.ProductFields[finding.FieldDetector], e.From, e.To)
				}
			}
		})
	}
}

// TestCorrelatedFindingsAreOnePerHour checks the contract that repeats of a
// detection update one finding: no two findings share detector, workload
// and hour.
func TestCorrelatedFindingsAreOnePerHour(t *testing.T) {
	seen := map[string]string{}
	for _, f := range replayEvents(t) {
		first, _ := finding.ParseTimestamp(f.FirstObservedAt)
		k := finding.ID(f.ProductFields[finding.FieldDetector], f.ProductFields[finding.FieldWorkload], first)
		if prev, dup := seen[k]; dup {
			t.Errorf("findings %s and %s share %s", prev, f.ID, k)
		}
		seen[k] = f.ID
	}
}

// TestExecThenFloodIsCritical: the flood from the pod someone exec'd into
// is one CRITICAL finding that links the exec.
func TestExecThenFloodIsCritical(t *testing.T) {
	var flood, exec *finding.Finding
	findings := replayEvents(t)
	for i := range findings {
		f := &findings[i]
		if f.ProductFields[finding.FieldWorkload] != "eks/prod/shop/Deployment/cart" {
			continue
		}
		switch f.ProductFields[finding.FieldDetector] {
		case "net-flood":
			flood = f
		case "k8s-exec":
			exec = f
		}
	}
	if flood == nil || exec == nil {
		t.Fatalf("flood %v, exec %v", flood != nil, exec != nil)
	}
	if flood.Severity.Label != "CRITICAL" {
		t.Errorf("flood severity %s, want CRITICAL", flood.Severity.Label)
	}
	if len(flood.RelatedFindings) != 1 || flood.RelatedFindings[0].ID != exec.ID {
		t.Errorf("flood related %+v, want the exec %s", flood.RelatedFindings, exec.ID)
	}
	if !strings.Contains(flood.Description, "k8s-exec") {
		t.Errorf("flood description does not name the exec: %s", flood.Description)
	}
}
