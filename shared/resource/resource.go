package resource

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Detector ids.
const (
	CPUID            = "res-cpu"
	MemoryID         = "res-memory"
	SprawlID         = "res-sprawl"
	NetTxID          = "res-net-tx"
	NodeSaturationID = "res-node-saturation"
	OOMKillID        = "res-oom-kill"
)

// Metric names of the resource model.
const (
	// MetricCPU is the per-minute max CPU percent over the workload's pods.
	MetricCPU = "cpu"
	// MetricMem is the per-minute max memory percent over the pods.
	MetricMem = "mem"
	// MetricNetTx is the per-minute sum of sent bytes/s over the pods.
	MetricNetTx = "net_tx"
	// MetricNodeCPU is the per-minute max, over the workload's EKS pods, of
	// the share of its node's CPU a pod uses (pod_cpu_utilization, percent
	// of the node): what one pod of the workload normally takes of a node.
	MetricNodeCPU = "node_cpu"
	// MetricNodeMem is the same for memory (pod_memory_utilization).
	MetricNodeMem = "node_mem"
	// MetricOOM is the number of OOM kills in the workload's current kill
	// loop (0 when there is none), per minute.
	MetricOOM = "oom"
)

// Bits of Sample.Has.
const (
	HasCPU uint8 = 1 << iota
	HasCPUOverLimit
	HasMem
	HasMemOverLimit
	HasNetTx
	HasRestarts
	HasOOMKilled
)

const (
	tacticResource = "Effects/Resource Consumption"
	tacticDoS      = "Effects/Denial of Service"

	// bandK widens the reported band (and the net-tx band) by this many
	// robust scales.
	bandK = 3
	// farRatio: a pinned minute starts a run only when it is this much
	// above the most the workload is known to do at that time (Band.Top).
	// Percentages live in half-octave buckets, so this is about one bucket.
	farRatio = 1.25
	// netRatio is how many times the expected volume net-tx needs.
	netRatio = 10
	// minNetTx is the floor for net-tx, in bytes/s summed over pods, so a
	// nearly silent workload does not alarm on a few KB.
	minNetTx = 1 << 20
	// maxPodNames bounds the pod names listed in a signal.
	maxPodNames = 10
)

// Sample is one pod's (EKS) or task's (ECS) resource use at one time, or,
// with Pod empty and Node set, one EKS node's (see IsNode). Has says which
// of the values are present.
type Sample struct {
	// Workload is the canonical workload id (package workload); empty
	// for a node.
	Workload string
	// Pod is the pod name (EKS) or task id (ECS); empty for a node.
	Pod string
	// Cluster and Node name the EKS node the pod ran on (ClusterName,
	// NodeName), or the node itself; empty on ECS.
	Cluster, Node string
	// Instance is the node's EC2 instance id (InstanceId), when known.
	Instance string
	// Time is the event time.
	Time time.Time
	// CPU and Mem are percent of the node (EKS pod and node) or of the
	// reservation (ECS); CPUOverLimit and MemOverLimit percent of the
	// pod's limit.
	CPU, CPUOverLimit, Mem, MemOverLimit float64
	// NetTx is sent bytes per second; Restarts the container restarts
	// since the agent's previous sample of the pod.
	NetTx, Restarts float64
	// OOMKilled is how many of the pod's containers last terminated by an
	// OOM kill (enhanced observability): restarts while it is set are OOM
	// kills.
	OOMKilled float64
	// Has is a bitmask of HasCPU, HasCPUOverLimit, ...
	Has uint8
}

// IsNode reports a node's sample: CPU and Mem are the node's utilization.
func (s *Sample) IsNode() bool { return s.Pod == "" && s.Node != "" }

// kills returns the OOM kills the sample reports: its restarts, when its
// pod's containers last terminated by an OOM kill.
func (s *Sample) kills() float64 {
	if s.Has&HasRestarts == 0 || s.Has&HasOOMKilled == 0 || !(s.OOMKilled > 0) || !valid(s.Restarts) {
		return 0
	}
	return s.Restarts
}

