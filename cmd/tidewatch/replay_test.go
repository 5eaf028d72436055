package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/report"
)

// readFindings reads a file of findings, one per line, as replay writes
// them and report reads them; a line that is not a finding fails the test.
func readFindings(t *testing.T, path string) []finding.Finding {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, skips, err := report.Read(path, f)
	if err != nil || len(skips) > 0 {
		t.Fatalf("%s: %v %v", path, err, skips)
	}
	return fs
}

// TestReplayFalcoSamples replays Falco's captured audit events (copied
// with their SOURCE note into shared/k8saudit/testdata/falco): the attacks
// give findings, their benign counterparts none, and the malformed
// fal_01_003.json is reported without stopping the run.
func TestReplayFalcoSamples(t *testing.T) {
	out := filepath.Join(t.TempDir(), "findings.jsonl")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"replay", "--out", out, "../../shared/k8saudit/testdata/falco"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	got := map[string]bool{}
	count := map[string]int{}
	var lines []string
	for _, f := range readFindings(t, out) {
		key := f.ProductFields[finding.FieldDetector] + " " + f.ProductFields[finding.FieldWorkload]
		got[key] = true
		n, _ := strconv.Atoi(f.ProductFields[finding.FieldCount])
		count[f.ProductFields[finding.FieldDetector]] += n
		lines = append(lines, key+" "+f.Severity.Label)
		for _, k := range []string{finding.FieldDetector, finding.FieldTechnique, finding.FieldWorkload} {
			if f.ProductFields[k] == "" {
				t.Errorf("finding %s lacks %s", f.ID, k)
			}
		}
		if f.SchemaVersion != finding.SchemaVersion || f.AwsAccountID == "" || f.Title == "" {
			t.Errorf("finding %s is not complete ASFF: %+v", f.ID, f)
		}
	}
	sort.Strings(lines)
	want := []string{
		"k8s-exec eks/unknown/default/Deployment/nginx-deployment",       // exec_pod.json, attach_pod.json
		"k8s-privileged eks/unknown/default/Deployment/nginx-deployment", // privileged, hostNetwork, sensitive mounts
	}
	// exec and attach; privileged (1st, 2nd, 2nd without securityContext
	// on the 1st), hostNetwork, sensitive mount (1st and 2nd container).
	if count["k8s-exec"] != 2 || count["k8s-privileged"] != 6 {
		t.Errorf("occurrences = %v, want k8s-exec 2 and k8s-privileged 6", count)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no finding %q; got:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	for k := range got {
		if !strings.HasPrefix(k, "k8s-exec ") && !strings.HasPrefix(k, "k8s-privileged ") {
			t.Errorf("unexpected finding %q (benign samples must stay quiet)", k)
		}
	}
	if !strings.Contains(stderr.String(), "fal_01_003.json") || !strings.Contains(stderr.String(), "bad audit event") {
		t.Errorf("fal_01_003.json not reported as a bad record:\n%s", stderr.String())
	}
}
