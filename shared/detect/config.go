package detect

import (
	"net/netip"
	"time"
)

// Config tunes the detectors. Zero fields take DefaultConfig's values,
// except NewDest.MaxKnown, whose zero is meaningful. Start from
// DefaultConfig and change what you need.
type Config struct {
	// Learning is the event time a workload's model must have learned
	// before any detector fires.
	Learning time.Duration
	// Lateness is how long windows stay open for late records (passed to
	// window.Open by the pipeline).
	Lateness time.Duration
	// Allow lists destination (and knock source) CIDRs that are never
	// reported by the peer-based detectors: package mirrors, partners.
	Allow []netip.Prefix

	// Flood tunes the per-minute volume detectors.
	Flood Flood
	// Slow tunes the CUSUM of net-slow-flood.
	Slow SlowFlood
	// Knock tunes net-port-knock.
	Knock Knock
	// Beacon tunes net-beacon.
	Beacon Beacon
	// NewDest tunes net-new-destination.
	NewDest NewDest
}

// Flood tunes net-flood, net-syn-flood, net-udp-flood and net-flood-target.
type Flood struct {
	// K widens the band: High = p99 × 2^(K × robust scale). Larger is
	// less sensitive.
	K float64
	// MinRatio: a minute must also be this many times the median.
	MinRatio float64
	// HighRatio: a minute this many times above the band is HIGH
	// severity, below it MEDIUM.
	HighRatio float64
	// Floors below which a minute never counts as a flood, per minute.
	MinBytes, MinPackets, MinFlows, MinSYN, MinUDPPackets float64
	// TargetShare is the share of the workload's packets or flows one
	// ip:port must take during a flood for net-flood-target.
	TargetShare float64
}

// SlowFlood tunes the CUSUM behind net-slow-flood (units: robust z per
// minute).
type SlowFlood struct {
	// Allowance is subtracted from each minute's z; a sustained rise must
	// beat it.
	Allowance float64
	// Clip caps one minute's z so a single spike cannot trip it.
	Clip float64
	// Threshold is the CUSUM sum that alarms.
	Threshold float64
	// FloorShare: minutes below FloorShare × the flood floor do not add.
	FloorShare float64
}

// Knock tunes net-port-knock.
type Knock struct {
	// MinPorts refused ports a source must try.
	MinPorts int
	// Within is how soon after the last refused try the accepted
	// session must come.
	Within time.Duration
}

// Beacon tunes net-beacon.
type Beacon struct {
	// MinReps connections, at least, to one destination.
	MinReps int
	// MaxJitter is the largest median absolute deviation of the
	// intervals, as a share of the median interval.
	MaxJitter float64
	// MinInterval and MaxInterval bound the median interval.
	MinInterval, MaxInterval time.Duration
	// MaxBytes is the largest mean bytes per flow (beacons are small).
	MaxBytes float64
	// Realert is how long an alerted destination stays quiet.
	Realert time.Duration
}

// NewDest tunes net-new-destination.
type NewDest struct {
	// MaxKnown: a workload that learned at most this many external /24s
	// (IPv6 /48s) counts as internal-only, and any other external
	// destination fires. Zero means only workloads that never talked
	// outside while learning; DefaultConfig uses 2 so that one webhook or
	// licence server does not switch the detector off.
	MaxKnown int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Learning: 24 * time.Hour,
		Lateness: 10 * time.Minute,
		Flood: Flood{
			K: 3, MinRatio: 5, HighRatio: 4,
			MinBytes: 10 << 20, MinPackets: 10000, MinFlows: 600, MinSYN: 300, MinUDPPackets: 10000,
			TargetShare: 0.5,
		},
		Slow:    SlowFlood{Allowance: 1, Clip: 6, Threshold: 90, FloorShare: 0.01},
		Knock:   Knock{MinPorts: 3, Within: 5 * time.Minute},
		Beacon:  Beacon{MinReps: 12, MaxJitter: 0.1, MinInterval: 10 * time.Second, MaxInterval: time.Hour, MaxBytes: 64 << 10, Realert: time.Hour},
		NewDest: NewDest{MaxKnown: 2},
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	orDefault(&c.Learning, d.Learning)
	orDefault(&c.Lateness, d.Lateness)
	orDefault(&c.Flood.K, d.Flood.K)
	orDefault(&c.Flood.MinRatio, d.Flood.MinRatio)
	orDefault(&c.Flood.HighRatio, d.Flood.HighRatio)
	orDefault(&c.Flood.MinBytes, d.Flood.MinBytes)
	orDefault(&c.Flood.MinPackets, d.Flood.MinPackets)
	orDefault(&c.Flood.MinFlows, d.Flood.MinFlows)
	orDefault(&c.Flood.MinSYN, d.Flood.MinSYN)
	orDefault(&c.Flood.MinUDPPackets, d.Flood.MinUDPPackets)
	orDefault(&c.Flood.TargetShare, d.Flood.TargetShare)
	orDefault(&c.Slow.Allowance, d.Slow.Allowance)
	orDefault(&c.Slow.Clip, d.Slow.Clip)
	orDefault(&c.Slow.Threshold, d.Slow.Threshold)
	orDefault(&c.Slow.FloorShare, d.Slow.FloorShare)
	orDefault(&c.Knock.MinPorts, d.Knock.MinPorts)
	orDefault(&c.Knock.Within, d.Knock.Within)
	orDefault(&c.Beacon.MinReps, d.Beacon.MinReps)
	orDefault(&c.Beacon.MaxJitter, d.Beacon.MaxJitter)
	orDefault(&c.Beacon.MaxBytes, d.Beacon.MaxBytes)
	orDefault(&c.Beacon.MinInterval, d.Beacon.MinInterval)
	orDefault(&c.Beacon.MaxInterval, d.Beacon.MaxInterval)
	orDefault(&c.Beacon.Realert, d.Beacon.Realert)
	c.NewDest.MaxKnown = max(c.NewDest.MaxKnown, 0)
	return c
}

// orDefault sets *v to d when *v is not positive (zero: not set).
func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (c *Config) allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
