package finding

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidewatch/tidewatch/shared/golden"
	"github.com/tidewatch/tidewatch/shared/signal"
)

var t0 = time.Date(2026, 3, 4, 10, 2, 0, 0, time.UTC)

func floodSignal() *signal.Signal {
	return &signal.Signal{
		Detector:  "net-flood",
		Technique: "T1498.001",
		Tactic:    "Effects/Denial of Service",
		Workload:  "eks/prod/shop/Deployment/cart",
		Account:   "123456789012",
		Region:    "eu-west-1",
		First:     t0,
		Last:      t0.Add(5 * time.Minute),
		Severity:  signal.High,
		Title:     "Outbound flood from eks/prod/shop/Deployment/cart: 48x normal bytes",
		Description: "Sent 1.2 GB in one minute to 203.0.113.10:80; normal for 10:00 is 25 MB " +
			"(band 10 MB-40 MB), learned over 72h.",
		Count: 1,
		Measurement: &signal.Measurement{
			Metric: "bytes_out", Unit: "bytes/min", Observed: 1.2e9, Expected: 2.5e7,
			Low: 1e7, High: 4e7, Score: 48, Trained: 72 * time.Hour,
		},
		Resources: []signal.Resource{
			{Type: signal.ResourceContainer, ID: "shop/cart-7d9f8b6c5-x2x9q", Name: "cart-7d9f8b6c5-x2x9q", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:1.4"},
			{Type: signal.ResourceEKSCluster, ID: "prod"},
		},
		Fields: map[string]string{"peer": "203.0.113.10:80"},
	}
}

func TestNewGolden(t *testing.T) {
	f := New(floodSignal(), Context{Account: "999999999999", Region: "us-east-1"}, t0.Add(10*time.Minute))
	got, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "flood.golden.json"), append(got, '\n'))
}

func TestNewRequiredFields(t *testing.T) {
	sig := floodSignal()
	sig.Account, sig.Region = "", ""
	sig.Resources = nil
	f := New(sig, Context{}, t0)
	for name, v := range map[string]string{
		"SchemaVersion": f.SchemaVersion, "Id": f.ID, "ProductArn": f.ProductArn, "GeneratorId": f.GeneratorID,
		"AwsAccountId": f.AwsAccountID, "CreatedAt": f.CreatedAt, "UpdatedAt": f.UpdatedAt,
		"Severity.Label": f.Severity.Label, "Title": f.Title, "Description": f.Description,
	} {
		if v == "" {
			t.Errorf("%s is empty", name)
		}
	}
	if f.AwsAccountID != DefaultAccount || f.Region != DefaultRegion {
		t.Errorf("account/region = %s/%s, want defaults", f.AwsAccountID, f.Region)
	}
	if len(f.Types) != 1 || f.Types[0] != "Effects/Denial of Service/T1498.001-net-flood" {
		t.Errorf("Types = %v", f.Types)
	}
	if len(f.Resources) != 1 || f.Resources[0].Type != signal.ResourceOther {
		t.Errorf("Resources = %+v, want the workload as Other", f.Resources)
	}
	for _, k := range []string{FieldDetector, FieldTechnique, FieldWorkload, FieldObserved, FieldExpected, FieldTrainingPeriod} {
		if f.ProductFields[k] == "" {
			t.Errorf("ProductFields[%s] missing", k)
		}
	}
	if f.FirstObservedAt != "2026-03-04T10:02:00.000Z" || f.LastObservedAt != "2026-03-04T10:07:00.000Z" {
		t.Errorf("observed = %s..%s", f.FirstObservedAt, f.LastObservedAt)
	}
}

