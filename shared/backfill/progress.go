package backfill

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Progress accounts for a run as it goes: events and bytes read, the event
// time covered, and from them a rate and an estimate of the time left. It
// is safe for concurrent use; the clock is injected so that its lines can
// be tested.
type Progress struct {
	clock func() time.Time

	mu       sync.Mutex
	started  time.Time
	total    time.Duration
	done     time.Duration
	events   int64
	bytes    int64
	calls    int64
	from, to time.Time
}

// NewProgress returns the progress of a run that is to cover total event
// time (the sum over its log groups), starting now by clock (time.Now if
// nil).
func NewProgress(total time.Duration, clock func() time.Time) *Progress {
	if clock == nil {
		clock = time.Now
	}
	return &Progress{clock: clock, started: clock(), total: total}
}

// Page counts one FilterLogEvents page of events messages of bytes bytes.
func (p *Progress) Page(events, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.events += int64(events)
	p.bytes += int64(bytes)
}

// Covered records that r of one log group has been fed and checkpointed.
func (p *Progress) Covered(r Range) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += r.Duration()
	if p.from.IsZero() || r.Start.Before(p.from) {
		p.from = r.Start
	}
	if r.End.After(p.to) {
		p.to = r.End
	}
}

// Snapshot is the state of a run at one instant.
type Snapshot struct {
	// Events, Bytes and Calls count what was read so far.
	Events, Bytes, Calls int64
	// From and To bound the event time covered so far (zero before the
	// first slice).
	From, To time.Time
	// Done and Total are the event time covered and to cover, all log
	// groups together.
	Done, Total time.Duration
	// Elapsed is the wall time since the start.
	Elapsed time.Duration
}

// Snapshot returns the state now.
func (p *Progress) Snapshot() Snapshot {
	now := p.clock()
	p.mu.Lock()
	defer p.mu.Unlock()
	return Snapshot{Events: p.events, Bytes: p.bytes, Calls: p.calls, From: p.from, To: p.to,
		Done: p.done, Total: p.total, Elapsed: now.Sub(p.started)}
}

// Fraction is the share of the event time covered, in [0, 1].
func (s Snapshot) Fraction() float64 {
	if s.Total <= 0 {
		return 1
	}
	return min(1, float64(s.Done)/float64(s.Total))
}

// ETA estimates the wall time left from the pace so far; false until
// something has been covered.
func (s Snapshot) ETA() (time.Duration, bool) {
	if s.Done <= 0 || s.Elapsed <= 0 {
		return 0, false
	}
	left := s.Total - s.Done
	if left <= 0 {
		return 0, true
	}
	return time.Duration(float64(s.Elapsed) * float64(left) / float64(s.Done)), true
}

// String renders the snapshot as one line.
func (s Snapshot) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d%%", int(s.Fraction()*100))
	if !s.To.IsZero() {
		fmt.Fprintf(&b, ", covered %s → %s UTC", s.From.UTC().Format("2006-01-02 15:04"), s.To.UTC().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(&b, "; %s events, %s read", FormatCount(s.Events), FormatBytes(s.Bytes))
	if secs := s.Elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, "; %s events/s, %s/s", FormatCount(int64(float64(s.Events)/secs)), FormatBytes(int64(float64(s.Bytes)/secs)))
	}
	if s.Total > 0 && s.Done >= s.Total {
		b.WriteString("; done in " + FormatDuration(s.Elapsed))
	} else if eta, ok := s.ETA(); ok {
		b.WriteString("; ETA " + FormatDuration(eta))
	} else {
		b.WriteString("; ETA unknown")
	}
	return b.String()
}

// Short renders the snapshot compactly, to fit a terminal line of 80
// columns: percent, covered up to (UTC), events and bytes read, their
// rates, and the time left.
func (s Snapshot) Short() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backfill %d%%", int(s.Fraction()*100))
	if !s.To.IsZero() {
		b.WriteString(" to " + s.To.UTC().Format("01-02 15:04"))
	}
	fmt.Fprintf(&b, ", %s ev %s", compactCount(s.Events), FormatBytes(s.Bytes))
	if secs := s.Elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, ", %s/s %s/s", compactCount(int64(float64(s.Events)/secs)), FormatBytes(int64(float64(s.Bytes)/secs)))
	}
	if s.Total > 0 && s.Done >= s.Total {
		b.WriteString(", done in " + FormatDuration(s.Elapsed))
	} else if eta, ok := s.ETA(); ok {
		b.WriteString(", ETA " + FormatDuration(eta))
	}
	return b.String()
}

