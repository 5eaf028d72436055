package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// reason is one reason a pod spec is risky, with its weight.
type reason struct {
	text      string
	short     string // for titles
	sev       signal.Severity
	container string // "" for pod-level reasons
}

// sensitiveHostPaths weigh HIGH as hostPath volumes: each gives the
// container the node, the container runtime, or the kubelet's secrets.
var sensitiveHostPaths = []string{
	"/etc", "/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd", "/run/containerd",
	"/var/run/crio", "/run/crio", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd",
	"/proc", "/root", "/home", "/dev", "/sys", "/boot", "/var/run", "/run",
}

// benignHostPaths are under a sensitive path but routinely mounted
// read-only by agents; they weigh MEDIUM like any other hostPath.
var benignHostPaths = []string{"/etc/ssl", "/etc/pki", "/etc/localtime", "/etc/ca-certificates", "/etc/machine-id", "/sys/fs/cgroup", "/var/run/secrets"}

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func hostPathSeverity(p string) signal.Severity {
	p = path.Clean("/" + p)
	switch {
	case p == "/":
		return signal.High
	case under(p, benignHostPaths):
		return signal.Medium
	case under(p, sensitiveHostPaths):
		return signal.High
	}
	return signal.Medium
}

// capabilitySeverity weighs an added Linux capability; Informational means
// harmless enough to ignore.
func capabilitySeverity(c string) signal.Severity {
	c = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
	switch c {
	case "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "BPF":
		return signal.High
	case "NET_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "DAC_OVERRIDE", "SYS_BOOT", "PERFMON":
		return signal.Medium
	case "NET_RAW":
		return signal.Low
	}
	return signal.Informational
}

// privilegeReasons lists everything in spec that weakens the container
// boundary (T1611).
func privilegeReasons(spec *k8saudit.PodSpec) []reason {
	var rs []reason
	if spec.HostPID {
		rs = append(rs, reason{text: "hostPID (sees and can signal every process on the node)", short: "hostPID", sev: signal.High})
	}
	if spec.HostIPC {
		rs = append(rs, reason{text: "hostIPC", short: "hostIPC", sev: signal.Medium})
	}
	if spec.HostNetwork {
		rs = append(rs, reason{text: "hostNetwork (the node's network stack and address)", short: "hostNetwork", sev: signal.Medium})
	}
	for _, v := range spec.Volumes {
		if v.HostPath == "" {
			continue
		}
		rs = append(rs, reason{text: fmt.Sprintf("hostPath volume %s mounts %s", v.Name, v.HostPath), short: "hostPath " + v.HostPath, sev: hostPathSeverity(v.HostPath)})
	}
	for _, c := range spec.AllContainers() {
		kind := "container"
		switch {
		case c.Init:
			kind = "init container"
		case c.Ephemeral:
			kind = "ephemeral container"
		}
		if c.Privileged != nil && *c.Privileged {
			rs = append(rs, reason{text: fmt.Sprintf("%s %s is privileged", kind, c.Name), short: "privileged " + c.Name, sev: signal.High, container: c.Name})
		}
		for _, cp := range c.CapabilitiesAdd {
			if sev := capabilitySeverity(cp); sev > signal.Informational {
				rs = append(rs, reason{text: fmt.Sprintf("%s %s adds capability %s", kind, c.Name, cp), short: cp, sev: sev, container: c.Name})
			}
		}
		if c.AllowPrivilegeEscalation != nil && *c.AllowPrivilegeEscalation && c.RunAsUser != nil && *c.RunAsUser == 0 {
			rs = append(rs, reason{text: fmt.Sprintf("%s %s runs as root with allowPrivilegeEscalation", kind, c.Name), short: "root with privilege escalation", sev: signal.Medium, container: c.Name})
		}
	}
	return rs
}

// objectWorkload returns the workload id of a pod or controller: a pod by
// its owners, a controller by itself (or its own owner: a ReplicaSet's
// Deployment, a Job's CronJob).
func objectWorkload(cluster string, obj *k8saudit.Object) string {
	if obj.Kind == workload.KindPod {
		return workload.ForPod(cluster, obj.Namespace, obj.Name, obj.OwnerReferences, podHashLabels(obj))
	}
	o := workload.Owner{Kind: obj.Kind, Name: obj.Name}
	if len(obj.OwnerReferences) > 0 {
		o = obj.OwnerReferences[0]
	}
	o = workload.Resolve(o, obj.Labels["pod-template-hash"])
	return workload.EKS(cluster, obj.Namespace, o.Kind, o.Name)
}

