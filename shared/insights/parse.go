package insights

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Timestamps outside [minMillis, maxMillis) are rejected: below is 1973,
// which only a timestamp in seconds would produce; above is year 5138.
const (
	minMillis = 1e11
	maxMillis = 1e14
)

// directive is one CloudWatchMetrics entry; only what Parse uses of it.
type directive struct {
	Namespace string `json:"Namespace"`
	Metrics   []struct {
		Name string `json:"Name"`
	} `json:"Metrics"`
}

type containerID struct {
	ContainerID string `json:"container_id"`
}

// kubernetes is the "kubernetes" block of EKS events.
type kubernetes struct {
	Host          string            `json:"host"`
	NamespaceName string            `json:"namespace_name"`
	PodName       string            `json:"pod_name"`
	PodID         string            `json:"pod_id"`
	ServiceName   string            `json:"service_name"`
	ContainerName string            `json:"container_name"`
	ContainerID   string            `json:"container_id"`
	Docker        *containerID      `json:"docker"`
	Containerd    *containerID      `json:"containerd"`
	Labels        map[string]string `json:"labels"`
	PodOwners     []struct {
		Kind string `json:"owner_kind"`
		Name string `json:"owner_name"`
	} `json:"pod_owners"`
}

// knownMetrics are metrics whose value must be numeric when present, even
// as a string, because detectors read them. Other fields only become
// metrics when they hold a number.
var knownMetrics = map[string]bool{
	"pod_cpu_utilization": true, "pod_cpu_utilization_over_pod_limit": true,
	"pod_memory_utilization": true, "pod_memory_utilization_over_pod_limit": true,
	"pod_network_rx_bytes": true, "pod_network_tx_bytes": true,
	"pod_number_of_container_restarts": true, "pod_number_of_running_containers": true,
	"container_cpu_utilization": true, "container_cpu_utilization_over_container_limit": true,
	"container_memory_utilization": true, "container_memory_utilization_over_container_limit": true,
	"number_of_container_restarts": true,
	"node_cpu_utilization":         true, "node_memory_utilization": true,
	"node_network_rx_bytes": true, "node_network_tx_bytes": true,
	"node_number_of_running_containers": true, "node_number_of_running_pods": true,
	"CpuUtilized": true, "CpuReserved": true, "MemoryUtilized": true, "MemoryReserved": true,
	"NetworkRxBytes": true, "NetworkTxBytes": true, "NetworkRxPackets": true, "NetworkTxPackets": true,
	"StorageReadBytes": true, "StorageWriteBytes": true,
	"DesiredTaskCount": true, "RunningTaskCount": true, "PendingTaskCount": true,
	"DeploymentCount": true, "TaskSetCount": true,
	// Enhanced observability; with the restarts it counts OOM kills.
	"pod_container_status_terminated_reason_oom_killed": true,
}

// notMetrics are numeric-looking top-level fields that are not metrics.
var notMetrics = map[string]bool{
	"Timestamp": true, "Version": true, "TaskDefinitionRevision": true,
	"AccountID": true, "AccountId": true, "InstanceId": true, "EC2InstanceId": true,
	"PullStartedAt": true, "PullStoppedAt": true, "CreatedAt": true, "StartedAt": true,
	"ExecutionStoppedAt": true, "StoppedAt": true,
}

// Parse parses one performance log event message. msg is not retained.
//
// For an ignored type the error wraps ErrIgnoredType and the Event still
// carries Type, Platform (when it can be told), Time and Cluster, so a
// caller can count ignored events per type.
func Parse(msg []byte) (ev Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = Event{}, fmt.Errorf("insights: %w: parser panic: %v", ErrInvalid, r)
		}
	}()
	return parse(msg)
}

