package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// ErrConflict is returned (wrapped, with the key) when UpdateMany still
// loses the race for a key after its bounded retries.
var ErrConflict = errors.New("conflicting concurrent updates")

// Attribute names of the table layout (see the package documentation).
const (
	attrPK    = "pk"
	attrSK    = "sk"
	attrData  = "d"
	attrVer   = "v"
	attrWrite = "w"
	attrTTL   = "ttl"
)

// DynamoDB request limits.
const (
	maxBatchGet   = 100
	maxBatchWrite = 25
)

// DynamoAPI is the part of the DynamoDB client that Dynamo uses;
// *dynamodb.Client satisfies it.
type DynamoAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ pipeline.Store = (*Dynamo)(nil)

// Dynamo is a pipeline.Store on one DynamoDB table laid out as the package
// documentation describes. It is safe for concurrent use.
type Dynamo struct {
	api   DynamoAPI
	table string
	opts  options
}

// NewDynamo returns a store on table through api.
func NewDynamo(api DynamoAPI, table string, opts ...Option) *Dynamo {
	return &Dynamo{api: api, table: table, opts: newOptions(opts)}
}

// record is an item as stored, expired or not.
type record struct {
	data    []byte
	expires time.Time
	ver     string // v as stored; "" when the item does not exist
	writes  string // w: recent write ids, newest first
}

func (r record) exists() bool { return r.ver != "" }

// wrote reports whether the write with this id is among the item's recent
// writes: it landed, even if its reply was lost.
func (r record) wrote(id string) bool {
	if id == "" {
		return false
	}
	for _, w := range strings.Fields(r.writes) {
		if w == id {
			return true
		}
	}
	return false
}

// historyLen is how many recent write ids an item keeps.
const historyLen = 8

// after is the w of a write with id on top of r.
func (r record) after(id string) string {
	ids := append([]string{id}, strings.Fields(r.writes)...)
	return strings.Join(ids[:min(len(ids), historyLen)], " ")
}

func keyAttrs(k pipeline.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.PK},
		attrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// ttlSeconds rounds up, so DynamoDB never deletes an item before Expires.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}

func itemAttrs(k pipeline.Key, data []byte, expires time.Time, ver, writes string) map[string]types.AttributeValue {
	m := keyAttrs(k)
	if data == nil {
		data = []byte{}
	}
	m[attrData] = &types.AttributeValueMemberB{Value: data}
	m[attrVer] = &types.AttributeValueMemberN{Value: ver}
	m[attrWrite] = &types.AttributeValueMemberS{Value: writes}
	if !expires.IsZero() {
		m[attrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(ttlSeconds(expires), 10)}
	}
	return m
}

func decode(av map[string]types.AttributeValue) (pipeline.Key, record, error) {
	var k pipeline.Key
	var r record
	pk, ok1 := av[attrPK].(*types.AttributeValueMemberS)
	sk, ok2 := av[attrSK].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return k, r, errors.New("item without string pk and sk")
	}
	k = pipeline.Key{PK: pk.Value, SK: sk.Value}
	if d, ok := av[attrData].(*types.AttributeValueMemberB); ok {
		r.data = d.Value
	}
	r.ver = "0"
	if v, ok := av[attrVer].(*types.AttributeValueMemberN); ok {
		r.ver = v.Value
	}
	if w, ok := av[attrWrite].(*types.AttributeValueMemberS); ok {
		r.writes = w.Value
	}
	if t, ok := av[attrTTL].(*types.AttributeValueMemberN); ok {
		sec, err := strconv.ParseInt(t.Value, 10, 64)
		if err != nil {
			return k, r, fmt.Errorf("item %s: bad ttl %q", keyString(k), t.Value)
		}
		r.expires = time.Unix(sec, 0).UTC()
	}
	return k, r, nil
}

// newWriteID returns a random id for one write.
func newWriteID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomVersion is the version of a blind write: random, so that it cannot
// equal the version a concurrent read-modify-write read.
func randomVersion() string {
	return strconv.FormatInt(mrand.Int64N(1<<53)+1, 10)
}

