// Package storetest is the contract every pipeline.Store must meet, as a
// test suite that each implementation runs against itself: store.Memory
// in-process, store.Dynamo against DynamoDB Local.
//
// It checks reads and blind writes, Query order and prefixes (and
// pagination past DynamoDB's 1 MB pages), expiry as every reader sees it,
// PutIfAbsent (an expired item counts as absent), UpdateMany with
// ErrUnchanged, with a failing fn and across batch sizes, and that 8
// goroutines incrementing one counter lose no increment.
package storetest
