// Package config is the one configuration of every tidewatch entry point:
// a YAML or JSON file (Load, Parse) for the replay command, and the same
// settings through environment variables for the Lambda functions
// (FromEnv). testdata/example.yaml shows every setting.
//
// It owns reading, validating and matching settings; the detectors and
// the pipeline read a Config and never the file.
//
// # Settings
//
// Keys are camelCase; each is optional and defaults as listed.
//
//	learningPeriod       duration, default 24h. Go durations ("36h", "90m")
//	                     or whole days ("14d", "1d12h"). Event time a
//	                     workload's baseline learns before it can alert.
//	sensitivity          map detector id -> sensitivity, default 1 for
//	                     every detector. A detector divides its threshold
//	                     by it: 2 fires on half the deviation, 0.5 needs
//	                     twice as much. 0 < s <= 100. Ids: Detectors.
//	trustedDeployers     list of Kubernetes users / service accounts whose
//	                     deployments are expected; "prefix*" for a prefix.
//	                     Default empty.
//	registries.allow     list of registry hosts or host/path prefixes images
//	                     may come from ("ghcr.io/acme", "*.example.com").
//	                     Default empty, which allows every registry.
//	destinations.allow   list of CIDRs (IPv4 or IPv6; a bare address is
//	                     one host) traffic may reach without a
//	                     new-destination or beacon finding. Default empty.
//	ignore               list of suppression rules (Rule): detectors (ids
//	                     or "*"), namespaces, workloads, users, images
//	                     (globs), destinations (CIDRs), reason. A finding is
//	                     suppressed when every condition a rule sets
//	                     matches. Default none.
//	maintenanceWindows   list of windows (Window) during which the named
//	                     workloads' findings are suppressed: one-off
//	                     start/end (RFC 3339) or recurring days
//	                     ([sat, sun]; empty is daily), from/to ("HH:MM";
//	                     to before from crosses midnight; to may be "24:00")
//	                     and timezone (IANA, default UTC); plus detectors,
//	                     workloads, namespaces, reason. Default none.
//	flowFormat           VPC flow log format, "${field}" tokens separated
//	                     by spaces. Default empty: the AWS default format,
//	                     or a file's own header line.
//	defaultCluster       cluster of audit events that arrive without a log
//	                     group to name it. Default empty.
//	region, account      AWS region and 12-digit account id of findings
//	                     whose evidence does not say. Default empty
//	                     (FromEnv falls back to AWS_REGION for region).
//	notify.minSeverity   lowest severity sent to SNS: INFORMATIONAL, LOW,
//	                     MEDIUM, HIGH or CRITICAL. Default MEDIUM.
//
// Globs use path.Match: "*" does not cross "/". Workload patterns match the
// canonical workload id ("eks/prod/shop/Deployment/cart"), or its last
// element when the pattern has no "/" ("cart-*"). In Config.Suppressed, a
// condition the caller has no value for (an empty image, an invalid
// address) does not match, so a rule never suppresses more than it names.
//
// # Environment
//
// FromEnv starts from Default, applies TIDEWATCH_CONFIG (inline YAML/JSON,
// or a file path), then each variable below, which overrides the setting
// it names: TIDEWATCH_LEARNING_PERIOD, TIDEWATCH_SENSITIVITY
// ("net-flood=1.5,res-cpu=0.8", per detector), TIDEWATCH_TRUSTED_DEPLOYERS,
// TIDEWATCH_REGISTRIES, TIDEWATCH_DESTINATIONS (comma-separated lists that
// replace the file's), TIDEWATCH_FLOW_FORMAT, TIDEWATCH_DEFAULT_CLUSTER,
// TIDEWATCH_REGION (then AWS_REGION), TIDEWATCH_ACCOUNT,
// TIDEWATCH_NOTIFY_MIN_SEVERITY. Ignore rules and maintenance windows come
// only from TIDEWATCH_CONFIG, and at run time from the store through
// Config.Merge, which appends them.
//
// # Invariants
//
//   - A Config from Parse, Load or FromEnv is valid: every problem is
//     reported at once in a *ValidationError, one "file:line:col: key:
//     message" per line, and unknown keys are problems (with the closest
//     known key), never silently ignored.
//   - MarshalJSON writes the file format, and Parse of its output gives the
//     same Config; Rule and Window round-trip the same way on their own, for
//     suppressions stored in DynamoDB.
//   - Matching (Suppressed, RegistryAllowed, DestinationAllowed,
//     TrustedDeployer, Sensitivity) is pure: no I/O, no clock; the caller
//     passes the event time.
package config
