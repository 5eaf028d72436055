package detect

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/window"
)

// Detector ids.
const (
	FloodID           = "net-flood"
	FloodTargetID     = "net-flood-target"
	SYNFloodID        = "net-syn-flood"
	UDPFloodID        = "net-udp-flood"
	SlowFloodID       = "net-slow-flood"
	PortKnockID       = "net-port-knock"
	UnusualListenerID = "net-unusual-listener"
	BeaconID          = "net-beacon"
	NewDestinationID  = "net-new-destination"
)

// Tactics, as ASFF Types categories.
const (
	tacticDoS     = "Effects/Denial of Service"
	tacticEvasion = "TTPs/Defense Evasion"
	tacticC2      = "TTPs/Command and Control"
)

type volume struct {
	detector, metric, noun, unit string
	floor                        func(*Config) float64
	value                        func(*window.Window) float64
}

var volumes = [...]volume{
	{FloodID, baseline.BytesOut, "bytes", "bytes/min", func(c *Config) float64 { return c.Flood.MinBytes }, func(w *window.Window) float64 { return float64(w.BytesOut) }},
	{FloodID, baseline.PacketsOut, "packets", "packets/min", func(c *Config) float64 { return c.Flood.MinPackets }, func(w *window.Window) float64 { return float64(w.PacketsOut) }},
	{FloodID, baseline.FlowsOut, "connections", "flows/min", func(c *Config) float64 { return c.Flood.MinFlows }, func(w *window.Window) float64 { return float64(w.FlowsOut) }},
	{SYNFloodID, baseline.SYNOut, "SYN-only connections", "flows/min", func(c *Config) float64 { return c.Flood.MinSYN }, func(w *window.Window) float64 { return float64(w.SYNOut) }},
	{UDPFloodID, baseline.UDPPackets, "UDP packets", "packets/min", func(c *Config) float64 { return c.Flood.MinUDPPackets }, func(w *window.Window) float64 { return float64(w.UDPPacketsOut) }},
}

// values returns each network metric of w, in baseline.NetworkMetrics
// order.
func values(w *window.Window) [9]float64 {
	return [9]float64{
		float64(w.BytesOut), float64(w.PacketsOut), float64(w.FlowsOut),
		w.Dests.Count(), w.Ports.Count(), float64(w.SYNOut), float64(w.Rejected),
		float64(w.UDPPacketsOut), float64(w.BytesIn),
	}
}

// Evaluate scores wins (closed windows of workload, any order; they are
// evaluated in time order and a window at or before the model's last
// evaluated minute is skipped) against m, returns the signals, and learns
// every window that raised none. m is updated in place; persist it after.
func Evaluate(workload string, wins []window.Window, m *baseline.Model, cfg Config) []signal.Signal {
	cfg = cfg.withDefaults()
	order := make([]int, len(wins))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return wins[a].Start.Compare(wins[b].Start) })
	e := evaluator{workload: workload, m: m, cfg: &cfg, runs: make(map[string]*run)}
	for _, i := range order {
		e.window(&wins[i])
	}
	return e.finish()
}

type evaluator struct {
	workload string
	m        *baseline.Model
	cfg      *Config
	runs     map[string]*run
	out      []signal.Signal
	hits     int
}

// run is a streak of consecutive minutes of one detector on one key.
type run struct {
	sig   signal.Signal
	peak  float64
	count int
	first time.Time
	last  time.Time
}

func (e *evaluator) hit(key string, s signal.Signal, peak float64) {
	e.hits++
	k := s.Detector + "|" + key
	if r := e.runs[k]; r != nil {
		if !s.First.After(r.last) {
			r.count++
			r.last = s.Last
			if peak > r.peak {
				r.sig, r.peak = s, peak
			}
			return
		}
		e.flush(r)
	}
	e.runs[k] = &run{sig: s, peak: peak, count: 1, first: s.First, last: s.Last}
}

func (e *evaluator) flush(r *run) {
	s := r.sig
	s.Count = r.count
	if r.count > 1 {
		s.Description += fmt.Sprintf(" Seen in %d consecutive minutes, %s to %s; the numbers are from the peak minute %s.",
			r.count, hhmm(r.first), hhmm(r.last), hhmm(r.sig.First))
	}
	s.First, s.Last = r.first, r.last
	if metric := seriesMetric(&s); metric != "" && s.Measurement != nil {
		meas := *s.Measurement
		meas.Series = e.series(metric, r.first, r.last)
		s.Measurement = &meas
	}
	e.out = append(e.out, s)
}

