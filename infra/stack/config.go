package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/flowlog"
)

// Context keys read by [PropsFromContext]. infra/README.md documents each
// with an example.
const (
	KeyEKSClusters      = "eksClusters"
	KeyECSClusters      = "ecsClusters"
	KeyFlowLogGroups    = "flowLogGroups"
	KeyVPCIDs           = "vpcIds"
	KeyNotifyEmails     = "notifyEmails"
	KeySlackWorkspaceID = "chatbotSlackWorkspaceId"
	KeySlackChannelID   = "chatbotSlackChannelId"
	KeyLearningPeriod   = "learningPeriod"
	KeyMemberAccounts   = "memberAccounts"
	KeyFlowLogFormat    = "flowLogFormat"
	KeyLogRetentionDays = "logRetentionDays"
	KeyAssetDir         = "assetDir"
	// Reserved concurrency per function: the function name followed by
	// "ReservedConcurrency", e.g. "flowlogsReservedConcurrency".
	keyConcurrencySuffix = "ReservedConcurrency"
)

// Function names; each is also the folder under AssetDir that holds its
// bootstrap binary and the prefix of its construct ids.
const (
	Flowlogs = "flowlogs"
	Audit    = "audit"
	Metrics  = "metrics"
)

// FunctionNames lists the detector functions in a fixed order.
var FunctionNames = []string{Flowlogs, Audit, Metrics}

// DefaultFlowLogFormat is the flow log format the stack creates, tidewatch's
// recommended one (see flowlog.RecommendedFormat), as an EC2 flow log
// LogFormat string ("${version} ${account-id} ..."). The flowlogs function
// receives the same string in TIDEWATCH_FLOW_FORMAT because CloudWatch Logs
// carries no header line to say which fields a record has.
const DefaultFlowLogFormat = flowlog.RecommendedFormat

// FlowLogFields are the field names of DefaultFlowLogFormat, in order.
var FlowLogFields = mustFormat(DefaultFlowLogFormat).Names()

func mustFormat(s string) flowlog.Format {
	f, err := flowlog.ParseFormat(s)
	if err != nil {
		panic("stack: " + err.Error())
	}
	return f
}

// FunctionSettings size one detector function. Zero fields take the
// defaults of [DefaultFunctionSettings].
type FunctionSettings struct {
	// MemoryMB is the function memory in MB.
	MemoryMB int
	// Timeout is the function timeout.
	Timeout time.Duration
	// ReservedConcurrency caps concurrent invocations so a burst of log
	// batches cannot exhaust the table's or the account's capacity.
	// Negative means unreserved; zero means the default.
	ReservedConcurrency int
}

// DefaultFunctionSettings returns the sizing used for a function when props
// leave it zero: flowlogs handles the largest batches.
func DefaultFunctionSettings(name string) FunctionSettings {
	if name == Flowlogs {
		return FunctionSettings{MemoryMB: 1024, Timeout: 60 * time.Second, ReservedConcurrency: 10}
	}
	return FunctionSettings{MemoryMB: 512, Timeout: 30 * time.Second, ReservedConcurrency: 5}
}

func (s FunctionSettings) withDefaults(name string) FunctionSettings {
	d := DefaultFunctionSettings(name)
	if s.MemoryMB == 0 {
		s.MemoryMB = d.MemoryMB
	}
	if s.Timeout == 0 {
		s.Timeout = d.Timeout
	}
	if s.ReservedConcurrency == 0 {
		s.ReservedConcurrency = d.ReservedConcurrency
	}
	return s
}

// TidewatchStackProps configure [NewTidewatchStack].
type TidewatchStackProps struct {
	awscdk.StackProps

	// AssetDir holds <function>/bootstrap for each of [FunctionNames]
	// (linux/arm64 binaries). Default "build".
	AssetDir string

	// EKSClusters are EKS cluster names: /aws/eks/<c>/cluster feeds audit,
	// /aws/containerinsights/<c>/performance feeds metrics.
	EKSClusters []string
	// ECSClusters are ECS cluster names:
	// /aws/ecs/containerinsights/<c>/performance feeds metrics.
	ECSClusters []string
	// FlowLogGroups are existing log groups of VPC flow logs; they feed
	// flowlogs and must use FlowLogFormat.
	FlowLogGroups []string
	// VPCIDs get flow logs created by the stack, each into its own log group.
	VPCIDs []string
	// FlowLogFormat is the LogFormat of created flow logs and the format the
	// flowlogs function parses. Default [DefaultFlowLogFormat] when VPCIDs
	// is set; empty otherwise (the function then expects the default format).
	FlowLogFormat string
	// NotifyEmails subscribe to the findings topic.
	NotifyEmails []string
	// SlackWorkspaceID and SlackChannelID, both set, subscribe an AWS
	// Chatbot Slack channel to the topic.
	SlackWorkspaceID string
	SlackChannelID   string
	// LearningPeriod is how long a new workload only learns (e.g. "24h").
	LearningPeriod string
	// MemberAccounts are other accounts whose log groups send to this one
	// through CloudWatch Logs destinations (see multiaccount.go).
	MemberAccounts []string
	// LogRetentionDays is the retention of the functions' and the created
	// flow logs' log groups. Default 30.
	LogRetentionDays int

	// Flowlogs, Audit and Metrics size the functions.
	Flowlogs, Audit, Metrics FunctionSettings
}

// settings returns the sizing of the named function, defaults applied.
func (p *TidewatchStackProps) settings(name string) FunctionSettings {
	return p.sizing(name).withDefaults(name)
}

