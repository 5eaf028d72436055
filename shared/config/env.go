package config

import (
	"errors"
	"maps"
	"strings"

	"gopkg.in/yaml.v3"
)

// Environment variables FromEnv reads. Each overrides the setting of the
// same name from TIDEWATCH_CONFIG; an empty variable counts as unset.
const (
	// EnvConfig is a whole configuration: inline YAML or JSON when it
	// starts with "{" or contains a newline or ": ", otherwise a file path.
	EnvConfig = "TIDEWATCH_CONFIG"
	// EnvLearningPeriod is learningPeriod, e.g. "14d".
	EnvLearningPeriod = "TIDEWATCH_LEARNING_PERIOD"
	// EnvSensitivity is sensitivity as "det=1.5,det2=0.5"; each listed
	// detector overrides the file's value for that detector only.
	EnvSensitivity = "TIDEWATCH_SENSITIVITY"
	// EnvTrustedDeployers is trustedDeployers, comma-separated; it
	// replaces the file's list.
	EnvTrustedDeployers = "TIDEWATCH_TRUSTED_DEPLOYERS"
	// EnvRegistries is registries.allow, comma-separated; it replaces the
	// file's list.
	EnvRegistries = "TIDEWATCH_REGISTRIES"
	// EnvDestinations is destinations.allow, comma-separated CIDRs; it
	// replaces the file's list.
	EnvDestinations = "TIDEWATCH_DESTINATIONS"
	// EnvFlowFormat is flowFormat.
	EnvFlowFormat = "TIDEWATCH_FLOW_FORMAT"
	// EnvDefaultCluster is defaultCluster.
	EnvDefaultCluster = "TIDEWATCH_DEFAULT_CLUSTER"
	// EnvRegion is region; when neither it nor the file sets one, AWS_REGION
	// (set by Lambda) is used.
	EnvRegion = "TIDEWATCH_REGION"
	// EnvAccount is account.
	EnvAccount = "TIDEWATCH_ACCOUNT"
	// EnvMinSeverity is notify.minSeverity.
	EnvMinSeverity = "TIDEWATCH_NOTIFY_MIN_SEVERITY"
	// EnvAWSRegion is the region Lambda runs in, the last fallback for
	// region.
	EnvAWSRegion = "AWS_REGION"
)

// envFile is the Problem.File of problems in environment variables.
const envFile = "env"

// FromEnv builds the configuration of a Lambda function from its
// environment: Default, then TIDEWATCH_CONFIG (inline or a file), then each
// TIDEWATCH_* setting variable on top. lookup is os.LookupEnv in
// production. Every problem, in the configuration and in the variables, is
// returned at once in a *ValidationError; an unreadable TIDEWATCH_CONFIG
// file is a plain error.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	c := Default()
	var problems []Problem
	if src := get(EnvConfig); src != "" {
		var err error
		if inline(src) {
			c, err = Parse([]byte(src), EnvConfig)
		} else {
			c, err = Load(src)
		}
		var verr *ValidationError
		switch {
		case errors.As(err, &verr):
			problems = append(problems, verr.Problems...)
			c = Default()
		case err != nil:
			return Config{}, err
		}
	}

	d := newDecoder(envFile)
	if s := get(EnvLearningPeriod); s != "" {
		if v, ok := d.duration(scalarNode(s), EnvLearningPeriod); ok {
			c.LearningPeriod = v
		}
	}
	if s := get(EnvSensitivity); s != "" {
		m := &yaml.Node{Kind: yaml.MappingNode}
		for _, pair := range splitList(s) {
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				d.addf(nil, EnvSensitivity, "want detector=sensitivity, got %q", pair)
				continue
			}
			m.Content = append(m.Content, scalarNode(strings.TrimSpace(k)), scalarNode(strings.TrimSpace(v)))
		}
		c.Sensitivities = d.sensitivity(m, EnvSensitivity, maps.Clone(c.Sensitivities))
	}
	if s := get(EnvTrustedDeployers); s != "" {
		c.TrustedDeployers = d.deployers(listNode(s), EnvTrustedDeployers)
	}
	if s := get(EnvRegistries); s != "" {
		c.AllowedRegistries = d.registries(listNode(s), EnvRegistries)
	}
	if s := get(EnvDestinations); s != "" {
		c.AllowedDestinations = d.prefixes(listNode(s), EnvDestinations)
	}
	if s := get(EnvFlowFormat); s != "" {
		if v, ok := d.flowFormat(scalarNode(s), EnvFlowFormat); ok {
			c.FlowFormat = v
		}
	}
	if s := get(EnvDefaultCluster); s != "" {
		if v, ok := d.matching(scalarNode(s), EnvDefaultCluster, clusterRE, wantCluster); ok {
			c.DefaultCluster = v
		}
	}
	region := get(EnvRegion)
	regionVar := EnvRegion
	if region == "" && c.Region == "" {
		region, regionVar = get(EnvAWSRegion), EnvAWSRegion
	}
	if region != "" {
		if v, ok := d.matching(scalarNode(region), regionVar, regionRE, wantRegion); ok {
			c.Region = v
		}
	}
	if s := get(EnvAccount); s != "" {
		if v, ok := d.matching(scalarNode(s), EnvAccount, accountRE, "a 12-digit AWS account id"); ok {
			c.Account = v
		}
	}
	if s := get(EnvMinSeverity); s != "" {
		if v, ok := d.severity(scalarNode(s), EnvMinSeverity); ok {
			c.Notify.MinSeverity = v
		}
	}
	problems = append(problems, d.problems...)
	if len(problems) > 0 {
		return Config{}, &ValidationError{Problems: problems}
	}
	return c, nil
}

func inline(s string) bool {
	return strings.HasPrefix(s, "{") || strings.ContainsAny(s, "\n") || strings.Contains(s, ": ")
}

// scalarNode makes a line-less string node, so problems in environment
// variables render without a position.
func scalarNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func listNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, item := range splitList(s) {
		n.Content = append(n.Content, scalarNode(item))
	}
	return n
}

// splitList splits on commas, dropping blanks ("a, b,," is [a b]).
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
