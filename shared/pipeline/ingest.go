package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// Kind is the kind of records a log group carries.
type Kind int

// Kinds of input.
const (
	KindUnknown Kind = iota
	KindFlow
	KindAudit
	KindInsights
)

func (k Kind) String() string {
	switch k {
	case KindFlow:
		return "flow"
	case KindAudit:
		return "audit"
	case KindInsights:
		return "insights"
	}
	return "unknown"
}

// KindOfLogGroup recognises the log groups AWS names by convention and the
// cluster they belong to: /aws/eks/<c>/cluster (audit),
// /aws/containerinsights/<c>/performance and
// /aws/ecs/containerinsights/<c>/performance (Container Insights).
// Anything else is KindUnknown.
func KindOfLogGroup(group string) (Kind, string) {
	parts := strings.Split(strings.Trim(group, "/"), "/")
	switch {
	case len(parts) == 4 && parts[0] == "aws" && parts[1] == "eks" && parts[3] == "cluster":
		return KindAudit, parts[2]
	case len(parts) == 4 && parts[0] == "aws" && parts[1] == "containerinsights" && parts[3] == "performance":
		return KindInsights, parts[2]
	case len(parts) == 5 && parts[0] == "aws" && parts[1] == "ecs" && parts[2] == "containerinsights" && parts[4] == "performance":
		return KindInsights, parts[3]
	}
	return KindUnknown, ""
}

// sniff recognises one log message by its content.
func sniff(msg []byte) Kind {
	i := 0
	for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
		i++
	}
	if i == len(msg) {
		return KindUnknown
	}
	if msg[i] != '{' {
		return KindFlow
	}
	head := msg[i:min(len(msg), i+4096)]
	for _, k := range []string{`"auditID"`, `"audit.k8s.io/`, `"objectRef"`} {
		if strings.Contains(string(head), k) {
			return KindAudit
		}
	}
	return KindInsights
}

// Source says where records came from.
type Source struct {
	// Where names the file, or the log group and stream, for messages.
	Where string
	// Account is the account that owns the source (the batch owner).
	Account string
	// Cluster is the EKS or ECS cluster, when the log group names it.
	Cluster string
}

// HandleBatch runs one CloudWatch Logs delivery through the pipeline: the
// Lambda path. kind is the function's kind; KindUnknown recognises each
// message by its log group or content. A CONTROL_MESSAGE is acknowledged
// and skipped; a batch already processed (a redelivery) is skipped.
func (p *Pipeline) HandleBatch(ctx context.Context, b *cwlogs.Batch, kind Kind) (Report, error) {
	if b.IsControl() {
		return Report{Records: map[string]int{"control": 1}}, nil
	}
	id := batchID(b)
	if seen, err := p.store.GetMany(ctx, []Key{batchKey(id)}); err != nil {
		return Report{}, fmt.Errorf("check batch %s/%s: %w", b.LogGroup, b.LogStream, err)
	} else if len(seen) > 0 {
		return Report{Duplicate: true}, nil
	}
	p.AddBatch(b, kind, b.LogGroup+"/"+b.LogStream)
	rep, err := p.Flush(ctx)
	if err != nil {
		return rep, fmt.Errorf("log group %s stream %s: %w", b.LogGroup, b.LogStream, err)
	}
	if _, err := p.store.PutIfAbsent(ctx, Item{Key: batchKey(id), Data: []byte{1}, Expires: p.now().Add(48 * time.Hour)}); err != nil {
		return rep, fmt.Errorf("mark batch %s/%s done: %w", b.LogGroup, b.LogStream, err)
	}
	return rep, nil
}

