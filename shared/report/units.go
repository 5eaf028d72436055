package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// FieldUnit names the unit of tidewatch/metric when present ("bytes/min",
// "%", ...). Findings written before it existed (still in Security Hub)
// have their unit inferred from the metric's name.
const FieldUnit = finding.FieldUnit

// unitKind says how values of a unit are written.
type unitKind uint8

const (
	plain       unitKind = iota // a count: 21.5k
	bytesSI                     // bytes, decimal prefixes: 8.39 MB
	bytesBinary                 // bytes, binary prefixes: 2.00 MiB
	percent                     // 99.9%
	seconds                     // 59 s
)

// unit is how the values of one metric are written for people.
type unit struct {
	kind unitKind
	// caption names the unit on a chart's axis ("packets/min",
	// "bytes/min", "%").
	caption string
	// per is what a byte quantity is per ("/min", "/s"), appended to a
	// full value.
	per string
}

// metricUnits are the units of the metrics tidewatch's detectors
// measure, for findings that carry no FieldUnit (written before it).
var metricUnits = map[string]string{
	"bytes_out_per_min":             "bytes/min",
	"bytes_in_per_min":              "bytes/min",
	"packets_out_per_min":           "packets/min",
	"target_packets_per_min":        "packets/min",
	"udp_packets_out_per_min":       "packets/min",
	"flows_out_per_min":             "flows/min",
	"syn_out_per_min":               "flows/min",
	"unknown_port_sessions_per_min": "flows/min",
	"dests_per_min":                 "destinations/min",
	"ports_per_min":                 "ports/min",
	"rejects_per_min":               "rejects/min",
	"cpu_per_min":                   "%",
	"mem_per_min":                   "%",
	"net_tx_per_min":                "bytes/s", // Container Insights reports bytes per second
	"pinned_pods_per_min":           "pods",
	"knock_ports":                   "ports",
	"known_external_networks":       "networks",
	"beacon_interval_s":             "s",
}

// unitOf returns the unit of a finding's metric.
func unitOf(f *finding.Finding) unit {
	name := f.ProductFields[FieldUnit]
	if name == "" {
		name = metricUnits[f.ProductFields["tidewatch/metric"]]
	}
	if name == "" {
		m := f.ProductFields["tidewatch/metric"]
		if base, ok := strings.CutSuffix(m, "_per_min"); ok {
			name = strings.ReplaceAll(base, "_", " ") + "/min"
		}
	}
	return parseUnit(name)
}

func parseUnit(name string) unit {
	switch {
	case name == "%" || strings.EqualFold(name, "percent"):
		return unit{kind: percent, caption: "%"}
	case name == "s" || name == "seconds":
		return unit{kind: seconds, caption: "seconds"}
	case strings.HasPrefix(name, "bytes/"):
		per := strings.TrimPrefix(name, "bytes")
		if per == "/s" {
			return unit{kind: bytesBinary, caption: name, per: per}
		}
		return unit{kind: bytesSI, caption: name, per: per}
	}
	return unit{kind: plain, caption: name}
}

// axisCaption names what an axis measures when its ticks do not say it
// all: "packets/min", "bytes/min"; nothing for percent and seconds.
func (u unit) axisCaption(metric string) string {
	switch {
	case u.kind == percent || u.kind == seconds:
		return ""
	case u.caption != "":
		return u.caption
	}
	return metric
}

// tick writes v compactly for an axis whose caption carries the unit:
// "20k", "5 MB", "50%".
func (u unit) tick(v float64) string {
	switch u.kind {
	case bytesSI:
		return byteSize(v, 1000, []string{"B", "KB", "MB", "GB", "TB", "PB"})
	case bytesBinary:
		return byteSize(v, 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"})
	case percent:
		return sig3(v) + "%"
	case seconds:
		return sig3(v) + " s"
	}
	return compact(v)
}

// value writes v with its unit: "21.5k packets/min", "8.39 MB/min",
// "99.9%".
func (u unit) value(v float64) string {
	switch u.kind {
	case bytesSI, bytesBinary:
		return u.tick(v) + u.per
	case percent, seconds:
		return u.tick(v)
	}
	if u.caption == "" {
		return compact(v)
	}
	return compact(v) + " " + u.caption
}

// sig3 writes v with three significant digits at most, without an
// exponent and without trailing zeros.
func sig3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	a := math.Abs(v)
	var s string
	switch {
	case a >= 100 || a == 0:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
		if strings.ContainsRune(s, 'e') {
			s = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	if strings.ContainsRune(s, '.') {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// compact writes a count: plain below ten thousand, then with k, M, G.
func compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return sig3(v/1e9) + "G"
	case a >= 1e6:
		return sig3(v/1e6) + "M"
	case a >= 1e4:
		return sig3(v/1e3) + "k"
	case a >= 1000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return sig3(v)
}

// multiple returns the power of 1000 or 1024 that values up to top are
// written in (1 for units other than bytes).
func (u unit) multiple(top float64) float64 {
	base := 1000.0
	switch u.kind {
	case bytesBinary:
		base = 1024
	case bytesSI:
	default:
		return 1
	}
	m := 1.0
	for top >= base*m && m < math.Pow(base, 5) {
		m *= base
	}
	return m
}

func byteSize(v, base float64, names []string) string {
	i := 0
	for math.Abs(v) >= base && i < len(names)-1 {
		v /= base
		i++
	}
	if i > 0 && math.Abs(v) >= 999.5 && i < len(names)-1 {
		// 999.7 KB rounds to "1000 KB"; write it as 1 MB.
		v /= base
		i++
	}
	return sig3(v) + " " + names[i]
}

// duration writes a Go duration string ("82h4m0s") as days, hours and
// minutes ("3d 10h 4m"); other text is returned as it is.
func duration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return s
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.Itoa(days)+"d")
	}
	if hours > 0 {
		parts = append(parts, strconv.Itoa(hours)+"h")
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(mins)+"m")
	}
	return strings.Join(parts, " ")
}
