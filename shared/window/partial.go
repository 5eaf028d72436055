package window

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Bounds on the evidence a Partial keeps. They hold after every merge.
const (
	// TopK targets are kept by each of bytes, packets and flows, so a
	// Partial holds at most 3*TopK targets. Counts of a target that falls out
	// of the top are dropped, so a target's merged counts are a lower bound.
	TopK = 5
	// MaxKnocks sources of refused connection attempts are kept, those
	// that tried the most distinct ports first (background scanners try one
	// or two; a knock needs three).
	MaxKnocks = 32
	// MaxKnockPorts distinct local ports are kept per knocking source.
	MaxKnockPorts = 16
	// MaxListeners local ports with accepted inbound sessions are kept,
	// the least used first, since a busy port is a known port.
	MaxListeners = 16
	// MaxListenerSources sample sources are kept per listening port, the
	// earliest first.
	MaxListenerSources = 4
	// MaxContacts external destinations are kept, the fewest flows first:
	// beacons and first contacts are small, bulk transfers are not.
	MaxContacts = 32
	// MaxConns connection starts are kept per external destination and
	// minute, the earliest first.
	MaxConns = 8
)

// Counts are the additive totals of a window.
type Counts struct {
	// Records is the number of flow records folded in.
	Records int64
	// Outbound (workload is the source) totals.
	BytesOut, PacketsOut, FlowsOut int64
	// Inbound (workload is the destination) totals.
	BytesIn, PacketsIn, FlowsIn int64
	// Accepted and Rejected records, both directions.
	Accepted, Rejected int64
	// SYNOut counts outbound SYN-only records (half-open connections).
	SYNOut int64
	// UDP outbound totals; the UDP share is UDPPacketsOut/PacketsOut.
	UDPBytesOut, UDPPacketsOut int64
	// ExternalFlowsOut counts outbound records to external peers.
	ExternalFlowsOut int64
}

func (c *Counts) add(o *Counts) {
	c.Records += o.Records
	c.BytesOut += o.BytesOut
	c.PacketsOut += o.PacketsOut
	c.FlowsOut += o.FlowsOut
	c.BytesIn += o.BytesIn
	c.PacketsIn += o.PacketsIn
	c.FlowsIn += o.FlowsIn
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.SYNOut += o.SYNOut
	c.UDPBytesOut += o.UDPBytesOut
	c.UDPPacketsOut += o.UDPPacketsOut
	c.ExternalFlowsOut += o.ExternalFlowsOut
}

// Target is one outbound destination ip:port with its totals.
type Target struct {
	Peer     netip.Addr
	Port     uint16
	External bool
	Bytes    int64
	Packets  int64
	Flows    int64
	// SYN counts SYN-only records.
	SYN int64
}

// AddrPort returns the target as ip:port.
func (t Target) AddrPort() netip.AddrPort { return netip.AddrPortFrom(t.Peer, t.Port) }

// Knock is the refused connection attempts (rejected, SYN only, at most two
// packets) of one inbound source.
type Knock struct {
	Source   netip.Addr
	External bool
	// Ports are the distinct local ports tried, in order of first try
	// within one batch (the order across batches is not kept).
	Ports []uint16
	// First and Last are Unix seconds of the earliest and latest attempt.
	First, Last int64
}

// Source is one peer that opened an accepted session to a listening port.
type Source struct {
	Addr     netip.Addr
	External bool
	// Time is the Unix second of its first session in the window.
	Time int64
}

// Listener is a local port that accepted inbound sessions. An accepted
// inbound record counts as a session, not the reply half of a connection
// the workload opened, when its local port is below the peer's (servers
// listen low, clients dial from ephemeral ports); a reply from a peer that
// serves on a port above the workload's ephemeral one is misread as a
// session to an internal listener, which only teaches the model a port.
type Listener struct {
	Port uint16
	// Flows and ExternalFlows count accepted inbound session records.
	Flows, ExternalFlows int64
	// Sources are up to MaxListenerSources sources, earliest first.
	Sources []Source
}

// Conn is the start of one outbound connection.
type Conn struct {
	// Time is the Unix second of the record start.
	Time int64
	// LocalPort tells a new connection from the next record of a
	// long-lived one (same local port).
	LocalPort uint16
}

// Contact is the accepted outbound traffic to one external destination.
type Contact struct {
	Peer netip.Addr
	// Port is the destination port of the first record seen.
	Port         uint16
	Flows, Bytes int64
	// Conns are up to MaxConns connection starts, earliest first.
	Conns []Conn
}

