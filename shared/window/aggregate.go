package window

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Aggregator folds the flows of one batch into Partials. It is not safe for
// concurrent use. The zero value is ready to use.
type Aggregator struct {
	builders map[partKey]*builder
	last     *builder
	lastKey  partKey
	skipped  int64
}

type partKey struct {
	workload string
	minute   int64
}

type targetKey struct {
	peer netip.Addr
	port uint16
}

// builder holds one Partial while it is built; the maps index its slices so
// that a repeated peer costs a lookup, not an allocation.
type builder struct {
	p         Partial
	targets   map[targetKey]int
	knocks    map[netip.Addr]int
	listeners map[uint16]int
	contacts  map[netip.Addr]int
}

// Skipped returns how many flows Add refused (no workload, no time or no
// direction).
func (a *Aggregator) Skipped() int64 { return a.skipped }

// Len returns the number of Partials being built.
func (a *Aggregator) Len() int { return len(a.builders) }

// Add folds one flow in. It reports false, and counts the flow as skipped,
// when the flow lacks a workload, a time or a direction.
func (a *Aggregator) Add(f Flow) bool {
	if f.Workload == "" || f.Time.IsZero() || (f.Direction != Out && f.Direction != In) {
		a.skipped++
		return false
	}
	k := partKey{f.Workload, minuteOf(f.Time)}
	b := a.last
	if b == nil || k != a.lastKey {
		b = a.builders[k]
		if b == nil {
			if a.builders == nil {
				a.builders = make(map[partKey]*builder)
			}
			b = &builder{
				p:         Partial{Workload: f.Workload, Start: time.Unix(k.minute*60, 0).UTC()},
				targets:   make(map[targetKey]int),
				knocks:    make(map[netip.Addr]int),
				listeners: make(map[uint16]int),
				contacts:  make(map[netip.Addr]int),
			}
			a.builders[k] = b
		}
		a.last, a.lastKey = b, k
	}
	b.add(&f)
	return true
}

func (b *builder) add(f *Flow) {
	p := &b.p
	p.Records++
	if f.Accepted {
		p.Accepted++
	} else {
		p.Rejected++
	}
	sec := f.Time.Unix()
	if f.Direction == Out {
		p.BytesOut += f.Bytes
		p.PacketsOut += f.Packets
		p.FlowsOut++
		syn := int64(0)
		if f.SYNOnly {
			p.SYNOut++
			syn = 1
		}
		if f.Protocol == ProtocolUDP {
			p.UDPBytesOut += f.Bytes
			p.UDPPacketsOut += f.Packets
		}
		if f.PeerExternal {
			p.ExternalFlowsOut++
		}
		port := port16(f.PeerPort)
		p.Dests.Insert(HashAddr(f.Peer))
		p.Ports.Insert(HashPort(port))
		tk := targetKey{f.Peer, port}
		i, ok := b.targets[tk]
		if !ok {
			i = len(p.Targets)
			b.targets[tk] = i
			p.Targets = append(p.Targets, Target{Peer: f.Peer, Port: port, External: f.PeerExternal})
		}
		t := &p.Targets[i]
		t.Bytes += f.Bytes
		t.Packets += f.Packets
		t.Flows++
		t.SYN += syn
		if f.PeerExternal && f.Accepted {
			i, ok := b.contacts[f.Peer]
			if !ok {
				i = len(p.Contacts)
				b.contacts[f.Peer] = i
				p.Contacts = append(p.Contacts, Contact{Peer: f.Peer, Port: port})
			}
			c := &p.Contacts[i]
			c.Flows++
			c.Bytes += f.Bytes
			if len(c.Conns) > 0 && sec < c.Conns[0].Time {
				c.Port = port
			}
			c.Conns = addConn(c.Conns, Conn{Time: sec, LocalPort: port16(f.LocalPort)})
		}
		return
	}
	p.BytesIn += f.Bytes
	p.PacketsIn += f.Packets
	p.FlowsIn++
	switch {
	case f.knock():
		i, ok := b.knocks[f.Peer]
		if !ok {
			i = len(p.Knocks)
			b.knocks[f.Peer] = i
			p.Knocks = append(p.Knocks, Knock{Source: f.Peer, External: f.PeerExternal, First: sec, Last: sec})
		}
		k := &p.Knocks[i]
		k.Ports = addPort(k.Ports, port16(f.LocalPort))
		k.First = min(k.First, sec)
		k.Last = max(k.Last, sec)
	case f.Accepted && f.served():
		lp := port16(f.LocalPort)
		i, ok := b.listeners[lp]
		if !ok {
			i = len(p.Listeners)
			b.listeners[lp] = i
			p.Listeners = append(p.Listeners, Listener{Port: lp})
		}
		l := &p.Listeners[i]
		l.Flows++
		if f.PeerExternal {
			l.ExternalFlows++
		}
		l.Sources = addSource(l.Sources, Source{Addr: f.Peer, External: f.PeerExternal, Time: sec})
	}
}

// Partials returns the batch's Partials, one per workload per minute,
// sorted by workload then minute, with every bound applied. The Aggregator
// is reset and can be reused.
func (a *Aggregator) Partials() []Partial {
	out := make([]Partial, 0, len(a.builders))
	for _, b := range a.builders {
		p := b.p
		p.Targets = topTargets(p.Targets)
		p.Knocks = boundKnocks(p.Knocks)
		p.Listeners = boundListeners(p.Listeners)
		p.Contacts = boundContacts(p.Contacts)
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y Partial) int {
		if c := cmp.Compare(x.Workload, y.Workload); c != 0 {
			return c
		}
		return x.Start.Compare(y.Start)
	})
	a.builders = nil
	a.last = nil
	a.lastKey = partKey{}
	return out
}
