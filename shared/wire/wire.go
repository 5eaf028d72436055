// Package wire is the compact binary encoding of the state tidewatch keeps
// per workload (baselines, open windows): varints, short strings, float32,
// addresses. The decoder is sticky: the first error stays and later reads
// return zero values, so callers check Err once; every length is checked
// against a bound and the bytes left, so hostile input cannot make it
// allocate much.
package wire

import (
	"encoding/binary"
	"math"
	"net/netip"
)

// Encoder appends to B.
type Encoder struct{ B []byte }

// Uint appends an unsigned varint.
func (e *Encoder) Uint(v uint64) { e.B = binary.AppendUvarint(e.B, v) }

// Int appends a signed varint.
func (e *Encoder) Int(v int64) { e.B = binary.AppendVarint(e.B, v) }

// Str appends a length-prefixed string.
func (e *Encoder) Str(s string) {
	e.Uint(uint64(len(s)))
	e.B = append(e.B, s...)
}

// F32 appends v as a little-endian float32.
func (e *Encoder) F32(v float64) {
	e.B = binary.LittleEndian.AppendUint32(e.B, math.Float32bits(float32(v)))
}

// Bool appends one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.B = append(e.B, 1)
	} else {
		e.B = append(e.B, 0)
	}
}

// Addr appends an address: its length (0, 4 or 16), then its bytes.
func (e *Encoder) Addr(a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		e.B = append(append(e.B, 4), b[:]...)
	case a.Is6():
		b := a.As16()
		e.B = append(append(e.B, 16), b[:]...)
	default:
		e.B = append(e.B, 0)
	}
}

// Decoder reads what Encoder wrote.
type Decoder struct {
	b   []byte
	bad error
	err error
}

// NewDecoder reads b; bad is the error it reports for malformed input.
func NewDecoder(b []byte, bad error) Decoder { return Decoder{b: b, bad: bad} }

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the bytes left.
func (d *Decoder) Len() int { return len(d.b) }

// Fail marks the input malformed.
func (d *Decoder) Fail() { d.err = d.bad; d.b = nil }

// Uint reads an unsigned varint.
func (d *Decoder) Uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Int reads a signed varint.
func (d *Decoder) Int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Bounded reads an unsigned varint of at most max.
func (d *Decoder) Bounded(max uint64) uint64 {
	v := d.Uint()
	if v > max {
		d.Fail()
		return 0
	}
	return v
}

// Count reads a length of at most max and at most the bytes left (each
// element takes at least one byte).
func (d *Decoder) Count(max int) int {
	v := d.Uint()
	if v > uint64(max) || v > uint64(len(d.b)) {
		d.Fail()
		return 0
	}
	return int(v)
}

// Bytes reads n bytes, aliasing the input.
func (d *Decoder) Bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.Fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// Str reads a string of at most 4 KiB.
func (d *Decoder) Str() string { return string(d.Bytes(d.Count(1 << 12))) }

// F32 reads a float32; NaN and infinities are malformed.
func (d *Decoder) F32() float64 {
	b := d.Bytes(4)
	if b == nil {
		return 0
	}
	v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		d.Fail()
		return 0
	}
	return v
}

// Bool reads a byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	b := d.Bytes(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		d.Fail()
	}
	return b[0] == 1
}

// Addr reads an address.
func (d *Decoder) Addr() netip.Addr {
	n := d.Bytes(1)
	if n == nil {
		return netip.Addr{}
	}
	switch n[0] {
	case 0:
		return netip.Addr{}
	case 4:
		if b := d.Bytes(4); b != nil {
			return netip.AddrFrom4([4]byte(b))
		}
		return netip.Addr{}
	case 16:
		if b := d.Bytes(16); b != nil {
			return netip.AddrFrom16([16]byte(b))
		}
		return netip.Addr{}
	}
	d.Fail()
	return netip.Addr{}
}
