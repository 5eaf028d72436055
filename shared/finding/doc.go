// Package finding turns signals into AWS Security Finding Format (ASFF)
// documents.
//
// Invariants: a finding's Id is a pure function of (detector, workload,
// event-time hour), so a repeat of the same detection updates one finding
// instead of adding another; FirstObservedAt and LastObservedAt are event
// time; every finding carries the product fields tidewatch/detector,
// tidewatch/technique and tidewatch/workload; every string respects the
// ASFF length limits.
package finding
