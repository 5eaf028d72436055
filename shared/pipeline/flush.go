package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/baseline"
	"github.com/tidewatch/tidewatch/shared/detect"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/rules"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/window"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// flowEntry is what a flush needs of one buffered flow record: a quarter
// of a flowlog.Record, since a replay buffers a hundred thousand of them.
// Its strings are the parser's interned ones.
type flowEntry struct {
	src, dst         netip.Addr
	start            int64
	bytes, packets   int64
	srcPort, dstPort int32
	protocol         int16
	synOnly          bool
	accepted         bool
	direction        flowlog.FlowDirection
	eni              string
	account          string
	// ecs is the workload of an ECS task's record, named from the record
	// alone; empty for other records.
	ecs string
}

// newFlowEntry keeps what a flush needs of r.
func (p *Pipeline) newFlowEntry(r *flowlog.Record, account string) flowEntry {
	if r.AccountID != "" && r.AccountID != "-" {
		account = r.AccountID
	}
	return flowEntry{
		src: r.Src(), dst: r.Dst(), start: r.Start, bytes: r.Bytes, packets: r.Packets,
		srcPort: r.SrcPort, dstPort: r.DstPort, protocol: r.Protocol,
		synOnly: r.SYNOnly(), accepted: r.Action == flowlog.ActionAccept, direction: r.FlowDirection,
		eni: r.InterfaceID, account: account, ecs: p.ecsWorkload(r),
	}
}

type auditEntry struct {
	ev      k8saudit.Event
	cluster string
	account string
}

type ownerRef = workload.Owner

// workloadStateTTL drops the state of a workload silent this long.
const workloadStateTTL = 60 * 24 * time.Hour

// podOwners learns the workload of a pod.
func (p *Pipeline) podOwners(cluster, ns, pod string, owners []workload.Owner, labels map[string]string, t time.Time) {
	if cluster == "" {
		cluster = p.defaultCluster
	}
	w := workload.ForPod(cluster, ns, pod, owners, labels)
	if prev, ok := p.ids.podWorkload(cluster, ns, pod); ok && prev == w {
		return
	}
	p.ids.learnPod(cluster, ns, pod, w, t)
}

// Flush processes everything added since the last Flush and returns what
// it did. On error the batch should be retried as a whole.
//
// Order matters for retries: detectors first run on a read of the state,
// the findings are reported, and only then is the learned state written.
// A batch that fails before the end leaves the state as it was, so its
// retry finds the same signals again (findings remember the evidence they
// folded, and notifications are marked, so nothing is counted or sent
// twice).
func (p *Pipeline) Flush(ctx context.Context) (Report, error) {
	return p.flush(ctx, false)
}

// Finish flushes, then closes every open window of every workload this
// pipeline has seen, as at the end of a replay.
func (p *Pipeline) Finish(ctx context.Context) (Report, error) {
	rep, err := p.flush(ctx, false)
	if err != nil {
		return rep, err
	}
	last, err := p.flush(ctx, true)
	rep.Add(last)
	return rep, err
}

func (p *Pipeline) flush(ctx context.Context, closeAll bool) (Report, error) {
	rep := p.rep
	p.rep = Report{}
	defer func() {
		p.flows = p.flows[:0]
		p.audit = p.audit[:0]
	}()
	audit, err := p.prepareAudit(ctx)
	if err != nil {
		return rep, err
	}
	flows, err := p.prepareFlows(ctx, closeAll)
	if err != nil {
		return rep, err
	}
	res := p.prepareResources()
	var sigs []signal.Signal
	if sigs, err = p.auditStep(ctx, audit, false); err != nil {
		return rep, err
	}
	flowSigs, err := p.windowStep(ctx, flows, false)
	if err != nil {
		return rep, err
	}
	sigs = append(sigs, flowSigs...)
	resSigs, err := p.resourceStep(ctx, res, false)
	if err != nil {
		return rep, err
	}
	sigs = append(sigs, resSigs...)
	rep.Signals += len(sigs)
	if err := p.ids.save(ctx, p.store, p.now()); err != nil {
		return rep, err
	}
	if !p.learnOnly {
		if err := p.report(ctx, sigs, &rep); err != nil {
			return rep, err
		}
	}
	if _, err := p.auditStep(ctx, audit, true); err != nil {
		return rep, err
	}
	if _, err := p.windowStep(ctx, flows, true); err != nil {
		return rep, err
	}
	if _, err := p.resourceStep(ctx, res, true); err != nil {
		return rep, err
	}
	return rep, nil
}