// Series spans, around a run of alerting minutes.
const (
	seriesBefore = 30 * time.Minute
	seriesAfter  = 10 * time.Minute
)

// seriesMetric is the baseline metric a signal's chart shows, if any.
func seriesMetric(s *signal.Signal) string {
	if s.Detector == FloodTargetID {
		return baseline.PacketsOut
	}
	return s.Fields["metric"]
}

// series returns metric minute by minute around first..last against the
// band the volume detectors alert above; nil when nothing is remembered.
func (e *evaluator) series(metric string, first, last time.Time) *signal.Series {
	start, vals := e.m.Recent(metric, first.Add(-seriesBefore), last.Add(seriesAfter))
	if len(vals) == 0 {
		return nil
	}
	s := &signal.Series{Start: start, Step: time.Minute, Observed: vals,
		Low: make([]float64, len(vals)), High: make([]float64, len(vals))}
	for i := range vals {
		b := e.m.Band(metric, s.At(i), e.cfg.Flood.K)
		s.Low[i] = b.Low
		s.High[i] = e.floodHigh(b)
	}
	return s
}

// floodHigh is the value above which a volume metric's minute floods: the
// band's top, and at least Flood.MinRatio times the median.
func (e *evaluator) floodHigh(b baseline.Band) float64 {
	return max(b.High, b.Expected*e.cfg.Flood.MinRatio)
}

// finish flushes runs that did not continue into the last window.
func (e *evaluator) finish() []signal.Signal {
	keys := make([]string, 0, len(e.runs))
	for k := range e.runs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.flush(e.runs[k])
	}
	slices.SortStableFunc(e.out, func(a, b signal.Signal) int {
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Detector, b.Detector); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Title, b.Title); c != 0 {
			return c
		}
		return cmp.Compare(a.Description, b.Description)
	})
	return e.out
}

// closeStale flushes runs that ended before the window at t.
func (e *evaluator) closeStale(t time.Time) {
	for k, r := range e.runs {
		if r.last.Before(t) {
			e.flush(r)
			delete(e.runs, k)
		}
	}
}

func (e *evaluator) window(w *window.Window) {
	m, cfg := e.m, e.cfg
	t := w.Start
	if !m.Advance(t) {
		return
	}
	e.closeStale(t)
	hitsBefore := e.hits
	ready := m.Trained() > cfg.Learning
	if ready && m.Ready.IsZero() {
		m.Ready = t
	}
	vals := values(w)
	for i, name := range baseline.NetworkMetrics {
		m.Observe(name, t, vals[i])
	}
	hold := false // volumes not learned
	if ready {
		hold = e.volumes(w)
	}
	e.knocks(w, ready)
	e.contacts(w, ready)
	if e.hits != hitsBefore || hold {
		return
	}
	for i, name := range baseline.NetworkMetrics {
		m.Learn(name, t, vals[i])
	}
}

func (e *evaluator) base(metric string, x float64, b baseline.Band, score float64) *signal.Measurement {
	unit := "/min"
	for _, v := range volumes {
		if v.metric == metric {
			unit = v.unit
		}
	}
	return &signal.Measurement{Metric: metric + "_per_min", Unit: unit, Observed: x, Expected: b.Expected,
		Low: b.Low, High: b.High, Score: round2(score), Trained: e.m.Trained()}
}

