package flowlog

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
)

// maxInterned bounds the strings a Parser keeps; past it the table starts
// over, so memory stays bounded whatever the input.
const maxInterned = 1 << 14

// Parser parses records of one Format. It interns the strings that repeat
// from record to record (account, interface, VPC, ECS names), so that in
// steady state Parse allocates nothing. A Parser is not safe for concurrent
// use.
type Parser struct {
	format Format
	blank  Record // what a record is before its fields are set
	last   [numFields]string
	intern map[string]string
}

// NewParser returns a Parser for f; the zero Format means DefaultFormat.
func NewParser(f Format) *Parser {
	p := &Parser{intern: make(map[string]string)}
	p.setFormat(f)
	return p
}

func (p *Parser) setFormat(f Format) {
	f = f.orDefault()
	p.format = f
	p.blank = Record{
		Version: -1, SrcPort: -1, DstPort: -1, Protocol: -1,
		Packets: -1, Bytes: -1, Start: -1, End: -1,
		TCPFlags: -1, TrafficPath: -1,
		fields: f.mask,
	}
}

// Format returns the format the Parser reads.
func (p *Parser) Format() Format { return p.format }

// isSpace reports whether c separates fields: space, tab, CR, LF, or any
// other ASCII control byte (none can be part of a value).
func isSpace(c byte) bool { return c <= ' ' }

// Parse parses one record line into r, overwriting all of it. Fields are
// separated by runs of spaces or tabs (any bytes up to ' '); a trailing
// newline is ignored. On error r is left partly set and the error is a
// *CountError or *FieldError.
//
// Each field is parsed in the same pass that finds its end, and a string
// equal to the field's previous value is matched in place, so most of a
// line is read once.
func (p *Parser) Parse(line []byte, r *Record) error {
	*r = p.blank
	i, n := 0, len(line)
	for k, f := range p.format.fields {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return &CountError{Want: len(p.format.fields), Got: k}
		}
		if line[i] == '-' && (i+1 == n || isSpace(line[i+1])) {
			i++
			continue
		}
		j, ok := p.set(r, f, line, i)
		if !ok {
			v := line[i:tokenEnd(line, i)]
			if len(v) > 64 {
				v = v[:64]
			}
			return &FieldError{Field: f, Value: string(v)}
		}
		i = j
	}
	for i < n && isSpace(line[i]) {
		i++
	}
	if i < n {
		return &CountError{Want: len(p.format.fields), Got: len(p.format.fields) + countFields(line[i:])}
	}
	return nil
}

func countFields(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			break
		}
		n++
		i = tokenEnd(b, i)
	}
	return n
}

// tokenEnd returns the index of the first separator at or after i, or
// len(b), stepping eight bytes at a time.
func tokenEnd(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// The "has a byte less than n" word trick, n = ' '+1; exact for the
		// lowest flagged byte.
		if m := (x - 0x0101010101010101*(' '+1)) &^ x & 0x8080808080808080; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	return i
}

