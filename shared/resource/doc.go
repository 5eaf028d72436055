// Package resource detects resource abuse by container workloads from
// Container Insights performance events: CPU or memory pinned at the limit
// (cryptominers, runaway or attacked services), a sprawl of pinned pods in a
// new workload, outbound network volume far above the workload's normal, an
// EKS node saturated by the pods of one workload, and containers
// OOM-killed again and again.
//
// It owns the per-workload resource model (a baseline.Model with the metrics
// MetricCPU, MetricMem, MetricNetTx, MetricNodeCPU, MetricNodeMem and
// MetricOOM, stored apart from the network model), the per-node model (a
// baseline.Model of the node's own CPU and memory, see NewNodeModel) and the
// detectors res-cpu, res-memory, res-sprawl, res-net-tx,
// res-node-saturation and res-oom-kill.
//
// Invariants:
//
//   - Pure: no I/O, no logging, event time only. Evaluate is a function of
//     its samples (in any order) and the model, so a replay rebuilds the same
//     signals and the same model. A Batch is a function of its samples and
//     of the models it is given, workloads first, then nodes.
//   - One minute is one unit: samples are grouped by event-time minute; CPU
//     and memory are the per-minute maximum over the workload's pods (percent
//     of the limit when the agent reports it, else percent of the node or of
//     the ECS reservation), network is the per-minute sum over pods.
//   - Minutes at or before the model's last evaluated minute are refused by
//     baseline.Model.Advance and counted in Model.Stale; they are neither
//     judged nor learned. Such a minute is usually one another batch
//     judged, as the pods of a workload report on the log stream of each
//     node they run on: the OOM kills it reports (its pods' own) still
//     count in the workload's kill loop, and what its pods normally take
//     of a node is still what its nodes are judged by.
//   - A pinned run is persisted in the model (the metric's CUSUM state), so
//     a run that spans batches is counted once, from its first minute, and
//     every batch that extends it emits a signal with the same First (and so
//     the same Signal.Key): the finding grows rather than repeats. The same
//     holds for a node's saturated run and a workload's OOM-kill loop.
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
//
// Node saturation (res-node-saturation). A node is saturated when its CPU
// or memory utilization is at least Config.NodePercent; a run of
// Config.NodeMinutes saturated minutes is judged when it started far above
// what the node is known to reach at that hour (farRatio times its Band.Top,
// so a node that always runs hot, and is learned so, never starts one), or
// at any level while the node is new to tidewatch (nodes come and go). A
// node minute in which one of its workloads is far above its normal (below)
// is not learned, so a rise that creeps up to saturation does not become
// the node's normal on the way. The run is then traced to workloads by the
// Pod events of the node's pods (their NodeName): each workload's take of
// the node (the sum over its pods there of pod_cpu_utilization or
// pod_memory_utilization, which are percent of the node) against its
// normal, which is what one of its pods usually took of a node at that
// hour (the top of its MetricNodeCPU or MetricNodeMem band, at least 1%, as
// the workload model held it when the batch reached that hour) times its
// pods on the node. A minute is only attributed when at least one of the
// node's workloads has a known normal: in a cluster tidewatch has just met
// there is nothing to measure a rise against. A culprit is
// a workload far above its normal (farRatio), at least minExcess points of
// the node above it on average, and behind at least Config.CulpritShare of
// the rise of all the node's workloads above their normal. A saturated node
// with no culprit (a daily peak spread over many workloads, a node packed
// full of ordinary work) raises nothing: that is capacity, not abuse, and
// has no workload to report on. The signal is raised on each culprit, names
// the node (ASFF AwsEc2Instance when the events carry its InstanceId), its
// utilization against its own band (the measurement and series), and each
// culprit's part of the rise; T1499, or T1496 when the culprit is new or a
// bare pod, as res-cpu does. A workload's take is learned every minute
// except, once it is trained, a minute far above its normal on a node
// saturated that minute: a culprit does not teach itself its own rise.
//
// OOM kills (res-oom-kill). The agent reports per pod the container
// restarts since its previous sample and, with enhanced observability, how
// many of the pod's containers last terminated by an OOM kill; restarts
// while that is set are OOM kills. A loop is a run of kills each within
// Config.OOMGap of the one before; it is reported when it reaches
// Config.OOMKills kills and, once the workload is trained, farRatio times
// the largest loop the workload is known to have at that hour (Band.Top of
// MetricOOM), which the loop's own first kills do not move. T1499. A
// res-memory run during which containers were OOM-killed says so.
package resource
