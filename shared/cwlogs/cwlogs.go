package cwlogs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// Message types CloudWatch Logs puts in Batch.MessageType.
const (
	// MessageTypeData marks a batch of real log events.
	MessageTypeData = "DATA_MESSAGE"
	// MessageTypeControl marks the reachability probe CloudWatch Logs sends
	// when a subscription is created; it carries no real log event.
	MessageTypeControl = "CONTROL_MESSAGE"
)

// PolicyLevelAccount is the Batch.PolicyLevel of a batch delivered by an
// account-level subscription filter policy.
const PolicyLevelAccount = "ACCOUNT_LEVEL_POLICY"

// DefaultMaxSize bounds the decompressed JSON of one batch when
// Decoder.MaxSize is zero. CloudWatch Logs batches are at most a few MiB, so
// anything past it is treated as a gzip bomb.
const DefaultMaxSize = 64 << 20

// Batch is one CloudWatch Logs subscription delivery. Its strings are
// ordinary Go strings that stay valid; its slices, the log events' messages
// and their ExtractedFields maps belong to the Decoder and are valid until
// its next decode call.
type Batch struct {
	// MessageType is MessageTypeData or MessageTypeControl.
	MessageType string
	// Owner is the account id of the source log group ("CloudwatchLogs" in a
	// CONTROL_MESSAGE).
	Owner string
	// LogGroup and LogStream name the source of every event in the batch.
	LogGroup, LogStream string
	// SubscriptionFilters names the filters that matched.
	SubscriptionFilters []string
	// PolicyLevel is set only for account-level subscription policies
	// (PolicyLevelAccount); empty otherwise.
	PolicyLevel string
	// LogEvents are the events, in delivery order.
	LogEvents []LogEvent
}

// IsControl reports whether b is a CONTROL_MESSAGE, which callers
// acknowledge and skip.
func (b *Batch) IsControl() bool { return b.MessageType == MessageTypeControl }

// LogEvent is one log event of a Batch.
type LogEvent struct {
	// ID is the event id CloudWatch Logs assigned (56 digits; empty in a
	// CONTROL_MESSAGE).
	ID string
	// Timestamp is the event time in milliseconds since the Unix epoch.
	Timestamp int64
	// Message is the raw log line with JSON escapes resolved. It aliases the
	// Decoder's buffers (or the input of Unmarshal): copy it to keep it past
	// the next decode call.
	Message []byte
	// ExtractedFields holds the system fields a filter with emitSystemFields
	// adds (@aws.account, @aws.region, @source.log); nil when absent or
	// empty. A Decoder reuses these maps on its next decode call.
	ExtractedFields map[string]string
}

// ErrTooLarge is wrapped by the error for a batch whose decompressed JSON
// exceeds the size limit.
var ErrTooLarge = errors.New("decompressed payload exceeds the size limit")

// ErrSyntax is wrapped by the error for JSON that is malformed or does not
// have the shape of a subscription envelope.
var ErrSyntax = errors.New("malformed envelope")

// EnvelopeError reports a payload that could not be decoded as a batch.
type EnvelopeError struct {
	// LogGroup and LogStream are the batch's source when they had been read
	// before the problem; empty otherwise.
	LogGroup, LogStream string
	// Path locates the problem in the JSON, such as "logEvents[12].message";
	// empty for the payload as a whole.
	Path string
	// Offset is the byte offset of the problem in the JSON being scanned, or
	// -1 when the problem is not in JSON (base64, gzip, size).
	Offset int
	// Err is what is wrong; it wraps ErrSyntax, ErrTooLarge or the base64 or
	// gzip error.
	Err error
}

