// Package signal defines what a detector emits: one observation about one
// workload at one event time, with the numbers that explain it. Signals are
// turned into findings by package finding and joined by package correlate.
package signal

import (
	"fmt"
	"strings"
	"time"
)

// Severity orders how urgently a signal deserves a person's attention. The
// zero value is Informational.
type Severity int

// Severities, lowest first; they map one to one onto ASFF Severity.Label.
const (
	Informational Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the ASFF label, e.g. "HIGH".
func (s Severity) String() string {
	if s < Informational || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// Raise returns s raised by n steps, capped at Critical.
func (s Severity) Raise(n int) Severity {
	r := s + Severity(n)
	if r > Critical {
		return Critical
	}
	if r < Informational {
		return Informational
	}
	return r
}

// Normalized returns the ASFF 0-100 value for the label (the midpoints AWS
// documents for each label's range).
func (s Severity) Normalized() int {
	switch s {
	case Low:
		return 30
	case Medium:
		return 50
	case High:
		return 70
	case Critical:
		return 90
	default:
		return 0
	}
}

// ParseSeverity parses an ASFF label, case-insensitively.
func ParseSeverity(label string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(label, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", label, strings.Join(severityNames[:], ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Resource types, as ASFF Resources[].Type.
const (
	ResourceContainer   = "Container"
	ResourceEKSCluster  = "AwsEksCluster"
	ResourceECSCluster  = "AwsEcsCluster"
	ResourceECSService  = "AwsEcsService"
	ResourceECSTask     = "AwsEcsTask"
	ResourceENI         = "AwsEc2NetworkInterface"
	ResourceEC2Instance = "AwsEc2Instance"
	ResourceOther       = "Other"
)

// Resource is one thing a signal is about: the pod or container, the task,
// the cluster. ID is an ARN where one is known.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// Name is the container, pod or task name, where it differs from ID.
	Name string `json:"name,omitempty"`
	// Image is the container image reference, for Container resources.
	Image string `json:"image,omitempty"`
	// Privileged reports a privileged container.
	Privileged bool `json:"privileged,omitempty"`
	// Details are extra key/value pairs shown with the resource.
	Details map[string]string `json:"details,omitempty"`
}

// Measurement is the explanation of an anomaly score: what was observed
// against what the workload's baseline expected.
type Measurement struct {
	// Metric names what was measured, e.g. "bytes_out_per_min".
	Metric string `json:"metric"`
	// Unit is a human unit, e.g. "bytes/min", "%".
	Unit string `json:"unit,omitempty"`
	// Observed is the value in the window that triggered.
	Observed float64 `json:"observed"`
	// Expected is the baseline's central value for that time (median).
	Expected float64 `json:"expected"`
	// Low and High bound the normal band.
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// Score is how far outside the band, in detector-specific units
	// (robust z-score or CUSUM statistic).
	Score float64 `json:"score"`
	// Trained is how much event time the baseline has learned from.
	Trained time.Duration `json:"trained"`
	// Series is the metric around the alert against its band, when the
	// detector remembers it (nil otherwise).
	Series *Series `json:"series,omitempty"`
}

// Signal is one detection. Detectors fill it; nothing downstream mutates
// the evidence, only severity (correlation) and suppression state.
type Signal struct {
	// Detector is the stable id of the rule or detector, e.g.
	// "k8s-exec", "net-flood". It is part of the finding id.
	Detector string `json:"detector"`
	// Technique is the MITRE ATT&CK id, e.g. "T1498.001".
	Technique string `json:"technique"`
	// Tactic is the ASFF Types category, e.g. "Execution",
	// "Privilege Escalation"; see finding.Types.
	Tactic string `json:"tactic,omitempty"`
	// Workload is the canonical workload id (package workload).
	Workload string `json:"workload"`
	// Account is the AWS account the evidence came from (the CloudWatch
	// Logs batch owner), when known.
	Account string `json:"account,omitempty"`
	// Region is the AWS region of the evidence, when known.
	Region string `json:"region,omitempty"`
	// First and Last bound the evidence in event time.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Severity before correlation.
	Severity Severity `json:"severity"`
	// Title is one line a person understands at a glance.
	Title string `json:"title"`
	// Description states what was seen, against what is normal, with
	// numbers, who and which command or image.
	Description string `json:"description"`
	// Actor is who did it, for audit signals (user name or ARN).
	Actor string `json:"actor,omitempty"`
	// Command is a decoded command line, when the evidence has one.
	Command string `json:"command,omitempty"`
	// Count is how many occurrences the signal stands for (>= 1).
	Count int `json:"count"`
	// Measurement explains anomaly signals; nil for rule signals.
	Measurement *Measurement `json:"measurement,omitempty"`
	// Resources involved, most specific first.
	Resources []Resource `json:"resources,omitempty"`
	// Fields are extra evidence, written to ProductFields as
	// "tidewatch/<key>" (keys are short camelCase words).
	Fields map[string]string `json:"fields,omitempty"`
	// Related names the finding ids of other signals this one was
	// correlated with (package correlate).
	Related []string `json:"related,omitempty"`
}

// Key identifies the signals that update one finding: same detector, same
// workload, same event-time hour.
func (s *Signal) Key() string {
	return s.Detector + "|" + s.Workload + "|" + s.First.UTC().Truncate(time.Hour).Format(time.RFC3339)
}
