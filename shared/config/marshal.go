package config

import (
	"encoding/json"
	"net/netip"
	"time"

	"gopkg.in/yaml.v3"
)

// The wire types are the file format; MarshalJSON writes them so its output
// is itself a valid configuration file and Parse reads it back.
type (
	wireConfig struct {
		LearningPeriod     string             `json:"learningPeriod,omitempty"`
		Sensitivity        map[string]float64 `json:"sensitivity,omitempty"`
		TrustedDeployers   []string           `json:"trustedDeployers,omitempty"`
		Registries         *wireAllow         `json:"registries,omitempty"`
		Destinations       *wireAllow         `json:"destinations,omitempty"`
		Ignore             []wireRule         `json:"ignore,omitempty"`
		MaintenanceWindows []wireWindow       `json:"maintenanceWindows,omitempty"`
		FlowFormat         string             `json:"flowFormat,omitempty"`
		DefaultCluster     string             `json:"defaultCluster,omitempty"`
		Region             string             `json:"region,omitempty"`
		Account            string             `json:"account,omitempty"`
		Notify             *wireNotify        `json:"notify,omitempty"`
	}
	wireAllow struct {
		Allow []string `json:"allow"`
	}
	wireNotify struct {
		MinSeverity string `json:"minSeverity"`
	}
	wireRule struct {
		Detectors    []string `json:"detectors,omitempty"`
		Namespaces   []string `json:"namespaces,omitempty"`
		Workloads    []string `json:"workloads,omitempty"`
		Users        []string `json:"users,omitempty"`
		Images       []string `json:"images,omitempty"`
		Destinations []string `json:"destinations,omitempty"`
		Reason       string   `json:"reason,omitempty"`
	}
	wireWindow struct {
		Detectors  []string `json:"detectors,omitempty"`
		Workloads  []string `json:"workloads,omitempty"`
		Namespaces []string `json:"namespaces,omitempty"`
		Start      string   `json:"start,omitempty"`
		End        string   `json:"end,omitempty"`
		Days       []string `json:"days,omitempty"`
		From       string   `json:"from,omitempty"`
		To         string   `json:"to,omitempty"`
		Timezone   string   `json:"timezone,omitempty"`
		Reason     string   `json:"reason,omitempty"`
	}
)

// MarshalJSON writes c in the file format (which YAML reads too).
func (c Config) MarshalJSON() ([]byte, error) {
	w := wireConfig{
		Sensitivity:      c.Sensitivities,
		TrustedDeployers: c.TrustedDeployers,
		FlowFormat:       c.FlowFormat,
		DefaultCluster:   c.DefaultCluster,
		Region:           c.Region,
		Account:          c.Account,
		Notify:           &wireNotify{MinSeverity: c.Notify.MinSeverity.String()},
	}
	if c.LearningPeriod > 0 {
		w.LearningPeriod = FormatDuration(c.LearningPeriod)
	}
	if len(c.AllowedRegistries) > 0 {
		w.Registries = &wireAllow{Allow: c.AllowedRegistries}
	}
	if len(c.AllowedDestinations) > 0 {
		w.Destinations = &wireAllow{Allow: prefixStrings(c.AllowedDestinations)}
	}
	for i := range c.Ignore {
		w.Ignore = append(w.Ignore, c.Ignore[i].wire())
	}
	for i := range c.MaintenanceWindows {
		w.MaintenanceWindows = append(w.MaintenanceWindows, c.MaintenanceWindows[i].wire())
	}
	return json.Marshal(w)
}

// UnmarshalJSON parses and validates data as Parse does (defaults
// included); a problem is a *ValidationError.
func (c *Config) UnmarshalJSON(data []byte) error {
	v, err := Parse(data, "json")
	if err != nil {
		return err
	}
	*c = v
	return nil
}

func (r *Rule) wire() wireRule {
	return wireRule{
		Detectors: r.Detectors, Namespaces: r.Namespaces, Workloads: r.Workloads,
		Users: r.Users, Images: r.Images, Destinations: prefixStrings(r.Destinations), Reason: r.Reason,
	}
}

// MarshalJSON writes r as one item of the ignore list, e.g. to store a
// suppression created at run time.
func (r Rule) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// UnmarshalJSON reads and validates one ignore rule.
func (r *Rule) UnmarshalJSON(data []byte) error {
	v, err := unmarshalItem(data, "rule", (*decoder).rule)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func (w *Window) wire() wireWindow {
	out := wireWindow{
		Detectors: w.Detectors, Workloads: w.Workloads, Namespaces: w.Namespaces,
		Timezone: w.Timezone, Reason: w.Reason,
	}
	if !w.Recurring() {
		out.Start, out.End = w.Start.Format(time.RFC3339Nano), w.End.Format(time.RFC3339Nano)
		return out
	}
	for _, d := range w.Days {
		out.Days = append(out.Days, d.String()[:3])
	}
	out.From, out.To = formatClock(w.From), formatClock(w.To)
	return out
}

// MarshalJSON writes w as one item of the maintenanceWindows list.
func (w Window) MarshalJSON() ([]byte, error) { return json.Marshal(w.wire()) }

// UnmarshalJSON reads and validates one maintenance window.
func (w *Window) UnmarshalJSON(data []byte) error {
	v, err := unmarshalItem(data, "window", (*decoder).window)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// unmarshalItem reads data as one item of a configuration list, checked by
// item; a problem is a *ValidationError.
func unmarshalItem[T any](data []byte, path string, item func(d *decoder, n *yaml.Node, path string) (T, bool)) (T, error) {
	d := newDecoder("json")
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		d.syntax(err)
		var zero T
		return zero, &ValidationError{Problems: d.problems}
	}
	root := &n
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	v, ok := item(d, root, path)
	if !ok {
		return v, &ValidationError{Problems: d.problems}
	}
	return v, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
