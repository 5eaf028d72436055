package resource

import (
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/signal"
)

// crashing returns one minute of pods that report restarts: killed lists
// the pods restarted in the minute; oom marks pods whose containers last
// terminated by an OOM kill (so that their restarts are OOM kills); mem is
// the memory over the limit of every pod.
func crashing(ts time.Time, pods []string, killed map[string]bool, oom bool, mem float64) []Sample {
	out := make([]Sample, 0, len(pods))
	for _, p := range pods {
		s := Sample{Pod: p, Time: ts.Add(17 * time.Second), CPUOverLimit: 20, MemOverLimit: mem,
			Has: HasCPUOverLimit | HasMemOverLimit | HasRestarts}
		if killed[p] {
			s.Restarts = 1
		}
		if oom {
			s.OOMKilled, s.Has = 1, s.Has|HasOOMKilled
		}
		out = append(out, s)
	}
	return out
}

// every kills the pods in turn, one every gap minutes, in [from, from+mins).
func every(ts, from time.Time, mins, gap int, pods []string) map[string]bool {
	if !in(ts, from, mins) {
		return nil
	}
	k := int(ts.Sub(from) / time.Minute)
	if k%gap != 0 {
		return nil
	}
	return map[string]bool{pods[(k/gap)%len(pods)]: true}
}

func TestOOMKillLoop(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 21*time.Hour) // Thursday 21:00
	api := names("api-6c8d9f7b5-x", 3)
	const w = "eks/prod/shop/Deployment/api"
	sigs, _ := run(t, w, monday, 4*24*time.Hour, 5*time.Minute, func(ts time.Time) []Sample {
		k := every(ts, attack, 30, 3, api)
		mem := 45.0
		if every(ts.Add(time.Minute), attack, 30, 3, api) != nil {
			mem = 98 // caught just before a kill
		}
		return crashing(ts, api, k, !ts.Before(attack), mem)
	})
	got := bySignal(sigs, OOMKillID)
	if len(got) == 0 {
		t.Fatalf("no %s signal: %+v", OOMKillID, sigs)
	}
	for _, s := range got {
		if s.Key() != got[0].Key() || !s.First.Equal(got[0].First) {
			t.Errorf("a loop over several batches is one finding: %v %s vs %v %s", s.First, s.Key(), got[0].First, got[0].Key())
		}
	}
	s := got[len(got)-1]
	t.Log(s.Title)
	t.Log(s.Description)
	if s.Workload != w || s.Technique != "T1499" || s.Tactic != tacticDoS || s.Severity != signal.Medium {
		t.Errorf("got %s %s %s %s", s.Workload, s.Technique, s.Tactic, s.Severity)
	}
	// Kills at 21:00, 21:03, ..., 21:27.
	if s.Count != 10 || s.Fields["kills"] != "10" || s.Fields["minutes"] != "28" {
		t.Errorf("count %d fields %v, want 10 kills in 28 minutes", s.Count, s.Fields)
	}
	// The loop reaches 3 kills in the second 5-minute batch, which knows
	// the minute it began, not the event time.
	if !got[0].First.Equal(attack) || !s.Last.Equal(attack.Add(27*time.Minute+17*time.Second)) {
		t.Errorf("first %v last %v, want %v to 21:27:17", got[0].First, s.Last, attack)
	}
	if s.Fields["memoryPeak"] != "98" || !strings.Contains(s.Description, "98.0% of its limit") || s.Fields["pods"] == "" ||
		!strings.Contains(s.Description, "not known to be OOM-killed at this time") {
		t.Errorf("fields %v description %q", s.Fields, s.Description)
	}
	m := s.Measurement
	if m == nil || m.Observed != 10 || m.High != 3 || m.Series == nil || m.Series.Len() == 0 {
		t.Fatalf("measurement %+v", m)
	}
	if len(bySignal(sigs, MemoryID)) != 0 {
		t.Errorf("memory was never pinned for long, yet: %+v", bySignal(sigs, MemoryID))
	}
}

