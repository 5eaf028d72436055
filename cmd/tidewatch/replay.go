package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/input"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/securityhub"
	"github.com/tidewatch/tidewatch/shared/sns"
	"github.com/tidewatch/tidewatch/shared/store"
)

const replayExamples = `  tidewatch replay --config events/tidewatch.yaml events/flowlogs events/audit events/metrics
  tidewatch replay --config events/tidewatch.yaml --out findings.jsonl events/flowlogs events/audit
  tidewatch replay --flow-format '${version} ${srcaddr} ${dstaddr} ...' flows.log.gz
  tidewatch replay --table tidewatch --securityhub --sns-topic arn:aws:sns:...:tidewatch logs/
`

// flushEvery bounds how many records a replay buffers between flushes.
const flushEvery = 100000

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "tidewatch replay [--out FILE] [--config FILE] [--flow-format FMT] PATH...",
		replayExamples, stderr)
	out := fs.String("out", "", "write the final findings as ASFF JSON, one per line, to `FILE` (default: standard output)")
	cfgPath := fs.String("config", "", "configuration `FILE` (YAML or JSON)")
	flowFormat := fs.String("flow-format", "", "flow log `FORMAT` of records without a header line (default: the configuration's, else version 2)")
	table := fs.String("table", "", "keep state in the DynamoDB `TABLE` instead of memory (AWS configuration from the environment)")
	toHub := fs.Bool("securityhub", false, "also import findings into the account's Security Hub")
	topic := fs.String("sns-topic", "", "notify new findings on the SNS topic `ARN`")
	quiet := fs.Bool("quiet", false, "print no findings table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("replay: name at least one file or folder")
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *flowFormat != "" {
		cfg.FlowFormat = *flowFormat
	}
	var opts pipeline.Options
	if err := opts.Configure(&cfg); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	sink := &collector{byID: map[string]finding.Finding{}}
	var pubs multiPublisher = []pipeline.Publisher{sink}

	var p *pipeline.Pipeline
	eventClock := func() time.Time { return p.EventTime() }
	opts.Store = store.NewMemory(store.WithClock(eventClock))
	if *table != "" || *toHub || *topic != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("replay: AWS configuration: %w", err)
		}
		opts.Clock = time.Now
		if *table != "" {
			opts.Store = store.NewDynamo(dynamodb.NewFromConfig(awsCfg), *table)
		}
		if *toHub {
			pubs = append(pubs, securityhub.New(awssecurityhub.NewFromConfig(awsCfg)))
			if opts.Finding.Region == "" {
				opts.Finding.Region = awsCfg.Region
			}
		}
		if *topic != "" {
			opts.Notifier = sns.New(awssns.NewFromConfig(awsCfg), *topic, regionOr(awsCfg))
		}
	}
	opts.Publisher = pubs
	var err error
	if p, err = pipeline.New(opts); err != nil {
		return err
	}

	var format *flowlog.Format
	if cfg.FlowFormat != "" {
		f := opts.FlowFormat
		format = &f
	}
	feed := &input.Feed{Ctx: ctx, Pipeline: p, FlushEvery: flushEvery}
	if err := input.Read(fs.Args(), input.Options{FlowFormat: format}, feed); err != nil {
		return err
	}
	if err := feed.Finish(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}

	findings := sink.sorted()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := writeFindings(w, findings); err != nil {
		return fmt.Errorf("replay: write findings: %w", err)
	}
	if *out != "" && !*quiet {
		printTable(stdout, findings)
	}
	printSummary(stderr, &feed.Total, p.StoreStats(), len(findings))
	return nil
}

func regionOr(c aws.Config) string {
	if c.Region == "" {
		return finding.DefaultRegion
	}
	return c.Region
}

// collector keeps the latest version of every finding.
type collector struct {
	byID map[string]finding.Finding
}

func (c *collector) Publish(_ context.Context, fs []finding.Finding) error {
	for _, f := range fs {
		c.byID[f.ID] = f
	}
	return nil
}

func (c *collector) sorted() []finding.Finding {
	out := make([]finding.Finding, 0, len(c.byID))
	for _, f := range c.byID {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].FirstObservedAt != out[j].FirstObservedAt {
			return out[i].FirstObservedAt < out[j].FirstObservedAt
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// multiPublisher publishes to each publisher in turn.
type multiPublisher []pipeline.Publisher

func (m multiPublisher) Publish(ctx context.Context, fs []finding.Finding) error {
	for _, p := range m {
		if err := p.Publish(ctx, fs); err != nil {
			return err
		}
	}
	return nil
}

func writeFindings(w io.Writer, fs []finding.Finding) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range fs {
		if err := enc.Encode(&fs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func printTable(w io.Writer, fs []finding.Finding) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tTECHNIQUE\tWORKLOAD\tFIRST SEEN\tSTATUS\tTITLE")
	for _, f := range fs {
		status := ""
		if f.Workflow != nil && f.Workflow.Status == "SUPPRESSED" {
			status = "suppressed"
		}
		title := f.Title
		if len(title) > 90 {
			title = title[:87] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity.Label, f.ProductFields[finding.FieldTechnique],
			f.ProductFields[finding.FieldWorkload], strings.TrimSuffix(f.FirstObservedAt, ".000Z"), status, title)
	}
	tw.Flush()
}

func printSummary(w io.Writer, rep *pipeline.Report, st pipeline.StoreStats, n int) {
	fmt.Fprintf(w, "\nreplay: %s\n", rep.String())
	fmt.Fprintf(w, "replay: %d findings; store: %d calls, %d items read, %d items written\n", n, st.Calls, st.ItemsRead, st.ItemsWritten)
	if rss, ok := peakRSS(); ok {
		fmt.Fprintf(w, "replay: peak memory %.1f MB\n", float64(rss)/(1<<20))
	}
	for _, e := range rep.Examples {
		fmt.Fprintf(w, "replay: skipped %s\n", e)
	}
}
