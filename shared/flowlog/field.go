package flowlog

import (
	"errors"
	"fmt"
	"strings"
)

// Field is one VPC Flow Logs field, such as FieldSrcAddr ("srcaddr").
type Field uint8

// The fields of flow log versions 2 to 8, in the order of the AWS field
// table, then the two newer fields that are accepted but not decoded.
const (
	fieldNone Field = iota

	FieldVersion     // version (v2)
	FieldAccountID   // account-id (v2); "unknown" for AWS-service ENIs
	FieldInterfaceID // interface-id (v2)
	FieldSrcAddr     // srcaddr (v2): the ENI's primary private IP side
	FieldDstAddr     // dstaddr (v2)
	FieldSrcPort     // srcport (v2)
	FieldDstPort     // dstport (v2)
	FieldProtocol    // protocol (v2): IANA number
	FieldPackets     // packets (v2)
	FieldBytes       // bytes (v2)
	FieldStart       // start (v2): Unix seconds
	FieldEnd         // end (v2): Unix seconds
	FieldAction      // action (v2)
	FieldLogStatus   // log-status (v2)

	FieldVPCID      // vpc-id (v3)
	FieldSubnetID   // subnet-id (v3)
	FieldInstanceID // instance-id (v3)
	FieldTCPFlags   // tcp-flags (v3)
	FieldType       // type (v3): IPv4, IPv6 or EFA
	FieldPktSrcAddr // pkt-srcaddr (v3): the packet's original source
	FieldPktDstAddr // pkt-dstaddr (v3)

	FieldRegion          // region (v4)
	FieldAZID            // az-id (v4)
	FieldSublocationType // sublocation-type (v4)
	FieldSublocationID   // sublocation-id (v4)

	FieldPktSrcAWSService // pkt-src-aws-service (v5)
	FieldPktDstAWSService // pkt-dst-aws-service (v5)
	FieldFlowDirection    // flow-direction (v5)
	FieldTrafficPath      // traffic-path (v5)

	FieldECSClusterARN           // ecs-cluster-arn (v7)
	FieldECSClusterName          // ecs-cluster-name (v7)
	FieldECSContainerInstanceARN // ecs-container-instance-arn (v7)
	FieldECSContainerInstanceID  // ecs-container-instance-id (v7)
	FieldECSContainerID          // ecs-container-id (v7)
	FieldECSSecondContainerID    // ecs-second-container-id (v7)
	FieldECSServiceName          // ecs-service-name (v7)
	FieldECSTaskDefinitionARN    // ecs-task-definition-arn (v7)
	FieldECSTaskARN              // ecs-task-arn (v7)
	FieldECSTaskID               // ecs-task-id (v7)

	FieldRejectReason // reject-reason (v8)

	FieldResourceID       // resource-id: newer, unverified; accepted, not decoded
	FieldEncryptionStatus // encryption-status: newer, unverified; accepted, not decoded

	numFields
)

var fieldNames = [numFields]string{
	"",
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
	"vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
	"region", "az-id", "sublocation-type", "sublocation-id",
	"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
	"ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
	"ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
	"ecs-task-arn", "ecs-task-id",
	"reject-reason",
	"resource-id", "encryption-status",
}

// String returns the AWS name of the field, such as "pkt-srcaddr".
func (f Field) String() string {
	if f == fieldNone || f >= numFields {
		return "field(" + fmt.Sprint(uint8(f)) + ")"
	}
	return fieldNames[f]
}

// lookupField returns the field named name (AWS spelling, no "${}").
func lookupField(name []byte) (Field, bool) {
	for f := FieldVersion; f < numFields; f++ {
		if string(name) == fieldNames[f] {
			return f, true
		}
	}
	return fieldNone, false
}

// ErrUnknownField is wrapped by the error for a format naming a field this
// package does not know.
var ErrUnknownField = errors.New("unknown field")

// Format is the ordered list of fields of a flow log, as configured on the
// flow log (LogFormat) or given by the header line of an S3 file. The zero
// Format stands for DefaultFormat.
type Format struct {
	fields []Field
	mask   uint64
}

// DefaultFormat is the format of a flow log created without a custom
// format: the 14 version-2 fields.
var DefaultFormat = Format{
	fields: []Field{
		FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr,
		FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes,
		FieldStart, FieldEnd, FieldAction, FieldLogStatus,
	},
	mask: 1<<(FieldLogStatus+1) - 2,
}

// RecommendedFormat is the custom format tidewatch recommends, the one its
// CDK stack creates and its sample events use: every field of versions 2
// to 5 in the order of the AWS field table, then the version 7 ECS fields.
// pkt-srcaddr and pkt-dstaddr attribute traffic to pod IPs, tcp-flags
// shows SYN-only connections, flow-direction and traffic-path tell egress
// from ingress, and the ECS fields name the task.
const RecommendedFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} " +
	"${packets} ${bytes} ${start} ${end} ${action} ${log-status} " +
	"${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} " +
	"${region} ${az-id} ${sublocation-type} ${sublocation-id} " +
	"${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path} " +
	"${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} " +
	"${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id}"

// ParseFormat parses a format written the way AWS takes it
// ("${version} ${account-id} ...") or the way an S3 file's header line
// writes it ("version account-id ..."); the two spellings may be mixed.
// Unknown and repeated fields are errors naming the field.
func ParseFormat(s string) (Format, error) {
	var f Format
	for _, tok := range strings.Fields(s) {
		name := tok
		if strings.HasPrefix(name, "${") && strings.HasSuffix(name, "}") {
			name = name[2 : len(name)-1]
		}
		x, ok := lookupField([]byte(name))
		if !ok {
			return Format{}, fmt.Errorf("flowlog: format: %w %q", ErrUnknownField, tok)
		}
		if f.mask&(1<<x) != 0 {
			return Format{}, fmt.Errorf("flowlog: format: field %q given twice", name)
		}
		f.fields = append(f.fields, x)
		f.mask |= 1 << x
	}
	if len(f.fields) == 0 {
		return Format{}, errors.New("flowlog: format: no fields")
	}
	return f, nil
}

// orDefault returns DefaultFormat for the zero Format.
func (f Format) orDefault() Format {
	if len(f.fields) == 0 {
		return DefaultFormat
	}
	return f
}

// Fields returns the fields in record order.
func (f Format) Fields() []Field {
	return append([]Field(nil), f.orDefault().fields...)
}

// Names returns the field names in record order, as an S3 file's header
// line writes them.
func (f Format) Names() []string {
	fields := f.orDefault().fields
	out := make([]string, len(fields))
	for i, x := range fields {
		out[i] = x.String()
	}
	return out
}

// Len returns the number of fields of a record.
func (f Format) Len() int { return len(f.orDefault().fields) }

// Has reports whether the format carries field x.
func (f Format) Has(x Field) bool { return f.orDefault().mask&(1<<x) != 0 }

// String returns the format in the AWS spelling, "${version} ${account-id} ...".
func (f Format) String() string {
	var b strings.Builder
	for i, x := range f.orDefault().fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${" + x.String() + "}")
	}
	return b.String()
}
