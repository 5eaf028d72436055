package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// testDir holds the dummy assets and the cloud assembly for all tests.
var testDir string

func TestMain(m *testing.M) {
	// The node runtime jsii starts warns loudly about node 20 otherwise.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	var err error
	if testDir, err = os.MkdirTemp("", "tidewatch-infra-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	os.RemoveAll(testDir)
	os.Exit(code)
}

// Synthesizing drives the jsii (node) runtime and takes seconds, so each
// configuration is synthesized once and shared by the subtests.
var (
	synthOnce sync.Once
	full      synthesized
	minimal   synthesized
	synthErr  error
)

// synthesized is one stack's template, as the assertions library sees it
// and as plain JSON for walking.
type synthesized struct {
	tmpl assertions.Template
	json map[string]any
}

// fullProps is the configuration the brief's checks use: two EKS clusters,
// one ECS cluster, one existing flow log group, one VPC, members, e-mail
// and Slack.
func fullProps(assetDir string) *TidewatchStackProps {
	return &TidewatchStackProps{
		AssetDir:         assetDir,
		EKSClusters:      []string{"prod", "stage"},
		ECSClusters:      []string{"svc"},
		FlowLogGroups:    []string{"/custom/flow-logs"},
		VPCIDs:           []string{"vpc-0123456789abcdef0"},
		NotifyEmails:     []string{"sec@example.com", "oncall@example.com"},
		SlackWorkspaceID: "T0123ABCD",
		SlackChannelID:   "C0456EFGH",
		LearningPeriod:   "48h",
		MemberAccounts:   []string{"111111111111", "222222222222"},
	}
}

func templates(t *testing.T) (synthesized, synthesized) {
	t.Helper()
	synthOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				synthErr = fmt.Errorf("synth panicked: %v", r)
			}
		}()
		dir := filepath.Join(testDir, "assets")
		writeAssets(t, dir)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(testDir, "cdk.out"))})
		// Both stacks exist before the first synth: the tree is frozen then.
		fullStack := NewTidewatchStack(app, "Full", fullProps(dir))
		minimalStack := NewTidewatchStack(app, "Minimal", &TidewatchStackProps{AssetDir: dir})
		full = synth(fullStack)
		minimal = synth(minimalStack)
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return full, minimal
}