// compactCount renders n in at most about 5 characters: 950, 9,999,
// 12.3k, 4.5M.
func compactCount(n int64) string {
	switch {
	case n < 10000:
		return FormatCount(n)
	case n < 1_000_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	case n < 1_000_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + "G"
}

// FormatDuration renders d for a person, in its two largest units,
// rounded: "45s", "12m30s", "3h20m", "14d", "2d6h".
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	two := func(d, big, small time.Duration, bu, su string) string {
		d = d.Round(small)
		b, s := d/big, (d%big)/small
		if s == 0 {
			return strconv.FormatInt(int64(b), 10) + bu
		}
		return strconv.FormatInt(int64(b), 10) + bu + strconv.FormatInt(int64(s), 10) + su
	}
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < time.Minute-time.Second/2:
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + "s"
	case d < time.Hour-30*time.Second:
		return two(d, time.Minute, time.Second, "m", "s")
	case d < day-30*time.Minute:
		return two(d, time.Hour, time.Minute, "h", "m")
	}
	return two(d, day, time.Hour, "d", "h")
}

// FormatBytes renders n in decimal units, as AWS bills them.
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + string("kMGTP"[i]) + "B"
}

// FormatCount renders n with thousands separators.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Printer shows a run's progress: on a terminal one short line updated in
// place (Snapshot.Short), otherwise a full line every period, for logs
// (Snapshot.String). Messages written
// with Logf go between, without garbling the status line.
type Printer struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	p        *Progress

	mu    sync.Mutex
	shown bool
	stop  chan struct{}
	done  chan struct{}
}

// Periods between progress lines.
const (
	TerminalEvery = 250 * time.Millisecond
	LogEvery      = 10 * time.Second
)

// NewPrinter returns a printer of p to w; every zero means TerminalEvery
// on a terminal and LogEvery otherwise.
func NewPrinter(w io.Writer, terminal bool, every time.Duration, p *Progress) *Printer {
	if every <= 0 {
		every = LogEvery
		if terminal {
			every = TerminalEvery
		}
	}
	return &Printer{w: w, terminal: terminal, every: every, p: p}
}

// Start prints periodically until Stop.
func (pr *Printer) Start() {
	pr.stop, pr.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pr.done)
		t := time.NewTicker(pr.every)
		defer t.Stop()
		for {
			select {
			case <-pr.stop:
				return
			case <-t.C:
				pr.Tick()
			}
		}
	}()
}

// Stop ends periodic printing and prints the last line.
func (pr *Printer) Stop() {
	if pr.stop != nil {
		close(pr.stop)
		<-pr.done
		pr.stop = nil
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	line := "backfill: " + pr.p.Snapshot().String()
	if pr.terminal {
		// The last line stays on screen: the full one.
		fmt.Fprint(pr.w, "\r"+line+clearEOL+"\n")
		pr.shown = false
		return
	}
	fmt.Fprintln(pr.w, line)
}

// clearEOL erases the rest of a terminal line (ANSI EL).
const clearEOL = "\x1b[K"

// Tick prints the current progress once.
func (pr *Printer) Tick() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.status()
}

// status prints the status line; pr.mu must be held.
func (pr *Printer) status() {
	if pr.terminal {
		fmt.Fprint(pr.w, "\r"+pr.p.Snapshot().Short()+clearEOL)
		pr.shown = true
		return
	}
	fmt.Fprintln(pr.w, "backfill: "+pr.p.Snapshot().String())
}

// Logf prints a message on its own line.
func (pr *Printer) Logf(format string, args ...any) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if pr.terminal && pr.shown {
		fmt.Fprint(pr.w, "\r"+msg+clearEOL+"\n")
		pr.status()
		return
	}
	fmt.Fprintln(pr.w, msg)
}