// readAll reads keys with strongly consistent BatchGetItem calls of at most
// 100 keys, retrying unprocessed keys with backoff. Missing keys are absent
// from the result; expired items are present.
func (s *Dynamo) readAll(ctx context.Context, keys []pipeline.Key) (map[pipeline.Key]record, error) {
	out := make(map[pipeline.Key]record, len(keys))
	keys = dedupe(keys)
	for start := 0; start < len(keys); start += maxBatchGet {
		chunk := keys[start:min(start+maxBatchGet, len(keys))]
		req := make([]map[string]types.AttributeValue, len(chunk))
		for i, k := range chunk {
			req[i] = keyAttrs(k)
		}
		pending := map[string]types.KeysAndAttributes{
			s.table: {Keys: req, ConsistentRead: aws.Bool(true)},
		}
		for attempt := 0; ; attempt++ {
			if attempt > 0 {
				if attempt >= s.opts.retry.Attempts {
					return nil, fmt.Errorf("store: batch get from %s: %d keys still unprocessed after %d attempts", s.table, len(pending[s.table].Keys), attempt)
				}
				if err := s.opts.retry.Sleep(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("store: batch get from %s: %w", s.table, err)
			}
			for _, av := range res.Responses[s.table] {
				k, r, err := decode(av)
				if err != nil {
					return nil, fmt.Errorf("store: batch get from %s: %w", s.table, err)
				}
				out[k] = r
			}
			left, ok := res.UnprocessedKeys[s.table]
			if !ok || len(left.Keys) == 0 {
				break
			}
			pending = map[string]types.KeysAndAttributes{s.table: left}
		}
	}
	return out, nil
}

// GetMany implements pipeline.Store with BatchGetItem.
func (s *Dynamo) GetMany(ctx context.Context, keys []pipeline.Key) (map[pipeline.Key]pipeline.Item, error) {
	recs, err := s.readAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	now := s.opts.now()
	out := make(map[pipeline.Key]pipeline.Item, len(recs))
	for k, r := range recs {
		if live(r.expires, now) {
			out[k] = pipeline.Item{Key: k, Data: r.data, Expires: r.expires}
		}
	}
	return out, nil
}

// pendingUpdate is one key's state within UpdateMany.
type pendingUpdate struct {
	key   pipeline.Key
	cur   record                          // the item as last read
	fresh bool                            // cur came with the failed write: no re-read needed
	item  map[string]types.AttributeValue // the write to try
	id    string                          // its write id
}

// UpdateMany implements pipeline.Store: it reads every key with
// BatchGetItem, then writes each changed key with a PutItem conditioned on
// the version it read (or on absence), at most WithConcurrency writes at a
// time. A key whose write loses the race is re-read (from the failed
// write's response when DynamoDB returns the item) and fn re-applied, with
// jittered exponential backoff, up to the retry bound; then its error wraps
// ErrConflict. fn is never called concurrently by one UpdateMany. Every
// key is attempted; the error joins each failed key's error.
func (s *Dynamo) UpdateMany(ctx context.Context, keys []pipeline.Key, fn pipeline.UpdateFunc) error {
	keys = dedupe(keys)
	recs, err := s.readAll(ctx, keys)
	if err != nil {
		return err
	}
	todo := make([]*pendingUpdate, len(keys))
	for i, k := range keys {
		todo[i] = &pendingUpdate{key: k, cur: recs[k], fresh: true}
	}
	var errs []error
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt > 0 {
			if attempt >= s.opts.retry.Attempts {
				for _, u := range todo {
					errs = append(errs, fmt.Errorf("store: update %s: gave up after %d attempts: %w", keyString(u.key), attempt, ErrConflict))
				}
				break
			}
			if err := s.opts.retry.Sleep(ctx, attempt); err != nil {
				return errors.Join(append(errs, err)...)
			}
			if todo, err = s.refresh(ctx, todo); err != nil {
				return errors.Join(append(errs, err)...)
			}
		}
		now := s.opts.now()
		writes := todo[:0:0]
		for _, u := range todo {
			var old []byte
			if u.cur.exists() && live(u.cur.expires, now) {
				old = u.cur.data
			}
			data, expires, err := fn(u.key, old)
			if errors.Is(err, pipeline.ErrUnchanged) {
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("store: update %s: %w", keyString(u.key), err))
				continue
			}
			ver := "1"
			if u.cur.exists() {
				n, perr := strconv.ParseInt(u.cur.ver, 10, 64)
				if perr != nil {
					errs = append(errs, fmt.Errorf("store: update %s: bad version %q", keyString(u.key), u.cur.ver))
					continue
				}
				ver = strconv.FormatInt(n+1, 10)
			}
			u.id = newWriteID()
			u.item = itemAttrs(u.key, data, expires, ver, u.cur.after(u.id))
			writes = append(writes, u)
		}
		lost, werrs := s.putConditional(ctx, writes)
		errs = append(errs, werrs...)
		todo = lost
	}
	return errors.Join(errs...)
}

// refresh re-reads the updates whose current item is not known, and drops
// those whose own last write turns out to have landed.
func (s *Dynamo) refresh(ctx context.Context, todo []*pendingUpdate) ([]*pendingUpdate, error) {
	var stale []pipeline.Key
	for _, u := range todo {
		if !u.fresh {
			stale = append(stale, u.key)
		}
	}
	if len(stale) == 0 {
		return todo, nil
	}
	recs, err := s.readAll(ctx, stale)
	if err != nil {
		return nil, err
	}
	next := todo[:0:0]
	for _, u := range todo {
		if !u.fresh {
			u.cur, u.fresh = recs[u.key], true
			if u.cur.wrote(u.id) {
				continue
			}
		}
		next = append(next, u)
	}
	return next, nil
}

