package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// Kinesis source settings for member-account batches. One Kinesis record
// is one compressed CloudWatch Logs batch (up to 10,000 events), so batches
// stay small; a failing batch is halved until the bad record is isolated,
// then its position goes to the DLQ while the stream still holds it.
const (
	streamBatchSize      = 10
	streamRetryAttempts  = 2
	streamMaxRecordAge   = 6 * 60 * 60    // seconds; below the 24 h retention
	iteratorAgeThreshold = 15 * 60 * 1000 // ms
)

// addMemberAccounts lets member accounts send their log groups to the
// detectors. CloudWatch Logs delivers across accounts only to a logical
// destination (PutDestination) backed by Kinesis Data Streams or Firehose,
// never to a Lambda function, so each detector gets a stream, a destination
// on it that the member accounts may subscribe to, and an event source
// mapping from the stream. Member accounts then put subscription filters
// (or an account-level subscription policy) on their log groups with the
// destination ARN from the stack outputs; see infra/README.md. The batch's
// owner field stays the member account.
func addMemberAccounts(stack awscdk.Stack, a arns, p *TidewatchStackProps, dets map[string]*detector,
	dlq awssqs.IQueue, topic awssns.ITopic) {
	sources := make([]*string, 0, len(p.MemberAccounts)+1)
	principals := make([]*string, 0, len(p.MemberAccounts))
	for _, acct := range append([]string{*a.account}, p.MemberAccounts...) {
		sources = append(sources, jsii.String("arn:"+*a.partition+":logs:"+*a.region+":"+acct+":*"))
	}
	for _, acct := range p.MemberAccounts {
		principals = append(principals, jsii.String(acct))
	}
	// CloudWatch Logs assumes this role to put the member accounts' batches
	// (and its own test message at creation) on the streams.
	role := awsiam.NewRole(stack, jsii.String("CrossAccountDelivery"), &awsiam.RoleProps{
		Description: jsii.String("tidewatch: CloudWatch Logs delivers member accounts' logs to the streams"),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), nil),
			&map[string]any{"StringLike": map[string]any{"aws:SourceArn": sources}}),
	})

	five := awscdk.Duration_Minutes(jsii.Number(5))
	for _, name := range FunctionNames {
		d := dets[name]
		id := title(name)
		stream := awskinesis.NewStream(stack, jsii.String(id+"Stream"), &awskinesis.StreamProps{
			ShardCount:      jsii.Number(1),
			Encryption:      awskinesis.StreamEncryption_MANAGED,
			RetentionPeriod: awscdk.Duration_Hours(jsii.Number(24)),
		})
		role.AddToPolicy(allow(id+"Put", []string{"kinesis:PutRecord"}, stream.StreamArn()))

		destName := *stack.StackName() + "-" + name
		destARN := a.arn("logs", "destination:"+destName)
		policy := map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "MemberAccountsSubscribe",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": principals},
				// PutAccountPolicy lets a member use an account-level
				// subscription policy instead of one filter per group.
				"Action":   []string{"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"},
				"Resource": destARN,
			}},
		}
		dest := awslogs.NewCfnDestination(stack, jsii.String(id+"Destination"), &awslogs.CfnDestinationProps{
			DestinationName:   jsii.String(destName),
			TargetArn:         stream.StreamArn(),
			RoleArn:           role.RoleArn(),
			DestinationPolicy: stack.ToJsonString(policy, nil),
		})
		dest.Node().AddDependency(role)

		d.role.AddToPolicy(allow("Read"+id+"Stream", []string{
			"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
			"kinesis:GetShardIterator", "kinesis:ListShards",
		}, stream.StreamArn()))
		esm := awslambda.NewCfnEventSourceMapping(stack, jsii.String(id+"StreamSource"), &awslambda.CfnEventSourceMappingProps{
			FunctionName:               d.fn.FunctionName(),
			EventSourceArn:             stream.StreamArn(),
			StartingPosition:           jsii.String("TRIM_HORIZON"),
			BatchSize:                  jsii.Number(streamBatchSize),
			BisectBatchOnFunctionError: jsii.Bool(true),
			MaximumRetryAttempts:       jsii.Number(streamRetryAttempts),
			MaximumRecordAgeInSeconds:  jsii.Number(streamMaxRecordAge),
			DestinationConfig: &awslambda.CfnEventSourceMapping_DestinationConfigProperty{
				OnFailure: &awslambda.CfnEventSourceMapping_OnFailureProperty{Destination: dlq.QueueArn()},
			},
		})
		// The mapping is validated against the role's policy on creation.
		esm.Node().AddDependency(d.role, d.fn)

		alarmAbove(stack, id+"IteratorAge", "tidewatch "+name+" is falling behind its member-account stream",
			d.fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
			iteratorAgeThreshold, topic)
		awscdk.NewCfnOutput(stack, jsii.String(id+"DestinationArn"), &awscdk.CfnOutputProps{
			Description: jsii.String("member accounts subscribe their " + name + " log groups to this CloudWatch Logs destination"),
			Value:       destARN,
		})
	}
}