func TestIDIsStablePerHour(t *testing.T) {
	a := ID("net-flood", "eks/prod/shop/Deployment/cart", t0)
	b := ID("net-flood", "eks/prod/shop/Deployment/cart", t0.Add(50*time.Minute))
	c := ID("net-flood", "eks/prod/shop/Deployment/cart", t0.Add(time.Hour))
	d := ID("net-syn-flood", "eks/prod/shop/Deployment/cart", t0)
	if a != b {
		t.Errorf("same hour gave %q and %q", a, b)
	}
	if a == c || a == d {
		t.Errorf("different hour or detector gave the same id %q", a)
	}
	if a != "tidewatch/net-flood/eks/prod/shop/Deployment/cart/2026-03-04T10Z" {
		t.Errorf("ID = %q", a)
	}
}

func TestLimits(t *testing.T) {
	sig := floodSignal()
	sig.Title = strings.Repeat("é", 300)
	sig.Description = strings.Repeat("x", 5000)
	sig.Fields = map[string]string{}
	for i := range 80 {
		sig.Fields[strings.Repeat("k", 200)+string(rune('a'+i%26))+strings.Repeat("z", i)] = strings.Repeat("v", 3000)
	}
	f := New(sig, Context{}, t0)
	if len(f.Title) > MaxTitleLen || !utf8.ValidString(f.Title) {
		t.Errorf("title %d bytes, valid utf8 %v", len(f.Title), utf8.ValidString(f.Title))
	}
	if len(f.Description) > MaxDescriptionLen {
		t.Errorf("description %d bytes", len(f.Description))
	}
	if len(f.ProductFields) > MaxProductFields {
		t.Errorf("%d product fields", len(f.ProductFields))
	}
	for k, v := range f.ProductFields {
		if len(k) > MaxFieldKeyLen || len(v) > MaxFieldValueLen {
			t.Errorf("field %d/%d bytes", len(k), len(v))
		}
	}
	if f.Remediation == nil || len(f.Remediation.Recommendation.Text) > MaxRecommendation {
		t.Errorf("recommendation missing or too long: %+v", f.Remediation)
	}
}

func TestUpdate(t *testing.T) {
	ctx := Context{Region: "eu-west-1"}
	sig := floodSignal()
	sig.Severity = signal.Medium
	f := New(sig, ctx, t0)

	repeat := floodSignal()
	repeat.Severity = signal.Medium
	repeat.First, repeat.Last = t0.Add(20*time.Minute), t0.Add(25*time.Minute)
	if raised := Update(&f, repeat, ctx, t0.Add(30*time.Minute)); raised {
		t.Error("same severity reported as raised")
	}
	if f.ProductFields[FieldCount] != "2" || f.LastObservedAt != "2026-03-04T10:27:00.000Z" || f.FirstObservedAt != "2026-03-04T10:02:00.000Z" {
		t.Errorf("after repeat: count %s, observed %s..%s", f.ProductFields[FieldCount], f.FirstObservedAt, f.LastObservedAt)
	}

	worse := floodSignal()
	worse.Severity = signal.Critical
	worse.Title = "worse"
	if raised := Update(&f, worse, ctx, t0.Add(40*time.Minute)); !raised {
		t.Error("higher severity not reported as raised")
	}
	if f.Severity.Label != "CRITICAL" || f.Title != "worse" || f.ProductFields[FieldCount] != "3" {
		t.Errorf("after raise: %s %q count %s", f.Severity.Label, f.Title, f.ProductFields[FieldCount])
	}
	if f.UpdatedAt != "2026-03-04T10:42:00.000Z" || f.CreatedAt != "2026-03-04T10:02:00.000Z" {
		t.Errorf("created %s updated %s", f.CreatedAt, f.UpdatedAt)
	}

	milder := floodSignal()
	milder.Severity = signal.Low
	milder.Title = "milder"
	if raised := Update(&f, milder, ctx, t0.Add(50*time.Minute)); raised || f.Severity.Label != "CRITICAL" || f.Title != "worse" {
		t.Errorf("a milder repeat lowered the finding: %s %q", f.Severity.Label, f.Title)
	}
}

