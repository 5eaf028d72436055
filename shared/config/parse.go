package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidewatch/tidewatch/shared/signal"
)

// Problem is one thing wrong with a configuration source.
type Problem struct {
	// File is the file name given to Parse or Load, "env" for an
	// environment variable, or TIDEWATCH_CONFIG for inline configuration.
	File string
	// Line and Column are 1-based; 0 when the source has no lines (an
	// environment variable) or the problem is about the whole file.
	Line, Column int
	// Key is the setting's path, e.g. "ignore[1].namespaces[0]", or the
	// environment variable name.
	Key string
	// Message says what is wrong and, where it can, what would be right.
	Message string
}

// String renders p as "file:line:col: key: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a configuration, so one run
// shows all of them.
type ValidationError struct {
	Problems []Problem
}

// Error renders one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads and parses a configuration file.
func Load(file string) (Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(data, file)
}

// Parse parses a YAML or JSON configuration; name is used in problems.
// Settings the data leaves out keep their Default. An invalid
// configuration returns a *ValidationError listing every problem.
func Parse(data []byte, name string) (Config, error) {
	c := Default()
	d := newDecoder(name)
	d.document(data, &c)
	if len(d.problems) > 0 {
		return Config{}, &ValidationError{Problems: d.problems}
	}
	return c, nil
}

// Top-level keys, in the order the documentation lists them.
var topKeys = []string{
	"learningPeriod", "sensitivity", "trustedDeployers", "registries", "destinations",
	"ignore", "maintenanceWindows", "flowFormat", "defaultCluster", "region", "account", "notify",
}

var (
	ruleKeys   = []string{"detectors", "namespaces", "workloads", "users", "images", "destinations", "reason"}
	windowKeys = []string{"detectors", "workloads", "namespaces", "start", "end", "days", "from", "to", "timezone", "reason"}
	allowKeys  = []string{"allow"}
	notifyKeys = []string{"minSeverity"}
)

// nodeBudget bounds the nodes a document may expand to through aliases, so
// a small file cannot make the decoder walk billions of nodes.
const nodeBudget = 100_000

type decoder struct {
	file     string
	problems []Problem
	budget   int
}

func newDecoder(file string) *decoder { return &decoder{file: file, budget: nodeBudget} }

func (d *decoder) addf(n *yaml.Node, key, format string, args ...any) {
	p := Problem{File: d.file, Key: key, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) document(data []byte, c *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // empty: defaults
		}
		d.syntax(err)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.addf(&extra, "", "a second YAML document; put every setting in one")
	} else if !errors.Is(err, io.EOF) {
		d.syntax(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	d.top(root, c)
}

func (d *decoder) syntax(err error) {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problems = append(d.problems, Problem{File: d.file, Line: line, Column: 1, Message: "syntax: " + m[2]})
		return
	}
	d.problems = append(d.problems, Problem{File: d.file, Message: "syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")})
}

// resolve follows aliases and charges the node budget; nil means the
// budget ran out (reported once).
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			d.addf(n, "", "alias chain too long")
			return nil
		}
		n = n.Alias
	}
	d.budget--
	if d.budget == 0 {
		d.addf(n, "", "document too large once aliases are expanded (more than %d nodes)", nodeBudget)
	}
	if d.budget < 0 {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

// mapping walks a mapping's keys, reporting non-string, duplicate and
// unknown keys (with the closest known key), and calls fn for the rest.
func (d *decoder) mapping(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.addf(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			return
		}
		v := n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.addf(k, path, "a key must be a string, got %s", kindName(k))
			continue
		}
		full := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.addf(k, full, "duplicate key; first set at line %d", first.Line)
			continue
		}
		seen[k.Value] = k
		if known != nil && !slices.Contains(known, k.Value) {
			d.addf(k, full, "unknown key%s", suggest(k.Value, known))
			continue
		}
		fn(k.Value, k, v)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the closest known key, or lists them all.
