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
	rd   *bufio.Reader
	dec  *json.Decoder
	cw   cwlogs.Decoder
	n    int // values read, for messages

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
	return &jsonStream{name: name, rd: rd, dec: json.NewDecoder(rd)}
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
// error is reported as a skip unit and reading resumes at the next line.
func (s *jsonStream) next() (json.RawMessage, bool) {
	for {
		if len(s.pending) > 0 {
			v := s.pending[0]
			s.pending = s.pending[1:]
			s.n++
			return v, true
		}
		var raw json.RawMessage
		err := s.dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil, false
		}
		if err != nil {
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
	// Buffered starts right after the last good value: step over the
	// blank space before the bad one, then drop the bad line.
	rest := bufio.NewReader(io.MultiReader(s.dec.Buffered(), s.rd))
	for {
		c, err := rest.ReadByte()
		if err != nil {
			break
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			rest.UnreadByte()
			break
		}
	}
	for {
		if _, err := rest.ReadSlice('\n'); err != bufio.ErrBufferFull {
			break
		}
	}
	s.rd = rest
	s.dec = json.NewDecoder(rest)
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