// NodeID names an EKS node across clusters: "<cluster>/<node>".
func NodeID(cluster, node string) string { return cluster + "/" + node }

// FromEvent converts an EKS Pod or ECS Task event of workload, or an EKS
// Node event (workload is then ignored), to a Sample. It returns false for
// other event types and for events with no pod, task or node name.
func FromEvent(workload string, ev *insights.Event) (Sample, bool) {
	if ev == nil {
		return Sample{}, false
	}
	var pod string
	switch {
	case ev.Platform == insights.EKS && ev.Type == insights.TypePod:
		pod = cmp.Or(ev.PodName, ev.PodUID)
	case ev.Platform == insights.ECS && ev.Type == insights.TypeTask:
		pod = ev.TaskID
	case ev.Platform == insights.EKS && ev.Type == insights.TypeNode:
		if ev.Node == "" {
			return Sample{}, false
		}
		workload = ""
	default:
		return Sample{}, false
	}
	if pod == "" && ev.Type != insights.TypeNode {
		return Sample{}, false
	}
	s := Sample{Workload: workload, Pod: pod, Time: ev.Time}
	if ev.Platform == insights.EKS {
		s.Cluster, s.Node, s.Instance = ev.Cluster, ev.Node, ev.InstanceID
	}
	set := func(dst *float64, bit uint8, v float64, ok bool) {
		if ok && v >= 0 && !math.IsInf(v, 0) {
			*dst = v
			s.Has |= bit
		}
	}
	v, ok := ev.CPUUtilization()
	set(&s.CPU, HasCPU, v, ok)
	v, ok = ev.CPUOverLimit()
	set(&s.CPUOverLimit, HasCPUOverLimit, v, ok)
	v, ok = ev.MemoryUtilization()
	set(&s.Mem, HasMem, v, ok)
	v, ok = ev.MemoryOverLimit()
	set(&s.MemOverLimit, HasMemOverLimit, v, ok)
	v, ok = ev.NetworkTxBytes()
	set(&s.NetTx, HasNetTx, v, ok)
	v, ok = ev.Restarts()
	set(&s.Restarts, HasRestarts, v, ok)
	v, ok = ev.OOMKilled()
	set(&s.OOMKilled, HasOOMKilled, v, ok)
	return s, true
}

// cpu returns the CPU percent the detectors judge: of the limit when the
// agent reports one, else CPU; limit says which.
func (s *Sample) cpu() (v float64, limit, ok bool) {
	switch {
	case s.Has&HasCPUOverLimit != 0:
		return s.CPUOverLimit, true, true
	case s.Has&HasCPU != 0:
		return s.CPU, false, true
	}
	return 0, false, false
}

func (s *Sample) mem() (v float64, limit, ok bool) {
	switch {
	case s.Has&HasMemOverLimit != 0:
		return s.MemOverLimit, true, true
	case s.Has&HasMem != 0:
		return s.Mem, false, true
	}
	return 0, false, false
}

// Config tunes the detectors. Zero fields take DefaultConfig's values.
type Config struct {
	// Learning is the event time a workload's model must have behind it
	// before it is judged against its band; until then a pinned workload
	// is judged new.
	Learning time.Duration
	// PinnedPercent is the CPU or memory percent that counts as at the
	// limit.
	PinnedPercent float64
	// PinnedMinutes is how many consecutive pinned minutes res-cpu and
	// res-memory need.
	PinnedMinutes int
	// SprawlPods is how many distinct pinned pods in one minute res-sprawl
	// needs.
	SprawlPods int
	// NodePercent is the node CPU or memory percent that counts as
	// saturated.
	NodePercent float64
	// NodeMinutes is how many consecutive saturated minutes
	// res-node-saturation needs.
	NodeMinutes int
	// CulpritShare is the part of a saturated node's rise above its
	// workloads' normal that one workload must account for to be named.
	CulpritShare float64
	// OOMKills is how many OOM kills in one loop res-oom-kill needs.
	OOMKills int
	// OOMGap is how close kills must follow each other to be one loop:
	// a loop is over when OOMGap passes without a kill.
	OOMGap time.Duration
}

