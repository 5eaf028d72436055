package finding

import (
	"strconv"
	"time"

	"github.com/tidewatch/tidewatch/shared/signal"
)

// Update folds a repeat of the same detection into an existing finding:
// the count grows, the observed span widens, severity only rises (and with
// it title, description and evidence follow the stronger signal), and
// UpdatedAt becomes now. It reports whether the severity rose.
func Update(f *Finding, sig *signal.Signal, ctx Context, now time.Time) (raised bool) {
	next := New(sig, ctx, now)
	count := countOf(f) + max(sig.Count, 1)
	if next.LastObservedAt > f.LastObservedAt {
		f.LastObservedAt = next.LastObservedAt
	}
	if next.FirstObservedAt < f.FirstObservedAt {
		f.FirstObservedAt = next.FirstObservedAt
	}
	if sig.Severity > SeverityOf(f) {
		f.Severity = next.Severity
		f.FindingProviderFields = next.FindingProviderFields
		f.Title = next.Title
		f.Description = next.Description
		f.Resources = next.Resources
		f.Remediation = next.Remediation
		f.ProductFields = next.ProductFields
		f.RelatedFindings = next.RelatedFindings
		raised = true
	}
	if f.ProductFields == nil {
		f.ProductFields = map[string]string{}
	}
	f.ProductFields[FieldCount] = strconv.Itoa(count)
	f.UpdatedAt = Timestamp(now)
	return raised
}

func countOf(f *Finding) int {
	n, err := strconv.Atoi(f.ProductFields[FieldCount])
	if err != nil || n < 1 {
		return 1
	}
	return n
}
