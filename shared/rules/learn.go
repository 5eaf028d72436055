package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
)

// barePod reports a pod with no owner created by a person (kubectl run,
// kubectl apply of a Pod): the way to deploy one container out of band
// (T1610).
func (e *Engine) barePod(ev *k8saudit.Event, obj *k8saudit.Object, cluster string, base signal.Signal) signal.Signal {
	s := e.clone(base)
	s.Detector, s.Technique, s.Tactic = DetectorBarePod, TechniqueDeploy, TacticExecution
	s.Severity = signal.Medium
	if obj.Namespace == kubeSystemNamespace {
		s.Severity = s.Severity.Raise(1)
	}
	imgs := images(obj)
	s.Title = fmt.Sprintf("Bare pod %s created by %s: %s", obj.Namespace+"/"+obj.Name, displayName(&ev.User), clip(strings.Join(imgs, ", "), 80))
	var d strings.Builder
	fmt.Fprintf(&d, "%s created pod %s in cluster %s directly, with no Deployment, Job or other controller owning it, running %s.",
		describeUser(ev), obj.Namespace+"/"+obj.Name, orUnknown(cluster), strings.Join(imgs, ", "))
	for _, c := range obj.Pod.Containers {
		if argv := append(slices.Clone(c.Command), c.Args...); len(argv) > 0 {
			fmt.Fprintf(&d, " Container %s runs %s.", c.Name, shellQuote(argv))
			if s.Command == "" {
				s.Command = shellQuote(argv)
			}
		}
	}
	d.WriteString(" Workloads normally reach the cluster through controllers and deployment automation; a person starting a pod by hand bypasses review.")
	s.Description = d.String()
	s.Fields["images"] = strings.Join(imgs, ",")
	s.Fields["reasons"] = "pod without owner created by a person"
	var names []string
	for _, c := range obj.Pod.AllContainers() {
		names = append(names, c.Name)
	}
	s.Resources = containerResources(cluster, obj, names)
	return s
}

// learnedBarePodUser reports a user who has created bare pods since the
// warm-up (a CI system running test pods, a batch scheduler).
func (e *Engine) learnedBarePodUser(st *State, user string, t time.Time) bool {
	d, ok := st.Deployers[user]
	if !ok || d.BarePods == 0 {
		return false
	}
	return t.Sub(d.First) >= e.cfg.PromoteAfter || st.learned(d.First, t, e.cfg.PromoteAfter)
}

// registries reports images from registries the cluster has not used, once
// the warm-up is over. It only reads st; learn records the sighting.
func (e *Engine) registries(ev *k8saudit.Event, obj *k8saudit.Object, cluster string, base signal.Signal, st *State, t time.Time) (signal.Signal, bool) {
	if st.WarmingUp() {
		return signal.Signal{}, false
	}
	var bad, keys, containers []string
	for _, c := range obj.Pod.AllContainers() {
		if c.Image == "" {
			continue
		}
		img := k8saudit.ParseImage(c.Image)
		if alwaysTrusted(img) || allowed(e.cfg.AllowedRegistries, img) {
			continue
		}
		key := registryKey(img)
		if seen, ok := st.Registries[key]; ok && st.learned(seen.First, t, e.cfg.PromoteAfter) {
			continue
		}
		if !slices.Contains(bad, c.Image) {
			bad = append(bad, c.Image)
		}
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
		containers = append(containers, c.Name)
	}
	if len(bad) == 0 {
		return signal.Signal{}, false
	}
	s := e.clone(base)
	s.Detector, s.Technique, s.Tactic = DetectorUntrustedRegistry, TechniqueDeploy, TacticExecution
	s.Severity = signal.Medium
	if obj.Namespace == kubeSystemNamespace {
		s.Severity = s.Severity.Raise(1)
	}
	s.Title = fmt.Sprintf("Image from a registry new to cluster %s: %s in %s by %s", orUnknown(cluster), clip(strings.Join(bad, ", "), 80), obj.Namespace+"/"+obj.Kind+"/"+obj.Name, displayName(&ev.User))
	s.Description = fmt.Sprintf("%s %s %s %s in cluster %s with image(s) %s from %s. Since %s the cluster has created %d workloads using %d known registr%s, none of them this one, and it is not in the allowed list.",
		describeUser(ev), verbPast(ev), obj.Kind, obj.Namespace+"/"+obj.Name, orUnknown(cluster), strings.Join(bad, ", "), strings.Join(keys, ", "),
		st.Started.UTC().Format(time.RFC3339), st.Creates, len(st.Registries), plural(len(st.Registries), "y", "ies"))
	s.Fields["images"] = strings.Join(bad, ",")
	s.Fields["registry"] = strings.Join(keys, ",")
	s.Fields["container"] = strings.Join(containers, ",")
	s.Resources = containerResources(cluster, obj, containers)
	return s, true
}

// learn records what a workload write teaches: its registries and its
// writer; it ends the warm-up when enough has been seen.
func (e *Engine) learn(st *State, ev *k8saudit.Event, obj *k8saudit.Object, bare bool, t time.Time) {
	if st.Version == 0 {
		st.Version = StateVersion
	}
	if st.Registries == nil {
		st.Registries = map[string]Seen{}
	}
	if st.Deployers == nil {
		st.Deployers = map[string]Seen{}
	}
	if st.Started.IsZero() || t.Before(st.Started) {
		st.Started = t
	}
	if ev.Verb == "create" {
		st.Creates++
	}
	for _, c := range obj.Pod.AllContainers() {
		if c.Image != "" {
			observe(st.Registries, registryKey(k8saudit.ParseImage(c.Image)), t, MaxRegistries)
		}
	}
	if user := ev.User.Username; user != "" && (ev.Verb == "create" || !isKubeSystemController(user)) {
		d := observe(st.Deployers, user, t, MaxDeployers)
		if bare {
			d.BarePods++
			st.Deployers[user] = d
		}
	}
	if st.WarmingUp() && st.Creates >= e.cfg.WarmupCreates && t.Sub(st.Started) >= e.cfg.WarmupPeriod {
		st.WarmedUp = t
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
