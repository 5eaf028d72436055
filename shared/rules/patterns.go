package rules

import (
	"regexp"
	"strings"
)

// floodPattern is one shape of command that turns a container into a
// traffic or load generator, or into a shell wired to the network. The
// list is deliberately short and literal: each entry is something a person
// reviewing a finding recognizes, and false positives cost a MEDIUM signal
// its HIGH, not a new alert.
type floodPattern struct {
	name string
	re   *regexp.Regexp
}

// word matches a command name as a whole word, alone or after a path
// ("/usr/bin/nc").
func word(w string) string { return `(^|[\s;|&(/'"]|\$\()` + w + `($|[\s;|&)'"])` }

var floodPatterns = []floodPattern{
	{"infinite loop", regexp.MustCompile(`while\s+(true|:|\[\s*1\s*\]|\(\(\s*1\s*\)\))|for\s*\(\(\s*;\s*;\s*\)\)|until\s+false`)},
	{"HTTP client in a loop", regexp.MustCompile(`(while|for|until|xargs|seq)\b[\s\S]*\b(curl|wget)\b|\b(curl|wget)\b[\s\S]*\b(done|xargs)\b`)},
	{"shell network redirection (/dev/tcp, /dev/udp)", regexp.MustCompile(`/dev/(tcp|udp)/`)},
	{"CPU burn (yes > /dev/null)", regexp.MustCompile(`\byes\s*>\s*/dev/null`)},
	{"netcat or socat", regexp.MustCompile(word(`(nc|ncat|netcat|socat)`))},
	{"packet generator (hping3)", regexp.MustCompile(`\bhping3?\b`)},
	{"ping flood", regexp.MustCompile(`\bping\b[^;|&]*\s-[a-zA-Z]*f`)},
	{"bandwidth generator (iperf)", regexp.MustCompile(`\biperf3?\b`)},
	{"HTTP load or DoS tool", regexp.MustCompile(word(`(ab|hey|wrk|siege|slowloris|slowhttptest|goldeneye|hulk|bombardier|vegeta)`))},
	{"cryptominer", regexp.MustCompile(`(?i)\b(xmrig|minerd|cpuminer|ethminer|t-rex|nbminer)\b|stratum\+(tcp|ssl)://`)},
	{"decoded payload piped to a shell", regexp.MustCompile(`base64\s+(-d|--decode|-D)[^|]*\|\s*(ba|z|da)?sh\b`)},
	{"download piped to a shell", regexp.MustCompile(`\b(curl|wget)\b[^|]*\|\s*(ba|z|da)?sh\b`)},
	{"disk or CPU burn (dd from /dev/zero or /dev/urandom)", regexp.MustCompile(`\bdd\b[^;|&]*if=/dev/(zero|u?random)`)},
	{"stress tool", regexp.MustCompile(word(`stress(-ng)?`))},
	{"fork bomb", regexp.MustCompile(`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`)},
}

// matchFlood returns the names of the flood patterns the command line
// matches, in list order.
func matchFlood(cmdline string) []string {
	var out []string
	for _, p := range floodPatterns {
		if p.re.MatchString(cmdline) {
			out = append(out, p.name)
		}
	}
	return out
}

// shells are the programs whose interactive session is noted.
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "ash": true, "dash": true, "ksh": true, "busybox": true, "fish": true}

func isShell(cmd []string) bool {
	if len(cmd) == 0 {
		return false
	}
	name := cmd[0]
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return shells[name]
}

// shellQuote renders argv as a shell command line a person can read and
// paste: arguments with spaces or shell syntax are single-quoted.
func shellQuote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`;&|<>(){}[]*?!#~") {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// clip shortens s to at most n runes, ending in "…" when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