// Error implements error.
func (e *EnvelopeError) Error() string {
	s := "cwlogs: "
	if e.LogGroup != "" || e.LogStream != "" {
		s += "log group " + strconv.Quote(e.LogGroup) + " stream " + strconv.Quote(e.LogStream) + ": "
	}
	switch {
	case e.Path != "" && e.Offset >= 0:
		s += e.Path + " at offset " + strconv.Itoa(e.Offset) + ": "
	case e.Path != "":
		s += e.Path + ": "
	case e.Offset >= 0:
		s += "at offset " + strconv.Itoa(e.Offset) + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EnvelopeError) Unwrap() error { return e.Err }

// span locates a string in Decoder.strs or a message in Decoder.arena.
type span struct{ off, end uint32 }

// eventMeta holds what is fixed up once a batch is fully scanned.
type eventMeta struct {
	id       span
	msg      span
	msgArena bool // Message lives at msg in the arena, not in the JSON
}

// pair is one extractedFields entry of event ev.
type pair struct {
	ev   int
	k, v span
}

// batchStrings are the spans of the batch-level strings.
type batchStrings struct {
	messageType, owner, logGroup, logStream, policyLevel span
}

// Decoder decodes subscription envelopes, reusing its gzip reader and
// buffers from one batch to the next. The zero Decoder is ready to use. A
// Decoder is not safe for concurrent use; what it returns is valid until its
// next decode call.
type Decoder struct {
	// MaxSize bounds the decompressed JSON of a batch, in bytes; zero means
	// DefaultMaxSize.
	MaxSize int

	gz    gzip.Reader
	br    bytes.Reader
	b64   []byte // unescaped base64 text, when the event JSON escaped it
	zbuf  []byte // gzip bytes
	raw   []byte // decompressed JSON
	arena []byte // unescaped messages
	strs  []byte // every string of the batch, converted once
	key   []byte // unescaped object key

	batch   Batch
	bs      batchStrings
	filters []span
	meta    []eventMeta
	pairs   []pair
	maps    []map[string]string
}

func (d *Decoder) maxSize() int {
	if d.MaxSize > 0 {
		return d.MaxSize
	}
	return DefaultMaxSize
}

// DecodeEvent decodes the Lambda event {"awslogs":{"data":"..."}}.
func (d *Decoder) DecodeEvent(payload []byte) (*Batch, error) {
	data, err := d.eventData(payload)
	if err != nil {
		return nil, err
	}
	return d.DecodeData(data)
}

// DecodeData decodes base64(gzip(JSON)), the awslogs.data of a Lambda event.
func (d *Decoder) DecodeData(b64 []byte) (*Batch, error) {
	b64 = bytes.TrimSpace(b64)
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(d.zbuf) < n {
		d.zbuf = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.zbuf[:n], b64)
	if err != nil {
		return nil, &EnvelopeError{Path: "awslogs.data", Offset: -1, Err: fmt.Errorf("base64: %w", err)}
	}
	return d.DecodeGzip(d.zbuf[:n])
}

// DecodeGzip decodes gzip(JSON), the data of a Kinesis or Firehose record
// from a CloudWatch Logs destination. The whole stream is read, so a bad
// trailer (CRC or size) is an error.
func (d *Decoder) DecodeGzip(gz []byte) (*Batch, error) {
	raw, err := d.gunzip(gz)
	if err != nil {
		return nil, &EnvelopeError{Offset: -1, Err: err}
	}
	return d.Unmarshal(raw)
}

func (d *Decoder) gunzip(gz []byte) ([]byte, error) {
	d.br.Reset(gz)
	if err := d.gz.Reset(&d.br); err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	limit := d.maxSize()
	buf := d.raw[:0]
	if want := sizeHint(gz, limit); cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				d.raw = nil // do not keep a bomb-sized buffer
				return nil, ErrTooLarge
			}
			grow := max(cap(buf), 64<<10)
			grow = min(grow, limit+1-len(buf))
			buf = slices.Grow(buf, grow)
		}
		n, err := d.gz.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			d.raw = buf[:0]
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	if len(buf) > limit {
		d.raw = nil
		return nil, ErrTooLarge
	}
	d.raw = buf
	return buf, nil
}

// sizeHint guesses the decompressed size from the gzip trailer (ISIZE, the
// size modulo 2^32), bounded by the limit and by deflate's best ratio so a
// forged trailer cannot make it allocate far beyond what the data allows.
func sizeHint(gz []byte, limit int) int {
	if len(gz) < 18 {
		return 0
	}
	t := gz[len(gz)-4:]
	n := int(uint32(t[0]) | uint32(t[1])<<8 | uint32(t[2])<<16 | uint32(t[3])<<24)
	return min(n+1, limit+1, len(gz)*1032)
}

// Unmarshal decodes an already decompressed DATA_MESSAGE or CONTROL_MESSAGE.
// Messages without escapes alias js.
func (d *Decoder) Unmarshal(js []byte) (*Batch, error) {
	if err := d.parse(js); err != nil {
		return nil, err
	}
	d.finish()
	return &d.batch, nil
}

// DecodeEvent decodes the Lambda event {"awslogs":{"data":"..."}} with a new
// Decoder; the batch owns its memory. Prefer a reused Decoder on hot paths.
func DecodeEvent(payload []byte) (*Batch, error) {
	var d Decoder
	return d.DecodeEvent(payload)
}

// DecodeData decodes base64(gzip(JSON)) with a new Decoder; the batch owns
// its memory.
func DecodeData(b64 []byte) (*Batch, error) {
	var d Decoder
	return d.DecodeData(b64)
}

// DecodeGzip decodes gzip(JSON) with a new Decoder; the batch owns its
// memory.
func DecodeGzip(gz []byte) (*Batch, error) {
	var d Decoder
	return d.DecodeGzip(gz)
}

// Unmarshal decodes a decompressed subscription JSON with a new Decoder.
// Messages without escapes alias js.
func Unmarshal(js []byte) (*Batch, error) {
	var d Decoder
	return d.Unmarshal(js)
}