// sizing returns the field of p that sizes the named function.
func (p *TidewatchStackProps) sizing(name string) *FunctionSettings {
	switch name {
	case Flowlogs:
		return &p.Flowlogs
	case Audit:
		return &p.Audit
	default:
		return &p.Metrics
	}
}

var (
	reVPC         = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	reLogGroup    = regexp.MustCompile(`^[A-Za-z0-9_/.#-]{1,512}$`)
	reSlackID     = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
	reDays        = regexp.MustCompile(`^[1-9][0-9]*d$`)
	retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// PropsFromContext builds stack props from CDK context values; get returns
// the raw value of a key (nil when unset), as Node.TryGetContext does.
// Lists accept a JSON array (cdk.json, or -c key='["a","b"]') or a
// comma-separated string (-c key=a,b). Every value is validated so a typo
// fails synth instead of a deployment.
func PropsFromContext(get func(key string) any) (*TidewatchStackProps, error) {
	p := &TidewatchStackProps{}
	lists := []struct {
		key   string
		dst   *[]string
		valid func(string) bool
		what  string
	}{
		{KeyEKSClusters, &p.EKSClusters, config.ValidCluster, "a cluster name"},
		{KeyECSClusters, &p.ECSClusters, config.ValidCluster, "a cluster name"},
		{KeyFlowLogGroups, &p.FlowLogGroups, reLogGroup.MatchString, "a log group name"},
		{KeyVPCIDs, &p.VPCIDs, reVPC.MatchString, "a VPC id (vpc-0123abcd...)"},
		{KeyNotifyEmails, &p.NotifyEmails, validEmail, "an e-mail address"},
		{KeyMemberAccounts, &p.MemberAccounts, config.ValidAccount, "a 12-digit account id"},
	}
	for _, l := range lists {
		v, err := List(get(l.key))
		if err != nil {
			return nil, fmt.Errorf("context %s: %w", l.key, err)
		}
		for _, s := range v {
			if !l.valid(s) {
				return nil, fmt.Errorf("context %s: %q is not %s", l.key, s, l.what)
			}
		}
		*l.dst = v
	}

	strs := []struct {
		key string
		dst *string
	}{
		{KeySlackWorkspaceID, &p.SlackWorkspaceID},
		{KeySlackChannelID, &p.SlackChannelID},
		{KeyLearningPeriod, &p.LearningPeriod},
		{KeyFlowLogFormat, &p.FlowLogFormat},
		{KeyAssetDir, &p.AssetDir},
	}
	for _, s := range strs {
		v, err := String(get(s.key))
		if err != nil {
			return nil, fmt.Errorf("context %s: %w", s.key, err)
		}
		*s.dst = v
	}
	if (p.SlackWorkspaceID == "") != (p.SlackChannelID == "") {
		return nil, fmt.Errorf("context %s and %s: set both or neither", KeySlackWorkspaceID, KeySlackChannelID)
	}
	for _, id := range []string{p.SlackWorkspaceID, p.SlackChannelID} {
		if id != "" && !reSlackID.MatchString(id) {
			return nil, fmt.Errorf("context chatbot Slack id %q: want letters and digits only", id)
		}
	}
	if p.LearningPeriod != "" && !validPeriod(p.LearningPeriod) {
		return nil, fmt.Errorf("context %s: %q is not a duration like 24h or 7d", KeyLearningPeriod, p.LearningPeriod)
	}

	days, err := Int(get(KeyLogRetentionDays))
	if err != nil {
		return nil, fmt.Errorf("context %s: %w", KeyLogRetentionDays, err)
	}
	if days != 0 && !slices.Contains(retentionDays, days) {
		return nil, fmt.Errorf("context %s: %d is not a CloudWatch Logs retention (one of %v)", KeyLogRetentionDays, days, retentionDays)
	}
	p.LogRetentionDays = days

	for _, name := range FunctionNames {
		key := name + keyConcurrencySuffix
		raw := get(key)
		if raw == nil {
			continue
		}
		n, err := Int(raw)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("context %s: want a number >= 0 (0 = unreserved), got %v", key, raw)
		}
		if n == 0 {
			n = -1
		}
		*p.sizing(name) = FunctionSettings{ReservedConcurrency: n}
	}
	return p, nil
}

// List converts a context value to a list of strings: nil gives nil, a JSON
// array (already decoded, or as a string starting with "[") gives its
// elements, any other string is split at commas. Blank items are dropped.
func List(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list item %v is a %T, want a string", e, e)
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []string:
		return List(toAny(t))
	case string:
		s := strings.TrimSpace(t)
		if strings.HasPrefix(s, "[") {
			var items []any
			if err := json.Unmarshal([]byte(s), &items); err != nil {
				return nil, fmt.Errorf("parse JSON list: %w", err)
			}
			return List(items)
		}
		var out []string
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("got a %T, want a list or a comma-separated string", v)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// String converts a context value to a trimmed string; nil gives "".
func String(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(t), nil
	default:
		return "", fmt.Errorf("got a %T, want a string", v)
	}
}

// Int converts a context value (a JSON number or a decimal string) to an
// int; nil gives 0.
func Int(v any) (int, error) {
	switch t := v.(type) {
	case nil:
		return 0, nil
	case float64:
		if t != float64(int(t)) {
			return 0, fmt.Errorf("%v is not a whole number", t)
		}
		return int(t), nil
	case int:
		return t, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", t)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("got a %T, want a number", v)
	}
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " ,;<>")
}

func validPeriod(s string) bool {
	if reDays.MatchString(s) {
		return true
	}
	d, err := time.ParseDuration(s)
	return err == nil && d > 0
}