// set parses the value of field f starting at line[i] (not "-") into r and
// returns the index just past it; ok is false when the value does not fit
// the field.
func (p *Parser) set(r *Record, f Field, line []byte, i int) (end int, ok bool) {
	switch f {
	case FieldVersion:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt32)
		r.Version = int(v)
	case FieldSrcPort:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxUint16)
		r.SrcPort = int32(v)
	case FieldDstPort:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxUint16)
		r.DstPort = int32(v)
	case FieldProtocol:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxUint8)
		r.Protocol = int16(v)
	case FieldPackets:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt64)
		r.Packets = int64(v)
	case FieldBytes:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt64)
		r.Bytes = int64(v)
	case FieldStart:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt64)
		r.Start = int64(v)
	case FieldEnd:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt64)
		r.End = int64(v)
	case FieldTCPFlags:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxUint8)
		r.TCPFlags = int16(v)
	case FieldTrafficPath:
		var v uint64
		v, end, ok = scanUint(line, i, math.MaxInt8)
		r.TrafficPath = int8(v)

	case FieldSrcAddr:
		r.SrcAddr, end, ok = scanAddr(line, i)
	case FieldDstAddr:
		r.DstAddr, end, ok = scanAddr(line, i)
	case FieldPktSrcAddr:
		r.PktSrcAddr, end, ok = scanAddr(line, i)
	case FieldPktDstAddr:
		r.PktDstAddr, end, ok = scanAddr(line, i)

	case FieldAction:
		end = tokenEnd(line, i)
		switch string(line[i:end]) {
		case "ACCEPT":
			r.Action, ok = ActionAccept, true
		case "REJECT":
			r.Action, ok = ActionReject, true
		}
	case FieldLogStatus:
		end = tokenEnd(line, i)
		switch string(line[i:end]) {
		case "OK":
			r.LogStatus, ok = LogStatusOK, true
		case "NODATA":
			r.LogStatus, ok = LogStatusNoData, true
		case "SKIPDATA":
			r.LogStatus, ok = LogStatusSkipData, true
		}
	case FieldFlowDirection:
		end = tokenEnd(line, i)
		switch string(line[i:end]) {
		case "ingress":
			r.FlowDirection, ok = DirectionIngress, true
		case "egress":
			r.FlowDirection, ok = DirectionEgress, true
		}

	case FieldResourceID, FieldEncryptionStatus:
		return tokenEnd(line, i), true // accepted, not decoded

	case FieldAccountID:
		r.AccountID, end, ok = p.str(f, line, i)
	case FieldInterfaceID:
		r.InterfaceID, end, ok = p.str(f, line, i)
	case FieldVPCID:
		r.VPCID, end, ok = p.str(f, line, i)
	case FieldSubnetID:
		r.SubnetID, end, ok = p.str(f, line, i)
	case FieldInstanceID:
		r.InstanceID, end, ok = p.str(f, line, i)
	case FieldType:
		r.Type, end, ok = p.str(f, line, i)
	case FieldRegion:
		r.Region, end, ok = p.str(f, line, i)
	case FieldAZID:
		r.AZID, end, ok = p.str(f, line, i)
	case FieldSublocationType:
		r.SublocationType, end, ok = p.str(f, line, i)
	case FieldSublocationID:
		r.SublocationID, end, ok = p.str(f, line, i)
	case FieldPktSrcAWSService:
		r.PktSrcAWSService, end, ok = p.str(f, line, i)
	case FieldPktDstAWSService:
		r.PktDstAWSService, end, ok = p.str(f, line, i)
	case FieldECSClusterARN:
		r.ECSClusterARN, end, ok = p.str(f, line, i)
	case FieldECSClusterName:
		r.ECSClusterName, end, ok = p.str(f, line, i)
	case FieldECSContainerInstanceARN:
		r.ECSContainerInstanceARN, end, ok = p.str(f, line, i)
	case FieldECSContainerInstanceID:
		r.ECSContainerInstanceID, end, ok = p.str(f, line, i)
	case FieldECSContainerID:
		r.ECSContainerID, end, ok = p.str(f, line, i)
	case FieldECSSecondContainerID:
		r.ECSSecondContainerID, end, ok = p.str(f, line, i)
	case FieldECSServiceName:
		r.ECSServiceName, end, ok = p.str(f, line, i)
	case FieldECSTaskDefinitionARN:
		r.ECSTaskDefinitionARN, end, ok = p.str(f, line, i)
	case FieldECSTaskARN:
		r.ECSTaskARN, end, ok = p.str(f, line, i)
	case FieldECSTaskID:
		r.ECSTaskID, end, ok = p.str(f, line, i)
	case FieldRejectReason:
		r.RejectReason, end, ok = p.str(f, line, i)
	}
	return end, ok
}

// str returns the string field f starting at line[i] and the index past
// it (ok is always true; it matches the other parsers). A value equal to the field's previous one (the common case: a log
// stream is one interface) is matched in place; others are interned, so
// neither allocates once seen.
func (p *Parser) str(f Field, line []byte, i int) (string, int, bool) {
	if last := p.last[f]; last != "" {
		if j := i + len(last); j <= len(line) && string(line[i:j]) == last && (j == len(line) || isSpace(line[j])) {
			return last, j, true
		}
	}
	j := tokenEnd(line, i)
	tok := line[i:j]
	s, ok := p.intern[string(tok)]
	if !ok {
		if len(p.intern) >= maxInterned {
			clear(p.intern)
		}
		s = string(tok)
		p.intern[s] = s
	}
	p.last[f] = s
	return s, j, true
}

