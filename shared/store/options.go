package store

import (
	"time"

	"github.com/tidewatch/tidewatch/shared/backoff"
)

// Option tunes a Memory or Dynamo store.
type Option func(*options)

type options struct {
	now         func() time.Time
	retry       backoff.Policy
	concurrency int
}

func newOptions(opts []Option) options {
	o := options{
		now:         time.Now,
		retry:       backoff.Policy{Attempts: 20, Base: 10 * time.Millisecond, Max: time.Second},
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
	return func(o *options) { o.retry = o.retry.With(attempts, base, max) }
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

// live reports whether an item expiring at expires is still readable at
// now.
func live(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(expires)
}