func parse(msg []byte) (Event, error) {
	var ev Event
	trimmed := bytes.TrimLeft(msg, " \t\r\n")
	if len(trimmed) == 0 {
		return ev, fmt.Errorf("insights: %w: empty message", ErrNotJSON)
	}
	if trimmed[0] != '{' {
		r, _ := utf8.DecodeRune(trimmed)
		return ev, fmt.Errorf("insights: %w: starts with %q", ErrNotJSON, r)
	}
	if !json.Valid(trimmed) {
		var v struct{}
		err := json.Unmarshal(trimmed, &v) // for the position and reason
		return ev, fmt.Errorf("insights: %w: %v", ErrNotJSON, err)
	}
	var buf [96]member
	top := scanObject(trimmed, buf[:0])

	rawType, ok := top.get("Type")
	if !ok {
		return ev, fmt.Errorf("insights: %w: no \"Type\" field", ErrNotPerformance)
	}
	if len(rawType) == 0 || rawType[0] != '"' {
		return ev, fieldErr("Type", "want a string, got %s", describe(rawType))
	}
	typ, err := stringValue(rawType)
	if err != nil {
		return ev, fieldErr("Type", "%v", err)
	}
	if typ == "" {
		return ev, fieldErr("Type", "empty")
	}
	ev.Type = typ

	// Layout: EMF v1 keeps the timestamp and directives in _aws; the legacy
	// layout keeps them at the top level.
	rawTime, _ := top.get("Timestamp")
	rawDirectives, _ := top.get("CloudWatchMetrics")
	timeField, dirField := "Timestamp", "CloudWatchMetrics"
	if rawAWS, ok := top.get("_aws"); ok {
		var aws struct {
			Timestamp         json.RawMessage `json:"Timestamp"`
			CloudWatchMetrics json.RawMessage `json:"CloudWatchMetrics"`
		}
		if err := json.Unmarshal(rawAWS, &aws); err != nil {
			return ev, fieldErr("_aws", "want an object with Timestamp and CloudWatchMetrics: %v", err)
		}
		if aws.Timestamp != nil {
			rawTime, timeField = aws.Timestamp, "_aws.Timestamp"
		}
		if aws.CloudWatchMetrics != nil {
			rawDirectives, dirField = aws.CloudWatchMetrics, "_aws.CloudWatchMetrics"
		}
	}
	// Directives are only read when needed: to tell the platform of a
	// Container, and to know whether an odd field is a declared metric.
	if rawDirectives != nil && !isNull(rawDirectives) && rawDirectives[0] != '[' {
		return ev, fieldErr(dirField, "want a list of metric directives, got %s", describe(rawDirectives))
	}
	var directives []directive
	var dirErr error
	dirParsed := false
	getDirectives := func() []directive {
		if !dirParsed && rawDirectives != nil && !isNull(rawDirectives) {
			if err := json.Unmarshal(rawDirectives, &directives); err != nil {
				dirErr = fieldErr(dirField, "want a list of metric directives: %v", typeErr(err))
			}
		}
		dirParsed = true
		return directives
	}
	ev.Platform = platform(typ, getDirectives, top)
	if raw, ok := top.get("ClusterName"); ok {
		ev.Cluster, _ = stringValue(raw)
	}

	if !supported(ev.Platform, typ) {
		// Whatever else is wrong with it, an ignored type is ignored.
		ev.Time, _ = parseTime(rawTime)
		return ev, fmt.Errorf("insights: type %q: %w", typ, ErrIgnoredType)
	}
	if dirErr != nil {
		return ev, dirErr
	}

	if rawTime == nil {
		return ev, fieldErr("Timestamp", "missing")
	}
	if ev.Time, err = parseTime(rawTime); err != nil {
		return ev, fieldErr(timeField, "%v", err)
	}

	declared := func(name string) bool {
		ds := getDirectives()
		for i := range ds {
			for _, m := range ds[i].Metrics {
				if m.Name == name {
					return true
				}
			}
		}
		return false
	}

	ev.Metrics = make(map[string]float64, len(top))
	var fullPodName, node, containerName, service string
	for _, m := range top {
		raw := m.value
		if len(raw) == 0 {
			continue // cannot happen on valid JSON; keeps raw[0] safe
		}
		var dst *string
		switch string(m.key) {
		case "Type", "_aws", "CloudWatchMetrics", "Timestamp", "kubernetes":
			continue
		case "ClusterName":
			dst = &ev.Cluster
		case "Namespace":
			dst = &ev.Namespace
		case "PodName":
			dst = &ev.PodShortName
		case "FullPodName", "K8sPodName":
			dst = &fullPodName
		case "NodeName":
			dst = &node
		case "kubernetes.host":
			if node == "" {
				dst = &node
			}
		case "ContainerName":
			dst = &containerName
		case "Service":
			dst = &service
		case "TaskId":
			dst = &ev.TaskID
		case "TaskDefinitionFamily":
			dst = &ev.TaskFamily
		case "TaskDefinitionRevision":
			dst = &ev.TaskRevision
		case "ServiceName":
			dst = &ev.ServiceName
		case "Image":
			dst = &ev.Image
		case "LaunchType":
			dst = &ev.LaunchType
		case "ContainerInstanceId":
			dst = &ev.ContainerInstanceID
		case "KnownStatus", "ContainerKnownStatus", "pod_status", "container_status":
			dst = &ev.KnownStatus
		case "InstanceId", "EC2InstanceId":
			dst = &ev.InstanceID
		case "AccountID", "AccountId":
			dst = &ev.AccountID
		case "Region":
			dst = &ev.Region
		}
		if dst != nil {
			s, err := stringValue(raw)
			if err != nil {
				return ev, fieldErr(string(m.key), "%v", err)
			}
			*dst = s
			continue
		}
		if notMetrics[string(m.key)] {
			continue
		}
		known := knownMetrics[string(m.key)]
		if c := raw[0]; c == '{' || c == '[' || c == 't' || c == 'f' || c == 'n' {
			// Sources, a status flag, an object: not a metric unless
			// detectors read it, and then it must be a number.
			if known && c != 'n' {
				return ev, fieldErr(string(m.key), "want a number, got %s", describe(raw))
			}
			continue
		}
		if !known && raw[0] == '"' && !snakeCase(m.key) && !declared(string(m.key)) {
			// A CamelCase string ("AvailabilityZone", an id of digits)
			// is an attribute even when it looks like a number.
			continue
		}
		v, isNum, err := numberValue(raw)
		if err != nil || !isNum {
			if known || declared(string(m.key)) {
				if err == nil {
					err = fmt.Errorf("want a number, got %s", describe(raw))
				}
				if isNull(raw) {
					continue
				}
				return ev, fieldErr(string(m.key), "%v", err)
			}
			// Not a metric: an attribute such as "device" or
			// "container_last_termination_reason".
			continue
		}
		name, ok := metricNames[string(m.key)]
		if !ok {
			name = string(m.key)
		}
		ev.Metrics[name] = v
	}

	if dirErr != nil {
		return ev, dirErr
	}

	var k kubernetes
	if raw, ok := top.get("kubernetes"); ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &k); err != nil {
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) && ute.Field != "" {
				return ev, fieldErr("kubernetes."+ute.Field, "want %s, got JSON %s", ute.Type, ute.Value)
			}
			return ev, fieldErr("kubernetes", "want an object: %v", typeErr(err))
		}
	}
	ev.PodName = cmp.Or(k.PodName, fullPodName, ev.PodShortName)
	if ev.Namespace == "" {
		ev.Namespace = k.NamespaceName
	}
	ev.PodUID = k.PodID
	ev.Node = cmp.Or(node, k.Host)
	ev.ContainerName = cmp.Or(k.ContainerName, containerName)
	ev.Service = cmp.Or(service, k.ServiceName)
	switch {
	case k.Docker != nil && k.Docker.ContainerID != "":
		ev.ContainerID = k.Docker.ContainerID
	case k.Containerd != nil && k.Containerd.ContainerID != "":
		ev.ContainerID = k.Containerd.ContainerID
	default:
		ev.ContainerID = k.ContainerID
	}
	ev.Labels = k.Labels
	if len(k.PodOwners) > 0 {
		ev.Owners = make([]Owner, 0, len(k.PodOwners))
		for i, o := range k.PodOwners {
			if o.Kind == "" || o.Name == "" {
				return ev, fieldErr(fmt.Sprintf("kubernetes.pod_owners[%d]", i), "want owner_kind and owner_name, got kind %q name %q", o.Kind, o.Name)
			}
			ev.Owners = append(ev.Owners, Owner{Kind: o.Kind, Name: o.Name})
		}
	}
	if ev.Platform == "" {
		return ev, fieldErr("kubernetes", "missing, and no ECS TaskId or TaskDefinitionFamily either: cannot tell EKS from ECS")
	}
	return ev, required(&ev)
}

