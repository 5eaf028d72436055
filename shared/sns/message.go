package sns

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// Message limits (SNS Publish).
const (
	MaxMessageBytes = 256 << 10
	MaxSubjectLen   = 100
)

// maxChatTitle keeps chat titles to one readable line.
const maxChatTitle = 250

// ChatNotification is the AWS Chatbot custom notification schema.
type ChatNotification struct {
	Version  string       `json:"version"`
	Source   string       `json:"source"`
	ID       string       `json:"id,omitempty"`
	Content  ChatContent  `json:"content"`
	Metadata ChatMetadata `json:"metadata"`
}

// ChatContent is the visible part of a chat notification.
type ChatContent struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatMetadata threads and labels a chat notification.
type ChatMetadata struct {
	ThreadID          string            `json:"threadId"`
	Summary           string            `json:"summary"`
	EventType         string            `json:"eventType"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// ConsoleURL links the finding in the Security Hub console of region: the
// findings page filtered on Id EQUALS id. The console reads the search
// value URL-encoded twice, operator and id alike.
func ConsoleURL(region, id string) string {
	v := url.QueryEscape(url.QueryEscape(`\operator\:EQUALS\:` + id))
	return "https://" + region + ".console.aws.amazon.com/securityhub/home?region=" + region + "#/findings?search=Id%3D" + v
}

// Subject is the e-mail subject for f: "[SEVERITY] title", printable
// ASCII on one line, at most 100 characters.
func Subject(f *finding.Finding) string {
	s := "[" + f.Severity.Label + "] " + f.Title
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r < 0x20 || r > 0x7e:
			r = '?'
		}
		space = false
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if len(out) > MaxSubjectLen {
		out = strings.TrimSpace(out[:MaxSubjectLen-3]) + "..."
	}
	if out == "" {
		out = "tidewatch finding"
	}
	return out
}

// limits bound the free text of one message; Build halves them until the
// message fits.
type limits struct {
	desc  int // description characters
	field int // each evidence value
}

// Build returns the Subject and the JSON-structured Message for f.
// region is used for the console link when the finding names none.
func Build(f *finding.Finding, region string) (subject, message string, err error) {
	if f.Region != "" {
		region = f.Region
	}
	lim := limits{desc: finding.MaxDescriptionLen, field: finding.MaxFieldValueLen}
	for {
		message, err = build(f, region, lim)
		if err != nil {
			return "", "", err
		}
		if len(message) <= MaxMessageBytes {
			return Subject(f), message, nil
		}
		if lim.desc <= 32 && lim.field <= 32 {
			return "", "", fmt.Errorf("sns: message for %s is %d bytes even trimmed", f.ID, len(message))
		}
		lim.desc, lim.field = max(lim.desc/2, 32), max(lim.field/2, 32)
	}
}

func build(f *finding.Finding, region string, lim limits) (string, error) {
	g := *f
	g.Description = finding.Truncate(g.Description, lim.desc)
	if g.ProductFields != nil {
		pf := make(map[string]string, len(g.ProductFields))
		for k, v := range g.ProductFields {
			pf[k] = finding.Truncate(v, lim.field)
		}
		g.ProductFields = pf
	}
	machine, err := json.Marshal(&g)
	if err != nil {
		return "", fmt.Errorf("sns: encode %s: %w", f.ID, err)
	}
	chat, err := json.Marshal(Chat(&g, region))
	if err != nil {
		return "", fmt.Errorf("sns: encode %s: %w", f.ID, err)
	}
	msg, err := json.Marshal(map[string]string{
		"default": string(chat),
		"https":   string(chat),
		"email":   Email(&g, region),
		"lambda":  string(machine),
		"sqs":     string(machine),
	})
	if err != nil {
		return "", fmt.Errorf("sns: encode %s: %w", f.ID, err)
	}
	return string(msg), nil
}

// Chat returns the chat notification for f.
func Chat(f *finding.Finding, region string) ChatNotification {
	pf := f.ProductFields
	var d strings.Builder
	fmt.Fprintf(&d, "*Severity:* %s", f.Severity.Label)
	if f.Severity.Normalized > 0 {
		fmt.Fprintf(&d, " (%d/100)", f.Severity.Normalized)
	}
	d.WriteString("\n")
	if t := pf[finding.FieldTechnique]; t != "" {
		fmt.Fprintf(&d, "*Technique:* %s\n", t)
	}
	if w := pf[finding.FieldWorkload]; w != "" {
		fmt.Fprintf(&d, "*Workload:* `%s`\n", w)
	}
	if ev := evidence(f); ev != "" {
		fmt.Fprintf(&d, "*Evidence:* %s\n", ev)
	}
	if f.FirstObservedAt != "" {
		fmt.Fprintf(&d, "*Seen:* %s – %s\n", f.FirstObservedAt, f.LastObservedAt)
	}
	d.WriteString("\n" + f.Description + "\n\n")
	fmt.Fprintf(&d, "<%s|Open in Security Hub>", ConsoleURL(region, f.ID))

	n := ChatNotification{
		Version: "1.0",
		Source:  "custom",
		ID:      f.ID,
		Content: ChatContent{
			TextType:    "client-markdown",
			Title:       finding.Truncate(":rotating_light: "+f.Title, maxChatTitle),
			Description: d.String(),
			NextSteps:   steps(f),
		},
		Metadata: ChatMetadata{
			ThreadID:  f.ID,
			Summary:   "[" + f.Severity.Label + "] " + f.Title,
			EventType: "tidewatch/" + pf[finding.FieldDetector],
			AdditionalContext: map[string]string{
				"findingId": f.ID,
				"account":   f.AwsAccountID,
				"region":    region,
				"console":   ConsoleURL(region, f.ID),
			},
		},
	}
	if w := pf[finding.FieldWorkload]; w != "" {
		n.Metadata.AdditionalContext["workload"] = w
	}
	for _, kw := range []string{f.Severity.Label, pf[finding.FieldTechnique], pf[finding.FieldDetector]} {
		if kw != "" {
			n.Content.Keywords = append(n.Content.Keywords, kw)
		}
	}
	for _, r := range f.Resources {
		n.Metadata.RelatedResources = append(n.Metadata.RelatedResources, r.ID)
	}
	return n
}

// evidence is the one line of numbers: observed against expected.
func evidence(f *finding.Finding) string {
	pf := f.ProductFields
	obs, exp := pf[finding.FieldObserved], pf[finding.FieldExpected]
	if obs == "" {
		if c := pf[finding.FieldCount]; c != "" && c != "1" {
			return c + " occurrences"
		}
		return ""
	}
	s := fmt.Sprintf("%s %s observed, normal %s", human(obs), pf["tidewatch/metric"], human(exp))
	if lo, hi := pf["tidewatch/bandLow"], pf["tidewatch/bandHigh"]; lo != "" && hi != "" {
		s += fmt.Sprintf(" (band %s–%s)", human(lo), human(hi))
	}
	if tp := pf[finding.FieldTrainingPeriod]; tp != "" {
		s += ", learned over " + tp
	}
	return s
}

// human shortens a decimal number: 9100000000 → 9.1G.
func human(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	for _, u := range []struct {
		n   float64
		sfx string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.n || v <= -u.n {
			return strconv.FormatFloat(v/u.n, 'g', 3, 64) + u.sfx
		}
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// steps splits the remediation text "1) ... 2) ..." into its steps.
func steps(f *finding.Finding) []string {
	if f.Remediation == nil {
		return nil
	}
	text := f.Remediation.Recommendation.Text
	var out []string
	for i := 1; ; i++ {
		mark := strconv.Itoa(i) + ") "
		next := strconv.Itoa(i+1) + ") "
		start := strings.Index(text, mark)
		if start < 0 {
			break
		}
		rest := text[start+len(mark):]
		end := strings.Index(rest, next)
		if end < 0 {
			end = len(rest)
		}
		out = append(out, strings.TrimSpace(rest[:end]))
		text = rest[end:]
	}
	if len(out) == 0 && text != "" {
		out = []string{text}
	}
	if u := f.Remediation.Recommendation.URL; u != "" {
		out = append(out, "Technique reference: "+u)
	}
	return out
}

// Email is the plain-text report for f.
func Email(f *finding.Finding, region string) string {
	pf := f.ProductFields
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-11s %s\n", label+":", v)
		}
	}
	b.WriteString(f.Title + "\n" + strings.Repeat("=", min(len(f.Title), 72)) + "\n\n")
	line("Severity", f.Severity.Label)
	line("Workload", pf[finding.FieldWorkload])
	line("Technique", pf[finding.FieldTechnique])
	line("Detector", pf[finding.FieldDetector])
	line("Account", f.AwsAccountID)
	line("Region", region)
	line("First seen", f.FirstObservedAt)
	line("Last seen", f.LastObservedAt)
	line("Count", pf[finding.FieldCount])
	b.WriteString("\nWhat was seen\n-------------\n" + f.Description + "\n")
	if ev := evidence(f); ev != "" {
		b.WriteString("\nSeen against normal: " + ev + "\n")
	}
	if len(f.Resources) > 0 {
		b.WriteString("\nResources\n---------\n")
		for _, r := range f.Resources {
			fmt.Fprintf(&b, "- %s %s\n", r.Type, r.ID)
		}
	}
	if st := steps(f); len(st) > 0 {
		b.WriteString("\nWhat to do\n----------\n")
		for i, s := range st {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
	}
	var extra []string
	for k, v := range pf {
		switch k {
		case finding.FieldWorkload, finding.FieldTechnique, finding.FieldDetector, finding.FieldCount:
			continue
		}
		extra = append(extra, fmt.Sprintf("  %s = %s", strings.TrimPrefix(k, "tidewatch/"), v))
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		b.WriteString("\nEvidence\n--------\n" + strings.Join(extra, "\n") + "\n")
	}
	b.WriteString("\nFinding in Security Hub:\n" + ConsoleURL(region, f.ID) + "\n\nFinding id: " + f.ID + "\n")
	return b.String()
}
