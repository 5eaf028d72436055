package config

import (
	"net/netip"
	"testing"
	"time"
)

func TestSuppressed(t *testing.T) {
	c, err := Parse([]byte(`
ignore:
  - detectors: [k8s-exec]
    namespaces: [dev-*]
    users: ["system:serviceaccount:ci:*"]
    reason: CI exec
  - detectors: [net-flood]
    workloads: [eks/prod/perf/Deployment/*]
    destinations: [203.0.113.0/24, "2001:db8::/32"]
  - detectors: "*"
    images: ["quay.io/prometheus/*"]
  - workloads: [cart]
    reason: by name
maintenanceWindows:
  - workloads: [eks/prod/*/Deployment/*]
    days: [sat]
    from: "22:00"
    to: "04:00"
    timezone: Europe/Paris
    reason: node rotation
  - namespaces: [payments]
    detectors: [res-cpu]
    start: 2026-03-01T01:00:00Z
    end: 2026-03-01T05:00:00Z
  - workloads: [ecs/batch/service/*]
    days: [mon, tue, wed, thu, fri]
    from: "09:00"
    to: "17:30"
    timezone: America/New_York
`), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noIP := netip.Addr{}
	// 2026-03-04 is a Wednesday; 2026-03-07 a Saturday. Paris is UTC+1
	// in March before the 29th; New York is UTC-5 until 2026-03-08, UTC-4
	// after.
	wed := utc("2026-03-04T12:00:00Z")
	tests := []struct {
		name                                string
		detector, workload, ns, user, image string
		dest                                netip.Addr
		t                                   time.Time
		want                                bool
		reason                              string
	}{
		{"exec by CI in dev", "k8s-exec", "eks/c/dev-a/Deployment/x", "dev-a", "system:serviceaccount:ci:runner", "", noIP, wed, true, "ignore[0]: CI exec"},
		{"exec by CI in prod", "k8s-exec", "eks/c/prod/Deployment/x", "prod", "system:serviceaccount:ci:runner", "", noIP, wed, false, ""},
		{"exec by a person in dev", "k8s-exec", "eks/c/dev-a/Deployment/x", "dev-a", "alice", "", noIP, wed, false, ""},
		{"exec with unknown user", "k8s-exec", "eks/c/dev-a/Deployment/x", "dev-a", "", "", noIP, wed, false, ""},
		{"other detector, same facts", "k8s-privileged", "eks/c/dev-a/Deployment/x", "dev-a", "system:serviceaccount:ci:runner", "", noIP, wed, false, ""},
		{"load test flood to target", "net-flood", "eks/prod/perf/Deployment/loadgen", "perf", "", "", netip.MustParseAddr("203.0.113.9"), wed, true, "ignore[1]"},
		{"load test flood to v6 target", "net-flood", "eks/prod/perf/Deployment/loadgen", "perf", "", "", netip.MustParseAddr("2001:db8::1"), wed, true, "ignore[1]"},
		{"load test flood to v4-mapped target", "net-flood", "eks/prod/perf/Deployment/loadgen", "perf", "", "", netip.MustParseAddr("::ffff:203.0.113.9"), wed, true, "ignore[1]"},
		{"load test flood elsewhere", "net-flood", "eks/prod/perf/Deployment/loadgen", "perf", "", "", netip.MustParseAddr("198.51.100.1"), wed, false, ""},
		{"flood with no destination", "net-flood", "eks/prod/perf/Deployment/loadgen", "perf", "", "", noIP, wed, false, ""},
		{"glob does not cross /", "net-flood", "eks/prod/perf/Deployment/a/b", "perf", "", "", netip.MustParseAddr("203.0.113.9"), wed, false, ""},
		{"image glob any detector", "k8s-untrusted-registry", "eks/c/mon/Deployment/prom", "mon", "", "quay.io/prometheus/prometheus:v2", noIP, wed, true, "ignore[2]"},
		{"image glob other repo", "k8s-untrusted-registry", "eks/c/mon/Deployment/prom", "mon", "", "quay.io/evil/prometheus:v2", noIP, wed, false, ""},
		{"workload by name", "res-cpu", "eks/c/shop/Deployment/cart", "shop", "", "", noIP, wed, true, "ignore[3]: by name"},
		{"workload by name, ecs", "res-cpu", "ecs/c/service/cart", "", "", "", noIP, wed, true, "ignore[3]: by name"},
		{"workload name is not a prefix", "res-cpu", "eks/c/shop/Deployment/cart2", "shop", "", "", noIP, wed, false, ""},

		// Saturday 22:00 to Sunday 04:00, Paris time (UTC+1).
		{"window before start", "res-cpu", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-07T20:59:59Z"), false, ""},
		{"window at start", "res-cpu", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-07T21:00:00Z"), true, "maintenanceWindows[0]: node rotation"},
		{"window before midnight", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-07T22:59:00Z"), true, "maintenanceWindows[0]: node rotation"},
		{"window after midnight, Sunday", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-08T02:59:59Z"), true, "maintenanceWindows[0]: node rotation"},
		{"window end excluded", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-08T03:00:00Z"), false, ""},
		{"Sunday night is not a start day", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-08T22:00:00Z"), false, ""},
		{"Saturday early morning belongs to Friday", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-07T01:00:00Z"), false, ""},
		{"window other cluster", "net-flood", "eks/staging/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-07T22:00:00Z"), false, ""},
		{"window in UTC terms would differ", "net-flood", "eks/prod/shop/Deployment/web", "shop", "", "", noIP, utc("2026-03-08T03:30:00Z"), false, ""},

		// One-off window for namespace payments, res-cpu only.
		{"one-off inside", "res-cpu", "eks/c/payments/Deployment/api", "payments", "", "", noIP, utc("2026-03-01T03:00:00Z"), true, "maintenanceWindows[1]"},
		{"one-off other detector", "res-memory", "eks/c/payments/Deployment/api", "payments", "", "", noIP, utc("2026-03-01T03:00:00Z"), false, ""},
		{"one-off end excluded", "res-cpu", "eks/c/payments/Deployment/api", "payments", "", "", noIP, utc("2026-03-01T05:00:00Z"), false, ""},
		{"one-off start included", "res-cpu", "eks/c/payments/Deployment/api", "payments", "", "", noIP, utc("2026-03-01T01:00:00Z"), true, "maintenanceWindows[1]"},

		// Weekdays 09:00-17:30 New York, across the DST change on 2026-03-08.
		{"NY Friday before DST, 09:00 EST", "res-cpu", "ecs/batch/service/etl", "", "", "", noIP, utc("2026-03-06T14:00:00Z"), true, "maintenanceWindows[2]"},
		{"NY Friday before DST, 08:59 EST", "res-cpu", "ecs/batch/service/etl", "", "", "", noIP, utc("2026-03-06T13:59:00Z"), false, ""},
		{"NY Monday after DST, 09:00 EDT", "res-cpu", "ecs/batch/service/etl", "", "", "", noIP, utc("2026-03-09T13:00:00Z"), true, "maintenanceWindows[2]"},
		{"NY Monday after DST, 17:30 EDT", "res-cpu", "ecs/batch/service/etl", "", "", "", noIP, utc("2026-03-09T21:30:00Z"), false, ""},
		{"NY Saturday", "res-cpu", "ecs/batch/service/etl", "", "", "", noIP, utc("2026-03-07T15:00:00Z"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := c.Suppressed(tt.detector, tt.workload, tt.ns, tt.user, tt.image, tt.dest, tt.t)
			if got != tt.want || reason != tt.reason {
				t.Errorf("Suppressed = %v, %q; want %v, %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestWindowActive(t *testing.T) {
	daily := func(from, to string, days ...time.Weekday) Window {
		f, err := parseClock(from, false)
		if err != nil {
			t.Fatal(err)
		}
		tt, err := parseClock(to, true)
		if err != nil {
			t.Fatal(err)
		}
		return Window{Days: days, From: f, To: tt}
	}
	tests := []struct {
		name string
		w    Window
		at   string
		want bool
	}{
		{"daily across midnight, late", daily("23:00", "01:00"), "2026-01-01T23:30:00Z", true},
		{"daily across midnight, early", daily("23:00", "01:00"), "2026-01-02T00:30:00Z", true},
		{"daily across midnight, outside", daily("23:00", "01:00"), "2026-01-02T01:00:00Z", false},
		{"whole day", daily("00:00", "24:00"), "2026-01-02T23:59:59Z", true},
		{"whole day on thursday only, friday", daily("00:00", "24:00", time.Thursday), "2026-01-02T00:00:00Z", false},
		{"whole day on thursday only, thursday", daily("00:00", "24:00", time.Thursday), "2026-01-01T00:00:00Z", true},
		{"saturday overnight reaches sunday", daily("22:00", "06:00", time.Saturday), "2026-01-04T05:59:00Z", true},
		{"saturday overnight not monday", daily("22:00", "06:00", time.Saturday), "2026-01-05T05:59:00Z", false},
		{"tz from literal without loc", Window{From: 9 * time.Hour, To: 10 * time.Hour, Timezone: "Asia/Tokyo"}, "2026-01-01T00:30:00Z", true},
		{"bad tz falls back to UTC", Window{From: 9 * time.Hour, To: 10 * time.Hour, Timezone: "Nowhere/Else"}, "2026-01-01T09:30:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.Active(utc(tt.at)); got != tt.want {
				t.Errorf("Active(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestRegistryAllowed(t *testing.T) {
	c := Config{AllowedRegistries: []string{
		"111122223333.dkr.ecr.eu-west-1.amazonaws.com", "ghcr.io/acme", "docker.io/library", "*.internal.example.com", "localhost:5000",
	}}
	tests := []struct {
		ref  string
		want bool
	}{
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1.2", true},
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"999999999999.dkr.ecr.eu-west-1.amazonaws.com/api:1.2", false},
		{"ghcr.io/acme/api:latest", true},
		{"ghcr.io/acme/team/api@sha256:abc", true},
		{"ghcr.io/acme-evil/api", false},
		{"ghcr.io/other/api", false},
		{"GHCR.IO/acme/api", true},
		{"nginx", true},
		{"nginx:1.25", true},
		{"library/nginx", true},
		{"docker.io/library/redis:7", true},
		{"index.docker.io/library/redis", true},
		{"bitnami/redis", false},
		{"reg.internal.example.com/x/y", true},
		{"internal.example.com/x", false},
		{"evilinternal.example.com/x", false},
		{"localhost:5000/dev/app:tag", true},
		{"localhost:5001/dev/app", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := c.RegistryAllowed(tt.ref); got != tt.want {
			t.Errorf("RegistryAllowed(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
	if !(&Config{}).RegistryAllowed("anything.io/x") {
		t.Error("with no allow list every registry should be allowed")
	}
}

func TestDestinationAllowed(t *testing.T) {
	c := Config{AllowedDestinations: []netip.Prefix{pfx("10.0.0.0/8"), pfx("2001:db8::/32"), pfx("192.0.2.7/32")}}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "11.0.0.1": false, "::ffff:10.9.9.9": true, "2001:db8:1::1": true,
		"2001:db9::1": false, "192.0.2.7": true, "192.0.2.8": false,
	} {
		if got := c.DestinationAllowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("DestinationAllowed(%s) = %v, want %v", addr, got, want)
		}
	}
	if c.DestinationAllowed(netip.Addr{}) {
		t.Error("DestinationAllowed(invalid) = true")
	}
}

func TestTrustedDeployer(t *testing.T) {
	c := Config{TrustedDeployers: []string{"system:serviceaccount:argocd:argocd-application-controller", "system:serviceaccount:flux-system:*"}}
	for user, want := range map[string]bool{
		"system:serviceaccount:argocd:argocd-application-controller":  true,
		"system:serviceaccount:argocd:argocd-application-controller2": false,
		"system:serviceaccount:argocd:argocd-server":                  false,
		"system:serviceaccount:flux-system:kustomize-controller":      true,
		"system:serviceaccount:flux-system-evil:x":                    false,
		"": false,
	} {
		if got := c.TrustedDeployer(user); got != want {
			t.Errorf("TrustedDeployer(%q) = %v, want %v", user, got, want)
		}
	}
}

func TestSensitivity(t *testing.T) {
	c := Config{Sensitivities: map[string]float64{"net-flood": 1.5}}
	if got := c.Sensitivity("net-flood"); got != 1.5 {
		t.Errorf("Sensitivity(net-flood) = %v, want 1.5", got)
	}
	if got := c.Sensitivity("res-cpu"); got != 1 {
		t.Errorf("Sensitivity(res-cpu) = %v, want 1", got)
	}
	var zero Config
	if got := zero.Sensitivity("res-cpu"); got != 1 {
		t.Errorf("zero Config Sensitivity = %v, want 1", got)
	}
}

func TestMatchWorkload(t *testing.T) {
	for _, tt := range []struct {
		pattern, workload string
		want              bool
	}{
		{"eks/prod/*/Deployment/*", "eks/prod/shop/Deployment/cart", true},
		{"eks/prod/*", "eks/prod/shop/Deployment/cart", false},
		{"eks/*/shop/*/*", "eks/prod/shop/StatefulSet/db", true},
		{"cart-*", "eks/prod/shop/Deployment/cart-v2", true},
		{"cart", "vpc/eni-1/10.0.0.1", false},
		{"*", "vpc/eni-1/10.0.0.1", true},
		{"cart", "", false},
	} {
		if got := MatchWorkload(tt.pattern, tt.workload); got != tt.want {
			t.Errorf("MatchWorkload(%q, %q) = %v, want %v", tt.pattern, tt.workload, got, tt.want)
		}
	}
}
