package report_test

import (
	"bytes"
	"context"
	goldenfile "github.com/tidewatch/tidewatch/shared/golden"
	"html"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/report"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// load reads a testdata file of findings, failing on any skipped line.
func load(t testing.TB, name string) []finding.Finding {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, skips, err := report.Read(name, f)
	if err != nil || len(skips) > 0 {
		t.Fatalf("read %s: %v %v", name, err, skips)
	}
	return fs
}

// golden compares got with testdata/name (see package golden).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func render(t testing.TB, fs []finding.Finding, opts report.Options) (text, page string) {
	t.Helper()
	r := report.New(fs, opts)
	var tb, hb bytes.Buffer
	if err := r.WriteText(&tb); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&hb); err != nil {
		t.Fatal(err)
	}
	return tb.String(), hb.String()
}

func TestGolden(t *testing.T) {
	text, page := render(t, load(t, "findings.jsonl"), report.Options{Source: "testdata/findings.jsonl"})
	golden(t, "report.golden.txt", []byte(text))
	golden(t, "report.golden.html", []byte(page))
	// The same findings in another order give the same bytes.
	fs := load(t, "findings.jsonl")
	for i, j := 0, len(fs)-1; i < j; i, j = i+1, j-1 {
		fs[i], fs[j] = fs[j], fs[i]
	}
	text2, page2 := render(t, fs, report.Options{Source: "testdata/findings.jsonl"})
	if text2 != text || page2 != page {
		t.Error("the output depends on the order of the input")
	}
}

func TestTextTable(t *testing.T) {
	text, _ := render(t, load(t, "findings.jsonl"), report.Options{})
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var sevs []string
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		sevs = append(sevs, strings.Fields(l)[0])
	}
	want := []string{"CRITICAL", "CRITICAL", "HIGH", "HIGH", "HIGH", "HIGH", "LOW"}
	if diff := cmp.Diff(want, sevs); diff != "" {
		t.Errorf("severity order (-want +got):\n%s", diff)
	}
	// Within HIGH, first seen ascending: the exec (10:00:00) first.
	if !strings.Contains(lines[3], "k8s-exec") && !strings.Contains(lines[3], "kubectl exec") {
		t.Errorf("first HIGH row is not the 10:00 exec: %s", lines[3])
	}
	if got, want := lines[len(lines)-1], "7 findings: CRITICAL=2 HIGH=4 LOW=1; 1 suppressed"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if !strings.Contains(text, "SUPPRESSED") || !strings.Contains(text, "2026-03-05 10:30:00") {
		t.Errorf("table lacks the status or last-seen column:\n%s", text)
	}
}

func TestMinSeverity(t *testing.T) {
	text, page := render(t, load(t, "findings.jsonl"), report.Options{MinSeverity: signal.High})
	if strings.Contains(text, "LOW ") || strings.Contains(page, "aws-node-xqgq5") {
		t.Error("a LOW finding is shown with --min-severity HIGH")
	}
	if !strings.Contains(text, "6 findings: CRITICAL=2 HIGH=4; 1 below HIGH not shown") {
		t.Errorf("summary:\n%s", text)
	}
}

// TestLatestUpdateWins: one Id read twice keeps the later UpdatedAt.
func TestLatestUpdateWins(t *testing.T) {
	fs := load(t, "findings.jsonl")
	newer := fs[1]
	newer.UpdatedAt = "2026-03-06T00:00:00.000Z"
	newer.Title = "the newer version"
	older := fs[1]
	older.UpdatedAt = "2026-03-01T00:00:00.000Z"
	older.Title = "the older version"
	r := report.New([]finding.Finding{newer, fs[1], older}, report.Options{})
	got := r.Findings()
	if len(got) != 1 || got[0].Title != "the newer version" {
		t.Errorf("kept %+v", got)
	}
	if at, _ := r.AsOf(); !at.Equal(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("AsOf = %v", at)
	}
}

