package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

const configExamples = `  tidewatch config check tidewatch.yaml
  tidewatch config suppress add --table tidewatch --detector net-flood --workload 'eks/prod/batch/CronJob/*' --reason "nightly export" --for 720h
  tidewatch config suppress list --table tidewatch
  tidewatch config suppress remove --table tidewatch 3f2a9c1e0b7d4a55
`

// configCmd checks configuration files and manages the suppressions kept
// in the state table, which the functions apply without a redeploy.
func configCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config", "tidewatch config check FILE | suppress add|list|remove [flags]", configExamples, stderr)
	if len(args) > 0 && args[0] == "check" {
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return fmt.Errorf("config: want 'check FILE'")
		}
		path := fs.Arg(0)
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: valid (%d ignore rules, %d maintenance windows)\n", path, len(cfg.Ignore), len(cfg.MaintenanceWindows))
		return nil
	}
	table := fs.String("table", "", "the tidewatch DynamoDB `TABLE` (required)")
	var detectors, workloads, namespaces, users, images list
	fs.Var(&detectors, "detector", "detector id to suppress (repeatable; default all)")
	fs.Var(&workloads, "workload", "workload glob (repeatable)")
	fs.Var(&namespaces, "namespace", "namespace glob (repeatable)")
	fs.Var(&users, "user", "user glob (repeatable)")
	fs.Var(&images, "image", "image glob (repeatable)")
	reason := fs.String("reason", "", "why (required for add; shown on suppressed findings)")
	dur := fs.Duration("for", 0, "end the suppression after this `DURATION` (default: until removed)")
	if len(args) < 2 || args[0] != "suppress" || (args[1] != "add" && args[1] != "list" && args[1] != "remove") {
		// A --help here prints the usage with every flag.
		rest := args
		if len(args) > 0 && args[0] == "suppress" {
			rest = args[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		fs.Usage()
		return fmt.Errorf("config: want 'check FILE' or 'suppress add|list|remove'")
	}
	op := args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *table == "" {
		fs.Usage()
		return fmt.Errorf("config: --table is required")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("config: AWS configuration: %w", err)
	}
	st := store.NewDynamo(dynamodb.NewFromConfig(awsCfg), *table)
	switch op {
	case "add":
		if *reason == "" || len(detectors)+len(workloads)+len(namespaces)+len(users)+len(images) == 0 {
			fs.Usage()
			return fmt.Errorf("config: suppress add needs --reason and at least one of --detector, --workload, --namespace, --user, --image")
		}
		for _, d := range detectors {
			if !known(d) {
				return fmt.Errorf("config: unknown detector %q (known: %s)", d, strings.Join(config.Detectors, ", "))
			}
		}
		s := pipeline.Suppression{Rule: config.Rule{Detectors: detectors, Workloads: workloads, Namespaces: namespaces,
			Users: users, Images: images, Reason: *reason}}
		if *dur > 0 {
			s.Until = time.Now().Add(*dur).UTC()
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		id := hex.EncodeToString(sum[:8])
		item := pipeline.Item{Key: pipeline.SuppressionKey(id), Data: data, Expires: s.Until}
		if err := st.PutMany(ctx, []pipeline.Item{item}); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		fmt.Fprintf(stdout, "suppression %s added\n", id)
	case "list":
		items, err := st.Query(ctx, pipeline.SuppressionPK, "")
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUNTIL\tRULE")
		for _, it := range items {
			var s pipeline.Suppression
			if err := json.Unmarshal(it.Data, &s); err != nil {
				return fmt.Errorf("config: suppression %s: %w", it.SK, err)
			}
			until := "removed by hand"
			if !s.Until.IsZero() {
				until = s.Until.Format(time.RFC3339)
			}
			rule, _ := json.Marshal(s.Rule)
			fmt.Fprintf(tw, "%s\t%s\t%s\n", it.SK, until, rule)
		}
		return tw.Flush()
	case "remove":
		if fs.NArg() != 1 {
			return fmt.Errorf("config: suppress remove needs the suppression id")
		}
		if err := st.Delete(ctx, pipeline.SuppressionKey(fs.Arg(0))); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		fmt.Fprintf(stdout, "suppression %s removed\n", fs.Arg(0))
	default:
		fs.Usage()
		return fmt.Errorf("config: unknown suppress operation %q", op)
	}
	return nil
}

func known(detector string) bool {
	for _, d := range config.Detectors {
		if d == detector {
			return true
		}
	}
	return false
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }
