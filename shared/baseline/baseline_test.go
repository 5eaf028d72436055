package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var monday = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// learnDays feeds n days of one metric, value(t) per minute.
func learnDays(m *Model, n int, value func(t time.Time) float64) {
	for i := range n * 24 * 60 {
		t := monday.Add(time.Duration(i) * time.Minute)
		m.Advance(t)
		m.Learn(BytesOut, t, value(t))
	}
}

func TestBandSeasonal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	m := New("ecs/prod/service/api")
	learnDays(m, 7, func(t time.Time) float64 {
		v := 1e6 * math.Exp(0.1*r.NormFloat64())
		if t.Hour() == 2 && t.Minute() < 10 {
			v *= 50 // nightly job
		}
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			v /= 10
		}
		return v
	})
	tests := []struct {
		name      string
		at        time.Time
		x         float64
		wantIn    bool
		wantSlot  string
		expectedX float64 // expected median within a factor 1.5
	}{
		{"normal weekday noon", monday.Add(7*24*time.Hour + 12*time.Hour), 1.1e6, true, "weekday 12h", 1e6},
		{"nightly job is normal at 02:05", monday.Add(7*24*time.Hour + 2*time.Hour + 5*time.Minute), 5e7, true, "weekday 02h", 1e6},
		{"same volume at 14:00 is not", monday.Add(7*24*time.Hour + 14*time.Hour), 5e7, false, "weekday 14h", 1e6},
		{"weekday volume on a Saturday is high", monday.Add(5*24*time.Hour + 10*time.Hour), 2e7, false, "weekend 10h", 1e5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := m.Band(BytesOut, tc.at, 3)
			if in := tc.x <= b.High; in != tc.wantIn {
				t.Errorf("x=%g in band = %v, want %v (band %+v)", tc.x, in, tc.wantIn, b)
			}
			if b.Slot != tc.wantSlot {
				t.Errorf("slot %q, want %q", b.Slot, tc.wantSlot)
			}
			if b.Expected > tc.expectedX*1.5 || b.Expected < tc.expectedX/1.5 {
				t.Errorf("expected %g, want about %g", b.Expected, tc.expectedX)
			}
		})
	}
}

// TestRobust checks that a few learned spikes do not move the median and
// that the slot falls back while it is thin.
func TestRobust(t *testing.T) {
	m := New("w")
	learnDays(m, 2, func(t time.Time) float64 {
		if t.Minute() == 30 && t.Hour() == 9 {
			return 1e12
		}
		return 1000
	})
	b := m.Band(BytesOut, monday.Add(2*24*time.Hour+9*time.Hour), 3)
	if b.Expected < 700 || b.Expected > 1400 {
		t.Errorf("median moved to %g", b.Expected)
	}
	empty := New("w")
	empty.Advance(monday)
	empty.Learn(BytesOut, monday, 5)
	if b := empty.Band(BytesOut, monday.Add(5*time.Hour), 3); b.Slot != "overall" || b.Samples != 1 {
		t.Errorf("thin slot: %+v, want overall fallback", b)
	}
}

func TestGapsAreZeros(t *testing.T) {
	m := New("w")
	// Busy from 08:00 to 20:00 each day, silent (no windows) otherwise.
	for d := range 3 {
		for h := 8; h < 20; h++ {
			for mi := range 60 {
				at := monday.Add(time.Duration(d*24+h)*time.Hour + time.Duration(mi)*time.Minute)
				if !m.Advance(at) {
					t.Fatal("Advance refused a new minute")
				}
				m.Learn(BytesOut, at, 1e6)
			}
		}
	}
	night := m.Band(BytesOut, monday.Add(3*24*time.Hour+3*time.Hour), 3)
	if night.Expected != 0 || night.Samples < MinSlotSamples {
		t.Errorf("night band %+v, want a learned zero", night)
	}
	if got, want := m.Trained(), 2*24*time.Hour+12*time.Hour; got != want {
		t.Errorf("trained %v, want %v", got, want)
	}
	if m.Advance(monday) {
		t.Error("Advance accepted an old minute")
	}
}

func TestCUSUM(t *testing.T) {
	tests := []struct {
		name  string
		zs    []float64
		alarm int // index of the alarm, -1 none
	}{
		{"noise", []float64{0.5, -0.3, 0.9, 0.2, -1, 0.8}, -1},
		{"one spike is clipped", []float64{100, 0, 0, 0}, -1},
		{"sustained rise", []float64{3, 3, 3, 3, 3, 3}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New("w")
			got := -1
			for i, z := range tc.zs {
				if _, alarm := m.Accumulate(BytesOut, monday.Add(time.Duration(i)*time.Minute), z, 1, 6, 7.5); alarm && got < 0 {
					got = i
				}
			}
			if got != tc.alarm {
				t.Errorf("alarm at %d, want %d", got, tc.alarm)
			}
		})
	}
}

