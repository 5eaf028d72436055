package k8saudit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is wrapped by the errors Parse returns for input that is not
// JSON.
var ErrSyntax = errors.New("k8saudit: invalid JSON")

// ErrNotEvent is wrapped by the errors Parse returns for JSON that is not an
// audit Event or EventList (a field of the wrong type, another kind).
var ErrNotEvent = errors.New("k8saudit: not an audit event")

// truncatedMarker is what CloudWatch Logs appends to a message it cut at
// its size limit.
const truncatedMarker = "[Truncated...]"

// TruncatedError reports an event cut short, by CloudWatch Logs at its
// 256 KB entry limit (the message then ends in "[Truncated...]") or by
// anything else that lost its end. Pipelines count these apart from
// malformed events: the event was real but its content is incomplete.
type TruncatedError struct {
	// AuditID is recovered from the part that survived, when present.
	AuditID string
	// Offset is where the input stopped making sense.
	Offset int
	// Marker reports that the input carried CloudWatch's marker.
	Marker bool
}

func (e *TruncatedError) Error() string {
	id := e.AuditID
	if id == "" {
		id = "unknown auditID"
	}
	if e.Marker {
		return fmt.Sprintf("k8saudit: event %s truncated by CloudWatch Logs at offset %d", id, e.Offset)
	}
	return fmt.Sprintf("k8saudit: event %s truncated at offset %d", id, e.Offset)
}

// maxDepth bounds nesting, as encoding/json does, so that hostile input
// cannot exhaust the stack.
const maxDepth = 10000

// Parse decodes one log message: an audit Event, an EventList, a JSON array
// of events, or several of those separated by white space (JSON lines).
// Events without kind and apiVersion are accepted when they carry an
// auditID or a verb and requestURI, as older audit backends wrote them.
//
// The returned events own their memory; msg may be reused. On error Parse
// returns the events decoded before the bad value along with the error,
// which is a *TruncatedError for input that ends early, or wraps ErrSyntax
// or ErrNotEvent.
func Parse(msg []byte) ([]Event, error) {
	d := decoder{b: msg}
	var out []Event
	for {
		d.ws()
		if d.i >= len(d.b) {
			return out, nil
		}
		start := d.i
		var err error
		out, err = d.top(out)
		if err != nil {
			return out, d.wrapTruncated(err, start)
		}
	}
}

// top decodes one top-level value and appends its events.
func (d *decoder) top(out []Event) ([]Event, error) {
	d.partial = nil
	switch d.b[d.i] {
	case '{':
		n := len(out)
		out = append(out, Event{})
		items, isList, err := d.event(&out[n], true)
		if err != nil {
			if d.partial == nil || d.partial.AuditID == "" {
				d.partial = &out[n]
			}
			return out[:n], err
		}
		if isList {
			out = append(out[:n], items...)
		}
		return out, nil
	case '[':
		err := d.array(func() error {
			if d.b[d.i] != '{' {
				if err := d.skip(); err != nil {
					return err
				}
				return fmt.Errorf("%w: array element is not an object", ErrNotEvent)
			}
			n := len(out)
			out = append(out, Event{})
			if _, _, err := d.event(&out[n], false); err != nil {
				d.partial = &out[n]
				out = out[:n]
				return err
			}
			return nil
		})
		return out, err
	}
	if err := d.skip(); err != nil {
		return out, err
	}
	return out, fmt.Errorf("%w: top-level value is not an object", ErrNotEvent)
}

