package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	bf "github.com/tidewatch/tidewatch/shared/backfill"
	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

const backfillSynopsis = "tidewatch backfill --log-group NAME... (--since DURATION | --start TIME [--end TIME]) (--table NAME | --dry-run) [flags]"

const backfillExamples = `  # learn the last 14 days of an EKS cluster and its VPC flow logs before alerting starts
  tidewatch backfill --table tidewatch --since 14d \
      --log-group /aws/eks/prod/cluster --log-group /aws/containerinsights/prod/performance \
      --log-group /vpc/prod/flow-logs --config tidewatch.yaml

  # see what it would read, and what earlier runs already covered, without reading events
  tidewatch backfill --dry-run --table tidewatch --since 14d --log-group /aws/eks/prod/cluster,/vpc/prod/flow-logs

  # an explicit range; running it again (or after an interruption) continues where it stopped
  tidewatch backfill --table tidewatch --start 2026-11-01T00:00:00Z --end 2026-11-08T00:00:00Z --log-group /vpc/prod/flow-logs
`

// logGroupList is a flag that may be repeated and may hold comma-separated
// names.
type logGroupList []string

func (g *logGroupList) String() string { return strings.Join(*g, ",") }

func (g *logGroupList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*g = append(*g, name)
		}
	}
	return nil
}

// backfillArgs are the parsed and checked flags.
type backfillArgs struct {
	groups   []string
	want     bf.Range
	table    string
	cfgPath  string
	dryRun   bool
	parallel int
	slice    time.Duration
	rate     float64
	verbose  bool
}

func parseBackfillArgs(args []string, now time.Time, stderr io.Writer) (*backfillArgs, error) {
	fs := newFlags("backfill", backfillSynopsis, backfillExamples, stderr)
	var groups logGroupList
	fs.Var(&groups, "log-group", "log group `NAME` to read; repeat the flag or separate names with commas")
	since := fs.String("since", "", "read from `DURATION` ago until --end: a Go duration with an optional leading day count (14d, 36h, 1d12h)")
	start := fs.String("start", "", "read from `TIME` (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
	end := fs.String("end", "", "read until `TIME` (RFC 3339; default: now)")
	table := fs.String("table", "", "DynamoDB `TABLE` the Lambdas use: learned state and checkpoints go there (required unless --dry-run)")
	cfgPath := fs.String("config", "", "configuration `FILE` (YAML or JSON), as the Lambdas are configured (flow log format, learning period)")
	dryRun := fs.Bool("dry-run", false, "report what would be read, per log group, without reading events or writing anything")
	parallel := fs.Int("parallel", bf.DefaultParallel, "fetch up to `N` time slices at once")
	slice := fs.Duration("slice", bf.DefaultSlice, "`LENGTH` of the time slices fetched and checkpointed; shorter slices hold less in memory on busy log groups")
	rate := fs.Float64("rate", bf.DefaultRate, "at most `N` FilterLogEvents calls per second, all log groups together (CloudWatch Logs allows 5 per account and Region)")
	verbose := fs.Bool("verbose", false, "log every checkpoint as it is written")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) (*backfillArgs, error) {
		fs.Usage()
		return nil, fmt.Errorf("backfill: "+format, a...)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (name log groups with --log-group)", fs.Arg(0))
	}
	if len(groups) == 0 {
		return fail("name at least one --log-group")
	}
	if *table == "" && !*dryRun {
		return fail("--table is required (or --dry-run)")
	}
	if *parallel < 1 {
		return fail("--parallel must be at least 1")
	}
	if *slice < time.Minute {
		return fail("--slice must be at least 1m")
	}
	if *rate <= 0 {
		return fail("--rate must be positive")
	}
	a := &backfillArgs{table: *table, cfgPath: *cfgPath, dryRun: *dryRun, parallel: *parallel, slice: *slice, rate: *rate, verbose: *verbose}
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g] {
			seen[g] = true
			a.groups = append(a.groups, g)
		}
	}
	// Audit and Container Insights first: at equal timestamps, what names
	// a pod is learned before the flows it explains.
	sort.SliceStable(a.groups, func(i, j int) bool { return logGroupRank(a.groups[i]) < logGroupRank(a.groups[j]) })

	to := now
	if *end != "" {
		t, err := time.Parse(time.RFC3339, *end)
		if err != nil {
			return fail("--end: %v", err)
		}
		if t.Before(to) {
			to = t
		}
	}
	var from time.Time
	switch {
	case *since != "" && *start != "":
		return fail("give --since or --start, not both")
	case *since != "":
		d, err := config.ParseDuration(*since)
		if err != nil {
			return fail("--since: %v", err)
		}
		from = now.Add(-d)
	case *start != "":
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return fail("--start: %v", err)
		}
		from = t
	default:
		return fail("give --since DURATION or --start TIME")
	}
	a.want = bf.NewRange(from, to)
	if a.want.Empty() {
		return fail("nothing to read: the range %s is empty (the end is capped at now)", a.want)
	}
	return a, nil
}

