package window

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ErrEncoding is returned (wrapped) by UnmarshalBinary for input that is
// truncated, corrupt or of an unknown version.
var ErrEncoding = errors.New("window: bad encoding")

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) addr(a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		e.b = append(e.b, 4)
		e.b = append(e.b, b[:]...)
	case a.Is6():
		b := a.As16()
		e.b = append(e.b, 16)
		e.b = append(e.b, b[:]...)
	default:
		e.b = append(e.b, 0)
	}
}

// decoder reads what encoder wrote; the first error sticks and later reads
// return zero values, so callers check err once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err = ErrEncoding; d.b = nil }

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against max and against the bytes
// left (each element takes at least one byte), so hostile input cannot make
// it allocate much.
func (d *decoder) count(max int) int {
	v := d.uint()
	if v > uint64(max) || v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes(d.count(1 << 12))) }

func (d *decoder) bool() bool {
	b := d.bytes(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		d.fail()
	}
	return b[0] == 1
}

func (d *decoder) addr() netip.Addr {
	n := d.bytes(1)
	if n == nil {
		return netip.Addr{}
	}
	switch n[0] {
	case 0:
		return netip.Addr{}
	case 4:
		b := d.bytes(4)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom4([4]byte(b))
	case 16:
		b := d.bytes(16)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom16([16]byte(b))
	}
	d.fail()
	return netip.Addr{}
}

func (d *decoder) port() uint16 {
	v := d.uint()
	if v > 65535 {
		d.fail()
	}
	return uint16(v)
}

func (e *encoder) distinct(x *Distinct) {
	if x.regs != nil {
		e.b = append(e.b, 1)
		e.b = append(e.b, x.regs...)
		return
	}
	e.b = append(e.b, 0)
	e.uint(uint64(len(x.exact)))
	for _, h := range x.exact {
		e.b = binary.LittleEndian.AppendUint32(e.b, h)
	}
}

func (d *decoder) distinct() Distinct {
	kind := d.bytes(1)
	if kind == nil {
		return Distinct{}
	}
	switch kind[0] {
	case 1:
		r := d.bytes(HLLRegisters)
		if r == nil {
			return Distinct{}
		}
		for _, v := range r {
			if v > 32-hllBits+1 {
				d.fail()
			}
		}
		return Distinct{regs: append([]uint8(nil), r...)}
	case 0:
		n := d.count(ExactCap)
		var x Distinct
		for range n {
			b := d.bytes(4)
			if b == nil {
				return Distinct{}
			}
			x.Insert(binary.LittleEndian.Uint32(b))
		}
		return x
	}
	d.fail()
	return Distinct{}
}

// encodePartial writes p without its workload (the container has it) and
// with in-minute times as offsets from Start.
func (e *encoder) partial(p *Partial) {
	base := p.Start.Unix()
	e.int(base / 60)
	c := &p.Counts
	for _, v := range []int64{c.Records, c.BytesOut, c.PacketsOut, c.FlowsOut, c.BytesIn, c.PacketsIn, c.FlowsIn,
		c.Accepted, c.Rejected, c.SYNOut, c.UDPBytesOut, c.UDPPacketsOut, c.ExternalFlowsOut} {
		e.int(v)
	}
	e.distinct(&p.Dests)
	e.distinct(&p.Ports)
	e.uint(uint64(len(p.Targets)))
	for _, t := range p.Targets {
		e.addr(t.Peer)
		e.uint(uint64(t.Port))
		e.bool(t.External)
		e.int(t.Bytes)
		e.int(t.Packets)
		e.int(t.Flows)
		e.int(t.SYN)
	}
	e.uint(uint64(len(p.Knocks)))
	for _, k := range p.Knocks {
		e.addr(k.Source)
		e.bool(k.External)
		e.uint(uint64(len(k.Ports)))
		for _, pt := range k.Ports {
			e.uint(uint64(pt))
		}
		e.int(k.First - base)
		e.int(k.Last - k.First)
	}
	e.uint(uint64(len(p.Listeners)))
	for _, l := range p.Listeners {
		e.uint(uint64(l.Port))
		e.int(l.Flows)
		e.int(l.ExternalFlows)
		e.uint(uint64(len(l.Sources)))
		for _, s := range l.Sources {
			e.addr(s.Addr)
			e.bool(s.External)
			e.int(s.Time - base)
		}
	}
	e.uint(uint64(len(p.Contacts)))
	for _, c := range p.Contacts {
		e.addr(c.Peer)
		e.uint(uint64(c.Port))
		e.int(c.Flows)
		e.int(c.Bytes)
		e.uint(uint64(len(c.Conns)))
		for _, k := range c.Conns {
			e.int(k.Time - base)
			e.uint(uint64(k.LocalPort))
		}
	}
}