// putConditional writes each update on the condition that the item is
// unchanged since it was read. It returns the updates that lost the race
// and the errors of those that failed otherwise. A write whose condition
// failed because the item already is that write (the SDK retried a write
// whose response was lost) counts as done.
func (s *Dynamo) putConditional(ctx context.Context, writes []*pendingUpdate) ([]*pendingUpdate, []error) {
	var (
		mu   sync.Mutex
		lost []*pendingUpdate
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, s.opts.concurrency)
	)
	for _, u := range writes {
		in := &dynamodb.PutItemInput{
			TableName:                           aws.String(s.table),
			Item:                                u.item,
			ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
			ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		if u.cur.exists() {
			in.ExpressionAttributeNames = map[string]string{"#v": attrVer}
			in.ConditionExpression = aws.String("#v = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: u.cur.ver}}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := s.api.PutItem(ctx, in)
			if err == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			var ccf *types.ConditionalCheckFailedException
			if !errors.As(err, &ccf) {
				errs = append(errs, fmt.Errorf("store: update %s: %w", keyString(u.key), err))
				return
			}
			u.fresh = false
			if len(ccf.Item) > 0 {
				if _, r, derr := decode(ccf.Item); derr == nil {
					if r.wrote(u.id) {
						return
					}
					u.cur, u.fresh = r, true
				}
			}
			lost = append(lost, u)
		}()
	}
	wg.Wait()
	return lost, errs
}

// PutMany implements pipeline.Store with BatchWriteItem calls of at most
// 25 items, retrying unprocessed items with backoff. When items repeat a
// key, the last one wins.
func (s *Dynamo) PutMany(ctx context.Context, items []pipeline.Item) error {
	last := make(map[pipeline.Key]int, len(items))
	for i, it := range items {
		last[it.Key] = i
	}
	var reqs []types.WriteRequest
	for i, it := range items {
		if last[it.Key] != i {
			continue
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{
			Item: itemAttrs(it.Key, it.Data, it.Expires, randomVersion(), newWriteID()),
		}})
	}
	for start := 0; start < len(reqs); start += maxBatchWrite {
		pending := reqs[start:min(start+maxBatchWrite, len(reqs))]
		for attempt := 0; ; attempt++ {
			if attempt > 0 {
				if attempt >= s.opts.retry.Attempts {
					return fmt.Errorf("store: batch write to %s: %d items still unprocessed after %d attempts", s.table, len(pending), attempt)
				}
				if err := s.opts.retry.Sleep(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("store: batch write to %s: %w", s.table, err)
			}
			pending = res.UnprocessedItems[s.table]
			if len(pending) == 0 {
				break
			}
		}
	}
	return nil
}

// Query implements pipeline.Store with paginated, strongly consistent
// Query calls; expired items are filtered out here because TTL deletion
// is lazy.
func (s *Dynamo) Query(ctx context.Context, pk, prefix string) ([]pipeline.Item, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ConsistentRead:           aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
		},
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :p)")
		in.ExpressionAttributeNames["#sk"] = attrSK
		in.ExpressionAttributeValues[":p"] = &types.AttributeValueMemberS{Value: prefix}
	}
	now := s.opts.now()
	var out []pipeline.Item
	for {
		res, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: query %s in %s: %w", pk, s.table, err)
		}
		for _, av := range res.Items {
			k, r, err := decode(av)
			if err != nil {
				return nil, fmt.Errorf("store: query %s in %s: %w", pk, s.table, err)
			}
			if live(r.expires, now) {
				out = append(out, pipeline.Item{Key: k, Data: r.data, Expires: r.expires})
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// PutIfAbsent implements pipeline.Store with a PutItem conditioned on the
// key being free or its item expired (TTL deletion is lazy, so an expired
// marker still stands in the table).
func (s *Dynamo) PutIfAbsent(ctx context.Context, item pipeline.Item) (bool, error) {
	id := newWriteID()
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                itemAttrs(item.Key, item.Data, item.Expires, randomVersion(), id),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.opts.now().Unix(), 10)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf):
		// The SDK may have retried a write that landed but whose response
		// was lost: then the item in the way is ours.
		if _, r, derr := decode(ccf.Item); derr == nil && r.wrote(id) {
			return true, nil
		}
		return false, nil
	default:
		return false, fmt.Errorf("store: put if absent %s: %w", keyString(item.Key), err)
	}
}

// Delete implements pipeline.Store.
func (s *Dynamo) Delete(ctx context.Context, key pipeline.Key) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       keyAttrs(key),
	})
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", keyString(key), err)
	}
	return nil
}