func suggest(got string, known []string) string {
	best, bestDist := "", math.MaxInt
	for _, k := range known {
		dist := distance(strings.ToLower(got), strings.ToLower(k))
		if dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" && (bestDist <= 2 || bestDist <= len(best)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) top(root *yaml.Node, c *Config) {
	d.mapping(root, "", topKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "learningPeriod":
			if p, ok := d.duration(v, key); ok {
				c.LearningPeriod = p
			}
		case "sensitivity":
			c.Sensitivities = d.sensitivity(v, key, c.Sensitivities)
		case "trustedDeployers":
			c.TrustedDeployers = d.deployers(v, key)
		case "registries":
			d.mapping(v, key, allowKeys, func(_ string, _, v *yaml.Node) {
				c.AllowedRegistries = d.registries(v, key+".allow")
			})
		case "destinations":
			d.mapping(v, key, allowKeys, func(_ string, _, v *yaml.Node) {
				c.AllowedDestinations = d.prefixes(v, key+".allow")
			})
		case "ignore":
			c.Ignore = nil
			d.list(v, key, func(i int, path string, item *yaml.Node) {
				if r, ok := d.rule(item, path); ok {
					c.Ignore = append(c.Ignore, r)
				}
			})
		case "maintenanceWindows":
			c.MaintenanceWindows = nil
			d.list(v, key, func(i int, path string, item *yaml.Node) {
				if w, ok := d.window(item, path); ok {
					c.MaintenanceWindows = append(c.MaintenanceWindows, w)
				}
			})
		case "flowFormat":
			if s, ok := d.flowFormat(v, key); ok {
				c.FlowFormat = s
			}
		case "defaultCluster":
			if s, ok := d.matching(v, key, clusterRE, wantCluster); ok {
				c.DefaultCluster = s
			}
		case "region":
			if s, ok := d.matching(v, key, regionRE, wantRegion); ok {
				c.Region = s
			}
		case "account":
			if s, ok := d.matching(v, key, accountRE, "a 12-digit AWS account id (quote it to keep leading zeros)"); ok {
				c.Account = s
			}
		case "notify":
			d.mapping(v, key, notifyKeys, func(_ string, _, v *yaml.Node) {
				if s, ok := d.severity(v, key+".minSeverity"); ok {
					c.Notify.MinSeverity = s
				}
			})
		}
	})
}

var (
	clusterRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	fieldRE   = regexp.MustCompile(`^\$\{[a-z][a-z0-9-]*\}$`)
)

// ValidCluster reports whether s can name an EKS or ECS cluster.
func ValidCluster(s string) bool { return clusterRE.MatchString(s) }

// ValidAccount reports whether s is a 12-digit AWS account id.
func ValidAccount(s string) bool { return accountRE.MatchString(s) }

// What clusterRE and regionRE accept, for problems, in the file and in the
// environment alike.
const (
	wantCluster = "a cluster name: letters, digits, - and _, up to 100"
	wantRegion  = "an AWS region such as eu-west-1"
)

// scalar returns a scalar's text; ok is false (and a problem reported) for
// lists and mappings, and false without a problem for null.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.addf(n, path, "want %s, got %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

// list calls fn for each item of a sequence; a single value is a list of
// one.
func (d *decoder) list(n *yaml.Node, path string, fn func(i int, path string, item *yaml.Node)) {
	if n = d.resolve(n); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		fn(0, path, n)
		return
	}
	for i, item := range n.Content {
		fn(i, fmt.Sprintf("%s[%d]", path, i), item)
	}
}

// strings reads a list of non-empty strings, each checked by check (which
// may be nil and returns the value to keep or "" after reporting).
func (d *decoder) strings(n *yaml.Node, path, want string, check func(n *yaml.Node, path, s string) string) []string {
	var out []string
	d.list(n, path, func(_ int, p string, item *yaml.Node) {
		s, ok := d.scalar(item, p, want)
		if !ok {
			if item = d.resolve(item); item != nil && isNull(item) {
				d.addf(item, p, "want %s, got nothing", want)
			}
			return
		}
		s = strings.TrimSpace(s)
		if s == "" {
			d.addf(item, p, "want %s, got an empty string", want)
			return
		}
		if check != nil {
			if s = check(item, p, s); s == "" {
				return
			}
		}
		out = append(out, s)
	})
	return out
}

func (d *decoder) matching(n *yaml.Node, path string, re *regexp.Regexp, want string) (string, bool) {
	s, ok := d.scalar(n, path, want)
	if !ok {
		return "", false
	}
	if !re.MatchString(s) {
		d.addf(n, path, "want %s, got %q", want, s)
		return "", false
	}
	return s, true
}

