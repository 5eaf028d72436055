package securityhub

import (
	"encoding/json"
	"maps"
	"sort"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// Security Hub request limits.
const (
	// MaxFindingBytes is the largest finding BatchImportFindings accepts.
	MaxFindingBytes = 240 << 10
	// MaxBatchFindings is how many findings one request may carry.
	MaxBatchFindings = 100
	// MaxBatchBytes is the largest request body.
	MaxBatchBytes = 6 << 20
	// maxOtherValue and maxTagValue bound free-text map values (API model).
	maxOtherValue = 1024
	maxTagValue   = 256
	minTrimmed    = 64 // free text is never cut below this while trimming for size
)

// Trim returns a copy of f within the ASFF limits: lengths and counts of
// free-text attributes are cut (marked with "…"), and while the finding is
// larger than target bytes (MaxFindingBytes when 0, with room left for
// request framing) the longest of Description, ProductFields values and
// resource details is halved. Required attributes (Id, ProductArn,
// GeneratorId, AwsAccountId, Types, timestamps, Severity, Title) are only
// held to their length limits; they are never removed. f is not modified.
func Trim(f finding.Finding, target int) finding.Finding {
	if target <= 0 {
		target = MaxFindingBytes - 4<<10
	}
	f.ID = finding.Truncate(f.ID, finding.MaxIDLen)
	f.GeneratorID = finding.Truncate(f.GeneratorID, finding.MaxIDLen)
	f.Title = finding.Truncate(f.Title, finding.MaxTitleLen)
	f.Description = finding.Truncate(f.Description, finding.MaxDescriptionLen)
	if len(f.Types) > finding.MaxTypes {
		f.Types = f.Types[:finding.MaxTypes]
	}
	if len(f.RelatedFindings) > finding.MaxRelated {
		f.RelatedFindings = f.RelatedFindings[:finding.MaxRelated]
	}
	if f.Remediation != nil {
		r := *f.Remediation
		r.Recommendation.Text = finding.Truncate(r.Recommendation.Text, finding.MaxRecommendation)
		f.Remediation = &r
	}
	f.ProductFields = trimFields(f.ProductFields)
	if len(f.Resources) > finding.MaxResources {
		f.Resources = f.Resources[:finding.MaxResources]
	}
	f.Resources = append([]finding.Resource(nil), f.Resources...)
	for i := range f.Resources {
		r := &f.Resources[i]
		r.Tags = cutValues(r.Tags, maxTagValue)
		if r.Details != nil {
			d := *r.Details
			d.Other = cutValues(d.Other, maxOtherValue)
			r.Details = &d
		}
	}
	for {
		n := size(&f)
		if n <= target || !shrinkLongest(&f, n-target) {
			break
		}
	}
	return f
}

func size(f *finding.Finding) int {
	b, err := json.Marshal(f)
	if err != nil {
		return 0
	}
	return len(b)
}

func trimFields(pf map[string]string) map[string]string {
	if pf == nil {
		return nil
	}
	keys := make([]string, 0, len(pf))
	for k := range pf {
		keys = append(keys, k)
	}
	// tidewatch/detector, technique and workload sort before the optional
	// fields only by luck; keep them explicitly when cutting the count.
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := fieldRank(keys[i]), fieldRank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	out := make(map[string]string, min(len(keys), finding.MaxProductFields))
	for _, k := range keys {
		if len(out) == finding.MaxProductFields {
			break
		}
		out[finding.Truncate(k, finding.MaxFieldKeyLen)] = finding.Truncate(pf[k], finding.MaxFieldValueLen)
	}
	return out
}

func fieldRank(k string) int {
	switch k {
	case finding.FieldDetector, finding.FieldTechnique, finding.FieldWorkload:
		return 0
	}
	return 1
}

func cutValues(m map[string]string, n int) map[string]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = finding.Truncate(v, n)
	}
	return out
}

// shrinkLongest halves the longest free-text values, longest first, until
// about excess bytes are saved; it reports false when nothing is left to
// shrink.
func shrinkLongest(f *finding.Finding, excess int) bool {
	type text struct {
		n   int
		set func()
	}
	var texts []text
	add := func(n int, set func()) {
		if n > minTrimmed {
			texts = append(texts, text{n, set})
		}
	}
	add(len(f.Description), func() { f.Description = finding.Truncate(f.Description, max(len(f.Description)/2, minTrimmed)) })
	for k, v := range f.ProductFields {
		if fieldRank(k) != 0 {
			pf := f.ProductFields
			add(len(v), func() { pf[k] = finding.Truncate(v, max(len(v)/2, minTrimmed)) })
		}
	}
	for i := range f.Resources {
		if d := f.Resources[i].Details; d != nil {
			for k, v := range d.Other {
				add(len(v), func() { d.Other[k] = finding.Truncate(v, max(len(v)/2, minTrimmed)) })
			}
		}
		for k, v := range f.Resources[i].Tags {
			tags := f.Resources[i].Tags
			add(len(v), func() { tags[k] = finding.Truncate(v, max(len(v)/2, minTrimmed)) })
		}
	}
	if len(texts) == 0 {
		return false
	}
	sort.SliceStable(texts, func(i, j int) bool { return texts[i].n > texts[j].n })
	saved := 0
	for _, t := range texts {
		if saved >= excess {
			break
		}
		t.set()
		saved += t.n / 2
	}
	return true
}
