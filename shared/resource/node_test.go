package resource

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// estate feeds a cluster's pod and node samples through Batch, workloads
// first then nodes, with every model persisted as bytes between batches
// (as the pipeline stores them).
type estate struct {
	t      *testing.T
	cfg    Config
	stored map[string][]byte
}

func newEstate(t *testing.T) *estate {
	return &estate{t: t, cfg: DefaultConfig(), stored: map[string][]byte{}}
}

func (e *estate) model(key string, fresh func(string) *baseline.Model) *baseline.Model {
	e.t.Helper()
	b, ok := e.stored[key]
	if !ok {
		return fresh(key)
	}
	m, err := baseline.Unmarshal(b)
	if err != nil {
		e.t.Fatalf("unmarshal %s: %v", key, err)
	}
	return m
}

func (e *estate) save(key string, m *baseline.Model) {
	e.t.Helper()
	b, err := m.Marshal()
	if err != nil {
		e.t.Fatalf("marshal %s: %v", key, err)
	}
	e.stored[key] = b
}

func (e *estate) flush(samples []Sample) []signal.Signal {
	e.t.Helper()
	b := NewBatch(e.cfg)
	b.Add(samples...)
	var out []signal.Signal
	for _, w := range b.Workloads() {
		m := e.model("res#"+w, NewModel)
		out = append(out, b.Evaluate(w, m)...)
		e.save("res#"+w, m)
	}
	for _, id := range b.Nodes() {
		m := e.model("node#"+id, NewNodeModel)
		out = append(out, b.EvaluateNode(id, m)...)
		e.save("node#"+id, m)
	}
	return out
}

