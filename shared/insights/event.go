package insights

import (
	"errors"
	"fmt"
	"time"
)

// Platform is the container platform a performance event comes from.
type Platform string

// Platforms. The zero value means the platform could not be told, which
// only happens for ignored types.
const (
	EKS Platform = "EKS"
	ECS Platform = "ECS"
)

// Event types Parse returns without error. Their platform is fixed except
// for TypeContainer, which exists on both.
const (
	TypePod       = "Pod"       // EKS
	TypeNode      = "Node"      // EKS
	TypeContainer = "Container" // EKS and ECS
	TypeTask      = "Task"      // ECS
	TypeService   = "Service"   // ECS
)

// Sentinel errors; every error from Parse wraps exactly one of them.
var (
	// ErrNotJSON: the message is not one JSON object (a flow-log line, an
	// agent's plain-text log, a JSON array, a truncated document).
	ErrNotJSON = errors.New("not a JSON object")
	// ErrNotPerformance: the message is a JSON object but not a performance
	// event: it has no "Type" (an audit event, an application's own EMF).
	ErrNotPerformance = errors.New("not a Container Insights performance event")
	// ErrIgnoredType: a performance event of a type tidewatch does not use
	// (NodeFS, PodNet, Cluster, GPU, ...). Count it; it is not a bad record.
	ErrIgnoredType = errors.New("ignored performance event type")
	// ErrInvalid: a performance event of a supported type that is
	// malformed; a *FieldError in the chain says which field and why.
	ErrInvalid = errors.New("invalid performance event")
)

