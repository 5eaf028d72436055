package backfill

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestProgressLine(t *testing.T) {
	clock := &fakeClock{now: at(12, 0)}
	p := NewProgress(10*time.Hour, clock.Now)
	if got, want := p.Snapshot().String(), "0%; 0 events, 0 B read; ETA unknown"; got != want {
		t.Errorf("at the start:\n got %q\nwant %q", got, want)
	}
	clock.advance(20 * time.Second)
	p.Page(10000, 1_500_000)
	p.Page(2345, 234_567)
	p.Covered(Range{at(0, 0), at(1, 0)})
	p.Covered(Range{at(1, 0), at(2, 0)})
	clock.advance(10 * time.Second)
	want := "20%, covered 2026-11-20 00:00 → 2026-11-20 02:00 UTC; 12,345 events, 1.7 MB read; 411 events/s, 57.8 kB/s; ETA 2m"
	if got := p.Snapshot().String(); got != want {
		t.Errorf("after 2 of 10 hours in 30s:\n got %q\nwant %q", got, want)
	}
	if got, want := p.Snapshot().Short(), "backfill 20% to 11-20 02:00, 12.3k ev 1.7 MB, 411/s 57.8 kB/s, ETA 2m"; got != want {
		t.Errorf("short line:\n got %q\nwant %q", got, want)
	}
	s := p.Snapshot()
	if s.Calls != 2 || s.Fraction() != 0.2 {
		t.Errorf("snapshot %+v", s)
	}
	p.Covered(Range{at(2, 0), at(10, 0)})
	if eta, ok := p.Snapshot().ETA(); !ok || eta != 0 {
		t.Errorf("ETA when done = %v, %v", eta, ok)
	}
	// A large run still fits a terminal line.
	big := Snapshot{Events: 123_456_789, Bytes: 987_654_321_000, To: at(23, 59), Done: time.Hour, Total: 14 * 24 * time.Hour,
		Elapsed: 3*time.Hour + 17*time.Minute}
	if line := big.Short(); len([]rune(line)) > 80 {
		t.Errorf("short line of %d characters: %q", len([]rune(line)), line)
	}
	if f := (Snapshot{}).Fraction(); f != 1 {
		t.Errorf("nothing to do is done: fraction %v", f)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		1400 * time.Millisecond:               "1s",
		45 * time.Second:                      "45s",
		59*time.Second + 700*time.Millisecond: "1m",
		12*time.Minute + 30*time.Second:       "12m30s",
		59*time.Minute + 50*time.Second:       "1h",
		3*time.Hour + 20*time.Minute:          "3h20m",
		14 * 24 * time.Hour:                   "14d",
		2*24*time.Hour + 6*time.Hour:          "2d6h",
		-90 * time.Second:                     "-1m30s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_250_000: "1.2 MB", 3_400_000_000: "3.4 GB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPrinterTerminal: on a terminal the status line is rewritten in
// place, and a message clears it, takes its own line and the status line
// comes back under it.
func TestPrinterTerminal(t *testing.T) {
	clock := &fakeClock{now: at(12, 0)}
	p := NewProgress(2*time.Hour, clock.Now)
	var out bytes.Buffer
	pr := NewPrinter(&out, true, 0, p)
	if pr.every != TerminalEvery {
		t.Errorf("terminal period %v", pr.every)
	}
	pr.Tick()
	clock.advance(time.Minute)
	p.Page(100, 10000)
	p.Covered(Range{at(0, 0), at(1, 0)})
	pr.Tick()
	pr.Logf("backfill: %s: covered to 01:00", flowGroup)
	pr.Stop()
	l0 := "backfill 0%, 0 ev 0 B"
	l1 := "backfill 50% to 11-20 01:00, 100 ev 10.0 kB, 1/s 166 B/s, ETA 1m"
	last := "backfill: 50%, covered 2026-11-20 00:00 → 2026-11-20 01:00 UTC; 100 events, 10.0 kB read; 1 events/s, 166 B/s; ETA 1m"
	want := "\r" + l0 + clearEOL +
		"\r" + l1 + clearEOL +
		"\rbackfill: " + flowGroup + ": covered to 01:00" + clearEOL + "\n" +
		"\r" + l1 + clearEOL +
		"\r" + last + clearEOL + "\n"
	if got := out.String(); got != want {
		t.Errorf("terminal output:\n got %q\nwant %q", got, want)
	}
}

// TestPrinterLog: elsewhere every status is a plain line.
func TestPrinterLog(t *testing.T) {
	clock := &fakeClock{now: at(12, 0)}
	p := NewProgress(time.Hour, clock.Now)
	var out bytes.Buffer
	pr := NewPrinter(&out, false, 0, p)
	if pr.every != LogEvery {
		t.Errorf("log period %v", pr.every)
	}
	pr.Tick()
	pr.Logf("a message")
	clock.advance(time.Second)
	p.Covered(Range{at(0, 0), at(1, 0)})
	pr.Stop()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || lines[1] != "a message" || !strings.HasPrefix(lines[2], "backfill: 100%, covered") || !strings.HasSuffix(lines[2], "; done in 1s") ||
		strings.ContainsAny(out.String(), "\r\x1b") {
		t.Errorf("log output:\n%s", out.String())
	}
}

// TestPrinterStartStop: the periodic printer prints on its own and stops.
func TestPrinterStartStop(t *testing.T) {
	p := NewProgress(time.Hour, nil)
	var mu sync.Mutex
	var out bytes.Buffer
	pr := NewPrinter(lockedWriter{&mu, &out}, false, time.Millisecond, p)
	pr.Start()
	time.Sleep(20 * time.Millisecond)
	pr.Stop()
	mu.Lock()
	n := strings.Count(out.String(), "\n")
	mu.Unlock()
	if n < 2 {
		t.Errorf("%d lines in 20ms at 1ms", n)
	}
	time.Sleep(5 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if m := strings.Count(out.String(), "\n"); m != n {
		t.Errorf("printed after Stop")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
