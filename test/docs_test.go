package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidewatch/tidewatch/shared/config"
)

// TestReadmeConfigExample keeps the README's configuration example valid.
func TestReadmeConfigExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml example")
	}
	block, _, _ := strings.Cut(rest, "```")
	path := filepath.Join(t.TempDir(), "readme.yaml")
	if err := os.WriteFile(path, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if len(cfg.MaintenanceWindows) != 1 || len(cfg.Ignore) != 1 || cfg.Sensitivity("net-flood") != 1.5 {
		t.Errorf("README example parsed as %+v", cfg)
	}
}
