package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// addAlarms raises an alarm on the topic when any function errs or is
// throttled, or when a batch reaches the dead-letter queue. There is no
// iterator-age alarm for the subscription filters: CloudWatch Logs invokes
// Lambda asynchronously, so there is no stream position to fall behind; the
// Kinesis sources of member accounts get one in addMemberAccounts.
func addAlarms(stack awscdk.Stack, dets map[string]*detector, dlq awssqs.IQueue, topic awssns.ITopic) {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	for _, name := range FunctionNames {
		d := dets[name]
		id := title(name)
		alarmAbove(stack, id+"Errors", "tidewatch "+name+" failed an invocation (it is retried; then the batch goes to the DLQ)",
			d.fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 0, topic)
		alarmAbove(stack, id+"Throttles", "tidewatch "+name+" was throttled (raise its reserved concurrency)",
			d.fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 0, topic)
	}
	alarmAbove(stack, "DeadLetters", "tidewatch batches are waiting in the dead-letter queue",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 0, topic)
}

// alarmAbove alarms on the topic when metric exceeds threshold in one
// period; no data is normal (no traffic), not a breach.
func alarmAbove(stack awscdk.Stack, id, description string, metric awscloudwatch.IMetric, threshold float64, topic awssns.ITopic) {
	alarm := awscloudwatch.NewAlarm(stack, jsii.String(id+"Alarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
}
