package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/window"
)

const cart = "eks/prod/shop/Deployment/cart"

// monday is the start of every synthetic history: Monday 00:00 UTC.
var monday = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// traffic adds one minute's flows starting at t.
type traffic func(t time.Time, r *rand.Rand, add func(window.Flow))

func flow(t time.Time, dir window.Direction, peer string, peerPort, localPort int, bytes, packets int64) window.Flow {
	a := netip.MustParseAddr(peer)
	return window.Flow{Workload: cart, Time: t, Direction: dir, Peer: a, PeerPort: peerPort, LocalPort: localPort,
		Protocol: window.ProtocolTCP, Bytes: bytes, Packets: packets, Accepted: true, PeerExternal: !a.IsPrivate()}
}

// microservice is ordinary traffic: calls to a database and two services,
// requests from the load balancer on 8080, a daily peak at 12:00 (3x) and
// ±15% noise per minute. base is outbound bytes per minute off-peak.
func microservice(base float64) traffic {
	return func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		h := float64(t.Hour()) + float64(t.Minute())/60
		level := base * (1 + 2*math.Exp(-(h-12)*(h-12)/4)) * math.Exp(0.15*r.NormFloat64())
		for i := range 6 {
			b := int64(level / 6)
			peer := fmt.Sprintf("10.0.1.%d", 1+i)
			s := t.Add(time.Duration(r.IntN(60)) * time.Second)
			add(flow(s, window.Out, peer, []int{5432, 8080, 9000}[i%3], 40000+r.IntN(20000), b, b/1200+1))
			add(flow(s, window.In, peer, []int{5432, 8080, 9000}[i%3], 40000+r.IntN(20000), b/4, b/4800+1))
		}
		for i := range 4 {
			add(flow(t.Add(time.Duration(r.IntN(60))*time.Second), window.In, fmt.Sprintf("10.0.0.%d", 10+i), 50000+r.IntN(10000), 8080, int64(level/12), int64(level/12/1200)+1))
		}
	}
}

// talksOutside adds calls to a dozen external API networks each minute.
func talksOutside(t time.Time, r *rand.Rand, add func(window.Flow)) {
	for i := range 3 {
		add(flow(t.Add(time.Duration(r.IntN(60))*time.Second), window.Out, fmt.Sprintf("52.94.%d.10", r.IntN(12)), 443, 40000+r.IntN(20000), 20000+int64(i), 30))
	}
}

// during restricts tr to minutes in [from, to) of every day (hours).
func during(from, to float64, tr traffic) traffic {
	return func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		h := float64(t.Hour()) + float64(t.Minute())/60
		if h >= from && h < to {
			tr(t, r, add)
		}
	}
}

// between restricts tr to [from, to) in absolute time.
func between(from, to time.Time, tr traffic) traffic {
	return func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		if !t.Before(from) && t.Before(to) {
			tr(t, r, add)
		}
	}
}

// history builds the closed windows of minutes [from, from+n) with the
// given traffic, through the real Aggregator and Open.
func history(t *testing.T, from time.Time, n int, seed uint64, trs ...traffic) []window.Window {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 42))
	o := window.Open{Workload: cart}
	var a window.Aggregator
	var wins []window.Window
	for m := range n {
		ts := from.Add(time.Duration(m) * time.Minute)
		for _, tr := range trs {
			tr(ts, r, func(f window.Flow) { a.Add(f) })
		}
		if m%30 == 29 || m == n-1 {
			for _, p := range a.Partials() {
				if err := o.Merge(p); err != nil {
					t.Fatal(err)
				}
			}
			wins = append(wins, o.Close(ts)...)
		}
	}
	return append(wins, o.CloseAll()...)
}

// runAll evaluates wins in batches of 45 windows, as the pipeline would.
func runAll(m *baseline.Model, wins []window.Window, cfg Config) []signal.Signal {
	var out []signal.Signal
	for i := 0; i < len(wins); i += 45 {
		out = append(out, Evaluate(cart, wins[i:min(i+45, len(wins))], m, cfg)...)
	}
	return out
}

