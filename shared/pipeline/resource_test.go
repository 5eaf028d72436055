package pipeline_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

const (
	ciNode     = "ip-10-0-1-23.eu-west-1.compute.internal"
	ciInstance = "i-0abc1234def567890"
)

// ciPod is an EKS Pod event of Deployment shop/<name> on ciNode: cpu and
// mem in percent of the node, memLimit in percent of the pod's limit.
func ciPod(at time.Time, name string, cpu, mem, memLimit float64, restarts int, oom bool) insights.Event {
	ev := insights.Event{Type: insights.TypePod, Platform: insights.EKS, Time: at, Cluster: "prod", Namespace: "shop",
		PodName: name + "-7c9f8d6b5-q2w3e", PodShortName: name, Node: ciNode, InstanceID: ciInstance,
		Owners: []insights.Owner{{Kind: "Deployment", Name: name}},
		Metrics: map[string]float64{"pod_cpu_utilization": cpu, "pod_memory_utilization": mem,
			"pod_memory_utilization_over_pod_limit": memLimit, "pod_network_tx_bytes": 2000,
			"pod_number_of_container_restarts": float64(restarts)}}
	if oom {
		ev.Metrics["pod_container_status_terminated_reason_oom_killed"] = 1
	}
	return ev
}

// estateMinute returns the Container Insights events of one minute: three
// pods and their node. From runaway on, for 15 minutes, worker takes the
// node's CPU; from bombs on, for 18 minutes, a thumbnailer container is
// OOM-killed every third minute.
func estateMinute(t, runaway, bombs time.Time) []insights.Event {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := math.Exp(-(h - 13) * (h - 13) / 8)
	web, worker := 4+6*day, 3+3*day
	if !t.Before(runaway) && t.Before(runaway.Add(15*time.Minute)) {
		worker = 82
	}
	kill, oom, thumbMem := 0, !t.Before(bombs), 40.0
	if k := t.Sub(bombs); k >= 0 && k < 18*time.Minute {
		switch int(k/time.Minute) % 3 {
		case 0:
			kill = 1
		case 2:
			thumbMem = 97
		}
	}
	at := t.Add(17 * time.Second)
	evs := []insights.Event{
		ciPod(at, "web", web, 5, 30, 0, false),
		ciPod(at, "worker", worker, 6, 30, 0, false),
		ciPod(at, "thumbnailer", 1, 2, thumbMem, kill, oom),
	}
	node := insights.Event{Type: insights.TypeNode, Platform: insights.EKS, Time: t.Add(20 * time.Second), Cluster: "prod",
		Node: ciNode, InstanceID: ciInstance,
		Metrics: map[string]float64{"node_cpu_utilization": min(4+web+worker+1, 99.5), "node_memory_utilization": 20}}
	return append(evs, node)
}

type failingPublisher struct{ err error }

func (f failingPublisher) Publish(context.Context, []finding.Finding) error { return f.err }

