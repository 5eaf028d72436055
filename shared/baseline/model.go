package baseline

import (
	"math"
	"sort"
	"time"
)

// Metric names of the network sub-models. Other packages add their own
// (e.g. "cpu") with Model.Define.
const (
	BytesOut   = "bytes_out"
	PacketsOut = "packets_out"
	FlowsOut   = "flows_out"
	Dests      = "dests"
	Ports      = "ports"
	SYNOut     = "syn_out"
	Rejects    = "rejects"
	UDPPackets = "udp_packets_out"
	BytesIn    = "bytes_in"
)

// NetworkMetrics lists the metrics New defines, all of Kind Count.
var NetworkMetrics = []string{BytesOut, PacketsOut, FlowsOut, Dests, Ports, SYNOut, Rejects, UDPPackets, BytesIn}

// Kind says how a metric treats minutes with no data.
type Kind uint8

const (
	// Count metrics learn a gap as zeros (no flow records: no traffic).
	Count Kind = iota
	// Gauge metrics (CPU, memory) learn nothing for a gap.
	Gauge
)

// MaxGap bounds the minutes of zeros learned for one gap, so a workload
// that was deleted and comes back, or a logging outage, does not flood the
// histograms with zeros.
const MaxGap = 24 * 60

// scaleFloor is the smallest robust scale, in log2 units, so that a very
// steady metric does not alert on a 20% wobble.
const scaleFloor = 0.5

const (
	slotWeekday = 0
	slotWeekend = 24
	slotOverall = 48
	nSlots      = 49
)

type series struct {
	kind   Kind
	slots  [nSlots]hist
	slow   Slow
	recent recent
}

// Slow is the state of one metric's one-sided CUSUM.
type Slow struct {
	// Sum is the cumulative excess of robust z over the allowance.
	Sum float64
	// Start is when Sum last left zero; Peak the largest z since.
	Start time.Time
	Peak  float64
	// Minutes counts the minutes since Start.
	Minutes int
	// Episode is when the rise that last alarmed began; it outlives the
	// reset after an alarm, so that a rise that goes on and alarms again
	// is reported as the same episode. Zero when no episode is open.
	Episode time.Time
	// Quiet counts the minutes Sum has stayed at zero during an episode;
	// past EpisodeQuiet the episode is over.
	Quiet int
}

// EpisodeQuiet is how long a CUSUM must stay at zero to close its episode.
const EpisodeQuiet = 30

// Model is the learned normal of one workload. Create it with New; the
// exported trackers are read and updated by package detect.
type Model struct {
	// Workload is the canonical workload id.
	Workload string
	// Ready is when the model first had the learning period behind it
	// (set by the detector); zero while learning.
	Ready time.Time

	series  map[string]*series
	first   int64 // Unix minute of the first evaluated window; 0: none
	seen    int64 // Unix minute of the last evaluated window
	trained int64 // minutes learned, including gap zeros

	// Dests are the known external destinations.
	Dests KnownSet
	// Listeners are the local ports known to accept inbound sessions.
	Listeners []PortCount
	// Knockers are the sources with recent refused connection attempts.
	Knockers []Knocker
	// Beacons track candidate periodic external destinations.
	Beacons []Beacon
	// Stale counts windows refused by Advance because they were at or
	// before the last evaluated minute (a caller feeding windows out of
	// order); they are neither scored nor learned.
	Stale int64
}

// New returns an empty Model with the network metrics defined.
func New(workload string) *Model {
	m := &Model{Workload: workload, series: make(map[string]*series)}
	for _, n := range NetworkMetrics {
		m.Define(n, Count)
	}
	return m
}

// Define adds a metric if it is not defined yet.
func (m *Model) Define(metric string, k Kind) {
	if m.series == nil {
		m.series = make(map[string]*series)
	}
	if _, ok := m.series[metric]; !ok {
		m.series[metric] = &series{kind: k}
	}
}

// Metrics returns the defined metric names, sorted.
func (m *Model) Metrics() []string {
	out := make([]string, 0, len(m.series))
	for n := range m.series {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Trained returns how much event time the model has learned from.
func (m *Model) Trained() time.Duration { return time.Duration(m.trained) * time.Minute }

// Seen returns the start of the last evaluated minute (zero if none).
func (m *Model) Seen() time.Time {
	if m.first == 0 {
		return time.Time{}
	}
	return time.Unix(m.seen*60, 0).UTC()
}

func unixMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 59) / 60
	}
	return s / 60
}

func slotOf(minute int64) int {
	t := time.Unix(minute*60, 0).UTC()
	h := t.Hour()
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return slotWeekend + h
	}
	return slotWeekday + h
}

// Advance moves the model to the minute of t before that minute is scored:
// the minutes since the last evaluated window are learned as zeros for
// Count metrics (at most MaxGap), and a gap of more than ten minutes resets
// the CUSUMs. It reports whether t is new: a t at or before the last
// evaluated minute returns false, and the caller should neither score nor
// learn it (windows must come in time order).
func (m *Model) Advance(t time.Time) bool {
	min := unixMinute(t)
	if m.first == 0 {
		m.first, m.seen = min, min
		m.trained++
		return true
	}
	if min <= m.seen {
		m.Stale++
		return false
	}
	gap := min - m.seen - 1
	if gap > MaxGap {
		gap = MaxGap
	}
	for g := min - gap; g < min; g++ {
		s := slotOf(g)
		for _, se := range m.series {
			if se.kind == Count {
				se.slots[s].add(0)
				se.slots[slotOverall].add(0)
			}
		}
	}
	if gap > 10 {
		for _, se := range m.series {
			se.slow = Slow{}
		}
	}
	m.trained += gap + 1
	m.seen = min
	return true
}

