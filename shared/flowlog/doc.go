// Package flowlog parses VPC Flow Logs records of versions 2 to 8 in any
// field order: a CloudWatch Logs message (one record, format configured on
// the flow log) or an S3 file (header line, then records).
//
// It owns the record format only: where records come from (cwlogs, S3) and
// what they mean (workloads, baselines) belong to other packages.
//
// Invariants:
//
//   - A Format lists known fields only; an unknown name is an error naming
//     it. resource-id and encryption-status are accepted but not decoded.
//   - Parse overwrites the whole Record: a value "-" or a field missing from
//     the format leaves strings "", numbers -1 and addresses invalid, and
//     Record.Has tells which fields the format carried.
//   - In steady state Parse allocates nothing: strings are interned in a
//     bounded table, numbers and addresses are parsed from the bytes.
//   - A bad record is an error naming the field and value (or the field
//     count); it never panics and never stops a Scanner, which reports it
//     with its line number and goes on.
package flowlog
