package rules

import (
	"fmt"
	"strings"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// exec judges a pods/exec, attach or portforward call. A call that ran
// (1xx/2xx, or no status yet) is k8s-exec; one refused by authorization
// (401/403) is k8s-exec-denied, LOW: an attempt is worth knowing, an
// intrusion it is not. Other failures (no such pod or container, 5xx) are
// quiet.
func (e *Engine) exec(ev *k8saudit.Event, x k8saudit.Exec, cluster string, st *State) (signal.Signal, bool) {
	detector := DetectorExec
	switch {
	case ev.Succeeded():
	case ev.ResponseStatus.Code == 401 || ev.ResponseStatus.Code == 403:
		detector = DetectorExecDenied
	default:
		return signal.Signal{}, false
	}
	// The request time is the same in every stage of a call, so whichever
	// stage reports it, the signal is the same.
	t := ev.RequestReceivedTimestamp
	if t.IsZero() {
		t = ev.Time()
	}
	if st != nil && !st.rememberCall(ev.AuditID, t) {
		return signal.Signal{}, false
	}

	wl, ok := e.lookup(cluster, x.Namespace, x.Pod)
	if !ok {
		wl = workload.ForPod(cluster, x.Namespace, x.Pod, nil, nil)
	}
	cmdline := shellQuote(x.Command)
	patterns := matchFlood(cmdline)
	interactive := x.TTY && x.Stdin && (x.Subresource == k8saudit.SubresourceAttach || isShell(x.Command))

	sev := signal.Medium
	if len(patterns) > 0 {
		sev = signal.High
	}
	if x.Namespace == kubeSystemNamespace {
		sev = sev.Raise(1)
	}
	if detector == DetectorExecDenied {
		sev = signal.Low
	}

	verb, prep := "exec", "into"
	switch x.Subresource {
	case k8saudit.SubresourceAttach:
		verb, prep = "attach", "to"
	case k8saudit.SubresourcePortForward:
		verb, prep = "port-forward", "to"
		cmdline = "ports " + strings.Join(x.Ports, ",")
	}
	if strings.HasPrefix(ev.UserAgent, "kubectl/") {
		verb = "kubectl " + verb
	}
	pod := x.Namespace + "/" + x.Pod
	who := displayName(&ev.User)

	var title strings.Builder
	if detector == DetectorExecDenied {
		title.WriteString("Denied ")
	}
	fmt.Fprintf(&title, "%s %s %s by %s", verb, prep, pod, who)
	if len(x.Command) > 0 || x.Subresource == k8saudit.SubresourcePortForward {
		fmt.Fprintf(&title, ": %s", clip(cmdline, 80))
	}
	t0 := title.String()

	var d strings.Builder
	fmt.Fprintf(&d, "%s ", describeUser(ev))
	switch {
	case detector == DetectorExecDenied:
		fmt.Fprintf(&d, "was refused (HTTP %d) a %s session", ev.ResponseStatus.Code, x.Subresource)
	case interactive:
		fmt.Fprintf(&d, "opened an interactive %s session (tty, stdin)", x.Subresource)
	default:
		fmt.Fprintf(&d, "opened a %s session", x.Subresource)
	}
	fmt.Fprintf(&d, " %s pod %s", prep, pod)
	if x.Container != "" {
		fmt.Fprintf(&d, ", container %s", x.Container)
	}
	fmt.Fprintf(&d, ", in cluster %s", orUnknown(cluster))
	switch {
	case x.Subresource == k8saudit.SubresourcePortForward:
		fmt.Fprintf(&d, ", forwarding ports %s.", strings.Join(x.Ports, ", "))
	case len(x.Command) > 0:
		fmt.Fprintf(&d, ", running: %s.", cmdline)
	default:
		d.WriteString(".")
	}
	if len(patterns) > 0 {
		fmt.Fprintf(&d, " The command matches %d flood or shell-to-network pattern(s): %s.", len(patterns), strings.Join(patterns, "; "))
	}
	if interactive && isShell(x.Command) {
		d.WriteString(" An interactive shell gives its user everything the container can reach.")
	}
	if x.Namespace == kubeSystemNamespace {
		d.WriteString(" The pod is in kube-system, where the cluster's own components run.")
	}
	d.WriteString(" Exec into a running workload is rare outside debugging; confirm who ran it and why.")

	fields := userFields(ev)
	fields["namespace"] = x.Namespace
	fields["pod"] = x.Pod
	fields["subresource"] = x.Subresource
	fields["verb"] = ev.Verb
	if x.Container != "" {
		fields["container"] = x.Container
	}
	if interactive {
		fields["interactive"] = "true"
	}
	if len(patterns) > 0 {
		fields["patterns"] = strings.Join(patterns, "; ")
	}
	if ev.ResponseStatus != nil && ev.ResponseStatus.Code != 0 {
		fields["status"] = fmt.Sprint(ev.ResponseStatus.Code)
	}

	container := signal.Resource{
		Type: signal.ResourceContainer,
		ID:   orUnknown(cluster) + "/" + x.Namespace + "/pod/" + x.Pod,
		Name: x.Pod,
	}
	if x.Container != "" {
		container.ID += "/" + x.Container
		container.Name += "/" + x.Container
	}
	s := signal.Signal{
		Detector:    detector,
		Technique:   TechniqueExec,
		Tactic:      TacticExecution,
		Workload:    wl,
		First:       t,
		Last:        t,
		Severity:    sev,
		Title:       t0,
		Description: d.String(),
		Actor:       ev.User.Username,
		Command:     cmdline,
		Count:       1,
		Resources:   []signal.Resource{container, clusterResource(cluster)},
		Fields:      fields,
	}
	if x.Subresource == k8saudit.SubresourceAttach {
		s.Command = ""
	}
	return s, true
}

func orUnknown(cluster string) string {
	if cluster == "" {
		return workload.UnknownCluster
	}
	return cluster
}

func clusterResource(cluster string) signal.Resource {
	return signal.Resource{Type: signal.ResourceEKSCluster, ID: orUnknown(cluster)}
}

// displayName is the short name a person recognizes: the IAM session name
// behind an STS ARN, else the user name.
func displayName(u *k8saudit.UserInfo) string {
	if s := u.Extra["sessionName"]; len(s) > 0 && s[0] != "" {
		return s[0]
	}
	name := u.Username
	if sa, ok := strings.CutPrefix(name, "system:serviceaccount:"); ok {
		return "serviceaccount " + strings.Replace(sa, ":", "/", 1)
	}
	if i := strings.Index(name, ":assumed-role/"); i >= 0 {
		if j := strings.LastIndexByte(name, '/'); j > i {
			return name[j+1:]
		}
	}
	if name == "" {
		return "an unknown user"
	}
	return name
}

// describeUser says who, from where and with what, for descriptions.
func describeUser(ev *k8saudit.Event) string {
	u := &ev.User
	var b strings.Builder
	b.WriteString(displayName(u))
	var extra []string
	if u.Username != "" && u.Username != displayName(u) {
		extra = append(extra, "user "+u.Username)
	}
	if arn := u.Extra["arn"]; len(arn) > 0 && arn[0] != u.Username {
		extra = append(extra, "IAM "+arn[0])
	}
	if len(u.Groups) > 0 {
		extra = append(extra, "groups "+strings.Join(u.Groups, ", "))
	}
	if ev.ImpersonatedUser != nil && ev.ImpersonatedUser.Username != "" {
		extra = append(extra, "impersonating "+ev.ImpersonatedUser.Username)
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, "; "))
	}
	if len(ev.SourceIPs) > 0 {
		fmt.Fprintf(&b, " from %s", ev.SourceIPs[0])
	}
	if ev.UserAgent != "" {
		fmt.Fprintf(&b, " using %s", clip(ev.UserAgent, 60))
	}
	return b.String()
}

// userFields are the evidence fields every rule records about the caller.
func userFields(ev *k8saudit.Event) map[string]string {
	f := map[string]string{"user": ev.User.Username}
	if len(ev.User.Groups) > 0 {
		f["groups"] = strings.Join(ev.User.Groups, ",")
	}
	if len(ev.SourceIPs) > 0 {
		f["sourceIP"] = ev.SourceIPs[0]
	}
	if ev.UserAgent != "" {
		f["userAgent"] = ev.UserAgent
	}
	if arn := ev.User.Extra["arn"]; len(arn) > 0 {
		f["arn"] = arn[0]
	}
	if ev.ImpersonatedUser != nil && ev.ImpersonatedUser.Username != "" {
		f["impersonatedUser"] = ev.ImpersonatedUser.Username
	}
	if ev.AuditID != "" {
		f["auditID"] = ev.AuditID
	}
	return f
}
