package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// FuzzEvaluate feeds whatever Parse accepts to the rules: they must not
// panic, and every signal must carry its workload, title and time.
func FuzzEvaluate(f *testing.F) {
	for _, dir := range []string{"falco", "constructed"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) < 16<<10 {
				f.Add(b)
			}
		}
	}
	e := NewEngine(Config{AllowedRegistries: []string{"ghcr.io/x", "*.example"}, WarmupCreates: 1, WarmupPeriod: 1}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := k8saudit.Parse(b)
		if err != nil {
			return
		}
		st := NewState()
		for _, s := range e.EvaluateAll(append(evs, evs...), "c", st) {
			// Fuzzed names may hold "/" and make an id workload.Parse
			// refuses; it must still be an eks id of this cluster.
			if !strings.HasPrefix(s.Workload, workload.EKS("c", "", "", "")[:len("eks/c/")]) || s.Count != 1 || s.Title == "" || !s.First.Equal(s.Last) {
				t.Fatalf("bad signal %+v", s)
			}
		}
	})
}
