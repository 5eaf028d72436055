package backfill

import (
	"fmt"
	"time"
)

// DefaultSlice is the length of the time slices a range is cut into: short
// enough that a few slices of a busy log group fit in memory and that an
// interruption loses little, long enough that FilterLogEvents pages are
// full.
const DefaultSlice = time.Hour

// Range is a half-open interval of event time, [Start, End), at the
// millisecond resolution of CloudWatch Logs timestamps.
type Range struct {
	Start, End time.Time
}

// NewRange returns [start, end) truncated to milliseconds, in UTC.
func NewRange(start, end time.Time) Range {
	return Range{Start: toMilli(start), End: toMilli(end)}
}

func toMilli(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// Empty reports whether r holds no instant.
func (r Range) Empty() bool { return !r.Start.Before(r.End) }

// Duration is the length of r, zero when empty.
func (r Range) Duration() time.Duration {
	if r.Empty() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// String renders r in RFC 3339, as the command takes it.
func (r Range) String() string {
	return r.Start.UTC().Format(time.RFC3339) + " → " + r.End.UTC().Format(time.RFC3339)
}

// intersect returns the part of r inside o (possibly empty).
func (r Range) intersect(o Range) Range {
	out := r
	if o.Start.After(out.Start) {
		out.Start = o.Start
	}
	if o.End.Before(out.End) {
		out.End = o.End
	}
	if out.Empty() {
		return Range{}
	}
	return out
}

// Slices cuts r at the multiples of d since the Unix epoch: the first and
// last slices may be shorter than d, every other one starts on the grid.
// Using one grid for every log group and every run keeps the checkpoints
// of different groups on common boundaries.
func Slices(r Range, d time.Duration) []Range {
	if r.Empty() || d <= 0 {
		return nil
	}
	var out []Range
	for s := r.Start; s.Before(r.End); {
		e := gridFloor(s, d).Add(d)
		if e.After(r.End) {
			e = r.End
		}
		out = append(out, Range{Start: s, End: e})
		s = e
	}
	return out
}

// gridFloor returns the grid point at or before t.
func gridFloor(t time.Time, d time.Duration) time.Time {
	ms := t.UnixMilli()
	step := d.Milliseconds()
	if step <= 0 {
		return t
	}
	f := ms - ms%step
	if ms%step < 0 {
		f -= step
	}
	return time.UnixMilli(f).UTC()
}

// Plan is what one run reads of one log group, given what earlier runs
// covered.
type Plan struct {
	// LogGroup names the group.
	LogGroup string
	// Want is the range asked for.
	Want Range
	// Covered is the part of Want an earlier run already read.
	Covered Range
	// Before is the part of Want older than the checkpoint's start: it
	// cannot be learned after later history and is not read.
	Before Range
	// Read is the part to read now; empty when there is nothing to do.
	Read Range
	// Slices cut Read on the grid.
	Slices []Range
	// Checkpoint is the group's checkpoint before this run, nil if none.
	Checkpoint *Checkpoint
}

// PlanGroup decides what to read of group in want given its checkpoint
// (nil when no run has covered any of it): everything after the
// checkpoint's end, and nothing before it.
func PlanGroup(group string, want Range, cp *Checkpoint, slice time.Duration) Plan {
	p := Plan{LogGroup: group, Want: want, Read: want, Checkpoint: cp}
	if cp != nil && !cp.Covered().Empty() {
		c := cp.Covered()
		p.Covered = want.intersect(c)
		p.Before = want.intersect(Range{Start: want.Start, End: c.Start})
		p.Read = want.intersect(Range{Start: c.End, End: want.End})
	}
	p.Slices = Slices(p.Read, slice)
	return p
}

// Describe renders the plan as one line for the operator.
func (p *Plan) Describe() string {
	s := p.LogGroup + ": "
	switch {
	case p.Read.Empty() && !p.Covered.Empty():
		s += fmt.Sprintf("%s already covered by an earlier run; nothing to read", p.Covered)
	case p.Read.Empty():
		s += "nothing to read"
	default:
		s += fmt.Sprintf("reading %s in %d slices", p.Read, len(p.Slices))
		if !p.Covered.Empty() {
			s += fmt.Sprintf(" (%s already covered)", p.Covered)
		}
	}
	if !p.Before.Empty() {
		s += fmt.Sprintf("; skipping %s: it is older than what earlier runs learned (from %s), and history is learned in event-time order only",
			p.Before, p.Checkpoint.From.UTC().Format(time.RFC3339))
	}
	return s
}