// run feeds g's samples from start for d in batches of batch.
func (e *estate) run(start time.Time, d, batch time.Duration, g gen) []signal.Signal {
	e.t.Helper()
	var out []signal.Signal
	var buf []Sample
	for ts := start; ts.Before(start.Add(d)); ts = ts.Add(time.Minute) {
		buf = append(buf, g(ts)...)
		if ts.Add(time.Minute).Sub(start)%batch == 0 {
			out = append(out, e.flush(buf)...)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		out = append(out, e.flush(buf)...)
	}
	return out
}

// tenant is one workload's pods on a node: what each takes of the node's
// CPU and memory (percent) at a time.
type tenant struct {
	workload string
	pods     []string
	cpu, mem func(ts time.Time) float64
}

func flat(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

// node returns the samples of one minute of a node and its tenants: pods
// report 17s into the minute, the node 20s, using what its pods use plus
// sys percent for the system.
func node(ts time.Time, name string, sys float64, tenants ...tenant) []Sample {
	var out []Sample
	cpu, mem := sys, sys
	for _, tn := range tenants {
		for i, p := range tn.pods {
			c, m := tn.cpu(ts), tn.mem(ts)
			// Pods of one workload differ a little, deterministically.
			c *= 1 + 0.02*float64(i%3-1)
			cpu += c
			mem += m
			out = append(out, Sample{Workload: tn.workload, Pod: p, Cluster: "prod", Node: name, Instance: "i-" + name,
				Time: ts.Add(17 * time.Second), CPU: c, Mem: m, Has: HasCPU | HasMem})
		}
	}
	out = append(out, Sample{Cluster: "prod", Node: name, Instance: "i-" + name, Time: ts.Add(20 * time.Second),
		CPU: min(cpu, 99.5), Mem: min(mem, 99.5), Has: HasCPU | HasMem})
	return out
}

// wave is a daily shape: base, rising to peak around 12:30 UTC.
func wave(base, peak float64) func(time.Time) float64 {
	return func(ts time.Time) float64 {
		h := float64(ts.Hour()) + float64(ts.Minute())/60
		d := (h - 12.5) / 2
		return base + (peak-base)*math.Exp(-d*d)
	}
}

// during returns f in [from, from+mins) and base otherwise.
func during(from time.Time, mins int, f, base func(time.Time) float64) func(time.Time) float64 {
	return func(ts time.Time) float64 {
		if in(ts, from, mins) {
			return f(ts)
		}
		return base(ts)
	}
}

func bySignal(sigs []signal.Signal, det string) []signal.Signal {
	var out []signal.Signal
	for _, s := range sigs {
		if s.Detector == det {
			out = append(out, s)
		}
	}
	return out
}

func TestNodeSaturation(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 14*time.Hour) // Thursday 14:00
	const web, api, worker = "eks/prod/shop/Deployment/web", "eks/prod/shop/Deployment/api", "eks/prod/shop/Deployment/worker"
	neighbours := func(ts time.Time) []tenant {
		return []tenant{
			{web, []string{"web-1"}, wave(4, 12), flat(6)},
			{api, []string{"api-1"}, wave(3, 8), flat(5)},
		}
	}
	tests := []struct {
		name      string
		g         gen
		workloads []string // culprits, most first
		technique string
		noun      string
		share     string
		first     time.Duration // after attack, when the run starts elsewhen
		count     int           // minutes, when not 20
	}{
		{
			name: "runaway deployment takes its node's CPU",
			g: func(ts time.Time) []Sample {
				tn := append(neighbours(ts), tenant{worker, []string{"worker-1"}, during(attack, 20, flat(80), wave(5, 9)), flat(8)})
				return node(ts, "n1", 5, tn...)
			},
			workloads: []string{worker}, technique: "T1499", noun: "CPU", share: "100",
		},
		{
			name: "leak fills the node's memory",
			g: func(ts time.Time) []Sample {
				tn := append(neighbours(ts), tenant{worker, []string{"worker-1"}, wave(5, 9), during(attack, 20, flat(75), flat(8))})
				return node(ts, "n1", 8, tn...)
			},
			workloads: []string{worker}, technique: "T1499", noun: "memory", share: "100",
		},
		{
			name: "leak creeps up to fill the node's memory",
			g: func(ts time.Time) []Sample {
				leak := func(ts time.Time) float64 {
					if ts.Before(attack.Add(-2*time.Hour)) || !ts.Before(attack.Add(20*time.Minute)) {
						return 8
					}
					return min(8+0.7*ts.Sub(attack.Add(-2*time.Hour)).Minutes(), 75)
				}
				tn := append(neighbours(ts), tenant{worker, []string{"worker-1"}, wave(5, 9), leak})
				return node(ts, "n1", 8, tn...)
			},
			// 0.7 points a minute from 12:00: the node passes 90% at 13:30.
			workloads: []string{worker}, technique: "T1499", noun: "memory", share: "100", first: -30 * time.Minute, count: 50,
		},
		{
			name: "bare pod appears and takes the node",
			g: func(ts time.Time) []Sample {
				tn := neighbours(ts)
				if in(ts, attack, 20) {
					tn = append(tn, tenant{"eks/prod/default/Pod/xmr", []string{"xmr"}, flat(80), flat(2)})
				}
				return node(ts, "n1", 5, tn...)
			},
			workloads: []string{"eks/prod/default/Pod/xmr"}, technique: "T1496", noun: "CPU", share: "100",
		},
		{
			name: "two workloads run away together",
			g: func(ts time.Time) []Sample {
				tn := append(neighbours(ts),
					tenant{worker, []string{"worker-1"}, during(attack, 20, flat(40), wave(5, 9)), flat(8)},
					tenant{"eks/prod/shop/Deployment/indexer", []string{"indexer-1", "indexer-2"}, during(attack, 20, flat(20), flat(2)), flat(3)})
				return node(ts, "n1", 5, tn...)
			},
			// Two pods of indexer rise by 36 points, worker's one by 31.
			workloads: []string{"eks/prod/shop/Deployment/indexer", worker}, technique: "T1499", noun: "CPU",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs := newEstate(t).run(monday, 4*24*time.Hour, time.Hour, tc.g)
			// A run over two batches updates one finding: keep the last
			// signal of each key.
			var got []signal.Signal
			at := map[string]int{}
			for _, s := range bySignal(sigs, NodeSaturationID) {
				if i, ok := at[s.Key()]; ok {
					got[i] = s
					continue
				}
				at[s.Key()] = len(got)
				got = append(got, s)
			}
			if len(got) != len(tc.workloads) {
				t.Fatalf("got %d %s findings, want %d: %+v", len(got), NodeSaturationID, len(tc.workloads), sigs)
			}
			count := cmp.Or(tc.count, 20)
			for i, s := range got {
				t.Log(s.Title)
				t.Log(s.Description)
				if s.Workload != tc.workloads[i] {
					t.Errorf("signal %d on %s, want %s", i, s.Workload, tc.workloads[i])
				}
				if s.Technique != tc.technique || s.Tactic != tacticResource || s.Severity != signal.High {
					t.Errorf("got %s %s %s, want %s %s HIGH", s.Technique, s.Tactic, s.Severity, tc.technique, tacticResource)
				}
				if want := attack.Add(tc.first); !s.First.Truncate(time.Minute).Equal(want) || s.Count != count {
					t.Errorf("first %v count %d, want %v %d", s.First, s.Count, want, count)
				}
				if s.Fields["node"] != "n1" || s.Fields["instance"] != "i-n1" || (tc.share != "" && s.Fields["share"] != tc.share) ||
					!strings.Contains(s.Fields["contributors"], s.Workload+"=") {
					t.Errorf("fields %v", s.Fields)
				}
				if !strings.Contains(s.Title, tc.noun) || !strings.Contains(s.Description, s.Workload) || !strings.Contains(s.Description, "n1") {
					t.Errorf("title %q description %q", s.Title, s.Description)
				}
				if len(s.Resources) != 3 || s.Resources[0].ID != s.Workload || s.Resources[1].Type != signal.ResourceEC2Instance ||
					s.Resources[1].ID != "i-n1" || s.Resources[2].Type != signal.ResourceEKSCluster || s.Resources[2].ID != "prod" {
					t.Errorf("resources %+v", s.Resources)
				}
				m := s.Measurement
				if m == nil || m.Observed < 90 || m.Observed <= m.High || m.Series == nil || m.Series.Len() == 0 {
					t.Fatalf("measurement %+v", m)
				}
				if m.Series.Len() != len(m.Series.Low) || m.Series.Len() != len(m.Series.High) {
					t.Errorf("series %+v", m.Series)
				}
			}
		})
	}
}

