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
	"github.com/tidewatch/tidewatch/shared/signal"
)

// minExcess is the least a culprit's pods must take of a saturated node
// above their normal, on average over the run, in percentage points of
// the node: below it a workload did not saturate anything.
const minExcess = 10

// maxNamed bounds the workloads a node signal lists.
const maxNamed = 5

// NewNodeModel returns an empty model of an EKS node (see NodeID): its
// CPU and memory utilization (MetricCPU, MetricMem) and saturation runs.
// EvaluateNode also accepts a plain baseline.New model.
func NewNodeModel(id string) *baseline.Model {
	m := baseline.New(id)
	defineNode(m)
	return m
}

func defineNode(m *baseline.Model) {
	m.Define(MetricCPU, baseline.Gauge)
	m.Define(MetricMem, baseline.Gauge)
}

// nodeSample is one minute of a node.
type nodeSample struct {
	t           time.Time
	first, last time.Time
	cpu, mem    float64
	hasCPU      bool
	hasMem      bool
}

// podShare is one pod's take of its node in one minute (Unix minute).
type podShare struct {
	workload, pod  string
	minute         int64
	cpu, mem       float64
	hasCPU, hasMem bool
}

// contribution is what one workload's pods took of a saturated node over
// the run's minutes of this batch.
type contribution struct {
	workload string
	share    float64 // sum over minutes of the pods' take, node percent
	normal   float64 // sum over minutes of their normal take
	minutes  int
	pods     []string
	peak     float64 // the most its pods took in one minute
	// isNew: the workload was still learning in one of those minutes.
	isNew bool
	norm  *norm
}

func (c *contribution) excess() float64 { return c.share - c.normal }

// nodeRun is res-node-saturation for one resource of one node.
type nodeRun struct {
	metric, noun string
	cur          *nodeOpen
	run          runOrigin
}

// nodeOpen is a saturated run of a node in this batch.
type nodeOpen struct {
	first, last time.Time
	lastMinute  time.Time
	runLen      int
	reached     bool
	peak        float64
	band        baseline.Band
	// attributed counts the minutes with pod samples; excess sums the
	// positive excess of every workload over them.
	attributed int
	excess     float64
	by         map[string]*contribution
}

type nodeEval struct {
	b                       *Batch
	id, cluster, node, inst string
	m                       *baseline.Model
	learning                bool
	cpu, mem                nodeRun
	pods                    map[int64][]podShare
	out                     []signal.Signal
}

// EvaluateNode judges the samples of one node (NodeID) of the batch
// against the node's model m and learns its normal minutes; see the
// package invariants. Call it after Evaluate of every workload of the
// batch: a workload not evaluated has no known normal, and all it takes
// of the node counts as a rise. It returns one res-node-saturation signal
// per culprit workload, on that workload.
func (b *Batch) EvaluateNode(id string, m *baseline.Model) []signal.Signal {
	if m == nil || len(b.nodes[id]) == 0 {
		return nil
	}
	defineNode(m)
	ns := b.nodes[id]
	slices.SortFunc(ns, compareSamples)
	e := &nodeEval{b: b, id: id, m: m, cluster: ns[0].Cluster, node: ns[0].Node, pods: map[int64][]podShare{}}
	e.cpu = nodeRun{metric: MetricCPU, noun: "CPU"}
	e.mem = nodeRun{metric: MetricMem, noun: "memory"}
	for _, ps := range b.onNode[id] {
		e.pods[ps.minute] = append(e.pods[ps.minute], ps)
	}
	for _, mi := range nodeMinutes(ns, &e.inst) {
		if !m.Advance(mi.t) {
			continue
		}
		ready := m.Trained() > b.cfg.Learning
		if ready && m.Ready.IsZero() {
			m.Ready = mi.t
		}
		e.learning = !ready
		if mi.hasCPU {
			m.Observe(MetricCPU, mi.t, mi.cpu)
		}
		if mi.hasMem {
			m.Observe(MetricMem, mi.t, mi.mem)
		}
		e.minute(&e.cpu, &mi, mi.cpu, mi.hasCPU)
		e.minute(&e.mem, &mi, mi.mem, mi.hasMem)
	}
	e.flush(&e.cpu)
	e.flush(&e.mem)
	slices.SortStableFunc(e.out, func(a, b signal.Signal) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Workload, b.Workload))
	})
	return e.out
}