func TestRecommendNamesTheWorkload(t *testing.T) {
	tests := []struct {
		workload, technique string
		want                []string
	}{
		{"eks/prod/shop/Deployment/cart", "T1498.001", []string{"deployment/cart", "-n shop"}},
		{"eks/prod/default/Pod/debug-miner", "T1610", []string{"label pod debug-miner", "-n default"}},
		{"ecs/ecs-prod/service/orders", "T1498.001", []string{"--cluster ecs-prod --service orders"}},
		{"ecs/ecs-prod/task/batch", "T1499", []string{"--family batch"}},
		{"vpc/eni-1/10.0.0.5", "T1205", []string{"eni-1"}},
		{"eks/prod/shop/Deployment/cart", "T1609", []string{"ask mallory"}},
	}
	for _, tt := range tests {
		sig := &signal.Signal{Workload: tt.workload, Technique: tt.technique, Actor: "mallory"}
		got := Recommend(sig)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("Recommend(%s, %s) = %q, want it to contain %q", tt.workload, tt.technique, got, w)
			}
		}
		if len(got) > MaxRecommendation {
			t.Errorf("Recommend(%s) is %d bytes", tt.workload, len(got))
		}
	}
}

// TestSeriesField: a measurement's series rides in FieldSeries and reads
// back whole; one too long for a product field keeps its newest steps.
func TestSeriesField(t *testing.T) {
	sig := floodSignal()
	start := t0.Add(-3 * time.Minute)
	sig.Measurement.Series = &signal.Series{
		Start: start, Step: time.Minute,
		Observed: []float64{2.1e7, math.NaN(), 2.6e7, 1.2e9},
		Low:      []float64{1e7, 1e7, 1e7, 1e7},
		High:     []float64{4e7, 4e7, 4e7, 4e7},
	}
	f := New(sig, Context{}, t0)
	got, ok, err := SeriesOf(&f)
	if err != nil || !ok {
		t.Fatalf("SeriesOf: ok %v, err %v; field %q", ok, err, f.ProductFields[FieldSeries])
	}
	if !got.Start.Equal(start) || got.Step != time.Minute || got.Len() != 4 {
		t.Fatalf("series start %v step %v len %d", got.Start, got.Step, got.Len())
	}
	if got.Observed[0] != 2.1e7 || !math.IsNaN(got.Observed[1]) || got.Observed[3] != 1.2e9 || got.High[2] != 4e7 {
		t.Errorf("values %v / %v", got.Observed, got.High)
	}

	long := &signal.Series{Start: start, Step: time.Minute}
	for i := range 200 {
		long.Observed = append(long.Observed, 123456.789+float64(i))
		long.Low = append(long.Low, 1234.5678)
		long.High = append(long.High, 98765.4321)
	}
	sig.Measurement.Series = long
	f = New(sig, Context{}, t0)
	v := f.ProductFields[FieldSeries]
	if len(v) > MaxFieldValueLen {
		t.Fatalf("series field %d bytes", len(v))
	}
	got, _, err = SeriesOf(&f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() == 0 || got.Len() >= 200 || !got.At(got.Len()-1).Equal(long.At(199)) {
		t.Errorf("trimmed series has %d steps ending %v, want fewer than 200 ending %v",
			got.Len(), got.At(got.Len()-1), long.At(199))
	}

	f.ProductFields[FieldSeries] = `{"start":"2026-03-04T10:00:00Z","step":60,"observed":[1],"low":[],"high":[1]}`
	if _, ok, err := SeriesOf(&f); !ok || !errors.Is(err, signal.ErrSeries) {
		t.Errorf("ragged series: ok %v err %v, want ErrSeries", ok, err)
	}
	delete(f.ProductFields, FieldSeries)
	if _, ok, err := SeriesOf(&f); ok || err != nil {
		t.Errorf("no series: ok %v err %v", ok, err)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefgh", 6, "abc…"},
		{"ééééé", 7, "éé…"}, // never inside a rune
		{"abcdef", 1, "…"},  // shorter than the mark: the mark alone
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
