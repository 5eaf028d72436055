package flowlog

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// render writes r back as a line of format f, the inverse of Parse.
func render(r *Record, f Format) string {
	num := func(n int64) string {
		if n < 0 {
			return "-"
		}
		return strconv.FormatInt(n, 10)
	}
	str := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return "-"
		}
		return a.String()
	}
	var out []string
	for _, x := range f.Fields() {
		var v string
		switch x {
		case FieldVersion:
			v = num(int64(r.Version))
		case FieldAccountID:
			v = str(r.AccountID)
		case FieldInterfaceID:
			v = str(r.InterfaceID)
		case FieldSrcAddr:
			v = addr(r.SrcAddr)
		case FieldDstAddr:
			v = addr(r.DstAddr)
		case FieldSrcPort:
			v = num(int64(r.SrcPort))
		case FieldDstPort:
			v = num(int64(r.DstPort))
		case FieldProtocol:
			v = num(int64(r.Protocol))
		case FieldPackets:
			v = num(r.Packets)
		case FieldBytes:
			v = num(r.Bytes)
		case FieldStart:
			v = num(r.Start)
		case FieldEnd:
			v = num(r.End)
		case FieldAction:
			v = r.Action.String()
		case FieldLogStatus:
			v = r.LogStatus.String()
		case FieldVPCID:
			v = str(r.VPCID)
		case FieldSubnetID:
			v = str(r.SubnetID)
		case FieldInstanceID:
			v = str(r.InstanceID)
		case FieldTCPFlags:
			v = num(int64(r.TCPFlags))
		case FieldType:
			v = str(r.Type)
		case FieldPktSrcAddr:
			v = addr(r.PktSrcAddr)
		case FieldPktDstAddr:
			v = addr(r.PktDstAddr)
		case FieldRegion:
			v = str(r.Region)
		case FieldAZID:
			v = str(r.AZID)
		case FieldSublocationType:
			v = str(r.SublocationType)
		case FieldSublocationID:
			v = str(r.SublocationID)
		case FieldPktSrcAWSService:
			v = str(r.PktSrcAWSService)
		case FieldPktDstAWSService:
			v = str(r.PktDstAWSService)
		case FieldFlowDirection:
			v = r.FlowDirection.String()
		case FieldTrafficPath:
			v = num(int64(r.TrafficPath))
		case FieldECSClusterARN:
			v = str(r.ECSClusterARN)
		case FieldECSClusterName:
			v = str(r.ECSClusterName)
		case FieldECSContainerInstanceARN:
			v = str(r.ECSContainerInstanceARN)
		case FieldECSContainerInstanceID:
			v = str(r.ECSContainerInstanceID)
		case FieldECSContainerID:
			v = str(r.ECSContainerID)
		case FieldECSSecondContainerID:
			v = str(r.ECSSecondContainerID)
		case FieldECSServiceName:
			v = str(r.ECSServiceName)
		case FieldECSTaskDefinitionARN:
			v = str(r.ECSTaskDefinitionARN)
		case FieldECSTaskARN:
			v = str(r.ECSTaskARN)
		case FieldECSTaskID:
			v = str(r.ECSTaskID)
		case FieldRejectReason:
			v = str(r.RejectReason)
		default:
			v = "-"
		}
		out = append(out, v)
	}
	return strings.Join(out, " ")
}

// fuzzFormats are the formats of the testdata files, plus every field.
func fuzzFormats(tb testing.TB) []string {
	formats := []string{DefaultFormat.String()}
	for _, name := range sampleFiles {
		for _, line := range strings.Split(string(readTestdata(tb, name)), "\n") {
			if w, _, _ := strings.Cut(line, " "); w == "version" || w == "instance-id" {
				formats = append(formats, line)
			}
		}
	}
	var all []string
	for f := FieldVersion; f < numFields; f++ {
		all = append(all, f.String())
	}
	return append(formats, strings.Join(all, " "))
}

