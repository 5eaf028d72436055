// Package sns tells people about findings through one SNS topic that
// serves every kind of subscriber at once: each finding is one Publish with
// MessageStructure "json", whose keys are the AWS Chatbot (Amazon Q
// Developer in chat applications) custom notification for "default" and
// "https", a plain-text report for "email", and the finding's ASFF JSON for
// "lambda" and "sqs".
//
// Invariants: the Subject is at most 100 printable ASCII characters on one
// line; the whole message is at most 256 KB, the description and evidence
// being cut first; the chat message threads by finding Id; no message
// attributes are sent (SNS drops them with JSON message structure). A
// finding that cannot be published after bounded retries is named in a
// pipeline.PartialError.
package sns