// DefaultConfig returns the defaults: 24h of learning, 90%, 10 minutes,
// 5 pods; nodes saturated at 90% for 5 minutes, a culprit accounting for
// 30% of the rise; 3 OOM kills, each within 15 minutes of the last.
func DefaultConfig() Config {
	return Config{Learning: 24 * time.Hour, PinnedPercent: 90, PinnedMinutes: 10, SprawlPods: 5,
		NodePercent: 90, NodeMinutes: 5, CulpritShare: 0.3, OOMKills: 3, OOMGap: 15 * time.Minute}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Learning <= 0 {
		c.Learning = d.Learning
	}
	if !(c.PinnedPercent > 0) {
		c.PinnedPercent = d.PinnedPercent
	}
	if c.PinnedMinutes <= 0 {
		c.PinnedMinutes = d.PinnedMinutes
	}
	if c.SprawlPods <= 0 {
		c.SprawlPods = d.SprawlPods
	}
	if !(c.NodePercent > 0) {
		c.NodePercent = d.NodePercent
	}
	if c.NodeMinutes <= 0 {
		c.NodeMinutes = d.NodeMinutes
	}
	if !(c.CulpritShare > 0 && c.CulpritShare <= 1) {
		c.CulpritShare = d.CulpritShare
	}
	if c.OOMKills <= 0 {
		c.OOMKills = d.OOMKills
	}
	if c.OOMGap < time.Minute {
		c.OOMGap = d.OOMGap
	}
	return c
}

// NewModel returns an empty resource model for workload. Evaluate also
// accepts a plain baseline.New model and defines the metrics it needs.
func NewModel(workload string) *baseline.Model {
	m := baseline.New(workload)
	define(m)
	return m
}

func define(m *baseline.Model) {
	m.Define(MetricCPU, baseline.Gauge)
	m.Define(MetricMem, baseline.Gauge)
	m.Define(MetricNetTx, baseline.Gauge)
	m.Define(MetricNodeCPU, baseline.Gauge)
	m.Define(MetricNodeMem, baseline.Gauge)
	m.Define(MetricOOM, baseline.Gauge)
	m.Define(metricOOMGap, baseline.Gauge)
}

// minute is one event-time minute of a workload's samples.
type minute struct {
	t           time.Time // start of the minute
	first, last time.Time // event times of its samples
	cpu, mem    float64
	cpuLimit    bool
	memLimit    bool
	hasCPU      bool
	hasMem      bool
	net         float64
	hasNet      bool
	netPods     []string
	cpuPods     []string // pods at or above PinnedPercent CPU, sorted
	memPods     []string
	// nodeCPU and nodeMem are the most one pod took of its node; hot says
	// whether a pod ran on a node saturated that minute (hotCPU, hotMem).
	nodeCPU, nodeMem       float64
	hasNodeCPU, hasNodeMem bool
	hot                    uint8
	// kills are the OOM kills of the minute, by the pods in killPods;
	// hasRestarts says the pods report restarts at all.
	kills       float64
	hasRestarts bool
	killPods    []string
}

