package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

// The fault tests put an httptest server that speaks just enough of the
// DynamoDB JSON protocol (the requests Dynamo makes) between the real SDK
// client and an in-memory table, and make it misbehave.

type attr map[string]string // {"S": "..."}, {"N": "1"}, {"B": "base64"}
type ddbItem map[string]attr

type fault int

const (
	faultNone        fault = iota
	faultThrottle          // 400 ProvisionedThroughputExceededException
	faultServer            // 500 InternalServerError, nothing applied
	faultUnprocessed       // batch calls process only part of the request
	faultRival             // another writer increments the item first
	faultLostReply         // the write is applied, the reply is a 500
)

type fakeDynamo struct {
	mu       sync.Mutex
	items    map[string]ddbItem // by pk + "\x00" + sk
	rng      *rand.Rand
	choose   func(op string, rng *rand.Rand) fault
	streaks  map[[32]byte]int // consecutive faults per identical request body
	maxRun   int              // at most this many faults in a row per body; 0: no limit
	calls    map[string]int
	rivals   int // increments made by the simulated rival writer
	injected map[fault]int
}

func newFakeDynamo(t *testing.T, choose func(op string, rng *rand.Rand) fault) (*fakeDynamo, *dynamodb.Client) {
	f := &fakeDynamo{
		items:    map[string]ddbItem{},
		rng:      rand.New(rand.NewPCG(1, 2)),
		choose:   choose,
		streaks:  map[[32]byte]int{},
		calls:    map[string]int{},
		injected: map[fault]int{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 4
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	})
	return f, client
}

func fastStore(api store.DynamoAPI) *store.Dynamo {
	return store.NewDynamo(api, "t", store.WithRetry(10, 100*time.Microsecond, 2*time.Millisecond))
}

func itemID(it ddbItem) string { return it["pk"]["S"] + "\x00" + it["sk"]["S"] }

func (f *fakeDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	flt := faultNone
	if f.choose != nil {
		flt = f.choose(op, f.rng)
	}
	sum := sha256.Sum256(append([]byte(op), body...))
	if flt != faultNone && f.maxRun > 0 && f.streaks[sum] >= f.maxRun {
		flt = faultNone
	}
	if flt == faultNone {
		delete(f.streaks, sum)
	} else {
		f.streaks[sum]++
		f.injected[flt]++
	}
	switch flt {
	case faultThrottle:
		f.fail(w, 400, "ProvisionedThroughputExceededException", nil)
		return
	case faultServer:
		f.fail(w, 500, "InternalServerError", nil)
		return
	}
	var out any
	var status int
	var errType string
	var errItem ddbItem
	switch op {
	case "BatchGetItem":
		out = f.batchGet(body, flt == faultUnprocessed)
	case "BatchWriteItem":
		out = f.batchWrite(body, flt == faultUnprocessed)
	case "PutItem":
		if flt == faultRival {
			f.rival(body)
		}
		errItem, errType = f.put(body)
		if errType != "" {
			status = 400
		}
		out = map[string]any{}
	default:
		status, errType = 400, "ValidationException"
	}
	if errType != "" {
		f.fail(w, status, errType, errItem)
		return
	}
	if flt == faultLostReply {
		f.fail(w, 500, "InternalServerError", nil)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeDynamo) fail(w http.ResponseWriter, status int, typ string, item ddbItem) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	m := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": "injected " + typ}
	if item != nil {
		m["Item"] = item
	}
	_ = json.NewEncoder(w).Encode(m)
}

func (f *fakeDynamo) batchGet(body []byte, partial bool) any {
	var in struct {
		RequestItems map[string]struct{ Keys []ddbItem }
	}
	_ = json.Unmarshal(body, &in)
	resp := map[string][]ddbItem{}
	left := map[string]any{}
	for table, req := range in.RequestItems {
		keys := req.Keys
		n := len(keys)
		if partial {
			n /= 2
			left[table] = map[string]any{"Keys": keys[n:], "ConsistentRead": true}
		}
		resp[table] = []ddbItem{}
		for _, k := range keys[:n] {
			if it, ok := f.items[itemID(k)]; ok {
				resp[table] = append(resp[table], it)
			}
		}
	}
	return map[string]any{"Responses": resp, "UnprocessedKeys": left}
}

func (f *fakeDynamo) batchWrite(body []byte, partial bool) any {
	var in struct {
		RequestItems map[string][]struct{ PutRequest struct{ Item ddbItem } }
	}
	_ = json.Unmarshal(body, &in)
	left := map[string]any{}
	for table, reqs := range in.RequestItems {
		n := len(reqs)
		if partial {
			n /= 2
			left[table] = reqs[n:]
		}
		for _, r := range reqs[:n] {
			f.items[itemID(r.PutRequest.Item)] = r.PutRequest.Item
		}
	}
	return map[string]any{"UnprocessedItems": left}
}

