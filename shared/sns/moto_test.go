package sns_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/sns"
)

// motoEndpoint returns TIDEWATCH_MOTO_ENDPOINT, skipping the test when it
// is unset (failing it under CI=true).
func motoEndpoint(t *testing.T) string {
	t.Helper()
	endpoint := os.Getenv("TIDEWATCH_MOTO_ENDPOINT")
	if endpoint == "" {
		const msg = "moto not reachable: set TIDEWATCH_MOTO_ENDPOINT (make test starts moto_server; or test/servers/moto.sh start)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return endpoint
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

func TestMotoDelivery(t *testing.T) {
	endpoint := motoEndpoint(t)
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider("testing", "testing", "")
	snsc := awssns.New(awssns.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds})
	sqsc := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds})
	name := unsafe.ReplaceAllString(t.Name(), "-")

	topic, err := snsc.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	t.Cleanup(func() { _, _ = snsc.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: topic.TopicArn}) })

	queues := map[bool]string{} // raw delivery → queue URL
	for _, raw := range []bool{false, true} {
		qname := name + map[bool]string{false: "-envelope", true: "-raw"}[raw]
		q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname)})
		if err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		t.Cleanup(func() { _, _ = sqsc.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}) })
		attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatalf("GetQueueAttributes: %v", err)
		}
		sub := &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}
		if raw {
			sub.Attributes = map[string]string{"RawMessageDelivery": "true"}
		}
		if _, err := snsc.Subscribe(ctx, sub); err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		queues[raw] = aws.ToString(q.QueueUrl)
	}

	f := sample(7)
	if err := sns.New(snsc, aws.ToString(topic.TopicArn), "us-east-1").Notify(ctx, []finding.Finding{f}); err != nil {
		t.Fatalf("Notify: %v", err)
	}

	for raw, url := range queues {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) != 1 {
			t.Fatalf("raw=%v: %d messages, want 1", raw, len(out.Messages))
		}
		body := aws.ToString(out.Messages[0].Body)
		if !raw {
			var env struct{ Type, Message, Subject string }
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("envelope: %v", err)
			}
			if env.Type != "Notification" || env.Subject != sns.Subject(&f) {
				t.Errorf("envelope type %q subject %q", env.Type, env.Subject)
			}
			body = env.Message
		}
		var got finding.Finding
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("raw=%v: sqs payload is not the finding's JSON: %v\n%s", raw, err, body)
		}
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("raw=%v: sqs payload (-want +got):\n%s", raw, diff)
		}
	}

	// The chat payload of the same message validates against the schema.
	_, msg, err := sns.Build(&f, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	checkChat(t, decodeMessage(t, msg)["default"], &f)
}