func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	const want = "a duration such as 36h or 14d"
	s, ok := d.scalar(n, path, want)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.addf(n, path, "want %s: %v", want, err)
		return 0, false
	}
	return v, true
}

// ParseDuration parses a Go duration ("36h", "90m") optionally preceded by
// whole days ("14d", "1d12h"). It must be positive.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days int64
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 100_000 {
			return 0, fmt.Errorf("bad number of days in %q", s)
		}
		days, rest = n, s[i+1:]
	}
	var v time.Duration
	if rest != "" {
		var err error
		if v, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("%q: %v", s, strings.TrimPrefix(err.Error(), "time: "))
		}
		if strings.HasPrefix(rest, "-") || (days > 0 && strings.HasPrefix(rest, "+")) {
			return 0, fmt.Errorf("%q must be positive", s)
		}
	}
	v += time.Duration(days) * 24 * time.Hour
	if v <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return v, nil
}

// FormatDuration renders d as ParseDuration reads it, in days when whole.
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

func (d *decoder) sensitivity(n *yaml.Node, path string, into map[string]float64) map[string]float64 {
	d.mapping(n, path, nil, func(key string, k, v *yaml.Node) {
		p := join(path, key)
		if !slices.Contains(Detectors, key) {
			d.addf(k, p, "unknown detector%s", suggest(key, Detectors))
			return
		}
		s, ok := d.scalar(v, p, "a number")
		if !ok {
			if r := d.resolve(v); r != nil && isNull(r) {
				d.addf(r, p, "want a number, got nothing")
			}
			return
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			d.addf(v, p, "want a number such as 1.5, got %q", s)
			return
		}
		if x <= 0 || x > 100 {
			d.addf(v, p, "want a sensitivity above 0 and at most 100, got %v (to turn a detector off, add an ignore rule with detectors: [%s])", x, key)
			return
		}
		if into == nil {
			into = make(map[string]float64)
		}
		into[key] = x
	})
	return into
}

func (d *decoder) deployers(n *yaml.Node, path string) []string {
	return d.strings(n, path, "a user name or prefix*", func(n *yaml.Node, p, s string) string {
		if strings.ContainsAny(strings.TrimSuffix(s, "*"), "*?[") {
			d.addf(n, p, "only a trailing * is allowed (a prefix), got %q", s)
			return ""
		}
		return s
	})
}

func (d *decoder) registries(n *yaml.Node, path string) []string {
	return d.strings(n, path, "a registry host or host/path", func(n *yaml.Node, p, s string) string {
		switch {
		case strings.Contains(s, "://"):
			d.addf(n, p, "want a host or host/path without a scheme, e.g. %q, got %q", s[strings.Index(s, "://")+3:], s)
			return ""
		case strings.ContainsAny(s, " \t@"):
			d.addf(n, p, "want a host or host/path (no spaces, tag or digest), got %q", s)
			return ""
		case strings.HasSuffix(s, "/") || strings.HasPrefix(s, "/"):
			d.addf(n, p, "want a host or host/path without a leading or trailing /, got %q", s)
			return ""
		}
		host, rest, _ := strings.Cut(s, "/")
		if strings.Contains(strings.TrimPrefix(host, "*."), "*") || strings.Contains(rest, "*") {
			d.addf(n, p, "only a leading *. in the host is allowed, got %q", s)
			return ""
		}
		if rest == "" {
			return strings.ToLower(host)
		}
		return strings.ToLower(host) + "/" + rest
	})
}

func (d *decoder) prefixes(n *yaml.Node, path string) []netip.Prefix {
	var out []netip.Prefix
	d.strings(n, path, "a CIDR such as 10.0.0.0/8 or 2001:db8::/32", func(n *yaml.Node, p, s string) string {
		pfx, err := parsePrefix(s)
		if err != nil {
			d.addf(n, p, "%v", err)
			return ""
		}
		out = append(out, pfx)
		return s
	})
	return out
}

