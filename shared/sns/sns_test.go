package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/sns"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sample(i int) finding.Finding {
	sig := &signal.Signal{
		Detector: "net-flood", Technique: "T1498.001", Tactic: "Effects/Denial of Service",
		Workload: fmt.Sprintf("eks/prod/shop/Deployment/api-%d", i),
		Account:  "123456789012", Region: "eu-west-1",
		First: t0, Last: t0.Add(3 * time.Minute), Severity: signal.High, Count: 3,
		Title:       "Outbound flood from shop/api",
		Description: "bytes out 9.1 GB/min against a normal 12 MB/min (band 2-40 MB/min)",
		Measurement: &signal.Measurement{Metric: "bytes_out_per_min", Observed: 9.1e9, Expected: 1.2e7, Low: 2e6, High: 4e7, Score: 42, Trained: 72 * time.Hour},
		Resources: []signal.Resource{
			{Type: signal.ResourceContainer, ID: "arn:aws:eks:eu-west-1:123456789012:pod/prod/shop/api-7d9", Name: "api", Image: "shop/api:1.2"},
			{Type: signal.ResourceEKSCluster, ID: "prod"},
		},
	}
	return finding.New(sig, finding.Context{Account: "123456789012", Region: "eu-west-1"}, t0.Add(5*time.Minute))
}

// decodeMessage splits a JSON-structured message into its protocol keys,
// checking that every value is a string and default is there.
func decodeMessage(t *testing.T, msg string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatalf("message is not a JSON object of strings: %v", err)
	}
	for _, k := range []string{"default", "https", "email", "lambda", "sqs"} {
		if m[k] == "" {
			t.Errorf("message has no %q key", k)
		}
	}
	return m
}

// checkChat validates a chat payload against the custom notification
// schema.
func checkChat(t *testing.T, payload string, f *finding.Finding) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		t.Fatalf("chat payload: %v", err)
	}
	for _, k := range []string{"version", "source", "content", "metadata"} {
		if raw[k] == nil {
			t.Errorf("chat payload lacks %s", k)
		}
	}
	var n sns.ChatNotification
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("chat payload has fields outside the schema: %v", err)
	}
	if n.Version != "1.0" || n.Source != "custom" || n.Content.TextType != "client-markdown" {
		t.Errorf("version/source/textType = %q/%q/%q", n.Version, n.Source, n.Content.TextType)
	}
	if n.Metadata.ThreadID != f.ID || n.ID != f.ID {
		t.Errorf("threadId = %q, want the finding id", n.Metadata.ThreadID)
	}
	if n.Content.Title == "" || n.Metadata.Summary == "" || n.Metadata.EventType != "tidewatch/net-flood" {
		t.Errorf("title %q, summary %q, eventType %q", n.Content.Title, n.Metadata.Summary, n.Metadata.EventType)
	}
	for _, want := range []string{"HIGH", "T1498.001", "eks/prod/shop/Deployment/api-", "9.1G", "12M"} {
		if !strings.Contains(n.Content.Description, want) {
			t.Errorf("chat description lacks %q:\n%s", want, n.Content.Description)
		}
	}
	if len(n.Content.NextSteps) < 4 || !strings.HasPrefix(n.Content.NextSteps[0], "Verify") {
		t.Errorf("nextSteps = %q, want the response steps", n.Content.NextSteps)
	}
	if len(n.Metadata.RelatedResources) != len(f.Resources) {
		t.Errorf("relatedResources = %v", n.Metadata.RelatedResources)
	}
}

