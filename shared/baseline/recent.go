package baseline

import (
	"math"
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
	min := unixMinute(t)
	r := &se.recent
	if r.vals == nil {
		r.vals = make([]float64, RecentMinutes)
		for i := range r.vals {
			r.vals[i] = math.NaN()
		}
		r.end = min
	}
	if min > r.end {
		fill := math.NaN()
		if se.kind == Count {
			fill = 0
		}
		shift := min - r.end
		if shift >= RecentMinutes {
			for i := range r.vals {
				r.vals[i] = fill
			}
		} else {
			n := int(shift)
			copy(r.vals, r.vals[n:])
			for i := RecentMinutes - n; i < RecentMinutes; i++ {
				r.vals[i] = fill
			}
		}
		r.end = min
	}
	i := RecentMinutes - 1 - int(r.end-min)
	if i < 0 {
		return
	}
	r.vals[i] = x
}

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
	for lo <= hi && math.IsNaN(r.vals[RecentMinutes-1-int(r.end-lo)]) {
		lo++
	}
	if hi < lo {
		return time.Time{}, nil
	}
	out := make([]float64, 0, hi-lo+1)
	for mi := lo; mi <= hi; mi++ {
		out = append(out, r.vals[RecentMinutes-1-int(r.end-mi)])
	}
	return time.Unix(lo*60, 0).UTC(), out
}
