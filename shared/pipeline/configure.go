package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/detect"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/rules"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// Configure fills o from a configuration: the same mapping for every entry
// point, so a replay with --config behaves as the Lambdas with the same
// settings.
func (o *Options) Configure(cfg *config.Config) error {
	if cfg.FlowFormat != "" {
		f, err := flowlog.ParseFormat(cfg.FlowFormat)
		if err != nil {
			return fmt.Errorf("flowFormat: %w", err)
		}
		o.FlowFormat = f
	}
	o.Rules = rules.Config{
		TrustedDeployers:  cfg.TrustedDeployers,
		AllowedRegistries: cfg.AllowedRegistries,
		Sensitivity:       cfg.Sensitivities,
	}
	d := detect.DefaultConfig()
	if cfg.LearningPeriod > 0 {
		d.Learning = cfg.LearningPeriod
	}
	d.Allow = append(d.Allow, cfg.AllowedDestinations...)
	o.Detect = &d
	o.DefaultCluster = cfg.DefaultCluster
	if cfg.Account != "" {
		o.Finding.Account = cfg.Account
	}
	if cfg.Region != "" {
		o.Finding.Region = cfg.Region
	}
	sev := cfg.Notify.MinSeverity
	o.MinNotify = &sev
	o.Suppressor = ConfigSuppressor{Config: cfg}
	o.Config = cfg
	return nil
}

// Suppression is a run-time suppression kept in the state table (set with
// `tidewatch config suppress`), applied on top of the configuration
// without redeploying. Until, when set, ends it.
type Suppression struct {
	Rule  config.Rule `json:"rule"`
	Until time.Time   `json:"until,omitzero"`
}

// SuppressionKey is the item of the suppression named id.
func SuppressionKey(id string) Key { return Key{PK: SuppressionPK, SK: id} }

// suppressorFor returns the suppressor to use now: the configuration's,
// plus the live suppressions in the store.
func (p *Pipeline) suppressorFor(ctx context.Context, at time.Time) (Suppressor, error) {
	if p.cfg == nil {
		return p.suppressor, nil
	}
	items, err := p.store.Query(ctx, SuppressionPK, "")
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	if len(items) == 0 {
		return p.suppressor, nil
	}
	cfg := *p.cfg
	cfg.Ignore = append([]config.Rule(nil), p.cfg.Ignore...)
	for _, it := range items {
		var s Suppression
		if err := json.Unmarshal(it.Data, &s); err != nil {
			return nil, fmt.Errorf("decode suppression %s: %w", it.SK, err)
		}
		if s.Until.IsZero() || at.Before(s.Until) {
			cfg.Ignore = append(cfg.Ignore, s.Rule)
		}
	}
	return ConfigSuppressor{Config: &cfg}, nil
}

// ConfigSuppressor applies a configuration's ignore rules and maintenance
// windows to signals.
type ConfigSuppressor struct {
	Config *config.Config
}

// Suppressed implements Suppressor.
func (s ConfigSuppressor) Suppressed(sig *signal.Signal) (bool, string) {
	ns := ""
	if ref, err := workload.Parse(sig.Workload); err == nil {
		ns = ref.Namespace
	}
	image := ""
	for _, r := range sig.Resources {
		if r.Image != "" {
			image = r.Image
			break
		}
	}
	var dest netip.Addr
	if peer := sig.Fields["peer"]; peer != "" {
		if ap, err := netip.ParseAddrPort(peer); err == nil {
			dest = ap.Addr()
		} else if a, err := netip.ParseAddr(strings.Trim(peer, "[]")); err == nil {
			dest = a
		}
	}
	t := sig.First
	if t.IsZero() {
		t = time.Now()
	}
	return s.Config.Suppressed(sig.Detector, sig.Workload, ns, sig.Actor, image, dest, t)
}
