// Package resource detects resource abuse by container workloads from
// Container Insights performance events: CPU or memory pinned at the limit
// (cryptominers, runaway or attacked services), a sprawl of pinned pods in a
// new workload, and outbound network volume far above the workload's normal.
//
// It owns the per-workload resource model (a baseline.Model with the metrics
// MetricCPU, MetricMem and MetricNetTx, stored apart from the network model)
// and the detectors res-cpu, res-memory, res-sprawl and res-net-tx.
//
// Invariants:
//
//   - Pure: no I/O, no logging, event time only. Evaluate is a function of
//     its samples (in any order) and the model, so a replay rebuilds the same
//     signals and the same model.
//   - One minute is one unit: samples are grouped by event-time minute; CPU
//     and memory are the per-minute maximum over the workload's pods (percent
//     of the limit when the agent reports it, else percent of the node or of
//     the ECS reservation), network is the per-minute sum over pods.
//   - Minutes at or before the model's last evaluated minute are refused by
//     baseline.Model.Advance and counted in Model.Stale; they are neither
//     judged nor learned.
//   - A pinned run is persisted in the model (the metric's CUSUM state), so
//     a run that spans batches is counted once, from its first minute, and
//     every batch that extends it emits a signal with the same First (and so
//     the same Signal.Key): the finding grows rather than repeats.
//   - While learning (less than Config.Learning of event time), every minute
//     is learned; afterwards the minutes of an alarmed run are not learned,
//     and the first minutes of a run that has not reached
//     Config.PinnedMinutes yet are learned only once the run ends short or
//     the batch ends. A recurring pin (a nightly job) therefore becomes known
//     after one occurrence; a miner that keeps running keeps alarming.
package resource
