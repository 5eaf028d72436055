// Package cwlogs decodes the CloudWatch Logs subscription envelope: the
// Lambda event {"awslogs":{"data":"<base64(gzip(JSON))>"}}, the same base64
// data on its own, the gzip bytes a Kinesis or Firehose destination carries,
// and the decoded DATA_MESSAGE or CONTROL_MESSAGE JSON.
//
// It owns the envelope only. What a log event's message means (a flow-log
// record, an audit event, an EMF document) is for the package that parses it.
//
// Invariants:
//
//   - A Decoder allocates per batch, never per log event, once its buffers
//     have grown to the batch size: messages are sub-slices of the
//     decompressed JSON (or of a reused arena when they hold escapes), and all
//     the strings of a batch share one allocation.
//   - What a Decoder returns is valid until its next decode call; the
//     package-level functions return batches that own their memory.
//   - The gzip stream is read to its end, trailer included, and its
//     decompressed size is bounded (DefaultMaxSize), so a truncated or
//     corrupted stream and a gzip bomb are errors, never a partial batch.
//   - A bad envelope is an *EnvelopeError that names the log group and stream
//     when they were already read, where in the JSON the problem is, and what
//     it is. Decoding never panics.
//   - A CONTROL_MESSAGE decodes like any batch; callers skip it with
//     (*Batch).IsControl.
package cwlogs
