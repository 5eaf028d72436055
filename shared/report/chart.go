package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/signal"
)

// canvas is one inline SVG drawing. Shapes are drawn group by group in
// field order (areas under lines under points under text), each styled by
// a class of the page's stylesheet, so the SVG carries no style of its own
// and no value from a finding reaches an attribute other than a number, a
// fixed class or a tooltip.
type canvas struct {
	W, H int
	// Label describes the drawing for screen readers.
	Label     string
	Rects     []rect
	Polygons  []poly
	Lines     []line
	Polylines []poly
	Circles   []circle
	Texts     []text
}

type rect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type poly struct {
	Points string
	Class  string
	// N is the number of points.
	N int
}

type circle struct {
	X, Y, R float64
	Class   string
	Title   string
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
	// Href links the text to an anchor of the page ("#f3").
	Href string
}

// chartW is the width of every drawing: the page's content column.
const chartW = 936

// r1 rounds a coordinate to a tenth of a pixel, so the page is small and
// its bytes do not depend on floating-point noise.
func r1(v float64) float64 { return math.Round(v*10) / 10 }

func (c *canvas) rect(x, y, w, h float64, class, title string) {
	c.Rects = append(c.Rects, rect{r1(x), r1(y), r1(w), r1(h), class, title})
}

func (c *canvas) line(x1, y1, x2, y2 float64, class string) {
	c.Lines = append(c.Lines, line{r1(x1), r1(y1), r1(x2), r1(y2), class})
}

func (c *canvas) text(x, y float64, anchor, class, s string) {
	c.Texts = append(c.Texts, text{X: r1(x), Y: r1(y), Anchor: anchor, Class: class, Text: s})
}

// points writes SVG polyline/polygon points.
func points(xs, ys []float64) string {
	var b strings.Builder
	for i := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(r1(xs[i]), 'f', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(r1(ys[i]), 'f', -1, 64))
	}
	return b.String()
}

// scale maps values onto pixels, linearly or by their logarithm.
type scale struct {
	d0, d1 float64 // domain (log10 of it when log)
	r0, r1 float64 // range in pixels
	log    bool
	// unit is what round ticks are counted in: 1, or for byte values the
	// binary or decimal multiple they are written in (so that ticks read
	// 1 MiB, 2 MiB rather than 0.95 MiB, 1.91 MiB).
	unit float64
}

// valueAxis returns a linear scale from zero to a round value above top,
// with ticks round in u's written form.
func valueAxis(u unit, top, r0, r1 float64) scale {
	m := u.multiple(top)
	return scale{d0: 0, d1: niceCeil(top/m) * m, r0: r0, r1: r1, unit: m}
}

// valueScale returns the value axis of a chart whose values reach top
// and whose smallest positive value is minPos: logarithmic over whole
// decades when useLog, else valueAxis with a little room above top.
func valueScale(u unit, useLog bool, minPos, top, r0, r1 float64) scale {
	if !useLog {
		return valueAxis(u, top*1.05, r0, r1)
	}
	lo := math.Pow(10, math.Floor(math.Log10(minPos)))
	hi := math.Pow(10, math.Ceil(math.Log10(top)))
	if hi <= lo {
		hi = lo * 10
	}
	return logarithmic(lo, hi, r0, r1)
}

func linear(d0, d1, r0, r1 float64) scale { return scale{d0: d0, d1: d1, r0: r0, r1: r1} }

func logarithmic(d0, d1, r0, r1 float64) scale {
	return scale{d0: math.Log10(d0), d1: math.Log10(d1), r0: r0, r1: r1, log: true}
}

// at returns the pixel of v, clamped to the range (a zero on a log axis
// sits at its bottom).
func (s scale) at(v float64) float64 {
	if s.log {
		if v <= 0 {
			return s.r0
		}
		v = math.Log10(v)
	}
	f := (v - s.d0) / (s.d1 - s.d0)
	f = math.Max(0, math.Min(1, f))
	return s.r0 + f*(s.r1-s.r0)
}

// ticks returns the values to mark on the axis.
func (s scale) ticks() []float64 {
	if s.log {
		var out []float64
		lo, hi := int(math.Round(s.d0)), int(math.Round(s.d1))
		every := 1
		if hi-lo > 6 {
			every = 2
		}
		for e := lo; e <= hi; e += every {
			out = append(out, math.Pow(10, float64(e)))
		}
		return out
	}
	m := s.unit
	if m <= 0 {
		m = 1
	}
	step := niceStep((s.d1-s.d0)/m/5) * m
	var out []float64
	for v := math.Ceil(s.d0/step) * step; v <= s.d1+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// niceStep returns 1, 2 or 5 times a power of ten, at least x.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// niceCeil returns a round number at least x: the top of a linear axis.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	step := niceStep(x / 10)
	return math.Ceil(x/step-1e-9) * step
}