// wrapTruncated turns an error on the value that started at start into a
// *TruncatedError when the input ended early or carried CloudWatch's marker.
func (d *decoder) wrapTruncated(err error, start int) error {
	line := d.b[start:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	marker := bytes.Contains(line, []byte(truncatedMarker))
	if !marker && !errors.Is(err, errEOF) {
		return err
	}
	te := &TruncatedError{Offset: d.i, Marker: marker}
	if d.partial != nil && d.partial.AuditID != "" {
		te.AuditID = d.partial.AuditID
	} else {
		te.AuditID = scanAuditID(line)
	}
	return te
}

// scanAuditID finds `"auditID": "<id>"` in a prefix that is not valid JSON.
func scanAuditID(b []byte) string {
	const key = `"auditID"`
	for {
		k := bytes.Index(b, []byte(key))
		if k < 0 {
			return ""
		}
		b = b[k+len(key):]
		r := bytes.TrimLeft(b, " \t\r\n")
		if len(r) == 0 || r[0] != ':' {
			continue
		}
		r = bytes.TrimLeft(r[1:], " \t\r\n")
		if len(r) == 0 || r[0] != '"' {
			continue
		}
		r = r[1:]
		end := bytes.IndexByte(r, '"')
		if end < 0 || bytes.IndexByte(r[:end], '\\') >= 0 {
			return ""
		}
		return string(r[:end])
	}
}

// errEOF marks input that ended inside a value.
var errEOF = errors.New("k8saudit: unexpected end of input")

type decoder struct {
	b     []byte
	i     int
	depth int
	// partial is the event being decoded when an error struck, so that a
	// truncated event can still name its auditID.
	partial *Event
}

func (d *decoder) syntax(msg string) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, d.i, msg)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// enter steps into the object or array at d.i, whose first byte must be
// open.
func (d *decoder) enter(open byte, want string) error {
	if d.b[d.i] != open {
		return d.syntax(want)
	}
	d.depth++
	if d.depth > maxDepth {
		return d.syntax("nested too deeply")
	}
	d.i++
	return nil
}

// more moves to the next member or element of the container entered last:
// past its separating comma unless first, or, at its closing byte, out of
// it (reporting false).
func (d *decoder) more(close byte, first bool, want string) (bool, error) {
	d.ws()
	if d.i >= len(d.b) {
		return false, errEOF
	}
	if d.b[d.i] == close {
		d.i++
		d.depth--
		return false, nil
	}
	if !first {
		if d.b[d.i] != ',' {
			return false, d.syntax(want)
		}
		d.i++
		d.ws()
		if d.i >= len(d.b) {
			return false, errEOF
		}
	}
	return true, nil
}

// object iterates over the members of the object at d.i, calling member
// with the decoded key and d.i at the value; member must consume the value.
func (d *decoder) object(member func(key []byte) error) error {
	if err := d.enter('{', "want object"); err != nil {
		return err
	}
	for first := true; ; first = false {
		if ok, err := d.more('}', first, "want , or } in object"); !ok {
			return err
		}
		if d.b[d.i] != '"' {
			return d.syntax("want string key in object")
		}
		key, err := d.rawString()
		if err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return errEOF
		}
		if d.b[d.i] != ':' {
			return d.syntax("want : after object key")
		}
		d.i++
		d.ws()
		if d.i >= len(d.b) {
			return errEOF
		}
		if err := member(key); err != nil {
			return err
		}
	}
}

