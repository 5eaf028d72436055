package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that notes failures instead of reporting them.
// Check calls only the methods it overrides.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		got  string
		fail bool
	}{
		{"same", path, "a\nb\n", false},
		{"different", path, "a\nc\n", true},
		{"missing file", path + ".none", "a\n", true},
	} {
		r := &recorder{}
		Check(r, tc.path, []byte(tc.got))
		if r.failed != tc.fail {
			t.Errorf("%s: failed %v, want %v", tc.name, r.failed, tc.fail)
		}
	}
}

// TestCheckUpdates: -update writes the file, creating its folder.
func TestCheckUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden", "out.golden")
	*update = true
	defer func() { *update = false }()
	r := &recorder{}
	Check(r, path, []byte("new\n"))
	b, err := os.ReadFile(path)
	if r.failed || err != nil || string(b) != "new\n" {
		t.Errorf("with -update: failed %v, file %q, %v", r.failed, b, err)
	}
}
