package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCfnLint runs cfn-lint on the full template. W3005 (a DependsOn that
// is already implied by a Ref) is ignored: CDK writes such dependencies on
// purpose. Without cfn-lint the test skips, except in CI.
func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint not found; CI must install it (pip install cfn-lint)")
		}
		t.Skip("cfn-lint not found; install it (pip install cfn-lint) to lint the template")
	}
	s, _ := templates(t)
	raw, err := json.MarshalIndent(s.json, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Tidewatch.template.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--ignore-checks", "W3005", "--", path).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