// minutes groups sorted samples by minute; hot tells the saturation of a
// pod's node in the minute of its sample.
func minutes(samples []Sample, pinned float64, hot func(s *Sample) uint8) []minute {
	var out []minute
	for i := 0; i < len(samples); {
		t := samples[i].Time.UTC().Truncate(time.Minute)
		mi := minute{t: t, first: samples[i].Time}
		net := map[string]float64{}
		j := i
		for ; j < len(samples) && samples[j].Time.UTC().Truncate(time.Minute).Equal(t); j++ {
			s := &samples[j]
			mi.last = s.Time
			if v, lim, ok := s.cpu(); ok && valid(v) {
				if !mi.hasCPU || v > mi.cpu {
					mi.cpu, mi.cpuLimit = v, lim
				}
				mi.hasCPU = true
				if v >= pinned {
					mi.cpuPods = addPod(mi.cpuPods, s.Pod)
				}
			}
			if v, lim, ok := s.mem(); ok && valid(v) {
				if !mi.hasMem || v > mi.mem {
					mi.mem, mi.memLimit = v, lim
				}
				mi.hasMem = true
				if v >= pinned {
					mi.memPods = addPod(mi.memPods, s.Pod)
				}
			}
			if s.Has&HasNetTx != 0 && valid(s.NetTx) {
				// One pod reporting twice in a minute is one rate, not two.
				net[s.Pod] = max(net[s.Pod], s.NetTx)
				mi.hasNet = true
			}
			if s.Node != "" {
				if s.Has&HasCPU != 0 && valid(s.CPU) {
					mi.nodeCPU, mi.hasNodeCPU = max(mi.nodeCPU, s.CPU), true
				}
				if s.Has&HasMem != 0 && valid(s.Mem) {
					mi.nodeMem, mi.hasNodeMem = max(mi.nodeMem, s.Mem), true
				}
				if hot != nil {
					mi.hot |= hot(s)
				}
			}
			if s.Has&HasRestarts != 0 {
				mi.hasRestarts = true
				// Restarts are counted since the agent's last sample of
				// the pod, so two samples in a minute add up.
				if k := s.kills(); k > 0 {
					mi.kills += k
					mi.killPods = addPod(mi.killPods, s.Pod)
				}
			}
		}
		mi.netPods = slices.Sorted(keys(net))
		for _, p := range mi.netPods {
			mi.net += net[p]
		}
		out = append(out, mi)
		i = j
	}
	return out
}

// valid rejects what a hand-built Sample may carry and no metric can be.
func valid(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

func addPod(pods []string, p string) []string {
	i, found := slices.BinarySearch(pods, p)
	if found {
		return pods
	}
	return slices.Insert(pods, i, p)
}

func mergePods(dst, src []string) []string {
	for _, p := range src {
		dst = addPod(dst, p)
	}
	return dst
}

func compareSamples(a, b Sample) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Pod, b.Pod),
		cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Node, b.Node), cmp.Compare(a.Instance, b.Instance),
		cmp.Compare(a.CPU, b.CPU), cmp.Compare(a.CPUOverLimit, b.CPUOverLimit),
		cmp.Compare(a.Mem, b.Mem), cmp.Compare(a.MemOverLimit, b.MemOverLimit),
		cmp.Compare(a.NetTx, b.NetTx), cmp.Compare(a.Restarts, b.Restarts),
		cmp.Compare(a.OOMKilled, b.OOMKilled), cmp.Compare(a.Has, b.Has))
}

// Evaluate judges one workload's samples of one batch (in any order)
// against its model m, then learns the minutes that were not anomalous.
// Samples of another workload are ignored; minutes at or before the
// model's last evaluated minute are refused and counted in m.Stale. It
// returns the signals in a deterministic order (by detector run, in time).
// It is Batch.Evaluate for a batch of one workload; node samples among
// samples only tell it which nodes were saturated.
func Evaluate(workload string, samples []Sample, m *baseline.Model, cfg Config) []signal.Signal {
	b := NewBatch(cfg)
	for _, s := range samples {
		if s.Workload == "" && !s.IsNode() {
			s.Workload = workload
		}
		b.Add(s)
	}
	return b.Evaluate(workload, m)
}

type evaluator struct {
	workload string
	m        *baseline.Model
	cfg      Config
	learning bool
	cpu, mem pinDetector
	sprawl   *open
	net      *open
	oom      oomDetector
	norm     *norm
	out      []signal.Signal
}

