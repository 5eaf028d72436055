package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/securityhub"
)

const reportFixtures = "../../shared/report/testdata/"

var findingIDRE = regexp.MustCompile(`data-finding-id="([^"]*)"`)

// pageIDs returns the ids of the findings on an HTML report.
func pageIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range findingIDRE.FindAllStringSubmatch(string(b), -1) {
		ids[html.UnescapeString(m[1])] = true
	}
	return ids
}

func TestReportFromFiles(t *testing.T) {
	page := filepath.Join(t.TempDir(), "report.html")
	var stdout, stderr bytes.Buffer
	err := reportCmd(context.Background(), []string{"--html", page, reportFixtures + "findings.jsonl"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"SEVERITY  TECHNIQUE", "CRITICAL  T1498.001  eks/prod/shop/Deployment/cart",
		"7 findings: CRITICAL=2 HIGH=4 LOW=1; 1 suppressed"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "report: wrote "+page) {
		t.Errorf("stderr = %q", stderr.String())
	}
	ids := pageIDs(t, page)
	for _, f := range readFindings(t, reportFixtures+"findings.jsonl") {
		if !ids[f.ID] {
			t.Errorf("the page lacks finding %s", f.ID)
		}
	}

	// --quiet prints no table; --min-severity narrows both outputs.
	stdout.Reset()
	err = reportCmd(context.Background(), []string{"--quiet", "--min-severity", "critical", "--html", page, reportFixtures + "findings.jsonl"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("--quiet printed:\n%s", stdout.String())
	}
	if ids := pageIDs(t, page); len(ids) != 2 {
		t.Errorf("--min-severity critical: %d findings on the page, want 2", len(ids))
	}
}

// TestReportMalformedLines: each bad line is named with its file and
// line, the rest is still shown, and the command fails at the end so that
// a script notices.
func TestReportMalformedLines(t *testing.T) {
	page := filepath.Join(t.TempDir(), "report.html")
	var stdout, stderr bytes.Buffer
	err := reportCmd(context.Background(), []string{"--html", page, reportFixtures + "malformed.jsonl", reportFixtures + "findings.jsonl"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "skipped 4 lines") {
		t.Errorf("error = %v, want one counting 4 skipped lines", err)
	}
	for _, want := range []string{"malformed.jsonl:2: malformed JSON", "malformed.jsonl:4: not a JSON object",
		"malformed.jsonl:5: not an ASFF finding: no Id", "malformed.jsonl:7:"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	// The two good lines of malformed.jsonl repeat findings of
	// findings.jsonl: seven findings in all.
	if !strings.Contains(stdout.String(), "7 findings") {
		t.Errorf("table:\n%s", stdout.String())
	}
	if len(pageIDs(t, page)) != 7 {
		t.Error("the page was not written in full")
	}
}

func TestReportStdin(t *testing.T) {
	f, err := os.Open(reportFixtures + "findings.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	var stdout, stderr bytes.Buffer
	if err := reportCmd(context.Background(), []string{"-"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "7 findings") {
		t.Errorf("table:\n%s", stdout.String())
	}
}

func TestReportHelpAndBadArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := reportCmd(context.Background(), []string{"--help"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	for _, want := range []string{"Usage: tidewatch report [--html FILE]", "tidewatch report --securityhub", "-min-severity LEVEL",
		"-since DURATION", "Examples:", "tidewatch report --securityhub --since 24h --html report.html", "exits with status 1"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "name at least one file"},
		{[]string{"--securityhub", "f.jsonl"}, "not both"},
		{[]string{"--since", "24h", "f.jsonl"}, "--since applies to --securityhub only"},
		{[]string{"--min-severity", "urgent", "f.jsonl"}, `unknown severity "urgent"`},
		{[]string{"no-such-file.jsonl"}, "no-such-file.jsonl"},
	} {
		stderr.Reset()
		err := reportCmd(context.Background(), tt.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("report %q: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

// TestReportSecurityHub imports findings into Security Hub (moto) with
// tidewatch's publisher and reads them back with report --securityhub:
// tidewatch's findings come back whole (their series is charted, their
// correlation resolved), another product's do not, and --since leaves out
// those not updated recently.
func TestReportSecurityHub(t *testing.T) {
	awsEnv(t)
	// A region of its own: the end-to-end test imports the same sample
	// findings into the same moto server, maybe at the same time.
	t.Setenv("AWS_REGION", "eu-west-1")
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs := readFindings(t, reportFixtures+"findings.jsonl")
	// Ids unique to this run (moto keeps what earlier tests imported), in
	// moto's account, updated now except the last, updated two days ago.
	suffix := fmt.Sprintf("/%s-%d", t.Name(), time.Now().UnixNano())
	arn := finding.ProductArn("aws", "us-east-1", "123456789012")
	now := time.Now().UTC()
	for i := range fs {
		fs[i].ID += suffix
		fs[i].AwsAccountID, fs[i].ProductArn = "123456789012", arn
		for j := range fs[i].RelatedFindings {
			fs[i].RelatedFindings[j].ID += suffix
			fs[i].RelatedFindings[j].ProductArn = arn
		}
		fs[i].CreatedAt = finding.Timestamp(now.Add(-72 * time.Hour))
		fs[i].UpdatedAt = finding.Timestamp(now)
	}
	old := &fs[len(fs)-1]
	old.UpdatedAt = finding.Timestamp(now.Add(-48 * time.Hour))
	foreign := fs[0]
	foreign.ID = "other-product/finding" + suffix
	foreign.GeneratorID, foreign.ProductName = "other-product/rule", "Other"
	hub := awssecurityhub.NewFromConfig(cfg)
	if err := securityhub.New(hub).Publish(ctx, append(append([]finding.Finding(nil), fs...), foreign)); err != nil {
		t.Fatalf("import: %v", err)
	}

	page := filepath.Join(t.TempDir(), "all.html")
	var stdout, stderr bytes.Buffer
	if err := reportCmd(ctx, []string{"--securityhub", "--quiet", "--html", page}, &stdout, &stderr); err != nil {
		t.Fatalf("report --securityhub: %v\n%s", err, stderr.String())
	}
	ids := pageIDs(t, page)
	for _, f := range fs {
		if !ids[f.ID] {
			t.Errorf("finding %s imported but not reported", f.ID)
		}
	}
	if ids[foreign.ID] {
		t.Error("another product's finding is reported")
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if !strings.Contains(body, `<polyline class="observed"`) || !strings.Contains(body, "names this finding: <a href=") {
		t.Error("the findings read back lost their series or their correlation")
	}
	if !strings.Contains(body, "from Security Hub eu-west-1") {
		t.Error("the page does not say where the findings came from")
	}

	recent := filepath.Join(t.TempDir(), "recent.html")
	stdout.Reset()
	if err := reportCmd(ctx, []string{"--securityhub", "--since", "24h", "--html", recent}, &stdout, &stderr); err != nil {
		t.Fatalf("report --securityhub --since 24h: %v\n%s", err, stderr.String())
	}
	ids = pageIDs(t, recent)
	for _, f := range fs {
		if want := f.ID != old.ID; ids[f.ID] != want {
			t.Errorf("--since 24h: finding %s (updated %s) reported = %v, want %v", f.ID, f.UpdatedAt, ids[f.ID], want)
		}
	}
	if !strings.Contains(stdout.String(), "SEVERITY  TECHNIQUE") {
		t.Errorf("no table:\n%s", stdout.String())
	}
}
