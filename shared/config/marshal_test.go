package config

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []Config{Default(), exampleConfig(), {}} {
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data, "marshalled.json")
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v\n%s", err, data)
		}
		want := c
		if want.LearningPeriod == 0 {
			want.LearningPeriod = DefaultLearningPeriod // an unset period reads back as the default
		}
		if diff := cmp.Diff(want, back, cmpOpts); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s\n%s", diff, data)
		}
		var viaJSON Config
		if err := json.Unmarshal(data, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(back, viaJSON, cmpOpts); diff != "" {
			t.Errorf("json.Unmarshal differs from Parse (-parse +unmarshal):\n%s", diff)
		}
	}
}

func TestMarshalForm(t *testing.T) {
	data, err := json.Marshal(exampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"learningPeriod":"14d"`, `"minSeverity":"HIGH"`, `"allow":["10.0.0.0/8","198.51.100.0/24","2001:db8:1234::/48"]`,
		`"days":["Sat"],"from":"22:00","to":"04:00","timezone":"Europe/Paris"`,
		`"start":"2026-03-01T01:00:00Z","end":"2026-03-01T05:00:00Z"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Marshal output lacks %s:\n%s", want, data)
		}
	}
}

func TestRuleAndWindowJSON(t *testing.T) {
	r := Rule{Detectors: []string{"net-beacon"}, Workloads: []string{"eks/prod/*/Deployment/agent"},
		Destinations: []netip.Prefix{pfx("198.51.100.0/24")}, Reason: "vendor telemetry"}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var r2 Rule
	if err := json.Unmarshal(data, &r2); err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if diff := cmp.Diff(r, r2, cmpOpts); diff != "" {
		t.Errorf("rule round trip (-want +got):\n%s", diff)
	}

	w := Window{Namespaces: []string{"batch"}, Days: []time.Weekday{time.Monday, time.Friday},
		From: 23 * time.Hour, To: time.Hour, Timezone: "Asia/Tokyo", Reason: "reindex"}
	data, err = json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var w2 Window
	if err := json.Unmarshal(data, &w2); err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if diff := cmp.Diff(w, w2, cmpOpts); diff != "" {
		t.Errorf("window round trip (-want +got):\n%s", diff)
	}
	// Monday 23:30 Tokyo is 14:30 UTC.
	if !w2.Active(utc("2026-03-02T14:30:00Z")) {
		t.Error("unmarshalled window not active Monday 23:30 Tokyo")
	}

	var bad Rule
	err = json.Unmarshal([]byte(`{"detectors":["nope"]}`), &bad)
	var verr *ValidationError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), `rule.detectors[0]: unknown detector "nope"`) {
		t.Errorf("Unmarshal(bad rule) error = %v", err)
	}
	var badW Window
	if err := json.Unmarshal([]byte(`{"from":"01:00"}`), &badW); !errors.As(err, &verr) {
		t.Errorf("Unmarshal(bad window) error = %v, want *ValidationError", err)
	}
}

func TestMerge(t *testing.T) {
	c := exampleConfig()
	stored := Config{
		Ignore:             []Rule{{Detectors: []string{"k8s-bare-pod"}, Namespaces: []string{"sandbox"}}},
		MaintenanceWindows: []Window{{Start: utc("2026-04-01T00:00:00Z"), End: utc("2026-04-02T00:00:00Z")}},
		LearningPeriod:     time.Hour, // not merged
	}
	c.Merge(stored)
	if len(c.Ignore) != 4 || len(c.MaintenanceWindows) != 3 || c.LearningPeriod != 14*24*time.Hour {
		t.Fatalf("Merge: %d rules, %d windows, period %v", len(c.Ignore), len(c.MaintenanceWindows), c.LearningPeriod)
	}
	if ok, reason := c.Suppressed("k8s-bare-pod", "eks/c/sandbox/Pod/x", "sandbox", "", "", netip.Addr{}, utc("2026-01-01T00:00:00Z")); !ok || reason != "ignore[3]" {
		t.Errorf("merged rule: Suppressed = %v, %q", ok, reason)
	}
	if ok, reason := c.Suppressed("res-cpu", "eks/c/shop/Deployment/x", "shop", "", "", netip.Addr{}, utc("2026-04-01T12:00:00Z")); !ok || reason != "maintenanceWindows[2]" {
		t.Errorf("merged window: Suppressed = %v, %q", ok, reason)
	}
}

func TestProblemString(t *testing.T) {
	for _, tt := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Column: 5, Key: "region", Message: "bad"}, "a.yaml:3:5: region: bad"},
		{Problem{File: "env", Key: "TIDEWATCH_REGION", Message: "bad"}, "env: TIDEWATCH_REGION: bad"},
		{Problem{File: "a.yaml", Line: 1, Column: 1, Message: "syntax: x"}, "a.yaml:1:1: syntax: x"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "{}", "learningPeriod: 1d12h", "ignore: [{detectors: '*'}]",
		"maintenanceWindows: [{from: '23:00', to: '01:00', days: [sat], timezone: Asia/Tokyo}]",
		"destinations: {allow: ['::ffff:10.0.0.0/104', 10.0.0.1]}", "a: &a [*a]", "sensitivity: {res-cpu: 1e-300}",
		"registries: {allow: ['*.Example.com/x']}", "flowFormat: ${a}\t${b}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("error %v is not a *ValidationError with problems", err)
			}
			for _, p := range verr.Problems {
				if p.Message == "" || p.File != "fuzz.yaml" {
					t.Fatalf("incomplete problem %+v", p)
				}
			}
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(out, "again.json")
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(data))) failed: %v\ndata: %q\nmarshalled: %s", err, data, out)
		}
		if diff := cmp.Diff(c, back, cmpOpts); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s\ndata: %q", diff, data)
		}
		// Matching never panics on what Parse accepted.
		c.Suppressed("res-cpu", "eks/c/ns/Deployment/w", "ns", "u", "i", netip.MustParseAddr("10.0.0.1"), utc("2026-03-07T22:00:00Z"))
		c.RegistryAllowed("ghcr.io/acme/x:1")
	})
}
