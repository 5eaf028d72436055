package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tidewatch/tidewatch/shared/simulate"
)

// benchRecords is the size of the replay benchmarks' input; `make bench`
// sets TIDEWATCH_BENCH_RECORDS=2000000, the size the targets are set for.
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("TIDEWATCH_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 200000
}

// flowFile writes a gzip flow log of n simulated records.
func flowFile(b *testing.B, n int) string {
	b.Helper()
	var raw bytes.Buffer
	if err := simulate.FlowFile(simulate.Options{Seed: 1}, &raw, n); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "flows-"+strconv.Itoa(n)+".log.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// buildTidewatch builds the command once for the benchmarks that run it as
// a process of its own.
func buildTidewatch(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "tidewatch")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runProcess runs a command with its output discarded and returns its wall
// time and standard error.
func runProcess(b *testing.B, name string, args ...string) (time.Duration, string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	return time.Since(start), stderr.String()
}

var peakLine = regexp.MustCompile(`replay: peak memory ([0-9.]+) MB`)

// replayProcess runs `tidewatch replay` over path and returns its wall time
// and the peak memory it reports, in MB. The process reports it itself
// (VmHWM): the rusage of a child also counts its parent's memory, shared
// until the exec.
func replayProcess(b *testing.B, bin, path string) (time.Duration, float64) {
	b.Helper()
	d, stderr := runProcess(b, bin, "replay", "--quiet", "--out", os.DevNull, path)
	m := peakLine.FindStringSubmatch(stderr)
	if m == nil {
		b.Fatalf("replay reported no peak memory:\n%s", stderr)
	}
	mb, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		b.Fatal(err)
	}
	return d, mb
}

// BenchmarkReplayFlows measures `tidewatch replay` over a gzip flow log
// against `gzip -dc` of the same file, both as processes, in the same
// iterations: x-gzip is the ratio (target at most 3, goal 2), peak-RSS-MB
// the replay's peak memory.
func BenchmarkReplayFlows(b *testing.B) {
	gz, err := exec.LookPath("gzip")
	if err != nil {
		b.Skip("no gzip on PATH")
	}
	path := flowFile(b, benchRecords())
	bin := buildTidewatch(b)
	var gzTime, replayTime time.Duration
	var rss float64
	for b.Loop() {
		d, _ := runProcess(b, gz, "-dc", path)
		gzTime += d
		d, m := replayProcess(b, bin, path)
		replayTime += d
		rss = max(rss, m)
	}
	b.ReportMetric(float64(replayTime)/float64(gzTime), "x-gzip")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.ReportMetric(float64(benchRecords())/replayTime.Seconds()*float64(b.N), "records/s")
}

// BenchmarkReplayMemoryFlat compares the replay's peak memory over the
// benchmark input with that over a tenth of it: rss-ratio is the target's
// measure (at most 1.5).
func BenchmarkReplayMemoryFlat(b *testing.B) {
	n := benchRecords()
	small, large := flowFile(b, max(n/10, 1)), flowFile(b, n)
	bin := buildTidewatch(b)
	var rssSmall, rssLarge float64
	for b.Loop() {
		_, s := replayProcess(b, bin, small)
		_, l := replayProcess(b, bin, large)
		rssSmall, rssLarge = max(rssSmall, s), max(rssLarge, l)
	}
	b.ReportMetric(rssLarge/rssSmall, "rss-ratio")
	b.ReportMetric(rssSmall, "small-RSS-MB")
	b.ReportMetric(rssLarge, "large-RSS-MB")
}

// BenchmarkReplayInProcess runs the replay in the test process, for
// profiles (-cpuprofile, -memprofile) and allocation counts.
func BenchmarkReplayInProcess(b *testing.B) {
	path := flowFile(b, benchRecords())
	b.ReportAllocs()
	for b.Loop() {
		if err := run(context.Background(), []string{"replay", "--quiet", "--out", os.DevNull, path}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
