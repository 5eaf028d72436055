package resource

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// monday is 2026-11-02 00:00 UTC, a Monday.
var monday = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// gen returns the samples of one minute (pods and values) at t.
type gen func(t time.Time) []Sample

// pods builds one sample per pod with CPU over limit, memory over limit and
// network tx; the event time is 17s into the minute.
func pods(t time.Time, names []string, cpu, mem, tx float64) []Sample {
	out := make([]Sample, 0, len(names))
	for _, n := range names {
		out = append(out, Sample{Pod: n, Time: t.Add(17 * time.Second), CPUOverLimit: cpu, MemOverLimit: mem, NetTx: tx,
			Has: HasCPUOverLimit | HasMemOverLimit | HasNetTx})
	}
	return out
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// run feeds workload's samples from start for d, in batches, through
// Evaluate with the model persisted as bytes between batches (as the lead
// stores it), and returns all signals and the final model.
func run(t *testing.T, workload string, start time.Time, d, batch time.Duration, g gen) ([]signal.Signal, *baseline.Model) {
	t.Helper()
	var stored []byte
	var out []signal.Signal
	var m *baseline.Model
	var buf []Sample
	flush := func() {
		if stored == nil {
			m = NewModel(workload)
		} else {
			var err error
			if m, err = baseline.Unmarshal(stored); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
		}
		out = append(out, Evaluate(workload, buf, m, DefaultConfig())...)
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		stored = b
		buf = buf[:0]
	}
	for ts := start; ts.Before(start.Add(d)); ts = ts.Add(time.Minute) {
		for _, s := range g(ts) {
			s.Workload = workload
			buf = append(buf, s)
		}
		if ts.Add(time.Minute).Sub(start)%batch == 0 {
			flush()
		}
	}
	if len(buf) > 0 {
		flush()
	}
	return out, m
}

func in(t, from time.Time, mins int) bool {
	return !t.Before(from) && t.Before(from.Add(time.Duration(mins)*time.Minute))
}

func daily(t time.Time, h, m, mins int) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), h, m, 0, 0, time.UTC)
	return in(t, d, mins)
}

