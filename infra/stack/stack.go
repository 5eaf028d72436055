package stack

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awschatbot"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Defaults applied by [NewTidewatchStack] to zero props.
const (
	DefaultAssetDir         = "build"
	DefaultLogRetentionDays = 30
	DefaultLearningPeriod   = "24h"
)

// Asynchronous invocation settings shared by the functions: two retries,
// then the event goes to the dead-letter queue with the error, never away.
const (
	retryAttempts  = 2
	maxEventAgeSec = 6 * 60 * 60 // the Lambda maximum
)

// CheckAssets reports a missing <dir>/<function>/bootstrap with a hint, so
// synth fails with a clear message rather than a jsii stack trace.
func CheckAssets(dir string) error {
	var errs []error
	for _, name := range FunctionNames {
		p := filepath.Join(dir, name, "bootstrap")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			errs = append(errs, fmt.Errorf("asset %s is missing (run `make build`, or pass -c %s=DIR)", p, KeyAssetDir))
		}
	}
	return errors.Join(errs...)
}

// detector bundles what the stack wires to one function.
type detector struct {
	name string
	fn   awslambda.Function
	role awsiam.Role
}

// NewTidewatchStack defines the tidewatch stack. props may be nil; zero
// fields take the documented defaults. Log groups named in props must exist
// before deployment (a subscription filter cannot be put on a missing group).
func NewTidewatchStack(scope constructs.Construct, id string, props *TidewatchStackProps) awscdk.Stack {
	p := TidewatchStackProps{}
	if props != nil {
		p = *props
	}
	if p.AssetDir == "" {
		p.AssetDir = DefaultAssetDir
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	if p.LearningPeriod == "" {
		p.LearningPeriod = DefaultLearningPeriod
	}
	if p.FlowLogFormat == "" && len(p.VPCIDs) > 0 {
		p.FlowLogFormat = DefaultFlowLogFormat
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("tidewatch: detects containers used to evade security monitoring (flow logs, EKS audit, Container Insights)")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	a := newARNs(stack)

	key := awskms.NewKey(stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("tidewatch: encrypts the findings topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// CloudWatch alarms publish to the encrypted topic, so CloudWatch must
	// be able to create data keys; a key policy always names resource "*"
	// (the key itself).
	key.AddToResourcePolicy(serviceKeyUse("cloudwatch.amazonaws.com"), nil)

	topic := awssns.NewTopic(stack, jsii.String("Findings"), &awssns.TopicProps{
		DisplayName: jsii.String("tidewatch findings"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// EnforceSSL replaces the default topic policy, which let same-account
	// services publish; alarms need that back, limited to this account's
	// alarms.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": a.account},
			"ArnLike":      map[string]any{"aws:SourceArn": a.arn("cloudwatch", "alarm:*")},
		},
	}))
	for _, e := range p.NotifyEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}

	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String("ttl"),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:    awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	dlq := awssqs.NewQueue(stack, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	shared := []awsiam.PolicyStatement{
		allow("TableAccess", tableActions, table.TableArn()),
		allow("SecurityHubImport", []string{"securityhub:BatchImportFindings"},
			a.arn("securityhub", "product/"+*a.account+"/default")),
		allow("TopicPublish", []string{"sns:Publish"}, topic.TopicArn()),
		allow("TopicKeyUse", []string{"kms:GenerateDataKey", "kms:Decrypt"}, key.KeyArn()),
	}
	env := map[string]*string{
		"TIDEWATCH_TABLE":           table.TableName(),
		"TIDEWATCH_TOPIC_ARN":       topic.TopicArn(),
		"TIDEWATCH_SECURITYHUB":     jsii.String("true"),
		"TIDEWATCH_LEARNING_PERIOD": jsii.String(p.LearningPeriod),
	}
	dets := map[string]*detector{}
	for _, name := range FunctionNames {
		fenv := maps.Clone(env)
		if name == Flowlogs && p.FlowLogFormat != "" {
			fenv["TIDEWATCH_FLOW_FORMAT"] = jsii.String(p.FlowLogFormat)
		}
		dets[name] = newDetector(stack, name, &p, fenv, dlq, shared)
	}

	for _, c := range p.EKSClusters {
		subscribe(stack, a, dets[Audit], "EKSAudit-"+c, jsii.String("/aws/eks/"+c+"/cluster"))
		subscribe(stack, a, dets[Metrics], "EKSInsights-"+c, jsii.String("/aws/containerinsights/"+c+"/performance"))
	}
	for _, c := range p.ECSClusters {
		subscribe(stack, a, dets[Metrics], "ECSInsights-"+c, jsii.String("/aws/ecs/containerinsights/"+c+"/performance"))
	}
	for _, g := range p.FlowLogGroups {
		subscribe(stack, a, dets[Flowlogs], "FlowLogGroup-"+idPart(g), jsii.String(g))
	}
	if len(p.VPCIDs) > 0 {
		addFlowLogs(stack, a, &p, dets[Flowlogs])
	}
	if len(p.MemberAccounts) > 0 {
		addMemberAccounts(stack, a, &p, dets, dlq, topic)
	}
	addAlarms(stack, dets, dlq, topic)

	if p.SlackChannelID != "" {
		key.AddToResourcePolicy(serviceKeyUse("chatbot.amazonaws.com"), nil)
		guard := awsiam.NewManagedPolicy(stack, jsii.String("ChatbotGuardrail"), &awsiam.ManagedPolicyProps{
			Description: jsii.String("tidewatch: the most a Chatbot channel may do (read alarms)"),
			Statements: &[]awsiam.PolicyStatement{
				allow("ReadAlarms", []string{"cloudwatch:DescribeAlarms"}, a.arn("cloudwatch", "alarm:*")),
			},
		})
		awschatbot.NewSlackChannelConfiguration(stack, jsii.String("Slack"), &awschatbot.SlackChannelConfigurationProps{
			SlackChannelConfigurationName: jsii.String("tidewatch-" + p.SlackChannelID),
			SlackWorkspaceId:              jsii.String(p.SlackWorkspaceID),
			SlackChannelId:                jsii.String(p.SlackChannelID),
			NotificationTopics:            &[]awssns.ITopic{topic},
			// Without explicit guardrails Chatbot applies AdministratorAccess.
			GuardrailPolicies: &[]awsiam.IManagedPolicy{guard},
		})
	}

	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
	awscdk.NewCfnOutput(stack, jsii.String("DeadLetterQueueUrl"), &awscdk.CfnOutputProps{Value: dlq.QueueUrl()})
	return stack
}

// tableActions are the DynamoDB calls the store adapter makes; nothing
// else (no Scan, no table management).
var tableActions = []string{
	"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem",
	"dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem",
}

// arns builds ARNs of this stack's account, region and partition (tokens
// resolved at deploy time).
type arns struct {
	partition, region, account *string
}

func newARNs(stack awscdk.Stack) arns {
	return arns{partition: stack.Partition(), region: stack.Region(), account: stack.Account()}
}

// arn returns arn:<partition>:<service>:<region>:<account>:<resource>.
func (a arns) arn(service, resource string) *string {
	return jsii.String("arn:" + *a.partition + ":" + service + ":" + *a.region + ":" + *a.account + ":" + resource)
}

// allow is an Allow statement of the named actions on the named resources.
func allow(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

// serviceKeyUse lets an AWS service encrypt messages to the topic. The key
// serves only this topic, and the topic policy is what limits publishers to
// this account: the statement has no source condition because the SNS
// documentation's form for service publishers has none, and a condition the
// service does not send would silently drop every alarm.
func serviceKeyUse(service string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("Allow" + strings.TrimSuffix(service, ".amazonaws.com")),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	})
}

// title turns "flowlogs" into "Flowlogs" for construct ids.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// idPart makes a log group name usable in a construct id ("/" separates
// construct paths).
func idPart(s string) string {
	return strings.NewReplacer("/", "_").Replace(strings.Trim(s, "/"))
}
