package store

import (
	"context"
	"time"

	"github.com/tidewatch/tidewatch/shared/backoff"
)

// Option tunes a Memory or Dynamo store.
type Option func(*options)

type options struct {
	now         func() time.Time
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	concurrency int
}

func newOptions(opts []Option) options {
	o := options{
		now:         time.Now,
		maxAttempts: 20,
		baseDelay:   10 * time.Millisecond,
		maxDelay:    time.Second,
		concurrency: 8,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock sets the clock that decides whether an item has expired. The
// default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithRetry bounds the store's own retries (conflicting updates,
// unprocessed batch items): at most attempts tries, sleeping a random
// duration up to base·2ⁿ, capped at max, between them. The defaults are
// 20 attempts, 10 ms and 1 s. The SDK client's retryer handles throttled
// and failed requests before the store sees them.
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(o *options) {
		if attempts > 0 {
			o.maxAttempts = attempts
		}
		if base > 0 {
			o.baseDelay = base
		}
		if max > 0 {
			o.maxDelay = max
		}
	}
}

// WithConcurrency bounds how many writes Dynamo keeps in flight during
// one UpdateMany (default 8).
func WithConcurrency(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.concurrency = n
		}
	}
}

// backoff sleeps before retry number attempt (1 for the first retry),
// with full jitter, or returns the context's error.
func (o *options) backoff(ctx context.Context, attempt int) error {
	return backoff.Sleep(ctx, attempt, o.baseDelay, o.maxDelay)
}

// live reports whether an item expiring at expires is still readable at
// now.
func live(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(expires)
}