type putInput struct {
	Item                      ddbItem
	ConditionExpression       string
	ExpressionAttributeValues map[string]attr
}

// put applies a PutItem with the conditions Dynamo writes, returning the
// error type (and the old item) when the condition fails.
func (f *fakeDynamo) put(body []byte) (ddbItem, string) {
	var in putInput
	_ = json.Unmarshal(body, &in)
	old, exists := f.items[itemID(in.Item)]
	ok := true
	switch {
	case in.ExpressionAttributeValues[":v"] != nil:
		ok = exists && old["v"]["N"] == in.ExpressionAttributeValues[":v"]["N"]
	case in.ExpressionAttributeValues[":now"] != nil:
		if exists {
			ttl, has := old["ttl"]
			now, _ := strconv.ParseInt(in.ExpressionAttributeValues[":now"]["N"], 10, 64)
			t, _ := strconv.ParseInt(ttl["N"], 10, 64)
			ok = has && t <= now
		}
	case in.ConditionExpression != "":
		ok = !exists
	}
	if !ok {
		return old, "ConditionalCheckFailedException"
	}
	f.items[itemID(in.Item)] = in.Item
	return nil, ""
}

// rival increments the counter a PutItem is about to write, as another
// writer would, bumping its version.
func (f *fakeDynamo) rival(body []byte) {
	var in putInput
	_ = json.Unmarshal(body, &in)
	id := itemID(in.Item)
	old, ok := f.items[id]
	if !ok {
		return
	}
	n, _ := strconv.Atoi(decodeB(old["d"]["B"]))
	v, _ := strconv.Atoi(old["v"]["N"])
	next := ddbItem{"pk": old["pk"], "sk": old["sk"], "v": attr{"N": strconv.Itoa(v + 1)}, "w": attr{"S": strings.TrimSpace("rival " + old["w"]["S"])},
		"d": attr{"B": encodeB(strconv.Itoa(n + 1))}}
	f.items[id] = next
	f.rivals++
}

func decodeB(s string) string {
	var b []byte
	_ = json.Unmarshal([]byte(strconv.Quote(s)), &b)
	return string(b)
}

func encodeB(s string) string {
	b, _ := json.Marshal([]byte(s))
	return strings.Trim(string(b), `"`)
}

func incr(_ pipeline.Key, old []byte) ([]byte, time.Time, error) {
	n := 0
	if old != nil {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, time.Time{}, err
		}
	}
	return []byte(strconv.Itoa(n + 1)), time.Time{}, nil
}

// TestDynamoFaultStorm: throttling, 5xx, unprocessed keys and items,
// rival writers and lost replies, all at once; every UpdateMany must
// succeed and not one increment may be lost or applied twice.
func TestDynamoFaultStorm(t *testing.T) {
	f, client := newFakeDynamo(t, func(op string, rng *rand.Rand) fault {
		x := rng.Float64()
		switch {
		case x < 0.1:
			return faultThrottle
		case x < 0.2:
			return faultServer
		case x < 0.35 && (op == "BatchGetItem" || op == "BatchWriteItem"):
			return faultUnprocessed
		case x < 0.3 && op == "PutItem":
			return faultRival
		case x < 0.35 && op == "PutItem":
			return faultLostReply
		}
		return faultNone
	})
	f.maxRun = 2 // the SDK's 4 attempts always get through
	s := fastStore(client)
	ctx := context.Background()

	seed := make([]pipeline.Item, 0, 60)
	keys := make([]pipeline.Key, 0, 60)
	for i := range 60 {
		k := pipeline.Key{PK: fmt.Sprintf("baseline#w%02d", i), SK: "state"}
		keys = append(keys, k)
		seed = append(seed, pipeline.Item{Key: k, Data: []byte("0")})
	}
	if err := s.PutMany(ctx, seed); err != nil {
		t.Fatalf("PutMany: %v", err)
	}

	// Each worker has its own keys: contention comes from the rival.
	const workers, rounds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := keys[w*len(keys)/workers : (w+1)*len(keys)/workers]
			for range rounds {
				if err := s.UpdateMany(ctx, mine, incr); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("UpdateMany: %v", err)
	}
	got, err := s.GetMany(ctx, keys)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	total := 0
	for _, k := range keys {
		n, _ := strconv.Atoi(string(got[k].Data))
		total += n
	}
	if want := rounds*len(keys) + f.rivals; total != want {
		t.Errorf("sum of counters = %d, want %d (%d ours + %d rivals)", total, want, rounds*len(keys), f.rivals)
	}
	t.Logf("faults injected: %v; rival increments %d; calls %v", f.injected, f.rivals, f.calls)
	for _, flt := range []fault{faultThrottle, faultServer, faultUnprocessed, faultRival, faultLostReply} {
		if f.injected[flt] == 0 {
			t.Errorf("fault %d never injected", flt)
		}
	}
}

