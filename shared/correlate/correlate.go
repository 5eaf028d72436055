// Package correlate joins signals of one workload that are close in event
// time: an exec into a pod, an unexpected or privileged container, or a
// port knock, followed by a flood, a beacon or a resource burst from the
// same workload. The later signal names the earlier ones and its severity
// rises one step (HIGH becomes CRITICAL).
//
// Invariants: pure and deterministic; a signal is only ever raised by
// evidence that came before it (or at the same time), within Window; an
// entry signal never raises itself.
package correlate

import (
	"sort"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Window is how long after an entry signal a consequence is joined to it.
const Window = time.Hour

// entries are the detectors whose signals set an attack up.
var entries = map[string]bool{
	"k8s-exec":                 true,
	"k8s-bare-pod":             true,
	"k8s-privileged":           true,
	"k8s-unexpected-container": true,
	"k8s-untrusted-registry":   true,
	"net-port-knock":           true,
}

// IsEntry reports whether a detector's signals can start a chain, so the
// pipeline keeps them for later joins.
func IsEntry(detector string) bool { return entries[detector] }

// isConsequence reports detectors whose signals an entry can explain:
// network floods and signaling, and resource exhaustion.
func isConsequence(detector string) bool {
	return strings.HasPrefix(detector, "net-") && detector != "net-port-knock" || strings.HasPrefix(detector, "res-")
}

// Join raises each consequence signal in sigs that follows, within Window,
// an entry signal of the same workload found in sigs or in earlier (the
// entry signals kept from previous batches). It returns how many it raised.
func Join(sigs []signal.Signal, earlier []signal.Signal) int {
	byWorkload := map[string][]*signal.Signal{}
	for i := range earlier {
		if entries[earlier[i].Detector] {
			byWorkload[earlier[i].Workload] = append(byWorkload[earlier[i].Workload], &earlier[i])
		}
	}
	for i := range sigs {
		if entries[sigs[i].Detector] {
			byWorkload[sigs[i].Workload] = append(byWorkload[sigs[i].Workload], &sigs[i])
		}
	}
	raised := 0
	for i := range sigs {
		s := &sigs[i]
		if !isConsequence(s.Detector) {
			continue
		}
		var causes []*signal.Signal
		seen := map[string]bool{}
		for _, e := range byWorkload[s.Workload] {
			if e.First.After(s.First) || s.First.Sub(e.First) > Window {
				continue
			}
			id := finding.ID(e.Detector, e.Workload, e.First)
			if !seen[id] {
				seen[id] = true
				causes = append(causes, e)
			}
		}
		if len(causes) == 0 {
			continue
		}
		sort.Slice(causes, func(a, b int) bool { return causes[a].First.Before(causes[b].First) })
		var what []string
		for _, c := range causes {
			s.Related = append(s.Related, finding.ID(c.Detector, c.Workload, c.First))
			what = append(what, c.Detector+" at "+c.First.UTC().Format("15:04:05")+" ("+c.Title+")")
		}
		s.Severity = s.Severity.Raise(1)
		s.Title = "Correlated: " + s.Title
		s.Description = "Follows " + strings.Join(what, "; ") + ". " + s.Description
		if s.Fields == nil {
			s.Fields = map[string]string{}
		}
		s.Fields["correlatedWith"] = strings.Join(s.Related, ",")
		raised++
	}
	return raised
}