func TestBuild(t *testing.T) {
	f := sample(1)
	subject, msg, err := sns.Build(&f, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if subject != "[HIGH] Outbound flood from shop/api" {
		t.Errorf("subject = %q", subject)
	}
	m := decodeMessage(t, msg)
	checkChat(t, m["https"], &f)
	if m["default"] != m["https"] {
		t.Error("default differs from https: chat subscribers must get the chat payload")
	}
	var back finding.Finding
	if err := json.Unmarshal([]byte(m["sqs"]), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, back); diff != "" {
		t.Errorf("sqs payload (-want +got):\n%s", diff)
	}
	for _, want := range []string{f.Title, "Severity:", "HIGH", "Workload:", "Technique:", "First seen:", "Last seen:",
		"What to do", "1. Verify", "normal 12M", "arn:aws:eks:eu-west-1:123456789012:pod/prod/shop/api-7d9",
		"https://eu-west-1.console.aws.amazon.com/securityhub/home?region=eu-west-1#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253Atidewatch%252Fnet-flood%252Feks%252Fprod"} {
		if !strings.Contains(m["email"], want) {
			t.Errorf("email lacks %q:\n%s", want, m["email"])
		}
	}
}

func TestConsoleURL(t *testing.T) {
	got := sns.ConsoleURL("us-east-1", "a/b c")
	want := "https://us-east-1.console.aws.amazon.com/securityhub/home?region=us-east-1#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253Aa%252Fb%2Bc"
	if got != want {
		t.Errorf("ConsoleURL = %s\nwant           %s", got, want)
	}
	// Decoding twice gives back the filter.
	q := strings.TrimPrefix(got[strings.Index(got, "search=")+len("search="):], "")
	once, _ := url.QueryUnescape(q)
	twice, _ := url.QueryUnescape(strings.TrimPrefix(once, "Id="))
	if twice != `\operator\:EQUALS\:a/b c` {
		t.Errorf("decoded filter = %q", twice)
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ title, want string }{
		{"plain", "[LOW] plain"},
		{"line\nbreak\r\n\ttab", "[LOW] line break tab"},
		{"ünïcödé → ok", "[LOW] ?n?c?d? ? ok"},
		{strings.Repeat("x", 200), "[LOW] " + strings.Repeat("x", 91) + "..."},
	}
	for _, tc := range tests {
		f := finding.Finding{Title: tc.title, Severity: finding.Severity{Label: "LOW"}}
		got := sns.Subject(&f)
		if got != tc.want || len(got) > sns.MaxSubjectLen {
			t.Errorf("Subject(%q) = %q (%d), want %q", tc.title, got, len(got), tc.want)
		}
	}
}

func TestBuildTrims(t *testing.T) {
	f := sample(1)
	f.Description = strings.Repeat("d", 200_000)
	for i := range 50 {
		f.ProductFields[fmt.Sprintf("tidewatch/x%02d", i)] = strings.Repeat("v", 10_000)
	}
	_, msg, err := sns.Build(&f, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > sns.MaxMessageBytes {
		t.Errorf("message is %d bytes, over %d", len(msg), sns.MaxMessageBytes)
	}
	m := decodeMessage(t, msg)
	var back finding.Finding
	if err := json.Unmarshal([]byte(m["sqs"]), &back); err != nil || back.ID != f.ID || back.ProductFields[finding.FieldWorkload] != f.ProductFields[finding.FieldWorkload] {
		t.Errorf("trimmed sqs payload lost the finding's identity: %v", err)
	}
}

// fakeSNS answers Publish in the SNS query protocol, failing as told.
type fakeSNS struct {
	mu      sync.Mutex
	calls   int
	got     map[string]int // finding id → messages received
	respond func(n int) (status int, code string)
}

func (s *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	status, code := 200, ""
	if s.respond != nil {
		status, code = s.respond(s.calls)
	}
	w.Header().Set("Content-Type", "text/xml")
	if status != 200 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code)
		return
	}
	var m map[string]string
	_ = json.Unmarshal([]byte(r.Form.Get("Message")), &m)
	var f finding.Finding
	_ = json.Unmarshal([]byte(m["sqs"]), &f)
	if r.Form.Get("MessageStructure") == "json" && len(r.Form.Get("Subject")) <= 100 {
		s.got[f.ID]++
	}
	fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`)
}

func newFake(t *testing.T, respond func(int) (int, string)) (*fakeSNS, *sns.Notifier) {
	s := &fakeSNS{got: map[string]int{}, respond: respond}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := awssns.New(awssns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		Retryer:      aws.NopRetryer{},
	})
	return s, sns.New(client, "arn:aws:sns:us-east-1:123456789012:tidewatch", "us-east-1", sns.WithRetry(5, time.Millisecond, 5*time.Millisecond))
}

func TestNotifyFaults(t *testing.T) {
	tests := []struct {
		name    string
		respond func(int) (int, string)
	}{
		{"throttled", func(n int) (int, string) {
			if n%3 != 0 {
				return 400, "Throttled"
			}
			return 200, ""
		}},
		{"server errors", func(n int) (int, string) {
			if n%2 == 0 {
				return 500, "InternalError"
			}
			return 200, ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, n := newFake(t, tc.respond)
			fs := []finding.Finding{sample(1), sample(2), sample(3), sample(4)}
			if err := n.Notify(context.Background(), fs); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			for _, f := range fs {
				if s.got[f.ID] != 1 {
					t.Errorf("finding %s delivered %d times, want 1", f.ID, s.got[f.ID])
				}
			}
		})
	}
}

func TestNotifyGivesUp(t *testing.T) {
	// The second finding's publishes always fail; the others go through.
	s, n := newFake(t, func(c int) (int, string) {
		if c >= 2 && c <= 6 {
			return 400, "Throttled"
		}
		return 200, ""
	})
	fs := []finding.Finding{sample(1), sample(2), sample(3)}
	err := n.Notify(context.Background(), fs)
	var pe *pipeline.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("Notify = %v, want a *pipeline.PartialError", err)
	}
	if diff := cmp.Diff([]string{fs[1].ID}, pe.Failed); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), fs[1].ID) {
		t.Errorf("error %q does not name the finding", err)
	}
	if s.calls != 7 || s.got[fs[0].ID] != 1 || s.got[fs[2].ID] != 1 {
		t.Errorf("%d calls, delivered %v; want 7 calls (1 + 5 bounded + 1)", s.calls, s.got)
	}

	// A permanent error is not retried.
	s, n = newFake(t, func(int) (int, string) { return 403, "AuthorizationError" })
	if err := n.Notify(context.Background(), fs[:1]); err == nil || s.calls != 1 {
		t.Errorf("Notify on authorization error = %v after %d calls, want an error after 1", err, s.calls)
	}
}

func BenchmarkBuild(b *testing.B) {
	f := sample(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := sns.Build(&f, "us-east-1"); err != nil {
			b.Fatal(err)
		}
	}
}