// required checks the identity each supported type needs.
func required(ev *Event) error {
	if ev.Cluster == "" {
		return fieldErr("ClusterName", "missing or empty")
	}
	switch ev.Platform {
	case EKS:
		if ev.Type == TypeNode {
			if ev.Node == "" {
				return fieldErr("NodeName", "missing or empty (and no kubernetes.host)")
			}
			return nil
		}
		if ev.Namespace == "" {
			return fieldErr("Namespace", "missing or empty (and no kubernetes.namespace_name)")
		}
		if ev.PodName == "" {
			return fieldErr("kubernetes.pod_name", "missing or empty (and no FullPodName or PodName)")
		}
		if ev.Type == TypeContainer && ev.ContainerName == "" {
			return fieldErr("kubernetes.container_name", "missing or empty (and no ContainerName)")
		}
	case ECS:
		if ev.Type == TypeService {
			if ev.ServiceName == "" {
				return fieldErr("ServiceName", "missing or empty")
			}
			return nil
		}
		if ev.TaskFamily == "" {
			return fieldErr("TaskDefinitionFamily", "missing or empty")
		}
		if ev.Type == TypeContainer && ev.ContainerName == "" {
			return fieldErr("ContainerName", "missing or empty")
		}
	}
	return nil
}

func supported(p Platform, typ string) bool {
	switch p {
	case EKS:
		return typ == TypePod || typ == TypeContainer || typ == TypeNode
	case ECS:
		return typ == TypeTask || typ == TypeContainer || typ == TypeService
	}
	// Platform unknown: a Container without platform hints is reported
	// as invalid by parse, not ignored.
	return typ == TypeContainer
}

