package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// jsonStream reads a file of JSON values — one document, JSON lines, or
// arrays of either — and yields one unit per value (an audit event list
// yields one unit per event).
type jsonStream struct {
	name string
	src  source
	dec  *json.Decoder
	cw   cwlogs.Decoder
	n    int // values read, for messages
	// unreadable is set once src's read error is reported; nothing more
	// is read.
	unreadable bool

	pending []json.RawMessage // elements of an array being read
	unit    jsonUnit
	audit   []k8saudit.Event // events of the list being read
}

type jsonUnit struct {
	t     time.Time
	where string
	batch *cwlogs.Batch
	audit *k8saudit.Event
	ins   *insights.Event
	skip  string
	err   error
}

func newJSONStream(name string, rd *bufio.Reader) *jsonStream {
	s := &jsonStream{name: name, src: source{file: rd}}
	s.dec = json.NewDecoder(&s.src)
	return s
}

func (s *jsonStream) time() time.Time { return s.unit.t }
func (s *jsonStream) order() string   { return s.name }

func (s *jsonStream) apply(h Handler) {
	u := &s.unit
	switch {
	case u.skip != "":
		h.Skip(u.skip, u.where, u.err)
	case u.batch != nil:
		h.Batch(u.batch, u.where)
	case u.audit != nil:
		h.Audit(u.audit, u.where)
	case u.ins != nil:
		h.Insights(u.ins, u.where)
	}
}

func (s *jsonStream) advance() bool {
	s.unit = jsonUnit{}
	if len(s.audit) > 0 {
		ev := &s.audit[0]
		s.audit = s.audit[1:]
		s.unit = jsonUnit{t: ev.Time(), where: s.where(), audit: ev}
		return true
	}
	raw, ok := s.next()
	if !ok {
		return s.unit.skip != ""
	}
	s.classify(raw)
	return true
}

func (s *jsonStream) where() string { return fmt.Sprintf("%s#%d", s.name, s.n) }

// next returns the next JSON value (array elements one by one). A syntax
// error is reported as a skip unit and reading resumes at the next line; a
// read error is reported as one and reading ends.
func (s *jsonStream) next() (json.RawMessage, bool) {
	for {
		if len(s.pending) > 0 {
			v := s.pending[0]
			s.pending = s.pending[1:]
			s.n++
			return v, true
		}
		if s.src.err != nil {
			if !s.unreadable {
				s.unreadable = true
				s.n++
				s.unit = jsonUnit{where: s.where(), skip: "unreadable file", err: fmt.Errorf("read: %w", s.src.err)}
			}
			return nil, false
		}
		var raw json.RawMessage
		err := s.dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil, false
		}
		if err != nil {
			if s.src.err != nil {
				continue // the read failed, not the JSON
			}
			s.n++
			s.unit = jsonUnit{where: fmt.Sprintf("%s#%d (byte %d)", s.name, s.n, s.dec.InputOffset()), skip: "malformed JSON", err: err}
			s.resync()
			return nil, false
		}
		trimmed := bytes.TrimLeft(raw, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var elems []json.RawMessage
			if err := json.Unmarshal(trimmed, &elems); err == nil {
				s.pending = elems
				continue
			}
		}
		s.n++
		return raw, true
	}
}

// resync drops the rest of the line the decoder failed on and restarts
// decoding after it, so one bad line of a JSON-lines file costs one record.
func (s *jsonStream) resync() {
	// What the decoder holds starts right after the last good value, and
	// what it has not yet taken of src.back follows it: step over the
	// blank space before the bad value, then drop the bad line.
	ahead, _ := io.ReadAll(s.dec.Buffered())
	ahead = bytes.TrimLeft(append(ahead, s.src.back...), " \t\r\n")
	if len(ahead) == 0 {
		s.src.skipBlank()
	}
	if i := bytes.IndexByte(ahead, '\n'); i >= 0 {
		s.src.back = ahead[i+1:]
	} else {
		s.src.back = nil
		s.src.dropLine()
	}
	s.dec = json.NewDecoder(&s.src)
}

// source is a file as the decoder reads it: the bytes resync gives back,
// then the rest of the file. It keeps the file's first read error (a gzip
// stream cut short fails on every read after it), which ends the stream.
type source struct {
	back []byte
	file *bufio.Reader
	err  error
}

func (r *source) Read(p []byte) (int, error) {
	if len(r.back) > 0 {
		n := copy(p, r.back)
		r.back = r.back[n:]
		return n, nil
	}
	n, err := r.file.Read(p)
	r.keep(err)
	return n, err
}

func (r *source) keep(err error) {
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
}

// skipBlank steps over blank space in the file.
func (r *source) skipBlank() {
	for {
		c, err := r.file.ReadByte()
		if err != nil {
			r.keep(err)
			return
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			r.file.UnreadByte()
			return
		}
	}
}

// dropLine drops the file up to the end of the line.
func (r *source) dropLine() {
	for {
		if _, err := r.file.ReadSlice('\n'); err != bufio.ErrBufferFull {
			r.keep(err)
			return
		}
	}
}

// classify recognises one JSON value by its keys.
func (s *jsonStream) classify(raw json.RawMessage) {
	where := s.where()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		s.unit = jsonUnit{where: where, skip: "unrecognised JSON", err: errors.New("not a JSON object")}
		return
	}
	has := func(k string) bool { _, ok := keys[k]; return ok }
	switch {
	case has("awslogs"):
		s.batch(where, func() (*cwlogs.Batch, error) { return s.cw.DecodeEvent(raw) })
	case has("logEvents") || has("messageType"):
		s.batch(where, func() (*cwlogs.Batch, error) { return s.cw.Unmarshal(raw) })
	case has("auditID") || has("objectRef") || has("verb") || has("items") || has("kind"):
		evs, err := k8saudit.Parse(raw)
		if err != nil {
			s.unit = jsonUnit{where: where, skip: "bad audit event", err: err}
			return
		}
		if len(evs) == 0 {
			s.unit = jsonUnit{where: where, skip: "empty audit event list", err: errors.New("no items")}
			return
		}
		s.audit = evs[1:]
		s.unit = jsonUnit{t: evs[0].Time(), where: where, audit: &evs[0]}
	case has("CloudWatchMetrics") || has("_aws") || has("Type"):
		ev, err := insights.Parse(raw)
		if err != nil {
			reason := "bad Container Insights event"
			if errors.Is(err, insights.ErrIgnoredType) {
				reason = "ignored Container Insights type"
			}
			s.unit = jsonUnit{where: where, skip: reason, err: err}
			return
		}
		s.unit = jsonUnit{t: ev.Time, where: where, ins: &ev}
	default:
		s.unit = jsonUnit{where: where, skip: "unrecognised JSON", err: errors.New("not a CloudWatch Logs delivery, audit event or performance event")}
	}
}

func (s *jsonStream) batch(where string, decode func() (*cwlogs.Batch, error)) {
	b, err := decode()
	if err != nil {
		s.unit = jsonUnit{where: where, skip: "bad CloudWatch Logs envelope", err: err}
		return
	}
	var t time.Time
	for i, ev := range b.LogEvents {
		if ts := time.UnixMilli(ev.Timestamp); i == 0 || ts.Before(t) {
			t = ts
		}
	}
	s.unit = jsonUnit{t: t, where: where, batch: b}
}
