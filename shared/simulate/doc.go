// Package simulate writes realistic, clearly synthetic scenarios as the
// three tidewatch Lambdas receive them: VPC flow log records, EKS audit
// events and Container Insights performance events of a small estate (EKS
// cluster "prod" with shop and payments Deployments, a DaemonSet and a
// nightly backup CronJob; ECS cluster "ecs-prod" with the Fargate service
// "orders"; and, seen only by Container Insights, a shop/recommender
// Deployment and a node added every night for five reports CronJobs), over
// a few benign days and one attack day.
//
// It serves `make events` (the events/ folder), `tidewatch simulate` (files
// for replay, or log events for real log groups) and tests. Every attack
// comes with an Expectation (detector, workload, event-time window), and
// every trap — benign behaviour that looks odd: the nightly backup, a
// rollout with image pulls, the midday peak, internet scanning of the
// nodes, ordinary service traffic, the nightly node packed full by the
// reports — with a Quiet one.
//
// Invariants:
//
//   - Output is a pure function of Options: a seeded math/rand/v2 source
//     and event time only, never the wall clock or map order, so the same
//     Options give the same bytes.
//   - Everything is marked synthetic: external peers are in the
//     documentation ranges 192.0.2.0/24, 198.51.100.0/24 and
//     203.0.113.0/24; audit events carry the annotation
//     tidewatch.dev/synthetic=true and a user agent ending in
//     "tidewatch-synthetic"; performance events carry
//     "tidewatch_synthetic":"true"; flow records, which cannot carry a tag,
//     go to the log group /tidewatch/synthetic/vpc-flow-logs.
//   - Events are emitted in event-time order; events of one log stream keep
//     the order they were made in.
//   - A pod's IP in flow records (pkt-srcaddr/pkt-dstaddr) is the one its
//     pods/status patch reported, and flow records of a pod start only
//     after that patch; IPs are never reused.
package simulate