// scanUint parses the decimal at line[i] in the pass that finds its end:
// no sign, no leading zero (but "0"), at most max. Up to 8 digits are read
// as one word, without a branch per digit; longer numbers (timestamps) take
// the loop. Nineteen digits cannot overflow a uint64, so the bound is
// checked once at the end.
func scanUint(line []byte, i int, max uint64) (uint64, int, bool) {
	if i+8 <= len(line) {
		x := binary.LittleEndian.Uint64(line[i:])
		// A byte is a digit when its high nibble is 3, before and after
		// adding 6; a carry out of a byte >= 0xFA only disturbs bytes above
		// that non-digit, and only the lowest non-digit matters.
		nd := (x&0xF0F0F0F0F0F0F0F0 ^ 0x3030303030303030) | ((x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 ^ 0x3030303030303030)
		if nd != 0 {
			n := bits.TrailingZeros64(nd) >> 3 // digits before the first non-digit
			j := i + n
			if n == 0 || !isSpace(line[j]) || (n > 1 && line[i] == '0') {
				return 0, j, false
			}
			v := (x & 0x0F0F0F0F0F0F0F0F) << (64 - 8*n) // digits as values, right-aligned
			v = (v * (10<<8 + 1)) >> 8 & 0x00FF00FF00FF00FF
			v = (v * (100<<16 + 1)) >> 16 & 0x0000FFFF0000FFFF
			v = (v * (10000<<32 + 1)) >> 32
			return v, j, v <= max
		}
	}
	var n uint64
	j := i
	for ; j < len(line); j++ {
		d := line[j] - '0'
		if d > 9 {
			break
		}
		n = n*10 + uint64(d)
	}
	switch digits := j - i; {
	case j < len(line) && !isSpace(line[j]), digits == 0, digits > 19, digits > 1 && line[i] == '0':
		return 0, j, false
	}
	return n, j, n <= max
}

// scanAddr parses the address at line[i]: IPv4 in the pass that finds its
// end, anything else with parseAddr.
func scanAddr(line []byte, i int) (netip.Addr, int, bool) {
	var ip [4]byte
	k, v, digits := 0, 0, 0
	j := i
	for ; j < len(line); j++ {
		c := line[j]
		if d := int(c) - '0'; d >= 0 && d <= 9 {
			v = v*10 + d
			digits++
			if v > 255 || (digits == 2 && v < 10) { // too large, or a leading zero
				break
			}
			continue
		}
		if c == '.' && digits > 0 && k < 3 {
			ip[k] = byte(v)
			k, v, digits = k+1, 0, 0
			continue
		}
		if isSpace(c) && k == 3 && digits > 0 {
			ip[3] = byte(v)
			return netip.AddrFrom4(ip), j, true
		}
		break
	}
	if j == len(line) && k == 3 && digits > 0 && v <= 255 && !(digits > 1 && v < 10) {
		ip[3] = byte(v)
		return netip.AddrFrom4(ip), j, true
	}
	j = tokenEnd(line, i)
	a, ok := parseAddr(line[i:j])
	return a, j, ok
}

// parseAddr parses an IPv4 or IPv6 address exactly as netip.ParseAddr does,
// without allocating unless it has a zone.
func parseAddr(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			return parseIPv4(b)
		case ':':
			for _, z := range b {
				if z == '%' {
					a, err := netip.ParseAddr(string(b))
					return a, err == nil
				}
			}
			return parseIPv6(b)
		case '%':
			return netip.Addr{}, false
		}
	}
	return netip.Addr{}, false
}

func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	k, v, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && v == 0 {
				return netip.Addr{}, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && k < 3:
			ip[k] = byte(v)
			k, v, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(v)
	return netip.AddrFrom4(ip), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseIPv6 parses an IPv6 address without zone, following RFC 4291 and
// netip's rules (at most 4 hex digits a group, "::" standing for at least
// one group, an embedded IPv4 only as the last 32 bits).
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	i, j := 0, 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis, i = 0, 2
		if i == len(b) {
			return netip.IPv6Unspecified(), true
		}
	}
	for j < 16 {
		off, acc := i, 0
		for i < len(b) {
			h := unhex(b[i])
			if h < 0 {
				break
			}
			acc = acc<<4 | h
			i++
			if i-off > 4 {
				return netip.Addr{}, false
			}
		}
		if i == off {
			return netip.Addr{}, false
		}
		if i < len(b) && b[i] == '.' {
			if (ellipsis < 0 && j != 12) || j+4 > 16 {
				return netip.Addr{}, false
			}
			a, ok := parseIPv4(b[off:])
			if !ok {
				return netip.Addr{}, false
			}
			v4 := a.As4()
			copy(ip[j:], v4[:])
			j += 4
			i = len(b)
			break
		}
		ip[j], ip[j+1] = byte(acc>>8), byte(acc)
		j += 2
		if i == len(b) {
			break
		}
		if b[i] != ':' {
			return netip.Addr{}, false
		}
		i++
		if i == len(b) {
			return netip.Addr{}, false
		}
		if b[i] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = j
			i++
			if i == len(b) {
				break
			}
		}
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	if j < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - j
		for k := j - 1; k >= ellipsis; k-- {
			ip[k+n] = ip[k]
		}
		for k := ellipsis; k < ellipsis+n; k++ {
			ip[k] = 0
		}
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}
