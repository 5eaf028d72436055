package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// Key addresses one item in the state store: a partition and a sort key.
// Partition keys start with the item kind ("baseline#", "ident#", ...); the
// layout is documented in package store.
type Key struct {
	PK string
	SK string
}

// Item is one stored value. Data is opaque to the store.
type Item struct {
	Key
	Data []byte
	// Expires, when not zero, lets the store drop the item after that
	// time (DynamoDB TTL). Readers must treat an expired item as absent.
	Expires time.Time
}

// ErrUnchanged may be returned by an UpdateFunc to leave an item as it is
// without writing.
var ErrUnchanged = errors.New("unchanged")

// UpdateFunc computes the new value of an item from its current value
// (nil when absent). It may be called more than once when a concurrent
// writer wins the race, so it must be a pure function of old.
type UpdateFunc func(key Key, old []byte) (data []byte, expires time.Time, err error)

// Store is the state the pipeline keeps between invocations: baselines,
// identities, signals, finding state, suppressions and idempotency markers.
// Implementations: store.Memory (replay, tests) and store.Dynamo (Lambda).
type Store interface {
	// GetMany returns the live items among keys; missing or expired keys
	// are absent from the result. Implementations batch their reads.
	GetMany(ctx context.Context, keys []Key) (map[Key]Item, error)
	// UpdateMany applies fn to each key's current value and writes the
	// result with optimistic concurrency, re-reading and re-applying fn on a
	// conflicting write (bounded retries with jitter). Updates of different
	// keys are independent; an error names the key that failed.
	UpdateMany(ctx context.Context, keys []Key, fn UpdateFunc) error
	// PutMany writes items unconditionally (last writer wins).
	PutMany(ctx context.Context, items []Item) error
	// Query returns every live item of one partition, sorted by SK, whose
	// SK starts with prefix ("" for all).
	Query(ctx context.Context, pk, prefix string) ([]Item, error)
	// PutIfAbsent writes item only if no live item has its key, and
	// reports whether it did. It is the idempotency primitive.
	PutIfAbsent(ctx context.Context, item Item) (bool, error)
	// Delete removes an item; deleting a missing item is not an error.
	Delete(ctx context.Context, key Key) error
}

// Publisher receives every new or changed finding (Security Hub, or the
// replay output). Publish must be all-or-error: on error the caller retries
// the whole call, so publishing the same finding twice must be harmless.
type Publisher interface {
	Publish(ctx context.Context, findings []finding.Finding) error
}

// Notifier tells people about findings that are new or whose severity
// rose (SNS). The pipeline calls it at most once per finding and severity.
type Notifier interface {
	Notify(ctx context.Context, findings []finding.Finding) error
}

// PartialError is returned by a Publisher or Notifier that delivered some
// findings but not others; Failed lists the finding ids not delivered, so
// the caller retries only those.
type PartialError struct {
	Failed []string
	Err    error
}

func (e *PartialError) Error() string {
	return e.Err.Error()
}

func (e *PartialError) Unwrap() error { return e.Err }
