package k8saudit

import (
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"

	"github.com/tidewatch/tidewatch/shared/workload"
)

// Object is a pod or a pod-owning controller as a create, update or patch
// left it: its identity and the pod spec that matters for security.
type Object struct {
	// Kind is Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job,
	// CronJob or ReplicationController.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name; for a create from generateName without a
	// response object it is the generateName prefix.
	Name   string            `json:"name,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// OwnerReferences lists the owners, the controller first.
	OwnerReferences []workload.Owner `json:"ownerReferences,omitempty"`
	// Pod is the pod spec: spec for a Pod, spec.template.spec for
	// controllers, spec.jobTemplate.spec.template.spec for a CronJob.
	Pod PodSpec `json:"pod"`
}

// PodSpec is the security-relevant part of a core/v1 PodSpec.
type PodSpec struct {
	HostNetwork bool `json:"hostNetwork,omitempty"`
	HostPID     bool `json:"hostPID,omitempty"`
	HostIPC     bool `json:"hostIPC,omitempty"`
	// Volumes lists every volume; HostPath is set for hostPath ones.
	Volumes             []Volume    `json:"volumes,omitempty"`
	Containers          []Container `json:"containers,omitempty"`
	InitContainers      []Container `json:"initContainers,omitempty"`
	EphemeralContainers []Container `json:"ephemeralContainers,omitempty"`
	// ServiceAccountName falls back on the deprecated serviceAccount.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// AllContainers returns the init, regular and ephemeral containers, in
// that order.
func (p *PodSpec) AllContainers() []Container {
	out := make([]Container, 0, len(p.InitContainers)+len(p.Containers)+len(p.EphemeralContainers))
	out = append(out, p.InitContainers...)
	out = append(out, p.Containers...)
	return append(out, p.EphemeralContainers...)
}

// Volume is a pod volume; HostPath and HostPathType are set only for
// hostPath volumes.
type Volume struct {
	Name         string `json:"name"`
	HostPath     string `json:"hostPath,omitempty"`
	HostPathType string `json:"hostPathType,omitempty"`
}

// Container is the security-relevant part of a core/v1 Container.
type Container struct {
	Name    string   `json:"name"`
	Image   string   `json:"image,omitempty"`
	Command []string `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	// Privileged and AllowPrivilegeEscalation are nil when unset.
	Privileged               *bool `json:"privileged,omitempty"`
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// RunAsUser is the effective user: the container's own, else the
	// pod's securityContext.runAsUser; nil when neither sets it.
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// CapabilitiesAdd lists securityContext.capabilities.add as written.
	CapabilitiesAdd []string `json:"capabilitiesAdd,omitempty"`
	// Ephemeral marks a container from ephemeralContainers
	// (kubectl debug), Init one from initContainers.
	Ephemeral bool `json:"ephemeral,omitempty"`
	Init      bool `json:"init,omitempty"`
}

// workloadKinds maps the resources whose objects carry a pod spec to their
// kind, with the API groups that serve them.
var workloadKinds = map[string]struct {
	kind   string
	groups []string
}{
	"pods":                   {workload.KindPod, []string{""}},
	"deployments":            {workload.KindDeployment, []string{"apps", "extensions"}},
	"daemonsets":             {workload.KindDaemonSet, []string{"apps", "extensions"}},
	"statefulsets":           {workload.KindStatefulSet, []string{"apps"}},
	"replicasets":            {workload.KindReplicaSet, []string{"apps", "extensions"}},
	"jobs":                   {workload.KindJob, []string{"batch"}},
	"cronjobs":               {workload.KindCronJob, []string{"batch"}},
	"replicationcontrollers": {"ReplicationController", []string{""}},
}

// IsWorkloadWrite reports whether the event writes a pod or a pod template
// (create, update or patch of the resources Workload decodes), whatever its
// outcome.
func (e *Event) IsWorkloadWrite() bool {
	switch e.Verb {
	case "create", "update", "patch":
	default:
		return false
	}
	r := &e.ObjectRef
	wk, ok := workloadKinds[r.Resource]
	if !ok || !slices.Contains(wk.groups, r.APIGroup) {
		return false
	}
	return r.Subresource == "" || (r.Resource == "pods" && r.Subresource == "ephemeralcontainers")
}

