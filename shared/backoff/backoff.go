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
