package baseline

import (
	"math"
)

// Histogram layout: bucket 0 holds values below 1 (zero), bucket b >= 1
// holds [2^((b-1)/2), 2^(b/2)), half an octave wide, so quantiles are
// within a factor of 1.41 before interpolation.
const (
	nBuckets = 100
	// SlotCap is the sample count at which a slot halves its counts.
	SlotCap = 2048
	// MinSlotSamples is the sample count a slot needs before it is used
	// rather than its fallback.
	MinSlotSamples = 30
)

type hist struct {
	n     [nBuckets]uint16
	total uint32
}

func bucketOf(x float64) int {
	if !(x >= 1) {
		return 0
	}
	b := 1 + int(math.Floor(2*math.Log2(x)))
	if b >= nBuckets {
		b = nBuckets - 1
	}
	return b
}

// add counts one sample in bucket b.
func (h *hist) add(b int) {
	h.n[b]++
	h.total++
	if h.total >= SlotCap {
		h.halve()
	}
}

func (h *hist) halve() {
	h.total = 0
	for i := range h.n {
		h.n[i] /= 2
		h.total += uint32(h.n[i])
	}
}

// quantile returns the value at quantile q in [0,1], interpolating
// log-linearly inside the bucket.
func (h *hist) quantile(q float64) float64 {
	if h.total == 0 {
		return 0
	}
	target := q * float64(h.total)
	cum := 0.0
	for b, c := range h.n {
		if c == 0 {
			continue
		}
		next := cum + float64(c)
		if next >= target {
			if b == 0 {
				return 0
			}
			frac := (target - cum) / float64(c)
			return math.Exp2((float64(b-1) + frac) / 2)
		}
		cum = next
	}
	return math.Exp2(float64(nBuckets-1) / 2)
}
