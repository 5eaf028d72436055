package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	bf "github.com/tidewatch/tidewatch/shared/backfill"
	"github.com/tidewatch/tidewatch/shared/simulate"
	"github.com/tidewatch/tidewatch/shared/store"
)

// logHistory is simulated estate logs put into CloudWatch Logs for a test.
type logHistory struct {
	groups     []string
	start, end time.Time
	events     map[string]int
}

// putLogHistory puts the first hours of a simulated benign day, two days
// ago, into log groups of their own (a cluster and a flow log group named
// for the test), as the estate would have written them.
func putLogHistory(ctx context.Context, t *testing.T, logs *cloudwatchlogs.Client, hours int) logHistory {
	t.Helper()
	id := fmt.Sprintf("bf%d", time.Now().UnixNano()%1e9)
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
	h := logHistory{start: day, end: day.Add(time.Duration(hours) * time.Hour), events: map[string]int{}}
	flows := "/tidewatch/test/" + id + "/flow-logs"
	byStream := map[logStream][]cwltypes.InputLogEvent{}
	_, err := simulate.Generate(simulate.Options{Seed: 5, Days: 1, Start: day, Cluster: id, ECSCluster: id + "-ecs"}, func(ev simulate.LogEvent) error {
		if !ev.Time.Before(h.end) {
			return nil
		}
		g := ev.Group
		if !strings.HasPrefix(g, "/aws/") {
			g = flows
		}
		k := logStream{g, ev.Stream}
		byStream[k] = append(byStream[k], cwltypes.InputLogEvent{Message: aws.String(ev.Message), Timestamp: aws.Int64(ev.Time.UnixMilli())})
		h.events[g]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for g := range h.events {
		h.groups = append(h.groups, g)
		t.Cleanup(func() {
			logs.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(g)})
		})
	}
	sort.Strings(h.groups)
	if _, _, err := putStreams(ctx, logs, byStream); err != nil {
		t.Fatal(err)
	}
	return h
}

// newStateTable creates a state table named for the test and removes it after.
func newStateTable(ctx context.Context, t *testing.T, ddb *dynamodb.Client) string {
	t.Helper()
	name := regexp.MustCompile(`[^a-zA-Z0-9_.-]+`).ReplaceAllString(t.Name(), "-") + fmt.Sprintf("-%d", time.Now().UnixNano())
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"table", "create", name}, &stdout, &stderr); err != nil {
		t.Fatalf("table create: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// scanTable returns every item of a table by "pk sk", each attribute rendered
// with its type ("S:…", "N:…", "B:<hex>").
func scanTable(ctx context.Context, t *testing.T, ddb *dynamodb.Client, table string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	pages := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			attrs := map[string]string{}
			for name, v := range it {
				switch v := v.(type) {
				case *ddbtypes.AttributeValueMemberS:
					attrs[name] = "S:" + v.Value
				case *ddbtypes.AttributeValueMemberN:
					attrs[name] = "N:" + v.Value
				case *ddbtypes.AttributeValueMemberB:
					attrs[name] = "B:" + hex.EncodeToString(v.Value)
				default:
					t.Fatalf("attribute %s of type %T", name, v)
				}
			}
			out[strings.TrimPrefix(attrs["pk"], "S:")+" "+strings.TrimPrefix(attrs["sk"], "S:")] = attrs
		}
	}
	return out
}