var (
	sectionRE  = regexp.MustCompile(`(?s)<section class="finding[^"]*" id="[^"]*" data-finding-id="([^"]*)">(.*?)</section>`)
	polylineRE = regexp.MustCompile(`<polyline class="observed" points="([^"]*)"`)
	attrURLRE  = regexp.MustCompile(`(?i)\s(href|src|xlink:href|action|formaction|poster|data)\s*=\s*"([^"]*)"`)
)

// sections maps each finding id on the page to its section's HTML.
func sections(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range sectionRE.FindAllStringSubmatch(page, -1) {
		out[html.UnescapeString(m[1])] = m[2]
	}
	return out
}

// TestHTMLProperties checks what the golden file cannot promise by
// itself: every finding is there, nothing is loaded from outside, the
// charts draw the data they are given.
func TestHTMLProperties(t *testing.T) {
	fs := load(t, "findings.jsonl")
	_, page := render(t, fs, report.Options{})
	secs := sections(t, page)
	for _, f := range fs {
		if _, ok := secs[f.ID]; !ok {
			t.Errorf("finding %s has no section", f.ID)
		}
		if !strings.Contains(page, `<a href="#`+anchorOf(page, f.ID)+`">`) {
			t.Errorf("the table of contents does not link to %s", f.ID)
		}
	}
	noExternalAssets(t, page, allowedLinks(fs))

	// One point per value of the series, over all the lines drawn.
	for _, f := range fs {
		s, has, err := finding.SeriesOf(&f)
		if err != nil {
			t.Fatal(err)
		}
		if !has {
			continue
		}
		values := 0
		for _, v := range s.Observed {
			if v == v { // not NaN
				values++
			}
		}
		drawn := 0
		for _, m := range polylineRE.FindAllStringSubmatch(secs[f.ID], -1) {
			drawn += len(strings.Fields(m[1]))
		}
		if drawn != values {
			t.Errorf("%s: the observed line has %d points, the series %d values", f.ID, drawn, values)
		}
	}

	byDetector := func(det, workload string) string {
		for id, s := range secs {
			if strings.HasPrefix(id, "tidewatch/"+det+"/"+workload+"/") {
				return s
			}
		}
		t.Fatalf("no section for %s %s", det, workload)
		return ""
	}
	flood := byDetector("net-flood", "eks/prod/shop/Deployment/cart")
	slow := byDetector("net-slow-flood", "eks/prod/shop/Deployment/cart")
	cpu := byDetector("res-cpu", "eks/prod/default/Pod/debug-miner")
	exec := byDetector("k8s-exec", "eks/prod/shop/Deployment/cart")
	node := byDetector("k8s-privileged", "eks/prod/kube-system/DaemonSet/aws-node")
	checks := []struct {
		name, section, want string
		present             bool
	}{
		{"log scale when the peak is 24x the band's high", flood, "log scale: peak", true},
		{"linear scale when the peak is 7x the band's high", slow, "log scale", false},
		{"byte units for bytes_out_per_min", slow, "8.39 MB/min", true},
		{"packet units", flood, "21.5k packets/min", true},
		{"alert span", flood, `<rect class="alert"`, true},
		{"time axis in UTC", flood, "2026-03-05 (UTC)", true},
		{"MITRE link", flood, `href="https://attack.mitre.org/techniques/T1498/001/"`, true},
		{"timeline of the correlated exec", flood, `class="span sev-high"`, true},
		{"band bar without a series", cpu, `<rect class="bar out"`, true},
		{"percent units", cpu, "observed 99.9%", true},
		{"unresolved related id listed as text", cpu, "not in this input: <span class=\"mono\">tidewatch/<wbr>k8s-bare-pod/", true},
		{"resolved related finding linked", cpu, "named by this finding: <a href=\"#f6\">", true},
		{"finding named by others shows them", exec, "names this finding: <a href=\"#f1\">", true},
		{"command shown as code", exec, "<code>sh -c &#39;nohup sh -c", true},
		{"actor", exec, "<th>actor</th><td>mallory</td>", true},
		{"container resource", exec, "cart-p5blrwvrrl-n5qj9/cart", true},
		{"numbered response steps", exec, `<li value="2">Isolate: apply a deny-all NetworkPolicy`, true},
		{"suppression reason", node, "Suppressed: ignore[0]: aws-node is the VPC CNI", true},
		{"suppressed badge", node, `<span class="badge sup">SUPPRESSED</span>`, true},
	}
	for _, c := range checks {
		if strings.Contains(c.section, c.want) != c.present {
			t.Errorf("%s: contains %q = %v, want %v", c.name, c.want, !c.present, c.present)
		}
	}
	if !strings.Contains(page, `class="finding sev-low suppressed"`) {
		t.Error("the suppressed finding is not marked")
	}
}

