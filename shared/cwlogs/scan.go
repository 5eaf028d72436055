package cwlogs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// The scanner reads exactly the JSON grammar (RFC 8259) but only builds what
// the envelope needs; everything else is validated and skipped. Its errors
// are static values so that the happy path never formats anything.
var (
	errEOF        = fmt.Errorf("%w: unexpected end of JSON", ErrSyntax)
	errTrailing   = fmt.Errorf("%w: data after the top-level value", ErrSyntax)
	errWantObject = fmt.Errorf("%w: want an object", ErrSyntax)
	errWantArray  = fmt.Errorf("%w: want an array", ErrSyntax)
	errWantString = fmt.Errorf("%w: want a string", ErrSyntax)
	errWantInt    = fmt.Errorf("%w: want an integer", ErrSyntax)
	errWantColon  = fmt.Errorf("%w: want ':' after an object key", ErrSyntax)
	errWantComma  = fmt.Errorf("%w: want ',' or the end of the object or array", ErrSyntax)
	errValue      = fmt.Errorf("%w: invalid value", ErrSyntax)
	errNumber     = fmt.Errorf("%w: invalid number", ErrSyntax)
	errRange      = fmt.Errorf("%w: integer out of range", ErrSyntax)
	errControl    = fmt.Errorf("%w: control character in string", ErrSyntax)
	errEscape     = fmt.Errorf("%w: invalid escape in string", ErrSyntax)
	errDepth      = fmt.Errorf("%w: nesting too deep", ErrSyntax)
	errNoType     = fmt.Errorf("%w: missing messageType", ErrSyntax)
	errNoData     = fmt.Errorf("%w: missing awslogs.data", ErrSyntax)
)

// maxDepth bounds the nesting of skipped values, so hostile input cannot
// exhaust the stack.
const maxDepth = 512

type scanner struct {
	buf []byte
	pos int
}

