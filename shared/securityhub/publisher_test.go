package securityhub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	sh "github.com/tidewatch/tidewatch/shared/securityhub"
	"github.com/tidewatch/tidewatch/shared/signal"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sample returns a finding with every attribute tidewatch sets filled.
func sample(i int) finding.Finding {
	sig := &signal.Signal{
		Detector: "net-flood", Technique: "T1498.001", Tactic: "Effects/Denial of Service",
		Workload: fmt.Sprintf("eks/prod/shop/Deployment/api-%d", i),
		Account:  "123456789012", Region: "eu-west-1",
		First: t0, Last: t0.Add(3 * time.Minute), Severity: signal.High, Count: 3,
		Title:       "Outbound flood from shop/api",
		Description: "bytes out 9.1 GB/min against a normal 12 MB/min (band 2-40 MB/min)",
		Actor:       "alice", Command: "sh -c hping3 --flood",
		Measurement: &signal.Measurement{Metric: "bytes_out_per_min", Observed: 9.1e9, Expected: 1.2e7, Low: 2e6, High: 4e7, Score: 42, Trained: 72 * time.Hour},
		Resources: []signal.Resource{
			{Type: signal.ResourceContainer, ID: "arn:aws:eks:eu-west-1:123456789012:pod/prod/shop/api-7d9", Name: "api", Image: "shop/api:1.2", Privileged: true, Details: map[string]string{"node": "ip-10-0-1-2"}},
			{Type: signal.ResourceEKSCluster, ID: "prod"},
		},
		Fields: map[string]string{"peer": "203.0.113.9"},
	}
	f := finding.New(sig, finding.Context{Account: "123456789012", Region: "eu-west-1"}, t0.Add(5*time.Minute))
	f.Confidence = 80
	f.Severity.Original = "HIGH"
	f.RelatedFindings = []finding.RelatedFinding{{ProductArn: f.ProductArn, ID: "tidewatch/k8s-exec/x"}}
	f.Action = &finding.Action{ActionType: "NETWORK_CONNECTION", NetworkConnection: &finding.NetworkConnection{
		ConnectionDirection: "OUTBOUND", Protocol: "UDP", Blocked: true,
		RemoteIPDetails:   &finding.IPDetails{IPAddressV4: "203.0.113.9"},
		RemotePortDetails: &finding.PortDetails{Port: 53}, LocalPortDetails: &finding.PortDetails{Port: 40000},
	}}
	f.Process = &finding.Process{Name: "hping3", Path: "/usr/sbin/hping3"}
	f.Note = &finding.Note{Text: "seen in replay", UpdatedBy: "tidewatch", UpdatedAt: f.UpdatedAt}
	f.Resources[0].Tags = map[string]string{"team": "shop"}
	return f
}

// asMap renders v as JSON and back, dropping nulls and empty values, so
// that the SDK type and the finding can be compared by ASFF name.
func asMap(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return prune(m)
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i := range x {
			x[i] = prune(x[i])
		}
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

// TestConvert: every attribute of the finding reaches the SDK type under
// its ASFF name (the SDK's Go field names are the ASFF names).
func TestConvert(t *testing.T) {
	f := sample(1)
	got := asMap(t, sh.Convert(&f))
	want := asMap(t, f)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Convert (-finding +sdk):\n%s", diff)
	}
}

func TestProductArn(t *testing.T) {
	if got, want := sh.ProductArn("aws-cn", "cn-north-1", "123456789012"), "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"; got != want {
		t.Errorf("ProductArn = %s, want %s", got, want)
	}
	if got, want := sh.ProductArn("", "us-east-1", "123456789012"), "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"; got != want {
		t.Errorf("ProductArn = %s, want %s", got, want)
	}
}

