package window

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

var cmpOpts = cmp.Options{
	cmp.AllowUnexported(Distinct{}, Open{}),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func out(w string, sec int, peer string, port int, bytes int64) Flow {
	return Flow{Workload: w, Time: t0.Add(time.Duration(sec) * time.Second), Direction: Out, Peer: addr(peer),
		PeerPort: port, LocalPort: 40000 + sec, Protocol: ProtocolTCP, Bytes: bytes, Packets: bytes/1000 + 1, Accepted: true, PeerExternal: !addr(peer).IsPrivate()}
}

// randomFlows makes a deterministic mix of every kind of record the
// aggregates distinguish, over three minutes and two workloads.
func randomFlows(n int, seed uint64) []Flow {
	r := rand.New(rand.NewPCG(seed, 7))
	fs := make([]Flow, n)
	for i := range fs {
		f := Flow{
			Workload:  []string{"eks/prod/shop/Deployment/cart", "ecs/prod/service/api"}[r.IntN(2)],
			Time:      t0.Add(time.Duration(r.IntN(180)) * time.Second),
			Direction: Direction(1 + r.IntN(2)),
			Peer:      netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(4)), byte(r.IntN(40))}),
			PeerPort:  []int{443, 5432, 8080, 50000 + r.IntN(1000)}[r.IntN(4)],
			LocalPort: []int{8080, 4444, 41000 + r.IntN(1000)}[r.IntN(3)],
			Protocol:  []int{ProtocolTCP, ProtocolUDP}[r.IntN(2)],
			Bytes:     int64(r.IntN(100000)),
			Packets:   int64(1 + r.IntN(3)),
			Accepted:  r.IntN(4) != 0,
			SYNOnly:   r.IntN(5) == 0,
		}
		if r.IntN(3) == 0 {
			f.Peer = netip.AddrFrom4([4]byte{203, 0, 113, byte(r.IntN(60))})
			f.PeerExternal = true
		}
		fs[i] = f
	}
	return fs
}

