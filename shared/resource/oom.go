package resource

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// oomDetector is res-oom-kill: a workload's containers OOM-killed again
// and again. A loop is kept in the model across batches, in two CUSUM
// states that never alarm by themselves: MetricOOM's sums the loop's
// kills (its Start and Minutes are the loop's), metricOOMGap's counts down
// the minutes left before the loop is over, from Config.OOMGap at each
// kill.
type oomDetector struct {
	cur *open
	// run is the loop's first kill and the band before it, when the loop
	// began in this batch; memPeak the most memory seen in the loop's
	// minutes of this batch (percent of the limit when memLimit).
	run      runOrigin
	memPeak  float64
	memLimit bool
	hasMem   bool
	pods     []string
}

// metricOOMGap holds the countdown of a kill loop (see oomDetector).
const metricOOMGap = "oom_gap"

func (e *evaluator) oomMinute(mi *minute) {
	if !mi.hasRestarts {
		return
	}
	m, t, cfg := e.m, mi.t, e.cfg
	d := &e.oom
	inf := math.Inf(1)
	reset := func(metric string) { m.Accumulate(metric, t, -math.MaxFloat64, 0, 1, inf) }
	var st baseline.Slow
	switch {
	case mi.kills > 0:
		if m.SlowState(MetricOOM).Sum == 0 {
			d.run = runOrigin{first: mi.first, band: m.Band(MetricOOM, t, bandK)}
			d.hasMem, d.memPeak, d.pods = false, 0, nil
		}
		reset(metricOOMGap)
		m.Accumulate(metricOOMGap, t, float64(cfg.OOMGap/time.Minute), 0, inf, inf)
		st, _ = m.Accumulate(MetricOOM, t, mi.kills, 0, inf, inf)
	case m.SlowState(MetricOOM).Sum > 0:
		if g, _ := m.Accumulate(metricOOMGap, t, 0, 1, inf, inf); g.Sum > 0 {
			st, _ = m.Accumulate(MetricOOM, t, 0, 0, inf, inf)
		} else {
			e.endLoop(t)
			reset(MetricOOM)
		}
	}
	// The state is stored as float32: round to whole kills.
	loop := math.Round(st.Sum)
	m.Observe(MetricOOM, t, loop)
	if loop == 0 {
		e.flushOOM()
		d.run, d.hasMem, d.memPeak, d.pods = runOrigin{}, false, 0, nil
		m.Learn(MetricOOM, t, 0)
		return
	}
	e.oomLoop(mi, st, true)
}

// staleKills counts the kills of a minute another batch has already
// judged: the pods of a workload report on the log stream of their own
// node, so each pod's kills come in one stream's batches only and are
// counted once. They extend the loop, and its countdown from the kill's
// time, but nothing is learned from them.
func (e *evaluator) staleKills(mi *minute) {
	if mi.kills == 0 {
		return
	}
	m, cfg, d := e.m, e.cfg, &e.oom
	e.learning = m.Trained() <= cfg.Learning
	left := float64(cfg.OOMGap/time.Minute) - float64(m.Seen().Sub(mi.t)/time.Minute)
	if left <= 0 {
		return
	}
	inf := math.Inf(1)
	if m.SlowState(MetricOOM).Sum == 0 {
		d.run = runOrigin{first: mi.first, band: m.Band(MetricOOM, mi.t, bandK)}
		d.hasMem, d.memPeak, d.pods = false, 0, nil
	}
	if g := m.SlowState(metricOOMGap); left > g.Sum {
		m.Accumulate(metricOOMGap, mi.t, left-g.Sum, 0, inf, inf)
	}
	st, _ := m.Accumulate(MetricOOM, mi.t, mi.kills, 0, inf, inf)
	e.oomLoop(mi, st, false)
}