// anchorOf returns the id of the section of finding id.
func anchorOf(page, id string) string {
	m := regexp.MustCompile(`<section [^>]* id="([^"]*)" data-finding-id="` + regexp.QuoteMeta(html.EscapeString(id)) + `"`).FindStringSubmatch(page)
	if m == nil {
		return "(none)"
	}
	return m[1]
}

// allowedLinks are the only addresses outside the page that it may
// link to: the findings' technique pages and remediation URLs.
func allowedLinks(fs []finding.Finding) map[string]bool {
	ok := map[string]bool{}
	for _, f := range fs {
		if tech := f.ProductFields[finding.FieldTechnique]; tech != "" {
			ok["https://attack.mitre.org/techniques/"+strings.ReplaceAll(tech, ".", "/")+"/"] = true
		}
		if f.Remediation != nil && f.Remediation.Recommendation.URL != "" {
			ok[f.Remediation.Recommendation.URL] = true
		}
	}
	return ok
}

// noExternalAssets fails when the page could load anything or run a
// script: no <link>, <script>, <img>, <iframe>, <object>, <embed>, CSS
// url() or @import, and every href an anchor of the page or an allowed
// link.
func noExternalAssets(t *testing.T, page string, allowed map[string]bool) {
	t.Helper()
	lower := strings.ToLower(page)
	for _, bad := range []string{"<link", "<script", "<img", "<iframe", "<object", "<embed", "url(", "@import", "<base", "javascript:"} {
		if strings.Contains(lower, bad) {
			i := strings.Index(lower, bad)
			t.Errorf("page contains %q: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	for _, m := range attrURLRE.FindAllStringSubmatch(page, -1) {
		attr, v := strings.ToLower(m[1]), html.UnescapeString(m[2])
		if attr == "href" && (strings.HasPrefix(v, "#") || allowed[v]) {
			continue
		}
		t.Errorf("%s=%q is neither an anchor of the page nor an allowed link", attr, v)
	}
}

// hostile returns a finding whose every free-text attribute carries
// markup, as an attacker naming a pod or running a command could.
func hostile() []finding.Finding {
	const x = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	sig := &signal.Signal{
		Detector: "k8s-exec" + x, Technique: "T1609", Tactic: "Execution",
		Workload: "eks/prod/shop/Deployment/" + x,
		First:    time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC), Last: time.Date(2026, 3, 5, 10, 5, 0, 0, time.UTC),
		Severity: signal.High, Count: 1,
		Title:       "kubectl exec into " + x,
		Description: "ran " + x,
		Actor:       "mallory" + x, Command: "sh -c '" + x + "'",
		Measurement: &signal.Measurement{Metric: "bytes_out_per_min" + x, Observed: 9e6, Expected: 1e5, Low: 1e4, High: 2e5, Score: 9, Trained: time.Hour},
		Resources: []signal.Resource{{Type: signal.ResourceContainer, ID: "pod/" + x, Name: x, Image: x,
			Details: map[string]string{x: x}}},
		Fields:  map[string]string{"peer": x},
		Related: []string{"tidewatch/unknown/" + x},
	}
	f := finding.New(sig, finding.Context{Account: "123456789012", Region: "us-east-1"}, sig.Last)
	f.Types = append(f.Types, x)
	f.Remediation.Recommendation.URL = "javascript:alert(3)"
	f.Workflow = &finding.Workflow{Status: "SUPPRESSED"}
	f.Note = &finding.Note{Text: "Suppressed by tidewatch: " + x}
	f.ProductFields["tidewatch/suppressedBy"] = x
	other := f
	other.ID = "tidewatch/other/" + x
	other.RelatedFindings = []finding.RelatedFinding{{ID: f.ID}}
	return []finding.Finding{f, other}
}

func TestHTMLEscapesFindingText(t *testing.T) {
	fs := hostile()
	_, page := render(t, fs, report.Options{Source: "<script>alert(4)</script>"})
	noExternalAssets(t, page, map[string]bool{"https://attack.mitre.org/techniques/T1609/": true})
	if strings.Contains(page, "ZgotmplZ") {
		t.Error("an unsafe value reached a URL or attribute (html/template replaced it with ZgotmplZ)")
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(4)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the escaped text %q is not on the page", want)
		}
	}
	if !strings.Contains(page, `data-finding-id="tidewatch/k8s-exec&lt;script&gt;`) {
		t.Error("the hostile finding's id is not on the page, escaped")
	}
}