// TestCUSUMEpisode: a rise that goes on alarms again as the same episode;
// once the CUSUM has rested at zero long enough, the next rise is a new one.
func TestCUSUMEpisode(t *testing.T) {
	m := New("w")
	at := func(i int) time.Time { return monday.Add(time.Duration(i) * time.Minute) }
	var alarms []Slow
	feed := func(from, n int, z float64) {
		for i := from; i < from+n; i++ {
			if st, alarm := m.Accumulate(BytesOut, at(i), z, 1, 6, 7.5); alarm {
				alarms = append(alarms, st)
			}
		}
	}
	feed(0, 10, 3)              // alarms at minutes 3 and 7
	feed(10, 5, 0)              // a short lull inside the episode
	feed(15, 4, 3)              // alarms again at minute 18
	feed(19, EpisodeQuiet+1, 0) // rests long enough: the episode closes
	feed(100, 4, 3)             // a new rise
	if len(alarms) != 4 {
		t.Fatalf("%d alarms, want 4: %+v", len(alarms), alarms)
	}
	for i, want := range []time.Time{at(0), at(0), at(0), at(100)} {
		if !alarms[i].Episode.Equal(want) {
			t.Errorf("alarm %d: episode %v, want %v", i, alarms[i].Episode, want)
		}
	}
	if !alarms[2].Start.Equal(at(15)) {
		t.Errorf("third alarm's own rise starts %v, want %v", alarms[2].Start, at(15))
	}

	// Joining an episode moves its start back, never forward, and needs
	// an open episode.
	m.JoinEpisode(BytesOut, at(90))
	m.JoinEpisode(BytesOut, at(110))
	if got := m.SlowState(BytesOut).Episode; !got.Equal(at(90)) {
		t.Errorf("joined episode starts %v, want %v", got, at(90))
	}
	m.JoinEpisode(PacketsOut, at(1))
	if got := m.SlowState(PacketsOut).Episode; !got.IsZero() {
		t.Errorf("a metric without an episode got one starting %v", got)
	}
}

func TestBeaconRegularity(t *testing.T) {
	var b Beacon
	for i := range 20 {
		b.Observe(int64(1000+60*i+(i%3)-1), uint16(30000+i), 3600)
	}
	// A later record of the same connection does not count.
	b.Observe(int64(1000+60*19+30), 30019, 3600)
	med, jit := b.Regularity()
	if b.Reps != 20 || med < 58 || med > 62 || jit > 0.05 {
		t.Errorf("reps %d median %v jitter %v", b.Reps, med, jit)
	}
}

// fullModel is a model after a week of minute-level, widely varying
// history with every tracker at its cap: the largest encoding.
func fullModel() *Model {
	r := rand.New(rand.NewPCG(3, 3))
	m := New("eks/prod/shop/Deployment/cart")
	m.Define("cpu", Gauge)
	for i := range 7 * 24 * 60 {
		t := monday.Add(time.Duration(i) * time.Minute)
		m.Advance(t)
		for _, n := range m.Metrics() {
			x := math.Exp(12 + 2*r.NormFloat64())
			m.Learn(n, t, x)
			// Every metric remembers its last hour, the cpu gauge with
			// holes.
			if n != "cpu" || i%3 != 0 {
				m.Observe(n, t, x)
			}
		}
	}
	end := monday.Add(7 * 24 * time.Hour)
	for i := range 200 {
		a := netip.AddrFrom4([4]byte{byte(11 + i), byte(i), 1, 1})
		m.Dests.Add(a, end, true)
		m.AddListener(uint16(1000 + i))
		m.AddKnock(a, []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, end.Unix(), end.Unix()+9, 0)
		b := m.Beacon(a, true)
		for j := range 20 {
			b.Observe(end.Unix()+int64(j*61), uint16(j), 3600)
		}
	}
	m.Ready = monday.Add(24 * time.Hour)
	return m
}

func TestRecent(t *testing.T) {
	m := New("w")
	m.Define("cpu", Gauge)
	at := func(min int) time.Time { return monday.Add(time.Duration(min) * time.Minute) }
	m.Observe(BytesOut, at(0), 5)
	m.Observe(BytesOut, at(3), 7) // minutes 1 and 2 were silent: zero
	m.Observe("cpu", at(0), 50)
	m.Observe("cpu", at(3), 90)   // minutes 1 and 2 unknown for a gauge
	m.Observe(BytesOut, at(2), 6) // a late minute still in the span
	start, got := m.Recent(BytesOut, at(-10), at(10))
	if !start.Equal(at(0)) || !slices.Equal(got, []float64{5, 0, 6, 7}) {
		t.Errorf("bytes: start %v values %v, want %v [5 0 6 7]", start, got, at(0))
	}
	_, cpu := m.Recent("cpu", at(0), at(3))
	if len(cpu) != 4 || cpu[0] != 50 || !math.IsNaN(cpu[1]) || !math.IsNaN(cpu[2]) || cpu[3] != 90 {
		t.Errorf("cpu values %v, want [50 NaN NaN 90]", cpu)
	}
	m.Observe(BytesOut, at(RecentMinutes+3), 1)
	start, got = m.Recent(BytesOut, at(0), at(RecentMinutes+3))
	if !start.Equal(at(4)) || len(got) != RecentMinutes || got[len(got)-1] != 1 {
		t.Errorf("after a shift: start %v, %d values ending %v; want start %v, %d values ending 1",
			start, len(got), got[len(got)-1], at(4), RecentMinutes)
	}
	m.Observe(BytesOut, at(0), 99) // older than the span: ignored
	if _, got := m.Recent(BytesOut, at(0), at(3)); len(got) != 0 {
		t.Errorf("minutes before the span: %v, want none", got)
	}
	if _, got := m.Recent("nope", at(0), at(3)); got != nil {
		t.Errorf("unknown metric: %v", got)
	}
}