// parsePrefix reads a CIDR, or a single address as a one-address network.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: want an address/bits network such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: %v", s, strings.TrimPrefix(err.Error(), "netip.ParsePrefix("+strconv.Quote(s)+"): "))
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: host bits set (did you mean %s?)", s, m)
	}
	if p.Addr().Is4In6() {
		a := p.Addr().Unmap()
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: IPv4-mapped network shorter than ::ffff:0:0/96", s)
		}
		p = netip.PrefixFrom(a, bits)
	}
	return p, nil
}

func (d *decoder) detectors(n *yaml.Node, path string) []string {
	return d.strings(n, path, `a detector id or "*"`, func(n *yaml.Node, p, s string) string {
		if s != AllDetectors && !slices.Contains(Detectors, s) {
			d.addf(n, p, "unknown detector %q%s", s, suggest(s, Detectors))
			return ""
		}
		return s
	})
}

func (d *decoder) globs(n *yaml.Node, path, want string) []string {
	return d.strings(n, path, want, func(n *yaml.Node, p, s string) string {
		if _, err := pathMatch(s); err != nil {
			d.addf(n, p, "bad glob %q: %v", s, err)
			return ""
		}
		return s
	})
}

func pathMatch(pattern string) (bool, error) { return path.Match(pattern, "") }

