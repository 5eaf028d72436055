package pipeline

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/detect"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/resource"
	"github.com/tidewatch/tidewatch/shared/rules"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/window"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// Options wires a Pipeline. Store and Publisher are required.
type Options struct {
	Store     Store
	Publisher Publisher
	// Notifier is optional; nil sends no notifications.
	Notifier Notifier
	// Suppressor is optional; nil suppresses nothing.
	Suppressor Suppressor
	// Finding says where findings are reported (account, region,
	// partition) when the evidence does not.
	Finding finding.Context
	// Clock gives processing time for CreatedAt/UpdatedAt and item
	// expiry. Nil uses the event clock: the latest event time seen, which
	// makes replays deterministic.
	Clock func() time.Time
	// MinNotify is the lowest severity that is notified (default Medium).
	MinNotify *signal.Severity
	// LearnOnly learns identities and baselines but reports nothing
	// (backfill).
	LearnOnly bool
	// FlowFormat is the format of flow records in CloudWatch Logs
	// messages (they carry no header); zero means the default format.
	FlowFormat flowlog.Format
	// Rules tunes the audit-log rules.
	Rules rules.Config
	// Detect tunes the network detectors; zero means detect.DefaultConfig.
	Detect *detect.Config
	// Config, when set (Configure sets it), is combined at each batch with
	// the run-time suppressions kept in the store.
	Config *config.Config
	// DefaultCluster names the EKS cluster of audit events whose log group
	// names none (files); "unknown" when empty.
	DefaultCluster string
}

// Pipeline runs batches of records through every step. It is not safe for
// concurrent use; run one per goroutine (state is shared through Store).
type Pipeline struct {
	store      Store
	publisher  Publisher
	notifier   Notifier
	suppressor Suppressor
	findingCtx finding.Context
	clock      func() time.Time
	eventClock time.Time
	minNotify  signal.Severity
	learnOnly  bool
	findingTTL time.Duration

	cfg            *config.Config
	resourceCfg    resource.Config
	samples        map[string][]resource.Sample
	nSamples       int // resource samples in samples
	parser         *flowlog.Parser
	rec            flowlog.Record
	engine         *rules.Engine
	detectCfg      detect.Config
	defaultCluster string
	ids            *identities
	agg            window.Aggregator
	rep            Report
	flows          []flowEntry
	audit          []auditEntry
	ecsIDs         map[ecsKey]string
	vpcIDs         map[vpcKey]string
	accounts       map[string]string
	touched        map[string]bool
}

// New returns a pipeline over the given adapters.
func New(o Options) (*Pipeline, error) {
	if o.Store == nil {
		return nil, errors.New("pipeline: no store")
	}
	if o.Publisher == nil && !o.LearnOnly {
		return nil, errors.New("pipeline: no publisher")
	}
	p := &Pipeline{
		store:      &countingStore{Store: o.Store},
		publisher:  o.Publisher,
		notifier:   o.Notifier,
		suppressor: o.Suppressor,
		findingCtx: o.Finding,
		clock:      o.Clock,
		minNotify:  signal.Medium,
		learnOnly:  o.LearnOnly,
		// Security Hub keeps findings 90 days after their last update.
		findingTTL: 90 * 24 * time.Hour,
	}
	p.cfg = o.Config
	p.parser = flowlog.NewParser(o.FlowFormat)
	p.ids = newIdentities()
	p.engine = rules.NewEngine(o.Rules, func(cluster, ns, pod string) (string, bool) {
		return p.ids.podWorkload(cluster, ns, pod)
	})
	p.detectCfg = detect.DefaultConfig()
	if o.Detect != nil {
		p.detectCfg = *o.Detect
	}
	p.defaultCluster = o.DefaultCluster
	if p.defaultCluster == "" {
		p.defaultCluster = workload.UnknownCluster
	}
	p.ecsIDs = map[ecsKey]string{}
	p.vpcIDs = map[vpcKey]string{}
	p.accounts = map[string]string{}
	p.touched = map[string]bool{}
	p.samples = map[string][]resource.Sample{}
	p.resourceCfg = resource.DefaultConfig()
	p.resourceCfg.Learning = p.detectCfg.Learning
	if o.MinNotify != nil {
		p.minNotify = *o.MinNotify
	}
	return p, nil
}

