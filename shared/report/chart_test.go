package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

func TestUnits(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		metric, unit string
		v            float64
		value, tick  string
	}{
		{"bytes_out_per_min", "", 8393731, "8.39 MB/min", "8.39 MB"},
		{"bytes_out_per_min", "", 125753933, "126 MB/min", "126 MB"},
		{"bytes_out_per_min", "", 999700, "1 MB/min", "1 MB"},
		{"bytes_out_per_min", "", 512, "512 B/min", "512 B"},
		{"net_tx_per_min", "", 2095898, "2 MiB/s", "2 MiB"},
		{"packets_out_per_min", "", 21479, "21.5k packets/min", "21.5k"},
		{"packets_out_per_min", "", 138.69, "139 packets/min", "139"},
		{"packets_out_per_min", "", 8.576, "8.58 packets/min", "8.58"},
		{"target_packets_per_min", "", 2500, "2500 packets/min", "2500"},
		{"udp_packets_out_per_min", "", 0.1114, "0.111 packets/min", "0.111"},
		{"cpu_per_min", "", 99.9, "99.9%", "99.9%"},
		{"beacon_interval_s", "", 59, "59 s", "59 s"},
		{"knock_ports", "", 3, "3 ports", "3"},
		{"new_thing_per_min", "", 12, "12 new thing/min", "12"},
		{"opaque", "", 12, "12", "12"},
		{"whatever", "bytes/min", 2e9, "2 GB/min", "2 GB"},
		{"whatever", "%", 50, "50%", "50%"},
		{"packets_out_per_min", "", nan, "– packets/min", "–"},
	}
	for _, tt := range tests {
		f := &finding.Finding{ProductFields: map[string]string{"tidewatch/metric": tt.metric}}
		if tt.unit != "" {
			f.ProductFields[FieldUnit] = tt.unit
		}
		u := unitOf(f)
		if got := u.value(tt.v); got != tt.value {
			t.Errorf("%s %v: value %q, want %q", tt.metric, tt.v, got, tt.value)
		}
		if got := u.tick(tt.v); got != tt.tick {
			t.Errorf("%s %v: tick %q, want %q", tt.metric, tt.v, got, tt.tick)
		}
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]string{"82h4m0s": "3d 10h 4m", "42m0s": "42m", "24h0m0s": "1d", "0s": "0m", "soon": "soon"} {
		if got := duration(in); got != want {
			t.Errorf("duration(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttackURL(t *testing.T) {
	for in, want := range map[string]string{
		"T1498.001": "https://attack.mitre.org/techniques/T1498/001/",
		"T1609":     "https://attack.mitre.org/techniques/T1609/",
		"T16090":    "",
		"T1609.1":   "",
		"x1609":     "",
		"":          "",
		"T1609/../": "",
	} {
		if got := attackURL(in); got != want {
			t.Errorf("attackURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		in    string
		steps []stepView
		text  string
	}{
		{"1) Verify: ask. 2) Isolate: kubectl -n shop scale deployment/cart --replicas=0. 3) Investigate.",
			[]stepView{{1, "Verify: ask."}, {2, "Isolate: kubectl -n shop scale deployment/cart --replicas=0."}, {3, "Investigate."}}, ""},
		{"1. First\n2. Second\n", []stepView{{1, "First"}, {2, "Second"}}, ""},
		{"Rotate the key.\nThen 2) look", nil, "Rotate the key.\nThen 2) look"},
		{"1) only one step", nil, "1) only one step"},
		{"see 1) and 2) below", nil, "see 1) and 2) below"},
		{"1) a 3) skipped 2) b", []stepView{{1, "a 3) skipped"}, {2, "b"}}, ""},
	}
	for _, tt := range tests {
		steps, text := steps(tt.in)
		if diff := cmp.Diff(tt.steps, steps); diff != "" || text != tt.text {
			t.Errorf("steps(%q): text %q, steps (-want +got):\n%s", tt.in, text, diff)
		}
	}
}

func TestScaleTicks(t *testing.T) {
	lin := linear(0, niceCeil(21480*1.05), 248, 52)
	if got := lin.ticks(); len(got) < 3 || len(got) > 11 || got[0] != 0 {
		t.Errorf("linear ticks %v", got)
	}
	if got := niceCeil(104.9); got != 120 {
		t.Errorf("niceCeil(104.9) = %v, want 120", got)
	}
	lg := logarithmic(1, 1e5, 248, 52)
	if diff := cmp.Diff([]float64{1, 10, 100, 1000, 1e4, 1e5}, lg.ticks()); diff != "" {
		t.Errorf("log ticks (-want +got):\n%s", diff)
	}
	if lg.at(0) != 248 || lg.at(1e5) != 52 || lg.at(1e9) != 52 {
		t.Error("log scale does not clamp")
	}
	// Byte axes tick on round numbers of the unit they are written in.
	mib := valueAxis(parseUnit("bytes/s"), 2095898*1.05, 248, 52)
	var labels []string
	for _, v := range mib.ticks() {
		labels = append(labels, parseUnit("bytes/s").tick(v))
	}
	if diff := cmp.Diff([]string{"0 B", "512 KiB", "1 MiB", "1.5 MiB", "2 MiB", "2.5 MiB"}, labels); diff != "" {
		t.Errorf("bytes/s ticks (-want +got):\n%s", diff)
	}
	t0 := time.Date(2026, 3, 5, 9, 32, 0, 0, time.UTC)
	ticks := timeTicks(t0, t0.Add(58*time.Minute), 10)
	if len(ticks) != 6 || !ticks[0].Equal(time.Date(2026, 3, 5, 9, 40, 0, 0, time.UTC)) {
		t.Errorf("time ticks %v", ticks)
	}
}

// series returns a series of n minutes from 10:00 with observed values
// from obs (NaN: no data) and a band of 10..100.
func series(obs ...float64) *signal.Series {
	s := &signal.Series{Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC), Step: time.Minute}
	for _, v := range obs {
		s.Observed = append(s.Observed, v)
		s.Low = append(s.Low, 10)
		s.High = append(s.High, 100)
	}
	return s
}

func TestSeriesChart(t *testing.T) {
	nan := math.NaN()
	u := parseUnit("packets/min")
	first, last := time.Date(2026, 3, 5, 10, 3, 0, 0, time.UTC), time.Date(2026, 3, 5, 10, 5, 0, 0, time.UTC)
	tests := []struct {
		name      string
		s         *signal.Series
		lines     []int // points per observed line
		out       int   // points outside the band
		log       bool
		bandPolys int
	}{
		{"no gaps", series(50, 60, 70, 500, 600, 80), []int{6}, 2, false, 1},
		{"gaps split the line", series(nan, 50, nan, nan, 600, 700, nan, 40), []int{1, 2, 1}, 2, false, 1},
		{"all missing", series(nan, nan), nil, 0, false, 1},
		{"peak 21x the high: log", series(50, 2100), []int{2}, 1, true, 1},
		{"peak 20x the high: linear", series(50, 2000), []int{2}, 1, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seriesChart(tt.s, first, last, u, "packets_out_per_min")
			var got []int
			for _, p := range c.Polylines {
				if p.Class == "observed" {
					got = append(got, p.N)
					if n := len(strings.Fields(p.Points)); n != p.N {
						t.Errorf("polyline says %d points, has %d", p.N, n)
					}
				}
			}
			if diff := cmp.Diff(tt.lines, got); diff != "" {
				t.Errorf("observed lines (-want +got):\n%s", diff)
			}
			out := 0
			for _, p := range c.Circles {
				if p.Class == "pt out" && p.Title != "" {
					out++
				}
			}
			if out != tt.out {
				t.Errorf("%d points outside the band, want %d", out, tt.out)
			}
			isLog := false
			for _, tx := range c.Texts {
				isLog = isLog || strings.HasPrefix(tx.Text, "log scale")
			}
			if isLog != tt.log {
				t.Errorf("log scale = %v, want %v", isLog, tt.log)
			}
			if len(c.Polygons) != tt.bandPolys {
				t.Errorf("%d band areas, want %d", len(c.Polygons), tt.bandPolys)
			}
			alert := false
			for _, r := range c.Rects {
				if r.Class == "alert" && r.Title != "" {
					alert = true
					if r.W <= 0 || r.X < 70 {
						t.Errorf("alert span %+v", r)
					}
				}
			}
			if !alert {
				t.Error("no alert span")
			}
		})
	}
}

func TestBandChart(t *testing.T) {
	u := parseUnit("%")
	c := bandChart(99.9, 53.8, 15.4, 79.7, u, "cpu_per_min")
	var bar *rect
	for i := range c.Rects {
		if strings.HasPrefix(c.Rects[i].Class, "bar") {
			bar = &c.Rects[i]
		}
	}
	if bar == nil || bar.Class != "bar out" {
		t.Fatalf("observed bar %+v", bar)
	}
	for _, tx := range c.Texts {
		if strings.HasPrefix(tx.Text, "log scale") {
			t.Error("log scale for a value 1.3x the band's high")
		}
	}
	c = bandChart(245520, 0.9, 0, 1.83, parseUnit("packets/min"), "udp_packets_out_per_min")
	found := false
	for _, tx := range c.Texts {
		found = found || strings.HasPrefix(tx.Text, "log scale")
	}
	if !found {
		t.Error("no log scale for a value 134000x the band's high")
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	c := timeline([]timelineRow{
		{Label: "this finding: net-flood · CRITICAL", First: t0.Add(2 * time.Minute), Last: t0.Add(30 * time.Minute), Severity: signal.Critical, Self: true},
		{Label: "k8s-exec · HIGH", Href: "#f3", First: t0, Last: t0, Severity: signal.High},
	})
	var spans []rect
	for _, r := range c.Rects {
		if strings.HasPrefix(r.Class, "span ") {
			spans = append(spans, r)
		}
	}
	if len(spans) != 2 || spans[1].X >= spans[0].X || spans[1].W < 6 {
		t.Errorf("spans %+v: the exec must come first and be visible", spans)
	}
	linked := false
	for _, tx := range c.Texts {
		linked = linked || (tx.Href == "#f3" && tx.Text == "k8s-exec · HIGH")
	}
	if !linked {
		t.Error("the related row is not linked to its section")
	}
}
