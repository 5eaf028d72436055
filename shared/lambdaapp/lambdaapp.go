// Package lambdaapp is what the three Lambda functions share: reading
// their configuration from the environment, building the AWS adapters, and
// turning a CloudWatch Logs subscription event (or a Kinesis event from a
// cross-account destination) into pipeline batches.
package lambdaapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/securityhub"
	"github.com/tidewatch/tidewatch/shared/sns"
	"github.com/tidewatch/tidewatch/shared/store"
)

// Environment variables the functions read besides those of package
// config.
const (
	EnvTable       = "TIDEWATCH_TABLE"
	EnvTopicARN    = "TIDEWATCH_TOPIC_ARN"
	EnvSecurityHub = "TIDEWATCH_SECURITYHUB"
)

// Handler handles one Lambda invocation.
type Handler struct {
	kind pipeline.Kind
	opts pipeline.Options
	log  *slog.Logger
	dec  cwlogs.Decoder
}

// New reads the configuration and builds the adapters for a function of
// the given kind.
func New(ctx context.Context, kind pipeline.Kind, getenv func(string) (string, bool)) (*Handler, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	table, _ := getenv(EnvTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set", EnvTable)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	var opts pipeline.Options
	if err := opts.Configure(&cfg); err != nil {
		return nil, err
	}
	if opts.Finding.Region == "" {
		opts.Finding.Region = awsCfg.Region
	}
	clock := securityhub.NewClock(time.Now)
	opts.Clock = clock.Now
	opts.Store = store.NewDynamo(dynamodb.NewFromConfig(awsCfg), table)
	opts.Publisher = discard{}
	if v, _ := getenv(EnvSecurityHub); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvSecurityHub, err)
		}
		if on {
			opts.Publisher = securityhub.New(awssecurityhub.NewFromConfig(awsCfg), securityhub.WithClock(clock))
		}
	}
	if topic, _ := getenv(EnvTopicARN); topic != "" {
		region := awsCfg.Region
		if region == "" {
			region = finding.DefaultRegion
		}
		opts.Notifier = sns.New(awssns.NewFromConfig(awsCfg), topic, region)
	}
	return &Handler{kind: kind, opts: opts, log: slog.New(slog.NewJSONHandler(os.Stdout, nil))}, nil
}

// discard publishes nowhere, when Security Hub is switched off.
type discard struct{}

func (discard) Publish(context.Context, []finding.Finding) error { return nil }

// event is either a CloudWatch Logs subscription event or a Kinesis event
// whose records each hold one gzip-compressed subscription payload.
type event struct {
	AWSLogs *struct {
		Data string `json:"data"`
	} `json:"awslogs"`
	Records []struct {
		EventID string `json:"eventID"`
		Kinesis struct {
			Data []byte `json:"data"`
		} `json:"kinesis"`
	} `json:"Records"`
}

// Handle processes one invocation. An error fails the invocation so that
// AWS retries it and, at last, the failure destination keeps it.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) error {
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("requestId", lc.AwsRequestID)
	}
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("invocation payload: %w", err)
	}
	p, err := pipeline.New(h.opts)
	if err != nil {
		return err
	}
	var errs []error
	handle := func(i int, b *cwlogs.Batch, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("record %d: %w", i, err))
			return
		}
		rep, err := p.HandleBatch(ctx, b, h.kind)
		log.Info("batch", "logGroup", b.LogGroup, "logStream", b.LogStream, "owner", b.Owner,
			"report", rep, "store", p.StoreStats(), "error", errString(err))
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case ev.AWSLogs != nil:
		b, err := h.dec.DecodeData([]byte(ev.AWSLogs.Data))
		handle(0, b, err)
	case len(ev.Records) > 0:
		for i, r := range ev.Records {
			b, err := h.dec.DecodeGzip(r.Kinesis.Data)
			handle(i, b, err)
		}
	default:
		return errors.New("invocation payload is neither a CloudWatch Logs nor a Kinesis event")
	}
	return errors.Join(errs...)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Main is the whole of a function's main: read the configuration, build
// the adapters, serve invocations. It returns only on a start-up error,
// which the caller reports before exiting non-zero.
func Main(kind pipeline.Kind) error {
	h, err := New(context.Background(), kind, os.LookupEnv)
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
