package flowlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	goldenfile "github.com/tidewatch/tidewatch/shared/golden"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const awsExamples = "vpc_flow_log_record_examples_awsdocs.txt"

var sampleFiles = []string{awsExamples, "valid_vpc_flow_log.log", "valid_vpc_flow_log_ecs.log"}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustFormat(t testing.TB, s string) Format {
	t.Helper()
	f, err := ParseFormat(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// flow is the traffic part of a record, compact enough to write one per
// line of the AWS examples.
type flow struct {
	src, dst       string
	sport, dport   int32
	proto          int16
	packets, bytes int64
	action         Action
	status         LogStatus
	flags          int16
	pktSrc, pktDst string
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func flowOf(r *Record) flow {
	return flow{addrString(r.SrcAddr), addrString(r.DstAddr), r.SrcPort, r.DstPort, r.Protocol,
		r.Packets, r.Bytes, r.Action, r.LogStatus, r.TCPFlags, addrString(r.PktSrcAddr), addrString(r.PktDstAddr)}
}

const (
	acc = ActionAccept
	rej = ActionReject
	unk = ActionUnknown
	ok  = LogStatusOK
)

// Every record line of the AWS documentation examples, by line number. The
// header lines between them set the format, as in an S3 file. Lines 22 and
// 23 carry "#..." annotations from the docs: as they are they have too many
// fields; without the annotation they are records.
var awsExampleLines = []struct {
	line      int
	want      flow
	annotated bool // want is for the line without its "#..." annotation
	wantErr   error
}{
	{line: 1, want: flow{"172.31.16.139", "172.31.16.21", 20641, 22, 6, 20, 4249, acc, ok, -1, "", ""}},
	{line: 2, want: flow{"172.31.9.69", "172.31.9.12", 49761, 3389, 6, 20, 4249, rej, ok, -1, "", ""}},
	{line: 3, want: flow{"", "", -1, -1, -1, -1, -1, unk, LogStatusNoData, -1, "", ""}},
	{line: 4, want: flow{"", "", -1, -1, -1, -1, -1, unk, LogStatusSkipData, -1, "", ""}},
	{line: 5, want: flow{"203.0.113.12", "172.31.16.139", 0, 0, 1, 4, 336, acc, ok, -1, "", ""}},
	{line: 6, want: flow{"172.31.16.139", "203.0.113.12", 0, 0, 1, 4, 336, rej, ok, -1, "", ""}},
	{line: 7, want: flow{"2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:db8:1234:a102:3304:8879:34cf:4071", 34892, 22, 6, 54, 8855, acc, ok, -1, "", ""}},
	// line 8: header, v3 fields (bytes before packets)
	{line: 9, want: flow{"52.213.180.42", "10.0.0.62", 43416, 5001, 6, 8, 568, acc, ok, 2, "52.213.180.42", "10.0.0.62"}},
	{line: 10, want: flow{"10.0.0.62", "52.213.180.42", 5001, 43416, 6, 7, 376, acc, ok, 18, "10.0.0.62", "52.213.180.42"}},
	{line: 11, want: flow{"52.213.180.42", "10.0.0.62", 43418, 5001, 6, 70, 100701, acc, ok, 2, "52.213.180.42", "10.0.0.62"}},
	{line: 12, want: flow{"10.0.0.62", "52.213.180.42", 5001, 43418, 6, 12, 632, acc, ok, 18, "10.0.0.62", "52.213.180.42"}},
	{line: 13, want: flow{"10.0.0.62", "52.213.180.42", 5001, 43418, 6, 1219, 63388, acc, ok, 1, "10.0.0.62", "52.213.180.42"}},
	{line: 14, want: flow{"52.213.180.42", "10.0.0.62", 43418, 5001, 6, 15774, 23294588, acc, ok, 1, "52.213.180.42", "10.0.0.62"}},
	{line: 15, want: flow{"52.213.180.42", "10.0.0.62", 43638, 5001, 6, 17, 1260, acc, ok, 3, "52.213.180.42", "10.0.0.62"}},
	{line: 16, want: flow{"10.0.0.62", "52.213.180.42", 5001, 43638, 6, 14, 967, acc, ok, 19, "10.0.0.62", "52.213.180.42"}}, // two spaces in the docs
	// line 17: header, instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr
	{line: 18, want: flow{"10.0.1.5", "10.0.0.220", -1, -1, -1, -1, -1, unk, 0, -1, "10.0.1.5", "203.0.113.5"}},
	{line: 19, want: flow{"10.0.0.220", "203.0.113.5", -1, -1, -1, -1, -1, unk, 0, -1, "10.0.0.220", "203.0.113.5"}},
	{line: 20, want: flow{"203.0.113.5", "10.0.0.220", -1, -1, -1, -1, -1, unk, 0, -1, "203.0.113.5", "10.0.0.220"}},
	{line: 21, want: flow{"10.0.0.220", "10.0.1.5", -1, -1, -1, -1, -1, unk, 0, -1, "203.0.113.5", "10.0.1.5"}},
	{line: 22, annotated: true, want: flow{"10.0.1.5", "203.0.113.5", -1, -1, -1, -1, -1, unk, 0, -1, "10.0.1.5", "203.0.113.5"}},
	{line: 23, annotated: true, want: flow{"203.0.113.5", "10.0.1.5", -1, -1, -1, -1, -1, unk, 0, -1, "203.0.113.5", "10.0.1.5"}},
	// line 24: header, v3 fields without packets and bytes
	{line: 25, want: flow{"10.20.33.164", "10.40.2.236", 39812, 80, 6, -1, -1, acc, ok, 3, "10.20.33.164", "10.40.2.236"}},
	{line: 26, wantErr: ErrValue}, // "..." in the docs, read as the version
	{line: 27, want: flow{"10.40.2.236", "10.20.33.164", 80, 39812, 6, -1, -1, acc, ok, 19, "10.40.2.236", "10.20.33.164"}},
	{line: 28, want: flow{"10.40.1.175", "10.40.2.236", 39812, 80, 6, -1, -1, acc, ok, 3, "10.20.33.164", "10.40.2.236"}},
	{line: 29, want: flow{"10.40.2.236", "10.40.2.31", 80, 39812, 6, -1, -1, acc, ok, 19, "10.40.2.236", "10.20.33.164"}},
	// line 30: header, v5 fields
	{line: 31, want: flow{"52.95.128.179", "10.0.0.71", 80, 34210, 6, 14, 15044, acc, ok, 19, "52.95.128.179", "10.0.0.71"}},
	{line: 32, want: flow{"10.0.0.71", "52.95.128.179", 34210, 80, 6, 7, 471, acc, ok, 3, "10.0.0.71", "52.95.128.179"}},
}

func TestParseAWSExamples(t *testing.T) {
	lines := strings.Split(strings.TrimRight(string(readTestdata(t, awsExamples)), "\n"), "\n")
	byLine := map[int]int{}
	for i, tt := range awsExampleLines {
		byLine[tt.line] = i
	}
	p := NewParser(DefaultFormat)
	var r Record
	for n, line := range lines {
		n++
		if w, _, _ := strings.Cut(line, " "); w == "version" || w == "instance-id" {
			p = NewParser(mustFormat(t, line))
			continue
		}
		i, found := byLine[n]
		if !found {
			t.Errorf("line %d: no expectation for %q", n, line)
			continue
		}
		tt := awsExampleLines[i]
		t.Run(strings.TrimSpace(line[:min(len(line), 40)]), func(t *testing.T) {
			err := p.Parse([]byte(line), &r)
			if tt.annotated {
				if !errors.Is(err, ErrFieldCount) {
					t.Errorf("line %d with annotation: error %v, want ErrFieldCount", n, err)
				}
				line, _, _ = strings.Cut(line, "#")
				err = p.Parse([]byte(line), &r)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("line %d: error %v, want %v", n, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			if diff := cmp.Diff(tt.want, flowOf(&r), cmp.AllowUnexported(flow{})); diff != "" {
				t.Errorf("line %d (-want +got):\n%s", n, diff)
			}
		})
	}
}

// Whole records for the lines that exercise each kind of field.
func TestParseRecords(t *testing.T) {
	v5 := mustFormat(t, "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status")
	ecs := mustFormat(t, strings.SplitN(string(readTestdata(t, "valid_vpc_flow_log_ecs.log")), "\n", 2)[0])
	sparse := mustFormat(t, "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}")
	var names []string
	for f := FieldVersion; f < numFields; f++ {
		names = append(names, f.String())
	}
	allFields := mustFormat(t, strings.Join(names, " "))
	blank := Record{Version: -1, SrcPort: -1, DstPort: -1, Protocol: -1, Packets: -1, Bytes: -1, Start: -1, End: -1, TCPFlags: -1, TrafficPath: -1}
	with := func(f Format, r Record) Record { r.fields = f.mask; return r }
	tests := []struct {
		name   string
		format Format
		line   string
		want   Record
	}{
		{
			name: "v2 accept", format: DefaultFormat,
			line: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
			want: with(DefaultFormat, Record{
				Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
				SrcAddr: netip.MustParseAddr("172.31.16.139"), DstAddr: netip.MustParseAddr("172.31.16.21"),
				SrcPort: 20641, DstPort: 22, Protocol: 6, Packets: 20, Bytes: 4249, Start: 1418530010, End: 1418530070,
				Action: ActionAccept, LogStatus: LogStatusOK, TCPFlags: -1, TrafficPath: -1,
			}),
		},
		{
			name: "v2 nodata", format: DefaultFormat,
			line: "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
			want: with(DefaultFormat, Record{
				Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
				SrcPort: -1, DstPort: -1, Protocol: -1, Packets: -1, Bytes: -1, Start: 1431280876, End: 1431280934,
				LogStatus: LogStatusNoData, TCPFlags: -1, TrafficPath: -1,
			}),
		},
		{
			name: "v2 ipv6", format: DefaultFormat,
			line: "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
			want: with(DefaultFormat, Record{
				Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
				SrcAddr: netip.MustParseAddr("2001:db8:1234:a100:8d6e:3477:df66:f105"), DstAddr: netip.MustParseAddr("2001:db8:1234:a102:3304:8879:34cf:4071"),
				SrcPort: 34892, DstPort: 22, Protocol: 6, Packets: 54, Bytes: 8855, Start: 1477913708, End: 1477913820,
				Action: ActionAccept, LogStatus: LogStatusOK, TCPFlags: -1, TrafficPath: -1,
			}),
		},
		{
			name: "v5 egress to S3", format: v5,
			line: "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK",
			want: with(v5, Record{
				Version: 5, AccountID: "123456789012", InterfaceID: "eni-1235b8ca123456789",
				SrcAddr: netip.MustParseAddr("10.0.0.71"), DstAddr: netip.MustParseAddr("52.95.128.179"),
				SrcPort: 34210, DstPort: 80, Protocol: 6, Packets: 7, Bytes: 471, Start: 1616729292, End: 1616729349,
				Action: ActionAccept, LogStatus: LogStatusOK,
				VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678", InstanceID: "i-0c50d5961bcb2d47b",
				TCPFlags: 3, Type: "IPv4", PktSrcAddr: netip.MustParseAddr("10.0.0.71"), PktDstAddr: netip.MustParseAddr("52.95.128.179"),
				Region: "ap-southeast-2", AZID: "apse2-az3", PktDstAWSService: "S3", FlowDirection: DirectionEgress, TrafficPath: 8,
			}),
		},
		{
			name: "v7 ecs", format: ecs,
			line: strings.TrimSpace(strings.SplitN(string(readTestdata(t, "valid_vpc_flow_log_ecs.log")), "\n", 2)[1]),
			want: with(ecs, Record{
				Version: 5, AccountID: "123456789012", InterfaceID: "eni-0abc1234def567890",
				SrcAddr: netip.MustParseAddr("10.0.1.100"), DstAddr: netip.MustParseAddr("10.0.2.200"),
				SrcPort: 49152, DstPort: 22, Protocol: 6, Packets: 15, Bytes: 3500, Start: 1700000000, End: 1700000060,
				Action: ActionAccept, LogStatus: LogStatusOK, TCPFlags: -1, TrafficPath: -1,
				ECSClusterARN: "arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster", ECSClusterName: "my-cluster",
				ECSContainerInstanceARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/my-cluster/abcdef",
				ECSContainerInstanceID:  "abcdef1234567890", ECSContainerID: "container-1", ECSSecondContainerID: "container-2",
				ECSServiceName: "my-service", ECSTaskDefinitionARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/my-task:1",
				ECSTaskARN: "arn:aws:ecs:us-east-1:123456789012:task/my-cluster/abcdef", ECSTaskID: "abcdef1234567890",
			}),
		},
		{
			name: "sparse custom format, instance-id -", format: sparse,
			line: "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n",
			want: func() Record {
				r := blank
				r.InterfaceID = "eni-1235b8ca123456789"
				r.SrcAddr, r.DstAddr = netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.0.220")
				r.PktSrcAddr, r.PktDstAddr = netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("203.0.113.5")
				return with(sparse, r)
			}(),
		},
		{
			name: "v8 reject by BPA, unverified fields accepted", format: mustFormat(t, "version action log-status reject-reason resource-id encryption-status"),
			line: "8 REJECT OK BPA vpce-1 1",
			want: with(mustFormat(t, "version action log-status reject-reason resource-id encryption-status"), func() Record {
				r := blank
				r.Version, r.Action, r.LogStatus, r.RejectReason = 8, ActionReject, LogStatusOK, "BPA"
				return r
			}()),
		},
		{
			name: "every field of every version, all -", format: allFields,
			line: strings.TrimSpace(strings.Repeat("- ", allFields.Len())),
			want: with(allFields, blank),
		},
		{
			name: "tabs, CRLF and the zero Format", format: Format{},
			line: "2\t123456789010 eni-1 10.0.0.1  10.0.0.2 1 2 17 1 99 10 20 REJECT OK\r\n",
			want: with(DefaultFormat, Record{
				Version: 2, AccountID: "123456789010", InterfaceID: "eni-1",
				SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"),
				SrcPort: 1, DstPort: 2, Protocol: 17, Packets: 1, Bytes: 99, Start: 10, End: 20,
				Action: ActionReject, LogStatus: LogStatusOK, TCPFlags: -1, TrafficPath: -1,
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			r.Bytes, r.ECSTaskID = 77, "stale" // Parse must overwrite everything
			if err := NewParser(tt.format).Parse([]byte(tt.line), &r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r, cmp.AllowUnexported(Record{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordMethods(t *testing.T) {
	p := NewParser(mustFormat(t, "srcaddr dstaddr pkt-srcaddr pkt-dstaddr tcp-flags log-status"))
	tests := []struct {
		line               string
		src, dst           string
		synOnly, isTraffic bool
	}{
		{"10.0.0.1 10.0.0.2 192.168.1.1 192.168.1.2 2 OK", "192.168.1.1", "192.168.1.2", true, true},
		{"10.0.0.1 10.0.0.2 - - 18 OK", "10.0.0.1", "10.0.0.2", false, true},
		{"- - - - - NODATA", "", "", false, false},
		{"10.0.0.1 10.0.0.2 - 192.168.1.2 3 SKIPDATA", "10.0.0.1", "192.168.1.2", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var r Record
			if err := p.Parse([]byte(tt.line), &r); err != nil {
				t.Fatal(err)
			}
			if got := addrString(r.Src()); got != tt.src {
				t.Errorf("Src() = %q, want %q", got, tt.src)
			}
			if got := addrString(r.Dst()); got != tt.dst {
				t.Errorf("Dst() = %q, want %q", got, tt.dst)
			}
			if r.SYNOnly() != tt.synOnly || r.HasTraffic() != tt.isTraffic {
				t.Errorf("SYNOnly() = %v, HasTraffic() = %v, want %v, %v", r.SYNOnly(), r.HasTraffic(), tt.synOnly, tt.isTraffic)
			}
			if !r.Has(FieldTCPFlags) || r.Has(FieldSrcPort) {
				t.Errorf("Has(tcp-flags) = %v, Has(srcport) = %v, want true, false", r.Has(FieldTCPFlags), r.Has(FieldSrcPort))
			}
		})
	}
	// Without a log-status field every record is traffic.
	var r Record
	if err := NewParser(mustFormat(t, "srcaddr")).Parse([]byte("10.0.0.1"), &r); err != nil || !r.HasTraffic() {
		t.Errorf("HasTraffic() = %v (err %v) without log-status, want true", r.HasTraffic(), err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		line    string
		wantErr string
		is      error
	}{
		{"too few fields", "", "2 123456789010 eni-1 10.0.0.1", "flowlog: want 14 fields, got 4", ErrFieldCount},
		{"too many fields", "", "2 1 eni-1 - - - - - - - 1 2 - NODATA extra more", "flowlog: want 14 fields, got 16", ErrFieldCount},
		{"empty line", "", "", "flowlog: want 14 fields, got 0", ErrFieldCount},
		{"blank line", "", " \t\r\n", "flowlog: want 14 fields, got 0", ErrFieldCount},
		{"port not a number", "srcport", "2x", `flowlog: srcport: bad value "2x"`, ErrValue},
		{"port too large", "dstport", "65536", `flowlog: dstport: bad value "65536"`, ErrValue},
		{"negative port", "srcport", "-1", `flowlog: srcport: bad value "-1"`, ErrValue},
		{"leading zero", "protocol", "06", `flowlog: protocol: bad value "06"`, ErrValue},
		{"protocol too large", "protocol", "256", `flowlog: protocol: bad value "256"`, ErrValue},
		{"bytes overflow", "bytes", "9223372036854775808", `flowlog: bytes: bad value "9223372036854775808"`, ErrValue},
		{"packets huge", "packets", "123456789012345678901234", `flowlog: packets: bad value "123456789012345678901234"`, ErrValue},
		{"tcp-flags too large", "tcp-flags", "256", `flowlog: tcp-flags: bad value "256"`, ErrValue},
		{"traffic-path too large", "traffic-path", "128", `flowlog: traffic-path: bad value "128"`, ErrValue},
		{"bad ipv4", "srcaddr", "10.0.0.256", `flowlog: srcaddr: bad value "10.0.0.256"`, ErrValue},
		{"ipv4 leading zero", "dstaddr", "10.0.0.01", `flowlog: dstaddr: bad value "10.0.0.01"`, ErrValue},
		{"short ipv4", "pkt-srcaddr", "10.0.0", `flowlog: pkt-srcaddr: bad value "10.0.0"`, ErrValue},
		{"bad ipv6", "pkt-dstaddr", "2001:db8::1::2", `flowlog: pkt-dstaddr: bad value "2001:db8::1::2"`, ErrValue},
		{"hostname", "srcaddr", "example.com", `flowlog: srcaddr: bad value "example.com"`, ErrValue},
		{"bad action", "action", "accept", `flowlog: action: bad value "accept"`, ErrValue},
		{"bad log-status", "log-status", "FAIL", `flowlog: log-status: bad value "FAIL"`, ErrValue},
		{"bad flow-direction", "flow-direction", "in", `flowlog: flow-direction: bad value "in"`, ErrValue},
		{"bad start", "start", "1.5", `flowlog: start: bad value "1.5"`, ErrValue},
		{"value cut at 64 bytes", "version", strings.Repeat("9", 100), `flowlog: version: bad value "` + strings.Repeat("9", 64) + `"`, ErrValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Format
			if tt.format != "" {
				f = mustFormat(t, tt.format)
			}
			var r Record
			err := NewParser(f).Parse([]byte(tt.line), &r)
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if err.Error() != tt.wantErr || !errors.Is(err, tt.is) {
				t.Errorf("error %q, want %q wrapping %v", err, tt.wantErr, tt.is)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	v2 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	tests := []struct {
		in      string
		want    string // String() of the result
		wantErr string
	}{
		{in: v2, want: DefaultFormat.String()},
		{in: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}", want: DefaultFormat.String()},
		{in: " ${version}\tsrcaddr \n", want: "${version} ${srcaddr}"},
		{in: "resource-id encryption-status ecs-task-id", want: "${resource-id} ${encryption-status} ${ecs-task-id}"},
		{in: "version srcaddr foo", wantErr: `flowlog: format: unknown field "foo"`},
		{in: "${version} ${src-addr}", wantErr: `flowlog: format: unknown field "${src-addr}"`},
		{in: "${version", wantErr: `flowlog: format: unknown field "${version"`},
		{in: "version srcaddr ${version}", wantErr: `flowlog: format: field "version" given twice`},
		{in: " ", wantErr: `flowlog: format: no fields`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "unknown") && !errors.Is(err, ErrUnknownField) {
					t.Errorf("error does not wrap ErrUnknownField")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			again, err := ParseFormat(f.String())
			if err != nil || !cmp.Equal(again.Fields(), f.Fields()) {
				t.Errorf("String() does not parse back: %v, %v", again.Fields(), err)
			}
		})
	}
	if (Format{}).Len() != 14 || !(Format{}).Has(FieldLogStatus) || (Format{}).Has(FieldVPCID) {
		t.Error("the zero Format is not DefaultFormat")
	}
	for f := FieldVersion; f < numFields; f++ {
		if got, ok := lookupField([]byte(f.String())); !ok || got != f {
			t.Errorf("field %d: name %q does not look up", f, f.String())
		}
	}
}

// addrCases are fed to the differential address test and the fuzz seed.
var addrCases = []string{
	"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "1..1.1", ".1.1.1", "1.1.1.1.",
	"::", "::1", "1::", "2001:db8::", "::ffff:10.0.0.1", "::ffff:010.0.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6::7:8", "1::2::3", ":1::", "1:", ":", ":::", "12345::", "abcd:EF01::", "g::", "1:2:3:4:5:6:1.2.3.4",
	"1:2:3:4:5:1.2.3.4", "1::1.2.3.4", "1.2.3.4::", "fe80::1%eth0", "fe80::1%", "%eth0", "", "-", "2001:db8:1234:a100:8d6e:3477:df66:f105",
}

// The hand-written address parser agrees with netip.ParseAddr.
func TestParseAddr(t *testing.T) {
	for _, s := range addrCases {
		checkAddr(t, s)
	}
}

func checkAddr(t *testing.T, s string) {
	t.Helper()
	want, err := netip.ParseAddr(s)
	got, ok := parseAddr([]byte(s))
	if ok != (err == nil) || got != want {
		t.Errorf("parseAddr(%q) = %v, %v; netip.ParseAddr = %v, %v", s, got, ok, want, err)
	}
}

// scanView is one line of a Scanner's output, for golden files: the typed
// value of each field the format carried ("-" values as Record holds them).
type scanView struct {
	Line   int            `json:"line"`
	Err    string         `json:"err,omitempty"`
	Record map[string]any `json:"record,omitempty"`
}

func fieldValues(r *Record) map[string]any {
	values := map[Field]any{
		FieldVersion: r.Version, FieldAccountID: r.AccountID, FieldInterfaceID: r.InterfaceID,
		FieldSrcAddr: r.SrcAddr, FieldDstAddr: r.DstAddr, FieldSrcPort: r.SrcPort, FieldDstPort: r.DstPort,
		FieldProtocol: r.Protocol, FieldPackets: r.Packets, FieldBytes: r.Bytes, FieldStart: r.Start, FieldEnd: r.End,
		FieldAction: r.Action, FieldLogStatus: r.LogStatus,
		FieldVPCID: r.VPCID, FieldSubnetID: r.SubnetID, FieldInstanceID: r.InstanceID, FieldTCPFlags: r.TCPFlags,
		FieldType: r.Type, FieldPktSrcAddr: r.PktSrcAddr, FieldPktDstAddr: r.PktDstAddr,
		FieldRegion: r.Region, FieldAZID: r.AZID, FieldSublocationType: r.SublocationType, FieldSublocationID: r.SublocationID,
		FieldPktSrcAWSService: r.PktSrcAWSService, FieldPktDstAWSService: r.PktDstAWSService,
		FieldFlowDirection: r.FlowDirection, FieldTrafficPath: r.TrafficPath,
		FieldECSClusterARN: r.ECSClusterARN, FieldECSClusterName: r.ECSClusterName,
		FieldECSContainerInstanceARN: r.ECSContainerInstanceARN, FieldECSContainerInstanceID: r.ECSContainerInstanceID,
		FieldECSContainerID: r.ECSContainerID, FieldECSSecondContainerID: r.ECSSecondContainerID,
		FieldECSServiceName: r.ECSServiceName, FieldECSTaskDefinitionARN: r.ECSTaskDefinitionARN,
		FieldECSTaskARN: r.ECSTaskARN, FieldECSTaskID: r.ECSTaskID, FieldRejectReason: r.RejectReason,
		FieldResourceID: nil, FieldEncryptionStatus: nil,
	}
	m := map[string]any{}
	for f := FieldVersion; f < numFields; f++ {
		if r.Has(f) {
			m[f.String()] = values[f]
		}
	}
	return m
}

func TestScannerGolden(t *testing.T) {
	for _, file := range sampleFiles {
		t.Run(file, func(t *testing.T) {
			s := NewScanner(bytes.NewReader(readTestdata(t, file)), nil)
			var out bytes.Buffer
			for s.Scan() {
				v := scanView{Line: s.Line()}
				if err := s.LineErr(); err != nil {
					v.Err = err.Error()
				} else {
					v.Record = fieldValues(s.Record())
				}
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(append(b, '\n'))
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			golden(t, file+".golden", out.Bytes())
		})
	}
}

// golden compares got with testdata/name (see package golden).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// The Scanner agrees with the per-line table: same records, same bad lines.
func TestScannerAWSExamples(t *testing.T) {
	s := NewScanner(bytes.NewReader(readTestdata(t, awsExamples)), nil)
	var got []int
	for s.Scan() {
		got = append(got, s.Line())
		for _, tt := range awsExampleLines {
			if tt.line != s.Line() {
				continue
			}
			switch {
			case tt.annotated || tt.wantErr != nil:
				want := tt.wantErr
				if tt.annotated {
					want = ErrFieldCount
				}
				var le *LineError
				if !errors.As(s.LineErr(), &le) || le.Line != tt.line || !errors.Is(le, want) {
					t.Errorf("line %d: LineErr() = %v, want %v for this line", tt.line, s.LineErr(), want)
				}
				if s.Record() != nil {
					t.Errorf("line %d: Record() is not nil on a bad line", tt.line)
				}
			case s.LineErr() != nil:
				t.Errorf("line %d: %v", tt.line, s.LineErr())
			default:
				if diff := cmp.Diff(tt.want, flowOf(s.Record()), cmp.AllowUnexported(flow{})); diff != "" {
					t.Errorf("line %d (-want +got):\n%s", tt.line, diff)
				}
			}
		}
	}
	var want []int
	for _, tt := range awsExampleLines {
		want = append(want, tt.line)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines scanned (-want +got):\n%s", diff)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestScanner(t *testing.T) {
	custom := mustFormat(t, "${srcaddr} ${dstaddr}")
	long := strings.Repeat("x", maxLine+10)
	tests := []struct {
		name   string
		in     string
		format *Format
		want   []string // per returned line: "n: src dst" or "n: error"
	}{
		{"no header, default format", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", nil, []string{"1: 10.0.0.1 10.0.0.2"}},
		{"given format", "10.0.0.1 10.0.0.2\n", &custom, []string{"1: 10.0.0.1 10.0.0.2"}},
		{"header overrides the given format", "dstaddr srcaddr\n10.0.0.1 10.0.0.2\n", &custom, []string{"2: 10.0.0.2 10.0.0.1"}},
		{"header in AWS spelling", "${dstaddr} ${srcaddr}\n10.0.0.1 10.0.0.2", nil, []string{"2: 10.0.0.2 10.0.0.1"}},
		{"no final newline, CRLF, blank lines", "srcaddr dstaddr\r\n\r\n10.0.0.1 10.0.0.2\r\n\n  \n10.0.0.3 10.0.0.4", nil, []string{"3: 10.0.0.1 10.0.0.2", "6: 10.0.0.3 10.0.0.4"}},
		{"bad lines do not stop the file", "srcaddr dstaddr\nx y\n10.0.0.1 10.0.0.2\n10.0.0.1\n10.0.0.3 10.0.0.4\n", nil,
			[]string{`2: line 2: flowlog: srcaddr: bad value "x"`, "3: 10.0.0.1 10.0.0.2", "4: line 4: flowlog: want 2 fields, got 1", "5: 10.0.0.3 10.0.0.4"}},
		{"bad header keeps the format", "srcaddr dstaddr\nsrcaddr bogus\n10.0.0.1 10.0.0.2\n", nil,
			[]string{`2: line 2: flowlog: format: unknown field "bogus"`, "3: 10.0.0.1 10.0.0.2"}},
		{"long line", "srcaddr dstaddr\n" + long + "\n10.0.0.1 10.0.0.2\n" + long, nil,
			[]string{"2: line 2: flowlog: line too long", "3: 10.0.0.1 10.0.0.2", "4: line 4: flowlog: line too long"}},
		{"empty input", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScanner(strings.NewReader(tt.in), tt.format)
			var got []string
			for s.Scan() {
				if err := s.LineErr(); err != nil {
					got = append(got, itoa(s.Line())+": "+err.Error())
					continue
				}
				r := s.Record()
				got = append(got, itoa(s.Line())+": "+addrString(r.SrcAddr)+" "+addrString(r.DstAddr))
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scan (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		s := NewScanner(&failingReader{data: []byte("srcaddr\n10.0.0.1\n10.0.0"), err: boom}, nil)
		n := 0
		for s.Scan() {
			n++
		}
		if n != 1 || !errors.Is(s.Err(), boom) {
			t.Errorf("scanned %d lines, Err() = %v; want 1 line, then boom", n, s.Err())
		}
	})
}

func itoa(n int) string {
	var b [20]byte
	return string(appendInt(b[:0], n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// Steady-state Parse allocates nothing, IPv6 included.
func TestParseAllocs(t *testing.T) {
	lines := [][]byte{
		[]byte("5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK"),
		[]byte("5 2001:db8::1 2001:db8:1234:a102:3304:8879:34cf:4071 34210 80 6 1616729292 1616729349 IPv6 7 471 123456789012 vpc-abcdefab012345678 subnet-bbbbbbbb012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - REJECT 2 ::ffff:10.0.0.1 2001:db8::2 S3 - 8 ingress OK"),
	}
	p := NewParser(mustFormat(t, "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status"))
	var r Record
	allocs := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			if err := p.Parse(l, &r); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %v times per run, want 0", allocs)
	}
}

// The intern table stays bounded on input where every value is new.
func TestInternBounded(t *testing.T) {
	p := NewParser(mustFormat(t, "interface-id"))
	var r Record
	for i := range 3 * maxInterned {
		if err := p.Parse([]byte("eni-"+itoa(i)), &r); err != nil {
			t.Fatal(err)
		}
		if r.InterfaceID != "eni-"+itoa(i) {
			t.Fatalf("InterfaceID = %q, want eni-%d", r.InterfaceID, i)
		}
	}
	if len(p.intern) > maxInterned {
		t.Errorf("intern table holds %d strings, want at most %d", len(p.intern), maxInterned)
	}
}

func BenchmarkParse(b *testing.B) {
	data := readTestdata(b, awsExamples)
	f, err := ParseFormat(strings.SplitN(string(data[bytes.Index(data, []byte("version srcaddr")):]), "\n", 2)[0])
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var line []byte
	for sc.Scan() {
		line = append(line[:0], sc.Bytes()...) // the last line: a v5 record
	}
	p := NewParser(f)
	var r Record
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Parse(line, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecommendedFormat: the recommended format parses, names its fields
// as a header line does, and carries every field tidewatch uses.
func TestRecommendedFormat(t *testing.T) {
	f, err := ParseFormat(RecommendedFormat)
	if err != nil {
		t.Fatal(err)
	}
	names := f.Names()
	if len(names) != 39 || names[0] != "version" || names[len(names)-1] != "ecs-task-id" {
		t.Errorf("fields %v", names)
	}
	for _, x := range []Field{FieldPktSrcAddr, FieldPktDstAddr, FieldTCPFlags, FieldFlowDirection, FieldECSTaskID} {
		if !f.Has(x) {
			t.Errorf("no %s", x)
		}
	}
	if again, err := ParseFormat(strings.Join(names, " ")); err != nil || again.String() != RecommendedFormat {
		t.Errorf("header-line spelling gives %q, %v", again.String(), err)
	}
}
