package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tidewatch/tidewatch/shared/simulate"
)

// benchRecords is the size of the replay benchmark's input; set
// TIDEWATCH_BENCH_RECORDS=2000000 for the full-size run.
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("TIDEWATCH_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 200000
}

func flowFile(b *testing.B) string {
	b.Helper()
	var raw bytes.Buffer
	if err := simulate.FlowFile(simulate.Options{Seed: 1}, &raw, benchRecords()); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "flows.log.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(raw.Bytes())
	zw.Close()
	f.Close()
	return path
}

// BenchmarkReplayFlows compares `tidewatch replay` over a gzip flow log
// file with `gzip -dc` of the same file, in one run: the target is at most
// 3x. Compare the two sub-benchmarks' ns/op.
func BenchmarkReplayFlows(b *testing.B) {
	path := flowFile(b)
	b.Run("gzip-dc", func(b *testing.B) {
		gz, err := exec.LookPath("gzip")
		if err != nil {
			b.Skip("no gzip on PATH")
		}
		for b.Loop() {
			cmd := exec.Command(gz, "-dc", path)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := run(context.Background(), []string{"replay", "--quiet", "--out", os.DevNull, path}, io.Discard, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