// timeSteps are the spacings tried for time ticks, shortest first.
var timeSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour,
}

// timeTicks returns at most max tick times within [t0, t1] on round UTC
// times.
func timeTicks(t0, t1 time.Time, max int) []time.Time {
	span := t1.Sub(t0)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s < time.Duration(max) {
			step = s
			break
		}
	}
	if span/step >= time.Duration(max) { // longer than the longest step allows
		step = (span / time.Duration(max)).Truncate(24*time.Hour) + 24*time.Hour
	}
	var out []time.Time
	for t := t0.Truncate(step); !t.After(t1); t = t.Add(step) {
		if !t.Before(t0) {
			out = append(out, t)
		}
	}
	return out
}

// timeLabel writes a tick time: the clock alone when the axis stays
// within one UTC day, else with the date.
func timeLabel(t time.Time, oneDay bool) string {
	if oneDay {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

func sameDay(a, b time.Time) bool {
	return a.Format("2006-01-02") == b.Format("2006-01-02")
}

// timeAxis draws time ticks and their labels along y, with the date
// under them when the axis stays within one day.
func (c *canvas) timeAxis(sx scale, t0, t1 time.Time, y float64, max int) {
	oneDay := sameDay(t0, t1)
	for _, t := range timeTicks(t0, t1, max) {
		x := sx.at(unixMinutes(t))
		c.line(x, y, x, y+4, "axis")
		c.text(x, y+16, "middle", "tick", timeLabel(t, oneDay))
	}
	caption := "UTC"
	if oneDay {
		caption = t0.Format("2006-01-02") + " (UTC)"
	}
	c.text(sx.r1, y+32, "end", "caption", caption)
}

// unixMinutes places a time on a linear scale.
func unixMinutes(t time.Time) float64 { return float64(t.Unix()) / 60 }

// logThreshold is how many times the band's high the observed peak must
// be before the value axis turns logarithmic: past it a linear axis
// flattens the band into its floor.
const logThreshold = 20

// seriesChart draws a series: the band (low..high) as a shaded area, the
// observed values as a line with points (red outside the band), the
// alert span (first..last) shaded behind them, times (UTC) along the
// bottom and values in unit u up the side. The axis is logarithmic when
// the observed peak is over logThreshold times the band's high.
func seriesChart(s *signal.Series, first, last time.Time, u unit, metric string) *canvas {
	const (
		w, h                   = chartW, 300
		left, right, top, base = 70.0, chartW - 16.0, 52.0, 248.0
	)
	c := &canvas{W: w, H: h}
	n := s.Len()
	t0, t1 := s.At(0), s.At(max(n-1, 0))
	if !t1.After(t0) {
		t0, t1 = t0.Add(-s.Step), t0.Add(s.Step)
	}
	sx := linear(unixMinutes(t0), unixMinutes(t1), left, right)

	peak, highMax := math.Inf(-1), math.Inf(-1)
	minPos := math.Inf(1)
	for i := 0; i < n; i++ {
		for _, v := range []float64{s.Observed[i], s.Low[i], s.High[i]} {
			if ok(v) && v > 0 {
				minPos = math.Min(minPos, v)
			}
		}
		if ok(s.Observed[i]) {
			peak = math.Max(peak, s.Observed[i])
		}
		if ok(s.High[i]) {
			highMax = math.Max(highMax, s.High[i])
		}
	}
	top0 := math.Max(peak, highMax)
	if math.IsInf(top0, -1) || top0 <= 0 {
		top0 = 1
	}
	useLog := ok(peak) && peak > 0 && (highMax <= 0 || math.IsInf(highMax, -1) || peak > logThreshold*highMax)
	sy := valueScale(u, useLog, minPos, top0, base, top)
	c.Label = fmt.Sprintf("%s from %s to %s UTC: observed against the learned band", metric, t0.Format("15:04"), t1.Format("15:04"))

	// Alert span, behind everything.
	if !first.IsZero() {
		x0, x1 := sx.at(unixMinutes(first)), sx.at(unixMinutes(maxTime(first, last)))
		if x1-x0 < 2 {
			x0, x1 = x0-1, x0+1
		}
		c.rect(x0, top, x1-x0, base-top, "alert", "alert: "+spanText(first, last))
	}

	// Band: one polygon per run of steps with both bounds.
	half := math.Abs(sx.at(unixMinutes(t0.Add(s.Step/2))) - sx.at(unixMinutes(t0)))
	for _, run := range runs(n, func(i int) bool { return ok(s.Low[i]) && ok(s.High[i]) }) {
		var xs, ys []float64
		for i := run[0]; i < run[1]; i++ {
			xs, ys = append(xs, sx.at(unixMinutes(s.At(i)))), append(ys, sy.at(s.High[i]))
		}
		for i := run[1] - 1; i >= run[0]; i-- {
			xs, ys = append(xs, sx.at(unixMinutes(s.At(i)))), append(ys, sy.at(s.Low[i]))
		}
		if run[1]-run[0] == 1 { // one step: widen it to be seen
			xs = []float64{xs[0] - half, xs[0] + half, xs[0] + half, xs[0] - half}
			ys = []float64{ys[0], ys[0], ys[1], ys[1]}
		}
		c.Polygons = append(c.Polygons, poly{Points: points(xs, ys), Class: "band", N: len(xs)})
	}

	// Value grid and labels.
	for _, v := range sy.ticks() {
		y := sy.at(v)
		c.line(left, y, right, y, "grid")
		c.text(left-6, y+4, "end", "tick", u.tick(v))
	}
	c.line(left, top, left, base, "axis")
	c.line(left, base, right, base, "axis")
	c.timeAxis(sx, t0, t1, base, 10)
	if caption := u.axisCaption(metric); caption != "" {
		c.text(left, top-8, "start", "caption", caption)
	}

	// Observed: one line per run of steps with a value, a point on each.
	for _, run := range runs(n, func(i int) bool { return ok(s.Observed[i]) }) {
		var xs, ys []float64
		for i := run[0]; i < run[1]; i++ {
			xs, ys = append(xs, sx.at(unixMinutes(s.At(i)))), append(ys, sy.at(s.Observed[i]))
		}
		c.Polylines = append(c.Polylines, poly{Points: points(xs, ys), Class: "observed", N: len(xs)})
	}
	for i := 0; i < n; i++ {
		v := s.Observed[i]
		if !ok(v) {
			continue
		}
		class := "pt"
		band := ""
		if ok(s.Low[i]) && ok(s.High[i]) {
			band = fmt.Sprintf(" (band %s to %s)", u.tick(s.Low[i]), u.tick(s.High[i]))
			if v > s.High[i] || v < s.Low[i] {
				class = "pt out"
			}
		}
		c.Circles = append(c.Circles, circle{X: r1(sx.at(unixMinutes(s.At(i)))), Y: r1(sy.at(v)), R: 2.5, Class: class,
			Title: s.At(i).Format("15:04") + " UTC: " + u.value(v) + band})
	}

	// Legend, and the scale note.
	c.rect(left, 10, 14, 10, "band", "")
	c.text(left+20, 19, "start", "legend", "learned band")
	c.line(left+112, 15, left+132, 15, "observed")
	c.Circles = append(c.Circles, circle{X: left + 122, Y: 15, R: 2.5, Class: "pt"})
	c.text(left+138, 19, "start", "legend", "observed")
	c.Circles = append(c.Circles, circle{X: left + 214, Y: 15, R: 2.5, Class: "pt out"})
	c.text(left+222, 19, "start", "legend", "outside the band")
	if !first.IsZero() {
		c.rect(left+338, 10, 14, 10, "alert", "")
		c.text(left+358, 19, "start", "legend", "alert "+spanText(first, last))
	}
	if useLog {
		note := "log scale"
		if highMax > 0 && !math.IsInf(highMax, -1) {
			note = fmt.Sprintf("log scale: peak %s× the band's high", sig3(peak/highMax))
		}
		c.text(right, top-8, "end", "note", note)
	}
	return c
}

// bandChart draws one measurement without a series: the band as a shaded
// bar, the expected value as a dashed mark and the observed value as a
// bar from the axis, red when outside the band. The axis is logarithmic
// when observed is over logThreshold times the band's high.
func bandChart(observed, expected, low, high float64, u unit, metric string) *canvas {
	const (
		w, h        = chartW, 124
		left, right = 70.0, chartW - 16.0
		y0, y1      = 40.0, 76.0 // the bar's lane
	)
	c := &canvas{W: w, H: h}
	c.Label = fmt.Sprintf("%s: observed %s against the learned band %s to %s", metric, u.value(observed), u.value(low), u.value(high))
	vals := []float64{observed, expected, low, high}
	top0, minPos := 0.0, math.Inf(1)
	for _, v := range vals {
		if ok(v) {
			top0 = math.Max(top0, v)
			if v > 0 {
				minPos = math.Min(minPos, v)
			}
		}
	}
	useLog := ok(observed) && observed > 0 && ok(high) && (high <= 0 || observed > logThreshold*high)
	sx := valueScale(u, useLog, minPos, top0, left, right)
	if ok(low) && ok(high) {
		x0, x1 := sx.at(low), sx.at(high)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		c.rect(x0, y0, x1-x0, y1-y0, "band", "learned band: "+u.value(low)+" to "+u.value(high))
	}
	for _, v := range sx.ticks() {
		x := sx.at(v)
		c.line(x, y0-4, x, y1+4, "grid")
		c.text(x, y1+20, "middle", "tick", u.tick(v))
	}
	c.line(left, y1+4, right, y1+4, "axis")
	if ok(observed) {
		class := "bar"
		if ok(low) && ok(high) && (observed > high || observed < low) {
			class = "bar out"
		}
		x := sx.at(observed)
		c.rect(left, y0+10, math.Max(x-left, 2), y1-y0-20, class, "observed: "+u.value(observed))
		label := "observed " + u.value(observed)
		if x+6+textWidth(label) <= right || x-left < textWidth(label)+12 {
			c.text(x+6, y0+22, "start", "value", label)
		} else { // no room on the right: inside the bar's end
			c.text(x-6, y0+22, "end", "value inside", label)
		}
	}
	if ok(expected) {
		x := sx.at(expected)
		c.line(x, y0-6, x, y1+6, "expected")
		c.text(x, y0-10, "middle", "legend", "expected "+u.value(expected))
	}
	if caption := u.axisCaption(metric); caption != "" {
		c.text(right, y1+38, "end", "caption", caption)
	}
	c.rect(left, 8, 14, 10, "band", "")
	c.text(left+20, 17, "start", "legend", "learned band "+u.value(low)+" to "+u.value(high))
	if useLog {
		c.text(right, 17, "end", "note", fmt.Sprintf("log scale: observed %s× the band's high", sig3(observed/math.Max(high, 1e-12))))
	}
	return c
}

// textWidth estimates the width of a label in the charts' 11px font.
func textWidth(s string) float64 {
	return 6.5 * float64(len([]rune(s)))
}

// timelineRow is one finding on a correlation timeline.
type timelineRow struct {
	Label       string
	Href        string
	First, Last time.Time
	Severity    signal.Severity
	Self        bool
}

// timeline draws findings as bars on a shared time axis: one row each,
// labelled (and linked when shown on the page), the finding itself
// highlighted.
func timeline(rows []timelineRow) *canvas {
	const (
		w           = chartW
		left, right = 290.0, chartW - 16.0
		top, rowH   = 8.0, 24.0
	)
	h := int(top + rowH*float64(len(rows)) + 44)
	c := &canvas{W: w, H: h, Label: fmt.Sprintf("timeline of %d correlated findings", len(rows))}
	t0, t1 := rows[0].First, maxTime(rows[0].First, rows[0].Last)
	for _, r := range rows[1:] {
		if r.First.Before(t0) {
			t0 = r.First
		}
		if l := maxTime(r.First, r.Last); l.After(t1) {
			t1 = l
		}
	}
	pad := t1.Sub(t0) / 20
	if pad < time.Minute {
		pad = time.Minute
	}
	t0, t1 = t0.Add(-pad), t1.Add(pad)
	sx := linear(unixMinutes(t0), unixMinutes(t1), left, right)
	base := top + rowH*float64(len(rows))
	for i, r := range rows {
		y := top + rowH*float64(i)
		if r.Self {
			c.rect(0, y, w, rowH, "self", "")
		}
		x0, x1 := sx.at(unixMinutes(r.First)), sx.at(unixMinutes(maxTime(r.First, r.Last)))
		if x1-x0 < 6 {
			x0, x1 = x0-3, x0+3
		}
		c.rect(x0, y+5, x1-x0, rowH-10, "span "+sevClass(r.Severity), r.Label+": "+spanText(r.First, r.Last))
		c.Texts = append(c.Texts, text{X: 8, Y: r1(y + 16), Anchor: "start", Class: "row", Text: r.Label, Href: r.Href})
	}
	c.line(left, top, left, base, "axis")
	c.line(left, base, right, base, "axis")
	c.timeAxis(sx, t0, t1, base, 6)
	return c
}

// runs returns the [start, end) index ranges of consecutive i for which
// keep holds.
func runs(n int, keep func(int) bool) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= n; i++ {
		if i < n && keep(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

func ok(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// spanText writes a time span compactly: "10:02–10:30 UTC",
// "Mar 5 23:50–Mar 6 00:10 UTC", or one time when it is an instant.
func spanText(first, last time.Time) string {
	last = maxTime(first, last)
	f := "15:04:05"
	if first.Second() == 0 && last.Second() == 0 {
		f = "15:04"
	}
	if !sameDay(first, last) {
		f = "Jan 2 " + f
	}
	if last.Equal(first) {
		return first.Format(f) + " UTC"
	}
	return first.Format(f) + "–" + last.Format(f) + " UTC"
}

// sevClass is the stylesheet class of a severity.
func sevClass(s signal.Severity) string {
	return "sev-" + strings.ToLower(s.String())
}