// array iterates over the elements of the array at d.i; elem must consume
// the element.
func (d *decoder) array(elem func() error) error {
	if err := d.enter('[', "want array"); err != nil {
		return err
	}
	for first := true; ; first = false {
		if ok, err := d.more(']', first, "want , or ] in array"); !ok {
			return err
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// skip consumes and validates any JSON value without keeping it. It is the
// hot path for request and response objects, so it avoids closures.
func (d *decoder) skip() error {
	b := d.b
	switch c := b[d.i]; {
	case c == '"':
		end, _, err := d.scanString(d.i)
		if err != nil {
			return err
		}
		d.i = end
		return nil
	case c == '{' || c == '[':
		return d.skipContainer()
	case c == '-' || (c >= '0' && c <= '9'):
		end, err := d.scanNumber(d.i)
		if err != nil {
			return err
		}
		d.i = end
		return nil
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.syntax(fmt.Sprintf("unexpected character %q", b[d.i]))
}

// skipContainer validates an object or array iteratively, with an explicit
// stack of open brackets, and leaves d.i after its end.
func (d *decoder) skipContainer() error {
	b := d.b
	var stackArr [64]byte
	stack := stackArr[:0]
	i := d.i
	// expect tells what the next token must be.
	const (
		wantValue   = iota // a value (after [ , or :)
		wantKey            // a key or } (after {)
		wantNextKey        // a key (after , in an object)
		wantSep            // , or closing bracket (after a value)
		wantColon          // : (after a key)
	)
	expect := wantValue
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
		if i >= len(b) {
			d.i = i
			return errEOF
		}
		c := b[i]
		switch expect {
		case wantValue:
			switch {
			case c == '{' || c == '[':
				if len(stack)+d.depth >= maxDepth {
					d.i = i
					return d.syntax("nested too deeply")
				}
				stack = append(stack, c)
				i++
				if c == '{' {
					expect = wantKey
				} else {
					// An empty array closes at once.
					for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
						i++
					}
					if i < len(b) && b[i] == ']' {
						stack = stack[:len(stack)-1]
						i++
						expect = wantSep
					} else {
						expect = wantValue
					}
				}
			case c == '"':
				end, err := d.skipString(i)
				if err != nil {
					return err
				}
				i = end
				expect = wantSep
			case c == '-' || (c >= '0' && c <= '9'):
				end, err := d.scanNumber(i)
				if err != nil {
					return err
				}
				i = end
				expect = wantSep
			case c == 't' || c == 'f' || c == 'n':
				d.i = i
				var err error
				switch c {
				case 't':
					err = d.literal("true")
				case 'f':
					err = d.literal("false")
				default:
					err = d.literal("null")
				}
				if err != nil {
					return err
				}
				i = d.i
				expect = wantSep
			default:
				d.i = i
				return d.syntax(fmt.Sprintf("unexpected character %q", c))
			}
		case wantKey, wantNextKey:
			if c == '}' && expect == wantKey {
				stack = stack[:len(stack)-1]
				i++
				expect = wantSep
				break
			}
			if c != '"' {
				d.i = i
				return d.syntax("want string key in object")
			}
			end, err := d.skipString(i)
			if err != nil {
				return err
			}
			i = end
			expect = wantColon
		case wantColon:
			if c != ':' {
				d.i = i
				return d.syntax("want : after object key")
			}
			i++
			expect = wantValue
		case wantSep:
			if len(stack) == 0 {
				d.i = i
				return nil
			}
			top := stack[len(stack)-1]
			switch {
			case c == ',':
				i++
				if top == '{' {
					expect = wantNextKey
				} else {
					expect = wantValue
				}
			case (c == '}' && top == '{') || (c == ']' && top == '['):
				stack = stack[:len(stack)-1]
				i++
				expect = wantSep
			default:
				d.i = i
				return d.syntax("want , or closing bracket")
			}
		}
		if expect == wantSep && len(stack) == 0 {
			d.i = i
			return nil
		}
	}
}

func (d *decoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) {
		if strings.HasPrefix(lit, string(d.b[d.i:])) {
			d.i = len(d.b)
			return errEOF
		}
		return d.syntax("invalid literal")
	}
	if string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.syntax("invalid literal")
	}
	d.i += len(lit)
	return nil
}

// strSafe marks the bytes that may appear unescaped in a JSON string and
// need no attention: everything but '"', '\\' and control characters.
var strSafe = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// skipString returns the offset after the string at b[i]; plain strings,
// most of a Kubernetes object, are handled without a call.
func (d *decoder) skipString(i int) (int, error) {
	b := d.b
	j := i + 1
	for j < len(b) && strSafe[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return j + 1, nil
	}
	end, _, err := d.scanString(i)
	return end, err
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString validates the string starting at the quote b[i] and returns
// the offset after its closing quote and whether it holds escapes.
func (d *decoder) scanString(i int) (end int, escaped bool, err error) {
	b := d.b
	i++
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character (the bit tricks of "Bit Twiddling Hacks":
		// a word has a zero byte iff (v-0x01..)&^v&0x80.. is not zero).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			bs := x ^ (lsb * '\\')
			if ((q-lsb)&^q|(bs-lsb)&^bs|(x-lsb*0x20)&^x)&msb != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			d.i = i
			return 0, false, errEOF
		}
		switch c := b[i]; c {
		case '"':
			return i + 1, escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				d.i = len(b)
				return 0, false, errEOF
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					d.i = len(b)
					return 0, false, errEOF
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						d.i = i
						return 0, false, d.syntax("invalid \\u escape")
					}
				}
				i += 6
			default:
				d.i = i
				return 0, false, d.syntax("invalid escape in string")
			}
		default:
			d.i = i
			return 0, false, d.syntax("control character in string")
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber validates the number starting at b[i] and returns the offset
// after it.
func (d *decoder) scanNumber(i int) (int, error) {
	b := d.b
	bad := func(j int) (int, error) {
		d.i = j
		if j >= len(b) {
			return 0, errEOF
		}
		return 0, d.syntax("invalid number")
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return bad(i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return bad(i)
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return bad(i)
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, nil
}

// rawString returns the content of the string at d.i, unescaped; it aliases
// d.b when the string has no escapes.
func (d *decoder) rawString() ([]byte, error) {
	start := d.i
	end, escaped, err := d.scanString(start)
	if err != nil {
		return nil, err
	}
	d.i = end
	if !escaped {
		return d.b[start+1 : end-1], nil
	}
	return unescape(d.b[start+1 : end-1]), nil
}

// unescape decodes a validated JSON string body that holds escapes. Lone
// surrogates become U+FFFD, as encoding/json does.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(s[i+2:i+6]))); r2 != utf8.RuneError {
						out = utf8.AppendRune(out, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, s[i+1])
		}
		i += 2
	}
	return out
}

