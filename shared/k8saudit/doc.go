// Package k8saudit decodes Kubernetes audit events (audit.k8s.io/v1 and
// v1beta1), as EKS writes them to CloudWatch Logs, and answers the questions
// tidewatch asks of them: when (Time), which command went into which pod
// (Exec, ExecCommand), which pod has which IP (PodIPs), which pod or
// controller with which pod spec was written (Workload), and where an image
// comes from (ParseImage).
//
// Parse is a hand-written scanner over the few fields tidewatch needs. It
// keeps requestObject and responseObject as raw JSON, validating them as it
// skips them, and decodes them only when a helper asks; that is most of its
// speed, since pod creates carry kilobytes of objects that most rules never
// read.
//
// Invariants:
//
//   - Parse accepts exactly what encoding/json accepts as syntax (it returns
//     no events for invalid JSON), never panics, and bounds nesting depth.
//   - Events own their memory: nothing aliases the input.
//   - An event cut short (by CloudWatch's 256 KB limit, which appends
//     "[Truncated...]", or otherwise) is a *TruncatedError carrying the
//     auditID when the surviving prefix has it; other failures wrap
//     ErrSyntax or ErrNotEvent. Callers count and skip; nothing here logs.
//   - Helpers are pure functions of the event; they report ok=false rather
//     than an error for events they do not apply to or cannot decode, and
//     never trust a refused request (status >= 300).
package k8saudit