// FuzzParse checks that Parse never panics, fails only with its own error
// types, and that a parsed record rendered back parses to the same record.
func FuzzParse(f *testing.F) {
	formats := fuzzFormats(f)
	for _, name := range sampleFiles {
		for _, line := range strings.Split(string(readTestdata(f, name)), "\n") {
			for i := range formats {
				f.Add(uint8(i), []byte(line))
			}
		}
	}
	f.Add(uint8(0), []byte("2 1 eni-1 ::ffff:10.0.0.1 fe80::1%eth0 0 65535 255 0 9223372036854775807 0 1 REJECT SKIPDATA"))
	parsers := make([]*Parser, len(formats))
	for i, s := range formats {
		format, err := ParseFormat(s)
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = NewParser(format)
	}
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		p := parsers[int(which)%len(parsers)]
		var r Record
		err := p.Parse(line, &r)
		if err != nil {
			var fe *FieldError
			var ce *CountError
			if !errors.As(err, &fe) && !errors.As(err, &ce) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		again := render(&r, p.Format())
		var r2 Record
		if err := p.Parse([]byte(again), &r2); err != nil {
			t.Fatalf("rendered %q: %v", again, err)
		}
		if diff := cmp.Diff(r, r2, cmp.AllowUnexported(Record{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Fatalf("%q rendered as %q parses differently (-first +second):\n%s", line, again, diff)
		}
	})
}

// FuzzParseAddr compares the hand-written address parser with netip's.
func FuzzParseAddr(f *testing.F) {
	for _, s := range addrCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAddr(t, s)
		// scanAddr, inside a line, must agree too.
		if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' }) {
			return
		}
		line := []byte(s + " x")
		got, end, ok := scanAddr(line, 0)
		want, err := netip.ParseAddr(s)
		if ok != (err == nil) || got != want || end != len(s) {
			t.Errorf("scanAddr(%q) = %v, %d, %v; netip.ParseAddr = %v, %v", line, got, end, ok, want, err)
		}
	})
}

// FuzzParseFormat checks that formats never panic and print back.
func FuzzParseFormat(f *testing.F) {
	for _, s := range fuzzFormats(f) {
		f.Add(s)
	}
	f.Add("${version} ${srcaddr} ${bogus}")
	f.Fuzz(func(t *testing.T, s string) {
		format, err := ParseFormat(s)
		if err != nil {
			return
		}
		again, err := ParseFormat(format.String())
		if err != nil || !cmp.Equal(again.Fields(), format.Fields()) {
			t.Fatalf("%q printed as %q parses as %v, %v", s, format.String(), again.Fields(), err)
		}
	})
}

// FuzzScanner checks that any file scans to the end, every line a record
// or a *LineError.
func FuzzScanner(f *testing.F) {
	for _, name := range sampleFiles {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewScanner(bytes.NewReader(data), nil)
		last := 0
		for s.Scan() {
			if s.Line() <= last {
				t.Fatalf("line %d after line %d", s.Line(), last)
			}
			last = s.Line()
			var le *LineError
			if err := s.LineErr(); err != nil && (!errors.As(err, &le) || le.Line != s.Line()) {
				t.Fatalf("line %d: error %v", s.Line(), err)
			}
			if (s.Record() == nil) == (s.LineErr() == nil) {
				t.Fatalf("line %d: record %v with error %v", s.Line(), s.Record(), s.LineErr())
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzScanUint compares the word-at-a-time number parser with strconv.
func FuzzScanUint(f *testing.F) {
	for _, s := range []string{"0", "7", "00", "01", "65535", "65536", "12345678", "123456789", "1700000000", "9223372036854775807", "9223372036854775808", "18446744073709551615", "1a", "-1", "+1", "", " ", "1 2"} {
		f.Add(s, uint64(math.MaxInt64))
		f.Add(s, uint64(math.MaxUint16))
	}
	f.Fuzz(func(t *testing.T, s string, max uint64) {
		tok := s
		if k := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' }); k >= 0 {
			tok = s[:k] // any byte up to ' ' ends a field
		}
		want, err := strconv.ParseUint(tok, 10, 64)
		wantOK := err == nil && want <= max && len(tok) <= 19 && (len(tok) == 1 || tok[0] != '0') && tok[0] != '+'
		for _, pad := range []string{"", " 123456789 x"} { // at the end of a line, and within one
			line := []byte(s + pad)
			got, end, ok := scanUint(line, 0, max)
			if ok != wantOK || (ok && (got != want || end != len(tok))) {
				t.Fatalf("scanUint(%q, %d) = %d, %d, %v; want %d, %d, %v", line, max, got, end, ok, want, len(tok), wantOK)
			}
		}
	})
}
