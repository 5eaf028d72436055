package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/tidewatch/tidewatch/shared/simulate"
)

const simulateExamples = `  tidewatch simulate --out events            # the repository's sample events
  tidewatch simulate --out /tmp/sim --seed 7 --days 5
  tidewatch simulate --flow-file flows.log --records 2000000   # an S3-style flow log file
  tidewatch simulate --put --start 2026-11-20 --days 1         # into CloudWatch Logs, to test a deployed stack
`

func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "tidewatch simulate --out DIR [flags]", simulateExamples, stderr)
	out := fs.String("out", "", "write Lambda events (flowlogs/, audit/, metrics/), expected.json and flow-format.txt under `DIR`")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same bytes")
	days := fs.Int("days", 3, "benign `DAYS` of history before the attack day")
	start := fs.String("start", simulate.DefaultStart.Format(time.DateOnly), "first day (UTC `DATE`)")
	scale := fs.Float64("scale", 1, "traffic volume multiplier")
	flowFile := fs.String("flow-file", "", "instead, write an S3-style flow log `FILE` (header line, then records)")
	records := fs.Int("records", 200000, "records in --flow-file")
	put := fs.Bool("put", false, "instead, put the events into CloudWatch Logs (AWS configuration from the environment); default --start: the days before today, as CloudWatch Logs takes only recent events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	day, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		return fmt.Errorf("simulate: --start: %w", err)
	}
	startSet := false
	fs.Visit(func(f *flag.Flag) { startSet = startSet || f.Name == "start" })
	if *put && !startSet {
		// CloudWatch Logs accepts events of the last 14 days only: end
		// the simulation with yesterday as the attack day.
		day = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -*days-1)
	}
	opts := simulate.Options{Seed: *seed, Start: day, Days: *days, Scale: *scale}
	switch {
	case *put:
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("simulate: AWS configuration: %w", err)
		}
		return putEvents(ctx, cloudwatchlogs.NewFromConfig(awsCfg), opts, stdout)
	case *flowFile != "":
		f, err := os.Create(*flowFile)
		if err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		if err := simulate.FlowFile(opts, f, *records); err != nil {
			f.Close()
			return fmt.Errorf("simulate: %w", err)
		}
		return f.Close()
	case *out != "":
		exps, err := simulate.WriteLambdaEvents(opts, simulate.DirSink(*out))
		if err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		attacks := 0
		for _, e := range exps {
			if !e.Quiet {
				attacks++
			}
		}
		fmt.Fprintf(stdout, "simulate: wrote %s (%d expected detections, %d quiet traps; see %s)\n",
			*out, attacks, len(exps)-attacks, filepath.Join(*out, simulate.ExpectedFile))
		return nil
	}
	fs.Usage()
	return fmt.Errorf("simulate: give --out or --flow-file")
}