func synth(s awscdk.Stack) synthesized {
	tmpl := assertions.Template_FromStack(s, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return synthesized{tmpl: tmpl, json: m}
}

// check runs an assertions call, which panics on mismatch, as a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the template's resources of one type by logical id.
func (s synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

func TestFullStack(t *testing.T) {
	s, _ := templates(t)

	t.Run("resource counts", func(t *testing.T) {
		for typ, n := range map[string]int{
			"AWS::Lambda::Function":                   3,
			"AWS::Lambda::EventInvokeConfig":          3,
			"AWS::DynamoDB::Table":                    1,
			"AWS::SNS::Topic":                         1,
			"AWS::SNS::Subscription":                  2,
			"AWS::SQS::Queue":                         1,
			"AWS::KMS::Key":                           1,
			"AWS::EC2::FlowLog":                       1,
			"AWS::Logs::LogGroup":                     4, // 3 functions + 1 VPC
			"AWS::Logs::SubscriptionFilter":           7, // 2×2 EKS + 1 ECS + 1 group + 1 VPC
			"AWS::Lambda::Permission":                 7,
			"AWS::Kinesis::Stream":                    3,
			"AWS::Logs::Destination":                  3,
			"AWS::Lambda::EventSourceMapping":         3,
			"AWS::CloudWatch::Alarm":                  10, // 3×(errors, throttles, iterator age) + DLQ
			"AWS::Chatbot::SlackChannelConfiguration": 1,
		} {
			check(t, typ, func() { s.tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
		}
	})

	t.Run("functions", func(t *testing.T) {
		fns := s.resources("AWS::Lambda::Function")
		mem := map[float64]int{}
		for id, r := range fns {
			p := props(r)
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
				t.Errorf("%s: runtime %v handler %v, want provided.al2023 bootstrap", id, p["Runtime"], p["Handler"])
			}
			if !slices.Equal(toStrings(p["Architectures"]), []string{"arm64"}) {
				t.Errorf("%s: architectures %v, want [arm64]", id, p["Architectures"])
			}
			lc, _ := p["LoggingConfig"].(map[string]any)
			if lc["LogFormat"] != "JSON" || lc["LogGroup"] == nil {
				t.Errorf("%s: logging config %v, want JSON into its own group", id, lc)
			}
			vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			for _, k := range []string{"TIDEWATCH_TABLE", "TIDEWATCH_TOPIC_ARN", "TIDEWATCH_SECURITYHUB", "TIDEWATCH_LEARNING_PERIOD"} {
				if vars[k] == nil {
					t.Errorf("%s: env lacks %s", id, k)
				}
			}
			if vars["TIDEWATCH_LEARNING_PERIOD"] != "48h" || vars["TIDEWATCH_SECURITYHUB"] != "true" {
				t.Errorf("%s: env %v", id, vars)
			}
			mem[p["MemorySize"].(float64)]++
			if strings.HasPrefix(id, "Flowlogs") {
				if vars["TIDEWATCH_FLOW_FORMAT"] != DefaultFlowLogFormat {
					t.Errorf("flowlogs TIDEWATCH_FLOW_FORMAT = %v, want the created flow logs' format", vars["TIDEWATCH_FLOW_FORMAT"])
				}
				if p["Timeout"] != 60.0 || p["ReservedConcurrentExecutions"] != 10.0 {
					t.Errorf("flowlogs timeout %v concurrency %v, want 60 and 10", p["Timeout"], p["ReservedConcurrentExecutions"])
				}
			} else if _, ok := vars["TIDEWATCH_FLOW_FORMAT"]; ok {
				t.Errorf("%s: has TIDEWATCH_FLOW_FORMAT, only flowlogs parses flow logs", id)
			}
		}
		if mem[1024] != 1 || mem[512] != 2 {
			t.Errorf("memory sizes %v, want one 1024 and two 512", mem)
		}
	})

	t.Run("subscription filters", func(t *testing.T) {
		want := map[string]string{
			"/aws/eks/prod/cluster":                      "Audit",
			"/aws/eks/stage/cluster":                     "Audit",
			"/aws/containerinsights/prod/performance":    "Metrics",
			"/aws/containerinsights/stage/performance":   "Metrics",
			"/aws/ecs/containerinsights/svc/performance": "Metrics",
			"/custom/flow-logs":                          "Flowlogs",
		}
		got := map[string]string{}
		refs := 0
		for id, r := range s.resources("AWS::Logs::SubscriptionFilter") {
			p := props(r)
			if p["FilterPattern"] != "" {
				t.Errorf("%s: filter pattern %q, want all events", id, p["FilterPattern"])
			}
			dest := fmt.Sprint(p["DestinationArn"])
			fn := ""
			for _, f := range []string{"Flowlogs", "Audit", "Metrics"} {
				if strings.Contains(dest, f) {
					fn = f
				}
			}
			if name, ok := p["LogGroupName"].(string); ok {
				got[name] = fn
			} else if fn == "Flowlogs" {
				refs++ // the created VPC flow log group, by Ref
			}
			if deps := toStrings(r["DependsOn"]); len(deps) == 0 {
				t.Errorf("%s: no DependsOn its invoke permission", id)
			}
		}
		if diff := cmpMaps(want, got); diff != "" {
			t.Errorf("subscriptions: %s", diff)
		}
		if refs != 1 {
			t.Errorf("%d subscriptions on created flow log groups, want 1", refs)
		}
		for id, r := range s.resources("AWS::Lambda::Permission") {
			p := props(r)
			if p["Principal"] != "logs.amazonaws.com" || p["SourceAccount"] == nil || !strings.Contains(fmt.Sprint(p["SourceArn"]), ":log-group:") {
				t.Errorf("%s: permission %v, want logs.amazonaws.com scoped to a log group and account", id, p)
			}
		}
	})

	t.Run("flow log", func(t *testing.T) {
		check(t, "flow log", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), &map[string]any{
				"ResourceId":             "vpc-0123456789abcdef0",
				"ResourceType":           "VPC",
				"TrafficType":            "ALL",
				"LogDestinationType":     "cloud-watch-logs",
				"LogFormat":              DefaultFlowLogFormat,
				"MaxAggregationInterval": 60,
			})
		})
	})

	t.Run("no wildcard permissions", func(t *testing.T) {
		noWildcards(t, s)
	})

	t.Run("encryption", func(t *testing.T) {
		for id, r := range s.resources("AWS::DynamoDB::Table") {
			if sse, _ := props(r)["SSESpecification"].(map[string]any); sse["SSEEnabled"] != true {
				t.Errorf("%s: SSE %v, want enabled", id, sse)
			}
		}
		for id, r := range s.resources("AWS::SNS::Topic") {
			if props(r)["KmsMasterKeyId"] == nil {
				t.Errorf("%s: topic not KMS-encrypted", id)
			}
		}
		for id, r := range s.resources("AWS::SQS::Queue") {
			if props(r)["SqsManagedSseEnabled"] != true {
				t.Errorf("%s: queue not encrypted", id)
			}
		}
		for id, r := range s.resources("AWS::Kinesis::Stream") {
			if enc, _ := props(r)["StreamEncryption"].(map[string]any); enc["EncryptionType"] != "KMS" {
				t.Errorf("%s: stream encryption %v", id, enc)
			}
		}
		for id, r := range s.resources("AWS::KMS::Key") {
			if props(r)["EnableKeyRotation"] != true {
				t.Errorf("%s: key rotation off", id)
			}
		}
		check(t, "topic enforces TLS", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Deny",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					}),
				})},
			})
		})
	})

	t.Run("table", func(t *testing.T) {
		check(t, "table", func() {
			s.tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
				"DeletionPolicy": "Retain",
				"Properties": map[string]any{
					"BillingMode":                      "PAY_PER_REQUEST",
					"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
					"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
					"KeySchema": []any{
						map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
						map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
					},
				},
			})
		})
	})

	t.Run("failure handling", func(t *testing.T) {
		for id, r := range s.resources("AWS::Lambda::EventInvokeConfig") {
			p := props(r)
			dc, _ := p["DestinationConfig"].(map[string]any)
			if p["MaximumRetryAttempts"] != 2.0 || p["MaximumEventAgeInSeconds"] == nil || dc["OnFailure"] == nil {
				t.Errorf("%s: %v, want 2 retries, a max age and an on-failure queue", id, p)
			}
		}
		for id, r := range s.resources("AWS::Lambda::EventSourceMapping") {
			p := props(r)
			if p["BisectBatchOnFunctionError"] != true || p["DestinationConfig"] == nil || p["MaximumRetryAttempts"] != 2.0 {
				t.Errorf("%s: %v, want bisect, retries and an on-failure queue", id, p)
			}
		}
	})

	t.Run("alarms notify the topic", func(t *testing.T) {
		metrics := map[string]int{}
		for id, r := range s.resources("AWS::CloudWatch::Alarm") {
			p := props(r)
			metrics[fmt.Sprint(p["MetricName"])]++
			if acts := fmt.Sprint(p["AlarmActions"]); !strings.Contains(acts, "Findings") {
				t.Errorf("%s: alarm actions %s, want the findings topic", id, acts)
			}
		}
		want := map[string]int{"Errors": 3, "Throttles": 3, "IteratorAge": 3, "ApproximateNumberOfMessagesVisible": 1}
		if diff := cmpMaps(want, metrics); diff != "" {
			t.Errorf("alarm metrics: %s", diff)
		}
	})

	t.Run("log retention", func(t *testing.T) {
		for id, r := range s.resources("AWS::Logs::LogGroup") {
			if props(r)["RetentionInDays"] != float64(DefaultLogRetentionDays) {
				t.Errorf("%s: retention %v, want %d", id, props(r)["RetentionInDays"], DefaultLogRetentionDays)
			}
		}
	})

	t.Run("member accounts", func(t *testing.T) {
		for id, r := range s.resources("AWS::Logs::Destination") {
			pol := fmt.Sprint(props(r)["DestinationPolicy"])
			for _, acct := range []string{"111111111111", "222222222222"} {
				if !strings.Contains(pol, acct) {
					t.Errorf("%s: destination policy lacks member %s: %s", id, acct, pol)
				}
			}
			if !strings.Contains(fmt.Sprint(props(r)["TargetArn"]), "Stream") {
				t.Errorf("%s: target %v, want a Kinesis stream", id, props(r)["TargetArn"])
			}
		}
	})

	t.Run("chatbot guardrail", func(t *testing.T) {
		for id, r := range s.resources("AWS::Chatbot::SlackChannelConfiguration") {
			p := props(r)
			if p["GuardrailPolicies"] == nil || p["SnsTopicArns"] == nil {
				t.Errorf("%s: %v, want explicit guardrails and the topic", id, p)
			}
		}
	})
}

