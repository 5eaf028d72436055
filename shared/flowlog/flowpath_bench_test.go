package flowlog_test

// The flow path as the flowlogs Lambda runs it: a CloudWatch Logs
// subscription payload (gzip JSON of flow records) decoded by cwlogs, every
// record parsed by flowlog. BenchmarkGunzipOnly is the floor to compare it
// with: the same gzip bytes inflated with the same library into a reused
// buffer. Both exclude base64 in their "gzip" sub-benchmark (the Kinesis and
// Firehose shape) and both include it, plus the Lambda event JSON for
// DecodeAndParse, in their "lambda-event" sub-benchmark.

import (
	"bytes"
	"encoding/base64"
	"io"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/flowlog"
)

// benchFormat is a v5 custom format as a container-aware deployment would
// configure it: the v2 fields, then VPC, packet addresses and AWS services.
const benchFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} " +
	"${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"

// loop runs body b.N times and reports, next to ns/op (wall time), the
// process CPU time per op: on a machine shared with other work, compare the
// cpu-ns/op of the two benchmarks.
func loop(b *testing.B, body func()) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		body()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// payload is one generated subscription delivery.
type payload struct {
	json  []byte // decoded DATA_MESSAGE
	gz    []byte // gzip(json)
	b64   []byte // base64(gz)
	event []byte // {"awslogs":{"data":b64}}
}

