// Package rules detects attacks in Kubernetes audit events with fixed
// rules: pure functions of the event, the cluster's learned State and the
// Config. It does no I/O and never logs.
//
// Rules (detector id, MITRE technique, ASFF tactic):
//
//   - k8s-exec (T1609, TTPs/Execution): kubectl exec, attach or
//     port-forward into a pod that was allowed (HTTP 101/2xx or no status
//     yet), whether by SPDY (verb create) or WebSocket (verb get, kubectl
//     1.30 and later). MEDIUM; HIGH when the command matches a flood or
//     shell-to-network pattern (patterns.go); one step higher in
//     kube-system. Interactive shells are noted.
//   - k8s-exec-denied (T1609): the same call refused by authorization
//     (401/403), LOW. Other failures are quiet.
//   - k8s-privileged (T1611, TTPs/Privilege Escalation): a pod or pod
//     template written with a privileged container (regular, init or
//     ephemeral), hostPID, hostIPC, hostNetwork, hostPath volumes (HIGH
//     for the node's sensitive paths), dangerous capabilities, or
//     allowPrivilegeEscalation as root. One signal per object, every
//     reason listed, severity of the worst. Capped at LOW for kube-system
//     objects whose images all come from the EKS add-on registries.
//   - k8s-unexpected-container (T1610, TTPs/Execution): a container whose
//     command or args match a flood pattern, HIGH.
//   - k8s-bare-pod (T1610): a pod with no owner created by a person (not
//     a system: identity, a configured trusted deployer, or a user the
//     State learned creates bare pods), MEDIUM.
//   - k8s-untrusted-registry (T1610): an image from a registry the cluster
//     has not used (learned in State), not allowed by Config, and not an
//     EKS add-on registry, MEDIUM. Silent during the warm-up.
//
// Invariants:
//
//   - Every signal has Count 1, First == Last == the event time (for
//     exec, the time the request was received, the same in all its
//     stages), a workload id from package workload (the controller's for
//     templates, the pod's resolved owner for pods, the pipeline's lookup
//     first for exec), and the cluster among its Resources.
//   - The stages of one exec call make one signal: EvaluateAll picks one
//     per auditID within a batch, and State remembers reported calls
//     across batches.
//   - Trusted automation (kube-system controllers, configured or learned
//     deployers) is judged by what it writes and never alerted for merely
//     deploying. Pods are judged when created; controllers when written
//     by anyone but the control plane's own controllers.
//   - A request that was refused or only received writes nothing, so it
//     neither alerts (but for k8s-exec-denied) nor teaches State.
//   - State is bounded (MaxRegistries, MaxDeployers, MaxCalls) and only
//     event time moves it, so replays are deterministic.
package rules
