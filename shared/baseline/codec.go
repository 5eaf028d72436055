package baseline

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/netip"
	"sync"
	"time"
)

// ErrEncoding is returned by Unmarshal for input that is truncated,
// corrupt or of an unknown version.
var ErrEncoding = errors.New("baseline: bad encoding")

// Version is the encoding version Marshal writes. Version 1 is the
// version byte followed by the DEFLATE-compressed body (varints, histograms
// stored sparse); compression halves a busy model.
const Version = 1

// maxBody bounds the inflated body Unmarshal accepts, against
// decompression bombs; a model at every cap is about 32 KB.
const maxBody = 1 << 20

// maxSeries bounds the metrics an encoding may hold.
const maxSeries = 64

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) f32(v float64) {
	e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(float32(v)))
}
func (e *encoder) addr(a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		e.b = append(append(e.b, 4), b[:]...)
	case a.Is6():
		b := a.As16()
		e.b = append(append(e.b, 16), b[:]...)
	default:
		e.b = append(e.b, 0)
	}
}

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

func (d *decoder) bounded(max uint64) uint64 {
	v := d.uint()
	if v > max {
		d.fail()
		return 0
	}
	return v
}

func (d *decoder) count(max int) int {
	v := d.uint()
	if v > uint64(max) || v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes(d.count(1 << 12))) }

func (d *decoder) f32() float64 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		d.fail()
		return 0
	}
	return v
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
		if b := d.bytes(4); b != nil {
			return netip.AddrFrom4([4]byte(b))
		}
	case 16:
		if b := d.bytes(16); b != nil {
			return netip.AddrFrom16([16]byte(b))
		}
	default:
		d.fail()
	}
	return netip.Addr{}
}

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

func (m *Model) body() []byte {
	e := encoder{b: make([]byte, 0, 4096)}
	e.str(m.Workload)
	if m.Ready.IsZero() {
		e.int(0)
	} else {
		e.int(m.Ready.Unix())
	}
	e.int(m.first)
	e.int(m.seen - m.first)
	e.uint(uint64(m.trained))
	e.uint(uint64(m.Stale))
	names := m.Metrics()
	e.uint(uint64(len(names)))
	for _, n := range names {
		se := m.series[n]
		e.str(n)
		e.uint(uint64(se.kind))
		e.f32(se.slow.Sum)
		if se.slow.Sum > 0 {
			e.int(unixMinute(se.slow.Start))
			e.f32(se.slow.Peak)
			e.uint(uint64(se.slow.Minutes))
		}
		for i := range se.slots {
			h := &se.slots[i]
			nz := 0
			for _, c := range h.n {
				if c != 0 {
					nz++
				}
			}
			e.uint(uint64(nz))
			prev := 0
			for b, c := range h.n {
				if c != 0 {
					e.uint(uint64(b - prev))
					e.uint(uint64(c))
					prev = b
				}
			}
		}
	}
	e.uint(uint64(m.Dests.Learned))
	e.uint(uint64(len(m.Dests.Entries)))
	for _, k := range m.Dests.Entries {
		e.addr(k.Prefix.Addr())
		e.uint(uint64(k.Prefix.Bits()))
		e.int(m.seen - k.Last)
	}
	e.uint(uint64(len(m.Listeners)))
	for _, p := range m.Listeners {
		e.uint(uint64(p.Port))
		e.uint(uint64(p.Minutes))
	}
	e.uint(uint64(len(m.Knockers)))
	for _, k := range m.Knockers {
		e.addr(k.Source)
		e.uint(uint64(len(k.Ports)))
		for _, p := range k.Ports {
			e.uint(uint64(p))
		}
		e.int(k.First)
		e.int(k.Last - k.First)
	}
	e.uint(uint64(len(m.Beacons)))
	for _, b := range m.Beacons {
		e.addr(b.Peer)
		e.uint(uint64(b.Port))
		e.int(b.FirstSeen)
		e.int(b.Last - b.FirstSeen)
		e.uint(uint64(b.LastLocal))
		e.uint(uint64(b.Reps))
		e.int(b.Bytes)
		e.int(b.Flows)
		e.uint(uint64(len(b.Intervals)))
		for _, v := range b.Intervals {
			e.uint(uint64(v))
		}
		e.uint(uint64(b.Next))
		e.int(b.Alerted)
	}
	return e.b
}