func describe(sigs []signal.Signal) string {
	var b strings.Builder
	for _, s := range sigs {
		fmt.Fprintf(&b, "\n  %s %s %s x%d %s", s.First.Format("Mon 15:04"), s.Detector, s.Severity, s.Count, s.Title)
	}
	return b.String()
}

func TestBenignStaysQuiet(t *testing.T) {
	mirror := netip.MustParsePrefix("151.101.0.0/16")
	cfg := DefaultConfig()
	cfg.Allow = []netip.Prefix{mirror}
	tests := []struct {
		name  string
		extra []traffic
	}{
		{"ordinary microservice with a 12:00 peak", nil},
		{"talks to external APIs", []traffic{talksOutside}},
		{"patch and image downloads", []traffic{func(t time.Time, r *rand.Rand, add func(window.Flow)) {
			// Every 6 hours, 5 minutes of 2 GB/min inbound from a mirror.
			if t.Hour()%6 == 3 && t.Minute() < 5 {
				add(flow(t, window.Out, "151.101.2.15", 443, 41000, 40000, 400))
				add(flow(t, window.In, "151.101.2.15", 443, 41000, 2e9, 1.4e6))
			}
		}}},
		{"nightly 02:00 backup at 50x", []traffic{during(2, 2.2, func(t time.Time, r *rand.Rand, add func(window.Flow)) {
			add(flow(t, window.Out, "10.0.9.9", 443, 42000, 1e8*(1+r.Int64N(2)), 80000))
		})}},
		{"daily rollout with new pods and sources", []traffic{during(15, 15.5, func(t time.Time, r *rand.Rand, add func(window.Flow)) {
			for i := range 40 {
				add(flow(t, window.In, fmt.Sprintf("10.0.%d.%d", 2+r.IntN(3), r.IntN(250)), 50000+i, 8080, 3000, 10))
				add(flow(t, window.Out, fmt.Sprintf("10.0.%d.%d", 2+r.IntN(3), r.IntN(250)), 8080, 40000+i, 3000, 10))
			}
		})}},
		{"internet background scanning", []traffic{func(t time.Time, r *rand.Rand, add func(window.Flow)) {
			for i := range 5 + r.IntN(10) {
				src := netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}).String()
				for range 1 + i%4 { // some scanners try 3+ ports, none then gets in
					f := flow(t.Add(time.Duration(r.IntN(60))*time.Second), window.In, src, 40000+r.IntN(20000), []int{22, 23, 3389, 445, 6379, 9200, 2375}[r.IntN(7)], 44, 1)
					f.Accepted, f.SYNOnly = false, true
					add(f)
				}
			}
		}}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wins := history(t, monday, 4*24*60, uint64(i+1), append([]traffic{microservice(2e6)}, tc.extra...)...)
			m := baseline.New(cart)
			sigs := runAll(m, wins, cfg)
			if len(sigs) != 0 {
				t.Errorf("got %d signals, want none:%s", len(sigs), describe(sigs))
			}
			if m.Trained() < 4*24*time.Hour-time.Minute {
				t.Errorf("trained %v, want 4 days", m.Trained())
			}
		})
	}
}

type want struct {
	detector, technique, tactic string
	first                       time.Time // zero: any time at or after the attack start
	severity                    signal.Severity
}

