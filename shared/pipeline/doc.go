// Package pipeline is the one path every entry point runs: decoded records
// in, findings out. The three Lambdas and `tidewatch replay` differ only in
// the adapters they pass (Store, Publisher, Notifier) and in how they read
// their input.
//
// Steps, per batch: learn identities (pod IP → pod → workload) from audit
// and Container Insights events; evaluate the audit rules; resolve every
// flow record to its workload and aggregate per workload and event-time
// minute; merge the partial windows into the workload's open windows in the
// store and close those past the lateness allowance; score closed windows
// against the workload's baseline and learn the normal ones; turn signals
// into findings (one per detector, workload and hour), apply suppressions,
// publish what changed and notify what is new or more severe.
//
// Invariants: event time only, never the wall clock, decides windows,
// baselines and finding ids, so a replay is deterministic; a bad record is
// counted with its reason and skipped, never failing its batch; an
// infrastructure error fails the batch so that it is retried, and a batch
// processed twice leaves the state and findings it left once.
package pipeline