// TestNodeSaturationQuiet: a saturated node with no culprit raises
// nothing, whether the node is new or known.
func TestNodeSaturationQuiet(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 14*time.Hour)
	// Six workloads sharing a node, each peaking at noon: the node runs
	// at about 95% at every daily peak.
	many := func(ts time.Time) []tenant {
		var tn []tenant
		for i := range 6 {
			w := fmt.Sprintf("eks/prod/shop/Deployment/svc%d", i)
			tn = append(tn, tenant{w, []string{fmt.Sprintf("svc%d-1", i)}, wave(4, 15), flat(6)})
		}
		return tn
	}
	tests := []struct {
		name string
		g    gen
	}{
		{"daily peak spread over many workloads", func(ts time.Time) []Sample {
			return node(ts, "n1", 4, many(ts)...)
		}},
		{"daily peak on a node replaced that morning", func(ts time.Time) []Sample {
			// The same pods move to a fresh node on Thursday at 06:00:
			// the node's own normal is unknown, the workloads' is not.
			name := "n1"
			if !ts.Before(attack.Add(-8 * time.Hour)) {
				name = "n2"
			}
			return node(ts, name, 4, many(ts)...)
		}},
		{"everything moderately up on a busy day", func(ts time.Time) []Sample {
			// A node that peaks at about 65% at noon. On Thursday a sale
			// starts at noon: every workload is 60% busier at once, and
			// the node saturates far above its normal; but no workload
			// rose by more than a few points of the node, and none stands
			// out.
			var tn []tenant
			for i := range 6 {
				w := fmt.Sprintf("eks/prod/shop/Deployment/svc%d", i)
				cpu := during(attack.Add(-2*time.Hour), 120, func(ts time.Time) float64 { return 1.6 * wave(3, 10)(ts) }, wave(3, 10))
				tn = append(tn, tenant{w, []string{fmt.Sprintf("svc%d-1", i)}, cpu, flat(6)})
			}
			return node(ts, "n1", 4, tn...)
		}},
		{"node that always runs hot", func(ts time.Time) []Sample {
			return node(ts, "n1", 3, tenant{"eks/prod/batch/Deployment/crunch", []string{"crunch-1", "crunch-2"}, flat(46), flat(40)},
				tenant{"eks/prod/kube-system/DaemonSet/agent", []string{"agent-1"}, flat(2), flat(3)})
		}},
		{"saturated node without pod samples", func(ts time.Time) []Sample {
			s := node(ts, "n1", 4, many(ts)...)
			return s[len(s)-1:]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEstate(t)
			sigs := e.run(monday, 4*24*time.Hour, time.Hour, tc.g)
			for _, s := range sigs {
				t.Errorf("unexpected %s on %s at %v: %s\n%s", s.Detector, s.Workload, s.First, s.Title, s.Description)
			}
			// The node does saturate on Thursday: the quiet is the
			// detector's.
			hot := 0
			for ts := attack.Add(-14 * time.Hour); ts.Before(attack.Add(10 * time.Hour)); ts = ts.Add(time.Minute) {
				for _, s := range tc.g(ts) {
					if s.IsNode() && s.CPU >= e.cfg.NodePercent {
						hot++
					}
				}
			}
			if hot < 30 {
				t.Fatalf("the node is saturated for %d minutes on Thursday; the test needs a saturated node", hot)
			}
		})
	}
}

