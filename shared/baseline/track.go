package baseline

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Caps of the trackers.
const (
	// MaxKnownDests prefixes are remembered, least recently seen evicted.
	MaxKnownDests = 64
	// MaxListeners ports are remembered, least used evicted.
	MaxListeners = 32
	// MaxKnockers sources are remembered, fewest ports then oldest evicted.
	MaxKnockers = 32
	// MaxKnockerPorts ports are remembered per knocker.
	MaxKnockerPorts = 16
	// MaxBeacons destinations are tracked, least recently seen evicted.
	MaxBeacons = 32
	// BeaconIntervals is the length of the interval ring per beacon.
	BeaconIntervals = 12
)

// DestPrefix returns the prefix an external destination is remembered by:
// the /24 of an IPv4 address, the /48 of an IPv6 one (clouds rotate
// addresses inside such blocks).
func DestPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// KnownDest is one remembered destination prefix.
type KnownDest struct {
	Prefix netip.Prefix
	// Last is the Unix minute it was last seen.
	Last int64
}

// KnownSet is the bounded set of external destinations a workload has
// talked to.
type KnownSet struct {
	Entries []KnownDest
	// Learned counts distinct prefixes added while learning normal
	// behaviour (saturating); alerts add entries without counting, so a
	// workload stays "internal-only" after its first alert.
	Learned int
}

// Has reports whether a's prefix is known.
func (k *KnownSet) Has(a netip.Addr) bool {
	p := DestPrefix(a)
	return slices.ContainsFunc(k.Entries, func(e KnownDest) bool { return e.Prefix == p })
}

// Add remembers a's prefix at t; learned says whether it counts towards
// Learned.
func (k *KnownSet) Add(a netip.Addr, t time.Time, learned bool) {
	p := DestPrefix(a)
	now := unixMinute(t)
	if i := slices.IndexFunc(k.Entries, func(e KnownDest) bool { return e.Prefix == p }); i >= 0 {
		k.Entries[i].Last = max(k.Entries[i].Last, now)
		return
	}
	if learned && k.Learned < 1<<20 {
		k.Learned++
	}
	if len(k.Entries) >= MaxKnownDests {
		j := 0
		for i, e := range k.Entries {
			if e.Last < k.Entries[j].Last {
				j = i
			}
		}
		k.Entries = slices.Delete(k.Entries, j, j+1)
	}
	k.Entries = append(k.Entries, KnownDest{Prefix: p, Last: now})
}

// PortCount is a local port and the minutes it accepted inbound sessions.
type PortCount struct {
	Port    uint16
	Minutes uint32
}

// KnownListener reports whether port is a known listening port.
func (m *Model) KnownListener(port uint16) bool {
	return slices.ContainsFunc(m.Listeners, func(p PortCount) bool { return p.Port == port })
}

// AddListener counts one minute of accepted sessions on port.
func (m *Model) AddListener(port uint16) {
	if i := slices.IndexFunc(m.Listeners, func(p PortCount) bool { return p.Port == port }); i >= 0 {
		if m.Listeners[i].Minutes < 1<<31 {
			m.Listeners[i].Minutes++
		}
		return
	}
	if len(m.Listeners) >= MaxListeners {
		j := 0
		for i, p := range m.Listeners {
			if p.Minutes < m.Listeners[j].Minutes {
				j = i
			}
		}
		m.Listeners = slices.Delete(m.Listeners, j, j+1)
	}
	m.Listeners = append(m.Listeners, PortCount{Port: port, Minutes: 1})
	slices.SortFunc(m.Listeners, func(a, b PortCount) int { return cmp.Compare(a.Port, b.Port) })
}

// Knocker is a source with recent refused connection attempts.
type Knocker struct {
	Source netip.Addr
	// Ports tried, in the order first seen.
	Ports []uint16
	// First and Last are Unix seconds of the earliest and latest attempt.
	First, Last int64
}