// TestResourceThroughThePipeline: Container Insights Pod and Node events
// through AddInsights and Flush: a node saturated by one Deployment is
// reported on that Deployment, with the node's instance; an OOM-kill loop
// is reported; nothing else is; the node's state is kept in the store; and
// a batch that fails to publish is retried with the same outcome.
func TestResourceThroughThePipeline(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // Monday
	runaway := start.Add(2*24*time.Hour + 14*time.Hour)  // Wednesday 14:00
	bombs := runaway.Add(2 * time.Hour)
	st := store.NewMemory(store.WithClock(testNow))
	rec := &recorder{}
	src := &pipeline.Source{Where: "test", Account: "123456789012"}
	feed := func(p *pipeline.Pipeline, from, to time.Time) {
		for ts := from; ts.Before(to); ts = ts.Add(time.Minute) {
			for _, ev := range estateMinute(ts, runaway, bombs) {
				p.AddInsights(&ev, src)
			}
		}
	}

	// History: two days, an hour per batch, on one pipeline.
	p := newPipeline(t, st, rec, nil)
	for h := start; h.Before(runaway); h = h.Add(time.Hour) {
		feed(p, h, h.Add(time.Hour))
		if _, err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, fs := range rec.published {
		for _, f := range fs {
			t.Errorf("history reported %s on %s: %s", f.ProductFields[finding.FieldDetector], f.ProductFields[finding.FieldWorkload], f.Title)
		}
	}

	// The runaway's hour fails to publish: nothing is learned, and the
	// retry (a new invocation) finds the same.
	var opts pipeline.Options
	opts.Store, opts.Publisher, opts.Clock = st, failingPublisher{errors.New("throttled")}, testNow
	failing, err := pipeline.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	feed(failing, runaway, runaway.Add(time.Hour))
	if _, err := failing.Flush(ctx); err == nil {
		t.Fatal("a failed publish must fail the batch")
	}
	nodeKey := pipeline.Key{PK: "node#prod/" + ciNode, SK: "state"}
	before, err := st.GetMany(ctx, []pipeline.Key{nodeKey})
	if err != nil || len(before) != 1 {
		t.Fatalf("node state after the history: %v, %v", before, err)
	}
	p = newPipeline(t, st, rec, nil)
	for h := runaway; h.Before(runaway.Add(4 * time.Hour)); h = h.Add(time.Hour) {
		feed(p, h, h.Add(time.Hour))
		if _, err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after, err := st.GetMany(ctx, []pipeline.Key{nodeKey})
	if err != nil || string(after[nodeKey].Data) == string(before[nodeKey].Data) {
		t.Errorf("node state not updated by the batches (%v)", err)
	}

	found := map[string]finding.Finding{}
	for _, fs := range rec.published {
		for _, f := range fs {
			found[f.ProductFields[finding.FieldDetector]+" "+f.ProductFields[finding.FieldWorkload]] = f
		}
	}
	if len(found) != 2 {
		t.Errorf("want two findings, got %d: %v", len(found), keysOf(found))
	}
	sat, ok := found["res-node-saturation eks/prod/shop/Deployment/worker"]
	if !ok {
		t.Fatalf("no res-node-saturation on worker: %v", keysOf(found))
	}
	t.Log(sat.Title)
	t.Log(sat.Description)
	// EKS performance events name no account: the log group's owner's it
	// is, as for the audit findings of the same cluster.
	for k, f := range found {
		if f.AwsAccountID != src.Account {
			t.Errorf("%s: account %s, want the log group owner's %s", k, f.AwsAccountID, src.Account)
		}
	}
	if sat.ProductFields[finding.FieldTechnique] != "T1499" || sat.Severity.Label != "HIGH" ||
		sat.ProductFields["tidewatch/node"] != ciNode || sat.ProductFields["tidewatch/count"] != "15" {
		t.Errorf("saturation finding %s %s fields %v", sat.ProductFields[finding.FieldTechnique], sat.Severity.Label, sat.ProductFields)
	}
	instance := false
	for _, r := range sat.Resources {
		if r.Type == "AwsEc2Instance" && r.ID == ciInstance {
			instance = true
		}
	}
	if !instance {
		t.Errorf("resources %+v lack the node's instance", sat.Resources)
	}
	if _, ok := sat.ProductFields[finding.FieldSeries]; !ok {
		t.Error("saturation finding has no series")
	}
	oom, ok := found["res-oom-kill eks/prod/shop/Deployment/thumbnailer"]
	if !ok {
		t.Fatalf("no res-oom-kill on thumbnailer: %v", keysOf(found))
	}
	t.Log(oom.Title)
	if n, _ := strconv.Atoi(oom.ProductFields["tidewatch/kills"]); n != 6 || oom.ProductFields[finding.FieldTechnique] != "T1499" {
		t.Errorf("oom finding fields %v", oom.ProductFields)
	}
}

func keysOf(m map[string]finding.Finding) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPendingCountsSamples: every resource sample waiting for a flush
// counts toward Pending, so a caller that flushes on it (a replay of
// Container Insights files) keeps memory bounded.
func TestPendingCountsSamples(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	far := start.Add(48 * time.Hour)
	p := newPipeline(t, store.NewMemory(store.WithClock(testNow)), &recorder{}, nil)
	src := &pipeline.Source{Where: "test", Account: "123456789012"}
	add := func(ts time.Time) {
		for _, ev := range estateMinute(ts, far, far) {
			p.AddInsights(&ev, src)
		}
	}
	add(start)
	one := p.Pending()
	add(start.Add(time.Minute))
	if one == 0 || p.Pending() != 2*one {
		t.Errorf("pending after one minute of samples %d, after two %d; want twice as many", one, p.Pending())
	}
	if _, err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Errorf("pending after a flush: %d", p.Pending())
	}
}