func TestAggregatorCounts(t *testing.T) {
	const w = "eks/prod/shop/Deployment/cart"
	tests := []struct {
		name  string
		flows []Flow
		want  Counts
		dests float64
		ok    bool
	}{
		{
			name:  "outbound tcp and udp",
			flows: []Flow{out(w, 1, "10.0.0.1", 443, 1000), {Workload: w, Time: t0, Direction: Out, Peer: addr("10.0.0.2"), PeerPort: 53, Protocol: ProtocolUDP, Bytes: 100, Packets: 2, Accepted: true}},
			want:  Counts{Records: 2, BytesOut: 1100, PacketsOut: 4, FlowsOut: 2, Accepted: 2, UDPBytesOut: 100, UDPPacketsOut: 2},
			dests: 2, ok: true,
		},
		{
			name:  "rejected syn inbound",
			flows: []Flow{{Workload: w, Time: t0, Direction: In, Peer: addr("198.51.100.7"), PeerPort: 50000, LocalPort: 22, Protocol: ProtocolTCP, Bytes: 44, Packets: 1, SYNOnly: true, PeerExternal: true}},
			want:  Counts{Records: 1, BytesIn: 44, PacketsIn: 1, FlowsIn: 1, Rejected: 1},
			ok:    true,
		},
		{
			name:  "no direction is skipped",
			flows: []Flow{{Workload: w, Time: t0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a Aggregator
			for _, f := range tc.flows {
				if got := a.Add(f); got != tc.ok {
					t.Fatalf("Add = %v, want %v", got, tc.ok)
				}
			}
			ps := a.Partials()
			if !tc.ok {
				if len(ps) != 0 || a.Skipped() != int64(len(tc.flows)) {
					t.Fatalf("got %d partials, %d skipped", len(ps), a.Skipped())
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("got %d partials, want 1", len(ps))
			}
			if d := cmp.Diff(tc.want, ps[0].Counts); d != "" {
				t.Errorf("counts (-want +got):\n%s", d)
			}
			if got := ps[0].Dests.Count(); got != tc.dests {
				t.Errorf("dests = %v, want %v", got, tc.dests)
			}
		})
	}
}

func TestAggregatorEvidence(t *testing.T) {
	const w = "ecs/prod/service/api"
	var a Aggregator
	src := addr("198.51.100.9")
	for i, p := range []int{1111, 2222, 3333} {
		a.Add(Flow{Workload: w, Time: t0.Add(time.Duration(i) * time.Second), Direction: In, Peer: src, PeerPort: 51000, LocalPort: p, Protocol: ProtocolTCP, Packets: 1, Bytes: 40, SYNOnly: true, PeerExternal: true})
	}
	a.Add(Flow{Workload: w, Time: t0.Add(10 * time.Second), Direction: In, Peer: src, PeerPort: 51001, LocalPort: 4444, Protocol: ProtocolTCP, Packets: 10, Bytes: 900, Accepted: true, PeerExternal: true})
	// The reply half of an outbound call is not a listener.
	a.Add(Flow{Workload: w, Time: t0, Direction: In, Peer: addr("52.95.1.1"), PeerPort: 443, LocalPort: 41000, Protocol: ProtocolTCP, Packets: 10, Bytes: 900, Accepted: true, PeerExternal: true})
	a.Add(out(w, 5, "203.0.113.5", 443, 300))
	a.Add(out(w, 35, "203.0.113.5", 443, 300))
	ps := a.Partials()
	want := Partial{
		Workload: w, Start: t0,
		Knocks:    []Knock{{Source: src, External: true, Ports: []uint16{1111, 2222, 3333}, First: t0.Unix(), Last: t0.Unix() + 2}},
		Listeners: []Listener{{Port: 4444, Flows: 1, ExternalFlows: 1, Sources: []Source{{Addr: src, External: true, Time: t0.Unix() + 10}}}},
		Contacts:  []Contact{{Peer: addr("203.0.113.5"), Port: 443, Flows: 2, Bytes: 600, Conns: []Conn{{t0.Unix() + 5, 40005}, {t0.Unix() + 35, 40035}}}},
	}
	got := ps[0]
	got.Counts, got.Dests, got.Ports, got.Targets = Counts{}, Distinct{}, Distinct{}, nil
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
}

// TestMergeOrder checks that splitting a batch any way and merging the
// parts in any order gives the same windows.
func TestMergeOrder(t *testing.T) {
	flows := randomFlows(3000, 1)
	whole := func() []Window {
		var a Aggregator
		for _, f := range flows {
			a.Add(f)
		}
		o := Open{Workload: "ecs/prod/service/api"}
		for _, p := range a.Partials() {
			if p.Workload == o.Workload {
				o.Merge(p)
			}
		}
		return o.CloseAll()
	}()
	for _, split := range []int{2, 7, 50} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			var parts []Partial
			for i := range split {
				var a Aggregator
				for j := i; j < len(flows); j += split {
					a.Add(flows[j])
				}
				parts = append(parts, a.Partials()...)
			}
			o := Open{Workload: "ecs/prod/service/api"}
			for i := len(parts) - 1; i >= 0; i-- {
				if err := o.Merge(parts[i]); err != nil && parts[i].Workload == o.Workload {
					t.Fatal(err)
				}
			}
			got := o.CloseAll()
			if len(got) != len(whole) {
				t.Fatalf("got %d windows, want %d", len(got), len(whole))
			}
			for i := range got {
				if d := cmp.Diff(whole[i].Counts, got[i].Counts); d != "" {
					t.Errorf("window %d counts (-whole +split):\n%s", i, d)
				}
				if got[i].Dests.Count() != whole[i].Dests.Count() || len(got[i].Knocks) != len(whole[i].Knocks) {
					t.Errorf("window %d: dests %v/%v knocks %d/%d", i, got[i].Dests.Count(), whole[i].Dests.Count(), len(got[i].Knocks), len(whole[i].Knocks))
				}
			}
		})
	}
}

func TestOpenClose(t *testing.T) {
	const w = "eks/prod/shop/Deployment/cart"
	part := func(min int, bytes int64) Partial {
		var a Aggregator
		a.Add(out(w, 60*min, "10.0.0.1", 443, bytes))
		return a.Partials()[0]
	}
	o := Open{Workload: w}
	for _, m := range []int{3, 0, 1, 1, 20} {
		o.Merge(part(m, 100))
	}
	if err := o.Merge(Partial{Workload: "other"}); err != ErrWorkload {
		t.Errorf("Merge of another workload = %v, want ErrWorkload", err)
	}
	tests := []struct {
		name      string
		watermark time.Time
		starts    []int
	}{
		{"nothing old enough", t0.Add(10 * time.Minute), nil},
		{"minute 0 and 1 ended 10 min before", t0.Add(12 * time.Minute), []int{0, 1}},
		{"same watermark again", t0.Add(12 * time.Minute), nil},
		{"minute 3", t0.Add(20 * time.Minute), []int{3}},
	}
	for _, tc := range tests {
		got := o.Close(tc.watermark)
		var starts []int
		for _, w := range got {
			starts = append(starts, int(w.Start.Sub(t0)/time.Minute))
		}
		if d := cmp.Diff(tc.starts, starts); d != "" {
			t.Errorf("%s: starts (-want +got):\n%s", tc.name, d)
		}
	}
	// A record for minute 2, now closed, is dropped and counted.
	o.Merge(part(2, 500))
	if got := o.Late(); got != (Late{Records: 1, Bytes: 500}) {
		t.Errorf("Late = %+v", got)
	}
	rest := o.CloseAll()
	if len(rest) != 1 || rest[0].Late.Records != 1 || rest[0].BytesOut != 100 {
		t.Fatalf("CloseAll = %+v", rest)
	}
	if o.Len() != 0 {
		t.Errorf("Len after CloseAll = %d", o.Len())
	}
}

