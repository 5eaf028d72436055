package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp: --help, wherever it stands after a command or
// subcommand, prints the usage with examples and does nothing else (it is
// never taken for a file or table name).
func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"replay", "--help"}, {"simulate", "--help"}, {"report", "--help"}, {"backfill", "--help"},
		{"config", "--help"}, {"config", "check", "--help"}, {"config", "suppress", "--help"},
		{"config", "suppress", "add", "--help"}, {"table", "--help"}, {"table", "create", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("err = %v, want flag.ErrHelp\n%s", err, stderr.String())
			}
			_, examples, ok := strings.Cut(stderr.String(), "\nExamples:\n")
			if !ok || !strings.Contains(examples, "  tidewatch "+args[0]+" ") {
				t.Errorf("no examples:\n%s", stderr.String())
			}
		})
	}
}
