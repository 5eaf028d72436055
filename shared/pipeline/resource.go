package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/resource"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

func resourceKey(w string) Key { return Key{PK: "res#" + w, SK: skState} }

// nodeKey is the item of an EKS node's resource baseline and saturation
// runs (resource.NodeID: <cluster>/<node>).
func nodeKey(id string) Key { return Key{PK: "node#" + id, SK: skState} }

// nodeStateTTL drops the state of a node silent this long: nodes come and
// go far more often than workloads.
const nodeStateTTL = 14 * 24 * time.Hour

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

// addSample keeps a resource sample of an event for the next flush, with
// account the owner of the event's log group. A
// node's samples are kept under the node's key, which no workload id can
// be, beside the workloads' samples.
func (p *Pipeline) addSample(ev *insights.Event, cluster, account string) {
	if cluster == "" {
		cluster = p.defaultCluster
	}
	if ev.Platform == insights.EKS && ev.Type == insights.TypeNode {
		if s, ok := resource.FromEvent("", ev); ok {
			s.Cluster = cluster
			k := nodeKey(resource.NodeID(cluster, s.Node)).PK
			p.samples[k] = append(p.samples[k], s)
			p.nSamples++
		}
		return
	}
	w := p.insightsWorkload(ev, cluster)
	if s, ok := resource.FromEvent(w, ev); ok {
		if s.Node != "" {
			s.Cluster = cluster
		}
		p.samples[w] = append(p.samples[w], s)
		p.nSamples++
		// ECS events name their account; EKS events do not, and the
		// account that owns the log group is theirs.
		if ev.AccountID != "" {
			account = ev.AccountID
		}
		if account != "" {
			p.accounts[w] = account
		}
	}
}

// resourceWork is what a flush does with its resource samples: one batch,
// judged on a read of the baselines and then (commit) as an update, and
// what the read pass computed of the workloads' and the nodes' baselines
// (see apply). b is nil when there are no samples.
type resourceWork struct {
	b                *resource.Batch
	workloads, nodes []string
	next, nodeNext   map[Key]nextState
}

// prepareResources takes the samples kept since the last flush into a
// batch.
func (p *Pipeline) prepareResources() *resourceWork {
	samples := p.samples
	p.samples = map[string][]resource.Sample{}
	p.nSamples = 0
	rw := &resourceWork{next: map[Key]nextState{}, nodeNext: map[Key]nextState{}}
	if len(samples) == 0 {
		return rw
	}
	rw.b = resource.NewBatch(p.resourceCfg)
	for _, ss := range samples {
		rw.b.Add(ss...)
	}
	rw.workloads, rw.nodes = rw.b.Workloads(), rw.b.Nodes()
	return rw
}

// resourceStep judges each workload's resource samples against its
// resource baseline, then each node's against the node's: on a read of the
// state, or (commit) as an update. Workloads go first in both passes: a
// node's culprits are judged against what the workload baselines held
// when the batch reached each hour, which the batch keeps from the read
// pass to the commit pass.
func (p *Pipeline) resourceStep(ctx context.Context, rw *resourceWork, commit bool) ([]signal.Signal, error) {
	if rw.b == nil {
		return nil, nil
	}
	keys := make([]Key, len(rw.workloads))
	for i, w := range rw.workloads {
		keys[i] = resourceKey(w)
	}
	out := map[string][]signal.Signal{}
	now := p.now()
	fn := func(k Key, old []byte) ([]byte, error) {
		w := k.PK[len("res#"):]
		if commit {
			// Another writer changed the baseline since the read pass:
			// what the workload's pods normally take of a node may have
			// changed with it, so the nodes are judged afresh too.
			clear(rw.nodeNext)
		}
		m := resource.NewModel(w)
		if old != nil {
			var err error
			if m, err = baseline.Unmarshal(old); err != nil {
				return nil, fmt.Errorf("resource baseline of %s: %w", w, err)
			}
		}
		out[w] = rw.b.Evaluate(w, m)
		return m.Marshal()
	}
	if len(keys) > 0 {
		if err := p.apply(ctx, keys, rw.next, now.Add(workloadStateTTL), commit, fn); err != nil {
			return nil, fmt.Errorf("resource baselines: %w", err)
		}
	}
	nodeOut := make(map[string][]signal.Signal, len(rw.nodes))
	nodeKeys := make([]Key, len(rw.nodes))
	for i, id := range rw.nodes {
		nodeKeys[i] = nodeKey(id)
	}
	nodeFn := func(k Key, old []byte) ([]byte, error) {
		id := k.PK[len("node#"):]
		m := resource.NewNodeModel(id)
		if old != nil {
			var err error
			if m, err = baseline.Unmarshal(old); err != nil {
				return nil, fmt.Errorf("node baseline of %s: %w", id, err)
			}
		}
		nodeOut[id] = rw.b.EvaluateNode(id, m)
		return m.Marshal()
	}
	if len(nodeKeys) > 0 {
		if err := p.apply(ctx, nodeKeys, rw.nodeNext, now.Add(nodeStateTTL), commit, nodeFn); err != nil {
			return nil, fmt.Errorf("node baselines: %w", err)
		}
	}
	var sigs []signal.Signal
	add := func(s signal.Signal) {
		if s.Account == "" {
			s.Account = p.accounts[s.Workload]
		}
		sigs = append(sigs, s)
	}
	for _, w := range rw.workloads {
		for _, s := range out[w] {
			add(s)
		}
	}
	for _, id := range rw.nodes {
		for _, s := range nodeOut[id] {
			add(s)
		}
	}
	return sigs, nil
}
