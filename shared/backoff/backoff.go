// Package backoff is the retry discipline every AWS adapter shares:
// exponential backoff with full jitter, a wait that the context can end,
// and one test of which errors are worth another try.
package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Policy bounds the retries of one call: at most Attempts tries, sleeping
// before each retry as Sleep does with Base and Max.
type Policy struct {
	Attempts  int
	Base, Max time.Duration
}

// With returns p with attempts, base and max in place of its own where
// they are positive, as the adapters' WithRetry options take them.
func (p Policy) With(attempts int, base, max time.Duration) Policy {
	if attempts > 0 {
		p.Attempts = attempts
	}
	if base > 0 {
		p.Base = base
	}
	if max > 0 {
		p.Max = max
	}
	return p
}

// Sleep waits before retry number attempt (1 for the first retry).
func (p Policy) Sleep(ctx context.Context, attempt int) error {
	return Sleep(ctx, attempt, p.Base, p.Max)
}

// Do calls call until it succeeds, fails with an error retryable does not
// accept, or has been tried Attempts times (once when Attempts is less
// than one). It returns how many times call ran and its last error, or the
// context's error when the context ends between tries.
func (p Policy) Do(ctx context.Context, retryable func(error) bool, call func() error) (int, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := p.Sleep(ctx, attempt); err != nil {
				return attempt, err
			}
		}
		err := call()
		if err == nil || !retryable(err) || attempt+1 >= p.Attempts {
			return attempt + 1, err
		}
	}
}

// Sleep waits before retry number attempt (1 for the first retry) a random
// duration up to base·2^attempt, capped at max, or returns the context's
// error if it ends first.
func Sleep(ctx context.Context, attempt int, base, max time.Duration) error {
	ceil := base << min(attempt, 20)
	if ceil <= 0 || ceil > max {
		ceil = max
	}
	return Wait(ctx, time.Duration(rand.Int64N(int64(ceil)+1)))
}

// Wait waits d, or returns the context's error if it ends first (at once
// when d is not positive).
func Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Transient reports whether err is worth retrying: an API error whose code
// is one of codes or whose fault is the server's, an HTTP 429 or 5xx, or no
// response at all (connection reset, timeout). A cancelled or expired
// context never is.
func Transient(err error, codes ...string) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		for _, c := range codes {
			if api.ErrorCode() == c {
				return true
			}
		}
		if api.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		code := resp.HTTPStatusCode()
		return code == 429 || code >= 500
	}
	return !errors.As(err, &api)
}
