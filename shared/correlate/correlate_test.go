package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

var t0 = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

func sig(det, w string, at time.Duration, sev signal.Severity) signal.Signal {
	return signal.Signal{Detector: det, Workload: w, First: t0.Add(at), Last: t0.Add(at), Severity: sev, Title: det, Description: "d."}
}

func TestJoin(t *testing.T) {
	const cart, api = "eks/prod/shop/Deployment/cart", "eks/prod/payments/Deployment/api"
	tests := []struct {
		name    string
		sigs    []signal.Signal
		earlier []signal.Signal
		want    []signal.Severity // of sigs, after Join
	}{
		{"exec then flood in one batch", []signal.Signal{sig("k8s-exec", cart, 0, signal.High), sig("net-flood", cart, 2*time.Minute, signal.High)}, nil,
			[]signal.Severity{signal.High, signal.Critical}},
		{"exec kept by another invocation", []signal.Signal{sig("net-flood", cart, 2*time.Minute, signal.High)}, []signal.Signal{sig("k8s-exec", cart, 0, signal.Medium)},
			[]signal.Severity{signal.Critical}},
		{"knock then beacon", []signal.Signal{sig("net-beacon", api, 30*time.Minute, signal.Medium)}, []signal.Signal{sig("net-port-knock", api, 0, signal.High)},
			[]signal.Severity{signal.High}},
		{"unexpected container then CPU burst", []signal.Signal{sig("k8s-unexpected-container", cart, 0, signal.High), sig("res-cpu", cart, 5*time.Minute, signal.High)}, nil,
			[]signal.Severity{signal.High, signal.Critical}},
		{"other workload", []signal.Signal{sig("net-flood", api, 2*time.Minute, signal.High)}, []signal.Signal{sig("k8s-exec", cart, 0, signal.Medium)},
			[]signal.Severity{signal.High}},
		{"flood before the exec", []signal.Signal{sig("net-flood", cart, 0, signal.High)}, []signal.Signal{sig("k8s-exec", cart, time.Minute, signal.Medium)},
			[]signal.Severity{signal.High}},
		{"too long after", []signal.Signal{sig("net-flood", cart, 2*time.Hour, signal.High)}, []signal.Signal{sig("k8s-exec", cart, 0, signal.Medium)},
			[]signal.Severity{signal.High}},
		{"entries are not raised", []signal.Signal{sig("k8s-exec", cart, 0, signal.Medium), sig("k8s-privileged", cart, time.Minute, signal.High)}, nil,
			[]signal.Severity{signal.Medium, signal.High}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Join(tt.sigs, tt.earlier)
			for i, s := range tt.sigs {
				if s.Severity != tt.want[i] {
					t.Errorf("%s: severity %s, want %s", s.Detector, s.Severity, tt.want[i])
				}
				raised := s.Severity != tt.want[i] || len(s.Related) > 0
				if raised && (!strings.HasPrefix(s.Title, "Correlated: ") || s.Fields["correlatedWith"] == "") {
					t.Errorf("%s: raised without naming its evidence: %+v", s.Detector, s)
				}
			}
		})
	}
}

func TestJoinNamesTheEntryFinding(t *testing.T) {
	exec := sig("k8s-exec", "w", 0, signal.Medium)
	sigs := []signal.Signal{sig("net-syn-flood", "w", time.Minute, signal.High)}
	Join(sigs, []signal.Signal{exec})
	want := finding.ID("k8s-exec", "w", t0)
	if len(sigs[0].Related) != 1 || sigs[0].Related[0] != want {
		t.Errorf("Related = %v, want [%s]", sigs[0].Related, want)
	}
	if !strings.Contains(sigs[0].Description, "k8s-exec at 10:00:00") {
		t.Errorf("description does not name the exec: %q", sigs[0].Description)
	}
	f := finding.New(&sigs[0], finding.Context{}, t0)
	if len(f.RelatedFindings) != 1 || f.RelatedFindings[0].ID != want || f.Severity.Label != "CRITICAL" {
		t.Errorf("finding: related %+v, severity %s", f.RelatedFindings, f.Severity.Label)
	}
}