// nodeMinutes groups sorted node samples by minute (the most of each
// resource in the minute) and keeps the last instance id seen.
func nodeMinutes(ns []Sample, inst *string) []nodeSample {
	var out []nodeSample
	for i := 0; i < len(ns); {
		t := ns[i].Time.UTC().Truncate(time.Minute)
		mi := nodeSample{t: t, first: ns[i].Time}
		j := i
		for ; j < len(ns) && ns[j].Time.UTC().Truncate(time.Minute).Equal(t); j++ {
			s := &ns[j]
			mi.last = s.Time
			if s.Instance != "" {
				*inst = s.Instance
			}
			if s.Has&HasCPU != 0 && valid(s.CPU) {
				mi.cpu, mi.hasCPU = max(mi.cpu, s.CPU), true
			}
			if s.Has&HasMem != 0 && valid(s.Mem) {
				mi.mem, mi.hasMem = max(mi.mem, s.Mem), true
			}
		}
		out = append(out, mi)
		i = j
	}
	return out
}

// minute runs one resource's saturation run on one minute, as pin does
// for a workload: a run starts on a saturated minute far above the most
// the node is known to do at that time (any saturated minute while the
// node is new) and lasts while the node stays saturated. A minute in which
// a workload on the node is far above its normal is not learned, so a rise
// that creeps up to saturation does not become the node's normal on the
// way.
func (e *nodeEval) minute(d *nodeRun, mi *nodeSample, x float64, has bool) {
	m, t, cfg := e.m, mi.t, e.b.cfg
	takes, known := e.takes(d.metric, t)
	learn := has && (e.learning || !suspect(takes))
	st, b := d.run.step(m, d.metric, t, mi.first, x, has && x >= cfg.NodePercent, e.learning)
	if st.Minutes == 0 {
		e.flush(d)
		if learn {
			m.Learn(d.metric, t, x)
		}
		return
	}
	// As for pinned workloads: the first minutes of a run are learned, so
	// a node that saturates at the same hour every day becomes known.
	if learn && (st.Minutes < cfg.NodeMinutes || e.learning) {
		m.Learn(d.metric, t, x)
	}
	o := d.cur
	if o == nil {
		o = &nodeOpen{by: map[string]*contribution{}}
		o.first, o.band = d.run.start(st, b)
		d.cur = o
	}
	o.last, o.lastMinute = mi.last, t
	o.runLen = st.Minutes
	o.reached = o.reached || st.Minutes >= cfg.NodeMinutes
	o.peak = max(o.peak, x)
	if known {
		o.attribute(takes)
	}
}

// take is what one workload's pods took of the node in one minute, against
// their normal: what one pod of the workload usually takes of a node at
// this time (the top of its MetricNodeCPU or MetricNodeMem band, at least
// 1%; 0 when not known), times its pods there.
type take struct {
	workload      string
	share, normal float64
	pods          []string
	isNew         bool
	norm          *norm
}

// far reports a take far above its normal, by more than minExcess points.
func (tk *take) far() bool {
	return tk.share >= farRatio*max(tk.normal, 1) && tk.share-tk.normal >= minExcess
}

// suspect reports a minute in which some workload is far above its normal.
func suspect(takes []take) bool {
	for i := range takes {
		if takes[i].far() {
			return true
		}
	}
	return false
}

