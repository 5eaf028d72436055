package config

import (
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	// Lambda's provided.al2023 runtime has no zoneinfo; maintenance window
	// time zones must resolve there too.
	_ "time/tzdata"

	"github.com/tidewatch/tidewatch/shared/signal"
)

// Detectors lists the detector ids the configuration accepts in
// sensitivity, ignore and maintenanceWindows. A package that adds a
// detector appends its id here before any configuration is parsed (in an
// init function or in main); the list is not safe for concurrent change.
var Detectors = []string{
	"k8s-exec", "k8s-privileged", "k8s-unexpected-container", "k8s-bare-pod", "k8s-untrusted-registry",
	"net-flood", "net-flood-target", "net-syn-flood", "net-udp-flood", "net-slow-flood",
	"net-port-knock", "net-unusual-listener", "net-beacon", "net-new-destination",
	"res-cpu", "res-memory", "res-sprawl", "res-node-saturation", "res-oom-kill", "res-net-tx",
}

// AllDetectors is the detector pattern that matches every detector in an
// ignore rule or maintenance window.
const AllDetectors = "*"

// Defaults.
const (
	DefaultLearningPeriod = 24 * time.Hour
	DefaultSensitivity    = 1.0
	DefaultMinSeverity    = signal.Medium
)

// Config is every setting of tidewatch. The zero value is usable but
// Default is what an empty file gives; see the package documentation for
// each setting's file key and environment variable.
type Config struct {
	// LearningPeriod is how much event time a workload's baseline learns
	// before its anomalies are reported (learningPeriod).
	LearningPeriod time.Duration
	// Sensitivities holds each detector's sensitivity by detector id
	// (sensitivity); a detector not listed has 1. Read it with
	// Sensitivity.
	Sensitivities map[string]float64
	// TrustedDeployers are Kubernetes user names allowed to create
	// workloads without a finding (trustedDeployers). An entry ending in
	// "*" is a prefix.
	TrustedDeployers []string
	// AllowedRegistries are registry hosts or host/path prefixes images may
	// come from (registries.allow). A host may start with "*." for any
	// subdomain.
	AllowedRegistries []string
	// AllowedDestinations are networks traffic may go to without a
	// new-destination or beacon finding (destinations.allow).
	AllowedDestinations []netip.Prefix
	// Ignore are the suppression rules (ignore).
	Ignore []Rule
	// MaintenanceWindows suppress a workload's findings while they last
	// (maintenanceWindows).
	MaintenanceWindows []Window
	// FlowFormat is the VPC flow log format string (flowFormat); empty
	// means the default format, or the file's header line when it has one.
	FlowFormat string
	// DefaultCluster names the cluster of audit events that arrive without
	// a log group to take it from (defaultCluster).
	DefaultCluster string
	// Region and Account are the AWS region and account id findings are
	// reported in when the evidence does not say (region, account).
	Region  string
	Account string
	// Notify holds notification settings (notify).
	Notify Notify
}

// Notify holds notification settings.
type Notify struct {
	// MinSeverity is the lowest severity sent to SNS (notify.minSeverity);
	// Security Hub gets every finding regardless.
	MinSeverity signal.Severity
}

// Default returns the configuration an empty file gives.
func Default() Config {
	return Config{
		LearningPeriod: DefaultLearningPeriod,
		Notify:         Notify{MinSeverity: DefaultMinSeverity},
	}
}

// Rule is one suppression: a finding is suppressed when its detector is
// one of Detectors and every non-empty condition matches (any one entry
// of a list is enough). A condition the finding has no value for (an
// image, for a flood) does not match.
type Rule struct {
	// Detectors are detector ids, or "*" for all; empty means all.
	Detectors []string
	// Namespaces are Kubernetes namespace globs.
	Namespaces []string
	// Workloads are workload globs (see MatchWorkload).
	Workloads []string
	// Users are Kubernetes user or service account globs.
	Users []string
	// Images are container image reference globs.
	Images []string
	// Destinations are networks of the remote address.
	Destinations []netip.Prefix
	// Reason says why, for the suppression record.
	Reason string
}

