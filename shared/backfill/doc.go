// Package backfill seeds tidewatch's baselines and identities from the
// history already kept in CloudWatch Logs, so that alerting starts on the
// first day instead of after the learning period: it reads past events of
// log groups with FilterLogEvents and runs them through the pipeline in
// learn-only mode (`tidewatch backfill`).
//
// A run cuts the requested event-time range into slices on a fixed grid
// (multiples of the slice length since the Unix epoch, so that every log
// group and every run share the same boundaries). Slices are fetched
// concurrently, within the API's rate limit, but fed to the pipeline
// strictly in time order: every event of slice i, of every log group, is
// added and flushed before any event of slice i+1, and within a slice the
// events of all groups are merged by timestamp. This matters twice: the
// pipeline closes one-minute windows by event time, and the identities
// learned from audit events (pod IP → workload) must be known before the
// flows of the same minutes are attributed.
//
// Invariants:
//   - After a slice is flushed, a checkpoint per log group is written to
//     the state store (PK "backfill#<log group>", SK "state") recording the
//     contiguous event-time range covered. A later run reads only what
//     follows it: an interrupted run continues at its first unfinished
//     slice, a repeated run reads nothing, and a later end continues from
//     the previous one. History older than a group's checkpoint is never
//     added after it, since windows and baselines learn in event-time order.
//   - Once a slice has started to be fed, an interruption lets it finish
//     (flush and checkpoint) before stopping, so the state never holds half
//     a slice. Only a failure of the store between the flush and the
//     checkpoint write can make the next run read that one slice again.
//   - A bad record is counted and skipped by the pipeline, never dropping
//     its slice; the pipeline's report is returned for the caller to log.
//
// The CloudWatch Logs client is behind API, the two SDK methods used;
// the pipeline is behind Sink.
package backfill