// platform tells EKS from ECS: by type where only one has it, then by
// the directives' namespace, then by fields only one of them writes.
func platform(typ string, directives func() []directive, top object) Platform {
	switch typ {
	case TypePod, TypeNode:
		return EKS
	case TypeTask, TypeService:
		return ECS
	}
	for _, d := range directives() {
		switch d.Namespace {
		case "ContainerInsights":
			return EKS
		case "ECS/ContainerInsights":
			return ECS
		}
	}
	for _, k := range [...]string{"kubernetes", "NodeName", "PodName", "FullPodName"} {
		if top.has(k) {
			return EKS
		}
	}
	for _, k := range [...]string{"TaskId", "TaskDefinitionFamily", "ContainerInstanceId", "ServiceName", "LaunchType"} {
		if top.has(k) {
			return ECS
		}
	}
	return ""
}

// parseTime reads epoch milliseconds sent as a number or a string.
func parseTime(raw json.RawMessage) (time.Time, error) {
	if raw == nil {
		return time.Time{}, errors.New("missing")
	}
	ms, isNum, err := numberValue(raw)
	if err != nil {
		return time.Time{}, err
	}
	if !isNum {
		return time.Time{}, fmt.Errorf("want epoch milliseconds, got %s", describe(raw))
	}
	if ms < minMillis || ms >= maxMillis {
		return time.Time{}, fmt.Errorf("%v is not epoch milliseconds between 1973 and 5138", ms)
	}
	whole := math.Floor(ms)
	return time.UnixMilli(int64(whole)).Add(time.Duration((ms - whole) * 1e6)).UTC(), nil
}

// numberValue reads a JSON number or a string holding one. isNum is false
// for any other JSON value; err is set for a number that is not finite or
// out of range.
func numberValue(raw json.RawMessage) (v float64, isNum bool, err error) {
	if len(raw) == 0 {
		return 0, false, nil
	}
	s := raw
	if raw[0] == '"' {
		if bytes.IndexByte(raw, '\\') >= 0 || len(raw) < 2 {
			return 0, false, nil
		}
		s = raw[1 : len(raw)-1]
		if len(s) == 0 || !isNumberStart(s[0]) {
			return 0, false, nil
		}
	} else if !isNumberStart(raw[0]) {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(string(s), 64)
	if err != nil {
		if raw[0] == '"' && errors.Is(err, strconv.ErrSyntax) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("number %s out of range", raw)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("number %s is not finite", raw)
	}
	return v, true, nil
}

func isNumberStart(c byte) bool { return c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') }

// stringValue reads a JSON string; a JSON number is taken as its literal
// text (TaskDefinitionRevision 1 and "1" are the same), null as "".
func stringValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || isNull(raw) {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(raw[1 : len(raw)-1]), nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), nil
	}
	return "", fmt.Errorf("want a string, got %s", describe(raw))
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// describe names a JSON value for an error, quoting short strings.
func describe(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '"':
		if len(raw) > 40 {
			return "a string " + string(raw[:37]) + `..."`
		}
		return "string " + string(raw)
	}
	return string(raw)
}

// typeErr shortens encoding/json's type errors to what a reader needs.
func typeErr(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field != "" {
			return fmt.Errorf("%s: want %s, got JSON %s", ute.Field, ute.Type, ute.Value)
		}
		return fmt.Errorf("want %s, got JSON %s", ute.Type, ute.Value)
	}
	return err
}

// snakeCase reports a metric-style name such as "pod_cpu_utilization".
func snakeCase(key []byte) bool {
	return len(key) > 0 && key[0] >= 'a' && key[0] <= 'z' && bytes.IndexByte(key, '_') > 0
}