func TestTrim(t *testing.T) {
	f := sample(1)
	f.Title = strings.Repeat("T", 400)
	f.Description = strings.Repeat("é", 5000)
	f.ProductFields = map[string]string{}
	for i := range 80 {
		f.ProductFields[fmt.Sprintf("tidewatch/extra%02d", i)] = strings.Repeat("v", 3000)
	}
	f.ProductFields[finding.FieldWorkload] = "eks/prod/shop/Deployment/api"
	f.ProductFields[finding.FieldDetector] = "net-flood"
	f.ProductFields[finding.FieldTechnique] = "T1498.001"
	other := map[string]string{}
	for i := range 300 {
		other[fmt.Sprintf("k%03d", i)] = strings.Repeat("x", 5000)
	}
	f.Resources[0].Details.Other = other
	before, _ := json.Marshal(f)

	got := sh.Trim(f, 0)
	b, _ := json.Marshal(got)
	if len(b) > sh.MaxFindingBytes {
		t.Errorf("trimmed finding is %d bytes, over %d", len(b), sh.MaxFindingBytes)
	}
	if after, _ := json.Marshal(f); string(after) != string(before) {
		t.Error("Trim modified its argument")
	}
	if len(got.Title) > finding.MaxTitleLen || len(got.Description) > finding.MaxDescriptionLen {
		t.Errorf("title %d / description %d bytes over the limits", len(got.Title), len(got.Description))
	}
	if !strings.HasSuffix(got.Description, "…") || !json.Valid(b) {
		t.Errorf("description not cut on a rune boundary with a mark")
	}
	if len(got.ProductFields) > finding.MaxProductFields {
		t.Errorf("%d product fields, want at most %d", len(got.ProductFields), finding.MaxProductFields)
	}
	for _, k := range []string{finding.FieldDetector, finding.FieldTechnique, finding.FieldWorkload} {
		if got.ProductFields[k] != f.ProductFields[k] {
			t.Errorf("product field %s = %q, want %q", k, got.ProductFields[k], f.ProductFields[k])
		}
	}
	for k, v := range got.ProductFields {
		if len(v) > finding.MaxFieldValueLen {
			t.Errorf("product field %s is %d bytes", k, len(v))
		}
	}
	if got.ID != f.ID || got.ProductArn != f.ProductArn || got.GeneratorID != f.GeneratorID || got.AwsAccountID != f.AwsAccountID ||
		got.CreatedAt != f.CreatedAt || got.UpdatedAt != f.UpdatedAt || len(got.Types) == 0 || got.Severity != f.Severity || len(got.Resources) != len(f.Resources) {
		t.Error("a required attribute changed")
	}
	// A finding within the limits is left as it is.
	small := sample(2)
	if diff := cmp.Diff(small, sh.Trim(small, 0)); diff != "" {
		t.Errorf("Trim changed a finding within limits (-want +got):\n%s", diff)
	}
}

func TestClock(t *testing.T) {
	stuck := t0
	c := sh.NewClock(func() time.Time { return stuck })
	a, b := c.Now(), c.Now()
	if !b.After(a) {
		t.Errorf("Now did not increase on a stalled clock: %v then %v", a, b)
	}
	stuck = t0.Add(-time.Hour)
	if d := c.Now(); !d.After(b) {
		t.Errorf("Now went back with the wall clock: %v after %v", d, b)
	}
	if e := c.After(t0.Add(time.Hour)); !e.Equal(t0.Add(time.Hour + time.Millisecond)) {
		t.Errorf("After(t0+1h) = %v, want 1 ms later", e)
	}
}

// fakeHub is an httptest Security Hub that records what it imported and
// misbehaves as told.
type fakeHub struct {
	mu       sync.Mutex
	calls    int
	batches  []int
	sizes    []int
	imported map[string][]string // Id → UpdatedAt of each accepted import
	// respond decides the reply for call n; nil means accept everything.
	respond func(n int, ids []string) (status int, errType string, refuse map[string]string)
}

