package finding

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// Context is what a finding needs beyond its signal: where it is reported.
type Context struct {
	// Account is the AWS account used when the signal names none
	// (12 digits).
	Account string
	// Region is the AWS region of the Security Hub that receives findings.
	Region string
	// Partition is "aws" unless set (aws-cn, aws-us-gov).
	Partition string
}

// DefaultAccount stands for an unknown account in local replays, so that
// findings still satisfy ASFF's 12-digit AwsAccountId.
const DefaultAccount = "000000000000"

// DefaultRegion is used when nothing names a region.
const DefaultRegion = "us-east-1"

func (c Context) partition() string {
	if c.Partition == "" {
		return "aws"
	}
	return c.Partition
}

// Timestamp renders t as ASFF wants it: RFC 3339 in UTC with milliseconds.
func Timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ParseTimestamp parses an ASFF timestamp.
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// Bucket is the event-time span in which repeats of one detection on one
// workload update one finding.
const Bucket = time.Hour

// ID returns the deterministic finding id for a detection of detector on
// workload at event time t.
func ID(detector, workloadID string, t time.Time) string {
	id := "tidewatch/" + detector + "/" + workloadID + "/" + t.UTC().Truncate(Bucket).Format("2006-01-02T15Z")
	return Truncate(id, MaxIDLen)
}

// ProductArn is the ARN of the account's default custom integration, the
// product every tidewatch finding is imported under.
func ProductArn(partition, region, account string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":securityhub:" + region + ":" + account + ":product/" + account + "/default"
}

// New builds the finding for sig, created at now (processing time).
func New(sig *signal.Signal, ctx Context, now time.Time) Finding {
	account := sig.Account
	if !isAccount(account) {
		account = ctx.Account
	}
	if !isAccount(account) {
		account = DefaultAccount
	}
	region := sig.Region
	if region == "" {
		region = ctx.Region
	}
	if region == "" {
		region = DefaultRegion
	}
	ts := Timestamp(now)
	f := Finding{
		SchemaVersion:   SchemaVersion,
		ID:              ID(sig.Detector, sig.Workload, sig.First),
		ProductArn:      ProductArn(ctx.partition(), region, account),
		ProductName:     ProductName,
		CompanyName:     ProductName,
		GeneratorID:     GeneratorPrefix + sig.Detector,
		AwsAccountID:    account,
		Region:          region,
		Types:           Types(sig),
		FirstObservedAt: Timestamp(sig.First),
		LastObservedAt:  Timestamp(lastOf(sig)),
		CreatedAt:       ts,
		UpdatedAt:       ts,
		Severity:        severity(sig.Severity),
		Title:           Truncate(sig.Title, MaxTitleLen),
		Description:     Truncate(sig.Description, MaxDescriptionLen),
		ProductFields:   productFields(sig),
		Resources:       resources(sig, ctx.partition(), region, account),
		RecordState:     "ACTIVE",
		Workflow:        &Workflow{Status: "NEW"},
	}
	for _, id := range sig.Related {
		if len(f.RelatedFindings) == MaxRelated {
			break
		}
		f.RelatedFindings = append(f.RelatedFindings, RelatedFinding{ProductArn: f.ProductArn, ID: id})
	}
	if text := Recommend(sig); text != "" {
		f.Remediation = &Remediation{Recommendation: Recommendation{Text: Truncate(text, MaxRecommendation), URL: attackURL(sig.Technique)}}
	}
	f.FindingProviderFields = &FindingProviderFields{Severity: &Severity{Label: f.Severity.Label}, Types: f.Types}
	return f
}

func lastOf(sig *signal.Signal) time.Time {
	if sig.Last.Before(sig.First) {
		return sig.First
	}
	return sig.Last
}

func severity(s signal.Severity) Severity {
	return Severity{Label: s.String(), Normalized: s.Normalized()}
}

// SeverityOf returns the signal severity of a finding's label
// (Informational when unknown).
func SeverityOf(f *Finding) signal.Severity {
	s, err := signal.ParseSeverity(f.Severity.Label)
	if err != nil {
		return signal.Informational
	}
	return s
}

// Types returns the ASFF finding types of sig: its tactic path with the
// technique id and detector as classifier, e.g.
// "TTPs/Execution/T1609-k8s-exec".
func Types(sig *signal.Signal) []string {
	tactic := sig.Tactic
	if tactic == "" {
		tactic = "Unusual Behaviors/Container"
	}
	if strings.Count(tactic, "/") == 0 {
		tactic = "TTPs/" + tactic
	}
	classifier := sig.Detector
	if sig.Technique != "" {
		classifier = sig.Technique + "-" + sig.Detector
	}
	return []string{tactic + "/" + classifier}
}