// TestReadsVersion1: a model written before recent minutes and CUSUM
// episodes existed still decodes, remembering none.
func TestReadsVersion1(t *testing.T) {
	m := fullModel()
	v1, err := decodeBody(m.encode(1), 1)
	if err != nil {
		t.Fatalf("version 1 body: %v", err)
	}
	if _, vals := v1.Recent(BytesOut, monday, v1.Seen()); vals != nil {
		t.Errorf("version 1 model remembers %v", vals)
	}
	for _, se := range m.series {
		se.recent = recent{}
	}
	opts := cmp.Options{
		cmp.AllowUnexported(Model{}, series{}, hist{}, recent{}),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b float64) bool { return float32(a) == float32(b) }),
	}
	if d := cmp.Diff(m, v1, opts); d != "" {
		t.Errorf("version 1 round trip (-want +got):\n%s", d)
	}
}

func TestSize(t *testing.T) {
	b, err := fullModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("worst-case model after a week: %d bytes", len(b))
	if len(b) > 16<<10 {
		t.Errorf("model is %d bytes, want <= 16 KB", len(b))
	}
}

func TestRoundTrip(t *testing.T) {
	m := fullModel()
	m.Accumulate(BytesOut, monday, 4, 1, 6, 100)
	m.Accumulate(PacketsOut, monday, 6, 1, 6, 3) // alarms: an open episode
	m.Accumulate(PacketsOut, monday.Add(time.Minute), 0, 1, 6, 3)
	b, _ := m.Marshal()
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{
		cmp.AllowUnexported(Model{}, series{}, hist{}, recent{}),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b float64) bool {
			return float32(a) == float32(b) || math.IsNaN(a) && math.IsNaN(b)
		}),
	}
	if d := cmp.Diff(m, got, opts); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	for _, bad := range [][]byte{nil, {0}, {Version + 1}, b[:len(b)/2], append(b[:len(b):len(b)], 0)} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(%d bytes) accepted bad input", len(bad))
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	m := New("w")
	learnDays(m, 1, func(t time.Time) float64 { return float64(t.Minute() * 1000) })
	m.Dests.Add(netip.MustParseAddr("203.0.113.9"), monday, true)
	m.AddKnock(netip.MustParseAddr("198.51.100.1"), []uint16{1, 2}, 10, 20, 0)
	m.Beacon(netip.MustParseAddr("203.0.113.9"), true).Observe(100, 1, 3600)
	m.AddListener(8080)
	m.Observe(BytesOut, monday, 42)
	b, _ := m.Marshal()
	f.Add(b)
	f.Add(m.body())
	f.Add([]byte{Version})
	f.Fuzz(func(t *testing.T, data []byte) {
		// The body decoder directly, so that mutations reach it rather
		// than only breaking the DEFLATE stream.
		m, err := decodeBody(data, Version)
		if err != nil {
			if m, err = Unmarshal(data); err != nil {
				return
			}
		}
		at := m.Seen().Add(time.Minute)
		m.Advance(at)
		m.Learn(BytesOut, at, 10)
		m.Band(BytesOut, at, 3)
		again, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(again); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
	})
}

func BenchmarkLearn(b *testing.B) {
	m := New("w")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := monday.Add(time.Duration(i) * time.Minute)
		m.Advance(t)
		for _, n := range NetworkMetrics {
			m.Learn(n, t, float64(i%5000))
		}
	}
}

func BenchmarkBand(b *testing.B) {
	m := fullModel()
	at := monday.Add(8 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		m.Band(BytesOut, at, 3)
	}
}

func BenchmarkMarshal(b *testing.B) {
	m := fullModel()
	b.ReportAllocs()
	for b.Loop() {
		buf, _ := m.Marshal()
		if _, err := Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleModel_Band() {
	m := New("ecs/prod/service/api")
	for i := range 2 * 24 * 60 {
		t := monday.Add(time.Duration(i) * time.Minute)
		m.Advance(t)
		m.Learn(BytesOut, t, 1e6)
	}
	b := m.Band(BytesOut, monday.Add(50*time.Hour), 3)
	fmt.Printf("%s: expected %.0f, high %.0f\n", b.Slot, b.Expected, b.High)
	// Output: weekday 02h: expected 881744, high 2955562
}
