package rules

import (
	"sort"
	"time"
)

// Bounds on what a State remembers, so that its stored size stays small
// whatever the cluster does.
const (
	MaxRegistries = 1024
	MaxDeployers  = 1024
	MaxCalls      = 2048
	// callMemory is how long, in event time, a reported exec call is
	// remembered so that its other stage is not reported again.
	callMemory = 2 * time.Hour
)

// StateVersion is the layout version of State; a State of another version
// should be discarded and relearned.
const StateVersion = 1

// State is what the rules learn about one cluster. It is plain data,
// JSON-serializable and bounded; the pipeline keeps one per cluster,
// loads it before Evaluate and stores it after. The zero value (or
// NewState) starts a warm-up.
type State struct {
	Version int `json:"version"`
	// Started is the event time of the first workload write seen.
	Started time.Time `json:"started,omitzero"`
	// Creates counts the pod and controller creates seen.
	Creates int `json:"creates"`
	// WarmedUp is the event time learning ended, zero while warming up:
	// until then the registry rule learns without alerting.
	WarmedUp time.Time `json:"warmedUp,omitzero"`
	// Registries maps a registry key (a host, or host/namespace on shared
	// registries such as docker.io) to when images from it were seen.
	Registries map[string]Seen `json:"registries,omitempty"`
	// Deployers maps a user name to the workloads it wrote.
	Deployers map[string]Seen `json:"deployers,omitempty"`
	// Calls maps the auditID of an exec, attach or port-forward call
	// already reported to its event time, so that its ResponseStarted and
	// ResponseComplete stages make one signal across batches.
	Calls map[string]time.Time `json:"calls,omitempty"`
}

// Seen records when something was observed, in event time.
type Seen struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count int       `json:"count"`
	// BarePods counts, for a deployer, the pods it created without an
	// owner.
	BarePods int `json:"barePods,omitempty"`
}

// NewState returns an empty State, warming up.
func NewState() *State {
	return &State{Version: StateVersion}
}

// WarmingUp reports whether the registry rule is still learning.
func (s *State) WarmingUp() bool { return s.WarmedUp.IsZero() }

// learned reports whether something first seen at first counts as normal
// at time t: seen during the warm-up, or long enough ago.
func (s *State) learned(first, t time.Time, promote time.Duration) bool {
	if s.WarmedUp.IsZero() {
		return false
	}
	return !first.After(s.WarmedUp) || t.Sub(first) >= promote
}

// observe records one sighting of key in m at t and keeps m within max
// entries, evicting the least recently seen.
func observe(m map[string]Seen, key string, t time.Time, max int) Seen {
	e, ok := m[key]
	if !ok || t.Before(e.First) {
		e.First = t
	}
	if t.After(e.Last) {
		e.Last = t
	}
	e.Count++
	m[key] = e
	if len(m) > max {
		evictOldest(m, len(m)-max, key)
	}
	return e
}

// evictOldest drops n entries with the oldest Last (ties by key), never
// keep.
func evictOldest(m map[string]Seen, n int, keep string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != keep {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := m[keys[i]], m[keys[j]]
		if !a.Last.Equal(b.Last) {
			return a.Last.Before(b.Last)
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[:min(n, len(keys))] {
		delete(m, k)
	}
}

// rememberCall records a reported call and reports whether it was new.
func (s *State) rememberCall(auditID string, t time.Time) bool {
	if auditID == "" {
		return true
	}
	if s.Calls == nil {
		s.Calls = map[string]time.Time{}
	}
	if _, ok := s.Calls[auditID]; ok {
		return false
	}
	s.Calls[auditID] = t
	if len(s.Calls) > MaxCalls {
		s.pruneCalls(t)
	}
	return true
}

// pruneCalls forgets calls older than callMemory before now, then the
// oldest until within MaxCalls.
func (s *State) pruneCalls(now time.Time) {
	for id, t := range s.Calls {
		if now.Sub(t) > callMemory {
			delete(s.Calls, id)
		}
	}
	if over := len(s.Calls) - MaxCalls; over > 0 {
		ids := make([]string, 0, len(s.Calls))
		for id := range s.Calls {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			a, b := s.Calls[ids[i]], s.Calls[ids[j]]
			if !a.Equal(b) {
				return a.Before(b)
			}
			return ids[i] < ids[j]
		})
		for _, id := range ids[:over] {
			delete(s.Calls, id)
		}
	}
}