func (d *decoder) partial(workload string) Partial {
	p := Partial{Workload: workload}
	m := d.int()
	if m > 1<<40 || m < -(1<<40) {
		d.fail()
	}
	base := m * 60
	p.Start = unixUTC(base)
	c := &p.Counts
	for _, v := range []*int64{&c.Records, &c.BytesOut, &c.PacketsOut, &c.FlowsOut, &c.BytesIn, &c.PacketsIn, &c.FlowsIn,
		&c.Accepted, &c.Rejected, &c.SYNOut, &c.UDPBytesOut, &c.UDPPacketsOut, &c.ExternalFlowsOut} {
		*v = d.int()
	}
	p.Dests = d.distinct()
	p.Ports = d.distinct()
	if n := d.count(3 * TopK); n > 0 {
		p.Targets = make([]Target, n)
		for i := range p.Targets {
			t := &p.Targets[i]
			t.Peer, t.Port, t.External = d.addr(), d.port(), d.bool()
			t.Bytes, t.Packets, t.Flows, t.SYN = d.int(), d.int(), d.int(), d.int()
		}
	}
	if n := d.count(MaxKnocks); n > 0 {
		p.Knocks = make([]Knock, n)
		for i := range p.Knocks {
			k := &p.Knocks[i]
			k.Source, k.External = d.addr(), d.bool()
			if np := d.count(MaxKnockPorts); np > 0 {
				k.Ports = make([]uint16, np)
				for j := range k.Ports {
					k.Ports[j] = d.port()
				}
			}
			k.First = base + d.int()
			k.Last = k.First + d.int()
		}
	}
	if n := d.count(MaxListeners); n > 0 {
		p.Listeners = make([]Listener, n)
		for i := range p.Listeners {
			l := &p.Listeners[i]
			l.Port, l.Flows, l.ExternalFlows = d.port(), d.int(), d.int()
			if ns := d.count(MaxListenerSources); ns > 0 {
				l.Sources = make([]Source, ns)
				for j := range l.Sources {
					l.Sources[j] = Source{Addr: d.addr(), External: d.bool(), Time: base + d.int()}
				}
			}
		}
	}
	if n := d.count(MaxContacts); n > 0 {
		p.Contacts = make([]Contact, n)
		for i := range p.Contacts {
			c := &p.Contacts[i]
			c.Peer, c.Port, c.Flows, c.Bytes = d.addr(), d.port(), d.int(), d.int()
			if nc := d.count(MaxConns); nc > 0 {
				c.Conns = make([]Conn, nc)
				for j := range c.Conns {
					c.Conns[j] = Conn{Time: base + d.int(), LocalPort: d.port()}
				}
			}
		}
	}
	return p
}

const partialVersion = 1

// MarshalBinary encodes p compactly (varints, versioned).
func (p *Partial) MarshalBinary() ([]byte, error) {
	e := encoder{b: []byte{partialVersion}}
	e.str(p.Workload)
	e.partial(p)
	return e.b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (p *Partial) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != partialVersion {
		return ErrEncoding
	}
	d := decoder{b: b[1:]}
	w := d.str()
	v := d.partial(w)
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return d.err
	}
	*p = v
	return nil
}
