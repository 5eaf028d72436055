package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tidewatch/tidewatch/shared/correlate"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// signalTTL is how long entry signals are kept for joins: well past
// correlate.Window, for late logs.
const signalTTL = 24 * time.Hour

func signalPK(workload string) string { return "sig#" + workload }

// correlateSignals joins the batch's signals with the entry signals other
// invocations (the audit function, earlier batches) kept in the store, then
// keeps this batch's entry signals for later ones.
func (p *Pipeline) correlateSignals(ctx context.Context, sigs []signal.Signal) error {
	need := map[string]bool{}
	for i := range sigs {
		if !correlate.IsEntry(sigs[i].Detector) {
			need[sigs[i].Workload] = true
		}
	}
	workloads := make([]string, 0, len(need))
	for w := range need {
		workloads = append(workloads, w)
	}
	sort.Strings(workloads)
	var earlier []signal.Signal
	for _, w := range workloads {
		items, err := p.store.Query(ctx, signalPK(w), "")
		if err != nil {
			return fmt.Errorf("read signals of %s: %w", w, err)
		}
		for _, it := range items {
			var s signal.Signal
			if err := json.Unmarshal(it.Data, &s); err != nil {
				return fmt.Errorf("decode signal %s %s: %w", it.PK, it.SK, err)
			}
			earlier = append(earlier, s)
		}
	}
	correlate.Join(sigs, earlier)

	var keep []Item
	for i := range sigs {
		s := &sigs[i]
		if !correlate.IsEntry(s.Detector) {
			continue
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		keep = append(keep, Item{Key: Key{PK: signalPK(s.Workload), SK: evidenceKey(s)}, Data: data, Expires: p.now().Add(signalTTL)})
	}
	if err := p.store.PutMany(ctx, keep); err != nil {
		return fmt.Errorf("keep signals: %w", err)
	}
	return nil
}