// volumes runs the per-minute flood detectors and the CUSUMs; it reports
// whether the window must not be learned although nothing fired (a CUSUM
// well on its way to an alarm).
func (e *evaluator) volumes(w *window.Window) bool {
	m, cfg := e.m, e.cfg
	t := w.Start
	var floods []signal.Signal
	// The CUSUMs below score the same minutes against the same bands.
	var bands [len(volumes)]baseline.Band
	for i, v := range volumes {
		x := v.value(w)
		b := m.Band(v.metric, t, cfg.Flood.K)
		bands[i] = b
		high := e.floodHigh(b)
		if x <= high || x < v.floor(cfg) {
			continue
		}
		ratio := x / max(b.Expected, 1)
		sev := signal.Medium
		if x >= cfg.Flood.HighRatio*high {
			sev = signal.High
		}
		z := b.Z(x)
		s := e.signal(v.detector, "T1498.001", tacticDoS, w, sev)
		s.Title = fmt.Sprintf("Outbound %s from %s: %s normal %s", floodWord(v.detector), e.workload, times(ratio), v.noun)
		s.Description = fmt.Sprintf("Outbound %s were %s in one minute against an expected %s (normal band %s to %s, %s slot of %d samples); %s the median, robust z %.1f. %s %s",
			v.noun, num(v.metric, x), num(v.metric, b.Expected), num(v.metric, b.Low), num(v.metric, high), b.Slot, b.Samples,
			times(ratio), z, targets(w), e.learned())
		s.Measurement = e.base(v.metric, x, b, z)
		s.Measurement.High = high
		s.Fields = map[string]string{"metric": v.metric}
		if len(w.Targets) > 0 {
			top := topBy(w.Targets, func(t window.Target) int64 { return t.Packets })
			s.Fields["peer"] = top.Peer.String()
			s.Fields["peerPort"] = strconv.Itoa(int(top.Port))
		}
		e.hit(v.metric, s, ratio)
		floods = append(floods, s)
	}
	if len(floods) > 0 {
		e.floodTarget(w, floods)
		// A flood minute is reported minute by minute; fed to the
		// CUSUMs, it would report the same flood twice as a slow rise
		// of its other metrics. They skip it, neither adding nor
		// forgetting.
		return false
	}
	hold := false
	for i, v := range volumes[:3] {
		x := v.value(w)
		b := bands[i]
		z := b.Z(x)
		if x < cfg.Slow.FloorShare*v.floor(cfg) {
			z = min(z, 0)
		}
		if x <= b.Top {
			// Within what this slot has seen (a known nightly job): no
			// evidence of a rise.
			z = min(z, cfg.Slow.Allowance)
		}
		st, alarm := m.Accumulate(v.metric, t, z, cfg.Slow.Allowance, cfg.Slow.Clip, cfg.Slow.Threshold)
		if st.Sum > cfg.Slow.Threshold/10 {
			// Well on its way to an alarm: learning these minutes
			// would teach the model the very rise being measured.
			hold = true
		}
		if !alarm {
			continue
		}
		ratio := x / max(b.Expected, 1)
		s := e.signal(SlowFloodID, "T1498.001", tacticDoS, w, signal.Medium)
		// Every alarm of one episode carries the episode's start, so
		// that a rise going on for hours updates one finding. The
		// volumes of one workload rise together: the rise began with
		// the earliest open episode or running sum of any of them, and
		// this metric's episode is joined to it.
		episode := st.Episode
		for _, o := range volumes[:3] {
			other := m.SlowState(o.metric)
			if !other.Episode.IsZero() && other.Episode.Before(episode) {
				episode = other.Episode
			}
			if other.Sum > 0 && other.Start.Before(episode) {
				episode = other.Start
			}
		}
		m.JoinEpisode(v.metric, episode)
		s.First = episode
		minutes := int(t.Sub(episode)/time.Minute) + 1
		s.Title = fmt.Sprintf("Sustained outbound rise from %s: %s normal %s for %d minutes", e.workload, times(ratio), v.noun, minutes)
		s.Description = fmt.Sprintf("Outbound %s stayed above normal for %d minutes since %s without any single minute leaving the band: now %s per minute against an expected %s (band %s to %s, %s slot); cumulative excess %.0f robust z above an allowance of %.1f per minute passed the threshold %.0f, peak minute z %.1f. %s %s",
			v.noun, minutes, hhmm(episode), num(v.metric, x), num(v.metric, b.Expected), num(v.metric, b.Low), num(v.metric, b.High), b.Slot,
			st.Sum, cfg.Slow.Allowance, cfg.Slow.Threshold, st.Peak, targets(w), e.learned())
		s.Measurement = e.base(v.metric, x, b, st.Sum)
		s.Fields = map[string]string{"metric": v.metric, "minutes": strconv.Itoa(minutes)}
		e.hit(v.metric, s, st.Sum)
	}
	return hold
}

