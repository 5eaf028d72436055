package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestList(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    []string
		wantErr bool
	}{
		{"unset", nil, nil, false},
		{"json array from cdk.json", []any{"prod", " stage "}, []string{"prod", "stage"}, false},
		{"comma-separated from -c", "prod, stage,,", []string{"prod", "stage"}, false},
		{"single value", "prod", []string{"prod"}, false},
		{"json array as string", `["a","b"]`, []string{"a", "b"}, false},
		{"empty string", "", nil, false},
		{"bad json", `["a",`, nil, true},
		{"number item", []any{"a", 1.0}, nil, true},
		{"number", 3.0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := List(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("List(%#v) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" && !tt.wantErr {
				t.Errorf("List(%#v) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func ctx(m map[string]any) func(string) any {
	return func(k string) any { return m[k] }
}

func TestPropsFromContext(t *testing.T) {
	p, err := PropsFromContext(ctx(map[string]any{
		KeyEKSClusters:                  []any{"prod", "stage"},
		KeyECSClusters:                  "svc",
		KeyFlowLogGroups:                "/vpc/flow",
		KeyVPCIDs:                       "vpc-0123456789abcdef0",
		KeyNotifyEmails:                 `["sec@example.com"]`,
		KeySlackWorkspaceID:             "T0123",
		KeySlackChannelID:               "C0456",
		KeyLearningPeriod:               "7d",
		KeyMemberAccounts:               "111111111111,222222222222",
		KeyLogRetentionDays:             "90",
		Flowlogs + keyConcurrencySuffix: 20.0,
		Audit + keyConcurrencySuffix:    "0",
		KeyAssetDir:                     "out",
		"somethingTheStackDoesNotRead":  "x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := &TidewatchStackProps{
		AssetDir:         "out",
		EKSClusters:      []string{"prod", "stage"},
		ECSClusters:      []string{"svc"},
		FlowLogGroups:    []string{"/vpc/flow"},
		VPCIDs:           []string{"vpc-0123456789abcdef0"},
		NotifyEmails:     []string{"sec@example.com"},
		SlackWorkspaceID: "T0123",
		SlackChannelID:   "C0456",
		LearningPeriod:   "7d",
		MemberAccounts:   []string{"111111111111", "222222222222"},
		LogRetentionDays: 90,
		Flowlogs:         FunctionSettings{ReservedConcurrency: 20},
		Audit:            FunctionSettings{ReservedConcurrency: -1},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("props mismatch (-want +got):\n%s", diff)
	}
	if got := p.settings(Audit); got.ReservedConcurrency != -1 || got.MemoryMB != 512 {
		t.Errorf("audit settings = %+v, want unreserved with default memory", got)
	}
	if got := p.settings(Metrics); got != DefaultFunctionSettings(Metrics) {
		t.Errorf("metrics settings = %+v, want defaults", got)
	}
}

func TestPropsFromContextRejects(t *testing.T) {
	tests := map[string]map[string]any{
		"short account":        {KeyMemberAccounts: "12345"},
		"bad vpc":              {KeyVPCIDs: "vpc_123"},
		"bad email":            {KeyNotifyEmails: "security"},
		"slash in cluster":     {KeyEKSClusters: "a/b"},
		"slack half set":       {KeySlackChannelID: "C1"},
		"bad period":           {KeyLearningPeriod: "soon"},
		"bad retention":        {KeyLogRetentionDays: 31.0},
		"negative concurrency": {Metrics + keyConcurrencySuffix: -3.0},
		"list as number":       {KeyEKSClusters: 1.0},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := PropsFromContext(ctx(m)); err == nil {
				t.Errorf("PropsFromContext(%v) = nil error, want one", m)
			}
		})
	}
}

func TestDefaultFlowLogFormat(t *testing.T) {
	for _, f := range []string{"pkt-srcaddr", "pkt-dstaddr", "tcp-flags", "flow-direction", "traffic-path", "ecs-task-id", "ecs-service-name"} {
		if !strings.Contains(DefaultFlowLogFormat, "${"+f+"}") {
			t.Errorf("DefaultFlowLogFormat lacks %s", f)
		}
	}
	if !strings.HasPrefix(DefaultFlowLogFormat, "${version} ${account-id} ${interface-id}") {
		t.Errorf("DefaultFlowLogFormat does not start with the v2 fields: %s", DefaultFlowLogFormat)
	}
	if n := len(strings.Fields(DefaultFlowLogFormat)); n != len(FlowLogFields) || n != 39 {
		t.Errorf("DefaultFlowLogFormat has %d fields, want 39", n)
	}
}

func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	if err := CheckAssets(dir); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("CheckAssets(empty) = %v, want a hint to run make build", err)
	}
	writeAssets(t, dir)
	if err := CheckAssets(dir); err != nil {
		t.Errorf("CheckAssets(complete) = %v", err)
	}
}

// writeAssets fills dir with dummy bootstrap files, as `make build` would.
func writeAssets(t *testing.T, dir string) {
	t.Helper()
	for _, name := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
