package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

func testNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

type recorder struct {
	published [][]finding.Finding
	notified  [][]finding.Finding
	failNext  error
}

func (r *recorder) Publish(_ context.Context, fs []finding.Finding) error {
	r.published = append(r.published, fs)
	return nil
}

func (r *recorder) Notify(_ context.Context, fs []finding.Finding) error {
	if err := r.failNext; err != nil {
		r.failNext = nil
		return err
	}
	r.notified = append(r.notified, fs)
	return nil
}

// batch builds a decoded CloudWatch Logs delivery of messages.
func batch(t *testing.T, group, stream string, msgs ...string) *cwlogs.Batch {
	t.Helper()
	type ev struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	evs := make([]ev, len(msgs))
	for i, m := range msgs {
		evs[i] = ev{ID: strings.Repeat("1", 55) + string(rune('0'+i%10)), Timestamp: 1540561114867, Message: m}
	}
	js, err := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
		"logStream": stream, "subscriptionFilters": []string{"tidewatch"}, "logEvents": evs})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cwlogs.Unmarshal(js)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func execEvent(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/exec_pod.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func newPipeline(t *testing.T, st pipeline.Store, rec *recorder, cfg *config.Config) *pipeline.Pipeline {
	t.Helper()
	var opts pipeline.Options
	if cfg != nil {
		if err := opts.Configure(cfg); err != nil {
			t.Fatal(err)
		}
	}
	opts.Store, opts.Publisher, opts.Notifier = st, rec, rec
	opts.Clock = testNow
	p, err := pipeline.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHandleBatchControlMessage(t *testing.T) {
	rec := &recorder{}
	p := newPipeline(t, store.NewMemory(store.WithClock(testNow)), rec, nil)
	b, err := cwlogs.Unmarshal([]byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.HandleBatch(context.Background(), b, pipeline.KindAudit)
	if err != nil || rep.Records["control"] != 1 || len(rec.published) != 0 {
		t.Errorf("control message: report %+v, err %v, published %d", rep, err, len(rec.published))
	}
}

// TestRedeliveryIsHarmless: CloudWatch Logs and Lambda retry; the same
// batch twice gives the findings and the notification of once.
func TestRedeliveryIsHarmless(t *testing.T) {
	rec := &recorder{}
	st := store.NewMemory(store.WithClock(testNow))
	b := batch(t, "/aws/eks/prod/cluster", "kube-apiserver-audit-1", execEvent(t))
	for i := range 2 {
		p := newPipeline(t, st, rec, nil)
		rep, err := p.HandleBatch(context.Background(), b, pipeline.KindAudit)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && !rep.Duplicate {
			t.Errorf("second delivery not recognised as a duplicate: %+v", rep)
		}
	}
	if len(rec.published) != 1 || len(rec.published[0]) != 1 {
		t.Fatalf("published %d times, want once: %+v", len(rec.published), rec.published)
	}
	f := rec.published[0][0]
	if f.ProductFields[finding.FieldDetector] != "k8s-exec" || f.ProductFields[finding.FieldWorkload] != "eks/prod/default/Deployment/nginx-deployment" {
		t.Errorf("finding = %s on %s", f.ProductFields[finding.FieldDetector], f.ProductFields[finding.FieldWorkload])
	}
	if f.AwsAccountID != "123456789012" {
		t.Errorf("AwsAccountId = %s, want the batch owner", f.AwsAccountID)
	}
	if len(rec.notified) != 1 {
		t.Errorf("notified %d times, want once", len(rec.notified))
	}
}

// TestFailedNotificationIsRetried: a notification that fails is sent by
// the retry, and only once.
func TestFailedNotificationIsRetried(t *testing.T) {
	rec := &recorder{failNext: errors.New("throttled")}
	st := store.NewMemory(store.WithClock(testNow))
	b := batch(t, "/aws/eks/prod/cluster", "kube-apiserver-audit-1", execEvent(t))
	if _, err := newPipeline(t, st, rec, nil).HandleBatch(context.Background(), b, pipeline.KindAudit); err == nil {
		t.Fatal("a failed notification must fail the batch so that it is retried")
	}
	if _, err := newPipeline(t, st, rec, nil).HandleBatch(context.Background(), b, pipeline.KindAudit); err != nil {
		t.Fatal(err)
	}
	if len(rec.notified) != 1 {
		t.Errorf("notified %d times after the retry, want once", len(rec.notified))
	}
	if _, err := newPipeline(t, st, rec, nil).HandleBatch(context.Background(), b, pipeline.KindAudit); err != nil || len(rec.notified) != 1 {
		t.Errorf("a third delivery notified again (%d) or failed (%v)", len(rec.notified), err)
	}
}

// TestBadRecordKeepsItsBatch: one bad line is counted with its reason and
// where it was; the good records of the batch are processed.
func TestBadRecordKeepsItsBatch(t *testing.T) {
	rec := &recorder{}
	p := newPipeline(t, store.NewMemory(store.WithClock(testNow)), rec, nil)
	b := batch(t, "/vpc/flow-logs", "eni-1235b8ca123456789-all",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 not-an-ip 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK")
	rep, err := p.HandleBatch(context.Background(), b, pipeline.KindFlow)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records["flow"] != 2 || rep.Skipped["bad flow record"] != 1 {
		t.Errorf("report = %+v, want 2 flow records and 1 bad one", rep)
	}
	if len(rep.Examples) != 1 || !strings.Contains(rep.Examples[0], "/vpc/flow-logs/eni-1235b8ca123456789-all event 1") {
		t.Errorf("skip not named by log group, stream and event: %v", rep.Examples)
	}
}

// TestMaintenanceWindowSuppressesButRecords: a suppressed finding still
// reaches Security Hub, as SUPPRESSED, and nobody is notified.
func TestMaintenanceWindowSuppressesButRecords(t *testing.T) {
	cfg, err := config.Parse([]byte(`
maintenanceWindows:
  - workloads: ["eks/prod/default/*/*"]
    start: "2018-10-26T13:00:00Z"
    end: "2018-10-26T14:00:00Z"
    reason: nginx upgrade
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	p := newPipeline(t, store.NewMemory(store.WithClock(testNow)), rec, &cfg)
	rep, err := p.HandleBatch(context.Background(), batch(t, "/aws/eks/prod/cluster", "s", execEvent(t)), pipeline.KindAudit)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.published) != 1 || rec.published[0][0].Workflow == nil || rec.published[0][0].Workflow.Status != "SUPPRESSED" {
		t.Fatalf("suppressed finding not recorded as SUPPRESSED: %+v", rec.published)
	}
	if !strings.Contains(rec.published[0][0].Note.Text, "nginx upgrade") {
		t.Errorf("note = %q, want the reason", rec.published[0][0].Note.Text)
	}
	if len(rec.notified) != 0 || rep.Suppressed != 1 {
		t.Errorf("notified %d, suppressed %d", len(rec.notified), rep.Suppressed)
	}
}

func TestKindOfLogGroup(t *testing.T) {
	tests := []struct {
		group   string
		kind    pipeline.Kind
		cluster string
	}{
		{"/aws/eks/prod/cluster", pipeline.KindAudit, "prod"},
		{"/aws/containerinsights/prod/performance", pipeline.KindInsights, "prod"},
		{"/aws/ecs/containerinsights/ecs-prod/performance", pipeline.KindInsights, "ecs-prod"},
		{"/vpc/flow-logs", pipeline.KindUnknown, ""},
		{"/aws/eks/prod/other", pipeline.KindUnknown, ""},
	}
	for _, tt := range tests {
		k, c := pipeline.KindOfLogGroup(tt.group)
		if k != tt.kind || c != tt.cluster {
			t.Errorf("KindOfLogGroup(%q) = %v, %q; want %v, %q", tt.group, k, c, tt.kind, tt.cluster)
		}
	}
}

// TestStoredSuppressionApplies: a suppression kept in the table (set with
// `tidewatch config suppress add`) applies without a redeploy; an expired
// one does not.
func TestStoredSuppressionApplies(t *testing.T) {
	for _, tt := range []struct {
		name  string
		until time.Time
		want  string
	}{
		{"live", time.Time{}, "SUPPRESSED"},
		{"expired", testNow().Add(-time.Hour), "NEW"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := store.NewMemory(store.WithClock(testNow))
			data, err := json.Marshal(pipeline.Suppression{Until: tt.until,
				Rule: config.Rule{Detectors: []string{"k8s-exec"}, Namespaces: []string{"default"}, Reason: "debugging session"}})
			if err != nil {
				t.Fatal(err)
			}
			// The store expires the item itself; keep it readable to
			// test the pipeline's own check.
			if err := st.PutMany(context.Background(), []pipeline.Item{{Key: pipeline.SuppressionKey("s1"), Data: data}}); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			rec := &recorder{}
			p := newPipeline(t, st, rec, &cfg)
			if _, err := p.HandleBatch(context.Background(), batch(t, "/aws/eks/prod/cluster", "s", execEvent(t)), pipeline.KindAudit); err != nil {
				t.Fatal(err)
			}
			if len(rec.published) != 1 || rec.published[0][0].Workflow.Status != tt.want {
				t.Fatalf("published %+v, want one finding %s", rec.published, tt.want)
			}
		})
	}
}