// now is processing time: the injected clock, or the event clock.
func (p *Pipeline) now() time.Time {
	if p.clock != nil {
		return p.clock()
	}
	if p.eventClock.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return p.eventClock
}

// observe advances the event clock.
func (p *Pipeline) observe(t time.Time) {
	if t.After(p.eventClock) {
		p.eventClock = t
	}
}

// StoreStats returns the store operations the pipeline has made so far.
func (p *Pipeline) StoreStats() StoreStats {
	return p.store.(*countingStore).stats
}

// Report says what one batch (or a whole replay) did, for the single log
// line an entry point writes.
type Report struct {
	// Records counts records read, by kind ("flow", "audit", "insights").
	Records map[string]int `json:"records"`
	// Skipped counts records skipped, by reason.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Examples holds the first skipped records' reasons with where they
	// came from, for the log.
	Examples []string `json:"examples,omitempty"`
	// Signals counts detector signals before merging into findings.
	Signals int `json:"signals"`
	// Findings counts findings created or updated, by severity label.
	Findings map[string]int `json:"findings,omitempty"`
	// Suppressed counts findings recorded as suppressed.
	Suppressed int `json:"suppressed,omitempty"`
	// Notified counts notifications sent.
	Notified int `json:"notified,omitempty"`
	// Duplicate reports a batch already processed (redelivery), skipped.
	Duplicate bool `json:"duplicate,omitempty"`
}

// maxExamples bounds the skipped-record examples a report keeps.
const maxExamples = 20

// Skip counts a skipped record with its reason; where says which record.
func (r *Report) Skip(reason, where string, err error) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[reason]++
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, fmt.Sprintf("%s: %s: %v", where, reason, err))
	}
}

// Read counts n records of a kind.
func (r *Report) Read(kind string, n int) {
	if r.Records == nil {
		r.Records = map[string]int{}
	}
	r.Records[kind] += n
}

func (r *Report) countFinding(o *findingOutcome) {
	if r.Findings == nil {
		r.Findings = map[string]int{}
	}
	r.Findings[o.f.Severity.Label]++
	if o.suppressed {
		r.Suppressed++
	}
}

// Add folds another report into r.
func (r *Report) Add(o Report) {
	for k, v := range o.Records {
		r.Read(k, v)
	}
	for k, v := range o.Skipped {
		if r.Skipped == nil {
			r.Skipped = map[string]int{}
		}
		r.Skipped[k] += v
	}
	for _, e := range o.Examples {
		if len(r.Examples) < maxExamples {
			r.Examples = append(r.Examples, e)
		}
	}
	r.Signals += o.Signals
	for k, v := range o.Findings {
		if r.Findings == nil {
			r.Findings = map[string]int{}
		}
		r.Findings[k] += v
	}
	r.Suppressed += o.Suppressed
	r.Notified += o.Notified
}

// String renders the report as one human line.
func (r *Report) String() string {
	var b strings.Builder
	b.WriteString("records:")
	b.WriteString(counts(r.Records))
	if len(r.Skipped) > 0 {
		b.WriteString(" skipped:")
		b.WriteString(counts(r.Skipped))
	}
	fmt.Fprintf(&b, " signals: %d findings:%s", r.Signals, counts(r.Findings))
	if r.Suppressed > 0 {
		fmt.Fprintf(&b, " suppressed: %d", r.Suppressed)
	}
	if r.Notified > 0 {
		fmt.Fprintf(&b, " notified: %d", r.Notified)
	}
	return b.String()
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return " none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, m[k])
	}
	return b.String()
}

// EventTime returns the latest event time the pipeline has seen: the
// clock of a replay.
func (p *Pipeline) EventTime() time.Time { return p.now() }
