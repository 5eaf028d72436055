package backfill

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/tidewatch/tidewatch/shared/backoff"
	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// fakeLogs is CloudWatch Logs in memory, answering as the real API does:
// both ends of the time range inclusive, pages of pageSize events with a
// next token, streams not interleaved (as moto answers).
type fakeLogs struct {
	pageSize int

	mu     sync.Mutex
	groups map[string][]cwltypes.FilteredLogEvent
	calls  int
	// before, when set, runs at the start of every FilterLogEvents call
	// and may return an error to answer with.
	before func(in *cloudwatchlogs.FilterLogEventsInput) error
	// served records the start time of every call, in the order answered.
	served []int64
}

func newFakeLogs() *fakeLogs {
	return &fakeLogs{pageSize: 50, groups: map[string][]cwltypes.FilteredLogEvent{}}
}

var nextEventID int

// put adds an event; ids grow as CloudWatch Logs' do.
func (f *fakeLogs) put(group, stream string, ts time.Time, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	nextEventID++
	f.groups[group] = append(f.groups[group], cwltypes.FilteredLogEvent{
		EventId: aws.String(fmt.Sprintf("%056d", nextEventID)), LogStreamName: aws.String(stream),
		Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(msg),
	})
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	if f.before != nil {
		if err := f.before(in); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.served = append(f.served, aws.ToInt64(in.StartTime))
	all, ok := f.groups[aws.ToString(in.LogGroupName)]
	if !ok {
		return nil, &cwltypes.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	var match []cwltypes.FilteredLogEvent
	for _, e := range all {
		ts := aws.ToInt64(e.Timestamp)
		if in.StartTime != nil && ts < *in.StartTime || in.EndTime != nil && ts > *in.EndTime {
			continue
		}
		match = append(match, e)
	}
	sort.SliceStable(match, func(i, j int) bool {
		if a, b := aws.ToString(match[i].LogStreamName), aws.ToString(match[j].LogStreamName); a != b {
			return a < b
		}
		return aws.ToInt64(match[i].Timestamp) < aws.ToInt64(match[j].Timestamp)
	})
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	to := min(from+f.pageSize, len(match))
	out := &cloudwatchlogs.FilterLogEventsOutput{Events: match[from:to]}
	if to < len(match) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	return out, nil
}

func (f *fakeLogs) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for g := range f.groups {
		if len(g) >= len(aws.ToString(in.LogGroupNamePrefix)) && g[:len(aws.ToString(in.LogGroupNamePrefix))] == aws.ToString(in.LogGroupNamePrefix) {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	// One group per page, to exercise paging.
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	if from < len(names) {
		g := names[from]
		var size int64
		for _, e := range f.groups[g] {
			size += int64(len(aws.ToString(e.Message)))
		}
		out.LogGroups = []cwltypes.LogGroup{{
			LogGroupName: aws.String(g), StoredBytes: aws.Int64(size), CreationTime: aws.Int64(at(0, 0).Add(-24 * time.Hour).UnixMilli()),
			RetentionInDays: aws.Int32(14),
			Arn:             aws.String("arn:aws:logs:us-east-1:123456789012:log-group:" + g + ":*"),
			LogGroupArn:     aws.String("arn:aws:logs:us-east-1:123456789012:log-group:" + g),
		}}
		if from+1 < len(names) {
			out.NextToken = aws.String(strconv.Itoa(from + 1))
		}
	}
	return out, nil
}

// fed is one event as a sink received it.
type fed struct {
	group, stream string
	ts            int64
	msg           string
}

// fakeSink records what it is fed; a flush is a marker in the log.
type fakeSink struct {
	mu      sync.Mutex
	events  []fed
	flushes []int // len(events) at each flush
	pending int
	// onFlush, when set, runs at each flush with its context; an error
	// fails the flush.
	onFlush func(ctx context.Context) error
}

func (s *fakeSink) AddBatch(b *cwlogs.Batch, kind pipeline.Kind, where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range b.LogEvents {
		s.events = append(s.events, fed{group: b.LogGroup, stream: b.LogStream, ts: e.Timestamp, msg: string(e.Message)})
	}
	s.pending += len(b.LogEvents)
}

func (s *fakeSink) Flush(ctx context.Context) (pipeline.Report, error) {
	if s.onFlush != nil {
		if err := s.onFlush(ctx); err != nil {
			return pipeline.Report{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes = append(s.flushes, len(s.events))
	rep := pipeline.Report{}
	rep.Read("fake", s.pending)
	s.pending = 0
	return rep, nil
}

func (s *fakeSink) Pending() int { return s.pending }

// fastRetry keeps tests quick.
var fastRetry = backoff.Policy{Attempts: 5, Base: time.Millisecond, Max: 2 * time.Millisecond}

// flowLine is a version 2 flow log record between two internal addresses
// of a window at start.
func flowLine(start time.Time, src string, bytes int) string {
	s := start.Unix()
	return fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 %s 10.0.2.7 44321 443 6 10 %d %d %d ACCEPT OK", src, bytes, s, s+59)
}

// plans makes the targets of a run over r for groups with no checkpoint.
func plans(r Range, groups ...string) []Target {
	var ts []Target
	for _, g := range groups {
		ts = append(ts, Target{Plan: PlanGroup(g, r, nil, time.Hour), Account: "123456789012"})
	}
	return ts
}
