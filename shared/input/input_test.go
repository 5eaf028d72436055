package input

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// trace records what a Handler is given, in order.
type trace struct {
	lines []string
	times []time.Time
}

func (t *trace) add(kind string, at time.Time, detail string) {
	t.lines = append(t.lines, kind+" "+detail)
	t.times = append(t.times, at)
}

func (t *trace) Batch(b *cwlogs.Batch, where string) {
	t.add("batch", time.UnixMilli(b.LogEvents[0].Timestamp), b.LogGroup)
}
func (t *trace) Flow(r *flowlog.Record, where string) {
	t.add("flow", time.Unix(r.Start, 0), r.SrcAddr.String())
}
func (t *trace) Audit(ev *k8saudit.Event, where string) { t.add("audit", ev.Time(), ev.Verb) }
func (t *trace) Insights(ev *insights.Event, where string) {
	t.add("insights", ev.Time, ev.Type)
}
func (t *trace) Skip(reason, where string, err error) {
	t.lines = append(t.lines, "skip "+reason+" "+filepath.Base(where))
	t.times = append(t.times, time.Time{})
}

func write(t *testing.T, path, content string, gz bool) {
	t.Helper()
	data := []byte(content)
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func auditEvent(verb string, at time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"%s","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"default"},"responseStatus":{"code":200},"requestReceivedTimestamp":"%s","stageTimestamp":"%s"}`,
		verb, verb, at.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
}

// TestReadMergesByEventTime: files of every kind, gzip or not, are
// recognised by content and their records come out in event-time order;
// bad lines and unknown files are reported and reading goes on.
func TestReadMergesByEventTime(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	flows := "version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		fmt.Sprintf("2 10.0.0.1 10.0.0.2 1 2 6 1 40 %d %d ACCEPT OK\n", t0.Add(time.Minute).Unix(), t0.Add(2*time.Minute).Unix()) +
		"2 10.0.0.1 oops 1 2 6 1 40 1 2 ACCEPT OK\n" +
		fmt.Sprintf("2 10.0.0.3 10.0.0.2 1 2 6 1 40 %d %d ACCEPT OK\n", t0.Add(3*time.Minute).Unix(), t0.Add(4*time.Minute).Unix())
	write(t, filepath.Join(dir, "s3", "flows.log.gz"), flows, true)
	write(t, filepath.Join(dir, "audit.jsonl"),
		auditEvent("create", t0)+"\n{not json\n"+auditEvent("delete", t0.Add(150*time.Second))+"\n", false)
	write(t, filepath.Join(dir, "list.json"),
		`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`+auditEvent("get", t0.Add(30*time.Second))+`]}`, false)
	write(t, filepath.Join(dir, "notes.bin"), "hello there, nothing to see\n", false)
	write(t, filepath.Join(dir, "README.md"), "# skipped by name\n", false)
	write(t, filepath.Join(dir, ".hidden", "x.json"), auditEvent("create", t0), false)

	var tr trace
	if err := Read([]string{dir}, Options{}, &tr); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tr.lines, "\n")
	want := strings.Join([]string{
		"skip malformed JSON audit.jsonl#2 (byte 0)",
		"skip unrecognised content notes.bin",
	}, "\n")
	var records, skips []string
	var last time.Time
	for i, l := range tr.lines {
		if strings.HasPrefix(l, "skip ") {
			skips = append(skips, l)
			continue
		}
		records = append(records, l)
		if tr.times[i].Before(last) {
			t.Errorf("%q comes after a later record", l)
		}
		last = tr.times[i]
	}
	wantRecords := []string{"audit create", "audit get", "flow 10.0.0.1", "audit delete", "flow 10.0.0.3"}
	if strings.Join(records, ",") != strings.Join(wantRecords, ",") {
		t.Errorf("records = %v, want %v", records, wantRecords)
	}
	for _, frag := range []string{"malformed JSON audit.jsonl", "unrecognised content notes.bin", "bad flow record flows.log.gz"} {
		if !strings.Contains(strings.Join(skips, "\n"), frag) {
			t.Errorf("no skip %q in:\n%s", frag, got)
		}
	}
	if len(skips) != 3 {
		t.Errorf("skips = %v, want 3 (%s)", skips, want)
	}
}

// skipCap is a trace that stops Read, by panicking, when it is handed
// more skips than the input holds: a stream that reports the same error
// over and over never ends.
type skipCap struct {
	trace
	skips, max int
}

func (h *skipCap) Skip(reason, where string, err error) {
	h.trace.Skip(reason, where, err)
	if h.skips++; h.skips > h.max {
		panic(fmt.Sprintf("skip %d (%s: %v): Read goes on after the file's end", h.skips, reason, err))
	}
}

// TestReadTruncatedGzip: a gzip file cut short is read up to the cut, its
// read error is reported once, and the file ends there.
func TestReadTruncatedGzip(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var flows, audit strings.Builder
	flows.WriteString("version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range 4000 {
		at := t0.Add(time.Duration(i) * time.Second)
		fmt.Fprintf(&flows, "2 10.0.%d.%d 10.0.0.2 1 2 6 1 40 %d %d ACCEPT OK\n", i/250, i%250, at.Unix(), at.Unix()+60)
		audit.WriteString(auditEvent("get", at) + "\n")
	}
	for _, tc := range []struct {
		name, content, reason string
	}{
		{"flows.log.gz", flows.String(), "bad flow record"},
		{"audit.jsonl.gz", audit.String(), "unreadable file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name)
			write(t, path, tc.content, true)
			gz, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, gz[:len(gz)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			h := skipCap{max: 2}
			if err := Read([]string{path}, Options{}, &h); err != nil {
				t.Fatal(err)
			}
			var skips []string
			for _, l := range h.lines {
				if strings.HasPrefix(l, "skip ") {
					skips = append(skips, l)
				}
			}
			if want := "skip " + tc.reason + " " + tc.name; len(skips) != 1 || !strings.HasPrefix(skips[0], want) {
				t.Errorf("skips = %q, want one %q", skips, want)
			}
			if records := len(h.lines) - len(skips); records < 100 || records >= 4000 {
				t.Errorf("%d records before the cut, want some but not all", records)
			}
		})
	}
}

// TestReadBadLines: each bad line of a JSON-lines file costs one skip and
// the lines around it are read, however many there are, next to each
// other, after blank lines or at the end without a newline.
func TestReadBadLines(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ev := func(verb string) string { return auditEvent(verb, t0) }
	var b strings.Builder
	b.WriteString(ev("get") + "\n{bad\n]bad\r\n\n  \n\t{\"bad\":\n" + ev("create") + " " + ev("delete") + " {bad\n")
	for range 500 {
		b.WriteString(ev("list") + "\n{bad}\n")
	}
	b.WriteString(ev("patch") + "\n{bad")
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	write(t, path, b.String(), false)
	h := skipCap{max: 505}
	if err := Read([]string{path}, Options{}, &h); err != nil {
		t.Fatal(err)
	}
	verbs := map[string]int{}
	for _, l := range h.lines {
		verbs[strings.Fields(l)[1]]++
	}
	want := map[string]int{"get": 1, "create": 1, "delete": 1, "list": 500, "patch": 1, "malformed": 505}
	if fmt.Sprint(verbs) != fmt.Sprint(want) {
		t.Errorf("records and skips by verb = %v, want %v", verbs, want)
	}
}