// Workload decodes the pod or controller a successful create, update or
// patch wrote (including pods/ephemeralcontainers patches). It prefers the
// response object, which has the name generateName produced and the whole
// object after a patch, and falls back on the request object. ok is false
// for other events, refused requests, events logged without a body, and
// bodies that do not decode.
func (e *Event) Workload() (*Object, bool) {
	if !e.IsWorkloadWrite() || !e.Succeeded() || e.Stage == StageRequestReceived {
		return nil, false
	}
	var raw rawObject
	decoded := false
	for _, body := range [][]byte{e.ResponseObject, e.RequestObject} {
		if len(body) == 0 || body[0] != '{' {
			continue
		}
		raw = rawObject{}
		if json.Unmarshal(body, &raw) == nil && (raw.Kind == "" || raw.Kind == workloadKinds[e.ObjectRef.Resource].kind) {
			decoded = true
			break
		}
	}
	if !decoded {
		return nil, false
	}
	o := &Object{
		Kind:      workloadKinds[e.ObjectRef.Resource].kind,
		Namespace: cmp.Or(raw.Metadata.Namespace, e.ObjectRef.Namespace),
		Name:      cmp.Or(raw.Metadata.Name, e.ObjectRef.Name, raw.Metadata.GenerateName),
		Labels:    raw.Metadata.Labels,
	}
	for _, ref := range raw.Metadata.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			o.OwnerReferences = append([]workload.Owner{{Kind: ref.Kind, Name: ref.Name}}, o.OwnerReferences...)
		} else {
			o.OwnerReferences = append(o.OwnerReferences, workload.Owner{Kind: ref.Kind, Name: ref.Name})
		}
	}
	spec := &raw.Spec.rawPodSpec
	switch {
	case raw.Spec.JobTemplate != nil && raw.Spec.JobTemplate.Spec.Template != nil:
		spec = &raw.Spec.JobTemplate.Spec.Template.Spec
	case raw.Spec.Template != nil:
		spec = &raw.Spec.Template.Spec
	}
	o.Pod = spec.podSpec()
	return o, true
}

// PodIPs returns the addresses a pod was given, from a successful
// pods/status patch or update (the kubelet reports status.podIP and
// status.podIPs, often as a strategic-merge patch holding only status), or
// from a pod create, update or patch whose response carries them. Pods on
// the host network are left out when the event shows it: their address is
// the node's.
func (e *Event) PodIPs() (namespace, pod string, ips []netip.Addr, ok bool) {
	r := &e.ObjectRef
	if r.Resource != "pods" || r.APIGroup != "" || !e.Succeeded() || e.Stage == StageRequestReceived {
		return "", "", nil, false
	}
	var bodies [][]byte
	switch {
	case r.Subresource == "status" && (e.Verb == "patch" || e.Verb == "update"):
		bodies = [][]byte{e.RequestObject, e.ResponseObject}
	case r.Subresource == "" && (e.Verb == "create" || e.Verb == "update" || e.Verb == "patch"):
		bodies = [][]byte{e.ResponseObject}
	default:
		return "", "", nil, false
	}
	namespace, pod = r.Namespace, r.Name
	for _, body := range bodies {
		if len(body) == 0 || body[0] != '{' {
			continue
		}
		var st rawStatusObject
		if json.Unmarshal(body, &st) != nil {
			continue
		}
		if st.Spec.HostNetwork {
			return "", "", nil, false
		}
		namespace = cmp.Or(namespace, st.Metadata.Namespace)
		pod = cmp.Or(pod, st.Metadata.Name)
		for _, s := range append([]string{st.Status.PodIP}, podIPs(st.Status.PodIPs)...) {
			a, err := netip.ParseAddr(s)
			if err == nil && !slices.Contains(ips, a) {
				ips = append(ips, a)
			}
		}
		if len(ips) > 0 {
			break
		}
	}
	if len(ips) == 0 || pod == "" {
		return "", "", nil, false
	}
	return namespace, pod, ips, true
}

func podIPs(l []struct {
	IP string `json:"ip"`
}) []string {
	out := make([]string, 0, len(l))
	for _, p := range l {
		out = append(out, p.IP)
	}
	return out
}