func TestAttacks(t *testing.T) {
	attack := monday.Add(2*24*time.Hour + 10*time.Hour) // Wednesday 10:00
	at := func(d time.Duration) time.Time { return attack.Add(d) }
	const c2 = "185.220.101.7"
	tests := []struct {
		name    string
		outside bool
		attack  []traffic
		minutes int
		want    []want
		deny    []string // detectors that must stay quiet
	}{
		{
			name: "outbound flood to one target", minutes: 60,
			attack: []traffic{between(at(0), at(30*time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				for i := range 50 {
					add(flow(t, window.Out, "198.51.100.20", 80, 30000+i, 1e7, 8000))
				}
			})},
			want: []want{
				{detector: FloodID, technique: "T1498.001", tactic: "Effects/Denial of Service", first: attack, severity: signal.High},
				{detector: FloodTargetID, technique: "T1498.001", first: attack, severity: signal.High},
			},
		},
		{
			name: "SYN flood against an internal service", minutes: 30,
			attack: []traffic{between(at(0), at(10*time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				for i := range 2000 {
					f := flow(t.Add(time.Duration(i%60)*time.Second), window.Out, "10.0.5.5", 443, 20000+i, 60, 1)
					f.SYNOnly = true
					add(f)
				}
			})},
			want: []want{{detector: SYNFloodID, technique: "T1498.001", first: attack}, {detector: FloodTargetID, technique: "T1498.001", first: attack}},
		},
		{
			name: "UDP flood", minutes: 30,
			attack: []traffic{between(at(0), at(10*time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				for i := range 20 {
					f := flow(t, window.Out, "203.0.113.50", 53, 30000+i, 1e6*(1+int64(i%3)), 10000)
					f.Protocol = window.ProtocolUDP
					add(f)
				}
			})},
			want: []want{{detector: UDPFloodID, technique: "T1498.001", first: attack}},
		},
		{
			name: "low and slow 3x rise for six hours", minutes: 7 * 60,
			attack: []traffic{between(at(0), at(6*time.Hour), microservice(4e6))}, // + the base 2e6 = 3x
			want:   []want{{detector: SlowFloodID, technique: "T1498.001", tactic: "Effects/Denial of Service"}},
			deny:   []string{FloodID},
		},
		{
			name: "port knock then accepted session", minutes: 30,
			attack: []traffic{between(at(0), at(time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				for i, p := range []int{7000, 8000, 9000} {
					f := flow(t.Add(time.Duration(5+5*i)*time.Second), window.In, "198.51.100.66", 51000+i, p, 44, 1)
					f.Accepted, f.SYNOnly = false, true
					add(f)
				}
			}), between(at(time.Minute), at(2*time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				add(flow(t.Add(20*time.Second), window.In, "198.51.100.66", 51010, 4444, 5000, 40))
			})},
			want: []want{{detector: PortKnockID, technique: "T1205.001", tactic: "TTPs/Defense Evasion", first: at(time.Minute), severity: signal.High}},
			deny: []string{UnusualListenerID},
		},
		{
			name: "unusual listener from the internet", minutes: 10,
			attack: []traffic{between(at(0), at(time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				add(flow(t.Add(20*time.Second), window.In, "198.51.100.77", 51010, 31337, 5000, 40))
			})},
			want: []want{{detector: UnusualListenerID, technique: "T1205", first: attack}},
			deny: []string{PortKnockID},
		},
		{
			name: "beacon every 60s ±2s for an hour", outside: true, minutes: 70,
			attack: []traffic{between(at(0), at(time.Hour), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				jitter := time.Duration(r.IntN(5)-2) * time.Second
				add(flow(t.Add(30*time.Second+jitter), window.Out, c2, 443, 30000+t.Minute(), 320, 6))
			})},
			want: []want{{detector: BeaconID, technique: "T1071", tactic: "TTPs/Command and Control"}},
		},
		{
			name: "first external destination of an internal-only workload", minutes: 10,
			attack: []traffic{between(at(0), at(time.Minute), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
				add(flow(t.Add(7*time.Second), window.Out, "45.33.32.156", 8443, 45000, 90000, 80))
			})},
			want: []want{{detector: NewDestinationID, technique: "T1071", first: attack}},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			benign := []traffic{microservice(2e6)}
			if tc.outside {
				benign = append(benign, talksOutside)
			}
			m := baseline.New(cart)
			pre := runAll(m, history(t, monday, 2*24*60+10*60, uint64(100+i), benign...), DefaultConfig())
			if len(pre) != 0 {
				t.Fatalf("benign history raised:%s", describe(pre))
			}
			sigs := runAll(m, history(t, attack, tc.minutes, uint64(200+i), append(benign, tc.attack...)...), DefaultConfig())
			for _, w := range tc.want {
				var got *signal.Signal
				for j := range sigs {
					if sigs[j].Detector == w.detector {
						got = &sigs[j]
						break
					}
				}
				if got == nil {
					t.Errorf("no %s signal; got:%s", w.detector, describe(sigs))
					continue
				}
				if got.Technique != w.technique || got.Workload != cart || got.Count < 1 || got.Measurement == nil || got.Title == "" {
					t.Errorf("%s: technique %q workload %q count %d measurement %v", w.detector, got.Technique, got.Workload, got.Count, got.Measurement)
				}
				if w.tactic != "" && got.Tactic != w.tactic {
					t.Errorf("%s: tactic %q, want %q", w.detector, got.Tactic, w.tactic)
				}
				if !w.first.IsZero() && !got.First.Equal(w.first) {
					t.Errorf("%s: first %v, want %v", w.detector, got.First, w.first)
				}
				if got.First.Before(attack) {
					t.Errorf("%s: first %v before the attack", w.detector, got.First)
				}
				if w.severity != signal.Informational && got.Severity != w.severity {
					t.Errorf("%s: severity %v, want %v", w.detector, got.Severity, w.severity)
				}
				if w.detector == FloodID {
					checkSeries(t, got, attack)
				}
				t.Logf("%s\n  %s", got.Title, got.Description)
			}
			// A rise that goes on is one episode: every alarm of it
			// carries the same start, so it updates one finding.
			var episode time.Time
			for _, s := range sigs {
				if s.Detector != SlowFloodID {
					continue
				}
				if episode.IsZero() {
					episode = s.First
				} else if !s.First.Equal(episode) {
					t.Errorf("slow flood alarms start at %v and %v: want one episode", episode, s.First)
				}
			}
			for _, d := range tc.deny {
				for _, s := range sigs {
					if s.Detector == d {
						t.Errorf("unexpected %s: %s", d, s.Title)
					}
				}
			}
		})
	}
}