// takes returns the takes of the node's workloads in the minute of t, by
// workload, and whether any of them has a known normal: when none has (a
// cluster tidewatch has just met), there is nothing to measure a rise
// against.
func (e *nodeEval) takes(metric string, t time.Time) ([]take, bool) {
	ps := e.pods[t.Unix()/60]
	if len(ps) == 0 {
		return nil, false
	}
	by := map[string]map[string]float64{}
	for _, p := range ps {
		v, ok := p.cpu, p.hasCPU
		if metric == MetricMem {
			v, ok = p.mem, p.hasMem
		}
		if !ok {
			continue
		}
		if by[p.workload] == nil {
			by[p.workload] = map[string]float64{}
		}
		// One pod reporting twice in a minute is one take, not two.
		by[p.workload][p.pod] = max(by[p.workload][p.pod], v)
	}
	shareMetric := MetricNodeCPU
	if metric == MetricMem {
		shareMetric = MetricNodeMem
	}
	out := make([]take, 0, len(by))
	known := false
	for _, w := range slices.Sorted(keys(by)) {
		pods := slices.Sorted(keys(by[w]))
		tk := take{workload: w, pods: pods, norm: e.b.norms[w]}
		for _, p := range pods {
			tk.share += by[w][p]
		}
		hn, ok := tk.norm.at(t)
		if band := hn.band(shareMetric); band.Samples > 0 {
			tk.normal = float64(len(pods)) * max(band.Top, 1)
			known = true
		}
		tk.isNew = !ok || !hn.ready
		out = append(out, tk)
	}
	if !known {
		// Nothing to measure against: no workload is far from its normal.
		for i := range out {
			out[i].normal = out[i].share
		}
	}
	return out, known
}

// attribute adds one saturated minute's takes to the run.
func (o *nodeOpen) attribute(takes []take) {
	o.attributed++
	for i := range takes {
		tk := &takes[i]
		c := o.by[tk.workload]
		if c == nil {
			c = &contribution{workload: tk.workload, norm: tk.norm}
			o.by[tk.workload] = c
		}
		c.share += tk.share
		c.normal += tk.normal
		c.minutes++
		c.pods = mergePods(c.pods, tk.pods)
		c.peak = max(c.peak, tk.share)
		c.isNew = c.isNew || tk.isNew
		o.excess += max(tk.share-tk.normal, 0)
	}
}

// high is the level a node minute must reach to start a run on band b.
func (e *nodeEval) high(b baseline.Band) float64 {
	if b.Samples == 0 {
		return e.b.cfg.NodePercent
	}
	return max(e.b.cfg.NodePercent, pinHigh(b))
}

// culprits are the workloads that drove a run: far above their own normal
// (farRatio times it), at least minExcess points of the node above it on
// average, and at least Config.CulpritShare of the rise of all workloads
// above their normal. A saturation spread over many workloads each a
// little above its normal (a daily peak) has none.
func (e *nodeEval) culprits(o *nodeOpen) []*contribution {
	if o.attributed == 0 || o.excess <= 0 {
		return nil
	}
	var out []*contribution
	for _, c := range o.by {
		x := c.excess()
		if x <= 0 || c.share < farRatio*max(c.normal, float64(c.minutes)) ||
			x/float64(o.attributed) < minExcess || x < e.b.cfg.CulpritShare*o.excess {
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *contribution) int {
		return cmp.Or(cmp.Compare(b.excess(), a.excess()), cmp.Compare(a.workload, b.workload))
	})
	return out
}

func (e *nodeEval) flush(d *nodeRun) {
	o := d.cur
	if o == nil {
		return
	}
	d.cur = nil
	if !o.reached {
		return
	}
	cs := e.culprits(o)
	if len(cs) == 0 {
		// Saturated, but by no workload in particular: capacity, not
		// abuse. Nothing to report on a workload.
		return
	}
	named := make([]string, 0, min(len(cs), maxNamed))
	for i, c := range cs {
		if i == maxNamed {
			named = append(named, "+"+strconv.Itoa(len(cs)-maxNamed)+" more")
			break
		}
		named = append(named, fmt.Sprintf("%s=%.0f%%", c.workload, 100*c.excess()/o.excess))
	}
	for _, c := range cs {
		e.out = append(e.out, e.signal(d, o, c, strings.Join(named, ",")))
	}
}

