package resource

import (
	"cmp"
	"slices"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Bits of a node minute's saturation.
const (
	hotCPU uint8 = 1 << iota
	hotMem
)

type nodeMinute struct {
	node   string
	minute int64
}

// Batch is the resource samples of one flush: pods and tasks by workload,
// nodes by NodeID. Evaluate every workload of the batch first, then
// EvaluateNode every node: a saturated node's culprits are judged against
// what their pods normally took of a node as the workload models held it
// when Evaluate reached that hour, before learning any minute of it, which
// a retried batch finds again. A Batch is not safe for concurrent use.
type Batch struct {
	cfg    Config
	work   map[string][]Sample
	nodes  map[string][]Sample   // node samples by node id
	onNode map[string][]podShare // what pods took of their node, by node id
	hot    map[nodeMinute]uint8
	norms  map[string]*norm
}

// NewBatch returns an empty batch judged with cfg.
func NewBatch(cfg Config) *Batch {
	return &Batch{cfg: cfg.withDefaults(), work: map[string][]Sample{}, nodes: map[string][]Sample{},
		onNode: map[string][]podShare{}, hot: map[nodeMinute]uint8{}, norms: map[string]*norm{}}
}

// Add adds samples: a node's (IsNode) to its node, any other to its
// workload, and an EKS pod's also to its node. A slice of one workload's
// samples, the first of that workload, is kept as it is rather than
// copied (a replay adds hundreds of thousands): the batch may reorder it,
// and the caller must not change it afterwards.
func (b *Batch) Add(samples ...Sample) {
	if w, ok := oneWorkload(samples); ok && len(b.work[w]) == 0 {
		b.work[w] = samples[:len(samples):len(samples)]
		for i := range samples {
			b.addShare(&samples[i])
		}
		return
	}
	for i := range samples {
		s := &samples[i]
		if s.IsNode() {
			id := NodeID(s.Cluster, s.Node)
			b.nodes[id] = append(b.nodes[id], *s)
			k := nodeMinute{node: id, minute: s.Time.Unix() / 60}
			if s.Has&HasCPU != 0 && valid(s.CPU) && s.CPU >= b.cfg.NodePercent {
				b.hot[k] |= hotCPU
			}
			if s.Has&HasMem != 0 && valid(s.Mem) && s.Mem >= b.cfg.NodePercent {
				b.hot[k] |= hotMem
			}
			continue
		}
		b.work[s.Workload] = append(b.work[s.Workload], *s)
		b.addShare(s)
	}
}

// oneWorkload reports samples that are all of one workload's pods.
func oneWorkload(samples []Sample) (string, bool) {
	if len(samples) == 0 || samples[0].IsNode() {
		return "", false
	}
	w := samples[0].Workload
	for i := range samples {
		if samples[i].Workload != w || samples[i].IsNode() {
			return "", false
		}
	}
	return w, true
}

// addShare keeps what an EKS pod's sample took of its node.
func (b *Batch) addShare(s *Sample) {
	if s.Node == "" {
		return
	}
	id := NodeID(s.Cluster, s.Node)
	ps := podShare{workload: s.Workload, pod: s.Pod, minute: s.Time.Unix() / 60}
	if s.Has&HasCPU != 0 && valid(s.CPU) {
		ps.cpu, ps.hasCPU = s.CPU, true
	}
	if s.Has&HasMem != 0 && valid(s.Mem) {
		ps.mem, ps.hasMem = s.Mem, true
	}
	b.onNode[id] = append(b.onNode[id], ps)
}

// Workloads returns the workloads of the batch, sorted.
func (b *Batch) Workloads() []string { return slices.Sorted(keys(b.work)) }

// Nodes returns the ids of the nodes the batch has samples of, sorted.
func (b *Batch) Nodes() []string { return slices.Sorted(keys(b.nodes)) }

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// hotOf tells the saturation of the node of a pod's sample in its minute.
func (b *Batch) hotOf(s *Sample) uint8 {
	if len(b.hot) == 0 {
		return 0
	}
	return b.hot[nodeMinute{node: NodeID(s.Cluster, s.Node), minute: s.Time.Unix() / 60}]
}

// norm is what a workload's pods normally take of a node, per hour of the
// batch: the workload model's bands as they were when Evaluate reached the
// hour, before it learned any minute of it.
type norm struct {
	trained time.Duration
	hours   map[int64]hourNorm
}

type hourNorm struct {
	ready    bool
	cpu, mem baseline.Band
}

// record keeps the norm of the hour of t, if it has none yet.
func (n *norm) record(m *baseline.Model, t time.Time, ready bool) {
	h := t.Unix() / 3600
	if _, ok := n.hours[h]; !ok {
		n.hours[h] = hourNorm{ready: ready, cpu: m.Band(MetricNodeCPU, t, bandK), mem: m.Band(MetricNodeMem, t, bandK)}
	}
}

// at returns the norm of the hour of t; false when unknown.
func (n *norm) at(t time.Time) (hourNorm, bool) {
	if n == nil {
		return hourNorm{}, false
	}
	h, ok := n.hours[t.Unix()/3600]
	return h, ok
}

func (h hourNorm) band(metric string) baseline.Band {
	if metric == MetricNodeMem {
		return h.mem
	}
	return h.cpu
}

// Evaluate judges one workload's samples of the batch against its model m,
// then learns the minutes that were not anomalous; see the package
// invariants. Minutes at or before the model's last evaluated minute are
// refused and counted in m.Stale. It returns the signals in a
// deterministic order (by detector run, in time).
func (b *Batch) Evaluate(workload string, m *baseline.Model) []signal.Signal {
	if m == nil {
		return nil
	}
	define(m)
	// The batch owns its slices: sort in place.
	ss := b.work[workload]
	slices.SortFunc(ss, compareSamples)
	n := &norm{hours: map[int64]hourNorm{}}
	b.norms[workload] = n
	e := &evaluator{workload: workload, m: m, cfg: b.cfg, norm: n}
	e.cpu = pinDetector{id: CPUID, metric: MetricCPU, noun: "CPU", severity: signal.High}
	e.mem = pinDetector{id: MemoryID, metric: MetricMem, noun: "Memory", severity: signal.Medium}
	for _, mi := range minutes(ss, b.cfg.PinnedPercent, b.hotOf) {
		if !m.Advance(mi.t) {
			// Another batch judged this minute: the pods of a workload
			// report on the log stream of each node they run on. Its
			// norm is still what this batch's nodes are judged by.
			if mi.hasNodeCPU || mi.hasNodeMem {
				n.record(m, mi.t, m.Trained() > b.cfg.Learning)
			}
			e.staleKills(&mi)
			continue
		}
		e.minute(&mi)
	}
	e.end()
	n.trained = m.Trained()
	slices.SortStableFunc(e.out, func(a, b signal.Signal) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Detector, b.Detector))
	})
	return e.out
}