func TestMinimalStack(t *testing.T) {
	_, s := templates(t)
	for typ, n := range map[string]int{
		"AWS::Lambda::Function":                   3,
		"AWS::Logs::SubscriptionFilter":           0,
		"AWS::EC2::FlowLog":                       0,
		"AWS::Kinesis::Stream":                    0,
		"AWS::SNS::Subscription":                  0,
		"AWS::Chatbot::SlackChannelConfiguration": 0,
		"AWS::CloudWatch::Alarm":                  7,
	} {
		check(t, typ, func() { s.tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
	}
	for id, r := range s.resources("AWS::Lambda::Function") {
		vars := props(r)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if _, ok := vars["TIDEWATCH_FLOW_FORMAT"]; ok {
			t.Errorf("%s: TIDEWATCH_FLOW_FORMAT set although the stack creates no flow logs", id)
		}
		if vars["TIDEWATCH_LEARNING_PERIOD"] != DefaultLearningPeriod {
			t.Errorf("%s: learning period %v, want default %s", id, vars["TIDEWATCH_LEARNING_PERIOD"], DefaultLearningPeriod)
		}
	}
	noWildcards(t, s)
}

// noWildcards fails t for every problem wildcardProblems finds.
func noWildcards(t *testing.T, s synthesized) {
	t.Helper()
	for _, p := range wildcardProblems(s.json) {
		t.Error(p)
	}
}

// wildcardProblems walks every IAM policy in a template: no Allow statement
// may name action "*" or "<service>:*", nor resource "*" unless all its
// actions are in wildcardOnly, nor any principal. Key policies must say
// resource "*" (the key); there only the account root may hold kms:*.
// Roles may not attach managed policies.
func wildcardProblems(tmpl map[string]any) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	resources, _ := tmpl["Resources"].(map[string]any)
	for id, r := range resources {
		res := r.(map[string]any)
		p := props(res)
		var docs []any
		switch res["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy":
			docs = append(docs, p["PolicyDocument"])
		case "AWS::IAM::Role":
			if p["ManagedPolicyArns"] != nil {
				bad("%s: role has managed policies %v", id, p["ManagedPolicyArns"])
			}
			for _, pol := range asList(p["Policies"]) {
				docs = append(docs, pol.(map[string]any)["PolicyDocument"])
			}
		case "AWS::KMS::Key":
			for _, st := range statements(p["KeyPolicy"]) {
				if st["Effect"] != "Allow" {
					continue
				}
				root := strings.Contains(fmt.Sprint(st["Principal"]), ":root")
				for _, a := range toStrings(st["Action"]) {
					if strings.HasSuffix(a, "*") && !root && a != "kms:GenerateDataKey*" {
						bad("%s: key policy grants %s to %v", id, a, st["Principal"])
					}
				}
			}
		}
		for _, doc := range docs {
			for _, st := range statements(doc) {
				if st["Effect"] != "Allow" {
					continue
				}
				acts := toStrings(st["Action"])
				if len(acts) == 0 {
					bad("%s: statement without Action (NotAction?): %v", id, st)
				}
				for _, a := range acts {
					if a == "*" || strings.HasSuffix(a, ":*") {
						bad("%s: wildcard action %q", id, a)
					}
				}
				if st["NotResource"] != nil {
					bad("%s: NotResource in %v", id, st)
				}
				for _, rs := range asList(st["Resource"]) {
					if rs != "*" {
						continue
					}
					for _, a := range acts {
						if !slices.Contains(wildcardOnly, a) {
							bad("%s: %s on resource *", id, a)
						}
					}
				}
				if pr, ok := st["Principal"]; ok && (pr == "*" || fmt.Sprint(pr) == "map[AWS:*]") {
					bad("%s: Allow to any principal: %v", id, st)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestWildcardProblems proves the walker catches what it is for, so the
// clean results above mean something.
func TestWildcardProblems(t *testing.T) {
	var tmpl map[string]any
	err := json.Unmarshal([]byte(`{"Resources": {
		"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
			{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"},
			{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"},
			{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"},
			{"Effect": "Deny", "Action": "*", "Resource": "*"}]}}},
		"R": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}},
		"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
			{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
			{"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}]}}}
	}}`), &tmpl)
	if err != nil {
		t.Fatal(err)
	}
	got := wildcardProblems(tmpl)
	want := []string{
		"K: key policy grants kms:* to map[Service:x.amazonaws.com]",
		`P: sns:Publish on resource *`,
		`P: wildcard action "dynamodb:*"`,
		"R: role has managed policies [arn:aws:iam::aws:policy/AdministratorAccess]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("wildcardProblems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func statements(doc any) []map[string]any {
	d, _ := doc.(map[string]any)
	var out []map[string]any
	for _, s := range asList(d["Statement"]) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range asList(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func cmpMaps[V comparable](want, got map[string]V) string {
	var b strings.Builder
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			fmt.Fprintf(&b, "%s: got %v, want %v; ", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "unexpected %s: %v; ", k, v)
		}
	}
	return b.String()
}
