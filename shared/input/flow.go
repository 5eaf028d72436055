package input

import (
	"fmt"
	"io"
	"time"

	"github.com/tidewatch/tidewatch/shared/flowlog"
)

// flowChunk bounds how many flow records one stream holds at a time.
const flowChunk = 1024

// flowStream reads an S3-style flow log file in chunks of records.
type flowStream struct {
	name  string
	carry *flowlog.Record // the first record of the next chunk
	sc    *flowlog.Scanner
	recs  []flowlog.Record
	bad   []badLine
	t     time.Time
	// errReported is set once the scanner's read error is handed on: the
	// scanner keeps it, and the file ends there.
	errReported bool
}

type badLine struct {
	line int
	err  error
}

func newFlowStream(name string, r io.Reader, f *flowlog.Format) *flowStream {
	return &flowStream{name: name, sc: flowlog.NewScanner(r, f), recs: make([]flowlog.Record, 0, flowChunk)}
}

func (s *flowStream) advance() bool {
	s.recs, s.bad = s.recs[:0], s.bad[:0]
	if s.carry != nil {
		s.recs = append(s.recs, *s.carry)
		s.carry = nil
	}
	for len(s.recs) < flowChunk && s.sc.Scan() {
		if rec := s.sc.Record(); rec != nil {
			// A chunk spans at most one minute of event time, so files
			// interleave with each other closely enough.
			if len(s.recs) > 0 && rec.Start-s.recs[0].Start > 60 {
				c := *rec
				s.carry = &c
				break
			}
			s.recs = append(s.recs, *rec)
			continue
		}
		s.bad = append(s.bad, badLine{line: s.sc.Line(), err: s.sc.LineErr()})
	}
	if err := s.sc.Err(); err != nil && !s.errReported {
		s.errReported = true
		s.bad = append(s.bad, badLine{line: s.sc.Line(), err: fmt.Errorf("read: %w", err)})
	}
	if len(s.recs) == 0 && len(s.bad) == 0 && s.carry == nil {
		return false
	}
	s.t = time.Time{}
	if len(s.recs) > 0 {
		s.t = time.Unix(s.recs[0].Start, 0)
	}
	return true
}

func (s *flowStream) time() time.Time { return s.t }
func (s *flowStream) order() string   { return s.name }

func (s *flowStream) apply(h Handler) {
	for _, b := range s.bad {
		h.Skip("bad flow record", fmt.Sprintf("%s:%d", s.name, b.line), b.err)
	}
	for i := range s.recs {
		h.Flow(&s.recs[i], s.name)
	}
}