func TestDetectors(t *testing.T) {
	web := names("web-5d8f7c9b4-x", 3)
	attack := monday.Add(3*24*time.Hour + 14*time.Hour) // Thursday 14:00
	tests := []struct {
		name      string
		workload  string
		days      int
		batch     time.Duration
		g         gen
		detector  string
		technique string
		tactic    string
		severity  signal.Severity
		count     int
		first     time.Time
		title     string
	}{
		{
			name: "new bare pod miner", workload: "eks/prod/default/Pod/debug-miner", days: 1, batch: time.Hour,
			g: func(ts time.Time) []Sample {
				if in(ts, monday.Add(10*time.Hour), 40) {
					return pods(ts, []string{"debug-miner"}, 99, 20, 1000)
				}
				if ts.Before(monday.Add(10 * time.Hour)) {
					return nil
				}
				return pods(ts, []string{"debug-miner"}, 5, 20, 1000)
			},
			detector: CPUID, technique: "T1496", tactic: tacticResource, severity: signal.High, count: 40,
			first: monday.Add(10*time.Hour + 17*time.Second),
			title: "CPU of eks/prod/default/Pod/debug-miner pinned at 99% of its limit for 40 min",
		},
		{
			name: "established deployment pinned", workload: "eks/prod/shop/Deployment/web", days: 4, batch: time.Hour,
			g: func(ts time.Time) []Sample {
				if in(ts, attack, 40) {
					return pods(ts, web, 99, 40, 100e3)
				}
				return pods(ts, web, 30, 40, 100e3)
			},
			detector: CPUID, technique: "T1499", tactic: tacticResource, severity: signal.High, count: 40,
			first: attack.Add(17 * time.Second),
			title: "CPU of eks/prod/shop/Deployment/web pinned at 99% of its limit for 40 min",
		},
		{
			name: "memory pinned", workload: "eks/prod/shop/Deployment/api", days: 4, batch: time.Hour,
			g: func(ts time.Time) []Sample {
				if in(ts, attack, 30) {
					return pods(ts, web, 30, 97, 100e3)
				}
				return pods(ts, web, 30, 40, 100e3)
			},
			detector: MemoryID, technique: "T1499", tactic: tacticResource, severity: signal.Medium, count: 30,
			first: attack.Add(17 * time.Second),
			title: "Memory of eks/prod/shop/Deployment/api pinned at 97% of its limit for 30 min",
		},
		{
			name: "sprawl of pinned pods in a new workload", workload: "eks/prod/default/Deployment/xmr", days: 1, batch: time.Hour,
			g: func(ts time.Time) []Sample {
				if in(ts, monday.Add(5*time.Hour), 3) {
					return pods(ts, names("xmr-7c9-p", 6), 99, 30, 1000)
				}
				return nil
			},
			detector: SprawlID, technique: "T1496", tactic: tacticResource, severity: signal.High, count: 3,
			first: monday.Add(5*time.Hour + 17*time.Second),
			title: "6 pods of new workload eks/prod/default/Deployment/xmr pinned at their CPU limit",
		},
		{
			name: "network tx flood", workload: "eks/prod/shop/Deployment/cart", days: 4, batch: time.Hour,
			g: func(ts time.Time) []Sample {
				if in(ts, attack, 5) {
					return pods(ts, web, 35, 40, 20e6)
				}
				return pods(ts, web, 30, 40, 100e3)
			},
			detector: NetTxID, technique: "T1498.001", tactic: tacticDoS, severity: signal.Medium, count: 5,
			first: attack.Add(17 * time.Second),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, _ := run(t, tc.workload, monday, time.Duration(tc.days)*24*time.Hour, tc.batch, tc.g)
			var got []signal.Signal
			for _, s := range sigs {
				if s.Detector == tc.detector {
					got = append(got, s)
				}
			}
			if len(got) != 1 {
				t.Fatalf("got %d %s signals, want 1: %+v", len(got), tc.detector, sigs)
			}
			s := got[0]
			t.Log(s.Title)
			t.Log(s.Description)
			if s.Technique != tc.technique || s.Tactic != tc.tactic || s.Severity != tc.severity || s.Workload != tc.workload {
				t.Errorf("got %s %s %s %s, want %s %s %s %s", s.Technique, s.Tactic, s.Severity, s.Workload,
					tc.technique, tc.tactic, tc.severity, tc.workload)
			}
			if s.Count != tc.count || s.Fields["minutes"] != fmt.Sprint(tc.count) {
				t.Errorf("count %d minutes %q, want %d", s.Count, s.Fields["minutes"], tc.count)
			}
			if !s.First.Equal(tc.first) {
				t.Errorf("first %v, want %v", s.First, tc.first)
			}
			wantLast := tc.first.Add(time.Duration(tc.count-1) * time.Minute)
			if !s.Last.Equal(wantLast) {
				t.Errorf("last %v, want %v", s.Last, wantLast)
			}
			if tc.title != "" && s.Title != tc.title {
				t.Errorf("title %q, want %q", s.Title, tc.title)
			}
			if s.Measurement == nil || s.Measurement.Observed <= s.Measurement.Expected || s.Measurement.Trained <= 0 ||
				(s.Measurement.High > 0 && s.Measurement.Observed <= s.Measurement.High) {
				t.Errorf("measurement %+v", s.Measurement)
			}
			if s.Fields["pods"] == "" || s.Description == "" || !strings.Contains(s.Description, tc.workload) {
				t.Errorf("fields %v description %q", s.Fields, s.Description)
			}
		})
	}
}