// Window is a maintenance window: while it is active, findings of the
// workloads it names are suppressed. It is either one-off (Start, End) or
// recurring (Days, From, To in Timezone).
type Window struct {
	// Detectors are detector ids, or "*"; empty means all.
	Detectors []string
	// Workloads and Namespaces select the workloads (globs, as in Rule);
	// both empty means every workload.
	Workloads  []string
	Namespaces []string
	// Start and End bound a one-off window, End excluded.
	Start, End time.Time
	// Days are the weekdays a recurring window starts on; empty is every
	// day.
	Days []time.Weekday
	// From and To are wall-clock offsets from midnight in Timezone; To may
	// be 24h. When To is not after From the window crosses midnight and
	// ends on the next day.
	From, To time.Duration
	// Timezone is an IANA zone name; empty is UTC.
	Timezone string
	// Reason says why, for the suppression record.
	Reason string

	loc *time.Location
}

// Recurring reports whether w repeats (Days/From/To) rather than being
// one-off (Start/End).
func (w *Window) Recurring() bool { return w.Start.IsZero() && w.End.IsZero() }

func (w *Window) location() *time.Location {
	if w.loc != nil {
		return w.loc
	}
	if w.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(w.Timezone)
	if err != nil {
		// Parse rejects bad zones; a Window built in code with one falls
		// back to UTC rather than never matching.
		return time.UTC
	}
	return loc
}

// Active reports whether t falls inside the window.
func (w *Window) Active(t time.Time) bool {
	if !w.Recurring() {
		return !t.Before(w.Start) && t.Before(w.End)
	}
	lt := t.In(w.location())
	// Wall clock, not time elapsed since midnight, which is an hour off
	// on a daylight saving change day.
	clock := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	day := lt.Weekday()
	if w.From < w.To {
		return w.startsOn(day) && clock >= w.From && clock < w.To
	}
	return (w.startsOn(day) && clock >= w.From) || (w.startsOn((day+6)%7) && clock < w.To)
}

func (w *Window) startsOn(d time.Weekday) bool {
	return len(w.Days) == 0 || slices.Contains(w.Days, d)
}

// Sensitivity returns a detector's sensitivity, 1 unless configured. A
// detector divides its threshold by it: above 1 it fires on smaller
// deviations, below 1 it needs larger ones.
func (c *Config) Sensitivity(detector string) float64 {
	if v, ok := c.Sensitivities[detector]; ok {
		return v
	}
	return DefaultSensitivity
}

// TrustedDeployer reports whether user is a trusted deployer: equal to an
// entry, or starting with an entry's text before its trailing "*".
func (c *Config) TrustedDeployer(user string) bool {
	if user == "" {
		return false
	}
	for _, t := range c.TrustedDeployers {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			if strings.HasPrefix(user, p) {
				return true
			}
		} else if user == t {
			return true
		}
	}
	return false
}

// RegistryAllowed reports whether an image may come from its registry.
// ref is a registry host, a repository ("ghcr.io/acme/api") or a full image
// reference with tag or digest; Docker Hub short names ("nginx") are read
// as docker.io/library/nginx. An entry "ghcr.io/acme" allows everything
// under that path; "*.example.com" allows any subdomain of example.com.
//
// With no registries configured every registry is allowed: without an
// allow list the untrusted-registry detector has nothing to enforce.
func (c *Config) RegistryAllowed(ref string) bool {
	if len(c.AllowedRegistries) == 0 {
		return true
	}
	host, repo := splitImage(ref)
	if host == "" || strings.TrimSpace(ref) == "" {
		return false
	}
	for _, a := range c.AllowedRegistries {
		ah, ap, _ := strings.Cut(a, "/")
		if !hostMatch(ah, host) {
			continue
		}
		if ap == "" || repo == ap || strings.HasPrefix(repo, ap+"/") {
			return true
		}
	}
	return false
}

func hostMatch(pattern, host string) bool {
	if sub, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+sub)
	}
	return pattern == host
}