// TestNodeSaturationPerStream: each node's events come in batches of their
// own (one log stream per node), so a workload with pods on two nodes is
// judged by the first batch of a minute and refused as stale by the
// second; the second still knows its normal and does not blame it.
func TestNodeSaturationPerStream(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 14*time.Hour)
	const web, worker = "eks/prod/shop/Deployment/web", "eks/prod/shop/Deployment/worker"
	e := newEstate(t)
	var sigs []signal.Signal
	for h := monday; h.Before(monday.Add(4 * 24 * time.Hour)); h = h.Add(time.Hour) {
		var n1, n2 []Sample
		for ts := h; ts.Before(h.Add(time.Hour)); ts = ts.Add(time.Minute) {
			n1 = append(n1, node(ts, "n1", 5, tenant{web, []string{"web-1"}, flat(30), flat(10)})...)
			n2 = append(n2, node(ts, "n2", 5, tenant{web, []string{"web-2"}, flat(30), flat(10)},
				tenant{worker, []string{"worker-1"}, during(attack, 20, flat(60), flat(5)), flat(8)})...)
		}
		sigs = append(sigs, e.flush(n1)...)
		sigs = append(sigs, e.flush(n2)...)
	}
	if len(sigs) == 0 {
		t.Fatal("no signal")
	}
	for _, s := range sigs {
		if s.Detector != NodeSaturationID || s.Workload != worker || s.Fields["node"] != "n2" {
			t.Errorf("unexpected %s on %s: %s", s.Detector, s.Workload, s.Title)
		}
	}
}