func hex4(h []byte) int {
	v := 0
	for _, c := range h {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		default:
			v |= int(c-'A') + 10
		}
	}
	return v
}

// typeName names the JSON type of the value at d.i, for errors.
func (d *decoder) typeName() string {
	switch c := d.b[d.i]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}

func (d *decoder) wrongType(field, want string) error {
	got := d.typeName()
	if err := d.skip(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s is %s, want %s", ErrNotEvent, field, got, want)
}

// isNull consumes a null at d.i and reports whether there was one.
func (d *decoder) isNull() (bool, error) {
	if d.b[d.i] != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// expect reports whether the value at d.i starts with c, the byte that
// opens the type the field wants ('"', '[' or '{'). A null is consumed and
// reported as false with no error, leaving the field unset; any other
// value is a type error. The check inlines; the rest does not need to.
func (d *decoder) expect(c byte, field, want string) (bool, error) {
	if d.b[d.i] == c {
		return true, nil
	}
	return false, d.nullOrWrongType(field, want)
}

func (d *decoder) nullOrWrongType(field, want string) error {
	if null, err := d.isNull(); null || err != nil {
		return err
	}
	return d.wrongType(field, want)
}

// str decodes a string field; null leaves it empty.
func (d *decoder) str(field string) (string, error) {
	if ok, err := d.expect('"', field, "a string"); !ok {
		return "", err
	}
	raw, err := d.rawString()
	if err != nil || len(raw) == 0 {
		return "", err
	}
	return string(raw), nil
}

// enum decodes a string field whose values come from a small set, without
// allocating for the common ones.
func (d *decoder) enum(field string) (string, error) {
	if d.b[d.i] != '"' {
		return d.str(field)
	}
	raw, err := d.rawString()
	if err != nil {
		return "", err
	}
	return intern(raw), nil
}

// intern returns constant strings for the values most events share, so
// that decoding them does not allocate.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "Event":
		return "Event"
	case "audit.k8s.io/v1":
		return "audit.k8s.io/v1"
	case "audit.k8s.io/v1beta1":
		return "audit.k8s.io/v1beta1"
	case "Metadata":
		return "Metadata"
	case "Request":
		return "Request"
	case "RequestResponse":
		return "RequestResponse"
	case "ResponseStarted":
		return "ResponseStarted"
	case "ResponseComplete":
		return "ResponseComplete"
	case "RequestReceived":
		return "RequestReceived"
	case "get":
		return "get"
	case "list":
		return "list"
	case "watch":
		return "watch"
	case "create":
		return "create"
	case "update":
		return "update"
	case "patch":
		return "patch"
	case "delete":
		return "delete"
	case "pods":
		return "pods"
	case "exec":
		return "exec"
	case "status":
		return "status"
	case "v1":
		return "v1"
	case "apps":
		return "apps"
	case "batch":
		return "batch"
	case "default":
		return "default"
	case "kube-system":
		return "kube-system"
	case "allow":
		return "allow"
	case "authorization.k8s.io/decision":
		return "authorization.k8s.io/decision"
	case "authorization.k8s.io/reason":
		return "authorization.k8s.io/reason"
	case "system:authenticated":
		return "system:authenticated"
	case "system:nodes":
		return "system:nodes"
	case "system:masters":
		return "system:masters"
	case "system:serviceaccounts":
		return "system:serviceaccounts"
	case "system:serviceaccounts:kube-system":
		return "system:serviceaccounts:kube-system"
	case "Success":
		return "Success"
	case "Failure":
		return "Failure"
	}
	return string(b)
}

// strs decodes an array of strings; null leaves it nil.
func (d *decoder) strs(field string) ([]string, error) {
	if ok, err := d.expect('[', field, "an array of strings"); !ok {
		return nil, err
	}
	var buf [8]string
	out := buf[:0]
	err := d.array(func() error {
		s, err := d.enum(field)
		out = append(out, s)
		return err
	})
	if len(out) == 0 {
		return []string{}, err
	}
	return slices.Clone(out), err
}

