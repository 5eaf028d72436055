package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tidewatch/tidewatch/shared/signal"
)

var cmpOpts = cmp.Options{
	cmpopts.IgnoreUnexported(Window{}),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func exampleConfig() Config {
	c := Default()
	c.LearningPeriod = 14 * 24 * time.Hour
	c.Sensitivities = map[string]float64{"net-flood": 1.5, "res-cpu": 0.5}
	c.TrustedDeployers = []string{
		"system:serviceaccount:argocd:argocd-application-controller",
		"system:serviceaccount:flux-system:*",
		"arn:aws:sts::111122223333:assumed-role/github-deploy/*",
	}
	c.AllowedRegistries = []string{"111122223333.dkr.ecr.eu-west-1.amazonaws.com", "public.ecr.aws/eks-distro", "ghcr.io/acme", "docker.io/library"}
	c.AllowedDestinations = []netip.Prefix{pfx("10.0.0.0/8"), pfx("198.51.100.0/24"), pfx("2001:db8:1234::/48")}
	c.Ignore = []Rule{
		{Detectors: []string{"k8s-exec"}, Namespaces: []string{"dev-*"}, Users: []string{"system:serviceaccount:ci:*"},
			Reason: "CI runs smoke tests with kubectl exec in dev namespaces"},
		{Detectors: []string{"net-flood", "net-flood-target", "res-net-tx"}, Workloads: []string{"eks/prod/perf/Deployment/load-generator"},
			Destinations: []netip.Prefix{pfx("203.0.113.0/24")}, Reason: "weekly load test against the staging edge"},
		{Detectors: []string{"k8s-untrusted-registry"}, Images: []string{"quay.io/prometheus/*"}, Reason: "monitoring stack, reviewed 2026-01"},
	}
	c.MaintenanceWindows = []Window{
		{Workloads: []string{"eks/prod/*/Deployment/*"}, Days: []time.Weekday{time.Saturday},
			From: 22 * time.Hour, To: 4 * time.Hour, Timezone: "Europe/Paris",
			Reason: "weekly node rotation (Saturday 22:00 to Sunday 04:00)"},
		{Namespaces: []string{"payments"}, Detectors: []string{"res-cpu", "res-memory"},
			Start: utc("2026-03-01T01:00:00Z"), End: utc("2026-03-01T05:00:00Z"), Reason: "database migration"},
	}
	c.FlowFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${pkt-srcaddr} ${pkt-dstaddr} ${tcp-flags}"
	c.DefaultCluster = "prod"
	c.Region = "eu-west-1"
	c.Account = "111122223333"
	c.Notify.MinSeverity = signal.High
	return c
}

func TestLoadExample(t *testing.T) {
	got, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exampleConfig(), got, cmpOpts); diff != "" {
		t.Errorf("Load(example.yaml) mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestDefault(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n", "{}", "null"} {
		got, err := Parse([]byte(src), "empty.yaml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if diff := cmp.Diff(Default(), got, cmpOpts); diff != "" {
			t.Errorf("Parse(%q) is not Default (-want +got):\n%s", src, diff)
		}
	}
	c := Default()
	if c.LearningPeriod != 24*time.Hour || c.Notify.MinSeverity != signal.Medium || c.Sensitivity("net-flood") != 1 {
		t.Errorf("Default() = %+v", c)
	}
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(c *Config)
	}{
		{"learningPeriod hours", "learningPeriod: 36h", func(c *Config) { c.LearningPeriod = 36 * time.Hour }},
		{"learningPeriod days", "learningPeriod: 14d", func(c *Config) { c.LearningPeriod = 14 * 24 * time.Hour }},
		{"learningPeriod days and hours", "learningPeriod: 1d12h30m", func(c *Config) { c.LearningPeriod = 36*time.Hour + 30*time.Minute }},
		{"learningPeriod null keeps default", "learningPeriod:", func(c *Config) {}},
		{"sensitivity", "sensitivity: {net-flood: 1.5, res-cpu: 2, k8s-exec: 0.25}", func(c *Config) {
			c.Sensitivities = map[string]float64{"net-flood": 1.5, "res-cpu": 2, "k8s-exec": 0.25}
		}},
		{"trustedDeployers list", "trustedDeployers: [a, 'system:serviceaccount:argocd:*']", func(c *Config) {
			c.TrustedDeployers = []string{"a", "system:serviceaccount:argocd:*"}
		}},
		{"trustedDeployers single value", "trustedDeployers: admin", func(c *Config) { c.TrustedDeployers = []string{"admin"} }},
		{"registries", "registries:\n  allow: [GHCR.io/acme, '*.dkr.ecr.eu-west-1.amazonaws.com', localhost:5000]", func(c *Config) {
			c.AllowedRegistries = []string{"ghcr.io/acme", "*.dkr.ecr.eu-west-1.amazonaws.com", "localhost:5000"}
		}},
		{"destinations", "destinations:\n  allow: [10.0.0.0/8, '2001:db8::/32', 192.0.2.7, '::ffff:10.1.0.0/112']", func(c *Config) {
			c.AllowedDestinations = []netip.Prefix{pfx("10.0.0.0/8"), pfx("2001:db8::/32"), pfx("192.0.2.7/32"), pfx("10.1.0.0/16")}
		}},
		{"ignore all detectors", `ignore: [{detectors: "*", namespaces: [kube-system]}]`, func(c *Config) {
			c.Ignore = []Rule{{Detectors: []string{"*"}, Namespaces: []string{"kube-system"}}}
		}},
		{"ignore condition only", `ignore: [{workloads: [nginx-*], reason: r}]`, func(c *Config) {
			c.Ignore = []Rule{{Workloads: []string{"nginx-*"}, Reason: "r"}}
		}},
		{"ignore detector only", `ignore: [{detectors: [net-beacon]}]`, func(c *Config) {
			c.Ignore = []Rule{{Detectors: []string{"net-beacon"}}}
		}},
		{"window recurring defaults", `maintenanceWindows: [{from: "00:00", to: "24:00"}]`, func(c *Config) {
			c.MaintenanceWindows = []Window{{From: 0, To: 24 * time.Hour}}
		}},
		{"window days full names", `maintenanceWindows: [{days: [Saturday, SUN, sat], from: "01:30", to: "02:45:30", timezone: America/New_York}]`, func(c *Config) {
			c.MaintenanceWindows = []Window{{Days: []time.Weekday{time.Saturday, time.Sunday}, From: 90 * time.Minute,
				To: 2*time.Hour + 45*time.Minute + 30*time.Second, Timezone: "America/New_York"}}
		}},
		{"window one-off with offset", `maintenanceWindows: [{start: "2026-03-01T02:00:00+01:00", end: 2026-03-01T04:00:00Z}]`, func(c *Config) {
			c.MaintenanceWindows = []Window{{Start: utc("2026-03-01T01:00:00Z"), End: utc("2026-03-01T04:00:00Z")}}
		}},
		{"flowFormat normalised", "flowFormat: '${version}   ${srcaddr} ${dstaddr}'", func(c *Config) { c.FlowFormat = "${version} ${srcaddr} ${dstaddr}" }},
		{"defaultCluster", "defaultCluster: prod_eu-1", func(c *Config) { c.DefaultCluster = "prod_eu-1" }},
		{"region", "region: us-gov-west-1", func(c *Config) { c.Region = "us-gov-west-1" }},
		{"account unquoted leading zero", "account: 012345678901", func(c *Config) { c.Account = "012345678901" }},
		{"notify", "notify: {minSeverity: critical}", func(c *Config) { c.Notify.MinSeverity = signal.Critical }},
		{"JSON with tabs", "{\n\t\"learningPeriod\": \"2d\",\n\t\"notify\": {\"minSeverity\": \"LOW\"}\n}", func(c *Config) {
			c.LearningPeriod = 48 * time.Hour
			c.Notify.MinSeverity = signal.Low
		}},
		{"anchors and aliases", "ignore:\n  - &r {detectors: [k8s-exec], namespaces: [a]}\n  - *r\n", func(c *Config) {
			r := Rule{Detectors: []string{"k8s-exec"}, Namespaces: []string{"a"}}
			c.Ignore = []Rule{r, r}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src), "c.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.want(&want)
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the whole Error(), one problem per line
	}{
		{"syntax", "learningPeriod: [\n", "c.yaml:1:1: syntax: did not find expected node content"},
		{"not a mapping", "- a\n- b\n", "c.yaml:1:1: want a mapping, got a list"},
		{"two documents", "region: eu-west-1\n---\nregion: us-east-1\n", "c.yaml:2:1: a second YAML document; put every setting in one"},
		{"unknown key with suggestion", "learningperiod: 1d\n", `c.yaml:1:1: learningperiod: unknown key (did you mean "learningPeriod"?)`},
		{"unknown key far from all", "colour: red\n", "c.yaml:1:1: colour: unknown key (known: " + strings.Join(topKeys, ", ") + ")"},
		{"unknown nested key", "registries:\n  allowed: [a.io]\n", `c.yaml:2:3: registries.allowed: unknown key (did you mean "allow"?)`},
		{"duplicate key", "region: eu-west-1\nregion: eu-west-2\n", "c.yaml:2:1: region: duplicate key; first set at line 1"},
		{"non-string key", "? [a]\n: b\n", "c.yaml:1:3: a key must be a string, got a list"},
		{"bad duration", "learningPeriod: fortnight\n", `c.yaml:1:17: learningPeriod: want a duration such as 36h or 14d: "fortnight": invalid duration "fortnight"`},
		{"bare number duration", "learningPeriod: 24\n", `c.yaml:1:17: learningPeriod: want a duration such as 36h or 14d: "24": missing unit in duration "24"`},
		{"negative duration", "learningPeriod: -1h\n", `c.yaml:1:17: learningPeriod: want a duration such as 36h or 14d: "-1h" must be positive`},
		{"bad days", "learningPeriod: 1.5d\n", `c.yaml:1:17: learningPeriod: want a duration such as 36h or 14d: bad number of days in "1.5d"`},
		{"duration as list", "learningPeriod: [1h]\n", "c.yaml:1:17: learningPeriod: want a duration such as 36h or 14d, got a list"},
		{"unknown detector in sensitivity", "sensitivity:\n  net-flod: 2\n", `c.yaml:2:3: sensitivity.net-flod: unknown detector (did you mean "net-flood"?)`},
		{"sensitivity not a number", "sensitivity: {res-cpu: high}\n", `c.yaml:1:24: sensitivity.res-cpu: want a number such as 1.5, got "high"`},
		{"sensitivity zero", "sensitivity: {res-cpu: 0}\n", "c.yaml:1:24: sensitivity.res-cpu: want a sensitivity above 0 and at most 100, got 0 (to turn a detector off, add an ignore rule with detectors: [res-cpu])"},
		{"sensitivity null", "sensitivity: {res-cpu: }\n", "c.yaml:1:24: sensitivity.res-cpu: want a number, got nothing"},
		{"sensitivity not a mapping", "sensitivity: [res-cpu]\n", "c.yaml:1:14: sensitivity: want a mapping, got a list"},
		{"deployer glob", "trustedDeployers: ['a*b']\n", `c.yaml:1:20: trustedDeployers[0]: only a trailing * is allowed (a prefix), got "a*b"`},
		{"deployer empty", "trustedDeployers: ['']\n", `c.yaml:1:20: trustedDeployers[0]: want a user name or prefix*, got an empty string`},
		{"deployer null item", "trustedDeployers: [~]\n", `c.yaml:1:20: trustedDeployers[0]: want a user name or prefix*, got nothing`},
		{"deployer mapping item", "trustedDeployers: [{a: b}]\n", `c.yaml:1:20: trustedDeployers[0]: want a user name or prefix*, got a mapping`},
		{"registry scheme", "registries: {allow: ['https://ghcr.io/acme']}\n", `c.yaml:1:22: registries.allow[0]: want a host or host/path without a scheme, e.g. "ghcr.io/acme", got "https://ghcr.io/acme"`},
		{"registry tag", "registries: {allow: ['ghcr.io/acme/api@sha256:00']}\n", `c.yaml:1:22: registries.allow[0]: want a host or host/path (no spaces, tag or digest), got "ghcr.io/acme/api@sha256:00"`},
		{"registry trailing slash", "registries: {allow: [ghcr.io/]}\n", `c.yaml:1:22: registries.allow[0]: want a host or host/path without a leading or trailing /, got "ghcr.io/"`},
		{"registry wildcard path", "registries: {allow: ['ghcr.io/*']}\n", `c.yaml:1:22: registries.allow[0]: only a leading *. in the host is allowed, got "ghcr.io/*"`},
		{"bad CIDR", "destinations:\n  allow:\n    - 10.0.0.0/33\n", `c.yaml:3:7: destinations.allow[0]: bad CIDR "10.0.0.0/33": prefix length out of range`},
		{"CIDR host bits", "destinations:\n  allow: [10.1.2.3/8]\n", `c.yaml:2:11: destinations.allow[0]: bad CIDR "10.1.2.3/8": host bits set (did you mean 10.0.0.0/8?)`},
		{"CIDR garbage", "destinations: {allow: [example.com]}\n", `c.yaml:1:24: destinations.allow[0]: bad CIDR "example.com": want an address/bits network such as 10.0.0.0/8`},
		{"ignore unknown detector", "ignore:\n  - detectors: [k8s-exce]\n", `c.yaml:2:17: ignore[0].detectors[0]: unknown detector "k8s-exce" (did you mean "k8s-exec"?)`},
		{"ignore unknown key", "ignore:\n  - namespace: [a]\n", `c.yaml:2:5: ignore[0].namespace: unknown key (did you mean "namespaces"?)`},
		{"ignore bad glob", "ignore:\n  - namespaces: ['a[']\n", `c.yaml:2:18: ignore[0].namespaces[0]: bad glob "a[": syntax error in pattern`},
		{"ignore matches everything", "ignore:\n  - reason: why not\n", `c.yaml:2:5: ignore[0]: the rule would suppress every finding; name its detectors (use "*" for all) or add a condition`},
		{"ignore item not a mapping", "ignore: [k8s-exec]\n", "c.yaml:1:10: ignore[0]: want a mapping with detectors, namespaces, workloads, users, images, destinations, reason; got \"k8s-exec\""},
		{"ignore bad destination", "ignore: [{destinations: [1.2.3.4/40]}]\n", `c.yaml:1:26: ignore[0].destinations[0]: bad CIDR "1.2.3.4/40": prefix length out of range`},
		{"window end before start", "maintenanceWindows:\n  - start: 2026-03-01T05:00:00Z\n    end: 2026-03-01T01:00:00Z\n", "c.yaml:3:5: maintenanceWindows[0].end: end 2026-03-01T01:00:00Z is not after start 2026-03-01T05:00:00Z"},
		{"window start only", "maintenanceWindows: [{start: 2026-03-01T05:00:00Z}]\n", "c.yaml:1:22: maintenanceWindows[0]: start without end"},
		{"window end only", "maintenanceWindows: [{end: 2026-03-01T05:00:00Z}]\n", "c.yaml:1:22: maintenanceWindows[0]: end without start"},
		{"window bad time", "maintenanceWindows: [{start: tomorrow, end: 2026-03-01T05:00:00Z}]\n", `c.yaml:1:30: maintenanceWindows[0].start: want an RFC 3339 time such as 2026-03-01T22:00:00Z, got "tomorrow"`},
		{"window both forms", "maintenanceWindows: [{start: 2026-03-01T01:00:00Z, end: 2026-03-01T05:00:00Z, days: [sat]}]\n", "c.yaml:1:22: maintenanceWindows[0]: use either start/end (one-off) or days/from/to/timezone (recurring), not both"},
		{"window neither", "maintenanceWindows: [{namespaces: [a]}]\n", "c.yaml:1:22: maintenanceWindows[0]: a window needs start and end, or from and to (with optional days and timezone)"},
		{"window bad day", "maintenanceWindows: [{days: [caturday], from: '01:00', to: '02:00'}]\n", `c.yaml:1:30: maintenanceWindows[0].days[0]: want a weekday (sun, mon, tue, wed, thu, fri, sat), got "caturday"`},
		{"window bad clock", "maintenanceWindows: [{from: '25:00', to: '02:00'}]\n", `c.yaml:1:29: maintenanceWindows[0].from: want a time of day "HH:MM" from 00:00 to 23:59 (or 24:00 for to), got "25:00"`},
		{"window from 24:00", "maintenanceWindows: [{from: '24:00', to: '02:00'}]\n", `c.yaml:1:29: maintenanceWindows[0].from: want a time of day "HH:MM" from 00:00 to 23:59 (or 24:00 for to), got "24:00"`},
		{"window empty", "maintenanceWindows: [{from: '02:00', to: '02:00'}]\n", `c.yaml:1:38: maintenanceWindows[0].to: from and to are both 02:00; for a whole day use from: "00:00", to: "24:00"`},
		{"window bad zone", "maintenanceWindows: [{from: '01:00', to: '02:00', timezone: Mars/Olympus}]\n", `c.yaml:1:61: maintenanceWindows[0].timezone: want an IANA time zone such as Europe/Paris or UTC, got "Mars/Olympus"`},
		{"flowFormat bad token", "flowFormat: '${version} srcaddr'\n", `c.yaml:1:13: flowFormat: want ${field} tokens separated by spaces, got "srcaddr"`},
		{"flowFormat repeated", "flowFormat: '${version} ${version}'\n", `c.yaml:1:13: flowFormat: field ${version} appears twice`},
		{"flowFormat empty", "flowFormat: ' '\n", `c.yaml:1:13: flowFormat: empty format; leave it out for the default format`},
		{"bad cluster", "defaultCluster: 'my cluster'\n", `c.yaml:1:17: defaultCluster: want a cluster name: letters, digits, - and _, up to 100, got "my cluster"`},
		{"bad region", "region: Europe\n", `c.yaml:1:9: region: want an AWS region such as eu-west-1, got "Europe"`},
		{"bad account", "account: 1234\n", `c.yaml:1:10: account: want a 12-digit AWS account id (quote it to keep leading zeros), got "1234"`},
		{"bad severity", "notify: {minSeverity: URGENT}\n", `c.yaml:1:23: notify.minSeverity: unknown severity "URGENT" (want one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)`},
		{"notify not a mapping", "notify: HIGH\n", `c.yaml:1:9: notify: want a mapping, got "HIGH"`},
		{"alias bomb", aliasBomb(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.src), "c.yaml")
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse error = %v (%T), want *ValidationError", err, err)
			}
			if diff := cmp.Diff(Config{}, c, cmpOpts); diff != "" {
				t.Errorf("Parse returned a Config with its error:\n%s", diff)
			}
			if tt.name == "alias bomb" {
				// The expansion is cut short; what matters is that it ends
				// quickly with the budget problem.
				if !strings.Contains(err.Error(), "document too large once aliases are expanded") {
					t.Errorf("error = %v, want the alias budget problem", err)
				}
				return
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// aliasBomb is a small file whose aliases expand to 1000 rules of 200
// namespaces each.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("x: &n [")
	for i := range 200 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("ns")
	}
	b.WriteString("]\nignore:\n  - &r {namespaces: *n}\n")
	for range 1000 {
		b.WriteString("  - *r\n")
	}
	return b.String()
}

func TestParseAllProblemsAtOnce(t *testing.T) {
	src := `learningPeriod: 3 days
sensitivity:
  net-flood: 2
  net-flod: 2
trustedDeployers: [ok, 'b*d']
destinations:
  allow:
    - 10.0.0.0/8
    - 300.0.0.0/8
ignore:
  - detectors: [k8s-exec, nope]
    namespace: [x]
maintenanceWindows:
  - start: 2026-03-01T05:00:00Z
    end: 2026-03-01T01:00:00Z
regoin: eu-west-1
`
	_, err := Parse([]byte(src), "all.yaml")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Parse error = %v, want *ValidationError", err)
	}
	want := []Problem{
		{File: "all.yaml", Line: 1, Column: 17, Key: "learningPeriod"},
		{File: "all.yaml", Line: 4, Column: 3, Key: "sensitivity.net-flod"},
		{File: "all.yaml", Line: 5, Column: 24, Key: "trustedDeployers[1]"},
		{File: "all.yaml", Line: 9, Column: 7, Key: "destinations.allow[1]"},
		{File: "all.yaml", Line: 11, Column: 27, Key: "ignore[0].detectors[1]"},
		{File: "all.yaml", Line: 12, Column: 5, Key: "ignore[0].namespace"},
		{File: "all.yaml", Line: 15, Column: 5, Key: "maintenanceWindows[0].end"},
		{File: "all.yaml", Line: 16, Column: 1, Key: "regoin"},
	}
	if diff := cmp.Diff(want, verr.Problems, cmpopts.IgnoreFields(Problem{}, "Message")); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s\n%v", diff, err)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Error() has %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for _, p := range verr.Problems {
		if p.Message == "" {
			t.Errorf("problem %+v has no message", p)
		}
	}
}

func TestDetectorsExtensible(t *testing.T) {
	saved := Detectors
	t.Cleanup(func() { Detectors = saved })
	src := []byte("sensitivity: {dns-tunnel: 2}\n")
	if _, err := Parse(src, "c.yaml"); err == nil {
		t.Fatal("unknown detector accepted before it was added")
	}
	Detectors = append(append([]string(nil), saved...), "dns-tunnel")
	c, err := Parse(src, "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sensitivity("dns-tunnel"); got != 2 {
		t.Errorf("Sensitivity(dns-tunnel) = %v, want 2", got)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "14d": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute, " 2d ": 48 * time.Hour, "0d1s": time.Second,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseDuration(FormatDuration(got)); err != nil || back != got {
			t.Errorf("FormatDuration(%v) = %q does not parse back: %v, %v", got, FormatDuration(got), back, err)
		}
	}
	for _, in := range []string{"", "0", "0d", "d", "-1d", "1d-1h", "1d+1h", "1e3d", "100001d", "1w", "5"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}