func TestTextEscapesControlCharacters(t *testing.T) {
	fs := load(t, "findings.jsonl")[:1]
	fs[0].Title = "red \x1b[31malert\x1b[0m\tand \u202eevil\nline"
	fs[0].ProductFields[finding.FieldWorkload] = "eks/prod/x/Pod/\x07bell"
	text, _ := render(t, fs, report.Options{})
	for _, c := range []string{"\x1b", "\x07", "\u202e", "\t"} {
		if strings.Contains(text, c) {
			t.Errorf("table contains the control character %q:\n%s", c, text)
		}
	}
	for _, want := range []string{`red \x1b[31malert\x1b[0m\x09and \u202eevil\x0aline`, `eks/prod/x/Pod/\x07bell`} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

func TestEmpty(t *testing.T) {
	text, page := render(t, nil, report.Options{})
	if !strings.HasSuffix(text, "\n0 findings\n") {
		t.Errorf("text = %q", text)
	}
	if !strings.Contains(page, "No findings.") {
		t.Error("the page does not say there is nothing")
	}
}

// chromium returns the path of a Chromium binary, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip("chromium is absent (neither /usr/bin/chromium nor chromium on PATH): skipping the check that the page renders; apt-get install chromium to run it")
	return ""
}

// TestRenderInChromium renders the page in headless Chromium, offline,
// and checks the screenshot shows it: many colours, including the
// critical badge's red and the learned band's blue (so the stylesheet and
// the SVG charts were both drawn).
func TestRenderInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	_, page := render(t, load(t, "findings.jsonl"), report.Options{Source: "testdata/findings.jsonl"})
	htmlPath := filepath.Join(dir, "report.html")
	if err := os.WriteFile(htmlPath, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1280,2000",
		"file://"+htmlPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %v, want 1280x2000", b)
	}
	colours := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}]++
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot has %d colours: the page did not render", len(colours))
	}
	for name, want := range map[string]color.RGBA{
		"critical red": {0x8f, 0x1d, 0x1d, 255},
		"band blue":    {0xcf, 0xe2, 0xf7, 255},
	} {
		if n := near(colours, want); n < 200 {
			t.Errorf("%s (%v) covers %d sampled pixels, want at least 200", name, want, n)
		}
	}
}

// near counts the sampled pixels within a small distance of c.
func near(colours map[color.RGBA]int, c color.RGBA) int {
	n := 0
	for k, v := range colours {
		if absDiff(k.R, c.R)+absDiff(k.G, c.G)+absDiff(k.B, c.B) <= 12 {
			n += v
		}
	}
	return n
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func BenchmarkWriteHTML(b *testing.B) {
	fs := load(b, "findings.jsonl")
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := report.New(fs, report.Options{}).WriteHTML(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
