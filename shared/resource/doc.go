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
//     is learned. Afterwards a minute is not learned when it is anomalous:
//     part of a run that has reached Config.PinnedMinutes, or a net-tx
//     outlier. The first PinnedMinutes-1 minutes of a run are learned (they
//     are not anomalous yet), so a recurring pin at the same hour (a nightly
//     job) alarms once and is known the next day; a miner that keeps running
//     is one unbroken run and keeps alarming.
//   - A run starts only with a pinned minute far above the most the
//     workload is known to do at that hour (Band.Top), or any pinned minute
//     while the workload is new; it then lasts while the minutes stay
//     pinned, so its own learned minutes cannot end it.
//   - Percentages are learned in half-octave buckets, so a workload that
//     normally reaches 64% or more at that hour cannot be told from one at
//     its limit: res-cpu and res-memory look for jumps from well below.
package resource
