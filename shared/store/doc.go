// Package store keeps the pipeline's state: it implements pipeline.Store
// twice, in memory (Memory, for `tidewatch replay` and tests) and on one
// DynamoDB table (Dynamo, for the Lambdas).
//
// # Table layout
//
// One table, created by CreateTable (on-demand billing, TTL on `ttl`):
//
//	pk  S  partition key: the item kind and its subject, e.g. "win#eks/prod/web/Deployment/api"
//	sk  S  sort key: "state" for single items, a sub-key for collections
//	d   B  the value, opaque to the store (the pipeline's encoding)
//	v   N  version, for optimistic concurrency: UpdateMany writes v+1 on
//	       condition v = (the v it read); PutMany and PutIfAbsent write a
//	       random v so that a concurrent read-modify-write cannot mistake
//	       their write for the value it read
//	w   S  the random ids of the item's last 8 writes, newest first, so a
//	       writer whose reply was lost can tell that its write did land
//	ttl N  epoch seconds, present when Item.Expires is set (rounded up to
//	       the next second); DynamoDB TTL deletes the item some time later
//
// The item kinds the pipeline keeps (see package pipeline for the exact
// keys; the store treats pk and sk as opaque strings):
//
//	ip#<ip> / state                 pod IP → pod (cluster, namespace, name, since)
//	pod#<cluster>/<ns>/<pod> / state pod → owning workload
//	win#<workload> / state          the workload's open windows and network baseline, in one item
//	res#<workload> / state          the workload's CPU, memory and network baseline
//	node#<cluster>/<node> / state   an EKS node's CPU and memory baseline and saturation runs
//	rules#<cluster> / state         per-cluster audit rule state (registries, deployers)
//	sig#<workload> / <evidence>     entry signals (exec, unexpected pods, knocks), for correlation
//	finding#<id> / state            a finding's last state and the evidence folded into it
//	notified#<id> / <severity>      a notification was sent for that severity
//	suppress / <id>                 run-time suppressions (tidewatch config suppress)
//	batch#<id> / state              a delivery already processed (redelivery marker, with TTL)
//
// # Invariants
//
// An item whose Expires has passed is absent for every reader, whether or
// not DynamoDB has deleted it yet (TTL deletion is lazy, often days late).
// Every read is strongly consistent. UpdateMany never loses an update: a
// conditional write that fails because another writer won re-reads the key
// and re-applies fn, a bounded number of times, then fails with ErrConflict.
// A write whose reply is lost (the SDK then retries it, or the store
// re-reads) is recognised by its write id and not applied twice, even when
// up to 7 other writes followed it; a blind write (PutMany) starts the
// history afresh.
package store
