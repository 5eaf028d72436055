package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// wildcardOnly are the actions the stack grants on resource "*" because
// IAM authorizes them on no narrower resource: the ECS list calls the flow
// log service makes to fill the v7 ECS fields.
var wildcardOnly = []string{"ecs:ListClusters", "ecs:ListServices", "ecs:ListTaskDefinitions", "ecs:ListTasks"}

// addFlowLogs creates a flow log for each VPC, into its own log group, with
// the configured format and one-minute aggregation, and subscribes the
// flowlogs detector to it.
func addFlowLogs(stack awscdk.Stack, a arns, p *TidewatchStackProps, d *detector) {
	role := awsiam.NewRole(stack, jsii.String("FlowLogDelivery"), &awsiam.RoleProps{
		Description: jsii.String("tidewatch: VPC flow logs deliver to their log groups"),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), nil),
			&map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": a.account},
				"ArnLike":      map[string]any{"aws:SourceArn": a.arn("ec2", "vpc-flow-log/*")},
			}),
	})
	if strings.Contains(p.FlowLogFormat, "${ecs-") {
		role.AddToPolicy(allow("ECSMetadata", wildcardOnly, jsii.String("*")))
		role.AddToPolicy(allow("ECSContainerInstances", []string{"ecs:ListContainerInstances"}, a.arn("ecs", "cluster/*")))
	}
	for _, vpc := range p.VPCIDs {
		lg := awslogs.NewLogGroup(stack, jsii.String("FlowLogs-"+vpc), &awslogs.LogGroupProps{
			// Flow logs are evidence: keep them when the stack goes.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		setRetention(lg, p.LogRetentionDays)
		role.AddToPolicy(allow("Deliver"+strings.TrimPrefix(vpc, "vpc-"),
			[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, lg.LogGroupArn()))
		fl := awsec2.NewCfnFlowLog(stack, jsii.String("FlowLog-"+vpc), &awsec2.CfnFlowLogProps{
			ResourceId:               jsii.String(vpc),
			ResourceType:             jsii.String("VPC"),
			TrafficType:              jsii.String("ALL"),
			LogDestinationType:       jsii.String("cloud-watch-logs"),
			LogGroupName:             lg.LogGroupName(),
			DeliverLogsPermissionArn: role.RoleArn(),
			LogFormat:                jsii.String(p.FlowLogFormat),
			MaxAggregationInterval:   jsii.Number(60),
		})
		fl.Node().AddDependency(role)
		subscribe(stack, a, d, "VPCFlowLogs-"+vpc, lg.LogGroupName())
	}
}
