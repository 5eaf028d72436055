package simulate

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/tidewatch/tidewatch/shared/flowlog"
)

// FlowFormat is the custom log format of the simulated flow log, the one
// tidewatch recommends (every field of versions 2 to 5 and the version 7
// ECS fields), written the way CreateFlowLogs takes it. Records carry
// version 7.
const FlowFormat = flowlog.RecommendedFormat

// FlowFields returns the field names of FlowFormat, as in an S3 file's
// header line.
func FlowFields() []string {
	f := strings.Fields(FlowFormat)
	for i, s := range f {
		f[i] = strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}")
	}
	return f
}

// TCP flags as flow logs report them (OR-ed over the window).
const (
	flagFIN    = 1
	flagSYN    = 2
	flagSYNACK = 18
)

// flowRec is one flow log record as one ENI sees it.
type flowRec struct {
	ifc              *iface
	pktSrc, pktDst   string
	srcPort, dstPort int
	proto            int
	packets, bytes   int64
	start, end       int64
	reject           bool
	flags            int
	egress           bool
	srcSvc, dstSvc   string
}

// appendFlow renders r in FlowFormat order.
func appendFlow(b []byte, account, vpc, region string, r *flowRec) []byte {
	src, dst := r.pktSrc, r.pktDst
	if r.egress {
		src = r.ifc.ip
	} else {
		dst = r.ifc.ip
	}
	b = append(b, "7 "...)
	b = append(b, account...)
	b = append(b, ' ')
	b = append(b, r.ifc.eni...)
	b = append(b, ' ')
	b = append(b, src...)
	b = append(b, ' ')
	b = append(b, dst...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.srcPort), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.dstPort), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.packets, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.end, 10)
	if r.reject {
		b = append(b, " REJECT OK "...)
	} else {
		b = append(b, " ACCEPT OK "...)
	}
	b = append(b, vpc...)
	b = append(b, ' ')
	b = append(b, r.ifc.subnet...)
	b = append(b, ' ')
	b = append(b, r.ifc.instance...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.flags), 10)
	b = append(b, " IPv4 "...)
	b = append(b, r.pktSrc...)
	b = append(b, ' ')
	b = append(b, r.pktDst...)
	b = append(b, ' ')
	b = append(b, region...)
	b = append(b, ' ')
	b = append(b, r.ifc.azID...)
	b = append(b, " - - "...)
	b = appendDash(b, r.srcSvc)
	b = append(b, ' ')
	b = appendDash(b, r.dstSvc)
	if r.egress {
		b = append(b, " egress "...)
		if isVPC(r.pktDst) {
			b = append(b, '1')
		} else {
			b = append(b, '8')
		}
	} else {
		b = append(b, " ingress -"...)
	}
	b = append(b, ' ')
	b = append(b, r.ifc.ecs...)
	return b
}

func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}

// isVPC reports whether ip is in the simulated VPC, 10.0.0.0/16.
func isVPC(ip string) bool { return strings.HasPrefix(ip, "10.0.") }

// FlowFile writes an S3-style flow log file in FlowFormat: the header line,
// then records lines of the simulated estate's ordinary traffic and
// background scanning, one minute of event time per few hundred records,
// from opts.Start on. It is meant for performance tests and allocates
// nothing per record.
func FlowFile(opts Options, w io.Writer, records int) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x666c6f7766696c65))
	wd := newWorld(o, rng)
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(strings.Join(FlowFields(), " "))
	bw.WriteByte('\n')

	ifcs := []*iface{wd.tasks[0].ifc, wd.tasks[1].ifc}
	var pods []string
	for _, n := range wd.nodes {
		ifcs = append(ifcs, n.ifc)
	}
	for range 16 {
		pods = append(pods, wd.nodes[rng.IntN(len(wd.nodes))].allocIP())
	}
	// Address pools, so that writing a record allocates nothing.
	var scanners, peers []string
	for range 64 {
		scanners = append(scanners, docIP(rng, 200))
	}
	for range 600 {
		peers = append(peers, "10.0."+itoa(1+rng.IntN(3))+"."+itoa(20+rng.IntN(200)))
	}
	perMinute := 400
	var b []byte
	var r flowRec
	base := o.Start.Unix()
	for i := range records {
		minute := base + int64(i/perMinute)*60
		k := rng.IntN(len(ifcs))
		r = flowRec{ifc: ifcs[k], proto: 6, start: minute + rng.Int64N(40)}
		r.end = r.start + rng.Int64N(20)
		local := r.ifc.ip
		if k >= 2 {
			local = pods[rng.IntN(len(pods))]
		}
		switch x := rng.IntN(100); {
		case x < 4: // background scan
			r.pktSrc, r.pktDst = scanners[rng.IntN(len(scanners))], r.ifc.ip
			r.srcPort, r.dstPort = 1024+rng.IntN(64000), 1+rng.IntN(10000)
			r.packets, r.bytes, r.flags, r.reject = 1, 40+int64(rng.IntN(3))*4, flagSYN, true
		case x < 52: // request leaving
			r.egress = true
			r.pktSrc, r.pktDst = local, peers[rng.IntN(len(peers))]
			r.srcPort, r.dstPort = 32768+rng.IntN(28000), 8080
			r.packets = 2 + rng.Int64N(60)
			r.bytes = r.packets * (200 + rng.Int64N(1200))
			r.flags = clientFlags[rng.IntN(len(clientFlags))]
		default: // response arriving
			r.pktSrc, r.pktDst = peers[rng.IntN(len(peers))], local
			r.srcPort, r.dstPort = 8080, 32768+rng.IntN(28000)
			r.packets = 2 + rng.Int64N(80)
			r.bytes = r.packets * (400 + rng.Int64N(1000))
			r.flags = serverFlags[rng.IntN(len(serverFlags))]
		}
		b = appendFlow(b[:0], o.Account, wd.vpc, o.Region, &r)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Flags of the client and the server side of a connection in one window:
// mostly mid-connection (0), sometimes its start or end.
var (
	clientFlags = [...]int{0, 0, 0, flagSYN | flagFIN, flagSYN, flagFIN}
	serverFlags = [...]int{0, 0, 0, flagSYNACK | flagFIN, flagSYNACK, flagFIN}
)

// docIP returns an address of the documentation ranges 198.51.100.0/24 or
// 203.0.113.0/24 with a last octet of at least from.
func docIP(rng *rand.Rand, from int) string {
	last := from + rng.IntN(255-from)
	if rng.IntN(2) == 0 {
		return "198.51.100." + itoa(last)
	}
	return "203.0.113." + itoa(last)
}