// checkSeries: a flood's series shows the minutes before it inside the
// band and its first minute above it.
func checkSeries(t *testing.T, s *signal.Signal, attack time.Time) {
	t.Helper()
	se := s.Measurement.Series
	if se == nil {
		t.Errorf("%s: no series", s.Detector)
		return
	}
	in := int(attack.Sub(se.Start) / se.Step)
	if se.Step != time.Minute || in < 10 || in >= se.Len() {
		t.Fatalf("%s: series of %d steps of %v from %v does not lead up to %v", s.Detector, se.Len(), se.Step, se.Start, attack)
	}
	for i := in - 10; i < in; i++ {
		if se.Observed[i] > se.High[i] {
			t.Errorf("%s: minute %v before the flood is above the band: %v > %v", s.Detector, se.At(i), se.Observed[i], se.High[i])
		}
	}
	if se.Observed[in] <= se.High[in] || se.Observed[in] != s.Measurement.Observed && s.Count == 1 {
		t.Errorf("%s: flood minute %v observed %v, band high %v", s.Detector, se.At(in), se.Observed[in], se.High[in])
	}
}

// TestFloodNotLearned checks that a two-hour flood is reported as one run
// and does not raise the band.
func TestFloodNotLearned(t *testing.T) {
	m := baseline.New(cart)
	runAll(m, history(t, monday, 2*24*60+10*60, 7, microservice(2e6)), DefaultConfig())
	at := monday.Add(2*24*time.Hour + 10*time.Hour)
	next := at.Add(7 * 24 * time.Hour) // same slot, next week
	before := m.Band(baseline.BytesOut, next, DefaultConfig().Flood.K)
	flood := between(at, at.Add(2*time.Hour), func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		add(flow(t, window.Out, "10.0.7.7", 11211, 33333, 8e8, 600000))
	})
	sigs := runAll(m, history(t, at, 2*60, 8, microservice(2e6), flood), DefaultConfig())
	after := m.Band(baseline.BytesOut, next, DefaultConfig().Flood.K)
	if after.High > before.High*1.01 || after.Expected > before.Expected*1.01 {
		t.Errorf("band moved: before %+v after %+v", before, after)
	}
	minutes := 0
	for _, s := range sigs {
		if s.Detector == FloodID && s.Measurement.Metric == "bytes_out_per_min" {
			minutes += s.Count
		}
	}
	if minutes != 120 {
		t.Errorf("flood minutes reported %d, want 120:%s", minutes, describe(sigs))
	}
}