// open is an anomalous stretch of minutes of this batch, not emitted yet.
type open struct {
	first, last time.Time
	lastMinute  time.Time
	minutes     int
	peak        float64
	limit       bool
	band        baseline.Band
	pods        []string
	maxPods     int
	// runStart is the start of a persisted pinned run.
	runStart time.Time
	runLen   int
	// kills are the OOM kills seen in the stretch.
	kills float64
}

// pinDetector is res-cpu or res-memory.
type pinDetector struct {
	id, metric, noun string
	severity         signal.Severity
	cur              *open
	run              runOrigin
}

// runOrigin is what only the batch in which a run began knows of it: its
// first event time and the band before it. The run itself (pinned,
// saturated, an OOM-kill loop) is persisted in the model as the metric's
// CUSUM state, whose Start is the run's first minute.
type runOrigin struct {
	first time.Time
	band  baseline.Band
}

// step judges one minute t (first, its first event time) of value x in the
// run of metric, the CUSUM state counting the run's minutes: a minute at
// the level (hit) is in the run when the run has begun, when x is far
// above the band (pinHigh), or when there is nothing to judge it against
// (learning, no band); any other minute ends the run. It returns the run's
// state after the minute, Minutes 0 outside a run, and the band at t.
func (r *runOrigin) step(m *baseline.Model, metric string, t, first time.Time, x float64, hit, learning bool) (baseline.Slow, baseline.Band) {
	inRun := m.SlowState(metric).Sum > 0
	b := m.Band(metric, t, bandK)
	if !hit || !(inRun || learning || b.Samples == 0 || x >= pinHigh(b)) {
		st, _ := m.Accumulate(metric, t, -math.MaxFloat64, 0, 1, math.Inf(1))
		return st, b
	}
	st, _ := m.Accumulate(metric, t, 1, 0, 1, math.Inf(1))
	if st.Minutes == 1 {
		r.first, r.band = first, b
	}
	return st, b
}

// start returns where a run in state st starts and the band that explains
// it: its first event time and the band before it when it began in this
// batch, else its first minute and b. The run's own minutes, learned while
// new, do not inflate the band before it.
func (r *runOrigin) start(st baseline.Slow, b baseline.Band) (time.Time, baseline.Band) {
	if r.first.Truncate(time.Minute).Equal(st.Start) {
		return r.first, r.band
	}
	return st.Start, b
}

func (e *evaluator) minute(mi *minute) {
	m, t := e.m, mi.t
	ready := m.Trained() > e.cfg.Learning
	if ready && m.Ready.IsZero() {
		m.Ready = t
	}
	e.learning = !ready
	if e.norm != nil && (mi.hasNodeCPU || mi.hasNodeMem) {
		e.norm.record(m, t, ready)
	}
	e.observe(mi)
	e.pin(&e.cpu, mi, mi.cpu, mi.cpuLimit, mi.hasCPU, mi.cpuPods)
	e.pin(&e.mem, mi, mi.mem, mi.memLimit, mi.hasMem, mi.memPods)
	e.sprawlMinute(mi)
	e.netMinute(mi)
	e.share(MetricNodeCPU, t, mi.nodeCPU, mi.hasNodeCPU, mi.hot&hotCPU != 0)
	e.share(MetricNodeMem, t, mi.nodeMem, mi.hasNodeMem, mi.hot&hotMem != 0)
	e.oomMinute(mi)
}

// observe remembers the minute's values, learned or not, for the series
// of a later signal.
func (e *evaluator) observe(mi *minute) {
	m, t := e.m, mi.t
	for _, v := range [...]struct {
		metric string
		x      float64
		has    bool
	}{
		{MetricCPU, mi.cpu, mi.hasCPU}, {MetricMem, mi.mem, mi.hasMem}, {MetricNetTx, mi.net, mi.hasNet},
		{MetricNodeCPU, mi.nodeCPU, mi.hasNodeCPU}, {MetricNodeMem, mi.nodeMem, mi.hasNodeMem},
	} {
		if v.has {
			m.Observe(v.metric, t, v.x)
		}
	}
}

