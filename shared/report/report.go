package report

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Options say which findings to show and how to label the report.
type Options struct {
	// MinSeverity hides findings below it; the zero value,
	// Informational, hides none.
	MinSeverity signal.Severity
	// Source names where the findings came from (file names, "Security
	// Hub us-east-1"), for the page header.
	Source string
}

// Report is a set of findings ready to render. It holds one finding per
// Id, the one with the latest UpdatedAt (the later input on a tie), as
// Security Hub keeps them.
type Report struct {
	opts  Options
	byID  map[string]*finding.Finding // every finding read, shown or not
	shown []*finding.Finding          // sorted: severity (highest first), first seen, Id
	// namedBy maps an Id to the findings that name it in RelatedFindings.
	namedBy map[string][]string
	hidden  int
}

// New returns the report of findings under opts.
func New(findings []finding.Finding, opts Options) *Report {
	r := &Report{opts: opts, byID: map[string]*finding.Finding{}, namedBy: map[string][]string{}}
	for i := range findings {
		f := &findings[i]
		if old, ok := r.byID[f.ID]; ok && laterThan(old.UpdatedAt, f.UpdatedAt) {
			continue
		}
		r.byID[f.ID] = f
	}
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := r.byID[id]
		for _, rel := range f.RelatedFindings {
			if rel.ID != id && !slices.Contains(r.namedBy[rel.ID], id) {
				r.namedBy[rel.ID] = append(r.namedBy[rel.ID], id)
			}
		}
		if finding.SeverityOf(f) < opts.MinSeverity {
			r.hidden++
			continue
		}
		r.shown = append(r.shown, f)
	}
	sort.SliceStable(r.shown, func(i, j int) bool {
		a, b := r.shown[i], r.shown[j]
		if sa, sb := finding.SeverityOf(a), finding.SeverityOf(b); sa != sb {
			return sa > sb
		}
		ta, oka := parseTime(a.FirstObservedAt)
		tb, okb := parseTime(b.FirstObservedAt)
		if oka != okb {
			return oka // a finding without a time goes after those with one
		}
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.ID < b.ID
	})
	return r
}

// laterThan reports whether ASFF timestamp a is strictly later than b;
// an unreadable time is earlier than any readable one.
func laterThan(a, b string) bool {
	ta, oka := parseTime(a)
	tb, okb := parseTime(b)
	if oka != okb {
		return oka
	}
	return ta.After(tb)
}

// Findings returns the findings shown, in report order.
func (r *Report) Findings() []finding.Finding {
	out := make([]finding.Finding, len(r.shown))
	for i, f := range r.shown {
		out[i] = *f
	}
	return out
}

// Summary counts the findings of a report.
type Summary struct {
	// Shown is the number of findings shown.
	Shown int
	// BySeverity counts the findings shown per severity, indexed by
	// signal.Severity.
	BySeverity [signal.Critical + 1]int
	// Suppressed counts the findings shown whose workflow status is
	// SUPPRESSED.
	Suppressed int
	// Hidden counts the findings below the minimum severity.
	Hidden int
	// MinSeverity is the minimum severity shown.
	MinSeverity signal.Severity
}

// Summary returns the counts of r.
func (r *Report) Summary() Summary {
	s := Summary{Shown: len(r.shown), Hidden: r.hidden, MinSeverity: r.opts.MinSeverity}
	for _, f := range r.shown {
		s.BySeverity[finding.SeverityOf(f)]++
		if suppressed(f) {
			s.Suppressed++
		}
	}
	return s
}

// String writes the summary on one line, e.g. "7 findings: CRITICAL=2
// HIGH=4 LOW=1; 1 suppressed".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d finding%s", s.Shown, plural(s.Shown))
	sep := ": "
	for sev := signal.Critical; sev >= signal.Informational; sev-- {
		if n := s.BySeverity[sev]; n > 0 {
			fmt.Fprintf(&b, "%s%s=%d", sep, sev, n)
			sep = " "
		}
	}
	if s.Suppressed > 0 {
		fmt.Fprintf(&b, "; %d suppressed", s.Suppressed)
	}
	if s.Hidden > 0 {
		fmt.Fprintf(&b, "; %d below %s not shown", s.Hidden, s.MinSeverity)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// AsOf returns the latest UpdatedAt of the findings read: the moment the
// data describes. The page is dated with it rather than with a clock, so
// that the same findings always give the same page.
func (r *Report) AsOf() (time.Time, bool) {
	var latest time.Time
	ok := false
	for _, f := range r.byID {
		if t, good := parseTime(f.UpdatedAt); good && (!ok || t.After(latest)) {
			latest, ok = t, true
		}
	}
	return latest, ok
}

func parseTime(s string) (time.Time, bool) {
	t, err := finding.ParseTimestamp(s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// suppressed reports a finding whose workflow status is SUPPRESSED.
func suppressed(f *finding.Finding) bool {
	return f.Workflow != nil && strings.EqualFold(f.Workflow.Status, "SUPPRESSED")
}

// status is the workflow status shown for f.
func status(f *finding.Finding) string {
	if f.Workflow == nil || f.Workflow.Status == "" {
		return "-"
	}
	return f.Workflow.Status
}

// suppressionPrefix starts the note the pipeline writes on a suppressed
// finding.
const suppressionPrefix = finding.SuppressedNotePrefix

// suppressionReason returns why f is suppressed: a tidewatch product
// field about the suppression, else the finding's note.
func suppressionReason(f *finding.Finding) string {
	keys := sortedKeys(f.ProductFields)
	for _, k := range keys {
		if strings.HasPrefix(k, "tidewatch/") && strings.Contains(strings.ToLower(k), "suppress") && f.ProductFields[k] != "" {
			return f.ProductFields[k]
		}
	}
	if f.Note != nil {
		return strings.TrimPrefix(f.Note.Text, suppressionPrefix)
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// severityLabel is the label shown for f: its own when ASFF knows it,
// else the one tidewatch ranks it as.
func severityLabel(f *finding.Finding) string {
	if _, err := signal.ParseSeverity(f.Severity.Label); err == nil {
		return strings.ToUpper(f.Severity.Label)
	}
	return finding.SeverityOf(f).String()
}

// technique returns f's MITRE ATT&CK technique id.
func technique(f *finding.Finding) string {
	return f.ProductFields[finding.FieldTechnique]
}

// attackURL links the MITRE ATT&CK page of a technique id such as
// T1498.001; it is empty for anything that is not a technique id, so
// that no other link comes from the data.
func attackURL(id string) string {
	base, sub, hasSub := strings.Cut(id, ".")
	if !isTechnique(base, 4) || (hasSub && !isDigits(sub, 3)) {
		return ""
	}
	if hasSub {
		return "https://attack.mitre.org/techniques/" + base + "/" + sub + "/"
	}
	return "https://attack.mitre.org/techniques/" + base + "/"
}

func isTechnique(s string, digits int) bool {
	return len(s) == digits+1 && s[0] == 'T' && isDigits(s[1:], digits)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// timeText writes an ASFF timestamp for people: "2026-03-05 10:02:00";
// unreadable ones are returned as they are.
func timeText(s string) string {
	t, ok := parseTime(s)
	if !ok {
		return s
	}
	return t.Format("2006-01-02 15:04:05")
}
