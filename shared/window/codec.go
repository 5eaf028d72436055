package window

import (
	"encoding/binary"
	"errors"

	"github.com/tidewatch/tidewatch/shared/wire"
)

// ErrEncoding is returned (wrapped) by UnmarshalBinary for input that is
// truncated, corrupt or of an unknown version.
var ErrEncoding = errors.New("window: bad encoding")

// encoder and decoder add the window types to the shared wire format.
type encoder struct{ wire.Encoder }

type decoder struct{ wire.Decoder }

func (d *decoder) port() uint16 { return uint16(d.Bounded(65535)) }

func (e *encoder) distinct(x *Distinct) {
	if x.regs != nil {
		e.B = append(e.B, 1)
		e.B = append(e.B, x.regs...)
		return
	}
	e.B = append(e.B, 0)
	e.Uint(uint64(len(x.exact)))
	for _, h := range x.exact {
		e.B = binary.LittleEndian.AppendUint32(e.B, h)
	}
}

func (d *decoder) distinct() Distinct {
	kind := d.Bytes(1)
	if kind == nil {
		return Distinct{}
	}
	switch kind[0] {
	case 1:
		r := d.Bytes(HLLRegisters)
		if r == nil {
			return Distinct{}
		}
		for _, v := range r {
			if v > 32-hllBits+1 {
				d.Fail()
			}
		}
		return Distinct{regs: append([]uint8(nil), r...)}
	case 0:
		n := d.Count(ExactCap)
		var x Distinct
		for range n {
			b := d.Bytes(4)
			if b == nil {
				return Distinct{}
			}
			x.Insert(binary.LittleEndian.Uint32(b))
		}
		return x
	}
	d.Fail()
	return Distinct{}
}

// encodePartial writes p without its workload (the container has it) and
// with in-minute times as offsets from Start.
func (e *encoder) partial(p *Partial) {
	base := p.Start.Unix()
	e.Int(base / 60)
	c := &p.Counts
	for _, v := range []int64{c.Records, c.BytesOut, c.PacketsOut, c.FlowsOut, c.BytesIn, c.PacketsIn, c.FlowsIn,
		c.Accepted, c.Rejected, c.SYNOut, c.UDPBytesOut, c.UDPPacketsOut, c.ExternalFlowsOut} {
		e.Int(v)
	}
	e.distinct(&p.Dests)
	e.distinct(&p.Ports)
	e.Uint(uint64(len(p.Targets)))
	for _, t := range p.Targets {
		e.Addr(t.Peer)
		e.Uint(uint64(t.Port))
		e.Bool(t.External)
		e.Int(t.Bytes)
		e.Int(t.Packets)
		e.Int(t.Flows)
		e.Int(t.SYN)
	}
	e.Uint(uint64(len(p.Knocks)))
	for _, k := range p.Knocks {
		e.Addr(k.Source)
		e.Bool(k.External)
		e.Uint(uint64(len(k.Ports)))
		for _, pt := range k.Ports {
			e.Uint(uint64(pt))
		}
		e.Int(k.First - base)
		e.Int(k.Last - k.First)
	}
	e.Uint(uint64(len(p.Listeners)))
	for _, l := range p.Listeners {
		e.Uint(uint64(l.Port))
		e.Int(l.Flows)
		e.Int(l.ExternalFlows)
		e.Uint(uint64(len(l.Sources)))
		for _, s := range l.Sources {
			e.Addr(s.Addr)
			e.Bool(s.External)
			e.Int(s.Time - base)
		}
	}
	e.Uint(uint64(len(p.Contacts)))
	for _, c := range p.Contacts {
		e.Addr(c.Peer)
		e.Uint(uint64(c.Port))
		e.Int(c.Flows)
		e.Int(c.Bytes)
		e.Uint(uint64(len(c.Conns)))
		for _, k := range c.Conns {
			e.Int(k.Time - base)
			e.Uint(uint64(k.LocalPort))
		}
	}
}

func (d *decoder) partial(workload string) Partial {
	p := Partial{Workload: workload}
	m := d.Int()
	if m > 1<<40 || m < -(1<<40) {
		d.Fail()
	}
	base := m * 60
	p.Start = unixUTC(base)
	c := &p.Counts
	for _, v := range []*int64{&c.Records, &c.BytesOut, &c.PacketsOut, &c.FlowsOut, &c.BytesIn, &c.PacketsIn, &c.FlowsIn,
		&c.Accepted, &c.Rejected, &c.SYNOut, &c.UDPBytesOut, &c.UDPPacketsOut, &c.ExternalFlowsOut} {
		*v = d.Int()
	}
	p.Dests = d.distinct()
	p.Ports = d.distinct()
	if n := d.Count(3 * TopK); n > 0 {
		p.Targets = make([]Target, n)
		for i := range p.Targets {
			t := &p.Targets[i]
			t.Peer, t.Port, t.External = d.Addr(), d.port(), d.Bool()
			t.Bytes, t.Packets, t.Flows, t.SYN = d.Int(), d.Int(), d.Int(), d.Int()
		}
	}
	if n := d.Count(MaxKnocks); n > 0 {
		p.Knocks = make([]Knock, n)
		for i := range p.Knocks {
			k := &p.Knocks[i]
			k.Source, k.External = d.Addr(), d.Bool()
			if np := d.Count(MaxKnockPorts); np > 0 {
				k.Ports = make([]uint16, np)
				for j := range k.Ports {
					k.Ports[j] = d.port()
				}
			}
			k.First = base + d.Int()
			k.Last = k.First + d.Int()
		}
	}
	if n := d.Count(MaxListeners); n > 0 {
		p.Listeners = make([]Listener, n)
		for i := range p.Listeners {
			l := &p.Listeners[i]
			l.Port, l.Flows, l.ExternalFlows = d.port(), d.Int(), d.Int()
			if ns := d.Count(MaxListenerSources); ns > 0 {
				l.Sources = make([]Source, ns)
				for j := range l.Sources {
					l.Sources[j] = Source{Addr: d.Addr(), External: d.Bool(), Time: base + d.Int()}
				}
			}
		}
	}
	if n := d.Count(MaxContacts); n > 0 {
		p.Contacts = make([]Contact, n)
		for i := range p.Contacts {
			c := &p.Contacts[i]
			c.Peer, c.Port, c.Flows, c.Bytes = d.Addr(), d.port(), d.Int(), d.Int()
			if nc := d.Count(MaxConns); nc > 0 {
				c.Conns = make([]Conn, nc)
				for j := range c.Conns {
					c.Conns[j] = Conn{Time: base + d.Int(), LocalPort: d.port()}
				}
			}
		}
	}
	return p
}

const partialVersion = 1

// MarshalBinary encodes p compactly (varints, versioned).
func (p *Partial) MarshalBinary() ([]byte, error) {
	e := encoder{wire.Encoder{B: []byte{partialVersion}}}
	e.Str(p.Workload)
	e.partial(p)
	return e.B, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (p *Partial) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != partialVersion {
		return ErrEncoding
	}
	d := decoder{wire.NewDecoder(b[1:], ErrEncoding)}
	w := d.Str()
	v := d.partial(w)
	if d.Err() == nil && d.Len() != 0 {
		d.Fail()
	}
	if d.Err() != nil {
		return d.Err()
	}
	*p = v
	return nil
}