// flowPayload deterministically builds a log stream's batch of n flow
// records: one ENI of an EKS node, 64 pods talking to a spread of peers,
// some rejects, SYN-only probes, AWS-service traffic and NODATA rows.
func flowPayload(tb testing.TB, n int) payload {
	tb.Helper()
	x := uint64(0x9e3779b97f4a7c15)
	rnd := func(k uint64) uint64 { // xorshift64: fixed sequence, no global state
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x % k
	}
	var js bytes.Buffer
	js.WriteString(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/vpc/flowlogs/prod","logStream":"eni-0a1b2c3d4e5f60718-all","subscriptionFilters":["tidewatch-flowlogs"],"logEvents":[`)
	var line []byte
	for i := range n {
		start := 1700000000 + int64(i/200)*60
		line = line[:0]
		node := "10.0.1." + strconv.FormatUint(10+rnd(4), 10)
		pod := "10.0.1." + strconv.FormatUint(64+rnd(64), 10)
		peer := "10.0." + strconv.FormatUint(2+rnd(6), 10) + "." + strconv.FormatUint(rnd(256), 10)
		svc, flags, action := "-", "19", "ACCEPT"
		switch r := rnd(100); {
		case r < 5:
			peer = "52.95." + strconv.FormatUint(rnd(256), 10) + "." + strconv.FormatUint(rnd(256), 10)
			svc = "S3"
		case r < 10:
			action, flags = "REJECT", "2"
		case r < 12:
			flags = "2"
		}
		src, dst, psrc, pdst, dir, path := node, peer, pod, peer, "egress", "1"
		if rnd(2) == 0 {
			src, dst, psrc, pdst, dir, path = peer, node, peer, pod, "ingress", "-"
		}
		if i%97 == 0 {
			line = append(line, "5 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - "...)
			line = strconv.AppendInt(line, start, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, start+59, 10)
			line = append(line, " - NODATA vpc-0abc1234def567890 subnet-0123456789abcdef0 i-0fedcba9876543210 - - - - eu-west-1 euw1-az2 - - - -"...)
		} else {
			line = append(line, "5 123456789012 eni-0a1b2c3d4e5f60718 "...)
			line = append(line, src+" "+dst+" "...)
			line = strconv.AppendUint(line, 1024+rnd(64000), 10)
			line = append(line, " 443 6 "...)
			line = strconv.AppendUint(line, 1+rnd(200), 10)
			line = append(line, ' ')
			line = strconv.AppendUint(line, 40+rnd(300000), 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, start, 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, start+59, 10)
			line = append(line, " "+action+" OK vpc-0abc1234def567890 subnet-0123456789abcdef0 i-0fedcba9876543210 "+flags+" IPv4 "+psrc+" "+pdst+" eu-west-1 euw1-az2 - "+svc+" "+dir+" "+path...)
		}
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString(`{"id":"37195438562890756346289181273617823612389217382173`)
		js.WriteString(strconv.FormatInt(int64(10000+i), 10))
		js.WriteString(`","timestamp":`)
		js.WriteString(strconv.FormatInt(start*1000, 10))
		js.WriteString(`,"message":"`)
		js.Write(line)
		js.WriteString(`"}`)
	}
	js.WriteString(`]}`)

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(js.Bytes()); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	b64 := []byte(base64.StdEncoding.EncodeToString(gz.Bytes()))
	event := append(append([]byte(`{"awslogs":{"data":"`), b64...), `"}}`...)
	return payload{json: js.Bytes(), gz: gz.Bytes(), b64: b64, event: event}
}

// flowPath decodes and parses one payload, returning the records that carry
// traffic so the work cannot be optimised away.
type flowPath struct {
	d cwlogs.Decoder
	p *flowlog.Parser
	r flowlog.Record
}

func newFlowPath(tb testing.TB) *flowPath {
	tb.Helper()
	f, err := flowlog.ParseFormat(benchFormat)
	if err != nil {
		tb.Fatal(err)
	}
	return &flowPath{p: flowlog.NewParser(f)}
}

func (fp *flowPath) parse(tb testing.TB, b *cwlogs.Batch, err error) int {
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for i := range b.LogEvents {
		if err := fp.p.Parse(b.LogEvents[i].Message, &fp.r); err != nil {
			tb.Fatal(err)
		}
		if fp.r.HasTraffic() {
			n++
		}
	}
	return n
}

func BenchmarkGunzipOnly(b *testing.B) {
	pl := flowPayload(b, 10000)
	var zr gzip.Reader
	var br bytes.Reader
	buf := make([]byte, 0, len(pl.json))
	gunzip := func(gz []byte) {
		br.Reset(gz)
		if err := zr.Reset(&br); err != nil {
			b.Fatal(err)
		}
		buf = buf[:0]
		for {
			n, err := zr.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(buf) == cap(buf) {
				b.Fatal("buffer too small")
			}
		}
		if len(buf) != len(pl.json) {
			b.Fatalf("inflated %d bytes, want %d", len(buf), len(pl.json))
		}
	}
	b.Run("gzip", func(b *testing.B) {
		b.SetBytes(int64(len(pl.json)))
		loop(b, func() { gunzip(pl.gz) })
	})
	b.Run("lambda-event", func(b *testing.B) {
		zbuf := make([]byte, base64.StdEncoding.DecodedLen(len(pl.b64)))
		b.SetBytes(int64(len(pl.json)))
		loop(b, func() {
			n, err := base64.StdEncoding.Decode(zbuf, pl.b64)
			if err != nil {
				b.Fatal(err)
			}
			gunzip(zbuf[:n])
		})
	})
}

func BenchmarkDecodeAndParse(b *testing.B) {
	pl := flowPayload(b, 10000)
	fp := newFlowPath(b)
	b.Run("gzip", func(b *testing.B) {
		b.SetBytes(int64(len(pl.json)))
		loop(b, func() {
			batch, err := fp.d.DecodeGzip(pl.gz)
			fp.parse(b, batch, err)
		})
	})
	b.Run("lambda-event", func(b *testing.B) {
		b.SetBytes(int64(len(pl.json)))
		loop(b, func() {
			batch, err := fp.d.DecodeEvent(pl.event)
			fp.parse(b, batch, err)
		})
	})
}

// The flow path allocates per batch, not per record: a batch of 10,000
// records costs as many allocations as one of 1,000.
func TestFlowPathAllocsPerBatch(t *testing.T) {
	allocs := func(n int) float64 {
		pl := flowPayload(t, n)
		fp := newFlowPath(t)
		want := -1
		return testing.AllocsPerRun(10, func() {
			batch, err := fp.d.DecodeEvent(pl.event)
			got := fp.parse(t, batch, err)
			if want >= 0 && got != want {
				t.Fatalf("%d records with traffic, then %d", want, got)
			}
			want = got
		})
	}
	small, large := allocs(1000), allocs(10000)
	t.Logf("allocations per batch: %v for 1,000 records, %v for 10,000", small, large)
	if large > small+1 {
		t.Errorf("allocations per batch grow with records: %v for 1,000, %v for 10,000", small, large)
	}
}
