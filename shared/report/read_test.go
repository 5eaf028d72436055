package report_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/report"
)

// TestReadSkipsMalformedLines: a line that is not a finding is named by
// its line number and skipped; the findings around it are still read.
func TestReadSkipsMalformedLines(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "malformed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, skips, err := report.Read("malformed.jsonl", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || !strings.HasPrefix(fs[0].ID, "tidewatch/k8s-exec/") || !strings.HasPrefix(fs[1].ID, "tidewatch/k8s-privileged/") {
		t.Errorf("read %d findings: %+v", len(fs), fs)
	}
	var got []string
	for _, s := range skips {
		got = append(got, s.String())
	}
	want := []string{
		"malformed.jsonl:2: malformed JSON at byte 46: unexpected end of JSON input",
		"malformed.jsonl:4: not a JSON object",
		"malformed.jsonl:5: not an ASFF finding: no Id",
		"malformed.jsonl:7: not an ASFF finding: json: cannot unmarshal string into Go struct field Finding.Severity of type finding.Severity",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
}

func TestReadLineEndings(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
	noFinalNewline := bytes.TrimRight(src, "\n")
	for name, in := range map[string][]byte{"LF": src, "CRLF": crlf, "no final newline": noFinalNewline} {
		t.Run(name, func(t *testing.T) {
			fs, skips, err := report.Read(name, bytes.NewReader(in))
			if err != nil || len(skips) > 0 || len(fs) != 7 {
				t.Errorf("read %d findings, skips %v, err %v", len(fs), skips, err)
			}
		})
	}
}

func TestReadLongLine(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	long := `{"Id":"x","Title":"` + strings.Repeat("a", report.MaxLine) + `"}` + "\n"
	in := long + string(src)
	fs, skips, err := report.Read("big", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 7 || len(skips) != 1 || skips[0].Line != 1 || !strings.Contains(skips[0].Reason, "longer than") {
		t.Errorf("read %d findings, skips %v", len(fs), skips)
	}
}

// FuzzRead: any input is read without panicking, every finding read has
// an Id, and whatever was read renders in both forms.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"findings.jsonl", "malformed.jsonl"} {
		file, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		file.Close()
	}
	f.Add([]byte(`{"Id":"a","ProductFields":{"tidewatch/series":"{\"start\":\"2026-03-05T10:00:00Z\",\"step\":9223372036,\"observed\":[1,null,3],\"low\":[0,0,0],\"high\":[1,1,1]}","tidewatch/observed":"NaN","tidewatch/bandLow":"-1","tidewatch/bandHigh":"1e308"}}`))
	f.Add([]byte(`{"Id":"b","FirstObservedAt":"0001-01-01T00:00:00Z","LastObservedAt":"9999-12-31T23:59:59Z","RelatedFindings":[{"Id":"b"},{"Id":"a"}],"Remediation":{"Recommendation":{"Text":"1) a 2) b 1) c","Url":"ftp://x"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, skips, err := report.Read("fuzz", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if len(fs)+len(skips) > lines {
			t.Fatalf("%d findings and %d skips from %d lines", len(fs), len(skips), lines)
		}
		for _, fd := range fs {
			if strings.TrimSpace(fd.ID) == "" {
				t.Fatal("a finding without Id was read")
			}
		}
		r := report.New(fs, report.Options{})
		var buf bytes.Buffer
		if err := r.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteHTML(&buf); err != nil {
			t.Fatal(err)
		}
	})
}
