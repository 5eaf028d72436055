package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tidewatch/tidewatch/shared/backoff"
)

// TableAPI is the part of the DynamoDB client that CreateTable uses;
// *dynamodb.Client satisfies it.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// tablePoll is how often CreateTable checks whether the table is ACTIVE.
var tablePoll = 500 * time.Millisecond

// CreateTable creates the store's table as production runs it: pk (S)
// and sk (S) as keys, on-demand billing, TTL on the ttl attribute. It waits
// until the table is ACTIVE (bound the wait with ctx). A table that already
// exists is not an error: CreateTable then only waits for it and makes sure
// TTL is on, so it is safe to run again.
func CreateTable(ctx context.Context, api TableAPI, name string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		Tags:        []types.Tag{{Key: aws.String("app"), Value: aws.String("tidewatch")}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", name, err)
	}
	if err := waitActive(ctx, api, name); err != nil {
		return err
	}
	return enableTTL(ctx, api, name)
}

func waitActive(ctx context.Context, api TableAPI, name string) error {
	for {
		res, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			// Just created: not visible yet.
		case err != nil:
			return fmt.Errorf("store: describe table %s: %w", name, err)
		case res.Table != nil && res.Table.TableStatus == types.TableStatusActive:
			return nil
		}
		if err := backoff.Wait(ctx, tablePoll); err != nil {
			return fmt.Errorf("store: wait for table %s to be active: %w", name, err)
		}
	}
}

func enableTTL(ctx context.Context, api TableAPI, name string) error {
	res, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err == nil && res.TimeToLiveDescription != nil {
		switch res.TimeToLiveDescription.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if aws.ToString(res.TimeToLiveDescription.AttributeName) == attrTTL {
				return nil
			}
		}
	}
	// A failed DescribeTimeToLive (some emulators lack it) falls through:
	// UpdateTimeToLive says what is wrong, if anything is.
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("store: enable ttl on %s: %w", name, err)
	}
	return nil
}
