package baseline

import (
	"math"
	"slices"
	"time"
)

// RecentMinutes is how many of the latest minutes a metric remembers as
// observed (not as learned): enough to draw the metric against its band
// around an alert, in the finding itself.
const RecentMinutes = 60

// recent is a metric's last RecentMinutes observed values, oldest first,
// the last one at minute end. Minutes never observed are NaN.
type recent struct {
	end  int64
	vals []float64
}

// Observe records x as metric's value in the minute of t, whether or not
// the minute is learned, so the record of a spike survives for its finding.
// Minutes skipped since the last observation read as zero for Count
// metrics and as missing for Gauge metrics. A t older than the remembered
// span is ignored.
func (m *Model) Observe(metric string, t time.Time, x float64) {
	se := m.series[metric]
	if se == nil {
		return
	}
	minute := unixMinute(t)
	r := &se.recent
	if r.vals == nil {
		r.vals = make([]float64, RecentMinutes)
		for i := range r.vals {
			r.vals[i] = math.NaN()
		}
		r.end = minute
	}
	if minute > r.end {
		fill := math.NaN()
		if se.kind == Count {
			fill = 0
		}
		n := int(min(minute-r.end, RecentMinutes))
		copy(r.vals, r.vals[n:])
		for i := RecentMinutes - n; i < RecentMinutes; i++ {
			r.vals[i] = fill
		}
		r.end = minute
	}
	if i := r.index(minute); i >= 0 {
		r.vals[i] = x
	}
}

// index returns the position of minute in vals, negative when the minute
// is older than the remembered span.
func (r *recent) index(minute int64) int { return RecentMinutes - 1 - int(r.end-minute) }

// Recent returns metric's remembered values from the minute of from to the
// minute of to, both included and clipped to what is remembered, with the
// start of the first minute returned. Missing minutes are NaN; the span
// starts at the first minute that has a value.
func (m *Model) Recent(metric string, from, to time.Time) (time.Time, []float64) {
	se := m.series[metric]
	if se == nil || se.recent.vals == nil {
		return time.Time{}, nil
	}
	r := &se.recent
	lo, hi := unixMinute(from), unixMinute(to)
	lo = max(lo, r.end-RecentMinutes+1)
	hi = min(hi, r.end)
	for lo <= hi && math.IsNaN(r.vals[r.index(lo)]) {
		lo++
	}
	if hi < lo {
		return time.Time{}, nil
	}
	return time.Unix(lo*60, 0).UTC(), slices.Clone(r.vals[r.index(lo) : r.index(hi)+1])
}
