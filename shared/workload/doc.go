// Package workload names the thing a baseline belongs to: a Deployment, a
// DaemonSet, an ECS service — something that outlives its pods and tasks.
//
// Canonical ids are
//
//	eks/<cluster>/<namespace>/<Kind>/<name>   Kind: Deployment, DaemonSet, StatefulSet, CronJob, Job, ReplicaSet, Pod
//	ecs/<cluster>/service/<name>
//	ecs/<cluster>/task/<family>
//	vpc/<eni>/<ip>                            only when nothing better is known
//
// Invariants: ids are pure functions of their parts; a pod of a Deployment
// resolves to the Deployment whatever its ReplicaSet hash or pod suffix, and
// a Job started by a CronJob resolves to the CronJob, so restarts and
// rollouts never create a new workload.
package workload
