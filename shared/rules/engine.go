package rules

import (
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// Detector ids the rules emit; each is part of the finding id.
const (
	DetectorExec                = "k8s-exec"
	DetectorExecDenied          = "k8s-exec-denied"
	DetectorPrivileged          = "k8s-privileged"
	DetectorBarePod             = "k8s-bare-pod"
	DetectorUntrustedRegistry   = "k8s-untrusted-registry"
	DetectorUnexpectedContainer = "k8s-unexpected-container"
)

// MITRE ATT&CK techniques and ASFF tactic paths of the rules.
const (
	TechniqueExec       = "T1609" // Container Administration Command
	TechniqueDeploy     = "T1610" // Deploy Container
	TechniqueEscape     = "T1611" // Escape to Host
	TacticExecution     = "TTPs/Execution"
	TacticPrivilegeEsc  = "TTPs/Privilege Escalation"
	kubeSystemNamespace = "kube-system"
)

// Defaults for Config's learning settings.
const (
	DefaultWarmupCreates = 50
	DefaultWarmupPeriod  = 24 * time.Hour
	DefaultPromoteAfter  = 24 * time.Hour
)

// Config tunes the rules. The zero value is usable: no trusted deployers
// or allowed registries beyond the built-in EKS ones, default warm-up.
type Config struct {
	// TrustedDeployers are user names, or prefixes ending in ":" or "*"
	// ("system:serviceaccount:argocd:"), whose bare pods are not alerted.
	// What they create is still judged.
	TrustedDeployers []string `json:"trustedDeployers,omitempty"`
	// AllowedRegistries are hosts ("ghcr.io"), host patterns
	// ("*.dkr.ecr.*.amazonaws.com") or host/path prefixes
	// ("docker.io/myorg") trusted in addition to what the cluster has
	// been seen to use.
	AllowedRegistries []string `json:"allowedRegistries,omitempty"`
	// Sensitivity adjusts a detector's severity by its id: absent or 1
	// leaves it, 0 or less turns the detector off, below 1 lowers it one
	// step, above 1 raises it one step.
	Sensitivity map[string]float64 `json:"sensitivity,omitempty"`
	// WarmupCreates and WarmupPeriod end the registry rule's warm-up: it
	// alerts only once it has seen this many pod and controller creates
	// over at least this much event time. Zero means the default.
	WarmupCreates int           `json:"warmupCreates,omitempty"`
	WarmupPeriod  time.Duration `json:"warmupPeriod,omitempty"`
	// PromoteAfter is how long after its first sighting a new registry
	// (or bare-pod creator) stops being alerted and counts as normal.
	PromoteAfter time.Duration `json:"promoteAfter,omitempty"`
}

// PodLookup returns the workload id the pipeline knows for a pod, from its
// identity map; ok is false when it knows none.
type PodLookup func(cluster, namespace, pod string) (workloadID string, ok bool)

// Engine evaluates audit events against the rules. It is safe for
// concurrent use if lookup is; all learning goes to the State passed in.
type Engine struct {
	cfg    Config
	lookup PodLookup
}

// NewEngine returns an engine with cfg's zero settings defaulted. lookup
// may be nil.
func NewEngine(cfg Config, lookup PodLookup) *Engine {
	if cfg.WarmupCreates <= 0 {
		cfg.WarmupCreates = DefaultWarmupCreates
	}
	if cfg.WarmupPeriod <= 0 {
		cfg.WarmupPeriod = DefaultWarmupPeriod
	}
	if cfg.PromoteAfter <= 0 {
		cfg.PromoteAfter = DefaultPromoteAfter
	}
	if lookup == nil {
		lookup = func(string, string, string) (string, bool) { return "", false }
	}
	return &Engine{cfg: cfg, lookup: lookup}
}

// Evaluate returns the signals one event raises in cluster and updates st
// with what the event teaches (registries, deployers, reported calls). st
// may be nil: then nothing is learned, the registry rule stays silent and
// exec stages are not deduplicated across calls.
func (e *Engine) Evaluate(ev *k8saudit.Event, cluster string, st *State) []signal.Signal {
	if ev == nil || ev.Stage == k8saudit.StageRequestReceived {
		// RequestReceived precedes authorization: it proves nothing ran.
		return nil
	}
	var out []signal.Signal
	if x, ok := ev.Exec(); ok {
		if s, ok := e.exec(ev, x, cluster, st); ok {
			out = append(out, s)
		}
	} else if obj, ok := ev.Workload(); ok {
		out = e.workload(ev, obj, cluster, st)
	}
	return e.tune(out)
}

// EvaluateAll evaluates a batch in order. The stages of one exec call
// (same auditID) make one signal: the ResponseStarted stage is chosen when
// the batch has it, else the first. Its signal does not depend on which
// stage was chosen.
func (e *Engine) EvaluateAll(evs []k8saudit.Event, cluster string, st *State) []signal.Signal {
	chosen := map[string]int{}
	for i := range evs {
		ev := &evs[i]
		if ev.AuditID == "" || ev.ObjectRef.Resource != "pods" || !isStream(ev.ObjectRef.Subresource) || ev.Stage == k8saudit.StageRequestReceived {
			continue
		}
		if j, ok := chosen[ev.AuditID]; !ok || (ev.Stage == k8saudit.StageResponseStarted && evs[j].Stage != k8saudit.StageResponseStarted) {
			chosen[ev.AuditID] = i
		}
	}
	var out []signal.Signal
	for i := range evs {
		ev := &evs[i]
		if j, ok := chosen[ev.AuditID]; ok && j != i && isStream(ev.ObjectRef.Subresource) && ev.ObjectRef.Resource == "pods" {
			continue
		}
		out = append(out, e.Evaluate(ev, cluster, st)...)
	}
	return out
}

func isStream(sub string) bool {
	return sub == k8saudit.SubresourceExec || sub == k8saudit.SubresourceAttach || sub == k8saudit.SubresourcePortForward
}

// tune applies Config.Sensitivity.
func (e *Engine) tune(sigs []signal.Signal) []signal.Signal {
	if len(e.cfg.Sensitivity) == 0 {
		return sigs
	}
	out := sigs[:0]
	for _, s := range sigs {
		v, ok := e.cfg.Sensitivity[s.Detector]
		switch {
		case !ok || v == 1:
		case v <= 0:
			continue
		case v < 1:
			s.Severity = s.Severity.Raise(-1)
		default:
			s.Severity = s.Severity.Raise(1)
		}
		out = append(out, s)
	}
	return out
}

// trustedDeployer reports a configured deployer.
func (e *Engine) trustedDeployer(user string) bool {
	for _, d := range e.cfg.TrustedDeployers {
		switch {
		case d == "":
		case d == user:
			return true
		case strings.HasSuffix(d, "*") && strings.HasPrefix(user, strings.TrimSuffix(d, "*")):
			return true
		case strings.HasSuffix(d, ":") && strings.HasPrefix(user, d):
			return true
		}
	}
	return false
}

// isSystemUser reports identities of Kubernetes itself: service
// accounts, nodes, and the control plane (system:kube-scheduler,
// system:kube-controller-manager, …).
func isSystemUser(user string) bool {
	return strings.HasPrefix(user, "system:")
}

// isKubeSystemController reports the control plane's own controllers,
// which write pods and templates only on behalf of objects someone else
// wrote.
func isKubeSystemController(user string) bool {
	return strings.HasPrefix(user, "system:serviceaccount:kube-system:") || user == "system:kube-controller-manager"
}
