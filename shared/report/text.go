package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// maxTitle bounds the title column of the table, in characters.
const maxTitle = 80

// WriteText writes the findings as a table for a terminal (severity,
// technique, workload, first and last seen in UTC, workflow status,
// title), then the summary line. Control and bidirectional-override
// characters from the findings are written escaped, so that a pod name
// or command cannot move the cursor or recolour the terminal.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tTECHNIQUE\tWORKLOAD\tFIRST SEEN (UTC)\tLAST SEEN (UTC)\tSTATUS\tTITLE")
	for _, f := range r.shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			severityLabel(f), cell(technique(f), 0), cell(f.ProductFields[finding.FieldWorkload], 0),
			cell(timeText(f.FirstObservedAt), 0), cell(timeText(f.LastObservedAt), 0),
			cell(status(f), 0), cell(f.Title, maxTitle))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

// cell makes s safe and tidy for one table cell: control characters
// escaped (a tab would break the columns, an escape sequence would reach
// the terminal), cut to at most max characters (0: no limit), "-" when
// empty.
func cell(s string, max int) string {
	var b strings.Builder
	n := 0
	for i, c := range s {
		if max > 0 && n == max-1 && utf8.RuneCountInString(s[i:]) > 1 {
			b.WriteString("…")
			break
		}
		switch {
		case c == utf8.RuneError && !validAt(s, i):
			b.WriteString(`\ufffd`)
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || unicode.Is(unicode.Bidi_Control, c) ||
			c == '\u2028' || c == '\u2029':
			if c < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				fmt.Fprintf(&b, `\u%04x`, c)
			}
		default:
			b.WriteRune(c)
		}
		n++
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// validAt reports whether the rune at s[i] is a real U+FFFD rather than
// an invalid byte.
func validAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}