// Partial is the aggregate of some of one workload's flows in one minute of
// event time. Partials of the same workload and minute merge into one.
type Partial struct {
	Workload string
	// Start is the minute's start (UTC, whole minute).
	Start time.Time
	Counts
	// Dests counts distinct outbound destination addresses; Ports distinct
	// outbound destination ports.
	Dests, Ports Distinct
	// Targets are the top outbound destinations (see TopK), by bytes
	// descending.
	Targets []Target
	// Knocks, Listeners and Contacts are the bounded per-peer evidence,
	// sorted by address or port.
	Knocks    []Knock
	Listeners []Listener
	Contacts  []Contact
}

// End returns the end of the minute.
func (p *Partial) End() time.Time { return p.Start.Add(time.Minute) }

// Merge folds o (same workload and minute) into p. It does not check them.
func (p *Partial) Merge(o *Partial) {
	p.Counts.add(&o.Counts)
	p.Dests.Merge(o.Dests)
	p.Ports.Merge(o.Ports)
	p.Targets = mergeTargets(p.Targets, o.Targets)
	p.Knocks = mergeKnocks(p.Knocks, o.Knocks)
	p.Listeners = mergeListeners(p.Listeners, o.Listeners)
	p.Contacts = mergeContacts(p.Contacts, o.Contacts)
}

// Clone returns a deep copy.
func (p *Partial) Clone() Partial {
	c := *p
	c.Dests = p.Dests.clone()
	c.Ports = p.Ports.clone()
	c.Targets = slices.Clone(p.Targets)
	c.Knocks = slices.Clone(p.Knocks)
	for i := range c.Knocks {
		c.Knocks[i].Ports = slices.Clone(c.Knocks[i].Ports)
	}
	c.Listeners = slices.Clone(p.Listeners)
	for i := range c.Listeners {
		c.Listeners[i].Sources = slices.Clone(c.Listeners[i].Sources)
	}
	c.Contacts = slices.Clone(p.Contacts)
	for i := range c.Contacts {
		c.Contacts[i].Conns = slices.Clone(c.Contacts[i].Conns)
	}
	return c
}

func addrPortCmp(a netip.Addr, ap uint16, b netip.Addr, bp uint16) int {
	if c := a.Compare(b); c != 0 {
		return c
	}
	return cmp.Compare(ap, bp)
}

func mergeTargets(a, b []Target) []Target {
	out := slices.Clone(a)
	for _, t := range b {
		i := slices.IndexFunc(out, func(x Target) bool { return x.Peer == t.Peer && x.Port == t.Port })
		if i < 0 {
			out = append(out, t)
			continue
		}
		out[i].Bytes += t.Bytes
		out[i].Packets += t.Packets
		out[i].Flows += t.Flows
		out[i].SYN += t.SYN
		out[i].External = out[i].External || t.External
	}
	return topTargets(out)
}

// topTargets keeps the union of the top TopK by bytes, packets and flows,
// sorted by bytes descending. It reorders ts.
func topTargets(ts []Target) []Target {
	if len(ts) <= TopK {
		sortTargets(ts)
		return ts
	}
	keep := make([]Target, 0, 3*TopK)
	by := func(f func(Target) int64) {
		slices.SortStableFunc(ts, func(a, b Target) int {
			if c := cmp.Compare(f(b), f(a)); c != 0 {
				return c
			}
			return addrPortCmp(a.Peer, a.Port, b.Peer, b.Port)
		})
		for _, t := range ts[:TopK] {
			if !slices.ContainsFunc(keep, func(x Target) bool { return x.Peer == t.Peer && x.Port == t.Port }) {
				keep = append(keep, t)
			}
		}
	}
	by(func(t Target) int64 { return t.Bytes })
	by(func(t Target) int64 { return t.Packets })
	by(func(t Target) int64 { return t.Flows })
	sortTargets(keep)
	return keep
}

func sortTargets(ts []Target) {
	slices.SortFunc(ts, func(a, b Target) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return addrPortCmp(a.Peer, a.Port, b.Peer, b.Port)
	})
}

func addPort(ports []uint16, p uint16) []uint16 {
	if slices.Contains(ports, p) || len(ports) >= MaxKnockPorts {
		return ports
	}
	return append(ports, p)
}

func mergeKnocks(a, b []Knock) []Knock {
	out := slices.Clone(a)
	for _, k := range b {
		i := slices.IndexFunc(out, func(x Knock) bool { return x.Source == k.Source })
		if i < 0 {
			k.Ports = slices.Clone(k.Ports)
			out = append(out, k)
			continue
		}
		x := &out[i]
		x.Ports = slices.Clone(x.Ports)
		for _, p := range k.Ports {
			x.Ports = addPort(x.Ports, p)
		}
		x.First = min(x.First, k.First)
		x.Last = max(x.Last, k.Last)
		x.External = x.External || k.External
	}
	return boundKnocks(out)
}