// auditWork is what a flush does with its audit events: per cluster, the
// events to judge; next is what the read pass computed (see apply).
type auditWork struct {
	clusters  []string
	byCluster map[string][]k8saudit.Event
	next      map[Key]nextState
}

// prepareAudit learns identities from the batch's audit events and groups
// them by cluster for the rules.
func (p *Pipeline) prepareAudit(ctx context.Context) (*auditWork, error) {
	w := &auditWork{byCluster: map[string][]k8saudit.Event{}, next: map[Key]nextState{}}
	if len(p.audit) == 0 {
		return w, nil
	}
	var execPods []Key
	for i := range p.audit {
		a := &p.audit[i]
		ev := &a.ev
		if ns, pod, ips, ok := ev.PodIPs(); ok {
			for _, ip := range ips {
				p.ids.learnIP(ip, a.cluster, ns, pod, ev.Time())
			}
		}
		if obj, ok := ev.Workload(); ok && obj.Kind == workload.KindPod && obj.Name != "" {
			p.podOwners(a.cluster, obj.Namespace, obj.Name, obj.OwnerReferences, obj.Labels, ev.Time())
		}
		if ex, ok := ev.Exec(); ok {
			execPods = append(execPods, podKey(a.cluster, ex.Namespace, ex.Pod))
		}
		if _, seen := w.byCluster[a.cluster]; !seen {
			w.clusters = append(w.clusters, a.cluster)
		}
		w.byCluster[a.cluster] = append(w.byCluster[a.cluster], *ev)
	}
	sort.Strings(w.clusters)
	return w, p.ids.fetchPods(ctx, p.store, execPods)
}

// auditStep runs the rules, cluster by cluster, with each cluster's learned
// state: on a read of it, or (commit) as an update that writes it.
func (p *Pipeline) auditStep(ctx context.Context, w *auditWork, commit bool) ([]signal.Signal, error) {
	if len(w.clusters) == 0 {
		return nil, nil
	}
	keys := make([]Key, len(w.clusters))
	for i, c := range w.clusters {
		keys[i] = rulesKey(c)
	}
	out := map[string][]signal.Signal{}
	fn := func(k Key, old []byte) ([]byte, error) {
		cluster := k.PK[len("rules#"):]
		st := rules.NewState()
		if old != nil {
			if err := json.Unmarshal(old, st); err != nil {
				return nil, fmt.Errorf("decode rules state of %s: %w", cluster, err)
			}
		}
		out[cluster] = p.engine.EvaluateAll(w.byCluster[cluster], cluster, st)
		return json.Marshal(st)
	}
	// The rules state never expires.
	if err := p.apply(ctx, keys, w.next, time.Time{}, commit, fn); err != nil {
		return nil, fmt.Errorf("rules state: %w", err)
	}
	var sigs []signal.Signal
	for _, c := range w.clusters {
		for _, s := range out[c] {
			if s.Account == "" {
				s.Account = p.accountOf(c)
			}
			sigs = append(sigs, s)
		}
	}
	return sigs, nil
}

// nextState is a state item as a read pass found it and the new state it
// computed from it; data nil: unchanged.
type nextState struct {
	old, data []byte
}

// apply computes with fn the new state of each of keys from its current
// value (nil when absent; fn returns nil data to leave it unchanged): on a
// read of the items that writes nothing, keeping in next what it computed
// from what, or (commit) as an update that writes it to expire at expires
// (never when zero). The commit pass writes what the read pass computed as
// it is, and computes afresh only an item another writer changed in
// between.
func (p *Pipeline) apply(ctx context.Context, keys []Key, next map[Key]nextState, expires time.Time, commit bool, fn func(k Key, old []byte) ([]byte, error)) error {
	if commit {
		return p.store.UpdateMany(ctx, keys, func(k Key, old []byte) ([]byte, time.Time, error) {
			n, ok := next[k]
			if !ok || !bytes.Equal(n.old, old) {
				data, err := fn(k, old)
				if err != nil {
					return nil, time.Time{}, err
				}
				n.data = data
			}
			if n.data == nil {
				return nil, time.Time{}, ErrUnchanged
			}
			return n.data, expires, nil
		})
	}
	items, err := p.store.GetMany(ctx, keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		var old []byte
		if it, ok := items[k]; ok {
			old = it.Data
		}
		data, err := fn(k, old)
		if err != nil {
			return err
		}
		next[k] = nextState{old: old, data: data}
	}
	return nil
}