func TestPatience(t *testing.T) {
	m := baseline.New(cart)
	flood := func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		if t.Hour() == 20 {
			add(flow(t, window.Out, "10.0.7.7", 80, 33333, 8e8, 600000))
		}
	}
	// 23 hours: a flood at 20:00 is learned, not reported.
	sigs := runAll(m, history(t, monday, 23*60, 9, microservice(2e6), flood), DefaultConfig())
	if len(sigs) != 0 {
		t.Errorf("signals while learning:%s", describe(sigs))
	}
}

func BenchmarkEvaluate(b *testing.B) {
	t := &testing.T{}
	m := baseline.New(cart)
	runAll(m, history(t, monday, 2*24*60, 1, microservice(2e6), talksOutside), DefaultConfig())
	wins := history(t, monday.Add(2*24*time.Hour), 600, 2, microservice(2e6), talksOutside)
	enc, _ := m.Marshal()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%len(wins) == 0 {
			b.StopTimer()
			m, _ = baseline.Unmarshal(enc)
			b.StartTimer()
		}
		Evaluate(cart, wins[i%len(wins):i%len(wins)+1], m, DefaultConfig())
	}
}

// TestModelSize checks the persisted model of a busy workload after a week
// of minute-level history (with external calls and internet scanning).
func TestModelSize(t *testing.T) {
	scan := func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		src := netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), 7, byte(1 + r.IntN(254))}).String()
		for range 3 {
			f := flow(t, window.In, src, 40000, 22+r.IntN(1000), 44, 1)
			f.Accepted, f.SYNOnly = false, true
			add(f)
		}
	}
	m := baseline.New(cart)
	runAll(m, history(t, monday, 7*24*60, 11, microservice(2e6), talksOutside, scan), DefaultConfig())
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model after a week: %d bytes", len(b))
	if len(b) > 16<<10 {
		t.Errorf("model is %d bytes, want <= 16 KB", len(b))
	}
}

// TestOpenSize logs and bounds the persisted open minutes of a busy,
// scanned workload: the lateness allowance plus two minutes.
func TestOpenSize(t *testing.T) {
	scan := func(t time.Time, r *rand.Rand, add func(window.Flow)) {
		for range 20 {
			src := netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), 7, byte(1 + r.IntN(254))}).String()
			f := flow(t.Add(time.Duration(r.IntN(60))*time.Second), window.In, src, 40000, 22+r.IntN(1000), 44, 1)
			f.Accepted, f.SYNOnly = false, true
			add(f)
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	o := window.Open{Workload: cart}
	var a window.Aggregator
	for m := range 12 {
		for _, tr := range []traffic{microservice(2e6), talksOutside, scan} {
			tr(monday.Add(time.Duration(m)*time.Minute), r, func(f window.Flow) { a.Add(f) })
		}
	}
	for _, p := range a.Partials() {
		o.Merge(p)
	}
	b, _ := o.MarshalBinary()
	t.Logf("open state: %d minutes, %d bytes", o.Len(), len(b))
	if len(b) > 8<<10 {
		t.Errorf("open state is %d bytes, want <= 8 KB", len(b))
	}
}