func floodWord(det string) string {
	switch det {
	case SYNFloodID:
		return "SYN flood"
	case UDPFloodID:
		return "UDP flood"
	}
	return "flood"
}

func (e *evaluator) floodTarget(w *window.Window, floods []signal.Signal) {
	if len(w.Targets) == 0 {
		return
	}
	sev := signal.Medium
	for _, f := range floods {
		sev = max(sev, f.Severity)
	}
	byPk := topBy(w.Targets, func(t window.Target) int64 { return t.Packets })
	byFl := topBy(w.Targets, func(t window.Target) int64 { return t.Flows })
	share := func(a, b int64) float64 { return float64(a) / float64(max(b, 1)) }
	t := byPk
	sp, sf := share(t.Packets, w.PacketsOut), share(t.Flows, w.FlowsOut)
	if sp < e.cfg.Flood.TargetShare {
		t = byFl
		sp, sf = share(t.Packets, w.PacketsOut), share(t.Flows, w.FlowsOut)
		if sf < e.cfg.Flood.TargetShare {
			return
		}
	}
	b := e.m.Band(baseline.PacketsOut, w.Start, e.cfg.Flood.K)
	ap := t.AddrPort().String()
	s := e.signal(FloodTargetID, "T1498.001", tacticDoS, w, sev)
	where := "internal"
	if t.External {
		where = "external"
	}
	if sf > sp {
		s.Title = fmt.Sprintf("Flood from %s aimed at %s: %.0f%% of its connections", e.workload, ap, 100*sf)
	} else {
		s.Title = fmt.Sprintf("Flood from %s aimed at %s: %.0f%% of its packets", e.workload, ap, 100*sp)
	}
	s.Description = fmt.Sprintf("One %s target, %s, received %d packets (%.0f%% of the workload's %d), %d connections (%.0f%% of %d, %d SYN-only) and %s in one minute; the workload normally sends %s packets per minute in total (band up to %s). %s",
		where, ap, t.Packets, 100*sp, w.PacketsOut, t.Flows, 100*sf, w.FlowsOut, t.SYN, bytesStr(float64(t.Bytes)),
		num(baseline.PacketsOut, b.Expected), num(baseline.PacketsOut, b.High), e.learned())
	s.Measurement = &signal.Measurement{Metric: "target_packets_per_min", Unit: "packets/min", Observed: float64(t.Packets),
		Expected: b.Expected, Low: b.Low, High: b.High, Score: round2(max(sp, sf)), Trained: e.m.Trained()}
	s.Fields = map[string]string{"peer": t.Peer.String(), "peerPort": strconv.Itoa(int(t.Port))}
	e.hit(ap, s, float64(t.Packets))
}

