package simulate

import (
	"math"
	"net/netip"
	"time"
)

// endpoint is one side of a connection.
type endpoint struct {
	ip   string
	ifc  *iface // nil: not on a logged ENI (outside the estate)
	pod  *pod
	task *task
	svc  string // pkt-*-aws-service when the peer is an AWS service
}

func podEnd(p *pod) endpoint   { return endpoint{ip: p.ip, ifc: p.node.ifc, pod: p} }
func taskEnd(t *task) endpoint { return endpoint{ip: t.ifc.ip, ifc: t.ifc, task: t} }
func peer(ip string) endpoint  { return endpoint{ip: ip} }

func addr(ip string) netip.Addr { return netip.MustParseAddr(ip) }

// session is the traffic of one connection during one minute.
type session struct {
	sport, dport    int
	proto           int
	reqPk, reqB     int64
	respPk, respB   int64
	cflags, sflags  int
	start, duration int64
	reject          bool
}

// conv writes the records a connection leaves on each logged ENI it
// crosses (none when both ends share an ENI: node-local traffic) and
// counts its bytes for Container Insights.
func (s *sim) conv(c, sv endpoint, x session) {
	if c.pod != nil {
		c.pod.tx += float64(x.reqB)
		c.pod.rx += float64(x.respB)
	}
	if c.task != nil {
		c.task.tx += float64(x.reqB)
		c.task.rx += float64(x.respB)
	}
	if sv.pod != nil {
		sv.pod.rx += float64(x.reqB)
		sv.pod.tx += float64(x.respB)
	}
	if sv.task != nil {
		sv.task.rx += float64(x.reqB)
		sv.task.tx += float64(x.respB)
	}
	if c.ifc != nil && c.ifc == sv.ifc {
		return
	}
	end := x.start + x.duration
	if m := x.start - x.start%60 + 59; end > m {
		end = m
	}
	req := flowRec{pktSrc: c.ip, pktDst: sv.ip, srcPort: x.sport, dstPort: x.dport, proto: x.proto,
		packets: x.reqPk, bytes: x.reqB, start: x.start, end: end, reject: x.reject, flags: x.cflags, srcSvc: c.svc, dstSvc: sv.svc}
	resp := flowRec{pktSrc: sv.ip, pktDst: c.ip, srcPort: x.dport, dstPort: x.sport, proto: x.proto,
		packets: x.respPk, bytes: x.respB, start: x.start, end: end, flags: x.sflags, srcSvc: sv.svc, dstSvc: c.svc}
	if x.proto != 6 {
		req.flags, resp.flags = 0, 0
	}
	if c.ifc != nil {
		req.ifc, req.egress = c.ifc, true
		s.record(&req)
		if x.respPk > 0 {
			resp.ifc, resp.egress = c.ifc, false
			s.record(&resp)
		}
	}
	if sv.ifc != nil {
		req.ifc, req.egress = sv.ifc, false
		s.record(&req)
		if x.respPk > 0 {
			resp.ifc, resp.egress = sv.ifc, true
			s.record(&resp)
		}
	}
}

func (s *sim) record(r *flowRec) {
	s.scratch = appendFlow(s.scratch[:0], s.o.Account, s.w.vpc, s.o.Region, r)
	s.now(LogEvent{Group: flowGroup(), Stream: r.ifc.eni + "-all", Time: time.Unix(r.start, 0).UTC(), Message: string(s.scratch)})
}

// load is the diurnal load factor: about 0.3 at night, 1 at the 12:00
// peak.
func load(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	d := (h - 12.5) / 3.6
	return 0.3 + 0.7*math.Exp(-d*d)
}

func (s *sim) ephemeral() int { return 32768 + s.rng.IntN(28232) }

// bytes splits a byte count into packets of about size bytes.
func pk(bytes int64, size int64) int64 {
	n := bytes / size
	if n < 1 {
		return 1
	}
	return n
}

// poolKey names a pooled (keep-alive) connection from one client to one
// service.
type poolKey struct {
	client  string
	service string
	n       int // which of the client's parallel connections (Scale > 1)
}

type conn struct {
	server   endpoint
	sport    int
	from, to time.Time // first and last minute
}

// pooled carries one minute of a keep-alive connection from c to one
// endpoint of servers, opening a new one when the last ended or its server
// went away. reqB and respB are the bytes of the minute.
func (s *sim) pooled(t time.Time, c endpoint, clientID, service string, servers []endpoint, dport int, reqB, respB float64) {
	if len(servers) == 0 {
		return
	}
	// Scale adds parallel connections, each with the usual volume.
	for n := range max(1, int(math.Round(s.o.Scale))) {
		s.pooledOne(t, c, poolKey{clientID, service, n}, servers, dport, reqB, respB)
	}
}