func (e *nodeEval) signal(d *nodeRun, o *nodeOpen, c *contribution, named string) signal.Signal {
	w := c.workload
	isNew := c.isNew
	tech := "T1499"
	if isNew || strings.Contains(w, "/Pod/") {
		tech = "T1496"
	}
	mins := float64(c.minutes)
	rise := 100 * c.excess() / o.excess
	s := signal.Signal{
		Detector: NodeSaturationID, Technique: tech, Tactic: tacticResource, Workload: w,
		First: o.first, Last: o.last, Severity: signal.High, Count: o.runLen,
		Fields: map[string]string{
			"pods": podField(c.pods), "minutes": strconv.Itoa(o.runLen), "node": e.node,
			"nodePeak":     strconv.FormatFloat(round2(o.peak), 'f', -1, 64),
			"share":        strconv.FormatFloat(math.Round(rise), 'f', -1, 64),
			"contributors": named,
		},
	}
	if e.inst != "" {
		s.Fields["instance"] = e.inst
	}
	s.Title = fmt.Sprintf("Node %s at %.0f%% %s for %d min, driven by %s (%.0f%% of the node)",
		e.node, o.peak, d.noun, o.runLen, w, c.share/mins)
	var sb strings.Builder
	where := e.node
	if e.inst != "" {
		where += " (" + e.inst + ")"
	}
	fmt.Fprintf(&sb, "Node %s of cluster %s stayed at or above %.0f%% %s for %d consecutive minutes from %s to %s, peaking at %.1f%%.",
		where, e.cluster, e.b.cfg.NodePercent, d.noun, o.runLen, hhmm(o.first), hhmm(o.lastMinute), o.peak)
	if b := o.band; b.Samples > 0 && !e.learning {
		fmt.Fprintf(&sb, " The node is known to reach %.1f%% at this time (%s slot of %d samples).", b.Top, b.Slot, b.Samples)
	} else {
		sb.WriteString(" The node is new to tidewatch, so its own normal is not known yet.")
	}
	fmt.Fprintf(&sb, " Pods of %s on it (%s) took %.1f%% of the node's %s on average, up to %.1f%% in one minute, against a normal of up to %.1f%% (the most its pods usually take at this time",
		w, podList(c.pods), c.share/mins, d.noun, c.peak, c.normal/mins)
	switch {
	case isNew:
		sb.WriteString("; the workload is new: its baseline is still learning")
	case c.norm != nil:
		fmt.Fprintf(&sb, ", baseline learned from %s", dur(c.norm.trained))
	}
	fmt.Fprintf(&sb, "): %.0f points above normal, %.0f%% of the rise of all workloads on the node above their normal.", c.excess()/mins, rise)
	if strings.Contains(named, ",") {
		fmt.Fprintf(&sb, " Workloads that drove it, with their part of the rise: %s.", named)
	}
	s.Description = sb.String()
	// The measurement and its series are the node's: the saturation is
	// what a reader checks first; the culprit's take is in the fields.
	s.Fields["nodeShare"] = strconv.FormatFloat(round2(c.share/mins), 'f', -1, 64)
	s.Fields["normalShare"] = strconv.FormatFloat(round2(c.normal/mins), 'f', -1, 64)
	b := o.band
	s.Measurement = &signal.Measurement{Metric: "node_" + strings.ToLower(d.noun) + "_per_min", Unit: "%", Observed: round2(o.peak),
		Expected: round2(b.Expected), Low: round2(b.Low), High: round2(e.high(b)), Score: round2(b.Z(o.peak)),
		Trained: e.m.Trained(), Series: series(e.m, d.metric, o.first, o.last, e.high)}
	node := signal.Resource{Type: signal.ResourceOther, ID: "eks-node/" + e.id, Name: e.node,
		Details: map[string]string{"nodeName": e.node, "cluster": e.cluster}}
	if e.inst != "" {
		node.Type, node.ID = signal.ResourceEC2Instance, e.inst
	}
	s.Resources = []signal.Resource{
		{Type: signal.ResourceOther, ID: w, Details: map[string]string{"workload": w}},
		node,
		{Type: signal.ResourceEKSCluster, ID: e.cluster},
	}
	return s
}
