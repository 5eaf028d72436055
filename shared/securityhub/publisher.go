package securityhub

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/tidewatch/tidewatch/shared/backoff"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// API is the part of the Security Hub client that Publisher uses;
// *securityhub.Client satisfies it.
type API interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ pipeline.Publisher = (*Publisher)(nil)

// maxRemembered bounds the per-Id memory of the last UpdatedAt sent; past
// it the memory starts over (the pipeline's own stamps still increase).
const maxRemembered = 100_000

// Publisher imports findings into Security Hub. It is safe for concurrent
// use.
type Publisher struct {
	api   API
	clock *Clock
	retry backoff.Policy

	mu   sync.Mutex
	sent map[string]time.Time // Id → UpdatedAt last imported
}

// Option tunes a Publisher.
type Option func(*Publisher)

// WithClock shares the process's monotonic clock (see Clock); by default
// the Publisher has its own.
func WithClock(c *Clock) Option {
	return func(p *Publisher) {
		if c != nil {
			p.clock = c
		}
	}
}

// WithRetry bounds the Publisher's own retries of throttled, failed and
// refused imports: at most attempts tries per batch, sleeping a random
// duration up to base·2ⁿ, capped at max. Defaults: 6 attempts, 200 ms, 5 s.
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(p *Publisher) { p.retry = p.retry.With(attempts, base, max) }
}

// New returns a Publisher importing through api.
func New(api API, opts ...Option) *Publisher {
	p := &Publisher{
		api:   api,
		retry: backoff.Policy{Attempts: 6, Base: 200 * time.Millisecond, Max: 5 * time.Second},
		sent:  map[string]time.Time{},
	}
	for _, o := range opts {
		o(p)
	}
	if p.clock == nil {
		p.clock = NewClock(nil)
	}
	return p
}

// prepared is one finding ready to send.
type prepared struct {
	id    string
	asff  types.AwsSecurityFinding
	size  int
	stamp time.Time
}

// Publish implements pipeline.Publisher. Findings are trimmed to the ASFF
// limits, given an UpdatedAt later than any this process sent for their
// Id, and imported in batches of at most 100 findings and 6 MB. Throttled
// or failed requests and findings Security Hub refused are retried with
// backoff, a bounded number of times; what still failed is returned as a
// *pipeline.PartialError naming the finding ids. When one Id appears more
// than once, the last one is sent.
func (p *Publisher) Publish(ctx context.Context, findings []finding.Finding) error {
	last := make(map[string]int, len(findings))
	for i := range findings {
		last[findings[i].ID] = i
	}
	var batch []prepared
	var batchBytes int
	var failed []string
	var errs []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ids, msgs := p.importBatch(ctx, batch)
		failed = append(failed, ids...)
		errs = append(errs, msgs...)
		batch, batchBytes = nil, 0
	}
	for i := range findings {
		if last[findings[i].ID] != i {
			continue
		}
		pf := p.prepare(&findings[i])
		if len(batch) == MaxBatchFindings || batchBytes+pf.size+1 > MaxBatchBytes-1024 {
			flush()
		}
		batch = append(batch, pf)
		batchBytes += pf.size + 1
	}
	flush()
	if len(failed) == 0 {
		return nil
	}
	sort.Strings(failed)
	return &pipeline.PartialError{
		Failed: failed,
		Err:    fmt.Errorf("securityhub: %d of %d findings not imported: %s", len(failed), len(last), strings.Join(errs, "; ")),
	}
}

func (p *Publisher) prepare(f *finding.Finding) prepared {
	t := Trim(*f, 0)
	p.mu.Lock()
	prev, seen := p.sent[t.ID]
	p.mu.Unlock()
	stamp, err := finding.ParseTimestamp(t.UpdatedAt)
	if err != nil || (seen && !stamp.After(prev)) {
		stamp = p.clock.After(prev)
		t.UpdatedAt = finding.Timestamp(stamp)
	}
	if t.CreatedAt == "" || t.CreatedAt > t.UpdatedAt {
		t.CreatedAt = t.UpdatedAt
	}
	asff := Convert(&t)
	b, _ := json.Marshal(t)
	return prepared{id: t.ID, asff: asff, size: len(b), stamp: stamp}
}

// importBatch sends one batch until every finding is in or the attempts
// run out, returning the ids that failed and why.
func (p *Publisher) importBatch(ctx context.Context, batch []prepared) (failed, reasons []string) {
	pending := batch
	var lastErr error
	refused := map[string]string{} // Id → error code and message
	var gaveUp []prepared          // refused as invalid: not retried
	for attempt := 0; attempt < p.retry.Attempts && len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := p.retry.Sleep(ctx, attempt); err != nil {
				lastErr = err
				break
			}
		}
		in := &securityhub.BatchImportFindingsInput{Findings: make([]types.AwsSecurityFinding, len(pending))}
		for i, pf := range pending {
			in.Findings[i] = pf.asff
		}
		out, err := p.api.BatchImportFindings(ctx, in)
		if err != nil {
			lastErr = err
			if !retryable(err) {
				break
			}
			continue
		}
		lastErr = nil
		round := map[string]string{}
		for _, ff := range out.FailedFindings {
			round[aws.ToString(ff.Id)] = aws.ToString(ff.ErrorCode) + ": " + aws.ToString(ff.ErrorMessage)
		}
		maps.Copy(refused, round)
		var next []prepared
		for _, pf := range pending {
			reason, bad := round[pf.id]
			switch {
			case !bad:
				p.remember(pf)
			case transientCode(reason):
				next = append(next, pf)
			default:
				gaveUp = append(gaveUp, pf)
			}
		}
		pending = next
	}
	pending = append(gaveUp, pending...)
	for _, pf := range pending {
		failed = append(failed, pf.id)
		switch {
		case refused[pf.id] != "":
			reasons = append(reasons, pf.id+" ("+refused[pf.id]+")")
		case lastErr != nil:
			reasons = append(reasons, pf.id+" ("+lastErr.Error()+")")
		}
	}
	return failed, reasons
}

func (p *Publisher) remember(pf prepared) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) >= maxRemembered {
		p.sent = map[string]time.Time{}
	}
	if pf.stamp.After(p.sent[pf.id]) {
		p.sent[pf.id] = pf.stamp
	}
}

// retryable reports throttling, limits and server-side failures.
func retryable(err error) bool {
	return backoff.Transient(err, "TooManyRequestsException", "ThrottlingException", "Throttling", "LimitExceededException",
		"InternalException", "InternalServerException", "ServiceUnavailable", "ServiceUnavailableException")
}

// transientCode reports whether a FailedFindings error ("code: message")
// is worth retrying; one saying the finding itself is invalid is not.
func transientCode(reason string) bool {
	code, _, _ := strings.Cut(reason, ":")
	c := strings.ToLower(code)
	return !strings.Contains(c, "invalid") && !strings.Contains(c, "validation") && !strings.Contains(c, "accessdenied")
}