func (s *sim) pooledOne(t time.Time, c endpoint, k poolKey, servers []endpoint, dport int, reqB, respB float64) {
	cn := s.pool[k]
	if cn != nil && (t.After(cn.to) || !contains(servers, cn.server)) {
		cn = nil
	}
	if cn != nil && !t.Equal(cn.to) && s.rng.Float64() > 0.2+0.8*load(t) {
		return // idle keep-alive connection: nothing to log this minute
	}
	if cn == nil {
		cn = &conn{server: servers[s.rng.IntN(len(servers))], sport: s.ephemeral(), from: t,
			to: t.Add(time.Duration(8+s.rng.IntN(30)) * time.Minute)}
		s.pool[k] = cn
	}
	x := session{sport: cn.sport, dport: dport, proto: 6, reqB: int64(reqB * s.jitter(0.15)), respB: int64(respB * s.jitter(0.15)),
		start: t.Unix() + int64(s.rng.IntN(3)), duration: 56}
	if t.Equal(cn.from) {
		x.cflags |= flagSYN
		x.sflags |= flagSYNACK
		x.start = t.Unix() + int64(s.rng.IntN(20))
	}
	if t.Equal(cn.to) {
		x.cflags |= flagFIN
		x.sflags |= flagFIN
	}
	x.reqPk, x.respPk = pk(x.reqB, 700)+1, pk(x.respB, 1200)+1
	s.conv(c, cn.server, x)
}

func contains(eps []endpoint, e endpoint) bool {
	for _, x := range eps {
		if x.ip == e.ip {
			return true
		}
	}
	return false
}

// short carries one short-lived connection (a new source port) within the
// minute.
func (s *sim) short(t time.Time, c, sv endpoint, dport int, reqB, respB float64) {
	x := session{sport: s.ephemeral(), dport: dport, proto: 6, reqB: int64(reqB * s.jitter(0.3)), respB: int64(respB * s.jitter(0.3)),
		cflags: flagSYN | flagFIN, sflags: flagSYNACK | flagFIN, start: t.Unix() + int64(s.rng.IntN(55)), duration: int64(s.rng.IntN(4))}
	x.reqPk, x.respPk = pk(x.reqB, 600)+2, pk(x.respB, 1300)+2
	s.conv(c, sv, x)
}

// pull is an image pull by a node's container runtime.
type pull struct {
	node *node
	at   time.Time
}

func endpoints(pods []*pod) []endpoint {
	out := make([]endpoint, len(pods))
	for i, p := range pods {
		out[i] = podEnd(p)
	}
	return out
}

// traffic writes one minute of flow records starting at t.
func (s *sim) traffic(t time.Time) {
	w := s.w
	L := load(t) * s.jitter(0.06)
	A := s.attack
	rel := t.Sub(A)
	in := func(from, to time.Duration) bool { return rel >= from && rel < to }
	sc := s.o.Scale
	// The slow flood triples every byte the orders tasks send.
	slow := 1.0
	if in(slowFrom, slowTo) {
		slow = 3
	}

	front := w.app("shop/frontend").running(t)
	cart := w.app("shop/cart").running(t)
	checkout := w.app("shop/checkout").running(t)
	pay := w.app("payments/api").running(t)
	var tasks []endpoint
	for _, tk := range w.tasks {
		tasks = append(tasks, taskEnd(tk))
	}

	// Internet clients through the NLB (IP targets, client IP preserved).
	for _, p := range front {
		n := int(L*sc + s.rng.Float64())
		for range n {
			s.short(t, peer(docIP(s.rng, 100)), podEnd(p), 8080, 1400, 38000)
		}
	}
	// Service to service over keep-alive connections.
	cartEP, checkoutEP, payEP := endpoints(cart), endpoints(checkout), endpoints(pay)
	for _, p := range front {
		s.pooled(t, podEnd(p), p.name, "cart", cartEP, 8080, 26000*L, 90000*L)
	}
	for _, p := range cart {
		s.pooled(t, podEnd(p), p.name, "checkout", checkoutEP, 8080, 18000*L, 40000*L)
	}
	for _, p := range checkout {
		s.pooled(t, podEnd(p), p.name, "payments", payEP, 8443, 12000*L, 7000*L)
		s.pooled(t, podEnd(p), p.name, "orders", tasks, 8080, 16000*L, 90000*L*slow)
	}
	for _, p := range pay {
		s.pooled(t, podEnd(p), p.name, "rds", []endpoint{peer(w.rds)}, 5432, 8000*L, 22000*L)
	}
	for i, tk := range w.tasks {
		s.pooled(t, tasks[i], tk.id, "rds", []endpoint{peer(w.rds)}, 5432, 140000*L*slow, 26000*L)
	}

	// Nightly backup: pg_dump from the database, upload to object storage.
	for _, p := range w.app("batch/backup").running(t) {
		s.pooled(t, podEnd(p), p.name, "rds", []endpoint{peer(w.rds)}, 5432, 900000, 30e6)
		for i := range 4 {
			s.pooled(t, podEnd(p), p.name, "s3-"+itoa(i), []endpoint{{ip: backupPeer, svc: "S3"}}, 443, 9e6, 160000)
		}
	}

	// Image pulls by the container runtime, on the node's own address.
	keep := s.pulls[:0]
	for _, pl := range s.pulls {
		if pl.at.Before(t.Add(time.Minute)) {
			node := endpoint{ip: pl.node.ifc.ip, ifc: pl.node.ifc}
			reg := endpoint{ip: "203.0.113." + itoa(40+s.rng.IntN(6)), svc: "AMAZON"}
			for range 3 {
				s.short(t, node, reg, 443, 60000, 55e6)
			}
		} else {
			keep = append(keep, pl)
		}
	}
	s.pulls = keep

	// Internet background scanning of the nodes' addresses.
	for _, n := range w.nodes {
		for s.rng.Float64() < 0.22 {
			ports := [...]int{22, 23, 80, 443, 445, 1433, 3306, 3389, 5900, 6379, 8080, 8443, 9200, 2375, 10250}
			dport := ports[s.rng.IntN(len(ports))]
			if s.rng.IntN(3) == 0 {
				dport = 1024 + s.rng.IntN(60000)
			}
			s.conv(peer(docIP(s.rng, 200)), endpoint{ip: n.ifc.ip, ifc: n.ifc}, session{sport: 1024 + s.rng.IntN(64000), dport: dport, proto: 6,
				reqPk: 1, reqB: 40 + 4*int64(s.rng.IntN(3)), cflags: flagSYN, start: t.Unix() + int64(s.rng.IntN(60)), reject: true})
		}
	}

	s.attackTraffic(t, rel, in)
}

