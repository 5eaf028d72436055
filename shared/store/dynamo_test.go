package store_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
	"github.com/tidewatch/tidewatch/shared/store/storetest"
)

// localClient returns a client of DynamoDB Local at
// TIDEWATCH_DYNAMODB_ENDPOINT, skipping the test when it is unset (failing
// it under CI=true).
func localClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv("TIDEWATCH_DYNAMODB_ENDPOINT")
	if endpoint == "" {
		const msg = "DynamoDB Local not reachable: set TIDEWATCH_DYNAMODB_ENDPOINT (make test starts DynamoDB Local; or test/servers/dynamodb-local.sh start)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName derives a legal, unique-per-test table name from t.Name().
func tableName(t *testing.T) string {
	name := "tw-" + unsafeName.ReplaceAllString(t.Name(), "-")
	if len(name) > 200 {
		name = name[:200]
	}
	return strings.Trim(name, "-") + "-" + time.Now().Format("150405.000000")
}

// newTable creates a per-test table and deletes it when the test ends.
func newTable(t *testing.T, api *dynamodb.Client) string {
	t.Helper()
	name := tableName(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.CreateTable(ctx, api, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, err := api.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

func TestDynamoContract(t *testing.T) {
	api := localClient(t)
	storetest.Run(t, func(t *testing.T) pipeline.Store {
		return store.NewDynamo(api, newTable(t, api))
	})
}

func TestCreateTable(t *testing.T) {
	api := localClient(t)
	name := newTable(t, api)
	ctx := context.Background()
	// Running it again on the existing table is fine.
	if err := store.CreateTable(ctx, api, name); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range d.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	if got, want := strings.Join(keys, ","), "pk:HASH,sk:RANGE"; got != want {
		t.Errorf("key schema = %s, want %s", got, want)
	}
	if d.Table.BillingModeSummary == nil || d.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", d.Table.BillingModeSummary)
	}
	ttl, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "ttl" || ttl.TimeToLiveDescription.TimeToLiveStatus != "ENABLED" {
		t.Errorf("TTL = %s on %q, want ENABLED on ttl", ttl.TimeToLiveDescription.TimeToLiveStatus, got)
	}
}

// TestDynamoClock: the store's clock, not DynamoDB's TTL sweeper, decides
// expiry, to the second.
func TestDynamoClock(t *testing.T) {
	api := localClient(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := store.NewDynamo(api, newTable(t, api), store.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	k := pipeline.Key{PK: "idem#b", SK: "state"}
	it := pipeline.Item{Key: k, Data: []byte("x"), Expires: now.Add(time.Minute - time.Millisecond)}
	if ok, err := s.PutIfAbsent(ctx, it); err != nil || !ok {
		t.Fatalf("PutIfAbsent = %v, %v; want true", ok, err)
	}
	now = now.Add(59 * time.Second)
	got, err := s.GetMany(ctx, []pipeline.Key{k})
	if err != nil || len(got) != 1 {
		t.Fatalf("GetMany before expiry = %v, %v", got, err)
	}
	if want := now.Add(time.Second); !got[k].Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v (rounded up to the second)", got[k].Expires, want)
	}
	if ok, _ := s.PutIfAbsent(ctx, it); ok {
		t.Errorf("PutIfAbsent over a live item = true")
	}
	now = now.Add(time.Second)
	if got, _ := s.GetMany(ctx, []pipeline.Key{k}); len(got) != 0 {
		t.Errorf("item still readable at its expiry time")
	}
	if ok, err := s.PutIfAbsent(ctx, it); err != nil || !ok {
		t.Errorf("PutIfAbsent over an expired item = %v, %v; want true", ok, err)
	}
}
