package simulate

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options describe the simulated estate and how much history to write.
type Options struct {
	// Seed makes every random choice; the same Options give the same
	// output byte for byte.
	Seed uint64
	// Start is midnight UTC of day 1 (truncated to the day). Default:
	// 2026-03-02.
	Start time.Time
	// Days is the number of benign days before the attack day. Default 3.
	Days int
	// Account, Region, Cluster (EKS) and ECSCluster name the estate.
	// Defaults: 123456789012, us-east-1, prod, ecs-prod.
	Account, Region, Cluster, ECSCluster string
	// Scale multiplies the benign network volume: internet clients of the
	// frontend and parallel keep-alive connections between services (so
	// flow records per minute grow about linearly). Default 1.
	Scale float64
}

// DefaultStart is day 1 when Options.Start is zero.
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func (o Options) withDefaults() (Options, error) {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Days == 0 {
		o.Days = 3
	}
	if o.Days < 1 || o.Days > 60 {
		return o, fmt.Errorf("simulate: days %d out of range 1..60", o.Days)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Account, "123456789012")
	def(&o.Region, "us-east-1")
	def(&o.Cluster, "prod")
	def(&o.ECSCluster, "ecs-prod")
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Scale < 0 || o.Scale > 1000 || math.IsNaN(o.Scale) {
		return o, fmt.Errorf("simulate: scale %v out of range (0, 1000]", o.Scale)
	}
	return o, nil
}

// AttackDay returns midnight UTC of the attack day: the day after the
// benign history.
func (o Options) AttackDay() time.Time {
	o, _ = o.withDefaults()
	return o.Start.AddDate(0, 0, o.Days)
}

// LogEvent is one CloudWatch Logs event: the log group and stream it is
// written to, its timestamp and its message (one flow record, one audit
// event or one performance event).
type LogEvent struct {
	Group, Stream string
	Time          time.Time
	Message       string
}

