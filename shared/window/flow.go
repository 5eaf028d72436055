package window

import (
	"net/netip"
	"time"
)

// Direction says which end of a flow the workload is.
type Direction uint8

// Directions. The zero value is invalid so that a forgotten field is caught.
const (
	// Out: the workload is the source.
	Out Direction = 1
	// In: the workload is the destination.
	In Direction = 2
)

// String returns "out", "in" or "invalid".
func (d Direction) String() string {
	switch d {
	case Out:
		return "out"
	case In:
		return "in"
	default:
		return "invalid"
	}
}

// Protocol numbers (IANA) the aggregates distinguish.
const (
	ProtocolTCP = 6
	ProtocolUDP = 17
)

// Flow is one flow record from the workload's point of view.
type Flow struct {
	// Workload is the canonical workload id (package workload).
	Workload string
	// Time is the record's start, in event time.
	Time time.Time
	// Direction says whether the workload sent (Out) or received (In).
	Direction Direction
	// Peer is the other end's address.
	Peer netip.Addr
	// PeerPort is the other end's port; LocalPort the workload's.
	PeerPort, LocalPort int
	// Protocol is the IANA protocol number.
	Protocol int
	// Bytes and Packets of the record.
	Bytes, Packets int64
	// Accepted is false for REJECT records.
	Accepted bool
	// SYNOnly is true when tcp-flags was exactly 2 (SYN); false when the
	// flags were anything else, unknown or not logged.
	SYNOnly bool
	// PeerExternal is true when the peer is public or outside the VPC
	// ranges; the caller decides.
	PeerExternal bool
}

// served reports whether an inbound flow looks like a session to a port the
// workload listens on rather than the reply half of a connection it opened:
// servers listen on the lower port, clients dial from an ephemeral one.
func (f *Flow) served() bool {
	return f.LocalPort > 0 && (f.PeerPort <= 0 || f.LocalPort < f.PeerPort)
}

// knock reports whether an inbound flow is a refused connection attempt:
// rejected, SYN only, one or two packets.
func (f *Flow) knock() bool {
	return !f.Accepted && f.SYNOnly && f.Packets <= 2 && f.LocalPort > 0
}

func minuteOf(t time.Time) int64 {
	s := t.Unix()
	m := s / 60
	if s%60 < 0 {
		m--
	}
	return m
}

func port16(p int) uint16 {
	if p < 0 || p > 65535 {
		return 0
	}
	return uint16(p)
}
