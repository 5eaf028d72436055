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
	byStream := map[logStream][]cwltypes.InputLogEvent{}
	_, err := simulate.Generate(opts, func(ev simulate.LogEvent) error {
		k := logStream{ev.Group, ev.Stream}
		byStream[k] = append(byStream[k], cwltypes.InputLogEvent{Message: aws.String(ev.Message), Timestamp: aws.Int64(ev.Time.UnixMilli())})
		return nil
	})
	if err != nil {
		return err
	}
	total, groups, err := putStreams(ctx, api, byStream)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulate: put %d events into %d log streams of %d log groups\n", total, len(byStream), groups)
	return nil
}

// logStream names one log stream of one log group.
type logStream struct{ group, stream string }

// putStreams puts the events of each log stream, in time order and in as
// few PutLogEvents calls as its limits allow, creating the groups and
// streams that do not exist yet. It returns how many events it put and
// into how many log groups.
func putStreams(ctx context.Context, api logsAPI, byStream map[logStream][]cwltypes.InputLogEvent) (int, int, error) {
	keys := make([]logStream, 0, len(byStream))
	inGroup := map[string]bool{}
	for k := range byStream {
		keys = append(keys, k)
		inGroup[k.group] = true
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].stream < keys[j].stream
	})
	var exists *cwltypes.ResourceAlreadyExistsException
	for g := range inGroup {
		if _, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil && !errors.As(err, &exists) {
			return 0, 0, fmt.Errorf("create log group %s: %w", g, err)
		}
	}
	total := 0
	for _, k := range keys {
		if _, err := api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(k.group), LogStreamName: aws.String(k.stream)}); err != nil && !errors.As(err, &exists) {
			return 0, 0, fmt.Errorf("create log stream %s/%s: %w", k.group, k.stream, err)
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
				return 0, 0, fmt.Errorf("put %d events into %s/%s: %w", end-start, k.group, k.stream, err)
			}
			if r := out.RejectedLogEventsInfo; r != nil {
				return 0, 0, fmt.Errorf("put into %s/%s: CloudWatch Logs rejected events (too old before index %d, too new from %d, expired before %d): choose a --start within the log group's accepted range (the last 14 days)",
					k.group, k.stream, aws.ToInt32(r.TooOldLogEventEndIndex), aws.ToInt32(r.TooNewLogEventStartIndex), aws.ToInt32(r.ExpiredLogEventEndIndex))
			}
			total += end - start
			start = end
		}
	}
	return total, len(inGroup), nil
}
