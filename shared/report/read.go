package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// MaxLine bounds one input line. A finding Security Hub accepts is at most
// 240 KB, so a longer line is not one.
const MaxLine = 1 << 20

// Skipped is an input line that is not a finding, and why.
type Skipped struct {
	// Name names the input, as given to Read.
	Name string
	// Line is the line number, from 1.
	Line int
	// Reason says what is wrong with the line.
	Reason string
}

// String writes the skip as NAME:LINE: REASON, the form editors and
// terminals link to.
func (s Skipped) String() string {
	return fmt.Sprintf("%s:%d: %s", s.Name, s.Line, s.Reason)
}

// Read decodes ASFF findings written one JSON object per line (what
// `tidewatch replay --out` writes) from r, which name names in the skips.
// Blank lines are ignored; a line that is not a finding is skipped with
// its reason and the rest are still read. The error is only for r failing.
func Read(name string, r io.Reader) ([]finding.Finding, []Skipped, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []finding.Finding
	var skips []Skipped
	for n := 1; ; n++ {
		line, long, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return out, skips, fmt.Errorf("report: read %s: %w", name, err)
		}
		switch {
		case long:
			skips = append(skips, Skipped{name, n, fmt.Sprintf("line longer than %d bytes", MaxLine)})
		case len(bytes.TrimSpace(line)) > 0:
			f, reason := decode(line)
			if reason != "" {
				skips = append(skips, Skipped{name, n, reason})
			} else {
				out = append(out, f)
			}
		}
		if err != nil {
			return out, skips, nil
		}
	}
}

// readLine returns the next line without its end of line; long reports a
// line over MaxLine, which is consumed but not returned.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > MaxLine+2 {
				long, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, long, err
	}
}

// decode parses one line; the reason is empty for a finding.
func decode(line []byte) (finding.Finding, string) {
	var f finding.Finding
	if err := json.Unmarshal(line, &f); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return f, fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ) && typ.Field == "":
			return f, "not a JSON object"
		}
		return f, "not an ASFF finding: " + err.Error()
	}
	if strings.TrimSpace(f.ID) == "" {
		return f, "not an ASFF finding: no Id"
	}
	return f, ""
}