func logGroupRank(g string) int {
	switch k, _ := pipeline.KindOfLogGroup(g); k {
	case pipeline.KindAudit:
		return 0
	case pipeline.KindInsights:
		return 1
	}
	return 2
}

// backfill reads past events of log groups and learns from them, as the
// Lambdas would have, without reporting anything.
func backfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseBackfillArgs(args, time.Now(), stderr)
	if err != nil {
		return err
	}
	cfg := config.Default()
	if a.cfgPath != "" {
		if cfg, err = config.Load(a.cfgPath); err != nil {
			return err
		}
	}
	var opts pipeline.Options
	if err := opts.Configure(&cfg); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("backfill: AWS configuration: %w", err)
	}
	logs := cloudwatchlogs.NewFromConfig(awsCfg)

	infos := make([]bf.GroupInfo, len(a.groups))
	for i, g := range a.groups {
		if infos[i], err = bf.Describe(ctx, logs, g); err != nil {
			return fmt.Errorf("backfill: %w (region %s)", err, awsCfg.Region)
		}
	}
	var st pipeline.Store
	cps := map[string]*bf.Checkpoint{}
	if a.table != "" {
		st = store.NewDynamo(dynamodb.NewFromConfig(awsCfg), a.table)
		if cps, err = bf.LoadCheckpoints(ctx, st, a.groups); err != nil {
			return fmt.Errorf("backfill: table %s: %w", a.table, err)
		}
	}
	targets := make([]bf.Target, len(a.groups))
	var todo time.Duration
	for i, g := range a.groups {
		targets[i] = bf.Target{Plan: bf.PlanGroup(g, a.want, cps[g], a.slice), Account: infos[i].Account}
		todo += targets[i].Plan.Read.Duration()
	}

	if a.dryRun {
		printBackfillDryRun(stdout, a, infos, targets, time.Now())
		return nil
	}
	for i := range targets {
		fmt.Fprintln(stdout, "backfill: "+targets[i].Plan.Describe())
	}
	if todo == 0 {
		fmt.Fprintf(stdout, "backfill: nothing to read for %s; nothing was changed\n", a.want)
		return nil
	}

	opts.Store = st
	opts.LearnOnly = true
	opts.Clock = time.Now
	p, err := pipeline.New(opts)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	progress := bf.NewProgress(todo, time.Now)
	printer := bf.NewPrinter(stderr, isCharDevice(stderr), 0, progress)
	o := bf.Options{
		API: logs, Sink: p, Store: st, Parallel: a.parallel,
		Limiter: bf.NewLimiter(a.rate), Progress: progress,
	}
	if a.verbose {
		o.OnCheckpoint = func(cps []bf.Checkpoint) {
			for _, cp := range cps {
				printer.Logf("backfill: checkpoint %s: covered %s (%s events)", cp.LogGroup, cp.Covered(), bf.FormatCount(cp.Events))
			}
		}
	}
	printer.Start()
	res, runErr := bf.Run(ctx, o, targets)
	printer.Stop()

	for i := range targets {
		g := targets[i].Plan.LogGroup
		r := res.Groups[g]
		line := fmt.Sprintf("backfill: %s: read %s events (%s) in %d slices", g, bf.FormatCount(r.Events), bf.FormatBytes(r.Bytes), r.Slices)
		if r.Checkpoint != nil {
			line += "; covered " + r.Checkpoint.Covered().String()
		}
		fmt.Fprintln(stdout, line)
	}
	stats := p.StoreStats()
	fmt.Fprintf(stderr, "backfill: %s\n", res.Report.String())
	fmt.Fprintf(stderr, "backfill: learn only (no findings, no notifications); store: %d calls, %d items read, %d items written\n",
		stats.Calls, stats.ItemsRead, stats.ItemsWritten)
	for _, e := range res.Report.Examples {
		fmt.Fprintf(stderr, "backfill: skipped %s\n", e)
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("backfill: interrupted (%w); what was covered is checkpointed: run the same command again to continue", ctx.Err())
		}
		return fmt.Errorf("%w; what was covered is checkpointed: run the same command again to continue", runErr)
	}
	return nil
}