// podHashLabels passes a pod's pod-template-hash on only when it is the
// suffix of its ReplicaSet's name: clusters before Kubernetes 1.11 used a
// different encoding in the label than in the name, and a mismatch would
// keep the pod from resolving to its Deployment.
func podHashLabels(obj *k8saudit.Object) map[string]string {
	h := obj.Labels["pod-template-hash"]
	if h == "" {
		return nil
	}
	for _, o := range obj.OwnerReferences {
		if o.Kind == workload.KindReplicaSet && strings.HasSuffix(o.Name, "-"+h) {
			return map[string]string{"pod-template-hash": h}
		}
	}
	return nil
}

// workload applies the rules about pods and pod templates: privileged
// specs, flood commands, bare pods and images from unknown registries.
func (e *Engine) workload(ev *k8saudit.Event, obj *k8saudit.Object, cluster string, st *State) []signal.Signal {
	t := ev.Time()
	user := ev.User.Username
	wl := objectWorkload(cluster, obj)
	isPod := obj.Kind == workload.KindPod
	ephemeral := ev.ObjectRef.Subresource == "ephemeralcontainers"
	bare := isPod && len(obj.OwnerReferences) == 0 && ev.Verb == "create" && !ephemeral

	// A pod's spec cannot change after create (but for images), and the
	// control plane's controllers rewrite templates only to scale or adopt
	// them: the spec was judged when it was written.
	judgeSpec := ev.Verb == "create" || ephemeral || (!isPod && !isKubeSystemController(user))

	base := e.base(ev, obj, cluster, wl, t)
	var out []signal.Signal
	if judgeSpec {
		if s, ok := e.privileged(ev, obj, cluster, base); ok {
			out = append(out, s)
		}
		if s, ok := e.floodContainer(ev, obj, cluster, base); ok {
			out = append(out, s)
		}
	}
	if bare && !isSystemUser(user) && !e.trustedDeployer(user) && !(st != nil && e.learnedBarePodUser(st, user, t)) {
		out = append(out, e.barePod(ev, obj, cluster, base))
	}
	if st != nil {
		if s, ok := e.registries(ev, obj, cluster, base, st, t); ok {
			out = append(out, s)
		}
		e.learn(st, ev, obj, bare, t)
	}
	return out
}

// base fills what every workload signal shares.
func (e *Engine) base(ev *k8saudit.Event, obj *k8saudit.Object, cluster, wl string, t time.Time) signal.Signal {
	f := userFields(ev)
	f["kind"] = obj.Kind
	f["namespace"] = obj.Namespace
	f["name"] = obj.Name
	f["verb"] = ev.Verb
	if ev.ObjectRef.Subresource != "" {
		f["subresource"] = ev.ObjectRef.Subresource
	}
	return signal.Signal{
		Workload: wl,
		First:    t,
		Last:     t,
		Actor:    ev.User.Username,
		Count:    1,
		Fields:   f,
	}
}

func (e *Engine) clone(base signal.Signal) signal.Signal {
	s := base
	s.Fields = make(map[string]string, len(base.Fields)+4)
	for k, v := range base.Fields {
		s.Fields[k] = v
	}
	return s
}

func verbPast(ev *k8saudit.Event) string {
	switch {
	case ev.ObjectRef.Subresource == "ephemeralcontainers":
		return "added an ephemeral container to"
	case ev.Verb == "create":
		return "created"
	case ev.Verb == "update":
		return "updated"
	}
	return "patched"
}

func containerResources(cluster string, obj *k8saudit.Object, names []string) []signal.Resource {
	var rs []signal.Resource
	for _, c := range obj.Pod.AllContainers() {
		if !slices.Contains(names, c.Name) {
			continue
		}
		rs = append(rs, signal.Resource{
			Type:       signal.ResourceContainer,
			ID:         orUnknown(cluster) + "/" + obj.Namespace + "/" + strings.ToLower(obj.Kind) + "/" + obj.Name + "/" + c.Name,
			Name:       c.Name,
			Image:      c.Image,
			Privileged: c.Privileged != nil && *c.Privileged,
		})
	}
	return append(rs, clusterResource(cluster))
}