// TestRunAcrossBatches: a pinned run split over 5-minute batches is one
// run: every batch after it reaches PinnedMinutes updates the same finding
// (same First, same Key) with a growing Count.
func TestRunAcrossBatches(t *testing.T) {
	web := names("web-5d8f7c9b4-x", 2)
	attack := monday.Add(3*24*time.Hour + 14*time.Hour)
	sigs, _ := run(t, "eks/prod/shop/Deployment/web", monday, 4*24*time.Hour, 5*time.Minute, func(ts time.Time) []Sample {
		if in(ts, attack, 40) {
			return pods(ts, web, 99, 40, 100e3)
		}
		return pods(ts, web, 30, 40, 100e3)
	})
	var counts []int
	for _, s := range sigs {
		if s.Detector != CPUID {
			t.Fatalf("unexpected %s: %s", s.Detector, s.Title)
		}
		if !s.First.Equal(attack) || s.Key() != sigs[0].Key() {
			t.Errorf("first %v key %s", s.First, s.Key())
		}
		counts = append(counts, s.Count)
	}
	if diff := cmp.Diff([]int{10, 15, 20, 25, 30, 35, 40}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

// TestQuiet: normal shapes never alarm once the workload has been seen
// (from the third day on; a new workload pinned in its first day is
// suspicious by design).
func TestQuiet(t *testing.T) {
	tests := []struct {
		name     string
		workload string
		g        gen
		// from is when signals must stop; zero: never any signal.
		from time.Duration
	}{
		{"nightly batch job", "eks/prod/batch/CronJob/report", func(ts time.Time) []Sample {
			if daily(ts, 2, 0, 31) {
				return pods(ts, []string{fmt.Sprintf("report-%d-abc", ts.Day())}, 99, 70, 2e6)
			}
			return nil
		}, 48 * time.Hour},
		{"nightly job inside an all-day service", "eks/prod/shop/Deployment/etl", func(ts time.Time) []Sample {
			if daily(ts, 2, 0, 31) {
				return pods(ts, names("etl-1", 2), 99, 50, 3e6)
			}
			return pods(ts, names("etl-1", 2), 15, 50, 50e3)
		}, 48 * time.Hour},
		{"daily noon peak", "eks/prod/shop/Deployment/lunch", func(ts time.Time) []Sample {
			if daily(ts, 12, 0, 60) {
				return pods(ts, names("lunch-9", 4), 96, 92, 4e6)
			}
			return pods(ts, names("lunch-9", 4), 25, 40, 400e3)
		}, 48 * time.Hour},
		{"rollout", "eks/prod/shop/Deployment/web", func(ts time.Time) []Sample {
			// Every day at 10:00 new pods replace the old, overlapping
			// for 10 minutes.
			gen := ts.Day()
			if ts.Hour() < 10 {
				gen--
			}
			s := pods(ts, names(fmt.Sprintf("web-%d", gen), 3), 50, 45, 300e3)
			if daily(ts, 10, 0, 10) {
				s = append(s, pods(ts, names(fmt.Sprintf("web-%d", gen-1), 3), 50, 45, 300e3)...)
			}
			return s
		}, 0},
		{"gradual scaling", "eks/prod/shop/Deployment/search", func(ts time.Time) []Sample {
			n := 2 + int(ts.Sub(monday)/(12*time.Hour)) // 2 to 15 pods over a week
			return pods(ts, names("search-4", n), 55, 50, 300e3)
		}, 0},
		{"steady 60 percent", "ecs/prod/cluster/Service/api", func(ts time.Time) []Sample {
			return pods(ts, names("task", 3), 60, 60, 200e3)
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, m := run(t, tc.workload, monday, 7*24*time.Hour, time.Hour, tc.g)
			for _, s := range sigs {
				if tc.from == 0 || !s.First.Before(monday.Add(tc.from)) {
					t.Errorf("unexpected %s at %v: %s", s.Detector, s.First, s.Title)
				}
			}
			if m.Ready.IsZero() {
				t.Errorf("model never ready after a week (trained %v)", m.Trained())
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	w := "eks/prod/default/Deployment/xmr"
	var samples []Sample
	for i := range 90 {
		ts := monday.Add(time.Duration(i) * time.Minute)
		for _, s := range pods(ts, names("xmr-p", 6), 99, 95, 5e6) {
			s.Workload = w
			samples = append(samples, s)
		}
	}
	evaluate := func(ss []Sample) ([]signal.Signal, []byte) {
		m := NewModel(w)
		sigs := Evaluate(w, ss, m, DefaultConfig())
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return sigs, b
	}
	want, wantModel := evaluate(samples)
	if len(want) < 3 {
		t.Fatalf("want cpu, memory and sprawl signals, got %+v", want)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		ss := append([]Sample(nil), samples...)
		r.Shuffle(len(ss), func(a, b int) { ss[a], ss[b] = ss[b], ss[a] })
		got, gotModel := evaluate(ss)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("shuffle %d (-want +got):\n%s", i, diff)
		}
		if string(gotModel) != string(wantModel) {
			t.Errorf("shuffle %d: model bytes differ", i)
		}
	}
}

// TestModelRoundTrip: persisting the model between batches changes
// nothing (run persists it; here the same batches keep one model in memory).
func TestModelRoundTrip(t *testing.T) {
	w := "eks/prod/shop/Deployment/web"
	attack := monday.Add(2*24*time.Hour + 9*time.Hour)
	g := func(ts time.Time) []Sample {
		if in(ts, attack, 25) {
			return pods(ts, names("web", 3), 99, 40, 30e6)
		}
		return pods(ts, names("web", 3), 20, 40, 100e3)
	}
	persisted, pm := run(t, w, monday, 3*24*time.Hour, 7*time.Minute, g)
	m := NewModel(w)
	var mem []signal.Signal
	var buf []Sample
	for ts := monday; ts.Before(monday.Add(3 * 24 * time.Hour)); ts = ts.Add(time.Minute) {
		for _, s := range g(ts) {
			s.Workload = w
			buf = append(buf, s)
		}
		if ts.Add(time.Minute).Sub(monday)%(7*time.Minute) == 0 {
			mem = append(mem, Evaluate(w, buf, m, DefaultConfig())...)
			buf = buf[:0]
		}
	}
	mem = append(mem, Evaluate(w, buf, m, DefaultConfig())...)
	if len(mem) == 0 {
		t.Fatal("no signals")
	}
	if diff := cmp.Diff(mem, persisted); diff != "" {
		t.Errorf("in-memory vs persisted (-mem +persisted):\n%s", diff)
	}
	a, _ := m.Marshal()
	b, _ := pm.Marshal()
	if string(a) != string(b) {
		t.Error("models differ")
	}
}

// TestStale: samples of minutes at or before the model's last evaluated
// minute are ignored and counted, never judged.
func TestStale(t *testing.T) {
	w := "eks/prod/default/Pod/debug-miner"
	m := NewModel(w)
	batch := func(from time.Time, mins int) []Sample {
		var ss []Sample
		for i := range mins {
			for _, s := range pods(from.Add(time.Duration(i)*time.Minute), []string{"debug-miner"}, 99, 10, 0) {
				s.Workload = w
				ss = append(ss, s)
			}
		}
		return ss
	}
	if got := Evaluate(w, batch(monday.Add(time.Hour), 5), m, DefaultConfig()); len(got) != 0 {
		t.Fatalf("5 minutes alarmed: %+v", got)
	}
	got := Evaluate(w, batch(monday, 30), m, DefaultConfig())
	if len(got) != 0 {
		t.Errorf("stale minutes judged: %+v", got)
	}
	if m.Stale != 30 {
		t.Errorf("stale %d, want 30", m.Stale)
	}
	bad := []Sample{{Workload: w, Pod: "p", Time: monday.Add(2 * time.Hour), CPU: math.NaN(), NetTx: math.Inf(1), Has: HasCPU | HasNetTx}}
	if got := Evaluate(w, bad, m, DefaultConfig()); len(got) != 0 {
		t.Errorf("NaN and Inf judged: %+v", got)
	}
	if got := Evaluate(w, nil, nil, DefaultConfig()); got != nil {
		t.Errorf("nil model: %+v", got)
	}
}

func TestFromEvent(t *testing.T) {
	at := monday.Add(time.Hour)
	tests := []struct {
		name string
		ev   insights.Event
		want Sample
		ok   bool
	}{
		{"eks pod", insights.Event{Platform: insights.EKS, Type: insights.TypePod, Time: at, PodName: "web-1",
			Metrics: map[string]float64{"pod_cpu_utilization": 12, "pod_cpu_utilization_over_pod_limit": 96,
				"pod_memory_utilization": 5, "pod_network_tx_bytes": 1234, "pod_number_of_container_restarts": 2}},
			Sample{Workload: "w", Pod: "web-1", Time: at, CPU: 12, CPUOverLimit: 96, Mem: 5, NetTx: 1234, Restarts: 2,
				Has: HasCPU | HasCPUOverLimit | HasMem | HasNetTx | HasRestarts}, true},
		{"ecs task", insights.Event{Platform: insights.ECS, Type: insights.TypeTask, Time: at, TaskID: "abc",
			Metrics: map[string]float64{"CpuUtilized": 512, "CpuReserved": 1024, "MemoryUtilized": 900, "MemoryReserved": 1000, "NetworkTxBytes": 10}},
			Sample{Workload: "w", Pod: "abc", Time: at, CPU: 50, Mem: 90, NetTx: 10, Has: HasCPU | HasMem | HasNetTx}, true},
		{"ecs task without reservation", insights.Event{Platform: insights.ECS, Type: insights.TypeTask, Time: at, TaskID: "abc",
			Metrics: map[string]float64{"CpuUtilized": 512}},
			Sample{Workload: "w", Pod: "abc", Time: at}, true},
		{"eks pod on a node, OOM-killed", insights.Event{Platform: insights.EKS, Type: insights.TypePod, Time: at, PodName: "web-1",
			Cluster: "prod", Node: "n1", InstanceID: "i-0abc",
			Metrics: map[string]float64{"pod_cpu_utilization": 12, "pod_number_of_container_restarts": 1,
				"pod_container_status_terminated_reason_oom_killed": 1}},
			Sample{Workload: "w", Pod: "web-1", Cluster: "prod", Node: "n1", Instance: "i-0abc", Time: at, CPU: 12, Restarts: 1, OOMKilled: 1,
				Has: HasCPU | HasRestarts | HasOOMKilled}, true},
		{"eks node", insights.Event{Platform: insights.EKS, Type: insights.TypeNode, Time: at, Cluster: "prod", Node: "n1", InstanceID: "i-0abc",
			Metrics: map[string]float64{"node_cpu_utilization": 99, "node_memory_utilization": 40}},
			Sample{Cluster: "prod", Node: "n1", Instance: "i-0abc", Time: at, CPU: 99, Mem: 40, Has: HasCPU | HasMem}, true},
		{"eks node without name", insights.Event{Platform: insights.EKS, Type: insights.TypeNode, Time: at,
			Metrics: map[string]float64{"node_cpu_utilization": 99}}, Sample{}, false},
		{"eks container", insights.Event{Platform: insights.EKS, Type: insights.TypeContainer, Time: at, PodName: "web-1"}, Sample{}, false},
		{"pod without name", insights.Event{Platform: insights.EKS, Type: insights.TypePod, Time: at}, Sample{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FromEvent("w", &tc.ev)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := FromEvent("w", nil); ok {
		t.Error("nil event accepted")
	}
}

func BenchmarkEvaluate(b *testing.B) {
	w := "eks/prod/shop/Deployment/web"
	var ss []Sample
	for i := range 60 {
		for _, s := range pods(monday.Add(time.Duration(i)*time.Minute), names("web", 10), 40, 40, 1e5) {
			s.Workload = w
			ss = append(ss, s)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(w, ss, NewModel(w), DefaultConfig())
	}
}

// TestNightlyJobBecomesKnown: a job added to an established service alarms
// on its first night (T1499: the service is not new) and is known from the
// next night on, weekend included.
func TestNightlyJobBecomesKnown(t *testing.T) {
	start := monday.Add(3 * 24 * time.Hour) // Thursday: first night of the job
	sigs, _ := run(t, "eks/prod/shop/Deployment/etl", monday, 7*24*time.Hour, time.Hour, func(ts time.Time) []Sample {
		if !ts.Before(start) && daily(ts, 2, 0, 31) {
			return pods(ts, names("etl-1", 2), 99, 50, 50e3)
		}
		return pods(ts, names("etl-1", 2), 15, 50, 50e3)
	})
	if len(sigs) != 1 {
		t.Fatalf("got %d signals, want 1: %+v", len(sigs), sigs)
	}
	s := sigs[0]
	if s.Detector != CPUID || s.Technique != "T1499" || !s.First.Equal(start.Add(2*time.Hour+17*time.Second)) || s.Count != 31 {
		t.Errorf("got %s %s %v count %d", s.Detector, s.Technique, s.First, s.Count)
	}
}

// TestNewCronJobAlarmsOnce: a CronJob seen for the first time pinned is
// suspicious (new workload: T1496); its later nights are quiet.
func TestNewCronJobAlarmsOnce(t *testing.T) {
	sigs, _ := run(t, "eks/prod/batch/CronJob/report", monday, 7*24*time.Hour, time.Hour, func(ts time.Time) []Sample {
		if daily(ts, 2, 0, 31) {
			return pods(ts, []string{fmt.Sprintf("report-%d-abc", ts.Day())}, 99, 70, 2e6)
		}
		return nil
	})
	if len(sigs) != 1 || sigs[0].Detector != CPUID || sigs[0].Technique != "T1496" || !sigs[0].First.Before(monday.Add(24*time.Hour)) {
		t.Fatalf("want one res-cpu T1496 on the first night, got %+v", sigs)
	}
	t.Log(sigs[0].Title)
	t.Log(sigs[0].Description)
}