// attackTraffic writes the network side of the attack day.
func (s *sim) attackTraffic(t time.Time, rel time.Duration, in func(from, to time.Duration) bool) {
	w := s.w
	if in(floodFrom, floodTo) {
		if p := w.app("shop/cart").first(t); p != nil {
			for range 40 {
				x := session{sport: s.ephemeral(), dport: 80, proto: 6, cflags: flagSYN | flagFIN, sflags: flagSYNACK | flagFIN,
					start: t.Unix() + int64(s.rng.IntN(58)), duration: 1}
				x.reqPk = 450 + s.rng.Int64N(150)
				x.reqB = x.reqPk * (360 + s.rng.Int64N(60))
				x.respPk = x.reqPk/2 + 3
				x.respB = x.respPk*52 + 420
				s.conv(podEnd(p), peer(floodTarget), x)
			}
		}
	}
	if in(synFrom, synTo) {
		if p := w.app("shop/checkout").first(t); p != nil {
			for range 300 {
				n := int64(1 + s.rng.IntN(2))
				s.conv(podEnd(p), peer(synTarget), session{sport: 1024 + s.rng.IntN(64000), dport: 443, proto: 6,
					reqPk: n, reqB: 60 * n, cflags: flagSYN, start: t.Unix() + int64(s.rng.IntN(60)), duration: int64(n - 1)})
			}
		}
	}
	if in(udpFrom, udpTo) {
		tk := w.tasks[0]
		for range 30 {
			x := session{sport: s.ephemeral(), dport: 53, proto: 17, start: t.Unix() + int64(s.rng.IntN(5)), duration: 54}
			x.reqPk = 7000 + s.rng.Int64N(2000)
			x.reqB = x.reqPk * 512
			s.conv(taskEnd(tk), peer(udpTarget), x)
		}
	}
	if rel == knockAt {
		if p := w.app("shop/frontend").first(t); p != nil {
			for i, port := range []int{7000, 8000, 9000} {
				s.conv(peer(knocker), podEnd(p), session{sport: 40000 + 17*i, dport: port, proto: 6, reqPk: 1, reqB: 60, cflags: flagSYN,
					start: t.Unix() + int64(3+4*i), reject: true})
			}
			s.conv(peer(knocker), podEnd(p), session{sport: 40123, dport: 2222, proto: 6, reqPk: 14, reqB: 1838, respPk: 11, respB: 3307,
				cflags: flagSYN | flagFIN, sflags: flagSYNACK | flagFIN, start: t.Unix() + 41, duration: 15})
		}
	}
	if in(beaconFrom, beaconTo) {
		if s.beaconNext.IsZero() {
			s.beaconNext = s.attack.Add(beaconFrom + 7*time.Second)
		}
		if p := w.app("payments/api").first(t); p != nil {
			for s.beaconNext.Before(t.Add(time.Minute)) {
				x := session{sport: s.ephemeral(), dport: 443, proto: 6, reqPk: 9, reqB: 1021 + s.rng.Int64N(40), respPk: 7, respB: 4380 + s.rng.Int64N(60),
					cflags: flagSYN | flagFIN, sflags: flagSYNACK | flagFIN, start: s.beaconNext.Unix(), duration: 1}
				s.conv(podEnd(p), peer(beaconTarget), x)
				s.beaconNext = s.beaconNext.Add(58*time.Second + time.Duration(s.rng.IntN(4001))*time.Millisecond)
			}
		}
	}
}
