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

	"github.com/tidewatch/tidewatch/shared/signal"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tidewatch.yaml")
	if err := os.WriteFile(file, []byte("learningPeriod: 3d\nsensitivity: {net-flood: 2, res-cpu: 3}\ntrustedDeployers: [a]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want func(c *Config)
	}{
		{"nothing set", nil, func(c *Config) {}},
		{"every variable", map[string]string{
			EnvLearningPeriod:   "14d",
			EnvSensitivity:      "net-flood=1.5, res-cpu=0.5,",
			EnvTrustedDeployers: "system:serviceaccount:argocd:*, admin",
			EnvRegistries:       "ghcr.io/acme,111122223333.dkr.ecr.eu-west-1.amazonaws.com",
			EnvDestinations:     "10.0.0.0/8, 2001:db8::/32",
			EnvFlowFormat:       "${version} ${srcaddr}",
			EnvDefaultCluster:   "prod",
			EnvRegion:           "eu-west-1",
			EnvAccount:          "111122223333",
			EnvMinSeverity:      "high",
		}, func(c *Config) {
			c.LearningPeriod = 14 * 24 * time.Hour
			c.Sensitivities = map[string]float64{"net-flood": 1.5, "res-cpu": 0.5}
			c.TrustedDeployers = []string{"system:serviceaccount:argocd:*", "admin"}
			c.AllowedRegistries = []string{"ghcr.io/acme", "111122223333.dkr.ecr.eu-west-1.amazonaws.com"}
			c.AllowedDestinations = []netip.Prefix{pfx("10.0.0.0/8"), pfx("2001:db8::/32")}
			c.FlowFormat = "${version} ${srcaddr}"
			c.DefaultCluster = "prod"
			c.Region = "eu-west-1"
			c.Account = "111122223333"
			c.Notify.MinSeverity = signal.High
		}},
		{"empty variables are unset", map[string]string{EnvLearningPeriod: " ", EnvRegistries: ""}, func(c *Config) {}},
		{"AWS_REGION fallback", map[string]string{EnvAWSRegion: "us-east-1"}, func(c *Config) { c.Region = "us-east-1" }},
		{"TIDEWATCH_REGION wins over AWS_REGION", map[string]string{EnvAWSRegion: "us-east-1", EnvRegion: "eu-west-1"}, func(c *Config) { c.Region = "eu-west-1" }},
		{"inline YAML", map[string]string{EnvConfig: "learningPeriod: 2d\nregion: eu-west-3\n", EnvAWSRegion: "us-east-1"}, func(c *Config) {
			c.LearningPeriod = 48 * time.Hour
			c.Region = "eu-west-3" // the file's region beats AWS_REGION
		}},
		{"inline one-line YAML", map[string]string{EnvConfig: "learningPeriod: 2d"}, func(c *Config) { c.LearningPeriod = 48 * time.Hour }},
		{"inline JSON with ignore rules", map[string]string{EnvConfig: `{"ignore":[{"detectors":["k8s-exec"],"namespaces":["dev"]}]}`}, func(c *Config) {
			c.Ignore = []Rule{{Detectors: []string{"k8s-exec"}, Namespaces: []string{"dev"}}}
		}},
		{"file, then overrides", map[string]string{EnvConfig: file, EnvSensitivity: "net-flood=1.25", EnvTrustedDeployers: "b,c"}, func(c *Config) {
			c.LearningPeriod = 3 * 24 * time.Hour
			c.Sensitivities = map[string]float64{"net-flood": 1.25, "res-cpu": 3}
			c.TrustedDeployers = []string{"b", "c"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("FromEnv mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromEnvDoesNotChangeFileMap(t *testing.T) {
	// The sensitivity override must not write through to a map that a
	// caller may share; FromEnv clones before merging.
	got, err := FromEnv(env(map[string]string{EnvConfig: "sensitivity: {res-cpu: 3}", EnvSensitivity: "res-cpu=1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sensitivity("res-cpu") != 1 {
		t.Errorf("Sensitivity(res-cpu) = %v, want the env value 1", got.Sensitivity("res-cpu"))
	}
}

func TestFromEnvProblems(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		EnvConfig:         "learningPeriod: 2d\nregoin: x\n",
		EnvLearningPeriod: "soon",
		EnvSensitivity:    "net-flood,res-cpu=0,dns=2",
		EnvDestinations:   "10.0.0.0/8,10.0.0.1/8",
		EnvRegistries:     "https://ghcr.io",
		EnvAccount:        "12",
		EnvMinSeverity:    "loud",
		EnvAWSRegion:      "moon-1",
	}))
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("FromEnv error = %v, want *ValidationError", err)
	}
	want := `TIDEWATCH_CONFIG:2:1: regoin: unknown key (did you mean "region"?)
env: TIDEWATCH_LEARNING_PERIOD: want a duration such as 36h or 14d: "soon": invalid duration "soon"
env: TIDEWATCH_SENSITIVITY: want detector=sensitivity, got "net-flood"
env: TIDEWATCH_SENSITIVITY.res-cpu: want a sensitivity above 0 and at most 100, got 0 (to turn a detector off, add an ignore rule with detectors: [res-cpu])
env: TIDEWATCH_SENSITIVITY.dns: unknown detector (known: ` + strings.Join(Detectors, ", ") + `)
env: TIDEWATCH_REGISTRIES[0]: want a host or host/path without a scheme, e.g. "ghcr.io", got "https://ghcr.io"
env: TIDEWATCH_DESTINATIONS[1]: bad CIDR "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)
env: AWS_REGION: want an AWS region such as eu-west-1, got "moon-1"
env: TIDEWATCH_ACCOUNT: want a 12-digit AWS account id, got "12"
env: TIDEWATCH_NOTIFY_MIN_SEVERITY: unknown severity "loud" (want one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)`
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s\ndiff:\n%s", got, want, cmp.Diff(want, got))
	}
}

func TestFromEnvMissingFile(t *testing.T) {
	_, err := FromEnv(env(map[string]string{EnvConfig: filepath.Join(t.TempDir(), "none.yaml")}))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FromEnv error = %v, want os.ErrNotExist", err)
	}
}