func productFields(sig *signal.Signal) map[string]string {
	pf := map[string]string{
		FieldDetector:  sig.Detector,
		FieldTechnique: sig.Technique,
		FieldWorkload:  sig.Workload,
		FieldCount:     strconv.Itoa(max(sig.Count, 1)),
	}
	if m := sig.Measurement; m != nil {
		pf[FieldObserved] = formatFloat(m.Observed)
		pf[FieldExpected] = formatFloat(m.Expected)
		pf[FieldTrainingPeriod] = m.Trained.Round(time.Minute).String()
		pf["tidewatch/metric"] = m.Metric
		if m.Unit != "" {
			pf[FieldUnit] = m.Unit
		}
		pf["tidewatch/bandLow"] = formatFloat(m.Low)
		pf["tidewatch/bandHigh"] = formatFloat(m.High)
		pf["tidewatch/score"] = formatFloat(m.Score)
		if v, ok := seriesField(m.Series); ok {
			pf[FieldSeries] = v
		}
	}
	if sig.Actor != "" {
		pf["tidewatch/actor"] = sig.Actor
	}
	if sig.Command != "" {
		pf["tidewatch/command"] = sig.Command
	}
	keys := make([]string, 0, len(sig.Fields))
	for k := range sig.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(pf) >= MaxProductFields {
			break
		}
		key := Truncate("tidewatch/"+k, MaxFieldKeyLen)
		if _, taken := pf[key]; !taken {
			pf[key] = sig.Fields[k]
		}
	}
	for k, v := range pf {
		pf[k] = Truncate(v, MaxFieldValueLen)
	}
	return pf
}

// seriesField encodes s for FieldSeries, dropping its oldest steps until
// it fits a product field value.
func seriesField(s *signal.Series) (string, bool) {
	if s == nil || s.Len() == 0 {
		return "", false
	}
	c := *s
	for c.Len() > 0 {
		b, err := json.Marshal(c)
		if err != nil {
			return "", false
		}
		if len(b) <= MaxFieldValueLen {
			return string(b), true
		}
		c.Trim(c.Len() * 3 / 4)
	}
	return "", false
}

// SeriesOf returns the series a finding carries in FieldSeries; false
// when it has none.
func SeriesOf(f *Finding) (*signal.Series, bool, error) {
	v, ok := f.ProductFields[FieldSeries]
	if !ok {
		return nil, false, nil
	}
	var s signal.Series
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, true, fmt.Errorf("finding %s: %s: %w", f.ID, FieldSeries, err)
	}
	return &s, true, nil
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func resources(sig *signal.Signal, partition, region, account string) []Resource {
	var out []Resource
	for _, r := range sig.Resources {
		if len(out) == MaxResources {
			break
		}
		res := Resource{Type: r.Type, ID: r.ID, Partition: partition, Region: region}
		switch r.Type {
		case signal.ResourceContainer:
			res.Details = &ResourceDetails{Container: &ContainerDetails{Name: r.Name, ImageName: r.Image, Privileged: r.Privileged}}
		case signal.ResourceEKSCluster:
			if !strings.HasPrefix(r.ID, "arn:") && isAccount(account) {
				res.ID = "arn:" + partition + ":eks:" + region + ":" + account + ":cluster/" + r.ID
			}
		}
		if len(r.Details) > 0 {
			if res.Details == nil {
				res.Details = &ResourceDetails{}
			}
			res.Details.Other = r.Details
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		out = append(out, Resource{
			Type: signal.ResourceOther, ID: sig.Workload, Partition: partition, Region: region,
			Details: &ResourceDetails{Other: map[string]string{"workload": sig.Workload}},
		})
	}
	return out
}

// isAccount reports a 12-digit AWS account id.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with "…" (three bytes, so a cut string is never shorter than the mark).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// attackURL links the MITRE ATT&CK page of a technique such as T1498.001.
func attackURL(technique string) string {
	if technique == "" || technique[0] != 'T' {
		return ""
	}
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(technique, ".", "/") + "/"
}

// workloadRef parses a workload id, tolerating ids it does not know.
func workloadRef(id string) workload.Ref {
	r, err := workload.Parse(id)
	if err != nil {
		return workload.Ref{Name: id}
	}
	return r
}