func (e *evaluator) knocks(w *window.Window, ready bool) {
	m, cfg := e.m, e.cfg
	expire := w.Start.Unix() - int64(cfg.Knock.Within/time.Second) - 60
	for _, k := range w.Knocks {
		if cfg.allowed(k.Source) {
			continue
		}
		m.AddKnock(k.Source, k.Ports, k.First, k.Last, expire)
	}
	for _, l := range w.Listeners {
		if m.KnownListener(l.Port) {
			continue
		}
		if !ready {
			m.AddListener(l.Port)
			continue
		}
		knocked := false
		for _, src := range l.Sources {
			kn, ok := m.Knocker(src.Addr)
			if !ok || len(kn.Ports) < cfg.Knock.MinPorts || src.Time < kn.First || src.Time-kn.Last > int64(cfg.Knock.Within/time.Second) {
				continue
			}
			knocked = true
			ports := portList(kn.Ports)
			s := e.signal(PortKnockID, "T1205.001", tacticEvasion, w, signal.High)
			s.Title = fmt.Sprintf("Port knock on %s: %s tried closed ports %s, then opened port %d", e.workload, src.Addr, ports, l.Port)
			s.Description = fmt.Sprintf("Source %s sent refused single-packet SYNs to %d closed ports (%s) between %s and %s, and %ds after the last one an accepted session from the same source reached port %d, which the workload does not normally serve (known listening ports: %s). %s",
				src.Addr, len(kn.Ports), ports, hms(kn.First), hms(kn.Last), src.Time-kn.Last, l.Port, e.listeners(), e.learned())
			s.Measurement = &signal.Measurement{Metric: "knock_ports", Unit: "ports", Observed: float64(len(kn.Ports)),
				Expected: 0, Low: 0, High: float64(cfg.Knock.MinPorts - 1), Score: float64(len(kn.Ports)), Trained: m.Trained()}
			s.Fields = map[string]string{"peer": src.Addr.String(), "ports": ports, "localPort": strconv.Itoa(int(l.Port))}
			e.hit(src.Addr.String()+"|"+strconv.Itoa(int(l.Port)), s, float64(len(kn.Ports)))
		}
		if knocked {
			continue
		}
		var ext *window.Source
		for i := range l.Sources {
			if l.Sources[i].External && !cfg.allowed(l.Sources[i].Addr) {
				ext = &l.Sources[i]
				break
			}
		}
		if ext == nil {
			m.AddListener(l.Port) // internal peers: a new internal service port is normal
			continue
		}
		s := e.signal(UnusualListenerID, "T1205", tacticEvasion, w, signal.Medium)
		s.Title = fmt.Sprintf("Unusual listening port on %s: %d accepted from the internet (%s)", e.workload, l.Port, ext.Addr)
		s.Description = fmt.Sprintf("Port %d accepted %d inbound sessions from external sources (first %s at %s); the workload was never seen serving it (known listening ports: %s). %s",
			l.Port, l.ExternalFlows, ext.Addr, hms(ext.Time), e.listeners(), e.learned())
		s.Measurement = &signal.Measurement{Metric: "unknown_port_sessions_per_min", Unit: "flows/min", Observed: float64(l.ExternalFlows),
			Score: float64(l.ExternalFlows), Trained: m.Trained()}
		s.Fields = map[string]string{"peer": ext.Addr.String(), "localPort": strconv.Itoa(int(l.Port))}
		e.hit(strconv.Itoa(int(l.Port)), s, float64(l.ExternalFlows))
		m.AddListener(l.Port) // first seen: reported once
	}
}

func (e *evaluator) contacts(w *window.Window, ready bool) {
	m, cfg := e.m, e.cfg
	maxIv := int64(cfg.Beacon.MaxInterval / time.Second)
	for _, c := range w.Contacts {
		if cfg.allowed(c.Peer) {
			continue
		}
		b := m.Beacon(c.Peer, true)
		if b.Port == 0 {
			b.Port = c.Port
		}
		for _, k := range c.Conns {
			b.Observe(k.Time, k.LocalPort, maxIv)
		}
		b.Bytes += c.Bytes
		b.Flows += c.Flows
		if ready {
			e.beacon(w, b)
		}
		switch {
		case m.Dests.Has(c.Peer):
			m.Dests.Add(c.Peer, w.Start, true)
		case !ready || m.Dests.Learned > cfg.NewDest.MaxKnown:
			m.Dests.Add(c.Peer, w.Start, true)
		default:
			ap := netip.AddrPortFrom(c.Peer, c.Port).String()
			s := e.signal(NewDestinationID, "T1071", tacticC2, w, signal.Medium)
			s.Title = fmt.Sprintf("First external destination for %s: %s", e.workload, ap)
			s.Description = fmt.Sprintf("The workload, which talked to %d external networks while learning, connected to %s (%d flows, %s in the minute). Not in the allowlist. %s",
				m.Dests.Learned, ap, c.Flows, bytesStr(float64(c.Bytes)), e.learned())
			s.Measurement = &signal.Measurement{Metric: "known_external_networks", Unit: "networks", Observed: float64(m.Dests.Learned + 1),
				Expected: float64(m.Dests.Learned), Low: 0, High: float64(cfg.NewDest.MaxKnown), Score: 1, Trained: m.Trained()}
			s.Fields = map[string]string{"peer": c.Peer.String(), "peerPort": strconv.Itoa(int(c.Port))}
			e.hit(c.Peer.String(), s, float64(c.Bytes))
			m.Dests.Add(c.Peer, w.Start, false)
		}
	}
}