// TestOOMKillQuiet: kills that are not a loop, or not OOM kills, or the
// workload's known habit, raise nothing.
func TestOOMKillQuiet(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 21*time.Hour)
	pods := names("api-6c8d9f7b5-x", 2)
	tests := []struct {
		name string
		g    gen
		from time.Duration // signals before this are allowed (learning)
	}{
		{"one kill", func(ts time.Time) []Sample {
			return crashing(ts, pods, every(ts, attack, 1, 1, pods), !ts.Before(attack), 40)
		}, 0},
		{"kills far apart", func(ts time.Time) []Sample {
			return crashing(ts, pods, every(ts, attack, 120, 20, pods), !ts.Before(attack), 40)
		}, 0},
		{"a crash loop that is not about memory", func(ts time.Time) []Sample {
			return crashing(ts, pods, every(ts, attack, 30, 2, pods), false, 40)
		}, 0},
		{"the nightly job that always runs out of memory", func(ts time.Time) []Sample {
			// Three kills every night at 02:00, since Monday: reported
			// the first night (the workload is new), known afterwards.
			d := time.Date(ts.Year(), ts.Month(), ts.Day(), 2, 0, 0, 0, time.UTC)
			return crashing(ts, pods, every(ts, d, 9, 3, pods), true, 40)
		}, 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, _ := run(t, "eks/prod/shop/Deployment/api", monday, 7*24*time.Hour, time.Hour, tc.g)
			for _, s := range sigs {
				if tc.from == 0 || !s.First.Before(monday.Add(tc.from)) {
					t.Errorf("unexpected %s at %v: %s", s.Detector, s.First, s.Title)
				}
			}
		})
	}
}

// TestOOMKillsJoinPinnedMemory: a memory run during which containers were
// OOM-killed says so.
func TestOOMKillsJoinPinnedMemory(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 21*time.Hour)
	pods := names("api-6c8d9f7b5-x", 2)
	sigs, _ := run(t, "eks/prod/shop/Deployment/api", monday, 4*24*time.Hour, time.Hour, func(ts time.Time) []Sample {
		if in(ts, attack, 20) {
			return crashing(ts, pods, every(ts, attack.Add(10*time.Minute), 10, 5, pods), true, 97)
		}
		return crashing(ts, pods, nil, !ts.Before(attack), 40)
	})
	mem := bySignal(sigs, MemoryID)
	if len(mem) != 1 {
		t.Fatalf("want one %s signal, got %+v", MemoryID, sigs)
	}
	if !strings.Contains(mem[0].Description, "OOM-killed 2 times") || mem[0].Fields["oomKills"] != "2" {
		t.Errorf("memory signal does not name the kills: %q %v", mem[0].Description, mem[0].Fields)
	}
	if len(bySignal(sigs, OOMKillID)) != 0 {
		t.Errorf("two kills are not a loop: %+v", bySignal(sigs, OOMKillID))
	}
}

// TestOOMKillsPerStream: each node's events come in batches of their own,
// so the second batch of a minute finds it judged; the kills it reports
// still count, once.
func TestOOMKillsPerStream(t *testing.T) {
	attack := monday.Add(3*24*time.Hour + 21*time.Hour)
	const w = "eks/prod/shop/Deployment/api"
	pods := []string{"api-1", "api-2"}
	m := NewModel(w)
	var sigs []signal.Signal
	for from := monday; from.Before(monday.Add(4 * 24 * time.Hour)); from = from.Add(5 * time.Minute) {
		for _, p := range pods { // one batch per node's stream
			var ss []Sample
			for ts := from; ts.Before(from.Add(5 * time.Minute)); ts = ts.Add(time.Minute) {
				for _, s := range crashing(ts, []string{p}, every(ts, attack, 30, 3, pods), !ts.Before(attack), 40) {
					s.Workload = w
					ss = append(ss, s)
				}
			}
			sigs = append(sigs, Evaluate(w, ss, m, DefaultConfig())...)
		}
	}
	got := bySignal(sigs, OOMKillID)
	if len(got) == 0 {
		t.Fatalf("no %s signal: %+v", OOMKillID, sigs)
	}
	s := got[len(got)-1]
	t.Log(s.Title)
	if s.Count != 10 || s.Fields["minutes"] != "28" || !s.First.Truncate(time.Minute).Equal(attack) {
		t.Errorf("count %d first %v fields %v, want 10 kills in 28 minutes from %v", s.Count, s.First, s.Fields, attack)
	}
}
