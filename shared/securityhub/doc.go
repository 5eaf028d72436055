// Package securityhub publishes tidewatch findings to AWS Security Hub
// (CSPM) with BatchImportFindings, as the account's default custom
// integration (ProductArn).
//
// Invariants: every finding sent respects the ASFF limits (lengths, counts,
// 240 KB per finding), trimmed in its free text and never in its required
// fields; each request holds at most 100 findings and 6 MB; a finding that
// Security Hub refuses is retried a bounded number of times and then named
// in a pipeline.PartialError; re-sending a finding Id from one process always
// carries a later UpdatedAt than the previous send, because Security Hub
// ignores an import whose UpdatedAt is not later than the one it holds.
//
// Clock is the per-process monotonic clock for UpdatedAt: the entry point
// makes one and passes its Now to the pipeline (which stamps UpdatedAt)
// and to New (which guards every send with it).
package securityhub
