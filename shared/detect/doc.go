// Package detect scores closed one-minute windows of a workload against its
// baseline.Model, emits signal.Signals for network attacks (floods, slow
// floods, SYN and UDP floods, flood targets, port knocking, unusual
// listeners, beaconing, first-seen external destinations) and then teaches
// the model the windows it found normal.
//
// Invariants:
//
//   - Deterministic: Evaluate is a function of its arguments (the model is
//     updated in place); it reads no clock and does no I/O.
//   - Patient: nothing fires before the model has Config.Learning of event
//     time behind it; during learning every window is learned.
//   - A window that raised any signal is not learned into the volume
//     metrics, so an attacker cannot teach the model a flood. First-seen
//     facts (a new destination, a new internet-facing port) are remembered
//     after their alert so that each is reported once.
//   - Consecutive minutes of one detector on one key (metric, target,
//     source, destination) are merged into one signal with Count and the
//     evidence of the peak minute.
//
// How the pipeline calls it, per workload and invocation: fold the batch's
// flows with a window.Aggregator; load the workload's window.Open and
// baseline.Model (or start empty ones); Open.Merge each Partial; Open.Close
// with the watermark (the latest event time of the stream, clamped to a
// sane bound); Evaluate the closed windows; persist both states. Minutes
// with no records never become windows: the model learns them as zeros
// when the next window arrives (baseline.Model.Advance), so callers do not
// synthesize empty windows.
package detect