func TestDistinct(t *testing.T) {
	for _, n := range []int{0, 5, 16, 17, 100, 1000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var a, b Distinct
			for i := range n {
				ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				if i%2 == 0 {
					a.Insert(HashAddr(ip))
				} else {
					b.Insert(HashAddr(ip))
				}
				a.Insert(HashAddr(netip.AddrFrom4([4]byte{10, 0, 0, 0}))) // repeats do not count
			}
			a.Merge(b)
			got := a.Count()
			want := float64(max(n, min(n, 1)))
			if n <= ExactCap {
				if got != want {
					t.Fatalf("Count = %v, want exactly %v", got, want)
				}
				return
			}
			// 3 standard errors of a 64-register HyperLogLog.
			if rel := (got - want) / want; rel > 0.39 || rel < -0.39 {
				t.Fatalf("Count = %v, want %v within 39%%", got, want)
			}
		})
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	var a Aggregator
	for _, f := range randomFlows(5000, 3) {
		a.Add(f)
	}
	ps := a.Partials()
	o := Open{Workload: ps[0].Workload}
	for _, p := range ps {
		if p.Workload == o.Workload {
			o.Merge(p)
		}
		b, _ := p.MarshalBinary()
		var q Partial
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(p, q, cmpOpts); d != "" {
			t.Fatalf("partial round trip (-want +got):\n%s", d)
		}
	}
	b, _ := o.MarshalBinary()
	var q Open
	if err := q.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(o, q, cmpOpts); d != "" {
		t.Fatalf("open round trip (-want +got):\n%s", d)
	}
	if err := q.UnmarshalBinary(append([]byte{9}, b[1:]...)); err == nil {
		t.Error("unknown version accepted")
	}
}

// TestOpenSize checks the persisted Open of a busy workload stays small:
// 12 open minutes (the lateness allowance plus the current ones) of 2,000
// records each, with the evidence bounds full.
func TestOpenSize(t *testing.T) {
	const w = "eks/prod/shop/Deployment/cart"
	o := Open{Workload: w}
	r := rand.New(rand.NewPCG(5, 5))
	for m := range 12 {
		var a Aggregator
		for range 2000 {
			f := randomFlows(1, r.Uint64())[0]
			f.Workload = w
			f.Time = t0.Add(time.Duration(m)*time.Minute + time.Duration(r.IntN(60))*time.Second)
			a.Add(f)
		}
		for _, p := range a.Partials() {
			o.Merge(p)
		}
	}
	b, _ := o.MarshalBinary()
	t.Logf("open state: %d minutes, %d bytes", o.Len(), len(b))
	if len(b) > 24<<10 {
		t.Errorf("open state is %d bytes, want <= 24 KB", len(b))
	}
}

func FuzzUnmarshalOpen(f *testing.F) {
	var a Aggregator
	for _, fl := range randomFlows(300, 9) {
		a.Add(fl)
	}
	ps := a.Partials()
	o := Open{Workload: ps[0].Workload}
	for _, p := range ps {
		if p.Workload == o.Workload {
			o.Merge(p)
		}
	}
	b, _ := o.MarshalBinary()
	f.Add(b)
	pb, _ := ps[0].MarshalBinary()
	f.Add(pb)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Open
		if err := o.UnmarshalBinary(data); err == nil {
			again, _ := o.MarshalBinary()
			var o2 Open
			if err := o2.UnmarshalBinary(again); err != nil {
				t.Fatalf("re-encoding does not decode: %v", err)
			}
			o.CloseAll()
		}
		var p Partial
		if err := p.UnmarshalBinary(data); err == nil {
			if _, err := p.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkAggregatorAdd(b *testing.B) {
	flows := randomFlows(10000, 11)
	var a Aggregator
	for _, f := range flows {
		a.Add(f)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a.Add(flows[i%len(flows)])
	}
}

func BenchmarkBatch10k(b *testing.B) {
	flows := randomFlows(10000, 11)
	b.ReportAllocs()
	for b.Loop() {
		var a Aggregator
		for _, f := range flows {
			a.Add(f)
		}
		a.Partials()
	}
}