func (s *scanner) ws() {
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		if c > ' ' {
			return // the common case: compact JSON
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.buf) {
		return 0
	}
	return s.buf[s.pos]
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && len(s.buf)-s.pos >= 4 && string(s.buf[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return true
	}
	return false
}

// open consumes c ('{' or '[') and reports whether the container is empty,
// consuming its closing byte if so.
func (s *scanner) open(c byte, err error) (empty bool, _ error) {
	if s.peek() != c {
		if s.pos >= len(s.buf) {
			return false, errEOF
		}
		return false, err
	}
	s.pos++
	if s.peek() == c+2 { // '}' is '{'+2 and ']' is '['+2
		s.pos++
		return true, nil
	}
	return false, nil
}

// next consumes the ',' or closing byte after a member and reports whether
// another member follows.
func (s *scanner) next(close byte) (more bool, _ error) {
	switch s.peek() {
	case ',':
		s.pos++
		return true, nil
	case close:
		s.pos++
		return false, nil
	case 0:
		return false, errEOF
	}
	return false, errWantComma
}

// key reads an object key and its ':'; the key is unescaped into *scratch
// when it holds escapes.
func (s *scanner) key(scratch *[]byte) ([]byte, error) {
	s.ws()
	raw, esc, err := s.str()
	if err != nil {
		return nil, err
	}
	if esc {
		if *scratch, err = appendUnescaped((*scratch)[:0], raw); err != nil {
			return nil, err
		}
		raw = *scratch
	}
	if s.peek() != ':' {
		if s.pos >= len(s.buf) {
			return nil, errEOF
		}
		return nil, errWantColon
	}
	s.pos++
	return raw, nil
}

// str reads the string that must start at s.pos and returns its raw
// contents (between the quotes) and whether they hold escapes. Escapes are
// only stepped over here; appendUnescaped checks them.
func (s *scanner) str() (raw []byte, esc bool, _ error) {
	buf := s.buf
	if s.pos >= len(buf) {
		return nil, false, errEOF
	}
	if buf[s.pos] != '"' {
		return nil, false, errWantString
	}
	start := s.pos + 1
	i := start
	for i < len(buf) {
		// Step over eight plain bytes at a time (none is a quote, a
		// backslash or a control character), landing on the first special
		// one.
		for i+8 <= len(buf) {
			if m := special8(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(buf) {
			break
		}
		c := buf[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return buf[start:i], esc, nil
		case c == '\\':
			esc = true
			i += 2
		case c < 0x20:
			s.pos = i
			return nil, false, errControl
		default:
			i++
		}
	}
	s.pos = len(buf)
	return nil, false, errEOF
}

// special8 returns a mask whose lowest set bit is the top bit of the first
// of the 8 little-endian bytes of x that is '"', '\\' or below 0x20, or 0
// if there is none. Each term is the classic "has a byte less than n" word
// trick, exact for the lowest flagged byte.
func special8(x uint64) uint64 {
	const lo = 0x0101010101010101
	const hi = 0x8080808080808080
	quote := x ^ (lo * '"')
	slash := x ^ (lo * '\\')
	m := (x - lo*0x20) &^ x
	m |= (quote - lo) &^ quote
	m |= (slash - lo) &^ slash
	return m & hi
}

// appendUnescaped appends the unescaped form of raw, the contents of a JSON
// string, to dst. Lone surrogates become U+FFFD, as encoding/json does.
func appendUnescaped(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(raw) {
			return dst, errEscape
		}
		switch c := raw[i+1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return dst, errEscape
			}
			i += 6
			if utf16Surrogate(r) {
				r2 := rune(-1)
				if r < 0xdc00 && len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2, ok = hex4(raw[i+2:])
					if !ok {
						return dst, errEscape
					}
				}
				if r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, errEscape
		}
		i += 2
	}
	return dst, nil
}

func utf16Surrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// int64 reads a JSON number that must be an integer.
func (s *scanner) int64() (int64, error) {
	s.ws()
	buf := s.buf
	i := s.pos
	neg := false
	if i < len(buf) && buf[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n uint64
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		if n > (1<<63)/10 {
			s.pos = start
			return 0, errRange
		}
		n = n*10 + uint64(buf[i]-'0')
		i++
	}
	switch {
	case i == start:
		s.pos = i
		if i >= len(buf) {
			return 0, errEOF
		}
		return 0, errWantInt
	case buf[start] == '0' && i-start > 1:
		s.pos = start
		return 0, errNumber
	case i < len(buf) && (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E'):
		s.pos = start
		return 0, errWantInt
	case n > 1<<63 || (n == 1<<63 && !neg):
		s.pos = start
		return 0, errRange
	}
	s.pos = i
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// skip validates and steps over any JSON value.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch s.peek() {
	case 0:
		return errEOF
	case '"':
		raw, esc, err := s.str()
		if err == nil && esc {
			err = checkEscapes(raw)
		}
		return err
	case '{':
		empty, err := s.open('{', errWantObject)
		for more := !empty; more && err == nil; {
			if err = s.skipKey(); err != nil {
				break
			}
			if err = s.skip(depth + 1); err != nil {
				break
			}
			more, err = s.next('}')
		}
		return err
	case '[':
		empty, err := s.open('[', errWantArray)
		for more := !empty; more && err == nil; {
			if err = s.skip(depth + 1); err != nil {
				break
			}
			more, err = s.next(']')
		}
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return s.number()
}

// skipKey steps over a key that will not be looked at, and its ':'.
func (s *scanner) skipKey() error {
	s.ws()
	raw, esc, err := s.str()
	if err == nil && esc {
		err = checkEscapes(raw)
	}
	if err != nil {
		return err
	}
	if s.peek() != ':' {
		if s.pos >= len(s.buf) {
			return errEOF
		}
		return errWantColon
	}
	s.pos++
	return nil
}

func checkEscapes(raw []byte) error {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 >= len(raw) {
			return errEscape
		}
		switch raw[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if _, ok := hex4(raw[i+2:]); !ok {
				return errEscape
			}
			i += 5
		default:
			return errEscape
		}
	}
	return nil
}

func (s *scanner) literal(lit string) error {
	if len(s.buf)-s.pos < len(lit) {
		if string(s.buf[s.pos:]) == lit[:len(s.buf)-s.pos] {
			s.pos = len(s.buf)
			return errEOF
		}
		return errValue
	}
	if string(s.buf[s.pos:s.pos+len(lit)]) != lit {
		return errValue
	}
	s.pos += len(lit)
	return nil
}

// number steps over a JSON number.
func (s *scanner) number() error {
	buf, i := s.buf, s.pos
	if i < len(buf) && buf[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
			i++
		}
		return i - j
	}
	start := i
	switch n := digits(); {
	case n == 0:
		return s.fail(i, errValue)
	case n > 1 && buf[start] == '0':
		return s.fail(start, errNumber)
	}
	if i < len(buf) && buf[i] == '.' {
		i++
		if digits() == 0 {
			return s.fail(i, errNumber)
		}
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		i++
		if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
			i++
		}
		if digits() == 0 {
			return s.fail(i, errNumber)
		}
	}
	s.pos = i
	return nil
}

// fail moves to i and returns err, or errEOF if i is past the end.
func (s *scanner) fail(i int, err error) error {
	s.pos = i
	if i >= len(s.buf) {
		return errEOF
	}
	return err
}

// end checks that only whitespace follows the top-level value.
func (s *scanner) end() error {
	if s.peek() != 0 || s.pos < len(s.buf) {
		return errTrailing
	}
	return nil
}