// Learn adds one minute's value of metric at t. Unknown metrics are
// defined as Count.
func (m *Model) Learn(metric string, t time.Time, x float64) {
	se := m.series[metric]
	if se == nil {
		m.Define(metric, Count)
		se = m.series[metric]
	}
	b := bucketOf(x)
	se.slots[slotOf(unixMinute(t))].add(b)
	se.slots[slotOverall].add(b)
}

// Band is the normal range of a metric at one time, with what it rests on.
type Band struct {
	// Expected is the median.
	Expected float64
	// Low and High bound the normal band.
	Low, High float64
	// Scale is the robust spread in log2 units (IQR/1.349, floored).
	Scale float64
	// Top is the slot's 99th percentile before widening: the most the
	// workload is known to do at this time.
	Top float64
	// Samples behind the slot used, and the slot's name
	// ("weekday 14h", "weekend 02h", "overall").
	Samples int
	Slot    string
}

// Z returns the robust z-score of x: its distance from Expected in log2
// units divided by Scale. Positive above the median.
func (b Band) Z(x float64) float64 {
	if b.Scale <= 0 {
		return 0
	}
	return (math.Log2(1+x) - math.Log2(1+b.Expected)) / b.Scale
}

// Band returns the band of metric at t. The band is the 1st to 99th
// percentile of the slot widened by k robust scales on each side (in log
// space). A metric with no data has a zero band with Samples 0.
func (m *Model) Band(metric string, t time.Time, k float64) Band {
	se := m.series[metric]
	if se == nil {
		return Band{Slot: "none"}
	}
	s := slotOf(unixMinute(t))
	h := &se.slots[s]
	name := slotNames[s]
	if h.total < MinSlotSamples {
		other := (s + slotWeekend) % slotOverall
		if se.slots[other].total >= MinSlotSamples {
			h, name = &se.slots[other], slotNames[other]
		} else {
			h, name = &se.slots[slotOverall], "overall"
		}
	}
	if h.total == 0 {
		return Band{Slot: name}
	}
	l := func(x float64) float64 { return math.Log2(1 + x) }
	med := h.quantile(0.5)
	scale := max((l(h.quantile(0.75))-l(h.quantile(0.25)))/1.349, scaleFloor)
	top := h.quantile(0.99)
	hi := math.Exp2(l(top)+k*scale) - 1
	lo := max(math.Exp2(l(h.quantile(0.01))-k*scale)-1, 0)
	return Band{Expected: med, Low: lo, High: hi, Top: top, Scale: scale, Samples: int(h.total), Slot: name}
}

// slotNames are the slots' names, made once: Band runs for every metric of
// every window and would otherwise build its slot's name each time.
var slotNames = func() (names [nSlots]string) {
	for s := range names {
		names[s] = slotName(s)
	}
	return names
}()

func slotName(s int) string {
	const digits = "0123456789"
	h := s % 24
	hh := string([]byte{digits[h/10], digits[h%10]}) + "h"
	switch {
	case s == slotOverall:
		return "overall"
	case s >= slotWeekend:
		return "weekend " + hh
	default:
		return "weekday " + hh
	}
}

// Accumulate feeds the robust z-score z of metric at t into its one-sided
// CUSUM: Sum = max(0, Sum + min(z, clip) - allowance). It returns the state
// and whether Sum passed threshold; on an alarm the CUSUM resets to zero
// (the returned state is the one that alarmed) but its Episode stays open
// until Sum has rested at zero for EpisodeQuiet minutes.
func (m *Model) Accumulate(metric string, t time.Time, z, allowance, clip, threshold float64) (Slow, bool) {
	se := m.series[metric]
	if se == nil {
		return Slow{}, false
	}
	z = min(z, clip)
	st := &se.slow
	next := st.Sum + z - allowance
	if next <= 0 {
		episode, quiet := st.Episode, st.Quiet+1
		if episode.IsZero() || quiet > EpisodeQuiet {
			episode, quiet = time.Time{}, 0
		}
		*st = Slow{Episode: episode, Quiet: quiet}
		return *st, false
	}
	if st.Sum == 0 {
		st.Start = time.Unix(unixMinute(t)*60, 0).UTC()
		st.Peak = 0
		st.Minutes = 0
	}
	st.Quiet = 0
	st.Sum = next
	st.Peak = max(st.Peak, z)
	st.Minutes++
	if st.Sum > threshold {
		if st.Episode.IsZero() {
			st.Episode = st.Start
		}
		out := *st
		*st = Slow{Episode: out.Episode}
		return out, true
	}
	return *st, false
}

// JoinEpisode moves the start of metric's open CUSUM episode back to t, when
// t is earlier: the rise it measures is found to have begun with another
// metric's. It does nothing without an open episode.
func (m *Model) JoinEpisode(metric string, t time.Time) {
	se := m.series[metric]
	if se == nil || se.slow.Episode.IsZero() || !t.Before(se.slow.Episode) {
		return
	}
	se.slow.Episode = time.Unix(unixMinute(t)*60, 0).UTC()
}

// SlowState returns metric's current CUSUM state.
func (m *Model) SlowState(metric string) Slow {
	if se := m.series[metric]; se != nil {
		return se.slow
	}
	return Slow{}
}
