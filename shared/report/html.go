package report

import (
	_ "embed"
	"html/template"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

//go:embed page.html.tmpl
var pageSource string

// page is parsed once; html/template escapes every value for the context
// it lands in (text, attribute, URL), which is what keeps commands and
// pod names from an attacker inert on the page.
var page = template.Must(template.New("page").Funcs(template.FuncMap{"parts": parts}).Parse(pageSource))

// parts splits an id after each "/", for the page to offer a line break
// there (<wbr>) rather than in the middle of a name.
func parts(s string) []string {
	return strings.SplitAfter(s, "/")
}

// WriteHTML writes the report as one self-contained HTML page: inline
// stylesheet and SVG charts, no script, no external asset (the only links
// out are each technique's MITRE ATT&CK page and the finding's
// remediation URL). It is dated with AsOf, never with a clock.
func (r *Report) WriteHTML(w io.Writer) error {
	return page.Execute(w, r.pageView())
}

type pageView struct {
	Source   string
	AsOf     string
	Summary  Summary
	Counts   []countView
	Overview *canvas
	Findings []*findingView
}

type countView struct {
	Label string
	Class string
	N     int
}

type findingView struct {
	N            int
	Anchor       string
	ID           string
	Severity     string
	SevClass     string
	Title        string
	Description  string
	Technique    string
	TechniqueURL string
	Types        []string
	Detector     string
	Workload     string
	Status       string
	Suppressed   bool
	Reason       string
	First, Last  string
	Count        string
	Account      string
	Region       string
	Updated      string
	Resources    []resourceView
	Evidence     []fieldView
	Chart        *canvas
	ChartNote    string
	Timeline     *canvas
	Related      []relatedView
	Unresolved   []string
	Steps        []stepView
	StepsText    string
	StepsURL     string
}

type resourceView struct {
	Type    string
	ID      string
	Details []fieldView
}

type fieldView struct {
	Key   string
	Value string
	// Raw is the value as the finding carries it, when Value rewrote it
	// for people.
	Raw  string
	Code bool
}

type relatedView struct {
	ID       string
	Href     string
	Title    string
	Relation string
}

type stepView struct {
	N    int
	Text string
}

func (r *Report) pageView() *pageView {
	sum := r.Summary()
	v := &pageView{Source: r.opts.Source, Summary: sum}
	if t, ok := r.AsOf(); ok {
		v.AsOf = t.Format("2006-01-02 15:04:05") + " UTC"
	}
	for sev := signal.Critical; sev >= signal.Informational; sev-- {
		if sum.BySeverity[sev] > 0 || sev >= signal.Low {
			v.Counts = append(v.Counts, countView{Label: sev.String(), Class: sevClass(sev), N: sum.BySeverity[sev]})
		}
	}
	v.Overview = overview(sum)
	anchors := map[string]string{}
	for i, f := range r.shown {
		anchors[f.ID] = "f" + strconv.Itoa(i+1)
	}
	for i, f := range r.shown {
		v.Findings = append(v.Findings, r.findingView(i+1, f, anchors))
	}
	return v
}

// overview draws the count per severity as one stacked bar.
func overview(sum Summary) *canvas {
	const w, h, left, right = chartW, 34, 0.0, chartW
	if sum.Shown == 0 {
		return nil
	}
	c := &canvas{W: w, H: h, Label: sum.String()}
	x := left
	for sev := signal.Critical; sev >= signal.Informational; sev-- {
		n := sum.BySeverity[sev]
		if n == 0 {
			continue
		}
		bw := (right - left) * float64(n) / float64(sum.Shown)
		c.rect(x, 4, bw, 26, "seg "+sevClass(sev), sev.String()+": "+strconv.Itoa(n))
		if bw >= 28 {
			c.text(x+bw/2, 22, "middle", "seg-label", strconv.Itoa(n))
		}
		x += bw
	}
	return c
}

func (r *Report) findingView(n int, f *finding.Finding, anchors map[string]string) *findingView {
	sev := finding.SeverityOf(f)
	v := &findingView{
		N: n, Anchor: anchors[f.ID], ID: f.ID,
		Severity: severityLabel(f), SevClass: sevClass(sev),
		Title: f.Title, Description: f.Description,
		Technique: technique(f), TechniqueURL: attackURL(technique(f)),
		Types:    f.Types,
		Detector: f.ProductFields[finding.FieldDetector], Workload: f.ProductFields[finding.FieldWorkload],
		Status: status(f), Suppressed: suppressed(f),
		First: timeText(f.FirstObservedAt), Last: timeText(f.LastObservedAt),
		Count:   f.ProductFields[finding.FieldCount],
		Account: f.AwsAccountID, Region: f.Region, Updated: timeText(f.UpdatedAt),
	}
	if v.Suppressed {
		v.Reason = suppressionReason(f)
	}
	for _, res := range f.Resources {
		v.Resources = append(v.Resources, resourceOf(res))
	}
	v.Evidence = evidence(f)
	v.Chart, v.ChartNote = chartOf(f)
	v.Timeline, v.Related, v.Unresolved = r.correlation(f, anchors)
	if rem := f.Remediation; rem != nil {
		v.Steps, v.StepsText = steps(rem.Recommendation.Text)
		v.StepsURL = webURL(rem.Recommendation.URL)
	}
	return v
}

func resourceOf(res finding.Resource) resourceView {
	v := resourceView{Type: res.Type, ID: res.ID}
	if d := res.Details; d != nil {
		if c := d.Container; c != nil {
			add := func(k, val string) {
				if val != "" {
					v.Details = append(v.Details, fieldView{Key: k, Value: val})
				}
			}
			add("container", c.Name)
			add("image", c.ImageName)
			if c.Privileged {
				add("privileged", "yes")
			}
		}
		for _, k := range sortedKeys(d.Other) {
			v.Details = append(v.Details, fieldView{Key: k, Value: d.Other[k]})
		}
	}
	for _, k := range sortedKeys(res.Tags) {
		v.Details = append(v.Details, fieldView{Key: "tag " + k, Value: res.Tags[k]})
	}
	return v
}

// evidenceOrder puts the numbers that explain a finding first; other
// tidewatch/* fields follow by name.
var evidenceOrder = []string{
	"observed", "expected", "bandLow", "bandHigh", "score", "metric", "unit", "trainingPeriod", "minutes",
	"actor", "user", "command", "container", "pod", "peer", "peerPort", "pods", "images", "reasons", "patterns",
}

// notEvidence are fields shown elsewhere on the page.
var notEvidence = map[string]bool{
	finding.FieldDetector: true, finding.FieldTechnique: true, finding.FieldWorkload: true,
	finding.FieldCount: true, finding.FieldSeries: true,
}

// codeFields are shown in a monospace font: commands and identifiers.
var codeFields = map[string]bool{"command": true, "images": true, "userAgent": true, "arn": true, "auditID": true}

func evidence(f *finding.Finding) []fieldView {
	rank := map[string]int{}
	for i, k := range evidenceOrder {
		rank[k] = i + 1
	}
	var keys []string
	for k := range f.ProductFields {
		name, ok := strings.CutPrefix(k, "tidewatch/")
		if !ok || notEvidence[k] || (name == "correlatedWith" && coveredByRelated(f)) {
			continue
		}
		keys = append(keys, name)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = len(evidenceOrder) + 1
		}
		if rj == 0 {
			rj = len(evidenceOrder) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	u := unitOf(f)
	var out []fieldView
	for _, k := range keys {
		raw := f.ProductFields["tidewatch/"+k]
		fv := fieldView{Key: k, Value: raw, Code: codeFields[k]}
		switch k {
		case "observed", "expected", "bandLow", "bandHigh":
			if x, err := strconv.ParseFloat(raw, 64); err == nil {
				fv.Value = u.value(x)
			}
		case "trainingPeriod":
			fv.Value = duration(raw)
		}
		if fv.Value != raw {
			fv.Raw = raw
		}
		out = append(out, fv)
	}
	return out
}

// coveredByRelated reports whether every id in tidewatch/correlatedWith
// is also in RelatedFindings, which the page shows on its own.
func coveredByRelated(f *finding.Finding) bool {
	related := map[string]bool{}
	for _, r := range f.RelatedFindings {
		related[r.ID] = true
	}
	for _, id := range strings.Split(f.ProductFields["tidewatch/correlatedWith"], ",") {
		if id = strings.TrimSpace(id); id != "" && !related[id] {
			return false
		}
	}
	return true
}

// chartOf draws f's metric: its series when it has one, else its
// observed value against its band; the note says why there is no chart
// when the data is there but unreadable.
func chartOf(f *finding.Finding) (*canvas, string) {
	metric := f.ProductFields["tidewatch/metric"]
	u := unitOf(f)
	first, _ := parseTime(f.FirstObservedAt)
	last, _ := parseTime(f.LastObservedAt)
	s, has, err := finding.SeriesOf(f)
	switch {
	case err != nil:
		return fallbackChart(f, u, metric), "The metric's series is unreadable: " + err.Error()
	case has && s.Len() > 0:
		return seriesChart(s, first, last, u, metric), ""
	}
	return fallbackChart(f, u, metric), ""
}

func fallbackChart(f *finding.Finding, u unit, metric string) *canvas {
	num := func(k string) (float64, bool) {
		x, err := strconv.ParseFloat(f.ProductFields["tidewatch/"+k], 64)
		return x, err == nil && ok(x)
	}
	obs, okObs := num("observed")
	low, okLow := num("bandLow")
	high, okHigh := num("bandHigh")
	if !okObs || !okLow || !okHigh {
		return nil
	}
	exp, okExp := num("expected")
	if !okExp {
		exp = math.NaN()
	}
	return bandChart(obs, exp, low, high, u, metric)
}

// correlation returns the timeline of f and the findings it is related
// to either way (it names them, or they name it), the list of them, and
// the related ids not in the input.
func (r *Report) correlation(f *finding.Finding, anchors map[string]string) (*canvas, []relatedView, []string) {
	var rels []relatedView
	var unresolved []string
	seen := map[string]bool{f.ID: true}
	var others []*finding.Finding
	for _, rf := range f.RelatedFindings {
		if seen[rf.ID] {
			continue
		}
		seen[rf.ID] = true
		o, ok := r.byID[rf.ID]
		if !ok {
			unresolved = append(unresolved, rf.ID)
			continue
		}
		others = append(others, o)
		rels = append(rels, relatedView{ID: o.ID, Href: href(anchors, o.ID), Title: o.Title, Relation: "named by this finding"})
	}
	for _, id := range r.namedBy[f.ID] {
		if seen[id] {
			continue
		}
		seen[id] = true
		o := r.byID[id]
		others = append(others, o)
		rels = append(rels, relatedView{ID: o.ID, Href: href(anchors, o.ID), Title: o.Title, Relation: "names this finding"})
	}
	if len(others) == 0 {
		return nil, rels, unresolved
	}
	rows := []timelineRow{rowOf(f, "this finding: ", "")}
	for _, o := range others {
		rows = append(rows, rowOf(o, "", href(anchors, o.ID)))
	}
	var keep []timelineRow
	for _, row := range rows {
		if !row.First.IsZero() {
			keep = append(keep, row)
		}
	}
	if len(keep) < 2 || !keep[0].Self {
		return nil, rels, unresolved
	}
	sort.SliceStable(keep[1:], func(i, j int) bool { return keep[1+i].First.Before(keep[1+j].First) })
	return timeline(keep), rels, unresolved
}

// webURL returns s when it is an absolute http or https URL, the only
// links out the page offers; anything else is shown nowhere.
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

func href(anchors map[string]string, id string) string {
	if a, ok := anchors[id]; ok {
		return "#" + a
	}
	return ""
}

func rowOf(f *finding.Finding, prefix, link string) timelineRow {
	first, _ := parseTime(f.FirstObservedAt)
	last, _ := parseTime(f.LastObservedAt)
	label := f.ProductFields[finding.FieldDetector]
	if label == "" {
		label = f.GeneratorID
	}
	label = prefix + label + " · " + severityLabel(f)
	if len([]rune(label)) > 40 {
		label = string([]rune(label)[:39]) + "…"
	}
	return timelineRow{Label: label, Href: link, First: first, Last: last, Severity: finding.SeverityOf(f), Self: prefix != ""}
}

// stepMark finds a step number such as "1) " or "2. " at the start of
// the text or after white space.
var stepMark = regexp.MustCompile(`(?:^|\s)(\d{1,2})[.)]\s`)

// steps splits response steps written "1) Verify: … 2) Isolate: …" (on
// one line, as ASFF's 512 characters favour, or on several) into numbered
// steps. Text without numbers 1, 2, … in order is returned whole, for the
// page to show with its line breaks.
func steps(s string) ([]stepView, string) {
	s = strings.TrimSpace(s)
	locs := stepMark.FindAllStringSubmatchIndex(s, -1)
	var cuts [][2]int // [start of the mark, start of the text]
	want := 1
	for _, l := range locs {
		if num, _ := strconv.Atoi(s[l[2]:l[3]]); num == want {
			cuts = append(cuts, [2]int{l[2], l[1]})
			want++
		}
	}
	if len(cuts) < 2 || strings.TrimSpace(s[:cuts[0][0]]) != "" {
		return nil, s
	}
	var out []stepView
	for i, c := range cuts {
		end := len(s)
		if i+1 < len(cuts) {
			end = cuts[i+1][0]
		}
		out = append(out, stepView{N: i + 1, Text: strings.TrimSpace(s[c[1]:end])})
	}
	return out, ""
}
