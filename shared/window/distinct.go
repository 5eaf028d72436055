package window

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
)

// Distinct-count bounds. Up to ExactCap values a Distinct is an exact set of
// 32-bit hashes (collisions among 16 values are negligible); past it, it
// becomes a HyperLogLog sketch with HLLRegisters one-byte registers, whose
// relative standard error is 1.04/sqrt(64) = 13% (linear counting keeps it
// lower below ~160 values). Both forms merge by union.
const (
	ExactCap     = 16
	HLLRegisters = 64
	hllBits      = 6
)

// Distinct counts distinct values (destinations, ports) in bounded space.
// The zero value is an empty set.
type Distinct struct {
	exact []uint32 // sorted; nil once regs is set
	regs  []uint8  // HLLRegisters long when in sketch form
}

// Insert adds a value's hash.
func (d *Distinct) Insert(h uint32) {
	if d.regs != nil {
		d.insertHLL(h)
		return
	}
	i, found := slices.BinarySearch(d.exact, h)
	if found {
		return
	}
	if len(d.exact) < ExactCap {
		d.exact = slices.Insert(d.exact, i, h)
		return
	}
	d.toHLL()
	d.insertHLL(h)
}

func (d *Distinct) toHLL() {
	d.regs = make([]uint8, HLLRegisters)
	for _, h := range d.exact {
		d.insertHLL(h)
	}
	d.exact = nil
}

func (d *Distinct) insertHLL(h uint32) {
	idx := h >> (32 - hllBits)
	w := h << hllBits
	r := uint8(bits.LeadingZeros32(w) + 1)
	if r > 32-hllBits+1 {
		r = 32 - hllBits + 1
	}
	if r > d.regs[idx] {
		d.regs[idx] = r
	}
}

// Merge adds every value of o.
func (d *Distinct) Merge(o Distinct) {
	if o.regs == nil {
		for _, h := range o.exact {
			d.Insert(h)
		}
		return
	}
	if d.regs == nil {
		d.toHLL()
	}
	for i, r := range o.regs {
		if r > d.regs[i] {
			d.regs[i] = r
		}
	}
}

// Exact reports whether Count is exact.
func (d *Distinct) Exact() bool { return d.regs == nil }

// Count returns the number of distinct values, exact up to ExactCap and an
// estimate (13% standard error) above.
func (d *Distinct) Count() float64 {
	if d.regs == nil {
		return float64(len(d.exact))
	}
	const m = float64(HLLRegisters)
	sum, zeros := 0.0, 0
	for _, r := range d.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.709 * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros))
	}
	if est < ExactCap+1 {
		est = ExactCap + 1 // it held more than ExactCap values when it switched
	}
	return math.Round(est)
}

func (d *Distinct) clone() Distinct {
	return Distinct{exact: slices.Clone(d.exact), regs: slices.Clone(d.regs)}
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// HashAddr is the stable hash of an address used by Distinct. It is fixed
// forever because hashes are persisted.
func HashAddr(a netip.Addr) uint32 {
	b := a.As16()
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return uint32(mix64(hi^mix64(lo^0x9e3779b97f4a7c15)) >> 32)
}

// HashPort is the stable hash of a port used by Distinct.
func HashPort(p uint16) uint32 {
	return uint32(mix64(uint64(p)|1<<40) >> 32)
}
