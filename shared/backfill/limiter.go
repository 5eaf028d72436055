package backfill

import (
	"context"
	"sync"
	"time"

	"github.com/tidewatch/tidewatch/shared/backoff"
)

// Limiter spaces calls evenly, at most a given number per second, across
// every goroutine that shares it. A nil *Limiter lets every call through.
type Limiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

// NewLimiter returns a limiter of perSecond calls a second; zero or less
// means no limit (nil).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the caller may make its call, or returns the
// context's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	return backoff.Wait(ctx, at.Sub(now))
}