// splitImage splits an image reference into its registry host (lower
// case, Docker Hub as docker.io) and repository path, without tag or
// digest.
func splitImage(ref string) (host, repo string) {
	ref = strings.TrimSpace(ref)
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	first, rest, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		host, repo = strings.ToLower(first), rest
	} else if !hasSlash && (strings.Contains(first, ".") || first == "localhost") && !strings.Contains(first, ":") {
		// A bare host, as the detector may pass just the registry.
		return strings.ToLower(first), ""
	} else {
		host, repo = "docker.io", ref
		if !hasSlash {
			repo = "library/" + ref
		}
	}
	if i := strings.LastIndexByte(repo, ':'); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo = repo[:i]
	}
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		host = "docker.io"
	}
	return host, repo
}

// DestinationAllowed reports whether addr is in an allowed network.
// IPv4-mapped IPv6 addresses match IPv4 networks.
func (c *Config) DestinationAllowed(addr netip.Addr) bool {
	return len(c.AllowedDestinations) > 0 && anyPrefix(c.AllowedDestinations, addr)
}

// Suppressed reports whether a finding is suppressed by an ignore rule or
// an active maintenance window, and which one, e.g.
// "ignore[2]: nightly load test". Empty arguments and an invalid dest stand
// for "not known": a rule that conditions on them does not match.
func (c *Config) Suppressed(detector, workload, namespace, user, image string, dest netip.Addr, t time.Time) (suppressed bool, reason string) {
	for i := range c.Ignore {
		r := &c.Ignore[i]
		if detectorMatch(r.Detectors, detector) &&
			anyGlob(r.Namespaces, namespace) &&
			anyWorkload(r.Workloads, workload) &&
			anyGlob(r.Users, user) &&
			anyGlob(r.Images, image) &&
			anyPrefix(r.Destinations, dest) {
			return true, because("ignore", i, r.Reason)
		}
	}
	for i := range c.MaintenanceWindows {
		w := &c.MaintenanceWindows[i]
		if detectorMatch(w.Detectors, detector) &&
			anyGlob(w.Namespaces, namespace) &&
			anyWorkload(w.Workloads, workload) &&
			w.Active(t) {
			return true, because("maintenanceWindows", i, w.Reason)
		}
	}
	return false, ""
}

func because(key string, i int, reason string) string {
	s := key + "[" + strconv.Itoa(i) + "]"
	if reason != "" {
		s += ": " + reason
	}
	return s
}

func detectorMatch(patterns []string, detector string) bool {
	return len(patterns) == 0 || slices.Contains(patterns, AllDetectors) || slices.Contains(patterns, detector)
}

// anyGlob reports whether value matches one of patterns (path.Match); no
// patterns match anything, an empty value matches no pattern.
func anyGlob(patterns []string, value string) bool {
	if len(patterns) == 0 {
		return true
	}
	if value == "" {
		return false
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, value); ok {
			return true
		}
	}
	return false
}

func anyWorkload(patterns []string, workload string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if MatchWorkload(p, workload) {
			return true
		}
	}
	return false
}

// MatchWorkload matches a canonical workload id
// ("eks/prod/shop/Deployment/cart", "ecs/payments/service/api") against a
// glob with path.Match semantics, so "*" stays within one path element:
// "eks/prod/*/Deployment/*". A pattern without "/" matches the workload's
// name, its last element: "cart", "cart-*".
func MatchWorkload(pattern, workload string) bool {
	if workload == "" {
		return false
	}
	target := workload
	if !strings.Contains(pattern, "/") {
		target = workload[strings.LastIndexByte(workload, '/')+1:]
	}
	ok, _ := path.Match(pattern, target)
	return ok
}

func anyPrefix(prefixes []netip.Prefix, addr netip.Addr) bool {
	if len(prefixes) == 0 {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Merge adds other's ignore rules and maintenance windows to c, after c's
// own. It is how suppressions stored at run time (DynamoDB) join the file's;
// other's remaining settings are not used.
func (c *Config) Merge(other Config) {
	c.Ignore = append(c.Ignore, other.Ignore...)
	c.MaintenanceWindows = append(c.MaintenanceWindows, other.MaintenanceWindows...)
}