func boundKnocks(ks []Knock) []Knock {
	if len(ks) > MaxKnocks {
		slices.SortFunc(ks, func(a, b Knock) int {
			if c := cmp.Compare(len(b.Ports), len(a.Ports)); c != 0 {
				return c
			}
			if c := cmp.Compare(a.First, b.First); c != 0 {
				return c
			}
			return a.Source.Compare(b.Source)
		})
		ks = ks[:MaxKnocks]
	}
	slices.SortFunc(ks, func(a, b Knock) int { return a.Source.Compare(b.Source) })
	return ks
}

func addSource(ss []Source, s Source) []Source {
	for i := range ss {
		if ss[i].Addr == s.Addr {
			if s.Time < ss[i].Time {
				ss[i].Time = s.Time
			}
			ss[i].External = ss[i].External || s.External
			return ss
		}
	}
	if len(ss) < MaxListenerSources {
		return append(ss, s)
	}
	// Keep the earliest sources so that the result does not depend on
	// merge order.
	j := 0
	for i := range ss {
		if cmpSource(ss[i], ss[j]) > 0 {
			j = i
		}
	}
	if cmpSource(s, ss[j]) < 0 {
		ss[j] = s
	}
	return ss
}

func cmpSource(a, b Source) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	return a.Addr.Compare(b.Addr)
}

func mergeListeners(a, b []Listener) []Listener {
	out := slices.Clone(a)
	for _, l := range b {
		i := slices.IndexFunc(out, func(x Listener) bool { return x.Port == l.Port })
		if i < 0 {
			l.Sources = slices.Clone(l.Sources)
			out = append(out, l)
			continue
		}
		x := &out[i]
		x.Flows += l.Flows
		x.ExternalFlows += l.ExternalFlows
		x.Sources = slices.Clone(x.Sources)
		for _, s := range l.Sources {
			x.Sources = addSource(x.Sources, s)
		}
	}
	return boundListeners(out)
}

func boundListeners(ls []Listener) []Listener {
	for i := range ls {
		slices.SortFunc(ls[i].Sources, cmpSource)
	}
	if len(ls) > MaxListeners {
		slices.SortFunc(ls, func(a, b Listener) int {
			if c := cmp.Compare(a.Flows, b.Flows); c != 0 {
				return c
			}
			return cmp.Compare(a.Port, b.Port)
		})
		ls = ls[:MaxListeners]
	}
	slices.SortFunc(ls, func(a, b Listener) int { return cmp.Compare(a.Port, b.Port) })
	return ls
}

func addConn(cs []Conn, c Conn) []Conn {
	i, found := slices.BinarySearchFunc(cs, c, cmpConn)
	if found {
		return cs
	}
	if len(cs) < MaxConns {
		return slices.Insert(cs, i, c)
	}
	if i >= len(cs) {
		return cs
	}
	copy(cs[i+1:], cs[i:len(cs)-1])
	cs[i] = c
	return cs
}

func cmpConn(a, b Conn) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.LocalPort, b.LocalPort)
}

func mergeContacts(a, b []Contact) []Contact {
	out := slices.Clone(a)
	for _, c := range b {
		i := slices.IndexFunc(out, func(x Contact) bool { return x.Peer == c.Peer })
		if i < 0 {
			c.Conns = slices.Clone(c.Conns)
			out = append(out, c)
			continue
		}
		x := &out[i]
		x.Flows += c.Flows
		x.Bytes += c.Bytes
		x.Conns = slices.Clone(x.Conns)
		if len(c.Conns) > 0 && (len(x.Conns) == 0 || c.Conns[0].Time < x.Conns[0].Time) {
			x.Port = c.Port
		}
		for _, k := range c.Conns {
			x.Conns = addConn(x.Conns, k)
		}
	}
	return boundContacts(out)
}

func boundContacts(cs []Contact) []Contact {
	if len(cs) > MaxContacts {
		slices.SortFunc(cs, func(a, b Contact) int {
			if c := cmp.Compare(a.Flows, b.Flows); c != 0 {
				return c
			}
			return a.Peer.Compare(b.Peer)
		})
		cs = cs[:MaxContacts]
	}
	slices.SortFunc(cs, func(a, b Contact) int { return a.Peer.Compare(b.Peer) })
	return cs
}