func (d *decoder) rule(n *yaml.Node, path string) (Rule, bool) {
	var r Rule
	before := len(d.problems)
	node := d.resolve(n)
	if node == nil {
		return r, false
	}
	if node.Kind != yaml.MappingNode {
		d.addf(node, path, "want a mapping with detectors, namespaces, workloads, users, images, destinations, reason; got %s", kindName(node))
		return r, false
	}
	d.mapping(node, path, ruleKeys, func(key string, _, v *yaml.Node) {
		p := join(path, key)
		switch key {
		case "detectors":
			r.Detectors = d.detectors(v, p)
		case "namespaces":
			r.Namespaces = d.globs(v, p, "a namespace glob")
		case "workloads":
			r.Workloads = d.globs(v, p, "a workload glob")
		case "users":
			r.Users = d.globs(v, p, "a user glob")
		case "images":
			r.Images = d.globs(v, p, "an image glob")
		case "destinations":
			r.Destinations = d.prefixes(v, p)
		case "reason":
			r.Reason, _ = d.scalar(v, p, "a string")
		}
	})
	if len(d.problems) > before {
		return r, false
	}
	if len(r.Detectors) == 0 && len(r.Namespaces)+len(r.Workloads)+len(r.Users)+len(r.Images)+len(r.Destinations) == 0 {
		d.addf(node, path, `the rule would suppress every finding; name its detectors (use "*" for all) or add a condition`)
		return r, false
	}
	return r, true
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWeekday reads "sat", "Saturday", "SAT".
func ParseWeekday(s string) (time.Weekday, bool) {
	l := strings.ToLower(strings.TrimSpace(s))
	if len(l) < 3 {
		return 0, false
	}
	wd, ok := weekdays[l[:3]]
	if !ok || (len(l) > 3 && l != strings.ToLower(wd.String())) {
		return 0, false
	}
	return wd, true
}

func (d *decoder) window(n *yaml.Node, path string) (Window, bool) {
	var w Window
	before := len(d.problems)
	node := d.resolve(n)
	if node == nil {
		return w, false
	}
	if node.Kind != yaml.MappingNode {
		d.addf(node, path, "want a mapping with start/end or days/from/to; got %s", kindName(node))
		return w, false
	}
	var startN, endN, fromN, toN, daysN *yaml.Node
	d.mapping(node, path, windowKeys, func(key string, k, v *yaml.Node) {
		p := join(path, key)
		switch key {
		case "detectors":
			w.Detectors = d.detectors(v, p)
		case "workloads":
			w.Workloads = d.globs(v, p, "a workload glob")
		case "namespaces":
			w.Namespaces = d.globs(v, p, "a namespace glob")
		case "start", "end":
			s, ok := d.scalar(v, p, "an RFC 3339 time such as 2026-03-01T22:00:00Z")
			if !ok {
				return
			}
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
			if err != nil {
				d.addf(v, p, "want an RFC 3339 time such as 2026-03-01T22:00:00Z, got %q", s)
				return
			}
			if key == "start" {
				w.Start, startN = t, k
			} else {
				w.End, endN = t, k
			}
		case "days":
			daysN = k
			for _, s := range d.strings(v, p, "a weekday (sun..sat)", func(n *yaml.Node, p, s string) string {
				if _, ok := ParseWeekday(s); !ok {
					d.addf(n, p, "want a weekday (sun, mon, tue, wed, thu, fri, sat), got %q", s)
					return ""
				}
				return s
			}) {
				wd, _ := ParseWeekday(s)
				if !slices.Contains(w.Days, wd) {
					w.Days = append(w.Days, wd)
				}
			}
		case "from", "to":
			s, ok := d.scalar(v, p, `a time of day such as "02:00"`)
			if !ok {
				return
			}
			c, err := parseClock(s, key == "to")
			if err != nil {
				d.addf(v, p, "%v", err)
				return
			}
			if key == "from" {
				w.From, fromN = c, k
			} else {
				w.To, toN = c, k
			}
		case "timezone":
			s, ok := d.scalar(v, p, "an IANA time zone such as Europe/Paris")
			if !ok {
				return
			}
			loc, err := time.LoadLocation(s)
			if err != nil || s == "" || strings.EqualFold(s, "local") {
				d.addf(v, p, "want an IANA time zone such as Europe/Paris or UTC, got %q", s)
				return
			}
			w.Timezone, w.loc = s, loc
		case "reason":
			w.Reason, _ = d.scalar(v, p, "a string")
		}
	})
	if len(d.problems) > before {
		return w, false
	}
	oneOff := startN != nil || endN != nil
	recurring := fromN != nil || toN != nil || daysN != nil || w.Timezone != ""
	switch {
	case oneOff && recurring:
		d.addf(node, path, "use either start/end (one-off) or days/from/to/timezone (recurring), not both")
	case oneOff && startN == nil:
		d.addf(node, path, "end without start")
	case oneOff && endN == nil:
		d.addf(node, path, "start without end")
	case oneOff && !w.End.After(w.Start):
		d.addf(endN, join(path, "end"), "end %s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	case !oneOff && (fromN == nil || toN == nil):
		d.addf(node, path, "a window needs start and end, or from and to (with optional days and timezone)")
	case !oneOff && w.From == w.To:
		d.addf(toN, join(path, "to"), `from and to are both %s; for a whole day use from: "00:00", to: "24:00"`, formatClock(w.From))
	}
	return w, len(d.problems) == before
}

// parseClock reads "HH:MM" (or "HH:MM:SS"); "24:00" only when end is set.
func parseClock(s string, end bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	bad := fmt.Errorf(`want a time of day "HH:MM" from 00:00 to 23:59 (or 24:00 for to), got %q`, s)
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	var v [3]int
	for i, p := range parts {
		if len(p) != 2 {
			return 0, bad
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, bad
		}
		v[i] = n
	}
	if v[1] > 59 || v[2] > 59 || v[0] > 24 || (v[0] == 24 && (!end || v[1] != 0 || v[2] != 0)) {
		return 0, bad
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second, nil
}

func formatClock(c time.Duration) string {
	h, m, s := int(c/time.Hour), int(c%time.Hour/time.Minute), int(c%time.Minute/time.Second)
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

func (d *decoder) flowFormat(n *yaml.Node, path string) (string, bool) {
	s, ok := d.scalar(n, path, "a flow log format such as ${version} ${srcaddr} ...")
	if !ok {
		return "", false
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		d.addf(n, path, "empty format; leave it out for the default format")
		return "", false
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if !fieldRE.MatchString(f) {
			d.addf(n, path, "want ${field} tokens separated by spaces, got %q", f)
			return "", false
		}
		if seen[f] {
			d.addf(n, path, "field %s appears twice", f)
			return "", false
		}
		seen[f] = true
	}
	return strings.Join(fields, " "), true
}

func (d *decoder) severity(n *yaml.Node, path string) (signal.Severity, bool) {
	s, ok := d.scalar(n, path, "a severity (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)")
	if !ok {
		return 0, false
	}
	v, err := signal.ParseSeverity(strings.TrimSpace(s))
	if err != nil {
		d.addf(n, path, "%v", err)
		return 0, false
	}
	return v, true
}