// Series spans, around an alerting run.
const (
	seriesBefore = 30 * time.Minute
	seriesAfter  = 10 * time.Minute
)

// series returns metric minute by minute around first..last as m
// remembers it, against the band the detector alerts above (low and the
// high of bound at each minute); nil when nothing is remembered.
func series(m *baseline.Model, metric string, first, last time.Time, bound func(b baseline.Band) float64) *signal.Series {
	start, vals := m.Recent(metric, first.Add(-seriesBefore), last.Add(seriesAfter))
	if len(vals) == 0 {
		return nil
	}
	s := &signal.Series{Start: start, Step: time.Minute, Observed: vals,
		Low: make([]float64, len(vals)), High: make([]float64, len(vals))}
	for i := range vals {
		b := m.Band(metric, s.At(i), bandK)
		s.Low[i] = b.Low
		s.High[i] = bound(b)
	}
	return s
}

// share learns what one pod of the workload takes of its node, except a
// minute far above it on a saturated node: that is the workload starving
// its neighbours (res-node-saturation), not its normal.
func (e *evaluator) share(metric string, t time.Time, x float64, has, hot bool) {
	if !has {
		return
	}
	if hot && !e.learning {
		if b := e.m.Band(metric, t, bandK); b.Samples > 0 && x >= pinHigh(b) {
			return
		}
	}
	e.m.Learn(metric, t, x)
}

// pin runs a pinned-run detector on one minute and learns the minute
// unless it belongs to an alarmed run.
func (e *evaluator) pin(d *pinDetector, mi *minute, x float64, limit, has bool, pods []string) {
	m, t, cfg := e.m, mi.t, e.cfg
	st, b := d.run.step(m, d.metric, t, mi.first, x, has && x >= cfg.PinnedPercent, e.learning)
	if st.Minutes == 0 {
		// The run, if any, ends: a short one was normal after all.
		e.flushPin(d)
		if has {
			m.Learn(d.metric, t, x)
		}
		return
	}
	// Minutes of a run short of PinnedMinutes are not anomalous yet and
	// are learned: they are what lets a recurring job become known after
	// one occurrence. After learning, alarmed minutes are not learned.
	if st.Minutes < cfg.PinnedMinutes || e.learning {
		m.Learn(d.metric, t, x)
	}
	if st.Minutes < cfg.PinnedMinutes {
		return
	}
	o := d.cur
	if o == nil {
		// The finding starts where the run began, maybe in an earlier
		// batch, so every batch of a long run updates the same one.
		o = &open{runStart: st.Start}
		o.first, o.band = d.run.start(st, b)
		d.cur = o
	}
	o.last, o.lastMinute = mi.last, t
	o.minutes++
	o.runLen = st.Minutes
	o.pods = mergePods(o.pods, pods)
	o.kills += mi.kills
	if o.minutes == 1 || x > o.peak {
		o.peak, o.limit = x, limit
	}
}

func (e *evaluator) flushPin(d *pinDetector) {
	o := d.cur
	if o == nil {
		return
	}
	d.cur = nil
	// New: the run began before the model had its learning behind it.
	isNew := e.m.Ready.IsZero() || o.runStart.Before(e.m.Ready)
	tech := "T1499"
	if isNew || strings.Contains(e.workload, "/Pod/") {
		tech = "T1496"
	}
	of := "its node or reservation"
	if o.limit {
		of = "its limit"
	}
	s := e.signal(d.id, tech, tacticResource, d.severity, o)
	s.Count = o.runLen
	s.Title = fmt.Sprintf("%s of %s pinned at %.0f%% of %s for %d min", d.noun, e.workload, o.peak, of, o.runLen)
	s.Description = fmt.Sprintf("%s of %s (per-minute maximum over its pods, in percent of %s) stayed at or above %.0f%% for %d consecutive minutes from %s to %s, peaking at %.1f%%. %s Pods pinned: %s.",
		d.noun, e.workload, of, e.cfg.PinnedPercent, o.runLen, hhmm(o.first), hhmm(o.lastMinute), o.peak,
		e.expected(o.band, "%", isNew), podList(o.pods))
	if d.id == MemoryID && o.kills > 0 {
		// The same exhaustion seen by the kernel: res-oom-kill judges the
		// kills themselves.
		s.Description += fmt.Sprintf(" Containers were OOM-killed %.0f times in those minutes.", o.kills)
		s.Fields["oomKills"] = strconv.FormatFloat(o.kills, 'f', 0, 64)
	}
	s.Measurement = e.measure(d.metric, "%", o.peak, o.band)
	// The run started above this, not above the widened log band.
	s.Measurement.High = round2(pinHigh(o.band))
	s.Measurement.Series = series(e.m, d.metric, o.first, o.last, pinHigh)
	e.out = append(e.out, s)
}

