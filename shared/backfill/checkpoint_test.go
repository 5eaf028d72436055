package backfill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

func TestCheckpointRoundTrip(t *testing.T) {
	cp := Checkpoint{LogGroup: "/aws/eks/prod/cluster", From: at(0, 37).Add(123 * time.Millisecond), To: at(5, 0),
		Events: 12345, Bytes: 6789012, Updated: at(9, 1)}
	data, err := cp.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestDecodeCheckpointRejects(t *testing.T) {
	for name, data := range map[string]string{
		"not JSON":        `backfill`,
		"other version":   `{"v":2,"logGroup":"g","from":0,"to":1}`,
		"no version":      `{"logGroup":"g","from":0,"to":1}`,
		"no group":        `{"v":1,"from":0,"to":1}`,
		"ends too early":  `{"v":1,"logGroup":"g","from":10,"to":1}`,
		"negative events": `{"v":1,"logGroup":"g","from":0,"to":1,"events":-1}`,
	} {
		t.Run(name, func(t *testing.T) {
			if cp, err := DecodeCheckpoint([]byte(data)); err == nil {
				t.Errorf("DecodeCheckpoint(%s) = %+v, want an error", data, cp)
			}
		})
	}
	if _, err := (&Checkpoint{From: at(1, 0), To: at(0, 0), LogGroup: "g"}).Encode(); err == nil {
		t.Error("encoded a checkpoint that ends before it starts")
	}
}

func TestCheckpointKey(t *testing.T) {
	want := pipeline.Key{PK: "backfill#/aws/eks/prod/cluster", SK: "state"}
	if got := CheckpointKey("/aws/eks/prod/cluster"); got != want {
		t.Errorf("CheckpointKey = %+v, want %+v", got, want)
	}
}

func TestLoadCheckpoints(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	cp := Checkpoint{LogGroup: "a", From: at(0, 0), To: at(3, 0), Events: 7}
	data, _ := cp.Encode()
	if err := st.PutMany(ctx, []pipeline.Item{{Key: CheckpointKey("a"), Data: data}}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoints(ctx, st, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["a"] == nil || !got["a"].To.Equal(at(3, 0)) {
		t.Errorf("LoadCheckpoints = %+v", got)
	}
	// A checkpoint stored under another group's key is refused.
	if err := st.PutMany(ctx, []pipeline.Item{{Key: CheckpointKey("b"), Data: data}}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoints(ctx, st, []string{"b"}); err == nil || !strings.Contains(err.Error(), "names a") {
		t.Errorf("misplaced checkpoint: err = %v", err)
	}
}

func TestAdvance(t *testing.T) {
	prev := &Checkpoint{LogGroup: "g", From: at(0, 0), To: at(2, 0), Events: 10, Bytes: 100}
	next := advance(prev, "g", Range{at(2, 0), at(3, 0)}, 5, 50, at(9, 0))
	want := Checkpoint{LogGroup: "g", From: at(0, 0), To: at(3, 0), Events: 15, Bytes: 150, Updated: at(9, 0)}
	if diff := cmp.Diff(want, next); diff != "" {
		t.Errorf("contiguous slice (-want +got):\n%s", diff)
	}
	gap := advance(prev, "g", Range{at(4, 0), at(5, 0)}, 5, 50, at(9, 0))
	want = Checkpoint{LogGroup: "g", From: at(4, 0), To: at(5, 0), Events: 5, Bytes: 50, Updated: at(9, 0)}
	if diff := cmp.Diff(want, gap); diff != "" {
		t.Errorf("slice after a gap (-want +got):\n%s", diff)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	cp := Checkpoint{LogGroup: "/aws/eks/prod/cluster", From: at(0, 0), To: at(5, 0), Events: 3, Bytes: 9, Updated: at(6, 0)}
	data, _ := cp.Encode()
	f.Add(data)
	f.Add([]byte(`{"v":1,"logGroup":"g","from":-5,"to":-1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := DecodeCheckpoint(data)
		if err != nil {
			return
		}
		// What decodes encodes again to the same checkpoint.
		again, err := cp.Encode()
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", data, err)
		}
		back, err := DecodeCheckpoint(again)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cp, back); diff != "" {
			t.Errorf("re-encoding changed it (-first +second):\n%s", diff)
		}
	})
}