// TestNodeSaturationAcrossBatches: a saturated run split over 5-minute
// batches updates one finding (same First and Key) with a growing Count,
// and the culprit's minutes do not become its normal.
func TestNodeSaturationAcrossBatches(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 14*time.Hour)
	const worker = "eks/prod/shop/Deployment/worker"
	e := newEstate(t)
	g := func(ts time.Time) []Sample {
		return node(ts, "n1", 5, tenant{"eks/prod/shop/Deployment/web", []string{"web-1"}, wave(4, 12), flat(6)},
			tenant{worker, []string{"worker-1"}, during(attack, 30, flat(85), wave(5, 9)), flat(8)})
	}
	sigs := e.run(monday, 4*24*time.Hour, 5*time.Minute, g)
	var counts []int
	for _, s := range sigs {
		if s.Detector != NodeSaturationID || s.Workload != worker {
			t.Fatalf("unexpected %s on %s: %s", s.Detector, s.Workload, s.Title)
		}
		// The first batch knows the event time the run began; the later
		// ones its minute, which the finding keeps as FirstObservedAt.
		if !s.First.Truncate(time.Minute).Equal(attack) || s.Key() != sigs[0].Key() {
			t.Errorf("first %v key %s", s.First, s.Key())
		}
		counts = append(counts, s.Count)
	}
	if len(counts) == 0 || counts[len(counts)-1] != 30 {
		t.Errorf("counts %v, want growing to 30", counts)
	}
	m := e.model("res#"+worker, NewModel)
	if b := m.Band(MetricNodeCPU, attack, bandK); b.Top > 20 {
		t.Errorf("the runaway minutes were learned: %s top %.1f", MetricNodeCPU, b.Top)
	}
}

func TestEvaluateNodeDeterministic(t *testing.T) {
	attack := monday.Add(14 * time.Hour)
	var samples []Sample
	for i := range 60 {
		ts := attack.Add(time.Duration(i) * time.Minute)
		samples = append(samples, node(ts, "n1", 5,
			tenant{"eks/prod/a/Deployment/x", []string{"x-1", "x-2", "x-3"}, flat(30), flat(5)},
			tenant{"eks/prod/a/Deployment/y", []string{"y-1"}, flat(9), flat(5)})...)
	}
	eval := func(ss []Sample) ([]signal.Signal, string) {
		b := NewBatch(DefaultConfig())
		b.Add(ss...)
		var out []signal.Signal
		for _, w := range b.Workloads() {
			// Known workloads, so that the minutes are attributed.
			m := NewModel(w)
			for h := range 48 {
				tm := attack.Add(time.Duration(h-48) * time.Hour)
				m.Advance(tm)
				m.Learn(MetricNodeCPU, tm, 9)
			}
			out = append(out, b.Evaluate(w, m)...)
		}
		m := NewNodeModel("prod/n1")
		out = append(out, b.EvaluateNode("prod/n1", m)...)
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out, string(data)
	}
	want, wantModel := eval(samples)
	if len(bySignal(want, NodeSaturationID)) != 1 {
		t.Fatalf("want one node signal, got %+v", want)
	}
	for i := range 3 {
		ss := append([]Sample(nil), samples...)
		for a, b := 0, len(ss)-1; a < b; a, b = a+1, b-1 {
			ss[a], ss[b] = ss[b], ss[a]
		}
		if i%2 == 1 {
			ss = append(ss[len(ss)/2:], ss[:len(ss)/2]...)
		}
		got, gotModel := eval(ss)
		if diff := gocmp.Diff(want, got); diff != "" || gotModel != wantModel {
			t.Errorf("order %d changed the outcome (-want +got):\n%s", i, diff)
		}
	}
}

func BenchmarkEvaluateNode(b *testing.B) {
	var ss []Sample
	for i := range 60 {
		ts := monday.Add(time.Duration(i) * time.Minute)
		var tn []tenant
		for k := range 20 {
			tn = append(tn, tenant{fmt.Sprintf("eks/prod/a/Deployment/w%d", k), []string{fmt.Sprintf("w%d-1", k)}, flat(4), flat(4)})
		}
		ss = append(ss, node(ts, "n1", 5, tn...)...)
	}
	b.ReportAllocs()
	for b.Loop() {
		batch := NewBatch(DefaultConfig())
		batch.Add(ss...)
		for _, w := range batch.Workloads() {
			batch.Evaluate(w, NewModel(w))
		}
		batch.EvaluateNode("prod/n1", NewNodeModel("prod/n1"))
	}
}
