package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/report"
	"github.com/tidewatch/tidewatch/shared/securityhub"
	"github.com/tidewatch/tidewatch/shared/signal"
)

const reportSynopsis = `tidewatch report [--html FILE] [--min-severity LEVEL] [--quiet] FILE...
       tidewatch report --securityhub [--since DURATION] [--html FILE] [--min-severity LEVEL] [--quiet]

Shows findings as a table (severity, technique, workload, first and last
seen in UTC, status, title), most severe first, and with --html writes them
as one self-contained page with charts. FILE holds findings one JSON object
per line, as 'tidewatch replay' writes them; '-' reads standard input.
A line that is not a finding is reported as FILE:LINE and skipped; the rest
is still shown, and the command then exits with status 1.`

const reportExamples = `  tidewatch replay --config events/tidewatch.yaml --out findings.jsonl events/flowlogs events/audit events/metrics
  tidewatch report findings.jsonl
  tidewatch report --min-severity high --html report.html findings.jsonl
  tidewatch replay --config events/tidewatch.yaml events/flowlogs events/audit events/metrics | tidewatch report --quiet --html report.html -
  tidewatch report --securityhub --since 24h --html report.html
`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", reportSynopsis, reportExamples, stderr)
	htmlPath := fs.String("html", "", "also write the findings as one self-contained HTML page to `FILE`")
	minSev := fs.String("min-severity", "", "show only findings at or above `LEVEL`: INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL")
	quiet := fs.Bool("quiet", false, "print no table (with --html: only write the page)")
	hub := fs.Bool("securityhub", false, "read tidewatch's active findings from the account's Security Hub instead of files (AWS configuration from the environment)")
	since := fs.Duration("since", 0, "with --securityhub: only findings updated in the last `DURATION` (e.g. 24h, 168h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := report.Options{}
	if *minSev != "" {
		sev, err := signal.ParseSeverity(*minSev)
		if err != nil {
			fs.Usage()
			return fmt.Errorf("report: --min-severity: %w", err)
		}
		opts.MinSeverity = sev
	}
	switch {
	case *hub && fs.NArg() > 0:
		fs.Usage()
		return errors.New("report: name files or --securityhub, not both")
	case !*hub && fs.NArg() == 0:
		fs.Usage()
		return errors.New("report: name at least one file ('-' for standard input) or --securityhub")
	case *since != 0 && !*hub:
		fs.Usage()
		return errors.New("report: --since applies to --securityhub only")
	case *since < 0:
		return errors.New("report: --since must be positive")
	}

	var findings []finding.Finding
	var skipped int
	if *hub {
		var err error
		if findings, opts.Source, err = readSecurityHub(ctx, *since); err != nil {
			return err
		}
	} else {
		var names []string
		for _, path := range fs.Args() {
			fsRead, skips, name, err := readFindingsFile(path)
			if err != nil {
				return err
			}
			for _, s := range skips {
				fmt.Fprintf(stderr, "report: skipped %s\n", s)
			}
			skipped += len(skips)
			findings = append(findings, fsRead...)
			names = append(names, name)
		}
		opts.Source = strings.Join(names, ", ")
	}

	rep := report.New(findings, opts)
	if !*quiet {
		if err := rep.WriteText(stdout); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if *htmlPath != "" {
		var page bytes.Buffer
		if err := rep.WriteHTML(&page); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := os.WriteFile(*htmlPath, page.Bytes(), 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		fmt.Fprintf(stderr, "report: wrote %s (%s)\n", *htmlPath, rep.Summary())
	}
	switch {
	case skipped == 1:
		return errors.New("report: skipped 1 line that is not a finding (see above)")
	case skipped > 1:
		return fmt.Errorf("report: skipped %d lines that are not findings (see above)", skipped)
	}
	return nil
}

// readFindingsFile reads one input ("-": standard input) and returns the
// name to show for it.
func readFindingsFile(path string) ([]finding.Finding, []report.Skipped, string, error) {
	if path == "-" {
		fs, skips, err := report.Read("stdin", os.Stdin)
		return fs, skips, "standard input", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	fs, skips, err := report.Read(path, f)
	return fs, skips, path, err
}

// readSecurityHub reads tidewatch's findings from the account's Security
// Hub, those updated in the last since when it is not zero.
func readSecurityHub(ctx context.Context, since time.Duration) ([]finding.Finding, string, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("report: AWS configuration: %w", err)
	}
	var q securityhub.Query
	source := "Security Hub " + regionOr(cfg)
	if since > 0 {
		now := time.Now().UTC()
		q = securityhub.Query{UpdatedFrom: now.Add(-since), UpdatedTo: now}
		source += ", updated in the last " + shortDuration(since)
	}
	fs, err := securityhub.NewReader(awssecurityhub.NewFromConfig(cfg)).Read(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("report: %w", err)
	}
	return fs, source, nil
}

// shortDuration writes 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