// batchID identifies a delivery: CloudWatch Logs event ids are unique, so
// the group, stream and ids of the first and last event name it.
func batchID(b *cwlogs.Batch) string {
	h := sha256.New()
	h.Write([]byte(b.LogGroup + "\x00" + b.LogStream + "\x00" + strconv.Itoa(len(b.LogEvents))))
	if n := len(b.LogEvents); n > 0 {
		h.Write([]byte("\x00" + b.LogEvents[0].ID + "\x00" + b.LogEvents[n-1].ID))
		h.Write(b.LogEvents[n-1].Message)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// AddBatch adds every message of a delivery; bad messages are skipped and
// counted.
func (p *Pipeline) AddBatch(b *cwlogs.Batch, kind Kind, where string) {
	if b.IsControl() {
		p.rep.Read("control", 1)
		return
	}
	groupKind, cluster := KindOfLogGroup(b.LogGroup)
	if kind == KindUnknown {
		kind = groupKind
	}
	src := Source{Where: where, Account: b.Owner, Cluster: cluster}
	for i := range b.LogEvents {
		msg := b.LogEvents[i].Message
		k := kind
		if k == KindUnknown {
			k = sniff(msg)
		}
		switch k {
		case KindFlow:
			if err := p.parser.Parse(msg, &p.rec); err != nil {
				p.rep.Skip("bad flow record", p.eventWhere(where, i), err)
				continue
			}
			p.AddFlow(&p.rec, &src)
		case KindAudit:
			evs, err := k8saudit.Parse(msg)
			if err != nil {
				reason := "bad audit event"
				var te *k8saudit.TruncatedError
				if errors.As(err, &te) {
					reason = "truncated audit event"
				}
				p.rep.Skip(reason, p.eventWhere(where, i), err)
			}
			for j := range evs {
				p.AddAudit(&evs[j], &src)
			}
		case KindInsights:
			ev, err := insights.Parse(msg)
			if err != nil {
				reason := "bad Container Insights event"
				if errors.Is(err, insights.ErrIgnoredType) {
					reason = "ignored Container Insights type"
				}
				p.rep.Skip(reason, p.eventWhere(where, i), err)
				continue
			}
			p.AddInsights(&ev, &src)
		default:
			p.rep.Skip("empty message", p.eventWhere(where, i), errors.New("no content"))
		}
	}
}

func (p *Pipeline) eventWhere(where string, i int) string {
	return where + " event " + strconv.Itoa(i)
}

// Skip counts a record the caller could not use.
func (p *Pipeline) Skip(reason, where string, err error) { p.rep.Skip(reason, where, err) }

// AddFlow buffers one flow record for the next Flush.
func (p *Pipeline) AddFlow(r *flowlog.Record, src *Source) {
	p.rep.Read("flow", 1)
	if !r.HasTraffic() || r.Start <= 0 {
		p.rep.Skipped = incr(p.rep.Skipped, "flow without traffic (NODATA/SKIPDATA)")
		return
	}
	p.flows = append(p.flows, p.newFlowEntry(r, src.Account))
	p.observe(time.Unix(r.Start, 0))
}

// AddAudit buffers one audit event for the next Flush. The cluster is the
// source's, else the configured default.
func (p *Pipeline) AddAudit(ev *k8saudit.Event, src *Source) {
	p.rep.Read("audit", 1)
	cluster := src.Cluster
	if cluster == "" {
		cluster = p.defaultCluster
	}
	p.audit = append(p.audit, auditEntry{ev: *ev, cluster: cluster, account: src.Account})
	p.observe(ev.Time())
}

// AddInsights learns the pod owners a Container Insights event names.
func (p *Pipeline) AddInsights(ev *insights.Event, src *Source) {
	p.rep.Read("insights", 1)
	p.observe(ev.Time)
	cluster := ev.Cluster
	if cluster == "" {
		cluster = src.Cluster
	}
	p.addSample(ev, cluster, src.Account)
	if ev.Platform != insights.EKS || ev.PodName == "" || len(ev.Owners) == 0 {
		return
	}
	owners := make([]ownerRef, 0, len(ev.Owners))
	for _, o := range ev.Owners {
		owners = append(owners, ownerRef{Kind: o.Kind, Name: o.Name})
	}
	p.podOwners(cluster, ev.Namespace, ev.PodName, owners, ev.Labels, ev.Time)
}

// Pending reports how many records wait for the next Flush.
func (p *Pipeline) Pending() int { return len(p.flows) + len(p.audit) + p.nSamples }

func incr(m map[string]int, k string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k]++
	return m
}

// isInternal reports addresses that stay inside a VPC or host.
func isInternal(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")