// FieldError says which field of a performance event is wrong and how.
// It unwraps to ErrInvalid.
type FieldError struct {
	// Field is the JSON path, e.g. "Timestamp", "kubernetes.pod_owners".
	Field string
	// Reason says what was wrong, e.g. `want a number, got "abc"`.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalid so errors.Is(err, ErrInvalid) holds.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Owner is one controller of a pod, as the agent resolves it (a
// ReplicaSet's Deployment, a Job's CronJob): kubernetes.pod_owners[].
type Owner struct {
	// Kind is the controller kind, e.g. "Deployment", "DaemonSet".
	Kind string `json:"kind"`
	// Name is the controller's name in the pod's namespace.
	Name string `json:"name"`
}

// Event is one parsed performance event. String fields are empty when the
// event does not carry them; see the package invariants for which are
// guaranteed.
type Event struct {
	// Type is the event's "Type", e.g. "Pod", "Task".
	Type string `json:"type"`
	// Platform is EKS or ECS.
	Platform Platform `json:"platform"`
	// Time is the event time (epoch milliseconds), in UTC.
	Time time.Time `json:"time"`
	// Cluster is ClusterName.
	Cluster string `json:"cluster"`

	// Namespace is the Kubernetes namespace (Namespace, else
	// kubernetes.namespace_name).
	Namespace string `json:"namespace,omitempty"`
	// PodName is the full pod name, e.g. "web-6d4cf56db6-x2x7q"
	// (kubernetes.pod_name, else FullPodName, else PodName).
	PodName string `json:"podName,omitempty"`
	// PodShortName is the top-level PodName, the agent's workload-ish
	// name without the ReplicaSet hash and pod suffix, e.g. "web".
	PodShortName string `json:"podShortName,omitempty"`
	// PodUID is kubernetes.pod_id.
	PodUID string `json:"podUID,omitempty"`
	// Node is the Kubernetes node name (NodeName, else kubernetes.host).
	Node string `json:"node,omitempty"`
	// ContainerName is kubernetes.container_name, else ContainerName
	// (ECS and the GPU types use the latter).
	ContainerName string `json:"containerName,omitempty"`
	// ContainerID is the runtime's container id, from
	// kubernetes.docker.container_id, kubernetes.containerd.container_id or
	// kubernetes.container_id.
	ContainerID string `json:"containerID,omitempty"`
	// Owners are the pod's controllers, first is the one to name the
	// workload after. Empty for a bare pod.
	Owners []Owner `json:"owners,omitempty"`
	// Labels are the pod's labels (kubernetes.labels).
	Labels map[string]string `json:"labels,omitempty"`
	// Service is the Kubernetes service in front of the pod (Service, else
	// kubernetes.service_name).
	Service string `json:"service,omitempty"`

	// TaskID is the ECS task id (TaskId).
	TaskID string `json:"taskID,omitempty"`
	// TaskFamily is TaskDefinitionFamily.
	TaskFamily string `json:"taskFamily,omitempty"`
	// TaskRevision is TaskDefinitionRevision.
	TaskRevision string `json:"taskRevision,omitempty"`
	// ServiceName is the ECS service (Service events only).
	ServiceName string `json:"serviceName,omitempty"`
	// Image is the ECS container image reference (ECS Container only;
	// EKS events carry no image).
	Image string `json:"image,omitempty"`
	// LaunchType is EC2 or FARGATE (ECS Task).
	LaunchType string `json:"launchType,omitempty"`
	// ContainerInstanceID is the ECS container instance (ContainerInstanceId).
	ContainerInstanceID string `json:"containerInstanceID,omitempty"`
	// KnownStatus is the lifecycle status as reported: ECS KnownStatus or
	// ContainerKnownStatus ("RUNNING"), EKS pod_status or container_status
	// ("Running").
	KnownStatus string `json:"knownStatus,omitempty"`

	// InstanceID is the EC2 instance (InstanceId, EC2InstanceId).
	InstanceID string `json:"instanceID,omitempty"`
	// AccountID and Region, where the event carries them (ECS Task).
	AccountID string `json:"accountID,omitempty"`
	Region    string `json:"region,omitempty"`

	// Metrics holds every numeric top-level field under its own name, e.g.
	// "pod_cpu_utilization" (percent of the node), "pod_network_tx_bytes"
	// (bytes/s), "CpuUtilized" (CPU units), "MemoryUtilized" (MiB).
	// A number sent as a string is included when the field is declared in
	// CloudWatchMetrics, is one the accessors read, or has a snake_case
	// metric name. Timestamps and identity fields (Timestamp, Version,
	// TaskDefinitionRevision, AccountID, PullStartedAt) are not metrics.
	// Prefer the typed accessors, which know the names per type.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Metric returns the named metric and whether the event has it.
func (e *Event) Metric(name string) (float64, bool) {
	v, ok := e.Metrics[name]
	return v, ok
}

// names are the metric field names behind the typed accessors for one
// (platform, type); "" where the type has no such metric.
type names struct {
	cpu, cpuLimit, mem, memLimit, rx, tx, restarts, running, pods, oomKilled string
}

var (
	eksPod = names{
		cpu: "pod_cpu_utilization", cpuLimit: "pod_cpu_utilization_over_pod_limit",
		mem: "pod_memory_utilization", memLimit: "pod_memory_utilization_over_pod_limit",
		rx: "pod_network_rx_bytes", tx: "pod_network_tx_bytes",
		restarts: "pod_number_of_container_restarts", running: "pod_number_of_running_containers",
		oomKilled: "pod_container_status_terminated_reason_oom_killed",
	}
	eksContainer = names{
		cpu: "container_cpu_utilization", cpuLimit: "container_cpu_utilization_over_container_limit",
		mem: "container_memory_utilization", memLimit: "container_memory_utilization_over_container_limit",
		restarts: "number_of_container_restarts",
	}
	eksNode = names{
		cpu: "node_cpu_utilization", mem: "node_memory_utilization",
		rx: "node_network_rx_bytes", tx: "node_network_tx_bytes",
		running: "node_number_of_running_containers", pods: "node_number_of_running_pods",
	}
	ecsTask = names{rx: "NetworkRxBytes", tx: "NetworkTxBytes"}
	none    = names{}
)

func (e *Event) names() *names {
	switch {
	case e.Platform == EKS && e.Type == TypePod:
		return &eksPod
	case e.Platform == EKS && e.Type == TypeContainer:
		return &eksContainer
	case e.Platform == EKS && e.Type == TypeNode:
		return &eksNode
	case e.Platform == ECS && (e.Type == TypeTask || e.Type == TypeContainer):
		return &ecsTask
	}
	return &none
}

func (e *Event) get(name string) (float64, bool) {
	if name == "" {
		return 0, false
	}
	v, ok := e.Metrics[name]
	return v, ok
}

// ratio returns 100*num/den for ECS, where utilization is not reported as
// a percentage but as units used against units reserved.
func (e *Event) ratio(num, den string) (float64, bool) {
	n, ok1 := e.Metrics[num]
	d, ok2 := e.Metrics[den]
	if !ok1 || !ok2 || d <= 0 {
		return 0, false
	}
	return 100 * n / d, true
}

// CPUUtilization returns CPU use in percent: of the node's capacity for EKS
// (pod_/container_/node_cpu_utilization), of the task's or container's
// reservation for ECS (100*CpuUtilized/CpuReserved, absent when nothing is
// reserved).
func (e *Event) CPUUtilization() (float64, bool) {
	if e.Platform == ECS && (e.Type == TypeTask || e.Type == TypeContainer) {
		return e.ratio("CpuUtilized", "CpuReserved")
	}
	return e.get(e.names().cpu)
}

// CPUOverLimit returns EKS CPU use in percent of the pod's or container's
// limit (…_cpu_utilization_over_…_limit). The agent omits it when a
// container has no limit; ECS has no such field.
func (e *Event) CPUOverLimit() (float64, bool) { return e.get(e.names().cpuLimit) }

// MemoryUtilization returns memory use in percent: of the node for EKS, of
// the reservation for ECS (100*MemoryUtilized/MemoryReserved).
func (e *Event) MemoryUtilization() (float64, bool) {
	if e.Platform == ECS && (e.Type == TypeTask || e.Type == TypeContainer) {
		return e.ratio("MemoryUtilized", "MemoryReserved")
	}
	return e.get(e.names().mem)
}

// MemoryOverLimit returns EKS memory use in percent of the pod's or
// container's limit; absent when there is no limit, and on ECS.
func (e *Event) MemoryOverLimit() (float64, bool) { return e.get(e.names().memLimit) }

// NetworkRxBytes returns received bytes per second (EKS Pod and Node, ECS
// Task and Container).
func (e *Event) NetworkRxBytes() (float64, bool) { return e.get(e.names().rx) }

// NetworkTxBytes returns sent bytes per second (EKS Pod and Node, ECS Task
// and Container).
func (e *Event) NetworkTxBytes() (float64, bool) { return e.get(e.names().tx) }

// Restarts returns the container restarts since the agent's previous
// sample of the same pod or container (EKS Pod and Container): the agent
// reports the rise of the summed Kubernetes restartCount, not the count
// itself, and leaves the field out of a pod's first sample.
func (e *Event) Restarts() (float64, bool) { return e.get(e.names().restarts) }

// OOMKilled returns how many of an EKS Pod's containers last terminated
// because the kernel killed them for exceeding their memory limit
// (pod_container_status_terminated_reason_oom_killed, enhanced
// observability only). It is a state, not a count of kills: it stays set
// until the container terminates again for another reason, and the agent
// writes it only once a container has been OOM-killed. Restarts while it
// is set are OOM kills.
func (e *Event) OOMKilled() (float64, bool) { return e.get(e.names().oomKilled) }

// RunningContainers returns the running containers of an EKS Pod or Node.
func (e *Event) RunningContainers() (float64, bool) { return e.get(e.names().running) }

// RunningPods returns the running pods of an EKS Node.
func (e *Event) RunningPods() (float64, bool) { return e.get(e.names().pods) }

// CPUUtilized returns ECS CpuUtilized (CPU units in use).
func (e *Event) CPUUtilized() (float64, bool) { return e.ecs("CpuUtilized") }

// CPUReserved returns ECS CpuReserved (CPU units reserved).
func (e *Event) CPUReserved() (float64, bool) { return e.ecs("CpuReserved") }

// MemoryUtilized returns ECS MemoryUtilized (MiB).
func (e *Event) MemoryUtilized() (float64, bool) { return e.ecs("MemoryUtilized") }

// MemoryReserved returns ECS MemoryReserved (MiB).
func (e *Event) MemoryReserved() (float64, bool) { return e.ecs("MemoryReserved") }

// RunningTasks returns an ECS Service's RunningTaskCount.
func (e *Event) RunningTasks() (float64, bool) { return e.ecs("RunningTaskCount") }

// DesiredTasks returns an ECS Service's DesiredTaskCount.
func (e *Event) DesiredTasks() (float64, bool) { return e.ecs("DesiredTaskCount") }

func (e *Event) ecs(name string) (float64, bool) {
	if e.Platform != ECS {
		return 0, false
	}
	return e.get(name)
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("insights: %w", &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}
