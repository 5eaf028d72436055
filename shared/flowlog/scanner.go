package flowlog

import (
	"bufio"
	"errors"
	"io"
	"strconv"
)

// maxLine bounds one line of a flow-log file; a record with every field is
// a few KiB, so longer lines are reported and skipped.
const maxLine = 64 << 10

// ErrLineTooLong is wrapped by the LineError for a line over 64 KiB.
var ErrLineTooLong = errors.New("flowlog: line too long")

// LineError is a bad line of a file; scanning goes on after it.
type LineError struct {
	Line int // 1-based
	Err  error
}

// Error implements error.
func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Scanner reads a flow-log file as S3 delivers it (decompressed): an
// optional header line naming the fields, then one record per line. A line
// whose first word is a field name is a header and sets the format of the
// lines after it, so concatenated files and the AWS documentation's examples
// scan as they are. Blank lines are skipped.
type Scanner struct {
	r       *bufio.Reader
	p       *Parser
	rec     Record
	line    int
	lineErr error
	err     error
	eof     bool
}

// NewScanner returns a Scanner reading r; records before any header line
// use f, or DefaultFormat when f is nil.
func NewScanner(r io.Reader, f *Format) *Scanner {
	var format Format
	if f != nil {
		format = *f
	}
	return &Scanner{r: bufio.NewReaderSize(r, maxLine), p: NewParser(format)}
}

// Scan advances to the next record or bad line and reports whether there
// was one. After it returns false, Err reports any read error.
func (s *Scanner) Scan() bool {
	s.lineErr = nil
	for !s.eof {
		line, err := s.r.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			s.line++
			for err == bufio.ErrBufferFull {
				_, err = s.r.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				s.err, s.eof = err, true
				return false
			}
			s.eof = err == io.EOF
			s.lineErr = &LineError{Line: s.line, Err: ErrLineTooLong}
			return true
		case err == io.EOF:
			s.eof = true
			if len(line) == 0 {
				return false
			}
		case err != nil:
			s.err, s.eof = err, true
			return false
		}
		s.line++
		if ok := s.handle(line); ok {
			return true
		}
	}
	return false
}

// handle processes one line and reports whether it is something to return
// (a record or a bad line) rather than a blank or header line.
func (s *Scanner) handle(line []byte) bool {
	i := 0
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i == len(line) {
		return false
	}
	word := line[i:tokenEnd(line, i)]
	if _, ok := lookupField(word); ok || (len(word) > 2 && word[0] == '$' && word[1] == '{') {
		f, err := ParseFormat(string(line))
		if err != nil {
			s.lineErr = &LineError{Line: s.line, Err: err}
			return true
		}
		s.p.setFormat(f)
		return false
	}
	if err := s.p.Parse(line, &s.rec); err != nil {
		s.lineErr = &LineError{Line: s.line, Err: err}
	}
	return true
}

// Record returns the record of the current line, valid until the next Scan;
// nil when the line was bad.
func (s *Scanner) Record() *Record {
	if s.lineErr != nil {
		return nil
	}
	return &s.rec
}

// LineErr returns the *LineError of the current line, or nil.
func (s *Scanner) LineErr() error { return s.lineErr }

// Line returns the 1-based number of the current line.
func (s *Scanner) Line() int { return s.line }

// Format returns the format in effect for the current line.
func (s *Scanner) Format() Format { return s.p.Format() }

// Err returns the first read error, or nil at a clean end of input.
func (s *Scanner) Err() error { return s.err }
