package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Suppressor decides whether a signal is suppressed by configuration or a
// maintenance window. A suppressed finding is still recorded, with
// Workflow.Status SUPPRESSED, and nobody is notified.
type Suppressor interface {
	Suppressed(sig *signal.Signal) (bool, string)
}

// storedFinding is a finding's item: the finding and the evidence already
// folded into it, so a retried batch does not count a signal twice.
type storedFinding struct {
	Finding finding.Finding `json:"finding"`
	Seen    []string        `json:"seen,omitempty"`
}

// maxSeen bounds the evidence keys a finding remembers.
const maxSeen = 256

func evidenceKey(s *signal.Signal) string {
	return fmt.Sprintf("%s|%d|%d|%d", s.Detector, s.First.UnixMilli(), s.Last.UnixMilli(), s.Count)
}

type findingOutcome struct {
	seen       []string
	unchanged  bool
	f          finding.Finding
	created    bool
	raised     bool
	suppressed bool
}

// report turns the batch's signals into findings: one per detector,
// workload and hour, created or updated in the store, then published, and
// notified when new or more severe.
func (p *Pipeline) report(ctx context.Context, sigs []signal.Signal, rep *Report) error {
	if len(sigs) == 0 {
		return nil
	}
	sort.SliceStable(sigs, func(i, j int) bool { return sigs[i].First.Before(sigs[j].First) })
	if err := p.correlateSignals(ctx, sigs); err != nil {
		return err
	}
	byID := map[string][]*signal.Signal{}
	var keys []Key
	for i := range sigs {
		s := &sigs[i]
		id := finding.ID(s.Detector, s.Workload, s.First)
		if _, seen := byID[id]; !seen {
			keys = append(keys, findingKey(id))
		}
		byID[id] = append(byID[id], s)
	}
	now := p.now()
	sup, err := p.suppressorFor(ctx, now)
	if err != nil {
		return err
	}
	outcomes := make(map[string]*findingOutcome, len(byID))
	err = p.store.UpdateMany(ctx, keys, func(k Key, old []byte) ([]byte, time.Time, error) {
		id := k.PK[len("finding#"):]
		out, err := p.fold(id, old, byID[id], now, sup)
		if err != nil {
			return nil, time.Time{}, err
		}
		outcomes[id] = out
		if out.unchanged {
			return nil, time.Time{}, ErrUnchanged
		}
		data, err := json.Marshal(&storedFinding{Finding: out.f, Seen: out.seen})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("encode finding %s: %w", id, err)
		}
		return data, now.Add(p.findingTTL), nil
	})
	if err != nil {
		return fmt.Errorf("update findings: %w", err)
	}

	ids := make([]string, 0, len(outcomes))
	for id := range outcomes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	changed := make([]finding.Finding, 0, len(ids))
	var notify []*findingOutcome
	for _, id := range ids {
		o := outcomes[id]
		changed = append(changed, o.f)
		rep.countFinding(o)
		// Every changed finding is a candidate: the per-severity marker in
		// notify lets through only new findings and severity increases,
		// and lets a retried batch send what a failed attempt did not.
		if !o.suppressed && finding.SeverityOf(&o.f) >= p.minNotify {
			notify = append(notify, o)
		}
	}
	if err := p.publisher.Publish(ctx, changed); err != nil {
		return fmt.Errorf("publish %d findings: %w", len(changed), err)
	}
	return p.notify(ctx, notify, rep)
}

// fold applies the signals of one finding id to its stored state.
func (p *Pipeline) fold(id string, old []byte, sigs []*signal.Signal, now time.Time, sup Suppressor) (*findingOutcome, error) {
	out := &findingOutcome{}
	seen := map[string]bool{}
	if old != nil {
		var st storedFinding
		if err := json.Unmarshal(old, &st); err != nil {
			return nil, fmt.Errorf("decode finding %s: %w", id, err)
		}
		out.f, out.seen = st.Finding, st.Seen
		for _, k := range st.Seen {
			seen[k] = true
		}
		var fresh []*signal.Signal
		for _, s := range sigs {
			if !seen[evidenceKey(s)] {
				fresh = append(fresh, s)
			}
		}
		if len(fresh) == 0 {
			// All of it was folded by an earlier attempt of this batch:
			// publish and notify again, change nothing.
			out.unchanged = true
			out.suppressed = out.f.Workflow != nil && out.f.Workflow.Status == "SUPPRESSED"
			return out, nil
		}
		sigs = fresh
		// Security Hub ignores an update whose UpdatedAt is not later.
		if prev, err := finding.ParseTimestamp(out.f.UpdatedAt); err == nil && !now.After(prev) {
			now = prev.Add(time.Millisecond)
		}
	}
	for i, s := range sigs {
		if k := evidenceKey(s); !seen[k] {
			seen[k] = true
			out.seen = append(out.seen, k)
		}
		if i == 0 && old == nil {
			out.f = finding.New(s, p.findingCtx, now)
			out.created = true
			continue
		}
		if finding.Update(&out.f, s, p.findingCtx, now) {
			out.raised = true
		}
	}
	if len(out.seen) > maxSeen {
		out.seen = out.seen[len(out.seen)-maxSeen:]
	}
	if sup != nil {
		if ok, reason := sup.Suppressed(sigs[len(sigs)-1]); ok {
			out.suppressed = true
			out.f.Workflow = &finding.Workflow{Status: "SUPPRESSED"}
			out.f.Note = &finding.Note{Text: finding.SuppressedNotePrefix + reason, UpdatedBy: finding.ProductName, UpdatedAt: out.f.UpdatedAt}
		}
	}
	return out, nil
}

// notify sends each finding at most once per severity: a marker is taken
// before sending and released if sending fails, so a retried batch neither
// loses nor repeats a message.
func (p *Pipeline) notify(ctx context.Context, outs []*findingOutcome, rep *Report) error {
	if p.notifier == nil || len(outs) == 0 {
		return nil
	}
	var send []finding.Finding
	var taken []Key
	for _, o := range outs {
		k := notifiedKey(o.f.ID, o.f.Severity.Label)
		ok, err := p.store.PutIfAbsent(ctx, Item{Key: k, Data: []byte(o.f.UpdatedAt), Expires: p.now().Add(p.findingTTL)})
		if err != nil {
			return fmt.Errorf("mark notification %s: %w", o.f.ID, err)
		}
		if ok {
			send = append(send, o.f)
			taken = append(taken, k)
		}
	}
	if len(send) == 0 {
		return nil
	}
	if err := p.notifier.Notify(ctx, send); err != nil {
		release := taken
		var pe *PartialError
		if errors.As(err, &pe) {
			failed := make(map[string]bool, len(pe.Failed))
			for _, id := range pe.Failed {
				failed[id] = true
			}
			release = release[:0:0]
			for i, f := range send {
				if failed[f.ID] {
					release = append(release, taken[i])
				}
			}
			rep.Notified += len(send) - len(release)
		}
		for _, k := range release {
			if derr := p.store.Delete(ctx, k); derr != nil {
				return fmt.Errorf("notify %d findings: %w (and releasing marker %s: %v)", len(send), err, k.PK, derr)
			}
		}
		return fmt.Errorf("notify %d findings: %w", len(send), err)
	}
	rep.Notified += len(send)
	return nil
}