// countItems counts the items whose key starts with prefix.
func countItems(items map[string]map[string]string, prefix string) int {
	n := 0
	for k := range items {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// cancelOn is a writer that cancels a context when a line it is given
// contains a marker.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte(w.marker)) {
		w.cancel()
	}
	return w.buf.Write(p)
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestBackfillIntoAWS backfills four hours of an estate's log groups from
// CloudWatch Logs (moto) into DynamoDB Local: a dry run first, then a run
// interrupted after its first hour, resumed, and run once more. The state
// learned is baselines and identities, never a finding; the resumed run
// reads only what the interrupted one had not; the last run reads nothing
// and changes nothing.
func TestBackfillIntoAWS(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logs, ddb := cloudwatchlogs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	h := putLogHistory(ctx, t, logs, 4)
	if len(h.groups) < 4 {
		t.Fatalf("simulated groups %v, want flow logs, an audit log and Container Insights groups", h.groups)
	}
	table := newStateTable(ctx, t, ddb)
	args := []string{"--table", table, "--start", h.start.Format(time.RFC3339), "--end", h.end.Format(time.RFC3339),
		"--log-group", strings.Join(h.groups[:2], ","), "--log-group", h.groups[2], "--log-group", strings.Join(h.groups[3:], ","),
		"--rate", "100", "--parallel", "3", "--config", "../../events/tidewatch.yaml"}

	// The dry run reads no event and writes nothing.
	var stdout, stderr bytes.Buffer
	if err := backfill(ctx, append([]string{"--dry-run"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("dry run: %v\n%s", err, stderr.String())
	}
	dry := stdout.String()
	for _, g := range h.groups {
		if !strings.Contains(dry, "\n"+g+"\n") {
			t.Errorf("dry run does not report %s:\n%s", g, dry)
		}
	}
	for _, want := range []string{"in 4 slices", "stored", "FilterLogEvents calls", "EKS audit log of cluster", "no events were read"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run lacks %q:\n%s", want, dry)
		}
	}
	if items := scanTable(ctx, t, ddb, table); len(items) != 0 {
		t.Errorf("the dry run wrote %d items", len(items))
	}

	// Interrupted once the first hour is checkpointed.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errw := &cancelOn{marker: "backfill: checkpoint ", cancel: cancel}
	stdout.Reset()
	err = backfill(cctx, append([]string{"--verbose"}, args...), &stdout, errw)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("interrupted run: err = %v\n%s", err, errw.String())
	}
	st := store.NewDynamo(ddb, table)
	cps, err := bf.LoadCheckpoints(ctx, st, h.groups)
	if err != nil {
		t.Fatal(err)
	}
	firstRead := 0
	for _, g := range h.groups {
		cp := cps[g]
		if cp == nil || !cp.From.Equal(h.start) || !cp.To.Equal(h.start.Add(time.Hour)) {
			t.Fatalf("after the interruption, checkpoint of %s = %+v, want the first hour", g, cp)
		}
		firstRead += int(cp.Events)
	}
	if firstRead == 0 {
		t.Fatal("the first hour held no events")
	}
	if items := scanTable(ctx, t, ddb, table); countItems(items, "win#") == 0 {
		t.Errorf("nothing learned in the first hour: %d items\n%s", len(items), errw.String())
	}

	// Resumed: reads the three other hours.
	stdout.Reset()
	stderr.Reset()
	if err := backfill(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, stderr.String())
	}
	for _, g := range h.groups {
		if !strings.Contains(stdout.String(), g+": reading "+h.start.Add(time.Hour).Format(time.RFC3339)) {
			t.Errorf("resumed run does not start %s after the first hour:\n%s", g, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "backfill: records:") || !strings.Contains(stderr.String(), "items written") {
		t.Errorf("no pipeline summary:\n%s", stderr.String())
	}
	cps, err = bf.LoadCheckpoints(ctx, st, h.groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range h.groups {
		cp := cps[g]
		if cp == nil || !cp.From.Equal(h.start) || !cp.To.Equal(h.end) || cp.Events != int64(h.events[g]) {
			t.Errorf("checkpoint of %s = %+v, want %s with all %d events", g, cp, bf.NewRange(h.start, h.end), h.events[g])
		}
	}
	learned := scanTable(ctx, t, ddb, table)
	for _, prefix := range []string{"win#", "res#", "ip#", "pod#", "backfill#"} {
		if countItems(learned, prefix) == 0 {
			t.Errorf("no %s items learned; the table holds %d items", prefix, len(learned))
		}
	}
	for _, prefix := range []string{"finding#", "notified#", "sig#"} {
		if n := countItems(learned, prefix); n != 0 {
			t.Errorf("learn-only backfill wrote %d %s items", n, prefix)
		}
	}

	// Again: nothing is read, nothing changes, and it says so.
	stdout.Reset()
	if err := backfill(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("third run: %v", err)
	}
	for _, g := range h.groups {
		if !strings.Contains(stdout.String(), g+": "+bf.NewRange(h.start, h.end).String()+" already covered by an earlier run; nothing to read") {
			t.Errorf("third run does not say %s is covered:\n%s", g, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "nothing was changed") {
		t.Errorf("third run output:\n%s", stdout.String())
	}
	if diff := cmp.Diff(learned, scanTable(ctx, t, ddb, table)); diff != "" {
		t.Errorf("third run changed the table (-before +after):\n%s", diff)
	}
}

// TestBackfillMatchesOneRun: the state an interrupted and resumed backfill
// leaves holds the same baselines as one uninterrupted run.
func TestBackfillMatchesOneRun(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logs, ddb := cloudwatchlogs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	h := putLogHistory(ctx, t, logs, 3)
	args := func(table string) []string {
		return []string{"--table", table, "--start", h.start.Format(time.RFC3339), "--end", h.end.Format(time.RFC3339),
			"--log-group", strings.Join(h.groups, ","), "--rate", "100", "--config", "../../events/tidewatch.yaml"}
	}
	once := newStateTable(ctx, t, ddb)
	var stdout, stderr bytes.Buffer
	if err := backfill(ctx, args(once), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	twice := newStateTable(ctx, t, ddb)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errw := &cancelOn{marker: "backfill: checkpoint ", cancel: cancel}
	if err := backfill(cctx, append(args(twice), "--verbose"), &stdout, errw); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := backfill(ctx, args(twice), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	// Workload windows and baselines depend on event time only.
	data := func(table string) map[string]string {
		out := map[string]string{}
		for k, it := range scanTable(ctx, t, ddb, table) {
			if strings.HasPrefix(k, "win#") || strings.HasPrefix(k, "res#") || strings.HasPrefix(k, "rules#") {
				out[k] = it["d"]
			}
		}
		return out
	}
	a, b := data(once), data(twice)
	if len(a) == 0 {
		t.Fatal("one run learned nothing")
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("baselines after an interrupted and a resumed run differ from one run (-once +twice):\n%s", diff)
	}
}

func TestBackfillMissingLogGroup(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	err := backfill(ctx, []string{"--dry-run", "--since", "1d", "--log-group", "/tidewatch/test/no-such-group"}, &stdout, &stderr)
	var nf *bf.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), `"/tidewatch/test/no-such-group" does not exist (ResourceNotFoundException)`) {
		t.Errorf("err = %v, want the missing group named", err)
	}
}

func TestBackfillHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := backfill(context.Background(), []string{"--help"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	help := stderr.String()
	for _, want := range []string{"Usage: tidewatch backfill --log-group NAME", "-since", "-start", "-end", "-table", "-config",
		"-dry-run", "-parallel", "Examples:", "tidewatch backfill --table tidewatch --since 14d", "tidewatch backfill --dry-run"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

// TestBackfillFlags: bad flags are refused before any AWS call.
func TestBackfillFlags(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--since", "1d", "--table", "t"}, "name at least one --log-group"},
		{[]string{"--since", "1d", "--log-group", "g"}, "--table is required"},
		{[]string{"--log-group", "g", "--table", "t"}, "give --since DURATION or --start TIME"},
		{[]string{"--since", "1d", "--start", "2026-11-01T00:00:00Z", "--log-group", "g", "--table", "t"}, "not both"},
		{[]string{"--since", "1w", "--log-group", "g", "--table", "t"}, "--since"},
		{[]string{"--start", "2026-11-01", "--log-group", "g", "--table", "t"}, "--start"},
		{[]string{"--start", "2026-11-21T00:00:00Z", "--log-group", "g", "--table", "t"}, "is empty"},
		{[]string{"--since", "1d", "--log-group", "g", "--table", "t", "--parallel", "0"}, "--parallel"},
		{[]string{"--since", "1d", "--log-group", "g", "--table", "t", "/aws/eks/x/cluster"}, "unexpected argument"},
	} {
		var stderr bytes.Buffer
		if _, err := parseBackfillArgs(tc.args, now, &stderr); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.err)
		}
	}
	a, err := parseBackfillArgs([]string{"--since", "1d12h", "--end", "2030-01-01T00:00:00Z", "--dry-run",
		"--log-group", "/vpc/flows, /aws/eks/prod/cluster", "--log-group", "/aws/containerinsights/prod/performance", "--log-group", "/vpc/flows"}, now, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if want := bf.NewRange(now.Add(-36*time.Hour), now); a.want != want {
		t.Errorf("range %s, want %s (an end in the future is capped at now)", a.want, want)
	}
	if diff := cmp.Diff([]string{"/aws/eks/prod/cluster", "/aws/containerinsights/prod/performance", "/vpc/flows"}, a.groups); diff != "" {
		t.Errorf("groups (audit first, no duplicates) (-want +got):\n%s", diff)
	}
	if a.parallel != bf.DefaultParallel || a.slice != time.Hour || a.rate != bf.DefaultRate {
		t.Errorf("defaults: %+v", a)
	}
}
