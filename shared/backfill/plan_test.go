package backfill

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// at is 2026-11-20 plus hh:mm, UTC.
func at(hh, mm int) time.Time { return time.Date(2026, 11, 20, hh, mm, 0, 0, time.UTC) }

func TestSlices(t *testing.T) {
	tests := []struct {
		name string
		r    Range
		d    time.Duration
		want []Range
	}{
		{"on the grid", Range{at(0, 0), at(3, 0)}, time.Hour,
			[]Range{{at(0, 0), at(1, 0)}, {at(1, 0), at(2, 0)}, {at(2, 0), at(3, 0)}}},
		{"ragged ends", Range{at(0, 37), at(2, 10)}, time.Hour,
			[]Range{{at(0, 37), at(1, 0)}, {at(1, 0), at(2, 0)}, {at(2, 0), at(2, 10)}}},
		{"inside one cell", Range{at(5, 10), at(5, 20)}, time.Hour,
			[]Range{{at(5, 10), at(5, 20)}}},
		{"grid of 6 hours", Range{at(1, 0), at(13, 0)}, 6 * time.Hour,
			[]Range{{at(1, 0), at(6, 0)}, {at(6, 0), at(12, 0)}, {at(12, 0), at(13, 0)}}},
		{"empty", Range{at(3, 0), at(3, 0)}, time.Hour, nil},
		{"reversed", Range{at(4, 0), at(3, 0)}, time.Hour, nil},
		{"no length", Range{at(0, 0), at(3, 0)}, 0, nil},
		{"before 1970", Range{time.Date(1969, 12, 31, 22, 30, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC)}, time.Hour,
			[]Range{{time.Date(1969, 12, 31, 22, 30, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)},
				{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Slices(tc.r, tc.d)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Slices(%s, %s) (-want +got):\n%s", tc.r, tc.d, diff)
			}
			// The slices tile the range exactly.
			if len(got) > 0 && (!got[0].Start.Equal(tc.r.Start) || !got[len(got)-1].End.Equal(tc.r.End)) {
				t.Errorf("slices %v do not span %s", got, tc.r)
			}
			for i := 1; i < len(got); i++ {
				if !got[i].Start.Equal(got[i-1].End) {
					t.Errorf("gap or overlap between %s and %s", got[i-1], got[i])
				}
			}
		})
	}
}

func TestNewRangeTruncatesToMilliseconds(t *testing.T) {
	r := NewRange(at(0, 0).Add(1500*time.Microsecond), at(1, 0).Add(999*time.Microsecond))
	if r.Start.Nanosecond() != 1_000_000 || r.End.Nanosecond() != 0 {
		t.Errorf("NewRange kept sub-millisecond time: %v %v", r.Start, r.End)
	}
}

func TestPlanGroup(t *testing.T) {
	cp := &Checkpoint{LogGroup: "g", From: at(2, 0), To: at(5, 0)}
	tests := []struct {
		name                  string
		want                  Range
		cp                    *Checkpoint
		read, covered, before Range
		slices                int
		says                  string
	}{
		{name: "first run", want: Range{at(0, 30), at(3, 0)},
			read: Range{at(0, 30), at(3, 0)}, slices: 3, says: "g: reading 2026-11-20T00:30:00Z → 2026-11-20T03:00:00Z in 3 slices"},
		{name: "same range again", want: Range{at(2, 0), at(5, 0)}, cp: cp,
			covered: Range{at(2, 0), at(5, 0)}, says: "already covered by an earlier run; nothing to read"},
		{name: "inside what is covered", want: Range{at(3, 0), at(4, 0)}, cp: cp,
			covered: Range{at(3, 0), at(4, 0)}, says: "nothing to read"},
		{name: "later end continues", want: Range{at(2, 0), at(7, 0)}, cp: cp,
			read: Range{at(5, 0), at(7, 0)}, covered: Range{at(2, 0), at(5, 0)}, slices: 2, says: "(2026-11-20T02:00:00Z → 2026-11-20T05:00:00Z already covered)"},
		{name: "interrupted run resumes", want: Range{at(2, 0), at(9, 0)}, cp: cp,
			read: Range{at(5, 0), at(9, 0)}, covered: Range{at(2, 0), at(5, 0)}, slices: 4},
		{name: "older start is not read", want: Range{at(0, 0), at(6, 0)}, cp: cp,
			read: Range{at(5, 0), at(6, 0)}, covered: Range{at(2, 0), at(5, 0)}, before: Range{at(0, 0), at(2, 0)}, slices: 1,
			says: "skipping 2026-11-20T00:00:00Z → 2026-11-20T02:00:00Z: it is older than what earlier runs learned"},
		{name: "all older", want: Range{at(0, 0), at(1, 0)}, cp: cp,
			before: Range{at(0, 0), at(1, 0)}, says: "nothing to read; skipping"},
		{name: "after a gap", want: Range{at(7, 0), at(8, 0)}, cp: cp,
			read: Range{at(7, 0), at(8, 0)}, slices: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanGroup("g", tc.want, tc.cp, time.Hour)
			got := struct{ Read, Covered, Before Range }{p.Read, p.Covered, p.Before}
			want := struct{ Read, Covered, Before Range }{tc.read, tc.covered, tc.before}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if len(p.Slices) != tc.slices {
				t.Errorf("%d slices, want %d", len(p.Slices), tc.slices)
			}
			if d := p.Describe(); !strings.Contains(d, tc.says) {
				t.Errorf("Describe() = %q, want it to contain %q", d, tc.says)
			}
		})
	}
}