// Expectation is what tidewatch should report for one scenario. A Quiet
// expectation is a trap: no detector may report Workload in [From, To].
type Expectation struct {
	Scenario  string    `json:"scenario"`
	Detector  string    `json:"detector,omitempty"`
	Technique string    `json:"technique,omitempty"`
	Workload  string    `json:"workload"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Quiet     bool      `json:"quiet,omitempty"`
}

// Log group names the simulator writes to, given the cluster names.
func flowGroup() string                { return "/tidewatch/synthetic/vpc-flow-logs" }
func auditGroup(cluster string) string { return "/aws/eks/" + cluster + "/cluster" }
func insightsGroup(cluster string) string {
	return "/aws/containerinsights/" + cluster + "/performance"
}
func ecsInsightsGroup(cluster string) string {
	return "/aws/ecs/containerinsights/" + cluster + "/performance"
}

// Function is the tidewatch Lambda a log group is subscribed to:
// "flowlogs", "audit" or "metrics".
func Function(group string) string {
	switch {
	case group == flowGroup():
		return "flowlogs"
	case strings.HasPrefix(group, "/aws/eks/") && strings.HasSuffix(group, "/cluster"):
		return "audit"
	default:
		return "metrics"
	}
}

// action is something that happens at a point in event time.
type action struct {
	at time.Time
	fn func(t time.Time)
}

// sim is one run of the simulator.
type sim struct {
	random

	o Options
	w *world

	auditGroup, ciGroup, ecsGroup string
	auditStreams                  []string
	fargateStream                 string
	nodeRole, malloryID           string
	malloryKey                    string
	uids                          map[string]string
	rv                            uint64

	actions []action
	pending []LogEvent // audit events not yet due
	buf     []LogEvent // events of the current minute
	scratch []byte

	pool   map[poolKey]*conn
	pulls  []pull
	attack time.Time
	exp    []Expectation
	// per-attack state
	beaconNext time.Time
	order      []*app
	// x is what only Container Insights shows (nodes.go).
	x *extra
}

func newSim(o Options) *sim {
	rng := rand.New(rand.NewPCG(o.Seed, 0x7469646577617463))
	s := &sim{o: o, random: random{rng}, uids: map[string]string{}, pool: map[poolKey]*conn{}, rv: 4_000_000 + rng.Uint64N(1_000_000)}
	s.w = newWorld(o, rng)
	s.auditGroup = auditGroup(o.Cluster)
	s.ciGroup = insightsGroup(o.Cluster)
	s.ecsGroup = ecsInsightsGroup(o.ECSCluster)
	s.auditStreams = []string{"kube-apiserver-audit-" + s.w.hex(32), "kube-apiserver-audit-" + s.w.hex(32)}
	s.fargateStream = "FargateTelemetry-" + itoa(1000+s.rng.IntN(9000))
	s.nodeRole = "AROA" + strings.ToUpper(s.w.hex(17)) + ":" + "i-" + s.w.hex(17)
	s.malloryID = "AIDA" + strings.ToUpper(s.w.hex(17))
	s.malloryKey = "AKIA" + strings.ToUpper(s.w.hex(16))
	s.attack = o.Start.AddDate(0, 0, o.Days)
	s.x = newExtra(o)
	return s
}

// at schedules fn at t.
func (s *sim) at(t time.Time, fn func(t time.Time)) {
	s.actions = append(s.actions, action{at: t, fn: fn})
}

// later queues an event that may belong to a later minute.
func (s *sim) later(e LogEvent) { s.pending = append(s.pending, e) }

// now adds an event of the current minute.
func (s *sim) now(e LogEvent) { s.buf = append(s.buf, e) }

// Generate simulates Options.Days benign days and the attack day and hands
// every log event to emit in event-time order (ties keep the order in
// which the simulator made them, so each stream's order is stable). It
// returns what tidewatch should find. An error from emit stops it and is
// returned.
func Generate(opts Options, emit func(LogEvent) error) ([]Expectation, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := newSim(o)
	s.schedule()
	slices.SortStableFunc(s.actions, func(a, b action) int { return a.at.Compare(b.at) })

	end := s.attack.Add(24 * time.Hour)
	next := 0
	for t := o.Start; t.Before(end); t = t.Add(time.Minute) {
		until := t.Add(time.Minute)
		// Actions may schedule more actions; keep them ordered.
		for next < len(s.actions) && s.actions[next].at.Before(until) {
			a := s.actions[next]
			next++
			n := len(s.actions)
			a.fn(a.at)
			if len(s.actions) > n {
				slices.SortStableFunc(s.actions[next:], func(a, b action) int { return a.at.Compare(b.at) })
			}
		}
		s.noise(t)
		s.traffic(t)
		s.insights(t)
		keep := s.pending[:0]
		for _, e := range s.pending {
			if e.Time.Before(until) {
				s.buf = append(s.buf, e)
			} else {
				keep = append(keep, e)
			}
		}
		s.pending = keep
		slices.SortStableFunc(s.buf, func(a, b LogEvent) int { return a.Time.Compare(b.Time) })
		for _, e := range s.buf {
			if err := emit(e); err != nil {
				return nil, err
			}
		}
		clear(s.buf)
		s.buf = s.buf[:0]
	}
	return s.exp, nil
}

// newPod makes a pod of a on n (not yet started).
func (s *sim) newPod(a *app, n *node, owner string) *pod {
	p := &pod{app: a, node: n, hash: a.hash, owner: owner, tag: a.tag, uid: s.w.uuid(), cpuFactor: 0.85 + 0.3*s.rng.Float64()}
	if owner == "" {
		p.name = a.name
	} else {
		p.name = owner + "-" + s.w.safe(5)
	}
	if a.hostNetwork {
		p.ip = n.ifc.ip
	} else {
		p.ip = n.allocIP()
	}
	a.pods = append(a.pods, p)
	return p
}

// running returns the pods of a that carry traffic at t.
func (a *app) running(t time.Time) []*pod {
	var out []*pod
	for _, p := range a.pods {
		if p.alive(t) {
			out = append(out, p)
		}
	}
	return out
}

// first returns the first running pod of a at t.
func (a *app) first(t time.Time) *pod {
	for _, p := range a.pods {
		if p.alive(t) {
			return p
		}
	}
	return nil
}

func (s *sim) day(d int) time.Time { return s.o.Start.AddDate(0, 0, d-1) }

func itoa(i int) string { return strconv.Itoa(i) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func sortedLabels(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}