// Unmarshal decodes what Marshal wrote.
func Unmarshal(b []byte) (*Model, error) {
	if len(b) == 0 || b[0] != Version {
		return nil, ErrEncoding
	}
	br := bytes.NewReader(b[1:])
	body, err := io.ReadAll(io.LimitReader(flate.NewReader(br), maxBody+1))
	// bytes.Reader is an io.ByteReader, so flate reads no further than
	// its stream's end: anything left over is corruption.
	if err != nil || len(body) > maxBody || br.Len() != 0 {
		return nil, ErrEncoding
	}
	return decodeBody(body)
}

func decodeBody(b []byte) (*Model, error) {
	d := decoder{b: b}
	m := &Model{series: make(map[string]*series)}
	m.Workload = d.str()
	if r := d.int(); r != 0 {
		m.Ready = time.Unix(r, 0).UTC()
	}
	m.first = d.int()
	m.seen = m.first + d.int()
	m.trained = int64(d.bounded(1 << 40))
	m.Stale = int64(d.bounded(1 << 62))
	ns := d.count(maxSeries)
	for range ns {
		name := d.str()
		se := &series{kind: Kind(d.bounded(uint64(Gauge)))}
		se.slow.Sum = d.f32()
		if se.slow.Sum < 0 {
			d.fail()
		}
		if se.slow.Sum > 0 {
			se.slow.Start = time.Unix(d.int()*60, 0).UTC()
			se.slow.Peak = d.f32()
			se.slow.Minutes = int(d.bounded(1 << 30))
		}
		for i := range se.slots {
			h := &se.slots[i]
			nz := d.count(nBuckets)
			b := 0
			for j := range nz {
				delta := int(d.bounded(nBuckets))
				if j > 0 && delta == 0 {
					d.fail()
				}
				b += delta
				if b >= nBuckets {
					d.fail()
					break
				}
				c := d.bounded(SlotCap * 2)
				h.n[b] = uint16(c)
				h.total += uint32(c)
			}
		}
		if _, dup := m.series[name]; dup || d.err != nil {
			d.fail()
			break
		}
		m.series[name] = se
	}
	m.Dests.Learned = int(d.bounded(1 << 20))
	for range d.count(MaxKnownDests) {
		a := d.addr()
		bits := int(d.bounded(128))
		p, err := a.Prefix(bits)
		if err != nil {
			d.fail()
			break
		}
		m.Dests.Entries = append(m.Dests.Entries, KnownDest{Prefix: p, Last: m.seen - d.int()})
	}
	for range d.count(MaxListeners) {
		m.Listeners = append(m.Listeners, PortCount{Port: uint16(d.bounded(65535)), Minutes: uint32(d.bounded(1 << 31))})
	}
	for range d.count(MaxKnockers) {
		k := Knocker{Source: d.addr()}
		for range d.count(MaxKnockerPorts) {
			k.Ports = append(k.Ports, uint16(d.bounded(65535)))
		}
		k.First = d.int()
		k.Last = k.First + d.int()
		m.Knockers = append(m.Knockers, k)
	}
	for range d.count(MaxBeacons) {
		b := Beacon{Peer: d.addr(), Port: uint16(d.bounded(65535))}
		b.FirstSeen = d.int()
		b.Last = b.FirstSeen + d.int()
		b.LastLocal = uint16(d.bounded(65535))
		b.Reps = uint32(d.bounded(1 << 31))
		b.Bytes, b.Flows = d.int(), d.int()
		for range d.count(BeaconIntervals) {
			b.Intervals = append(b.Intervals, uint32(d.bounded(1<<31)))
		}
		b.Next = uint8(d.bounded(BeaconIntervals - 1))
		b.Alerted = d.int()
		m.Beacons = append(m.Beacons, b)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}