// timestamp decodes an RFC 3339 time; null and "" leave it zero.
func (d *decoder) timestamp(field string) (time.Time, error) {
	if ok, err := d.expect('"', field, "a string"); !ok {
		return time.Time{}, err
	}
	raw, err := d.rawString()
	if err != nil || len(raw) == 0 {
		return time.Time{}, err
	}
	if t, ok := parseRFC3339UTC(raw); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(raw))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %v", ErrNotEvent, field, err)
	}
	return t, nil
}

// parseRFC3339UTC parses the form the API server writes,
// "2006-01-02T15:04:05.999999Z", without allocating; ok is false for any
// other form, which time.Parse then handles.
func parseRFC3339UTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if rest := b[19 : len(b)-1]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return time.Time{}, false
		}
		frac, ok := num(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		for n := len(rest) - 1; n < 9; n++ {
			frac *= 10
		}
		nsec = frac
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 February and the like: let time.Parse refuse it
		return time.Time{}, false
	}
	return t, true
}

// integer decodes a JSON number that holds an integer.
func (d *decoder) integer(field string) (int, error) {
	if c := d.b[d.i]; c != '-' && (c < '0' || c > '9') {
		return 0, d.nullOrWrongType(field, "a number")
	}
	start := d.i
	end, err := d.scanNumber(start)
	if err != nil {
		return 0, err
	}
	d.i = end
	tok := string(d.b[start:end])
	if v, err := strconv.Atoi(tok); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("%w: %s is %s, want an integer", ErrNotEvent, field, tok)
	}
	return int(f), nil
}

// event decodes the event object at d.i into ev. With lists set, an "items"
// array is decoded too, and isList reports that the object was an
// EventList.
func (d *decoder) event(ev *Event, lists bool) (items []Event, isList bool, err error) {
	sawItems := false
	err = d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "kind":
			ev.Kind, err = d.enum("kind")
		case "apiVersion":
			ev.APIVersion, err = d.enum("apiVersion")
		case "level":
			ev.Level, err = d.enum("level")
		case "auditID":
			ev.AuditID, err = d.str("auditID")
		case "stage":
			ev.Stage, err = d.enum("stage")
		case "requestURI":
			ev.RequestURI, err = d.str("requestURI")
		case "verb":
			ev.Verb, err = d.enum("verb")
		case "userAgent":
			ev.UserAgent, err = d.str("userAgent")
		case "user":
			err = d.user(&ev.User, "user")
		case "impersonatedUser":
			if null, nerr := d.isNull(); null || nerr != nil {
				return nerr
			}
			ev.ImpersonatedUser = new(UserInfo)
			err = d.user(ev.ImpersonatedUser, "impersonatedUser")
		case "sourceIPs":
			ev.SourceIPs, err = d.strs("sourceIPs")
		case "objectRef":
			err = d.objectRef(&ev.ObjectRef)
		case "responseStatus":
			err = d.status(ev)
		case "requestObject":
			ev.RequestObject, err = d.raw()
		case "responseObject":
			ev.ResponseObject, err = d.raw()
		case "requestReceivedTimestamp":
			ev.RequestReceivedTimestamp, err = d.timestamp("requestReceivedTimestamp")
		case "stageTimestamp":
			ev.StageTimestamp, err = d.timestamp("stageTimestamp")
		case "timestamp":
			ev.Timestamp, err = d.timestamp("timestamp")
		case "annotations":
			ev.Annotations, err = d.stringMap("annotations")
		case "metadata":
			err = d.metadata(ev)
		case "items":
			if !lists {
				return d.skip()
			}
			sawItems = true
			items, err = d.items()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	own(ev)
	switch ev.Kind {
	case "EventList":
		if !lists {
			return nil, false, fmt.Errorf("%w: EventList inside an EventList", ErrNotEvent)
		}
		return items, true, d.checkAPIVersion(ev)
	case "Event":
		return nil, false, d.checkAPIVersion(ev)
	case "":
		if sawItems && ev.AuditID == "" {
			return items, true, d.checkAPIVersion(ev)
		}
		if ev.AuditID == "" && (ev.Verb == "" || ev.RequestURI == "") {
			return nil, false, fmt.Errorf("%w: no kind, auditID, verb or requestURI", ErrNotEvent)
		}
		return nil, false, d.checkAPIVersion(ev)
	}
	return nil, false, fmt.Errorf("%w: kind %q", ErrNotEvent, ev.Kind)
}

