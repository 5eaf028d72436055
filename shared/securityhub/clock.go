package securityhub

import (
	"sync"
	"time"
)

// Clock hands out strictly increasing times at millisecond resolution (the
// resolution of ASFF timestamps), even when the wall clock stalls or steps
// back. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  func() time.Time
	last time.Time
}

// NewClock returns a Clock reading now (time.Now when nil).
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now}
}

// Now returns a UTC time later than every time it returned before, by at
// least one millisecond.
func (c *Clock) Now() time.Time { return c.After(time.Time{}) }

// After returns Now, or a time just after t if that is later: the
// UpdatedAt for a re-send of a finding last sent with UpdatedAt t.
func (c *Clock) After(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.now().UTC().Truncate(time.Millisecond)
	if !n.After(c.last) {
		n = c.last.Add(time.Millisecond)
	}
	if next := t.UTC().Truncate(time.Millisecond).Add(time.Millisecond); next.After(n) {
		n = next
	}
	c.last = n
	return n
}
