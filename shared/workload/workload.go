package workload

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Kubernetes controller kinds tidewatch names workloads after.
const (
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindDaemonSet   = "DaemonSet"
	KindStatefulSet = "StatefulSet"
	KindJob         = "Job"
	KindCronJob     = "CronJob"
	KindPod         = "Pod"
)

// Platforms, the first element of an id.
const (
	PlatformEKS = "eks"
	PlatformECS = "ecs"
	PlatformVPC = "vpc"
)

// UnknownCluster stands for a cluster name that no input named.
const UnknownCluster = "unknown"

// EKS returns the id of a Kubernetes workload.
func EKS(cluster, namespace, kind, name string) string {
	if cluster == "" {
		cluster = UnknownCluster
	}
	if namespace == "" {
		namespace = "default"
	}
	return "eks/" + cluster + "/" + namespace + "/" + kind + "/" + name
}

// ECSService returns the id of an ECS service.
func ECSService(cluster, service string) string {
	return "ecs/" + orUnknown(cluster) + "/service/" + service
}

// ECSTask returns the id of ECS tasks not started by a service, named by
// their task definition family.
func ECSTask(cluster, family string) string {
	return "ecs/" + orUnknown(cluster) + "/task/" + family
}

// VPC returns the fallback id for traffic nothing else explains.
func VPC(eni string, ip netip.Addr) string {
	if eni == "" {
		eni = "unknown"
	}
	return "vpc/" + eni + "/" + ip.String()
}

func orUnknown(s string) string {
	if s == "" {
		return UnknownCluster
	}
	return s
}

// Ref is a parsed workload id.
type Ref struct {
	Platform  string // eks, ecs, vpc
	Cluster   string // eks, ecs
	Namespace string // eks
	Kind      string // eks: controller kind; ecs: "service" or "task"
	Name      string // eks, ecs: workload name; vpc: the IP
	ENI       string // vpc
}

// ErrBadID is returned by Parse for a string that is not a workload id.
var ErrBadID = errors.New("not a workload id")

// Parse splits a canonical id into its parts.
func Parse(id string) (Ref, error) {
	parts := strings.Split(id, "/")
	switch {
	case len(parts) == 5 && parts[0] == PlatformEKS && allSet(parts):
		return Ref{Platform: PlatformEKS, Cluster: parts[1], Namespace: parts[2], Kind: parts[3], Name: parts[4]}, nil
	case len(parts) == 4 && parts[0] == PlatformECS && (parts[2] == "service" || parts[2] == "task") && allSet(parts):
		return Ref{Platform: PlatformECS, Cluster: parts[1], Kind: parts[2], Name: parts[3]}, nil
	case len(parts) == 3 && parts[0] == PlatformVPC && allSet(parts):
		return Ref{Platform: PlatformVPC, ENI: parts[1], Name: parts[2]}, nil
	}
	return Ref{}, fmt.Errorf("%w: %q", ErrBadID, id)
}

func allSet(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}

// String renders the canonical id.
func (r Ref) String() string {
	switch r.Platform {
	case PlatformEKS:
		return EKS(r.Cluster, r.Namespace, r.Kind, r.Name)
	case PlatformECS:
		return "ecs/" + orUnknown(r.Cluster) + "/" + r.Kind + "/" + r.Name
	case PlatformVPC:
		return "vpc/" + r.ENI + "/" + r.Name
	}
	return ""
}

// Owner is a Kubernetes owner reference (kind and name), as in a pod's
// metadata.ownerReferences or Container Insights' kubernetes.pod_owners.
type Owner struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Resolve lifts an owner to the controller that outlives it: a ReplicaSet
// named <deployment>-<pod-template-hash> becomes its Deployment, a Job named
// <cronjob>-<scheduled minutes> becomes its CronJob. templateHash is the
// pod's pod-template-hash label when known ("" otherwise); without it the
// ReplicaSet suffix must look like a hash Kubernetes generates.
func Resolve(o Owner, templateHash string) Owner {
	switch o.Kind {
	case KindReplicaSet:
		base, suffix, ok := cutLast(o.Name)
		if !ok {
			return o
		}
		if (templateHash != "" && suffix == templateHash) || (templateHash == "" && isTemplateHash(suffix)) {
			return Owner{Kind: KindDeployment, Name: base}
		}
	case KindJob:
		base, suffix, ok := cutLast(o.Name)
		// CronJob jobs are suffixed with the scheduled time in minutes
		// since the epoch: eight or more digits.
		if ok && len(suffix) >= 8 && allDigits(suffix) {
			return Owner{Kind: KindCronJob, Name: base}
		}
	}
	return o
}

// ForPod returns the workload id of a pod from what is known about it:
// its owner references (the controller first), its labels, and its name.
// With no owner it falls back on the name a Deployment gives its pods
// (<deployment>-<hash>-<suffix>); otherwise the pod is its own workload.
func ForPod(cluster, namespace, pod string, owners []Owner, labels map[string]string) string {
	hash := labels["pod-template-hash"]
	if len(owners) > 0 {
		o := Resolve(owners[0], hash)
		return EKS(cluster, namespace, o.Kind, o.Name)
	}
	if rs, _, ok := cutLast(pod); ok {
		if hash != "" {
			if base, suffix, ok := cutLast(rs); ok && suffix == hash {
				return EKS(cluster, namespace, KindDeployment, base)
			}
		} else if base, suffix, ok := cutLast(rs); ok && isTemplateHash(suffix) && isPodSuffix(pod[len(rs)+1:]) {
			return EKS(cluster, namespace, KindDeployment, base)
		}
	}
	return EKS(cluster, namespace, KindPod, pod)
}

func cutLast(s string) (base, suffix string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// safeAlphabet is the alphabet Kubernetes uses for generated name suffixes
// and pod-template-hash values (k8s.io/apimachinery rand.SafeEncodeString:
// no vowels, no 0/1/3 that spell words).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

func isTemplateHash(s string) bool { return len(s) >= 6 && len(s) <= 10 && inAlphabet(s) }

func isPodSuffix(s string) bool { return len(s) == 5 && inAlphabet(s) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
