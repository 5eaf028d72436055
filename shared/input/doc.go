// Package input reads what `tidewatch replay` is given: files and folders,
// gzip-compressed or not, each recognised by its content — CloudWatch Logs
// subscription deliveries (the Lambda event, or the decoded payload),
// S3-style VPC flow log files, Kubernetes audit events and event lists,
// Container Insights performance events — and hands their records to a
// Handler in event-time order across all files.
//
// Invariants: memory is bounded by one unit of input per open file (a
// CloudWatch Logs delivery, a chunk of flow lines, one JSON value), never
// by the size of the input; a bad record or a file of unknown content is
// reported to the Handler with its file and line and reading goes on.
package input