func (e *evaluator) sprawlMinute(mi *minute) {
	if e.learning && len(mi.cpuPods) >= e.cfg.SprawlPods {
		o := e.sprawl
		if o == nil {
			o = &open{first: mi.first}
			e.sprawl = o
		}
		o.last, o.lastMinute = mi.last, mi.t
		o.minutes++
		o.runLen = o.minutes
		o.pods = mergePods(o.pods, mi.cpuPods)
		o.maxPods = max(o.maxPods, len(mi.cpuPods))
		o.peak = max(o.peak, mi.cpu)
		return
	}
	e.flushSprawl()
}

func (e *evaluator) flushSprawl() {
	o := e.sprawl
	if o == nil {
		return
	}
	e.sprawl = nil
	s := e.signal(SprawlID, "T1496", tacticResource, signal.High, o)
	s.Title = fmt.Sprintf("%d pods of new workload %s pinned at their CPU limit", o.maxPods, e.workload)
	s.Description = fmt.Sprintf("Up to %d distinct pods of %s were at or above %.0f%% CPU in the same minute, for %d minute(s) from %s to %s (peak %.1f%%), while the workload is new (baseline learned from %s of the %s learning period): a burst of pinned replicas is how miners spread. Pods pinned: %s.",
		o.maxPods, e.workload, e.cfg.PinnedPercent, o.minutes, hhmm(o.first), hhmm(o.lastMinute), o.peak,
		dur(e.m.Trained()), dur(e.cfg.Learning), podList(o.pods))
	s.Measurement = &signal.Measurement{Metric: "pinned_pods_per_min", Unit: "pods", Observed: float64(o.maxPods),
		High: float64(e.cfg.SprawlPods), Score: round2(float64(o.maxPods) / float64(e.cfg.SprawlPods)), Trained: e.m.Trained()}
	e.out = append(e.out, s)
}

func (e *evaluator) netMinute(mi *minute) {
	m, t := e.m, mi.t
	if !mi.hasNet {
		e.flushNet()
		return
	}
	b := m.Band(MetricNetTx, t, bandK)
	x := mi.net
	if e.learning || b.Samples == 0 || x <= netHigh(b) {
		e.flushNet()
		m.Learn(MetricNetTx, t, x)
		return
	}
	o := e.net
	if o == nil {
		o = &open{first: mi.first}
		e.net = o
	}
	o.last, o.lastMinute = mi.last, t
	o.minutes++
	o.runLen = o.minutes
	o.pods = mergePods(o.pods, mi.netPods)
	if o.minutes == 1 || x > o.peak {
		o.peak, o.band = x, b
	}
}