func (d *decoder) checkAPIVersion(ev *Event) error {
	if ev.APIVersion == "" || strings.HasPrefix(ev.APIVersion, "audit.k8s.io/") {
		return nil
	}
	return fmt.Errorf("%w: apiVersion %q", ErrNotEvent, ev.APIVersion)
}

func (d *decoder) items() ([]Event, error) {
	if ok, err := d.expect('[', "items", "an array"); !ok {
		return nil, err
	}
	var out []Event
	err := d.array(func() error {
		if d.b[d.i] != '{' {
			return d.wrongType(fmt.Sprintf("items[%d]", len(out)), "an object")
		}
		out = append(out, Event{})
		if _, _, err := d.event(&out[len(out)-1], false); err != nil {
			d.partial = &out[len(out)-1]
			return fmt.Errorf("items[%d]: %w", len(out)-1, err)
		}
		return nil
	})
	return out, err
}

// raw returns a request or response object as a slice of the input, which
// own copies out once the event is complete; null leaves it nil.
func (d *decoder) raw() ([]byte, error) {
	if null, err := d.isNull(); null || err != nil {
		return nil, err
	}
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.b[start:d.i:d.i], nil
}

// own copies the raw objects of ev out of the input, in one allocation.
func own(ev *Event) {
	n, m := len(ev.RequestObject), len(ev.ResponseObject)
	if n+m == 0 {
		return
	}
	buf := make([]byte, n+m)
	copy(buf, ev.RequestObject)
	copy(buf[n:], ev.ResponseObject)
	if n > 0 {
		ev.RequestObject = buf[:n:n]
	}
	if m > 0 {
		ev.ResponseObject = buf[n:]
	}
}

func (d *decoder) user(u *UserInfo, field string) error {
	if ok, err := d.expect('{', field, "an object"); !ok {
		return err
	}
	// field names only matter in errors: "user" or "impersonatedUser".
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "username":
			u.Username, err = d.str(field)
		case "uid":
			u.UID, err = d.str(field)
		case "groups":
			u.Groups, err = d.strs(field)
		case "extra":
			if ok, err := d.expect('{', field, "an object"); !ok {
				return err
			}
			u.Extra = map[string][]string{}
			err = d.object(func(k []byte) error {
				v, err := d.strs(field)
				u.Extra[string(k)] = v
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
}

func (d *decoder) objectRef(r *ObjectReference) error {
	if ok, err := d.expect('{', "objectRef", "an object"); !ok {
		return err
	}
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "resource":
			r.Resource, err = d.enum("objectRef.resource")
		case "namespace":
			r.Namespace, err = d.enum("objectRef.namespace")
		case "name":
			r.Name, err = d.str("objectRef.name")
		case "uid":
			r.UID, err = d.str("objectRef.uid")
		case "apiGroup":
			r.APIGroup, err = d.enum("objectRef.apiGroup")
		case "apiVersion":
			r.APIVersion, err = d.enum("objectRef.apiVersion")
		case "resourceVersion":
			r.ResourceVersion, err = d.str("objectRef.resourceVersion")
		case "subresource":
			r.Subresource, err = d.enum("objectRef.subresource")
		default:
			err = d.skip()
		}
		return err
	})
}

func (d *decoder) status(ev *Event) error {
	if ok, err := d.expect('{', "responseStatus", "an object"); !ok {
		return err
	}
	s := new(Status)
	ev.ResponseStatus = s
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "code":
			s.Code, err = d.integer("responseStatus.code")
		case "status":
			s.Status, err = d.enum("responseStatus.status")
		case "reason":
			s.Reason, err = d.str("responseStatus.reason")
		case "message":
			s.Message, err = d.str("responseStatus.message")
		default:
			err = d.skip()
		}
		return err
	})
}

func (d *decoder) stringMap(field string) (map[string]string, error) {
	if ok, err := d.expect('{', field, "an object"); !ok {
		return nil, err
	}
	m := map[string]string{}
	err := d.object(func(key []byte) error {
		v, err := d.str(field)
		m[intern(key)] = v
		return err
	})
	return m, err
}

func (d *decoder) metadata(ev *Event) error {
	if ok, err := d.expect('{', "metadata", "an object"); !ok {
		return err
	}
	return d.object(func(key []byte) error {
		if string(key) != "creationTimestamp" {
			return d.skip()
		}
		var err error
		ev.CreationTimestamp, err = d.timestamp("metadata.creationTimestamp")
		return err
	})
}
