// Package window turns flow records into per-workload, one-minute
// event-time aggregates that can be built in pieces and merged.
//
// It owns three things:
//
//   - Flow, one flow record seen from a workload's side;
//   - Aggregator, which folds the flows of one batch into Partials, one per
//     workload per minute;
//   - Open, the per-workload set of minutes not yet closed, which merges
//     Partials from any number of batches (several ENIs, pods and log
//     streams, late and out of order) and closes them into Windows once the
//     event-time watermark has passed them by the lateness allowance.
//
// Invariants:
//
//   - Event time only: nothing reads the wall clock, so a replay gives the
//     same windows as the live run.
//   - Merge is commutative and associative for counts and exact sets, so the
//     order in which batches arrive does not change a window's counts.
//     Bounded parts (distinct-count sketches, top targets, per-source and
//     per-destination evidence) keep the same bounds after any merge; what
//     they drop is documented on each type.
//   - Every Partial, Open and Window is bounded in size whatever the input:
//     a Partial encodes to at most a few KB.
//   - A record that arrives after its minute was closed is never silently
//     lost: it is dropped and counted (Open.Late, Window.Late).
//   - Encodings are versioned; Unmarshal rejects what it does not know and
//     never panics on hostile input.
package window
