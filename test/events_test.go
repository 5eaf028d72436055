package test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidewatch/tidewatch/shared/simulate"
)

// TestEventsAreRegenerable: events/ is exactly what `make events` (the
// simulator with its default options) writes, so anyone can regenerate it.
func TestEventsAreRegenerable(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerating the sample events takes several seconds")
	}
	dir := t.TempDir()
	if _, err := simulate.WriteLambdaEvents(simulate.Options{Seed: 1, Start: simulate.DefaultStart, Days: 3, Scale: 1}, simulate.DirSink(dir)); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join("..", "events", rel))
		if err != nil {
			t.Errorf("events/%s is missing: run make events", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("events/%s differs from what the simulator writes: run make events", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("the simulator wrote only %d files", n)
	}
}