func (p *Pipeline) accountOf(cluster string) string {
	for i := range p.audit {
		if p.audit[i].cluster == cluster && p.audit[i].account != "" {
			return p.audit[i].account
		}
	}
	return ""
}

// side is one end of a flow that belongs to a workload of ours.
type side struct {
	local, peer         netip.Addr
	localPort, peerPort int32
	dir                 window.Direction
}

// sides returns the ends of r that are ours: by flow-direction where the
// format has it, else the internal end of an internal/external pair, else
// both ends of an internal pair.
func sides(r *flowEntry, buf *[2]side) []side {
	src, dst := r.src, r.dst
	out := side{local: src, peer: dst, localPort: r.srcPort, peerPort: r.dstPort, dir: window.Out}
	in := side{local: dst, peer: src, localPort: r.dstPort, peerPort: r.srcPort, dir: window.In}
	switch {
	case r.direction == flowlog.DirectionEgress:
		buf[0] = out
		return buf[:1]
	case r.direction == flowlog.DirectionIngress:
		buf[0] = in
		return buf[:1]
	}
	si, di := isInternal(src), isInternal(dst)
	switch {
	case si && !di:
		buf[0] = out
		return buf[:1]
	case di && !si:
		buf[0] = in
		return buf[:1]
	case si && di:
		buf[0], buf[1] = out, in
		return buf[:2]
	}
	buf[0] = out
	return buf[:1]
}

type ecsKey struct{ cluster, service, family string }
type vpcKey struct {
	eni  string
	addr netip.Addr
}

// ecsWorkload names the workload of an ECS task's record (its service, else
// its task family); empty for a record of no ECS task.
func (p *Pipeline) ecsWorkload(r *flowlog.Record) string {
	if t := r.ECSTaskID; t == "" || t == "-" {
		return ""
	}
	k := ecsKey{cluster: r.ECSClusterName}
	if r.ECSServiceName != "" && r.ECSServiceName != "-" {
		k.service = r.ECSServiceName
	} else {
		k.family = taskFamily(r.ECSTaskDefinitionARN)
	}
	if w, ok := p.ecsIDs[k]; ok {
		return w
	}
	var w string
	if k.service != "" {
		w = workload.ECSService(k.cluster, k.service)
	} else {
		w = workload.ECSTask(k.cluster, k.family)
	}
	p.ecsIDs[k] = w
	return w
}

// workloadOf names the workload of one side of r.
func (p *Pipeline) workloadOf(r *flowEntry, s *side) string {
	if r.ecs != "" {
		return r.ecs
	}
	if res, ok := p.ids.lookup(s.local); ok && res.workload != "" {
		return res.workload
	}
	k := vpcKey{eni: r.eni, addr: s.local}
	if w, ok := p.vpcIDs[k]; ok {
		return w
	}
	w := workload.VPC(r.eni, s.local)
	p.vpcIDs[k] = w
	return w
}

// taskFamily extracts the family of an ECS task definition ARN
// (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>).
func taskFamily(arn string) string {
	_, rest, ok := strings.Cut(arn, "task-definition/")
	if !ok {
		return "unknown"
	}
	fam, _, _ := strings.Cut(rest, ":")
	return fam
}

// flowWork is what a flush does with flows: the partial windows per
// workload, and which workloads to update; next is what the read pass
// computed (see apply).
type flowWork struct {
	partials map[string][]window.Partial
	names    []string
	closeAll bool
	next     map[Key]nextState
}