func (e *evaluator) beacon(w *window.Window, b *baseline.Beacon) {
	cfg := e.cfg
	m := e.m
	if m.Ready.IsZero() || b.FirstSeen < m.Ready.Unix() || int(b.Reps) < cfg.Beacon.MinReps {
		return
	}
	if len(b.Intervals) < min(baseline.BeaconIntervals, cfg.Beacon.MinReps-1) {
		return
	}
	if b.Alerted != 0 && w.Start.Unix()-b.Alerted < int64(cfg.Beacon.Realert/time.Second) {
		return
	}
	med, jit := b.Regularity()
	if med < cfg.Beacon.MinInterval.Seconds() || med > cfg.Beacon.MaxInterval.Seconds() || jit > cfg.Beacon.MaxJitter {
		return
	}
	per := float64(b.Bytes) / float64(max(b.Flows, 1))
	if per > cfg.Beacon.MaxBytes {
		return
	}
	b.Alerted = w.Start.Unix()
	ap := netip.AddrPortFrom(b.Peer, b.Port).String()
	s := e.signal(BeaconID, "T1071", tacticC2, w, signal.Medium)
	s.First = time.Unix(b.FirstSeen, 0).UTC()
	s.Title = fmt.Sprintf("Beaconing from %s to %s every %.0fs", e.workload, ap, med)
	s.Description = fmt.Sprintf("%d connections to external %s since %s at a median interval of %.0fs with jitter %.1f%% (median absolute deviation over the last %d intervals), %s per flow on average; a new regular contact that started after the baseline was learned. %s",
		b.Reps, ap, hms(b.FirstSeen), med, 100*jit, len(b.Intervals), bytesStr(per), e.learned())
	s.Measurement = &signal.Measurement{Metric: "beacon_interval_s", Unit: "s", Observed: med, Expected: med,
		Low: med * (1 - jit), High: med * (1 + jit), Score: float64(b.Reps), Trained: m.Trained()}
	s.Fields = map[string]string{"peer": b.Peer.String(), "peerPort": strconv.Itoa(int(b.Port)),
		"interval": strconv.FormatFloat(med, 'f', 0, 64), "jitter": strconv.FormatFloat(jit, 'f', 3, 64), "reps": strconv.Itoa(int(b.Reps))}
	e.hit(b.Peer.String(), s, float64(b.Reps))
}

func (e *evaluator) signal(det, tech, tactic string, w *window.Window, sev signal.Severity) signal.Signal {
	return signal.Signal{Detector: det, Technique: tech, Tactic: tactic, Workload: e.workload,
		First: w.Start, Last: w.End(), Severity: sev, Count: 1}
}

func (e *evaluator) learned() string {
	return "Baseline learned from " + dur(e.m.Trained()) + " of traffic."
}

func (e *evaluator) listeners() string {
	if len(e.m.Listeners) == 0 {
		return "none"
	}
	ps := make([]uint16, len(e.m.Listeners))
	for i, p := range e.m.Listeners {
		ps[i] = p.Port
	}
	return portList(ps)
}

func topBy(ts []window.Target, f func(window.Target) int64) window.Target {
	best := ts[0]
	for _, t := range ts[1:] {
		if f(t) > f(best) {
			best = t
		}
	}
	return best
}

func targets(w *window.Window) string {
	if len(w.Targets) == 0 {
		return ""
	}
	ts := slices.Clone(w.Targets)
	slices.SortStableFunc(ts, func(a, b window.Target) int { return cmp.Compare(b.Packets, a.Packets) })
	parts := make([]string, 0, 3)
	for _, t := range ts[:min(3, len(ts))] {
		parts = append(parts, fmt.Sprintf("%s (%.0f%% of packets, %d flows, %s)", t.AddrPort(),
			100*float64(t.Packets)/float64(max(w.PacketsOut, 1)), t.Flows, bytesStr(float64(t.Bytes))))
	}
	return "Top targets: " + strings.Join(parts, ", ") + "."
}

func portList(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}

func num(metric string, x float64) string {
	if metric == baseline.BytesOut || metric == baseline.BytesIn {
		return bytesStr(x)
	}
	if x >= 100 || x == math.Trunc(x) {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func bytesStr(x float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for x >= 1000 && i < len(units)-1 {
		x /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", x)
	}
	return fmt.Sprintf("%.1f %s", x, units[i])
}

func times(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.1fx", r)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func hhmm(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
func hms(sec int64) string    { return time.Unix(sec, 0).UTC().Format("15:04:05") }

func dur(d time.Duration) string {
	h := int(d.Hours())
	return fmt.Sprintf("%dd%dh", h/24, h%24)
}
