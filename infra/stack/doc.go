// Package stack defines the tidewatch CloudFormation stack: the three
// detector functions (flowlogs, audit, metrics), the CloudWatch Logs
// subscriptions that feed them, the DynamoDB table, the SNS topic and the
// alarms and dead-letter queue that make sure no log batch is lost silently.
//
// Invariants:
//   - every IAM statement the stack writes names its actions one by one and
//     scopes them to the stack's own resources; the only "*" resources are
//     for actions that support no narrower resource (see [wildcardOnly]) and
//     the account-root statement that every KMS key policy needs;
//   - configuration comes from CDK context, parsed by [PropsFromContext],
//     which is pure so it is tested without the jsii runtime;
//   - the stack is environment-agnostic: it synthesizes offline, without AWS
//     credentials, and resolves account, region and partition at deploy time.
package stack