// AddKnock records refused attempts by src on ports between first and last
// (Unix seconds), and forgets knockers whose last attempt is older than
// expire (Unix seconds).
func (m *Model) AddKnock(src netip.Addr, ports []uint16, first, last, expire int64) {
	m.Knockers = slices.DeleteFunc(m.Knockers, func(k Knocker) bool { return k.Last < expire })
	i := slices.IndexFunc(m.Knockers, func(k Knocker) bool { return k.Source == src })
	if i < 0 {
		if len(m.Knockers) >= MaxKnockers {
			j := 0
			for i, k := range m.Knockers {
				a, b := k, m.Knockers[j]
				if len(a.Ports) < len(b.Ports) || (len(a.Ports) == len(b.Ports) && a.Last < b.Last) {
					j = i
				}
			}
			if len(m.Knockers[j].Ports) > len(ports) {
				return
			}
			m.Knockers = slices.Delete(m.Knockers, j, j+1)
		}
		m.Knockers = append(m.Knockers, Knocker{Source: src, First: first, Last: last})
		i = len(m.Knockers) - 1
	}
	k := &m.Knockers[i]
	for _, p := range ports {
		if !slices.Contains(k.Ports, p) && len(k.Ports) < MaxKnockerPorts {
			k.Ports = append(k.Ports, p)
		}
	}
	k.First = min(k.First, first)
	k.Last = max(k.Last, last)
}

// Knocker returns the recent knocker src, if any.
func (m *Model) Knocker(src netip.Addr) (Knocker, bool) {
	i := slices.IndexFunc(m.Knockers, func(k Knocker) bool { return k.Source == src })
	if i < 0 {
		return Knocker{}, false
	}
	return m.Knockers[i], true
}

// Beacon tracks the connection starts to one external destination.
type Beacon struct {
	Peer netip.Addr
	Port uint16
	// FirstSeen and Last are Unix seconds of the first and latest
	// connection start; LastLocal is the latest connection's local port.
	FirstSeen, Last int64
	LastLocal       uint16
	// Reps counts connections; Bytes and Flows total the traffic.
	Reps         uint32
	Bytes, Flows int64
	// Intervals is a ring of the latest inter-arrival times in seconds;
	// Next is the ring position to write.
	Intervals []uint32
	Next      uint8
	// Alerted is the Unix second of the last alert on it, 0 if none.
	Alerted int64
}

// Beacon returns the tracker of peer, creating it (evicting the least
// recently seen when full) when create is true. The pointer is valid until
// the next call that creates a tracker.
func (m *Model) Beacon(peer netip.Addr, create bool) *Beacon {
	if i := slices.IndexFunc(m.Beacons, func(b Beacon) bool { return b.Peer == peer }); i >= 0 {
		return &m.Beacons[i]
	}
	if !create {
		return nil
	}
	if len(m.Beacons) >= MaxBeacons {
		j := 0
		for i, b := range m.Beacons {
			if b.Last < m.Beacons[j].Last {
				j = i
			}
		}
		m.Beacons = slices.Delete(m.Beacons, j, j+1)
	}
	m.Beacons = append(m.Beacons, Beacon{Peer: peer})
	return &m.Beacons[len(m.Beacons)-1]
}

// Observe records one connection start at sec (Unix seconds) from local
// port lp. A record on the same local port within maxInterval continues the
// previous connection and is not a new one. Intervals longer than
// maxInterval are not kept. It reports whether it counted a new connection.
func (b *Beacon) Observe(sec int64, lp uint16, maxInterval int64) bool {
	if b.Reps == 0 {
		b.FirstSeen, b.Last, b.LastLocal, b.Reps = sec, sec, lp, 1
		return true
	}
	if sec <= b.Last {
		return false
	}
	d := sec - b.Last
	if lp == b.LastLocal && lp != 0 && d <= maxInterval {
		b.Last = sec
		return false
	}
	if d <= maxInterval {
		if len(b.Intervals) < BeaconIntervals {
			b.Intervals = append(b.Intervals, uint32(d))
		} else {
			b.Intervals[int(b.Next)%BeaconIntervals] = uint32(d)
		}
		b.Next = uint8((int(b.Next) + 1) % BeaconIntervals)
	}
	b.Last, b.LastLocal = sec, lp
	if b.Reps < 1<<31 {
		b.Reps++
	}
	return true
}

// Regularity returns the median interval in seconds and the jitter: the
// median absolute deviation divided by the median (0 = a metronome).
func (b *Beacon) Regularity() (median, jitter float64) {
	if len(b.Intervals) == 0 {
		return 0, 1
	}
	v := make([]float64, len(b.Intervals))
	for i, x := range b.Intervals {
		v[i] = float64(x)
	}
	median = medianOf(v)
	if median <= 0 {
		return 0, 1
	}
	for i := range v {
		d := v[i] - median
		if d < 0 {
			d = -d
		}
		v[i] = d
	}
	return median, medianOf(v) / median
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
