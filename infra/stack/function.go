package stack

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newDetector defines one function with its own role, log group and
// asynchronous failure handling. The role is written by hand: the managed
// AWSLambdaBasicExecutionRole would allow logging to any log group.
func newDetector(stack awscdk.Stack, name string, p *TidewatchStackProps, env map[string]*string,
	dlq awssqs.IQueue, statements []awsiam.PolicyStatement) *detector {
	s := p.settings(name)
	id := title(name)

	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	setRetention(logs, p.LogRetentionDays)

	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("tidewatch " + name + " function"),
	})
	role.AddToPolicy(allow("OwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn()))
	for _, st := range statements {
		role.AddToPolicy(st)
	}

	props := &awslambda.FunctionProps{
		Description:   jsii.String("tidewatch " + name + " detector"),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, name)), nil),
		MemorySize:    jsii.Number(s.MemoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(s.Timeout.Seconds())),
		Environment:   &env,
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		RetryAttempts: jsii.Number(retryAttempts),
		MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(maxEventAgeSec)),
		// The destination record keeps the whole event (the compressed log
		// batch) and the error, so a failed batch can be replayed.
		OnFailure: awslambdadestinations.NewSqsDestination(dlq),
	}
	if s.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(s.ReservedConcurrency)
	}
	fn := awslambda.NewFunction(stack, jsii.String(id), props)
	return &detector{name: name, fn: fn, role: role}
}

// setRetention sets a log group's retention in days; the L2 construct only
// takes named constants, CloudFormation takes the number.
func setRetention(lg awslogs.LogGroup, days int) {
	lg.Node().DefaultChild().(awslogs.CfnLogGroup).SetRetentionInDays(jsii.Number(days))
}

// subscribe sends every event of an existing log group to the detector.
// The invoke permission is limited to that log group in this account and
// must exist before CloudWatch Logs tests the destination.
func subscribe(stack awscdk.Stack, a arns, d *detector, id string, logGroup *string) {
	perm := awslambda.NewCfnPermission(stack, jsii.String(id+"Invoke"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  d.fn.FunctionArn(),
		Principal:     jsii.String("logs.amazonaws.com"),
		SourceArn:     a.arn("logs", "log-group:"+*logGroup+":*"),
		SourceAccount: a.account,
	})
	filter := awslogs.NewCfnSubscriptionFilter(stack, jsii.String(id+"Subscription"), &awslogs.CfnSubscriptionFilterProps{
		LogGroupName:   logGroup,
		FilterName:     jsii.String(*stack.StackName() + "-" + d.name),
		FilterPattern:  jsii.String(""),
		DestinationArn: d.fn.FunctionArn(),
	})
	filter.Node().AddDependency(perm)
}
