package flowlog

import (
	"errors"
	"net/netip"
	"strconv"
)

// Action is the action field of a record.
type Action uint8

// Actions. ActionUnknown stands for "-" (NODATA and SKIPDATA rows) and for a
// format without the field.
const (
	ActionUnknown Action = iota
	ActionAccept         // ACCEPT: the security groups and network ACLs allowed the traffic
	ActionReject         // REJECT: denied, or packets after the connection was closed
)

var actionNames = [...]string{"-", "ACCEPT", "REJECT"}

// String returns the AWS spelling ("ACCEPT", "REJECT", "-").
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "-"
}

// MarshalText returns the AWS spelling.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// LogStatus is the log-status field of a record.
type LogStatus uint8

// Log statuses. LogStatusUnknown stands for "-" and for a format without the
// field.
const (
	LogStatusUnknown  LogStatus = iota
	LogStatusOK                 // OK: data is logging normally
	LogStatusNoData             // NODATA: no traffic in the window
	LogStatusSkipData           // SKIPDATA: records were skipped in the window
)

var logStatusNames = [...]string{"-", "OK", "NODATA", "SKIPDATA"}

// String returns the AWS spelling ("OK", "NODATA", "SKIPDATA", "-").
func (s LogStatus) String() string {
	if int(s) < len(logStatusNames) {
		return logStatusNames[s]
	}
	return "-"
}

// MarshalText returns the AWS spelling.
func (s LogStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// FlowDirection is the flow-direction field of a record, relative to the
// interface.
type FlowDirection uint8

// Flow directions. DirectionUnknown stands for "-" and for a format without
// the field.
const (
	DirectionUnknown FlowDirection = iota
	DirectionIngress               // ingress: toward the interface
	DirectionEgress                // egress: away from the interface
)

var directionNames = [...]string{"-", "ingress", "egress"}

// String returns the AWS spelling ("ingress", "egress", "-").
func (d FlowDirection) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "-"
}

// MarshalText returns the AWS spelling.
func (d FlowDirection) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Record is one flow-log record. Strings are "" and numbers are -1 when the
// value is "-" or the format lacks the field; addresses are then the invalid
// netip.Addr. Has tells the two apart.
type Record struct {
	Version     int
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     int32
	DstPort     int32
	Protocol    int16
	Packets     int64
	Bytes       int64
	Start       int64 // Unix seconds of the first packet in the window
	End         int64 // Unix seconds of the last packet in the window
	Action      Action
	LogStatus   LogStatus

	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   int16 // OR of FIN=1, SYN=2, RST=4, SYN-ACK=18 over the window
	Type       string
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    FlowDirection
	TrafficPath      int8 // egress path 1..8, see the AWS docs

	ECSClusterARN           string
	ECSClusterName          string
	ECSContainerInstanceARN string
	ECSContainerInstanceID  string
	ECSContainerID          string
	ECSSecondContainerID    string
	ECSServiceName          string
	ECSTaskDefinitionARN    string
	ECSTaskARN              string
	ECSTaskID               string

	RejectReason string

	fields uint64 // Format.mask of the format the record was parsed with
}

// Has reports whether the record's format carried field f (its value may
// still have been "-").
func (r *Record) Has(f Field) bool { return r.fields&(1<<f) != 0 }

// Src returns the packet's original source: pkt-srcaddr when known, else
// srcaddr. Pod IPs and NAT'd peers appear only in pkt-srcaddr.
func (r *Record) Src() netip.Addr {
	if r.PktSrcAddr.IsValid() {
		return r.PktSrcAddr
	}
	return r.SrcAddr
}

// Dst returns the packet's final destination: pkt-dstaddr when known, else
// dstaddr.
func (r *Record) Dst() netip.Addr {
	if r.PktDstAddr.IsValid() {
		return r.PktDstAddr
	}
	return r.DstAddr
}

// SYNOnly reports whether only SYN was seen (tcp-flags 2): with one or two
// packets to many ports, the signature of a scan.
func (r *Record) SYNOnly() bool { return r.TCPFlags == 2 }

// HasTraffic reports whether the record stands for observed traffic: its log
// status is OK, or its format has no log-status field at all.
func (r *Record) HasTraffic() bool {
	return r.LogStatus == LogStatusOK || !r.Has(FieldLogStatus)
}

// Errors a Parse error wraps, for callers that count skipped records by
// reason.
var (
	ErrFieldCount = errors.New("wrong number of fields")
	ErrValue      = errors.New("bad value")
)

// FieldError reports a value that does not fit its field.
type FieldError struct {
	Field Field
	Value string // at most 64 bytes of the value
}

// Error implements error.
func (e *FieldError) Error() string {
	return "flowlog: " + e.Field.String() + ": bad value " + strconv.Quote(e.Value)
}

// Unwrap returns ErrValue.
func (e *FieldError) Unwrap() error { return ErrValue }

// CountError reports a record whose number of fields is not the format's.
type CountError struct {
	Want, Got int
}

// Error implements error.
func (e *CountError) Error() string {
	return "flowlog: want " + strconv.Itoa(e.Want) + " fields, got " + strconv.Itoa(e.Got)
}

// Unwrap returns ErrFieldCount.
func (e *CountError) Unwrap() error { return ErrFieldCount }