// TestDynamoFaultBounds: a server that never gets better makes every
// operation fail after a bounded number of requests, with an error saying
// why.
func TestDynamoFaultBounds(t *testing.T) {
	ctx := context.Background()
	k := pipeline.Key{PK: "finding#x", SK: "state"}
	tests := []struct {
		name     string
		fault    fault
		op       string
		run      func(s *store.Dynamo) error
		maxCalls int
		is       error
		contains string
	}{
		{"throttled", faultThrottle, "BatchGetItem", func(s *store.Dynamo) error {
			_, err := s.GetMany(ctx, []pipeline.Key{k})
			return err
		}, 4, nil, "ProvisionedThroughputExceeded"},
		{"server errors", faultServer, "PutItem", func(s *store.Dynamo) error {
			_, err := s.PutIfAbsent(ctx, pipeline.Item{Key: k})
			return err
		}, 4, nil, "InternalServerError"},
		{"unprocessed keys", faultUnprocessed, "BatchGetItem", func(s *store.Dynamo) error {
			_, err := s.GetMany(ctx, []pipeline.Key{k})
			return err
		}, 10, nil, "unprocessed"},
		{"unprocessed items", faultUnprocessed, "BatchWriteItem", func(s *store.Dynamo) error {
			return s.PutMany(ctx, []pipeline.Item{{Key: k}})
		}, 10, nil, "unprocessed"},
		{"conflicts", faultRival, "PutItem", func(s *store.Dynamo) error {
			return s.UpdateMany(ctx, []pipeline.Key{k}, incr)
		}, 10, store.ErrConflict, "finding#x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, client := newFakeDynamo(t, func(op string, _ *rand.Rand) fault {
				if op == tc.op {
					return tc.fault
				}
				return faultNone
			})
			f.items[itemID(ddbItem{"pk": {"S": k.PK}, "sk": {"S": k.SK}})] = ddbItem{
				"pk": {"S": k.PK}, "sk": {"S": k.SK}, "v": {"N": "1"}, "d": {"B": encodeB("0")}}
			err := tc.run(fastStore(client))
			if err == nil {
				t.Fatal("no error from a server that always fails")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not mention %q", err, tc.contains)
			}
			if n := f.calls[tc.op]; n > tc.maxCalls || n < 2 {
				t.Errorf("%s called %d times, want 2..%d", tc.op, n, tc.maxCalls)
			}
		})
	}
}

// TestDynamoLostReply: a write that landed but whose reply was lost is not
// applied twice, and PutIfAbsent still reports that it wrote.
func TestDynamoLostReply(t *testing.T) {
	ctx := context.Background()
	lose := true
	f, client := newFakeDynamo(t, func(op string, _ *rand.Rand) fault {
		if op == "PutItem" && lose {
			lose = false
			return faultLostReply
		}
		return faultNone
	})
	s := fastStore(client)
	k := pipeline.Key{PK: "idem#batch-1", SK: "state"}
	ok, err := s.PutIfAbsent(ctx, pipeline.Item{Key: k, Data: []byte("0")})
	if err != nil || !ok {
		t.Fatalf("PutIfAbsent after a lost reply = %v, %v; want true, nil", ok, err)
	}
	f.mu.Lock()
	lose = true
	f.mu.Unlock()
	if err := s.UpdateMany(ctx, []pipeline.Key{k}, incr); err != nil {
		t.Fatalf("UpdateMany after a lost reply: %v", err)
	}
	got, _ := s.GetMany(ctx, []pipeline.Key{k})
	if string(got[k].Data) != "1" {
		t.Errorf("counter = %q after one increment, want 1", got[k].Data)
	}
	if f.injected[faultLostReply] != 2 {
		t.Errorf("lost replies injected = %d, want 2", f.injected[faultLostReply])
	}

	// The reply is lost and a rival writes before the SDK's retry: the
	// retry fails its condition, yet the item's history shows our write.
	step := 0
	f.mu.Lock()
	defer f.mu.Unlock()
	f.choose = func(op string, _ *rand.Rand) fault {
		if op != "PutItem" {
			return faultNone
		}
		step++
		switch step {
		case 1:
			return faultLostReply
		case 2:
			return faultRival
		}
		return faultNone
	}
	f.mu.Unlock()
	if err := s.UpdateMany(ctx, []pipeline.Key{k}, incr); err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	got, _ = s.GetMany(ctx, []pipeline.Key{k})
	f.mu.Lock()
	if string(got[k].Data) != "3" || f.rivals != 1 {
		t.Errorf("counter = %q after our increment and %d rival ones, want 3", got[k].Data, f.rivals)
	}
}
