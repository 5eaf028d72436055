package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/tidewatch/tidewatch/shared/simulate"
)

// logsAPI is what putEvents needs of CloudWatch Logs.
type logsAPI interface {
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(context.Context, *cloudwatchlogs.CreateLogStreamInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// PutLogEvents limits: events per call, bytes per call (each event counts
// 26 bytes more), and the time one call may span.
const (
	putMaxEvents = 10000
	putMaxBytes  = 1_000_000
)

// putEvents writes the simulation into real log groups, creating groups and
// streams as needed, so a deployed stack can be proven end to end.
func putEvents(ctx context.Context, api logsAPI, opts simulate.Options, stdout io.Writer) error {
	type streamKey struct{ group, stream string }
	byStream := map[streamKey][]cwltypes.InputLogEvent{}
	_, err := simulate.Generate(opts, func(ev simulate.LogEvent) error {
		k := streamKey{ev.Group, ev.Stream}
		byStream[k] = append(byStream[k], cwltypes.InputLogEvent{Message: aws.String(ev.Message), Timestamp: aws.Int64(ev.Time.UnixMilli())})
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]streamKey, 0, len(byStream))
	groups := map[string]bool{}
	for k := range byStream {
		keys = append(keys, k)
		groups[k.group] = true
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].stream < keys[j].stream
	})
	var exists *cwltypes.ResourceAlreadyExistsException
	for g := range groups {
		if _, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log group %s: %w", g, err)
		}
	}
	total := 0
	for _, k := range keys {
		if _, err := api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(k.group), LogStreamName: aws.String(k.stream)}); err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log stream %s/%s: %w", k.group, k.stream, err)
		}
		evs := byStream[k]
		sort.SliceStable(evs, func(i, j int) bool { return *evs[i].Timestamp < *evs[j].Timestamp })
		for start := 0; start < len(evs); {
			end, size := start, 0
			for end < len(evs) && end-start < putMaxEvents && size+len(*evs[end].Message)+26 <= putMaxBytes &&
				*evs[end].Timestamp-*evs[start].Timestamp < 23*3600*1000 {
				size += len(*evs[end].Message) + 26
				end++
			}
			out, err := api.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(k.group),
				LogStreamName: aws.String(k.stream), LogEvents: evs[start:end]})
			if err != nil {
				return fmt.Errorf("put %d events into %s/%s: %w", end-start, k.group, k.stream, err)
			}
			if r := out.RejectedLogEventsInfo; r != nil {
				return fmt.Errorf("put into %s/%s: CloudWatch Logs rejected events (too old before index %d, too new from %d, expired before %d): choose a --start within the log group's accepted range (the last 14 days)",
					k.group, k.stream, aws.ToInt32(r.TooOldLogEventEndIndex), aws.ToInt32(r.TooNewLogEventStartIndex), aws.ToInt32(r.ExpiredLogEventEndIndex))
			}
			total += end - start
			start = end
		}
	}
	fmt.Fprintf(stdout, "simulate: put %d events into %d log streams of %d log groups\n", total, len(keys), len(groups))
	return nil
}
