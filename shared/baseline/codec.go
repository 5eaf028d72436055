package baseline

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math"
	"sync"
	"time"

	"github.com/tidewatch/tidewatch/shared/wire"
)

// ErrEncoding is returned by Unmarshal for input that is truncated,
// corrupt or of an unknown version.
var ErrEncoding = errors.New("baseline: bad encoding")

// Version is the encoding version Marshal writes: the version byte
// followed by the DEFLATE-compressed body (varints, histograms stored
// sparse); compression halves a busy model. Version 2 adds the recent
// observations (Model.Observe) at the end of the body; Unmarshal still
// reads version 1, whose models simply remember no recent minutes.
const Version = 2

// minVersion is the oldest encoding Unmarshal reads.
const minVersion = 1

// maxBody bounds the inflated body Unmarshal accepts, against
// decompression bombs; a model at every cap is about 32 KB.
const maxBody = 1 << 20

// maxSeries bounds the metrics an encoding may hold.
const maxSeries = 64

// Marshal encodes the model compactly (see Version).
func (m *Model) Marshal() ([]byte, error) {
	var out bytes.Buffer
	out.WriteByte(Version)
	// A flate writer allocates about a megabyte; models are written once
	// per workload and batch, so writers are reused.
	w, _ := flateWriters.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriter(&out, flate.BestCompression); err != nil {
			return nil, err
		}
	} else {
		w.Reset(&out)
	}
	defer flateWriters.Put(w)
	if _, err := w.Write(m.body()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var flateWriters sync.Pool

func (m *Model) body() []byte { return m.encode(Version) }

// encode writes the body of the given version (older versions are kept
// writable so that the decoder's support for them stays tested).
func (m *Model) encode(version byte) []byte {
	e := wire.Encoder{B: make([]byte, 0, 4096)}
	e.Str(m.Workload)
	if m.Ready.IsZero() {
		e.Int(0)
	} else {
		e.Int(m.Ready.Unix())
	}
	e.Int(m.first)
	e.Int(m.seen - m.first)
	e.Uint(uint64(m.trained))
	e.Uint(uint64(m.Stale))
	names := m.Metrics()
	e.Uint(uint64(len(names)))
	for _, n := range names {
		se := m.series[n]
		e.Str(n)
		e.Uint(uint64(se.kind))
		e.F32(se.slow.Sum)
		if se.slow.Sum > 0 {
			e.Int(unixMinute(se.slow.Start))
			e.F32(se.slow.Peak)
			e.Uint(uint64(se.slow.Minutes))
		}
		if version >= 2 {
			if se.slow.Episode.IsZero() {
				e.Int(0)
			} else {
				e.Int(unixMinute(se.slow.Episode))
				e.Uint(uint64(se.slow.Quiet))
			}
		}
		for i := range se.slots {
			h := &se.slots[i]
			nz := 0
			for _, c := range h.n {
				if c != 0 {
					nz++
				}
			}
			e.Uint(uint64(nz))
			prev := 0
			for b, c := range h.n {
				if c != 0 {
					e.Uint(uint64(b - prev))
					e.Uint(uint64(c))
					prev = b
				}
			}
		}
	}
	e.Uint(uint64(m.Dests.Learned))
	e.Uint(uint64(len(m.Dests.Entries)))
	for _, k := range m.Dests.Entries {
		e.Addr(k.Prefix.Addr())
		e.Uint(uint64(k.Prefix.Bits()))
		e.Int(m.seen - k.Last)
	}
	e.Uint(uint64(len(m.Listeners)))
	for _, p := range m.Listeners {
		e.Uint(uint64(p.Port))
		e.Uint(uint64(p.Minutes))
	}
	e.Uint(uint64(len(m.Knockers)))
	for _, k := range m.Knockers {
		e.Addr(k.Source)
		e.Uint(uint64(len(k.Ports)))
		for _, p := range k.Ports {
			e.Uint(uint64(p))
		}
		e.Int(k.First)
		e.Int(k.Last - k.First)
	}
	e.Uint(uint64(len(m.Beacons)))
	for _, b := range m.Beacons {
		e.Addr(b.Peer)
		e.Uint(uint64(b.Port))
		e.Int(b.FirstSeen)
		e.Int(b.Last - b.FirstSeen)
		e.Uint(uint64(b.LastLocal))
		e.Uint(uint64(b.Reps))
		e.Int(b.Bytes)
		e.Int(b.Flows)
		e.Uint(uint64(len(b.Intervals)))
		for _, v := range b.Intervals {
			e.Uint(uint64(v))
		}
		e.Uint(uint64(b.Next))
		e.Int(b.Alerted)
	}
	if version < 2 {
		return e.B
	}
	var withRecent []string
	for _, n := range names {
		if m.series[n].recent.vals != nil {
			withRecent = append(withRecent, n)
		}
	}
	e.Uint(uint64(len(withRecent)))
	for _, n := range withRecent {
		r := &m.series[n].recent
		e.Str(n)
		e.Int(m.seen - r.end)
		for _, v := range r.vals {
			ok := !math.IsNaN(v) && !math.IsInf(v, 0)
			e.Bool(ok)
			if ok {
				e.F32(v)
			}
		}
	}
	return e.B
}

// Unmarshal decodes what Marshal wrote.
func Unmarshal(b []byte) (*Model, error) {
	if len(b) == 0 || b[0] < minVersion || b[0] > Version {
		return nil, ErrEncoding
	}
	br := bytes.NewReader(b[1:])
	body, err := io.ReadAll(io.LimitReader(flate.NewReader(br), maxBody+1))
	// bytes.Reader is an io.ByteReader, so flate reads no further than
	// its stream's end: anything left over is corruption.
	if err != nil || len(body) > maxBody || br.Len() != 0 {
		return nil, ErrEncoding
	}
	return decodeBody(body, b[0])
}

func decodeBody(b []byte, version byte) (*Model, error) {
	d := wire.NewDecoder(b, ErrEncoding)
	m := &Model{series: make(map[string]*series)}
	m.Workload = d.Str()
	if r := d.Int(); r != 0 {
		m.Ready = time.Unix(r, 0).UTC()
	}
	m.first = d.Int()
	m.seen = m.first + d.Int()
	m.trained = int64(d.Bounded(1 << 40))
	m.Stale = int64(d.Bounded(1 << 62))
	ns := d.Count(maxSeries)
	for range ns {
		name := d.Str()
		se := &series{kind: Kind(d.Bounded(uint64(Gauge)))}
		se.slow.Sum = d.F32()
		if se.slow.Sum < 0 {
			d.Fail()
		}
		if se.slow.Sum > 0 {
			se.slow.Start = time.Unix(d.Int()*60, 0).UTC()
			se.slow.Peak = d.F32()
			se.slow.Minutes = int(d.Bounded(1 << 30))
		}
		if version >= 2 {
			if ep := d.Int(); ep != 0 {
				se.slow.Episode = time.Unix(ep*60, 0).UTC()
				se.slow.Quiet = int(d.Bounded(EpisodeQuiet))
			}
		}
		for i := range se.slots {
			h := &se.slots[i]
			nz := d.Count(nBuckets)
			b := 0
			for j := range nz {
				delta := int(d.Bounded(nBuckets))
				if j > 0 && delta == 0 {
					d.Fail()
				}
				b += delta
				if b >= nBuckets {
					d.Fail()
					break
				}
				c := d.Bounded(SlotCap * 2)
				h.n[b] = uint16(c)
				h.total += uint32(c)
			}
		}
		if _, dup := m.series[name]; dup || d.Err() != nil {
			d.Fail()
			break
		}
		m.series[name] = se
	}
	m.Dests.Learned = int(d.Bounded(1 << 20))
	for range d.Count(MaxKnownDests) {
		a := d.Addr()
		bits := int(d.Bounded(128))
		p, err := a.Prefix(bits)
		// The zero Addr gives the zero Prefix without an error; it is
		// no destination, and it would not encode again.
		if err != nil || !p.IsValid() {
			d.Fail()
			break
		}
		m.Dests.Entries = append(m.Dests.Entries, KnownDest{Prefix: p, Last: m.seen - d.Int()})
	}
	for range d.Count(MaxListeners) {
		m.Listeners = append(m.Listeners, PortCount{Port: uint16(d.Bounded(65535)), Minutes: uint32(d.Bounded(1 << 31))})
	}
	for range d.Count(MaxKnockers) {
		k := Knocker{Source: d.Addr()}
		for range d.Count(MaxKnockerPorts) {
			k.Ports = append(k.Ports, uint16(d.Bounded(65535)))
		}
		k.First = d.Int()
		k.Last = k.First + d.Int()
		m.Knockers = append(m.Knockers, k)
	}
	for range d.Count(MaxBeacons) {
		b := Beacon{Peer: d.Addr(), Port: uint16(d.Bounded(65535))}
		b.FirstSeen = d.Int()
		b.Last = b.FirstSeen + d.Int()
		b.LastLocal = uint16(d.Bounded(65535))
		b.Reps = uint32(d.Bounded(1 << 31))
		b.Bytes, b.Flows = d.Int(), d.Int()
		for range d.Count(BeaconIntervals) {
			b.Intervals = append(b.Intervals, uint32(d.Bounded(1<<31)))
		}
		b.Next = uint8(d.Bounded(BeaconIntervals - 1))
		b.Alerted = d.Int()
		m.Beacons = append(m.Beacons, b)
	}
	if version >= 2 {
		for range d.Count(maxSeries) {
			se := m.series[d.Str()]
			if se == nil || se.recent.vals != nil {
				d.Fail()
				break
			}
			se.recent.end = m.seen - d.Int()
			se.recent.vals = make([]float64, RecentMinutes)
			for i := range se.recent.vals {
				se.recent.vals[i] = math.NaN()
				if d.Bool() {
					se.recent.vals[i] = d.F32()
				}
			}
		}
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail()
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return m, nil
}