func newFakeHub(t *testing.T) (*fakeHub, *securityhub.Client) {
	h := &fakeHub{imported: map[string][]string{}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, securityhub.New(securityhub.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Findings []struct{ Id, UpdatedAt string }
	}
	_ = json.Unmarshal(body, &in)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	ids := make([]string, len(in.Findings))
	for i, f := range in.Findings {
		ids[i] = f.Id
	}
	status, errType, refuse := 200, "", map[string]string(nil)
	if h.respond != nil {
		status, errType, refuse = h.respond(h.calls, ids)
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 200 {
		w.Header().Set("X-Amzn-ErrorType", errType)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":"injected %s"}`, errType)
		return
	}
	h.batches = append(h.batches, len(in.Findings))
	h.sizes = append(h.sizes, len(body))
	type failed struct{ Id, ErrorCode, ErrorMessage string }
	out := struct {
		SuccessCount, FailedCount int
		FailedFindings            []failed
	}{FailedFindings: []failed{}}
	for _, f := range in.Findings {
		if code, ok := refuse[f.Id]; ok {
			out.FailedFindings = append(out.FailedFindings, failed{f.Id, code, "injected"})
			continue
		}
		h.imported[f.Id] = append(h.imported[f.Id], f.UpdatedAt)
	}
	out.FailedCount, out.SuccessCount = len(out.FailedFindings), len(in.Findings)-len(out.FailedFindings)
	_ = json.NewEncoder(w).Encode(out)
}

func fast(api sh.API) *sh.Publisher {
	return sh.New(api, sh.WithRetry(6, time.Millisecond, 5*time.Millisecond))
}

func findings(n int) []finding.Finding {
	out := make([]finding.Finding, n)
	for i := range out {
		out[i] = sample(i)
	}
	return out
}

func TestPublishBatches(t *testing.T) {
	h, client := newFakeHub(t)
	fs := findings(250)
	if err := fast(client).Publish(context.Background(), fs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if diff := cmp.Diff([]int{100, 100, 50}, h.batches); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if len(h.imported) != 250 {
		t.Errorf("%d findings imported, want 250", len(h.imported))
	}

	// Big findings: each is trimmed under 240 KB and requests stay under 6 MB.
	h, client = newFakeHub(t)
	fs = findings(60)
	for i := range fs {
		fs[i].Resources[0].Details.Other = map[string]string{}
		for j := range 300 {
			fs[i].Resources[0].Details.Other[fmt.Sprintf("k%03d", j)] = strings.Repeat("x", 1000)
		}
	}
	if err := fast(client).Publish(context.Background(), fs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for i, size := range h.sizes {
		if size > sh.MaxBatchBytes {
			t.Errorf("request %d is %d bytes", i, size)
		}
	}
	if len(h.imported) != 60 || len(h.batches) < 2 {
		t.Errorf("%d imported in %d requests, want 60 in several", len(h.imported), len(h.batches))
	}
}

func TestPublishFaults(t *testing.T) {
	tests := []struct {
		name    string
		respond func(n int, ids []string) (int, string, map[string]string)
	}{
		{"throttled", func(n int, _ []string) (int, string, map[string]string) {
			if n <= 3 {
				return 429, "TooManyRequestsException", nil
			}
			return 200, "", nil
		}},
		{"limit exceeded", func(n int, _ []string) (int, string, map[string]string) {
			if n%2 == 1 {
				return 429, "LimitExceededException", nil
			}
			return 200, "", nil
		}},
		{"server errors", func(n int, _ []string) (int, string, map[string]string) {
			if n <= 2 {
				return 503, "InternalException", nil
			}
			return 200, "", nil
		}},
		{"partial failures", func(n int, ids []string) (int, string, map[string]string) {
			refuse := map[string]string{}
			if n <= 3 {
				for i, id := range ids {
					if i%3 == n%3 {
						refuse[id] = "ThrottlingException"
					}
				}
			}
			return 200, "", refuse
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, client := newFakeHub(t)
			h.respond = tc.respond
			fs := findings(150)
			if err := fast(client).Publish(context.Background(), fs); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			for _, f := range fs {
				if len(h.imported[f.ID]) == 0 {
					t.Errorf("finding %s lost", f.ID)
				}
			}
		})
	}
}

func TestPublishGivesUp(t *testing.T) {
	h, client := newFakeHub(t)
	fs := findings(5)
	h.respond = func(n int, ids []string) (int, string, map[string]string) {
		return 200, "", map[string]string{fs[0].ID: "InvalidInput", fs[1].ID: "ThrottlingException"}
	}
	err := fast(client).Publish(context.Background(), fs)
	var pe *pipeline.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("Publish = %v, want a *pipeline.PartialError", err)
	}
	// The invalid one is not retried; the refused one is, up to the bound.
	if h.calls != 6 {
		t.Errorf("%d requests, want 6 (the retry bound)", h.calls)
	}
	if diff := cmp.Diff([]string{fs[0].ID, fs[1].ID}, pe.Failed); diff != "" {
		t.Errorf("Failed ids (-want +got):\n%s", diff)
	}
	if len(h.imported) != 3 {
		t.Errorf("%d findings imported, want the other 3", len(h.imported))
	}
	if !strings.Contains(err.Error(), "InvalidInput") || !strings.Contains(err.Error(), fs[0].ID) {
		t.Errorf("error %q does not say which finding failed and why", err)
	}

	h, client = newFakeHub(t)
	h.respond = func(int, []string) (int, string, map[string]string) { return 429, "TooManyRequestsException", nil }
	err = fast(client).Publish(context.Background(), findings(3))
	if !errors.As(err, &pe) || len(pe.Failed) != 3 {
		t.Fatalf("Publish under endless throttling = %v, want all 3 ids failed", err)
	}
	if h.calls != 6 {
		t.Errorf("%d requests under endless throttling, want 6", h.calls)
	}

	h, client = newFakeHub(t)
	h.respond = func(int, []string) (int, string, map[string]string) { return 403, "AccessDeniedException", nil }
	if err := fast(client).Publish(context.Background(), findings(1)); err == nil || h.calls != 1 {
		t.Errorf("Publish on access denied = %v after %d calls, want an error after 1", err, h.calls)
	}
}

// TestPublishUpdatedAt: re-sending a finding with the same UpdatedAt goes
// out with a later one, so Security Hub applies it.
func TestPublishUpdatedAt(t *testing.T) {
	h, client := newFakeHub(t)
	p := fast(client)
	f := sample(1)
	for range 3 {
		if err := p.Publish(context.Background(), []finding.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	got := h.imported[f.ID]
	if len(got) != 3 || got[0] != f.UpdatedAt || !(got[0] < got[1] && got[1] < got[2]) {
		t.Errorf("UpdatedAt of the three sends = %v, want strictly increasing from %s", got, f.UpdatedAt)
	}
	later := f
	later.UpdatedAt = finding.Timestamp(time.Now().Add(time.Hour))
	if err := p.Publish(context.Background(), []finding.Finding{later}); err != nil {
		t.Fatal(err)
	}
	if got := h.imported[f.ID]; got[3] != later.UpdatedAt {
		t.Errorf("a later UpdatedAt was changed: sent %s, want %s", got[3], later.UpdatedAt)
	}
}

func BenchmarkPrepare(b *testing.B) {
	f := sample(1)
	b.ReportAllocs()
	for b.Loop() {
		t := sh.Trim(f, 0)
		_ = sh.Convert(&t)
	}
}
