package pipeline

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/resource"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

func resourceKey(w string) Key { return Key{PK: "res#" + w, SK: skState} }

// insightsWorkload names the workload of a Container Insights event.
func (p *Pipeline) insightsWorkload(ev *insights.Event, cluster string) string {
	if ev.Platform == insights.ECS {
		if ev.ServiceName != "" {
			return workload.ECSService(cluster, ev.ServiceName)
		}
		return workload.ECSTask(cluster, ev.TaskFamily)
	}
	owners := make([]workload.Owner, 0, len(ev.Owners))
	for _, o := range ev.Owners {
		owners = append(owners, workload.Owner{Kind: o.Kind, Name: o.Name})
	}
	if len(owners) == 0 {
		if w, ok := p.ids.podWorkload(cluster, ev.Namespace, ev.PodName); ok {
			return w
		}
	}
	return workload.ForPod(cluster, ev.Namespace, ev.PodName, owners, ev.Labels)
}

// addSample keeps a resource sample of an event for the next flush.
func (p *Pipeline) addSample(ev *insights.Event, cluster string) {
	if cluster == "" {
		cluster = p.defaultCluster
	}
	w := p.insightsWorkload(ev, cluster)
	if s, ok := resource.FromEvent(w, ev); ok {
		p.samples[w] = append(p.samples[w], s)
		if ev.AccountID != "" {
			p.accounts[w] = ev.AccountID
		}
	}
}

// resourceStep judges each workload's resource samples against its
// resource baseline: on a read of the state, or (commit) as an update.
func (p *Pipeline) resourceStep(ctx context.Context, samples map[string][]resource.Sample, commit bool) ([]signal.Signal, error) {
	if len(samples) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(samples))
	for w := range samples {
		names = append(names, w)
	}
	sort.Strings(names)
	keys := make([]Key, len(names))
	for i, w := range names {
		keys[i] = resourceKey(w)
	}
	out := map[string][]signal.Signal{}
	now := p.now()
	fn := func(k Key, old []byte) ([]byte, time.Time, error) {
		w := k.PK[len("res#"):]
		m := resource.NewModel(w)
		if old != nil {
			var err error
			if m, err = baseline.Unmarshal(old); err != nil {
				return nil, time.Time{}, fmt.Errorf("resource baseline of %s: %w", w, err)
			}
		}
		out[w] = resource.Evaluate(w, samples[w], m, p.resourceCfg)
		if !commit {
			return nil, time.Time{}, nil
		}
		data, err := m.Marshal()
		return data, now.Add(workloadStateTTL), err
	}
	if err := p.apply(ctx, keys, fn, commit); err != nil {
		return nil, fmt.Errorf("resource baselines: %w", err)
	}
	var sigs []signal.Signal
	for _, w := range names {
		for _, s := range out[w] {
			if s.Account == "" {
				s.Account = p.accounts[w]
			}
			sigs = append(sigs, s)
		}
	}
	return sigs, nil
}
