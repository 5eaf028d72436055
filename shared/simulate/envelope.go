package simulate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// SubscriptionFilter is the subscription filter name deliveries carry.
const SubscriptionFilter = "tidewatch"

// Delivery limits, as CloudWatch Logs batches for a subscription.
const (
	maxDeliveryBytes  = 1 << 20
	maxDeliveryEvents = 10000
	deliveryWindow    = 5 * time.Minute
)

type cwlEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

type cwlData struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []cwlEvent `json:"logEvents"`
}

// Envelope returns the Lambda event a CloudWatch Logs subscription sends
// for events of one log group and stream:
// {"awslogs":{"data":"<base64(gzip(DATA_MESSAGE JSON))>"}}. Event ids are
// 56-digit strings made of the event's time, a hash of the stream and the
// delivery's first message, and the event's position, so ids are unique
// and the same input gives the same bytes.
func Envelope(owner, group, stream string, events []LogEvent) ([]byte, error) {
	if len(events) == 0 {
		return nil, errors.New("simulate: envelope: no events")
	}
	d := cwlData{MessageType: "DATA_MESSAGE", Owner: owner, LogGroup: group, LogStream: stream,
		SubscriptionFilters: []string{SubscriptionFilter}, LogEvents: make([]cwlEvent, len(events))}
	// Like CloudWatch Logs' own ids, the ids of one delivery share their
	// leading digits: time, then the stream, then the position.
	h := fnv.New64a()
	h.Write([]byte(group + "\x00" + stream + "\x00" + events[0].Message))
	gs := h.Sum64()
	for i, e := range events {
		if e.Group != group || e.Stream != stream {
			return nil, fmt.Errorf("simulate: envelope %s %s: event of %s %s", group, stream, e.Group, e.Stream)
		}
		ms := e.Time.UnixMilli()
		d.LogEvents[i] = cwlEvent{
			ID:        fmt.Sprintf("%013d%024d%019d", ms, gs, i),
			Timestamp: ms,
			Message:   e.Message,
		}
	}
	raw, err := marshal(d)
	if err != nil {
		return nil, fmt.Errorf("simulate: envelope %s %s: %w", group, stream, err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("simulate: envelope %s %s: %w", group, stream, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("simulate: envelope %s %s: %w", group, stream, err)
	}
	out := make([]byte, 0, len(`{"awslogs":{"data":""}}`)+base64.StdEncoding.EncodedLen(zb.Len()))
	out = append(out, `{"awslogs":{"data":"`...)
	out = base64.StdEncoding.AppendEncode(out, zb.Bytes())
	out = append(out, `"}}`...)
	return out, nil
}

// Sink creates the files WriteLambdaEvents writes; name is a slash
// separated relative path such as "flowlogs/day1.jsonl".
type Sink interface {
	Create(name string) (io.WriteCloser, error)
}

// DirSink is a Sink writing under a folder, creating sub-folders as needed.
type DirSink string

// Create creates (or truncates) the file name under the folder.
func (d DirSink) Create(name string) (io.WriteCloser, error) {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return f, nil
}

// Files written by WriteLambdaEvents besides the per-function JSON lines.
const (
	ExpectedFile   = "expected.json"
	FlowFormatFile = "flow-format.txt"
)

// delivery is one batch under construction.
type delivery struct {
	group, stream string
	events        []LogEvent
	size          int
}

// WriteLambdaEvents generates the run and writes it as the three Lambdas
// receive it: events are grouped per log group and stream into deliveries
// of at most 10,000 events, about 1 MB of messages and 5 minutes of event
// time, each written as one Lambda event JSON per line to
// <function>/day<N>.jsonl (the attack day is day<N>-attacks.jsonl), where
// function is flowlogs, audit or metrics. Lines are ordered by their first
// event's time. It also writes expected.json (the expectations, indented)
// and flow-format.txt (FlowFormat and a newline).
func WriteLambdaEvents(opts Options, sink Sink) ([]Expectation, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &lambdaWriter{o: o, sink: sink, open: map[string]*delivery{}, files: map[string]io.WriteCloser{}}
	exp, err := Generate(o, w.add)
	if err == nil {
		err = w.flush()
	}
	if cerr := w.closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("simulate: expectations: %w", err)
	}
	if err := writeFile(sink, ExpectedFile, append(b, '\n')); err != nil {
		return nil, err
	}
	if err := writeFile(sink, FlowFormatFile, []byte(FlowFormat+"\n")); err != nil {
		return nil, err
	}
	return exp, nil
}

func writeFile(sink Sink, name string, b []byte) error {
	f, err := sink.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("simulate: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("simulate: close %s: %w", name, err)
	}
	return nil
}

type lambdaWriter struct {
	o      Options
	sink   Sink
	window time.Time            // start of the current delivery window
	open   map[string]*delivery // by group and stream
	done   []*delivery          // closed in the current window
	files  map[string]io.WriteCloser
}

func (w *lambdaWriter) add(e LogEvent) error {
	win := e.Time.Truncate(deliveryWindow)
	if !win.Equal(w.window) {
		if err := w.flush(); err != nil {
			return err
		}
		w.window = win
	}
	key := e.Group + "\x00" + e.Stream
	d := w.open[key]
	if d != nil && (len(d.events) >= maxDeliveryEvents || d.size+len(e.Message)+120 > maxDeliveryBytes) {
		w.done = append(w.done, d)
		d = nil
	}
	if d == nil {
		d = &delivery{group: e.Group, stream: e.Stream}
		w.open[key] = d
	}
	d.events = append(d.events, e)
	d.size += len(e.Message) + 120
	return nil
}

// flush writes every delivery of the current window in order of first
// event time.
func (w *lambdaWriter) flush() error {
	for _, d := range w.open {
		w.done = append(w.done, d)
	}
	clear(w.open)
	slices.SortStableFunc(w.done, func(a, b *delivery) int {
		if c := a.events[0].Time.Compare(b.events[0].Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.group, b.group); c != 0 {
			return c
		}
		if c := strings.Compare(a.stream, b.stream); c != 0 {
			return c
		}
		return a.events[len(a.events)-1].Time.Compare(b.events[len(b.events)-1].Time)
	})
	for _, d := range w.done {
		env, err := Envelope(w.o.Account, d.group, d.stream, d.events)
		if err != nil {
			return err
		}
		f, err := w.file(d)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(env, '\n')); err != nil {
			return fmt.Errorf("simulate: write: %w", err)
		}
	}
	clear(w.done)
	w.done = w.done[:0]
	return nil
}

// DayFile returns the file a delivery whose first event is at t goes to,
// such as "flowlogs/day2.jsonl" or "audit/day4-attacks.jsonl".
func DayFile(opts Options, group string, t time.Time) string {
	o, _ := opts.withDefaults()
	day := int(t.Sub(o.Start)/(24*time.Hour)) + 1
	name := Function(group) + "/day" + itoa(day)
	if day > o.Days {
		name += "-attacks"
	}
	return name + ".jsonl"
}

func (w *lambdaWriter) file(d *delivery) (io.Writer, error) {
	name := DayFile(w.o, d.group, d.events[0].Time)
	if f, ok := w.files[name]; ok {
		return f, nil
	}
	f, err := w.sink.Create(name)
	if err != nil {
		return nil, err
	}
	w.files[name] = f
	return f, nil
}

func (w *lambdaWriter) closeAll() error {
	var first error
	for _, name := range sortedKeys(w.files) {
		if err := w.files[name].Close(); err != nil && first == nil {
			first = fmt.Errorf("simulate: close %s: %w", name, err)
		}
	}
	return first
}
