package window

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/tidewatch/tidewatch/shared/wire"
)

// DefaultLateness is how long after a minute ends (in event time, against
// the watermark) its window stays open for late records.
const DefaultLateness = 10 * time.Minute

// ErrWorkload is returned by Open.Merge for a Partial of another workload.
var ErrWorkload = errors.New("window: partial of another workload")

// Late counts records that arrived after their minute had closed. They are
// dropped, not merged into a later minute, because folding minutes of late
// traffic into one window would fake a burst; the counter keeps the loss
// visible.
type Late struct {
	Records, Bytes int64
}

// Window is one closed minute of one workload.
type Window struct {
	Partial
	// Late counts records dropped as late since the previous window of
	// this workload was closed.
	Late Late
}

// Open is the per-workload set of minutes not yet closed. The zero value
// with Workload set is ready to use. Persist it between invocations with
// MarshalBinary.
type Open struct {
	// Workload is the workload whose Partials this holds.
	Workload string
	// Lateness overrides DefaultLateness when positive. It is not
	// persisted: the caller sets it from configuration.
	Lateness time.Duration

	parts  []Partial // sorted by Start, one per minute
	closed int64     // Unix minute before which every minute is closed; 0: none yet
	late   Late      // total since creation
	since  Late      // since the last closed window
}

// Len returns the number of open minutes.
func (o *Open) Len() int { return len(o.parts) }

// Late returns the records dropped as late since the Open was created.
func (o *Open) Late() Late { return o.late }

// ClosedBefore returns the time before which every minute is closed (zero
// when nothing has closed yet).
func (o *Open) ClosedBefore() time.Time {
	if o.closed == 0 {
		return time.Time{}
	}
	return unixUTC(o.closed * 60)
}

// Merge adds p to its minute. A Partial for a minute that is already closed
// is dropped and counted in Late.
func (o *Open) Merge(p Partial) error {
	if p.Workload != o.Workload {
		return ErrWorkload
	}
	m := minuteOf(p.Start)
	if o.closed != 0 && m < o.closed {
		o.late.Records += p.Records
		o.late.Bytes += p.BytesOut + p.BytesIn
		o.since.Records += p.Records
		o.since.Bytes += p.BytesOut + p.BytesIn
		return nil
	}
	i, found := slices.BinarySearchFunc(o.parts, m, func(x Partial, m int64) int {
		return cmp.Compare(minuteOf(x.Start), m)
	})
	if found {
		o.parts[i].Merge(&p)
		return nil
	}
	p = p.Clone()
	p.Start = unixUTC(m * 60)
	o.parts = slices.Insert(o.parts, i, p)
	return nil
}

// Close returns, in time order, the windows whose minute ended at or before
// watermark minus the lateness allowance, and marks those minutes closed.
// The watermark is the latest event time the caller has seen (across all
// workloads of the stream, so that a silent workload's minutes close too).
func (o *Open) Close(watermark time.Time) []Window {
	late := o.Lateness
	if late <= 0 {
		late = DefaultLateness
	}
	cut := minuteOf(watermark.Add(-late)) // minutes starting before cut have ended by watermark-late
	return o.closeBefore(cut)
}

// CloseAll closes every open minute (end of a replay).
func (o *Open) CloseAll() []Window {
	if len(o.parts) == 0 {
		return nil
	}
	return o.closeBefore(minuteOf(o.parts[len(o.parts)-1].Start) + 1)
}

func (o *Open) closeBefore(cut int64) []Window {
	if cut <= o.closed {
		return nil
	}
	o.closed = cut
	n := 0
	for n < len(o.parts) && minuteOf(o.parts[n].Start) < cut {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]Window, n)
	for i := range n {
		out[i].Partial = o.parts[i]
	}
	out[0].Late = o.since
	o.since = Late{}
	o.parts = slices.Delete(o.parts, 0, n)
	return out
}

const openVersion = 1

// maxOpen bounds the minutes an encoding may hold.
const maxOpen = 1 << 12

// MarshalBinary encodes the Open compactly (versioned).
func (o *Open) MarshalBinary() ([]byte, error) {
	e := encoder{wire.Encoder{B: []byte{openVersion}}}
	e.Str(o.Workload)
	e.Int(o.closed)
	e.Int(o.late.Records)
	e.Int(o.late.Bytes)
	e.Int(o.since.Records)
	e.Int(o.since.Bytes)
	e.Uint(uint64(len(o.parts)))
	for i := range o.parts {
		e.partial(&o.parts[i])
	}
	return e.B, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. Lateness is kept.
func (o *Open) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != openVersion {
		return ErrEncoding
	}
	d := decoder{wire.NewDecoder(b[1:], ErrEncoding)}
	v := Open{Lateness: o.Lateness}
	v.Workload = d.Str()
	v.closed = d.Int()
	v.late = Late{d.Int(), d.Int()}
	v.since = Late{d.Int(), d.Int()}
	n := d.Count(maxOpen)
	for range n {
		p := d.partial(v.Workload)
		if d.Err() != nil {
			break
		}
		if len(v.parts) > 0 && !v.parts[len(v.parts)-1].Start.Before(p.Start) {
			d.Fail()
			break
		}
		v.parts = append(v.parts, p)
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail()
	}
	if d.Err() != nil {
		return d.Err()
	}
	*o = v
	return nil
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
