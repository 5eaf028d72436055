package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/tidewatch/tidewatch/shared/backoff"
)

// API is what a backfill needs of CloudWatch Logs.
type API interface {
	FilterLogEvents(context.Context, *cloudwatchlogs.FilterLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

var _ API = (*cloudwatchlogs.Client)(nil)

// DefaultRate is the FilterLogEvents calls per second a run makes, all
// log groups together. CloudWatch Logs allows 5 transactions per second
// per account and Region for FilterLogEvents, a quota that cannot be
// raised ("CloudWatch Logs quotas", Amazon CloudWatch Logs User Guide,
// cloudwatch_limits_cwl; awsdocs/amazon-cloudwatch-logs-user-guide
// doc_source/cloudwatch_limits_cwl.md). Other readers in the account share
// it, so throttling is retried as well.
const DefaultRate = 5

// PageBytes is about what one FilterLogEvents page returns: "as many log
// events as can fit in 1 MB (up to 10,000 log events)" (FilterLogEvents,
// CloudWatch Logs API Reference). Used only for estimates.
const PageBytes = 1 << 20

// NotFoundError reports a log group that does not exist (CloudWatch Logs
// answers ResourceNotFoundException).
type NotFoundError struct {
	LogGroup string
	// Err is the API's error, nil when DescribeLogGroups just did not list
	// the group.
	Err error
}

// Error implements error.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("log group %q does not exist (ResourceNotFoundException): check its name and the AWS Region", e.LogGroup)
}

// Unwrap returns the API's error.
func (e *NotFoundError) Unwrap() error { return e.Err }

// GroupInfo is what DescribeLogGroups says of a log group.
type GroupInfo struct {
	Name string
	// Account owns the group (from its ARN); it becomes the owner of the
	// batches fed to the pipeline, as in a subscription delivery.
	Account string
	// StoredBytes is the group's stored size, all retained history.
	StoredBytes int64
	// Created is when the group was created.
	Created time.Time
	// Retention is how long events are kept; zero means forever.
	Retention time.Duration
}

// defaultRetry bounds the retries of one API call on throttling and
// server errors, on top of the SDK's own retryer.
var defaultRetry = backoff.Policy{Attempts: 8, Base: 200 * time.Millisecond, Max: 20 * time.Second}

// retryable reports throttling and server-side failures of CloudWatch
// Logs.
func retryable(err error) bool {
	return backoff.Transient(err, "ThrottlingException", "Throttling", "ServiceUnavailableException", "TooManyRequestsException")
}

// Describe returns what CloudWatch Logs says of group, or a
// *NotFoundError when it does not exist.
func Describe(ctx context.Context, api API, group string) (GroupInfo, error) {
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)}
	for {
		var out *cloudwatchlogs.DescribeLogGroupsOutput
		_, err := defaultRetry.Do(ctx, retryable, func() error {
			var err error
			out, err = api.DescribeLogGroups(ctx, in)
			return err
		})
		if err != nil {
			return GroupInfo{}, fmt.Errorf("log group %s: describe: %w", group, notFound(group, err))
		}
		for i := range out.LogGroups {
			if g := &out.LogGroups[i]; aws.ToString(g.LogGroupName) == group {
				return groupInfo(g), nil
			}
		}
		// Names come back in order: no page after one past group can hold it.
		if out.NextToken == nil || len(out.LogGroups) == 0 ||
			aws.ToString(out.LogGroups[len(out.LogGroups)-1].LogGroupName) > group {
			return GroupInfo{}, &NotFoundError{LogGroup: group}
		}
		in.NextToken = out.NextToken
	}
}

func groupInfo(g *cwltypes.LogGroup) GroupInfo {
	info := GroupInfo{Name: aws.ToString(g.LogGroupName), StoredBytes: aws.ToInt64(g.StoredBytes)}
	if g.CreationTime != nil {
		info.Created = time.UnixMilli(*g.CreationTime).UTC()
	}
	if g.RetentionInDays != nil {
		info.Retention = time.Duration(*g.RetentionInDays) * 24 * time.Hour
	}
	// arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]
	arn := aws.ToString(g.LogGroupArn)
	if arn == "" {
		arn = aws.ToString(g.Arn)
	}
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		info.Account = parts[4]
	}
	return info
}

// notFound turns ResourceNotFoundException into a *NotFoundError.
func notFound(group string, err error) error {
	var rnf *cwltypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return &NotFoundError{LogGroup: group, Err: err}
	}
	return err
}

// Estimate is what reading a range of a log group is expected to cost.
type Estimate struct {
	// Bytes is the share of the group's stored bytes that falls in the
	// range, assuming an even spread over the retained history.
	Bytes int64
	// Calls is the FilterLogEvents calls: a page per PageBytes, and at
	// least one per slice.
	Calls int64
}

// EstimateRead estimates what reading r in slices slices costs, from what
// DescribeLogGroups says of the group; now bounds its history.
func EstimateRead(info GroupInfo, r Range, slices int, now time.Time) Estimate {
	held := Range{Start: info.Created, End: now}
	if info.Retention > 0 && now.Add(-info.Retention).After(held.Start) {
		held.Start = now.Add(-info.Retention)
	}
	var est Estimate
	if span := held.Duration(); span > 0 && info.StoredBytes > 0 {
		share := float64(r.intersect(held).Duration()) / float64(span)
		est.Bytes = int64(share * float64(info.StoredBytes))
	}
	est.Calls = (est.Bytes + PageBytes - 1) / PageBytes
	if est.Calls < int64(slices) {
		est.Calls = int64(slices)
	}
	return est
}

// event is one log event read, as the pipeline will receive it.
type event struct {
	group   int // index of the log group in the run
	stream  string
	id      string
	ts      int64
	message string
}

// fetch reads every event of group in r, page by page, each call waiting
// for the limiter and retried on throttling.
func fetch(ctx context.Context, api API, lim *Limiter, r backoff.Policy, group string, gi int, rng Range, onPage func(events, bytes int)) ([]event, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group),
		StartTime:    aws.Int64(rng.Start.UnixMilli()),
		// Both ends are inclusive; slices are half-open.
		EndTime: aws.Int64(rng.End.UnixMilli() - 1),
	}
	var out []event
	for {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		var page *cloudwatchlogs.FilterLogEventsOutput
		_, err := r.Do(ctx, retryable, func() error {
			var err error
			page, err = api.FilterLogEvents(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("log group %s: read %s: %w", group, rng, notFound(group, err))
		}
		bytes := 0
		for i := range page.Events {
			e := &page.Events[i]
			ts := aws.ToInt64(e.Timestamp)
			if ts < rng.Start.UnixMilli() || ts >= rng.End.UnixMilli() {
				// Outside the slice: another slice reads it, and feeding
				// it here would break the time order.
				continue
			}
			ev := event{group: gi, stream: aws.ToString(e.LogStreamName), id: aws.ToString(e.EventId),
				ts: ts, message: aws.ToString(e.Message)}
			bytes += len(ev.message)
			out = append(out, ev)
		}
		if onPage != nil {
			onPage(len(page.Events), bytes)
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}
