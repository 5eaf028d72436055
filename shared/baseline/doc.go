// Package baseline owns the learned normal of one workload: a Model with
// one seasonal, robust sub-model per metric, plus the sets and trackers the
// network detectors need across windows (known external destinations, known
// listening ports, recent port knockers, beacon candidates).
//
// Invariants:
//
//   - Event time only; a Model is a pure function of the windows given to
//     it, in the order given, so a replay rebuilds the same Model.
//   - Seasonal: each metric keeps a histogram per hour of day for weekdays,
//     per hour of day for weekends, and an overall one (hours in UTC). A
//     slot with fewer than MinSlotSamples falls back to the other day type's
//     same hour, then to the overall histogram.
//   - Robust: bands come from quantiles of histograms in half-octave log
//     buckets, so one learned spike moves a quantile by at most one sample;
//     the caller (package detect) does not learn windows it judged anomalous.
//     Histograms halve their counts when a slot reaches SlotCap samples,
//     so old behaviour fades.
//   - Gaps are zeros: for Count metrics the minutes between two evaluated
//     windows are learned as zero (at most MaxGap of them), so a workload
//     that is silent at night has a night-time normal of zero.
//   - Bounded: every set and tracker has a cap with a documented eviction;
//     a Model encodes to a few KB and never grows past its caps.
//   - The encoding starts with a version byte; Unmarshal rejects unknown
//     versions and never panics.
package baseline
