// Package golden compares what a test produced with a file kept under the
// package's testdata/, and rewrites the file instead when the tests run
// with -update, so that a change of output is reviewed as a diff of files.
//
// It is imported by tests only. The -update flag is registered here, once,
// for every test binary that imports the package.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ with the current output")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Check compares got with the file at path; with -update it writes got
// there instead, creating its folder. A difference is reported line by
// line.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (-want +got); run go test -update and review the diff:\n%s", path,
			cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}