// The raw* types mirror the Kubernetes JSON paths the helpers read.

type rawMeta struct {
	Name            string            `json:"name"`
	GenerateName    string            `json:"generateName"`
	Namespace       string            `json:"namespace"`
	Labels          map[string]string `json:"labels"`
	OwnerReferences []struct {
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		Controller *bool  `json:"controller"`
	} `json:"ownerReferences"`
}

type rawContainer struct {
	Name            string   `json:"name"`
	Image           string   `json:"image"`
	Command         []string `json:"command"`
	Args            []string `json:"args"`
	SecurityContext *struct {
		Privileged               *bool  `json:"privileged"`
		AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
		RunAsUser                *int64 `json:"runAsUser"`
		Capabilities             *struct {
			Add []string `json:"add"`
		} `json:"capabilities"`
	} `json:"securityContext"`
}

type rawPodSpec struct {
	HostNetwork bool `json:"hostNetwork"`
	HostPID     bool `json:"hostPID"`
	HostIPC     bool `json:"hostIPC"`
	Volumes     []struct {
		Name     string `json:"name"`
		HostPath *struct {
			Path string `json:"path"`
			Type string `json:"type"`
		} `json:"hostPath"`
	} `json:"volumes"`
	Containers          []rawContainer `json:"containers"`
	InitContainers      []rawContainer `json:"initContainers"`
	EphemeralContainers []rawContainer `json:"ephemeralContainers"`
	ServiceAccountName  string         `json:"serviceAccountName"`
	ServiceAccount      string         `json:"serviceAccount"`
	SecurityContext     *struct {
		RunAsUser *int64 `json:"runAsUser"`
	} `json:"securityContext"`
}

type rawTemplate struct {
	Metadata rawMeta    `json:"metadata"`
	Spec     rawPodSpec `json:"spec"`
}

// rawSpec holds both shapes: a pod spec (for pods) and the template of a
// controller; their field names do not collide.
type rawSpec struct {
	rawPodSpec
	Template    *rawTemplate `json:"template"`
	JobTemplate *struct {
		Spec struct {
			Template *rawTemplate `json:"template"`
		} `json:"spec"`
	} `json:"jobTemplate"`
}

type rawObject struct {
	Kind     string  `json:"kind"`
	Metadata rawMeta `json:"metadata"`
	Spec     rawSpec `json:"spec"`
}

type rawStatusObject struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		HostNetwork bool `json:"hostNetwork"`
	} `json:"spec"`
	Status struct {
		PodIP  string `json:"podIP"`
		PodIPs []struct {
			IP string `json:"ip"`
		} `json:"podIPs"`
	} `json:"status"`
}

func (s *rawPodSpec) podSpec() PodSpec {
	p := PodSpec{
		HostNetwork:        s.HostNetwork,
		HostPID:            s.HostPID,
		HostIPC:            s.HostIPC,
		ServiceAccountName: cmp.Or(s.ServiceAccountName, s.ServiceAccount),
	}
	for _, v := range s.Volumes {
		vol := Volume{Name: v.Name}
		if v.HostPath != nil {
			vol.HostPath, vol.HostPathType = v.HostPath.Path, v.HostPath.Type
		}
		p.Volumes = append(p.Volumes, vol)
	}
	var podUser *int64
	if s.SecurityContext != nil {
		podUser = s.SecurityContext.RunAsUser
	}
	conv := func(in []rawContainer, init, ephemeral bool) []Container {
		var out []Container
		for _, c := range in {
			o := Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args, RunAsUser: podUser, Init: init, Ephemeral: ephemeral}
			if sc := c.SecurityContext; sc != nil {
				o.Privileged = sc.Privileged
				o.AllowPrivilegeEscalation = sc.AllowPrivilegeEscalation
				if sc.RunAsUser != nil {
					o.RunAsUser = sc.RunAsUser
				}
				if sc.Capabilities != nil {
					o.CapabilitiesAdd = sc.Capabilities.Add
				}
			}
			out = append(out, o)
		}
		return out
	}
	p.Containers = conv(s.Containers, false, false)
	p.InitContainers = conv(s.InitContainers, true, false)
	p.EphemeralContainers = conv(s.EphemeralContainers, false, true)
	return p
}