// printBackfillDryRun reports, per log group, what a run would read and cost.
func printBackfillDryRun(w io.Writer, a *backfillArgs, infos []bf.GroupInfo, targets []bf.Target, now time.Time) {
	fmt.Fprintf(w, "backfill dry run: %s in slices of %s, %d fetched at once, at most %g FilterLogEvents calls/s\n",
		a.want, bf.FormatDuration(a.slice), a.parallel, a.rate)
	if a.table == "" {
		fmt.Fprintln(w, "checkpoints: not read (no --table); a run may find part of the range already covered")
	} else {
		fmt.Fprintf(w, "checkpoints: read from table %s\n", a.table)
	}
	var calls, bytes int64
	for i := range targets {
		p := &targets[i].Plan
		info := infos[i]
		kind, cluster := pipeline.KindOfLogGroup(p.LogGroup)
		what := "kind recognised per event by content (flow log records, or audit and Container Insights JSON)"
		switch kind {
		case pipeline.KindAudit:
			what = "EKS audit log of cluster " + cluster
		case pipeline.KindInsights:
			what = "Container Insights performance log of cluster " + cluster
		}
		retention := "kept forever"
		if info.Retention > 0 {
			retention = "kept " + bf.FormatDuration(info.Retention)
		}
		fmt.Fprintf(w, "\n%s\n  %s; %s stored, %s; account %s\n", p.LogGroup, what, bf.FormatBytes(info.StoredBytes), retention, accountOrUnknown(info.Account))
		fmt.Fprintf(w, "  %s\n", strings.TrimPrefix(p.Describe(), p.LogGroup+": "))
		if p.Read.Empty() {
			continue
		}
		est := bf.EstimateRead(info, p.Read, len(p.Slices), now)
		calls += est.Calls
		bytes += est.Bytes
		fmt.Fprintf(w, "  estimate: %s to read in %d FilterLogEvents calls (a page per %s, at least one per slice)\n",
			bf.FormatBytes(est.Bytes), est.Calls, bf.FormatBytes(bf.PageBytes))
	}
	secs := time.Duration(float64(calls) / a.rate * float64(time.Second))
	fmt.Fprintf(w, "\ntotal: about %s in %d calls, at least %s at %g calls/s; no events were read\n",
		bf.FormatBytes(bytes), calls, bf.FormatDuration(secs), a.rate)
}

func accountOrUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// isCharDevice reports whether w is a terminal (a character device), where
// progress is one line updated in place.
func isCharDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
