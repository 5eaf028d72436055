package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// checkpointVersion is written in every checkpoint; a reader refuses any
// other, so a future layout is never misread as covering history.
const checkpointVersion = 1

// Checkpoint records what backfill runs covered of one log group: the
// contiguous event-time range [From, To) whose events have been fed to the
// pipeline and flushed to the store.
type Checkpoint struct {
	// LogGroup names the group.
	LogGroup string
	// From and To bound the covered range.
	From, To time.Time
	// Events and Bytes count what was read in the covered range.
	Events, Bytes int64
	// Updated is when the checkpoint was last written (wall clock).
	Updated time.Time
}

// Covered returns [From, To).
func (c *Checkpoint) Covered() Range { return Range{Start: c.From, End: c.To} }

// CheckpointKey is the store item that holds the checkpoint of a log
// group: its own partition, with the SK every single state item uses.
func CheckpointKey(group string) pipeline.Key {
	return pipeline.Key{PK: "backfill#" + group, SK: "state"}
}

// checkpointJSON is the stored form: epoch milliseconds, as CloudWatch
// Logs counts them, so a boundary survives encoding exactly.
type checkpointJSON struct {
	Version  int    `json:"v"`
	LogGroup string `json:"logGroup"`
	From     int64  `json:"from"`
	To       int64  `json:"to"`
	Events   int64  `json:"events"`
	Bytes    int64  `json:"bytes"`
	Updated  int64  `json:"updated"`
}

// Encode returns the stored form of c.
func (c *Checkpoint) Encode() ([]byte, error) {
	if c.LogGroup == "" {
		return nil, errors.New("backfill: checkpoint without a log group")
	}
	if c.To.Before(c.From) {
		return nil, fmt.Errorf("backfill: checkpoint of %s ends before it starts", c.LogGroup)
	}
	return json.Marshal(checkpointJSON{
		Version: checkpointVersion, LogGroup: c.LogGroup,
		From: c.From.UnixMilli(), To: c.To.UnixMilli(),
		Events: c.Events, Bytes: c.Bytes, Updated: c.Updated.UnixMilli(),
	})
}

// DecodeCheckpoint reads a checkpoint written by Encode.
func DecodeCheckpoint(data []byte) (Checkpoint, error) {
	var j checkpointJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Checkpoint{}, fmt.Errorf("backfill: decode checkpoint: %w", err)
	}
	if j.Version != checkpointVersion {
		return Checkpoint{}, fmt.Errorf("backfill: checkpoint version %d, want %d", j.Version, checkpointVersion)
	}
	if j.LogGroup == "" || j.To < j.From || j.Events < 0 || j.Bytes < 0 {
		return Checkpoint{}, fmt.Errorf("backfill: checkpoint of %q is inconsistent (from %d to %d, %d events, %d bytes)",
			j.LogGroup, j.From, j.To, j.Events, j.Bytes)
	}
	return Checkpoint{
		LogGroup: j.LogGroup,
		From:     time.UnixMilli(j.From).UTC(), To: time.UnixMilli(j.To).UTC(),
		Events: j.Events, Bytes: j.Bytes, Updated: time.UnixMilli(j.Updated).UTC(),
	}, nil
}

// LoadCheckpoints reads the checkpoints of groups; a group no run has
// covered is absent from the result.
func LoadCheckpoints(ctx context.Context, st pipeline.Store, groups []string) (map[string]*Checkpoint, error) {
	keys := make([]pipeline.Key, len(groups))
	for i, g := range groups {
		keys[i] = CheckpointKey(g)
	}
	items, err := st.GetMany(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("backfill: read checkpoints: %w", err)
	}
	out := make(map[string]*Checkpoint, len(items))
	for i, g := range groups {
		it, ok := items[keys[i]]
		if !ok {
			continue
		}
		cp, err := DecodeCheckpoint(it.Data)
		if err != nil {
			return nil, fmt.Errorf("log group %s: %w", g, err)
		}
		if cp.LogGroup != g {
			return nil, fmt.Errorf("backfill: checkpoint item of %s names %s", g, cp.LogGroup)
		}
		out[g] = &cp
	}
	return out, nil
}

// advance returns the checkpoint after slice s of its group has been
// flushed: s extends the covered range when it starts where the range
// ends, and starts a new one otherwise (the run skipped a gap).
func advance(cp *Checkpoint, group string, s Range, events, bytes int64, now time.Time) Checkpoint {
	next := Checkpoint{LogGroup: group, From: s.Start, To: s.End, Events: events, Bytes: bytes, Updated: now}
	if cp != nil && cp.To.Equal(s.Start) {
		next.From = cp.From
		next.Events += cp.Events
		next.Bytes += cp.Bytes
	}
	return next
}
