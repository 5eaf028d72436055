// Package insights parses Container Insights performance log events: the
// JSON documents the CloudWatch agent writes, one per log event, to
// /aws/containerinsights/<cluster>/performance (EKS) and
// /aws/ecs/containerinsights/<cluster>/performance (ECS).
//
// It owns one message at a time. The subscription envelope is package
// cwlogs's; turning an Event into a workload id is package workload's.
//
// Two layouts are accepted: the legacy one Container Insights uses
// (top-level "CloudWatchMetrics", "Version":"0", "Timestamp" as a string of
// epoch milliseconds on EKS and a number on ECS) and the embedded metric
// format v1 ("_aws":{"Timestamp":..., "CloudWatchMetrics":[...]}).
//
// Supported types are EKS Pod, Container and Node and ECS Task, Container and
// Service. Every other type (NodeFS, NodeNet, PodNet, ContainerFS, Cluster*,
// ControlPlane, GPU, EFA, Neuron, ...) is well-formed but not used; Parse
// reports it with an error wrapping ErrIgnoredType so callers count it apart
// from bad records.
//
// Metrics: every top-level numeric field lands in Event.Metrics under its own
// name (e.g. "pod_cpu_utilization", "CpuUtilized"). A metric may arrive as a
// JSON number or as a string holding one; both are accepted. Typed accessors
// (CPUUtilization, NetworkTxBytes, ...) pick the right field for the event's
// platform and type, so detectors do not need to know the names.
//
// Invariants:
//
//   - Parse never panics and never retains msg: the caller may reuse its
//     buffer (cwlogs hands out sub-slices of a reused arena).
//   - Every error wraps exactly one of ErrNotJSON, ErrNotPerformance,
//     ErrIgnoredType or ErrInvalid, and a *FieldError (errors.As) names the
//     field and what was wrong with it when one field is at fault.
//   - An Event that Parse returns without error has a Platform, a non-zero
//     Time and a Cluster, plus the identity its type needs: namespace and pod
//     (EKS Pod, Container; container name too for Container), node (EKS
//     Node), task family (ECS Task, Container), service name (ECS Service).
package insights