// prepareFlows resolves the buffered flow records to workloads and
// aggregates them per workload and minute. With closeAll, every workload
// seen is to have all its windows closed (end of a replay).
func (p *Pipeline) prepareFlows(ctx context.Context, closeAll bool) (*flowWork, error) {
	if len(p.flows) > 0 {
		var buf [2]side
		addrs := make([]netip.Addr, 0, 64)
		seen := map[netip.Addr]bool{}
		for i := range p.flows {
			for _, s := range sides(&p.flows[i], &buf) {
				if !seen[s.local] {
					seen[s.local] = true
					addrs = append(addrs, s.local)
				}
			}
		}
		if err := p.ids.fetch(ctx, p.store, addrs, p.now()); err != nil {
			return nil, err
		}
		for i := range p.flows {
			r := &p.flows[i]
			for _, s := range sides(r, &buf) {
				w := p.workloadOf(r, &s)
				if _, ok := p.accounts[w]; !ok {
					p.accounts[w] = r.account
				}
				p.agg.Add(window.Flow{
					Workload: w, Time: time.Unix(r.start, 0).UTC(), Direction: s.dir,
					Peer: s.peer, PeerPort: int(s.peerPort), LocalPort: int(s.localPort), Protocol: int(r.protocol),
					Bytes: r.bytes, Packets: r.packets, Accepted: r.accepted,
					SYNOnly: r.synOnly, PeerExternal: !isInternal(s.peer),
				})
			}
		}
	}
	fw := &flowWork{partials: map[string][]window.Partial{}, closeAll: closeAll, next: map[Key]nextState{}}
	for _, pt := range p.agg.Partials() {
		fw.partials[pt.Workload] = append(fw.partials[pt.Workload], pt)
		p.touched[pt.Workload] = true
	}
	if closeAll {
		for w := range p.touched {
			fw.names = append(fw.names, w)
		}
	} else {
		for w := range fw.partials {
			fw.names = append(fw.names, w)
		}
	}
	sort.Strings(fw.names)
	return fw, nil
}

// windowStep merges the partial windows into each workload's open windows,
// closes those past the watermark and evaluates them against the
// workload's baseline: on a read of the state, or (commit) as an update
// that writes it.
func (p *Pipeline) windowStep(ctx context.Context, fw *flowWork, commit bool) ([]signal.Signal, error) {
	if len(fw.names) == 0 {
		return nil, nil
	}
	keys := make([]Key, len(fw.names))
	for i, w := range fw.names {
		keys[i] = windowKey(w)
	}
	watermark := p.eventClock
	out := map[string][]signal.Signal{}
	fn := func(k Key, old []byte) ([]byte, error) {
		w := k.PK[len("win#"):]
		open, model, err := decodeWorkloadState(w, old, p.detectCfg.Lateness)
		if err != nil {
			return nil, err
		}
		for _, pt := range fw.partials[w] {
			if err := open.Merge(pt); err != nil {
				return nil, fmt.Errorf("merge window of %s: %w", w, err)
			}
		}
		var wins []window.Window
		if fw.closeAll {
			wins = open.CloseAll()
		} else {
			wins = open.Close(watermark)
		}
		if len(wins) == 0 && len(fw.partials[w]) == 0 {
			return nil, nil
		}
		out[w] = detect.Evaluate(w, wins, model, p.detectCfg)
		return encodeWorkloadState(&open, model)
	}
	if err := p.apply(ctx, keys, fw.next, p.now().Add(workloadStateTTL), commit, fn); err != nil {
		return nil, fmt.Errorf("workload windows: %w", err)
	}
	var sigs []signal.Signal
	for _, w := range fw.names {
		for _, s := range out[w] {
			if s.Account == "" {
				s.Account = p.accounts[w]
			}
			sigs = append(sigs, s)
		}
	}
	return sigs, nil
}

// The state of a workload is one item: its open minutes and its baseline,
// written together so that a window is learned exactly when it leaves the
// open set.
const stateVersion = 1

func decodeWorkloadState(w string, data []byte, lateness time.Duration) (window.Open, *baseline.Model, error) {
	open := window.Open{Workload: w, Lateness: lateness}
	if data == nil {
		return open, baseline.New(w), nil
	}
	if len(data) < 5 || data[0] != stateVersion {
		return open, nil, fmt.Errorf("state of %s: unknown encoding", w)
	}
	n := binary.BigEndian.Uint32(data[1:5])
	if int(n) > len(data)-5 {
		return open, nil, fmt.Errorf("state of %s: truncated", w)
	}
	if err := open.UnmarshalBinary(data[5 : 5+n]); err != nil {
		return open, nil, fmt.Errorf("state of %s: open windows: %w", w, err)
	}
	open.Lateness = lateness
	model, err := baseline.Unmarshal(data[5+n:])
	if err != nil {
		return open, nil, fmt.Errorf("state of %s: baseline: %w", w, err)
	}
	return open, model, nil
}

func encodeWorkloadState(open *window.Open, model *baseline.Model) ([]byte, error) {
	o, err := open.MarshalBinary()
	if err != nil {
		return nil, err
	}
	m, err := model.Marshal()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(o)+len(m))
	out[0] = stateVersion
	binary.BigEndian.PutUint32(out[1:5], uint32(len(o)))
	out = append(out, o...)
	return append(out, m...), nil
}
