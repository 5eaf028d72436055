package wire

import (
	"errors"
	"net/netip"
	"testing"
)

var errBad = errors.New("bad")

func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.Uint(300)
	e.Int(-7)
	e.Str("eks/prod/shop/Deployment/cart")
	e.F32(1.5)
	e.Bool(true)
	e.Addr(netip.MustParseAddr("10.0.0.1"))
	e.Addr(netip.MustParseAddr("2001:db8::1"))
	e.Addr(netip.Addr{})
	d := NewDecoder(e.B, errBad)
	if d.Uint() != 300 || d.Int() != -7 || d.Str() != "eks/prod/shop/Deployment/cart" || d.F32() != 1.5 || !d.Bool() ||
		d.Addr() != netip.MustParseAddr("10.0.0.1") || d.Addr() != netip.MustParseAddr("2001:db8::1") || d.Addr().IsValid() {
		t.Fatal("round trip differs")
	}
	if d.Err() != nil || d.Len() != 0 {
		t.Errorf("err %v, %d bytes left", d.Err(), d.Len())
	}
}

func TestMalformedIsSticky(t *testing.T) {
	for name, in := range map[string][]byte{
		"truncated varint": {0x80},
		"count past end":   {5, 'a'},
		"bad bool":         {2},
		"bad addr length":  {7},
	} {
		d := NewDecoder(in, errBad)
		switch name {
		case "truncated varint":
			d.Uint()
		case "count past end":
			d.Str()
		case "bad bool":
			d.Bool()
		case "bad addr length":
			d.Addr()
		}
		if !errors.Is(d.Err(), errBad) || d.Uint() != 0 || d.Len() != 0 {
			t.Errorf("%s: err %v, not sticky", name, d.Err())
		}
	}
}