func (e *Engine) privileged(ev *k8saudit.Event, obj *k8saudit.Object, cluster string, base signal.Signal) (signal.Signal, bool) {
	rs := privilegeReasons(&obj.Pod)
	if len(rs) == 0 {
		return signal.Signal{}, false
	}
	sev := signal.Informational
	var texts, shorts, containers []string
	for _, r := range rs {
		sev = max(sev, r.sev)
		texts = append(texts, r.text)
		shorts = append(shorts, r.short)
		if r.container != "" && !slices.Contains(containers, r.container) {
			containers = append(containers, r.container)
		}
	}
	addon := obj.Namespace == kubeSystemNamespace && allImages(obj, alwaysTrusted)
	if addon {
		// The EKS add-ons (VPC CNI, kube-proxy, CSI node agents) are
		// privileged by design.
		sev = min(sev, signal.Low)
	}
	s := e.clone(base)
	s.Detector, s.Technique, s.Tactic = DetectorPrivileged, TechniqueEscape, TacticPrivilegeEsc
	s.Severity = sev
	s.Title = fmt.Sprintf("Privileged %s %s by %s: %s", obj.Kind, obj.Namespace+"/"+obj.Name, displayName(&ev.User), clip(strings.Join(shorts, ", "), 100))
	var d strings.Builder
	fmt.Fprintf(&d, "%s %s %s %s in cluster %s with %d host-access setting(s) that let a container reach the node: %s.",
		describeUser(ev), verbPast(ev), obj.Kind, obj.Namespace+"/"+obj.Name, orUnknown(cluster), len(rs), strings.Join(texts, "; "))
	if addon {
		d.WriteString(" All its images come from the EKS add-on registries in kube-system, so severity is capped at LOW.")
	} else {
		d.WriteString(" Workloads rarely need this; a container escape from here owns the node and every pod on it.")
	}
	s.Description = d.String()
	s.Fields["reasons"] = strings.Join(texts, "; ")
	s.Fields["images"] = strings.Join(images(obj), ",")
	s.Resources = containerResources(cluster, obj, containers)
	return s, true
}

func images(obj *k8saudit.Object) []string {
	var out []string
	for _, c := range obj.Pod.AllContainers() {
		if c.Image != "" && !slices.Contains(out, c.Image) {
			out = append(out, c.Image)
		}
	}
	return out
}

func allImages(obj *k8saudit.Object, pred func(k8saudit.Image) bool) bool {
	cs := obj.Pod.AllContainers()
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if !pred(k8saudit.ParseImage(c.Image)) {
			return false
		}
	}
	return true
}

func (e *Engine) floodContainer(ev *k8saudit.Event, obj *k8saudit.Object, cluster string, base signal.Signal) (signal.Signal, bool) {
	var texts, containers, cmds []string
	for _, c := range obj.Pod.AllContainers() {
		argv := append(slices.Clone(c.Command), c.Args...)
		if len(argv) == 0 {
			continue
		}
		cmdline := shellQuote(argv)
		if ps := matchFlood(cmdline); len(ps) > 0 {
			texts = append(texts, fmt.Sprintf("container %s runs %s (%s)", c.Name, cmdline, strings.Join(ps, "; ")))
			containers = append(containers, c.Name)
			cmds = append(cmds, cmdline)
		}
	}
	if len(texts) == 0 {
		return signal.Signal{}, false
	}
	s := e.clone(base)
	s.Detector, s.Technique, s.Tactic = DetectorUnexpectedContainer, TechniqueDeploy, TacticExecution
	s.Severity = signal.High
	s.Command = cmds[0]
	s.Title = fmt.Sprintf("%s %s runs a flood or shell-to-network command: %s", obj.Kind, obj.Namespace+"/"+obj.Name, clip(cmds[0], 80))
	s.Description = fmt.Sprintf("%s %s %s %s in cluster %s whose command matches flood or shell-to-network patterns: %s. Application containers do not start like this; it is how a pod is turned into a traffic generator or a reverse shell.",
		describeUser(ev), verbPast(ev), obj.Kind, obj.Namespace+"/"+obj.Name, orUnknown(cluster), strings.Join(texts, "; "))
	s.Fields["reasons"] = strings.Join(texts, "; ")
	s.Fields["container"] = strings.Join(containers, ",")
	s.Fields["images"] = strings.Join(images(obj), ",")
	s.Resources = containerResources(cluster, obj, containers)
	return s, true
}