// oomLoop judges a minute of a loop of math.Round(st.Sum) kills; live is
// false for a minute another batch judged.
func (e *evaluator) oomLoop(mi *minute, st baseline.Slow, live bool) {
	m, t, d := e.m, mi.t, &e.oom
	loop := math.Round(st.Sum)
	if mi.hasMem && (!d.hasMem || mi.mem > d.memPeak) {
		d.memPeak, d.memLimit, d.hasMem = mi.mem, mi.memLimit, true
	}
	d.pods = mergePods(d.pods, mi.killPods)
	// The loop is judged against the band before it: a loop's minutes are
	// learned when it is over (endLoop), or at once while learning.
	first, b := d.run.start(st, m.Band(MetricOOM, t, bandK))
	limit := e.oomLimit(b)
	if e.learning && live {
		m.Learn(MetricOOM, t, loop)
	}
	if loop < limit || mi.kills == 0 {
		// The evidence is the kills: minutes waiting for the next one
		// neither open nor extend a signal.
		return
	}
	o := d.cur
	if o == nil {
		o = &open{first: first, runStart: st.Start, band: b}
		d.cur = o
	}
	if mi.last.After(o.last) {
		o.last, o.lastMinute = mi.last, t
	}
	o.minutes++
	o.runLen = int(o.lastMinute.Sub(o.runStart)/time.Minute) + 1
	o.kills = loop
	o.pods = d.pods
	o.peak = loop
}

// endLoop learns a loop that is over, when the workload is trained and
// the loop stayed below what alarms: its size, once per minute it lasted
// (at most an hour), so that loops like it are the workload's normal.
func (e *evaluator) endLoop(t time.Time) {
	if e.learning {
		return
	}
	st := e.m.SlowState(MetricOOM)
	kills := math.Round(st.Sum)
	if kills <= 0 || kills >= e.oomLimit(e.m.Band(MetricOOM, t, bandK)) {
		return
	}
	for range min(st.Minutes, 60) {
		e.m.Learn(MetricOOM, t, kills)
	}
}

// oomLimit is the loop size that alarms: Config.OOMKills, and beyond the
// most the workload is known to have at this time once it is learned.
func (e *evaluator) oomLimit(b baseline.Band) float64 {
	limit := float64(e.cfg.OOMKills)
	if !e.learning && b.Samples > 0 {
		limit = max(limit, math.Ceil(pinHigh(b)))
	}
	return limit
}

func (e *evaluator) flushOOM() {
	d := &e.oom
	o := d.cur
	if o == nil {
		return
	}
	d.cur = nil
	s := e.signal(OOMKillID, "T1499", tacticDoS, signal.Medium, o)
	kills := int(o.kills)
	s.Count = kills
	s.Title = fmt.Sprintf("Containers of %s OOM-killed %d times in %d min", e.workload, kills, o.runLen)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Containers of %s were killed for exceeding their memory limit (OOMKilled) %d times in %d minutes from %s to %s, each kill within %s of the one before: memory exhausted again and again.",
		e.workload, kills, o.runLen, hhmm(o.first), hhmm(o.lastMinute), dur(e.cfg.OOMGap))
	if d.hasMem {
		of := "of its node"
		if d.memLimit {
			of = "of its limit"
		}
		fmt.Fprintf(&sb, " Memory peaked at %.1f%% %s in those minutes (per-minute maximum over its pods).", d.memPeak, of)
		s.Fields["memoryPeak"] = strconv.FormatFloat(round2(d.memPeak), 'f', -1, 64)
	}
	b := o.band
	switch {
	case e.learning || b.Samples == 0:
		fmt.Fprintf(&sb, " Its baseline is still learning (%s of the %s learning period): any loop of %d kills is reported.", dur(e.m.Trained()), dur(e.cfg.Learning), e.cfg.OOMKills)
	case b.Top < 1:
		fmt.Fprintf(&sb, " It is not known to be OOM-killed at this time (%s slot of %d samples); baseline learned from %s.", b.Slot, b.Samples, dur(e.m.Trained()))
	default:
		fmt.Fprintf(&sb, " At this time it is known to have up to %.0f kill(s) in a loop (%s slot of %d samples); baseline learned from %s.", b.Top, b.Slot, b.Samples, dur(e.m.Trained()))
	}
	fmt.Fprintf(&sb, " Pods with kills: %s.", podList(o.pods))
	s.Description = sb.String()
	s.Fields["kills"] = strconv.Itoa(kills)
	limit := e.oomLimit(b)
	s.Measurement = &signal.Measurement{Metric: "oom_kills_per_loop", Unit: "kills", Observed: o.kills, Expected: round2(b.Expected),
		Low: round2(b.Low), High: limit, Score: round2(o.kills / limit), Trained: e.m.Trained(),
		Series: series(e.m, MetricOOM, o.first, o.last, e.oomLimit)}
	e.out = append(e.out, s)
}