func (e *evaluator) flushNet() {
	o := e.net
	if o == nil {
		return
	}
	e.net = nil
	b := o.band
	ratio := o.peak / max(b.Expected, 1)
	s := e.signal(NetTxID, "T1498.001", tacticDoS, signal.Medium, o)
	s.Title = fmt.Sprintf("Outbound traffic of %s at %s/s, %.0fx its normal", e.workload, bytesStr(o.peak), ratio)
	s.Description = fmt.Sprintf("Pods of %s sent %s/s in one minute (sum over pods) against an expected %s/s (normal band %s/s to %s/s, alarm above %s/s, %s slot of %d samples), %.0fx the median, robust z %.1f, over %d minute(s) from %s to %s. Baseline learned from %s.",
		e.workload, bytesStr(o.peak), bytesStr(b.Expected), bytesStr(b.Low), bytesStr(b.High), bytesStr(netHigh(b)), b.Slot, b.Samples,
		ratio, b.Z(o.peak), o.minutes, hhmm(o.first), hhmm(o.lastMinute), dur(e.m.Trained()))
	s.Measurement = e.measure(MetricNetTx, "bytes/s", o.peak, b)
	s.Measurement.High = round2(netHigh(b))
	s.Measurement.Series = series(e.m, MetricNetTx, o.first, o.last, netHigh)
	e.out = append(e.out, s)
}

func (e *evaluator) end() {
	e.flushPin(&e.cpu)
	e.flushPin(&e.mem)
	e.flushSprawl()
	e.flushNet()
	e.flushOOM()
}

func (e *evaluator) signal(det, tech, tactic string, sev signal.Severity, o *open) signal.Signal {
	return signal.Signal{
		Detector: det, Technique: tech, Tactic: tactic, Workload: e.workload,
		First: o.first, Last: o.last, Severity: sev, Count: o.runLen,
		Fields: map[string]string{"pods": podField(o.pods), "minutes": strconv.Itoa(o.runLen)},
	}
}

func (e *evaluator) measure(metric, unit string, x float64, b baseline.Band) *signal.Measurement {
	return &signal.Measurement{Metric: metric + "_per_min", Unit: unit, Observed: round2(x), Expected: round2(b.Expected),
		Low: round2(b.Low), High: round2(b.High), Score: round2(b.Z(x)), Trained: e.m.Trained()}
}

func (e *evaluator) expected(b baseline.Band, unit string, isNew bool) string {
	var sb strings.Builder
	if b.Samples > 0 {
		fmt.Fprintf(&sb, "Expected %.1f%s at this time (%s slot of %d samples, most seen %.1f%s, normal up to %.1f%s).",
			b.Expected, unit, b.Slot, b.Samples, b.Top, unit, pinHigh(b), unit)
	} else {
		sb.WriteString("No baseline for this time.")
	}
	if isNew {
		fmt.Fprintf(&sb, " The workload is new: it began while its baseline was still learning (now %s of the %s learning period).", dur(e.m.Trained()), dur(e.cfg.Learning))
	} else {
		fmt.Fprintf(&sb, " Baseline learned from %s.", dur(e.m.Trained()))
	}
	return sb.String()
}

// netHigh is the most net-tx may be in a minute: above the widened band,
// at least netRatio times the median, at least minNetTx.
func netHigh(b baseline.Band) float64 { return max(b.High, netRatio*b.Expected, minNetTx) }

// pinHigh is the level a pinned minute must reach to start a run on a
// trained band.
func pinHigh(b baseline.Band) float64 { return max(b.Top, 1) * farRatio }

func podList(pods []string) string {
	if len(pods) == 0 {
		return "none"
	}
	return podField(pods)
}

func podField(pods []string) string {
	if len(pods) <= maxPodNames {
		return strings.Join(pods, ",")
	}
	return strings.Join(pods[:maxPodNames], ",") + ",+" + strconv.Itoa(len(pods)-maxPodNames) + " more"
}

func hhmm(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func dur(d time.Duration) string {
	h := int(d / time.Hour)
	mins := int(d%time.Hour) / int(time.Minute)
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd%dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

func bytesStr(x float64) string {
	const unit = 1024
	if x < unit {
		return fmt.Sprintf("%.0f B", x)
	}
	sfx := "KMGTPE"
	i := 0
	for x >= unit*unit && i < len(sfx)-1 {
		x /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", x/unit, sfx[i])
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
