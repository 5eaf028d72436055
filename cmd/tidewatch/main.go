// Command tidewatch runs the tidewatch pipeline outside Lambda: replay logs
// from files, learn from CloudWatch Logs history, render findings, generate
// synthetic scenarios, create the state table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `tidewatch finds containers used to get around security monitoring.

Usage:
  tidewatch replay [flags] PATH...     run the pipeline over log files and print findings
  tidewatch simulate [flags]           write synthetic scenarios (benign days and attacks)
  tidewatch report [flags] FILE...|--securityhub
                                       show findings as a table, or one HTML page with --html
  tidewatch backfill --table NAME --since 14d --log-group NAME...
                                       learn baselines from CloudWatch Logs history
  tidewatch config check FILE          validate a configuration file, listing every problem
  tidewatch config suppress add|list|remove --table NAME
                                       suppressions applied at run time, without a redeploy
  tidewatch table create NAME          create a DynamoDB table with the production layout

Run 'tidewatch COMMAND --help' for a command's flags and examples.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tidewatch:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "replay":
		return replay(ctx, args[1:], stdout, stderr)
	case "simulate":
		return simulateCmd(ctx, args[1:], stdout, stderr)
	case "report":
		return reportCmd(ctx, args[1:], stdout, stderr)
	case "backfill":
		return backfill(ctx, args[1:], stdout, stderr)
	case "config":
		return configCmd(ctx, args[1:], stdout, stderr)
	case "table":
		return tableCmd(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// newFlags returns a flag set that prints help with examples.
func newFlags(name, synopsis, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExamples:\n%s", examples)
	}
	return fs
}
