package insights

import (
	"bytes"
	"encoding/json"
	"errors"
	goldenfile "github.com/tidewatch/tidewatch/shared/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtures(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// summary is what the fixture table asserts: the identity and the typed
// metrics detectors read. Absent metrics are nil.
type summary struct {
	Type, Cluster, Namespace, PodName, PodShortName, Node string
	Platform                                              Platform
	Time                                                  time.Time
	ContainerName, ContainerID, Service                   string
	Owners                                                []Owner
	TaskID, TaskFamily, TaskRevision, ServiceName, Image  string
	LaunchType, KnownStatus, AccountID, Region            string
	CPU, CPUOverLimit, Mem, MemOverLimit, Rx, Tx          *float64
	Restarts, Running, Pods, RunningTasks, OOMKilled      *float64
}

func opt(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func f(v float64) *float64 { return &v }

func summarize(e *Event) summary {
	return summary{
		Type: e.Type, Platform: e.Platform, Time: e.Time, Cluster: e.Cluster, Namespace: e.Namespace,
		PodName: e.PodName, PodShortName: e.PodShortName, Node: e.Node,
		ContainerName: e.ContainerName, ContainerID: e.ContainerID, Service: e.Service, Owners: e.Owners,
		TaskID: e.TaskID, TaskFamily: e.TaskFamily, TaskRevision: e.TaskRevision, ServiceName: e.ServiceName,
		Image: e.Image, LaunchType: e.LaunchType, KnownStatus: e.KnownStatus, AccountID: e.AccountID, Region: e.Region,
		CPU: opt(e.CPUUtilization()), CPUOverLimit: opt(e.CPUOverLimit()),
		Mem: opt(e.MemoryUtilization()), MemOverLimit: opt(e.MemoryOverLimit()),
		Rx: opt(e.NetworkRxBytes()), Tx: opt(e.NetworkTxBytes()),
		Restarts: opt(e.Restarts()), Running: opt(e.RunningContainers()), Pods: opt(e.RunningPods()),
		RunningTasks: opt(e.RunningTasks()), OOMKilled: opt(e.OOMKilled()),
	}
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func TestParseFixtures(t *testing.T) {
	cartOwners := []Owner{{Kind: "Deployment", Name: "cart"}}
	statsdOwners := []Owner{{Kind: "Deployment", Name: "cloudwatch-agent-statsd"}}
	tests := []struct {
		file    string
		wantErr error
		want    summary
	}{
		{file: "awsdocs_eks_Pod.json", want: summary{
			Type: "Pod", Platform: EKS, Time: ms(1567097351092), Cluster: "myCICluster", Namespace: "amazon-cloudwatch",
			PodName: "cloudwatch-agent-statsd-df44f855f-ts4q2", PodShortName: "cloudwatch-agent-statsd",
			Node: "ip-192-0-2-0.us-west-2.compute.internal", Service: "cloudwatch-agent-statsd", Owners: statsdOwners,
			KnownStatus: "Running",
			CPU:         f(0.14542542168575312), CPUOverLimit: f(2.9085084337150624),
			Mem: f(0.10988455961791709), MemOverLimit: f(17.421875),
			Rx: f(9880.697124714186), Tx: f(278.13207676944796), Restarts: f(0), Running: f(1),
		}},
		{file: "awsdocs_eks_Container.json", want: summary{
			Type: "Container", Platform: EKS, Time: ms(1567097399912), Cluster: "myCICluster", Namespace: "amazon-cloudwatch",
			PodName: "cloudwatch-agent-statsd-df44f855f-ts4q2", PodShortName: "cloudwatch-agent-statsd",
			Node: "ip-192-0-2-0.us-west-2.compute.internal", Service: "cloudwatch-agent-statsd", Owners: statsdOwners,
			ContainerName: "cloudwatch-agent", ContainerID: "8967b6b37da239dfad197c9fdea3e5dfd35a8a759ec86e2e4c3f7b401e232706",
			KnownStatus: "Running",
			CPU:         f(0.15399984132494854), Mem: f(0.10574541028701798), Restarts: f(0),
		}},
		{file: "awsdocs_eks_Node.json", want: summary{
			Type: "Node", Platform: EKS, Time: ms(1567096682364), Cluster: "myCICluster",
			Node: "ip-192-0-2-0.us-west-2.compute.internal",
			CPU:  f(3.4119630423110245), Mem: f(6.601302600149552), Rx: f(35918.392817386324), Tx: f(32345.80994816272),
			Running: f(16), Pods: f(13),
		}},
		{file: "awsdocs_ecs_Task.json", want: summary{
			Type: "Task", Platform: ECS, Time: ms(1623963900000), Cluster: "MyCluster",
			TaskID: "7ac4dfba69214411b4783a3b8189c9ba", TaskFamily: "sleep360", TaskRevision: "1",
			LaunchType: "EC2", KnownStatus: "RUNNING", AccountID: "637146863587", Region: "us-west-2",
			CPU: f(0), Mem: f(0), Rx: f(0), Tx: f(0),
		}},
		{file: "awsdocs_ecs_Container.json", want: summary{
			Type: "Container", Platform: ECS, Time: ms(1623963900000), Cluster: "MyCluster",
			ContainerName: "sleep", TaskID: "7ac4dfba69214411b4783a3b8189c9ba", TaskFamily: "sleep360", TaskRevision: "1",
			Image: "busybox", KnownStatus: "RUNNING",
			CPU: f(0), Mem: f(0), Rx: f(0), Tx: f(0),
		}},
		{file: "awsdocs_ecs_Service.json", want: summary{
			Type: "Service", Platform: ECS, Time: ms(1561586460000), Cluster: "myCICluster", ServiceName: "myCIService",
			RunningTasks: f(2),
		}},
		{file: "schema_eks_pod_enhanced.json", want: summary{
			Type: "Pod", Platform: EKS, Time: ms(1767225600000), Cluster: "prod", Namespace: "shop",
			PodName: "cart-7c9f8d6b5-q2w3e", PodShortName: "cart", Node: "ip-10-0-1-23.eu-west-1.compute.internal",
			Service: "cart", Owners: cartOwners, KnownStatus: "Running",
			CPU: f(17.5125), Mem: f(0.73), Rx: f(1520.5), Tx: f(47120.2), Restarts: f(3), Running: f(2),
			OOMKilled: f(0),
		}},
		{file: "schema_eks_pod_oom_killed.json", want: summary{
			Type: "Pod", Platform: EKS, Time: ms(1767226020000), Cluster: "prod", Namespace: "shop",
			PodName: "thumbnailer-5b7d9c8f4-z8x7c", PodShortName: "thumbnailer", Node: "ip-10-0-1-23.eu-west-1.compute.internal",
			Service: "thumbnailer", Owners: []Owner{{Kind: "Deployment", Name: "thumbnailer"}}, KnownStatus: "Running",
			CPU: f(3.06), CPUOverLimit: f(12.24), Mem: f(0.26), MemOverLimit: f(7.91015625), Rx: f(2048), Tx: f(512),
			Restarts: f(1), Running: f(1), OOMKilled: f(1),
		}},
		{file: "schema_eks_pod_strings.json", want: summary{
			Type: "Pod", Platform: EKS, Time: ms(1767225660000), Cluster: "prod", Namespace: "batch",
			PodName: "report-29451234-abcde", PodShortName: "report", Node: "ip-10-0-1-24.eu-west-1.compute.internal",
			Owners: []Owner{{Kind: "CronJob", Name: "report"}}, KnownStatus: "Running",
			CPU: f(42.5), CPUOverLimit: f(85), Mem: f(3.25), MemOverLimit: f(64), Rx: f(100), Tx: f(2.5e6),
			Restarts: f(0), Running: f(1),
		}},
		{file: "schema_eks_container_containerd.json", want: summary{
			Type: "Container", Platform: EKS, Time: ms(1767225600000), Cluster: "prod", Namespace: "shop",
			PodName: "cart-7c9f8d6b5-q2w3e", PodShortName: "cart", Node: "ip-10-0-1-23.eu-west-1.compute.internal",
			Service: "cart", Owners: cartOwners, KnownStatus: "Running", ContainerName: "cart",
			ContainerID: "3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a",
			CPU:         f(17), CPUOverLimit: f(68), Mem: f(0.71), MemOverLimit: f(22.65625), Restarts: f(3),
		}},
		{file: "schema_eks_container_bare_pod.json", want: summary{
			Type: "Container", Platform: EKS, Time: ms(1767225720000), Cluster: "prod", Namespace: "default",
			PodName: "debug", PodShortName: "debug", Node: "ip-10-0-1-25.eu-west-1.compute.internal",
			KnownStatus: "Running", ContainerName: "shell",
			ContainerID: "containerd://9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
			CPU:         f(0.075), Mem: f(0.01), Restarts: f(0),
		}},
		{file: "schema_eks_node_status.json", want: summary{
			Type: "Node", Platform: EKS, Time: ms(1767225600000), Cluster: "prod",
			Node: "ip-10-0-1-23.eu-west-1.compute.internal",
			CPU:  f(95), Mem: f(71.5), Rx: f(20480), Tx: f(125829120), Running: f(31), Pods: f(17),
		}},
		{file: "emf_eks_pod.json", want: summary{
			Type: "Pod", Platform: EKS, Time: ms(1767225600000), Cluster: "prod", Namespace: "shop",
			PodName: "cart-7c9f8d6b5-q2w3e", PodShortName: "cart", Node: "ip-10-0-1-23.eu-west-1.compute.internal",
			Owners: cartOwners, CPU: f(12.5), Rx: f(512), Tx: f(1024),
		}},
		{file: "emf_ecs_task_fargate.json", want: summary{
			Type: "Task", Platform: ECS, Time: ms(1767225600000), Cluster: "payments",
			TaskID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", TaskFamily: "api", TaskRevision: "12",
			LaunchType: "FARGATE", KnownStatus: "RUNNING", AccountID: "111122223333", Region: "eu-west-1",
			CPU: f(100 * 230.5 / 256), Mem: f(100 * 410.0 / 512), Rx: f(1200), Tx: f(98000000),
		}},
		{file: "awsdocs_ecs_Cluster.json", wantErr: ErrIgnoredType, want: summary{
			Type: "Cluster", Platform: ECS, Time: ms(1561587300000), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_Cluster.json", wantErr: ErrIgnoredType, want: summary{
			Type: "Cluster", Platform: EKS, Time: ms(1567097534160), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_ClusterNamespace.json", wantErr: ErrIgnoredType, want: summary{
			Type: "ClusterNamespace", Platform: EKS, Time: ms(1567097594160), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_ClusterService.json", wantErr: ErrIgnoredType, want: summary{
			Type: "ClusterService", Platform: EKS, Time: ms(1567097534160), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_ContainerFS.json", wantErr: ErrIgnoredType, want: summary{
			Type: "ContainerFS", Platform: EKS, Time: ms(1567097399912), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_NodeDiskIO.json", wantErr: ErrIgnoredType, want: summary{
			Type: "NodeDiskIO", Platform: EKS, Time: ms(1567096928131), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_NodeFS.json", wantErr: ErrIgnoredType, want: summary{
			Type: "NodeFS", Platform: EKS, Time: ms(1567097939726), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_NodeNet.json", wantErr: ErrIgnoredType, want: summary{
			Type: "NodeNet", Platform: EKS, Time: ms(1567096928131), Cluster: "myCICluster"}},
		{file: "awsdocs_eks_PodNet.json", wantErr: ErrIgnoredType, want: summary{
			Type: "PodNet", Platform: EKS, Time: ms(1567097351092), Cluster: "myCICluster"}},
		{file: "schema_eks_node_gpu.json", wantErr: ErrIgnoredType, want: summary{
			Type: "NodeGPU", Platform: EKS, Time: ms(1767225600000), Cluster: "ml"}},
		{file: "schema_eks_control_plane.json", wantErr: ErrIgnoredType, want: summary{
			Type: "ControlPlane", Platform: EKS, Time: ms(1767225600000), Cluster: "prod"}},
		{file: "schema_ecs_container_instance.json", wantErr: ErrIgnoredType, want: summary{
			Type: "Instance", Platform: ECS, Time: ms(1767225600000), Cluster: "payments"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Parse(readFixture(t, tt.file))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, summarize(&ev)); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, name := range fixtures(t) {
		if !seen[name] {
			t.Errorf("fixture %s has no row in the table", name)
		}
	}
}

// TestNodeJoin: a Pod event names the node it runs on the way the Node
// event of that node does (NodeName, with the EC2 InstanceId), which is
// how node saturation is traced to pods. In the AWS samples kubernetes.host
// differs from NodeName; NodeName wins.
func TestNodeJoin(t *testing.T) {
	const node, instance = "ip-192-0-2-0.us-west-2.compute.internal", "i-1234567890123456"
	for _, file := range []string{"awsdocs_eks_Node.json", "awsdocs_eks_Pod.json", "awsdocs_eks_Container.json"} {
		ev, err := Parse(readFixture(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ev.Node != node || ev.InstanceID != instance || ev.Cluster != "myCICluster" {
			t.Errorf("%s: node %q instance %q cluster %q, want %q %q myCICluster", file, ev.Node, ev.InstanceID, ev.Cluster, node, instance)
		}
	}
	// Restarts and OOM kills: the AWS sample has no restart and, without
	// enhanced observability, no OOM state.
	pod, err := Parse(readFixture(t, "awsdocs_eks_Pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := pod.Restarts(); !ok || v != 0 {
		t.Errorf("Restarts() = %v, %v; want 0, true", v, ok)
	}
	if v, ok := pod.OOMKilled(); ok {
		t.Errorf("OOMKilled() = %v on a sample without enhanced observability; want absent", v)
	}
	node2, err := Parse(readFixture(t, "awsdocs_eks_Node.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := node2.OOMKilled(); ok {
		t.Error("OOMKilled() on a Node: want absent")
	}
}

func TestParseMetrics(t *testing.T) {
	ev, err := Parse(readFixture(t, "awsdocs_ecs_Task.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"CpuUtilized": 0, "CpuReserved": 10, "MemoryUtilized": 0, "MemoryReserved": 10,
		"StorageReadBytes": 0, "StorageWriteBytes": 0,
		"NetworkRxBytes": 0, "NetworkRxDropped": 0, "NetworkRxErrors": 0, "NetworkRxPackets": 14,
		"NetworkTxBytes": 0, "NetworkTxDropped": 0, "NetworkTxErrors": 0, "NetworkTxPackets": 0,
	}
	if diff := cmp.Diff(want, ev.Metrics); diff != "" {
		t.Errorf("Metrics mismatch (-want +got):\n%s", diff)
	}
	for name, got := range map[string]*float64{
		"CPUUtilized": opt(ev.CPUUtilized()), "CPUReserved": opt(ev.CPUReserved()),
		"MemoryUtilized": opt(ev.MemoryUtilized()), "MemoryReserved": opt(ev.MemoryReserved()),
	} {
		if got == nil || *got != want[strings.Replace(name, "CPU", "Cpu", 1)] {
			t.Errorf("%s() = %v, want %v", name, got, want[strings.Replace(name, "CPU", "Cpu", 1)])
		}
	}

	pod, err := Parse(readFixture(t, "awsdocs_eks_Pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pod.CPUUtilized(); ok {
		t.Error("CPUUtilized() on an EKS pod: want absent")
	}
	if v, ok := pod.Metric("pod_memory_limit"); !ok || v != 104857600 {
		t.Errorf(`Metric("pod_memory_limit") = %v, %v; want 104857600, true`, v, ok)
	}
	for _, k := range []string{"Timestamp", "Version", "pod_status", "Sources"} {
		if _, ok := pod.Metrics[k]; ok {
			t.Errorf("Metrics has %q, which is not a metric", k)
		}
	}
}

func TestParseErrors(t *testing.T) {
	pod := func(edit func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(readFixture(t, "awsdocs_eks_Pod.json"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	kube := func(m map[string]any) map[string]any { return m["kubernetes"].(map[string]any) }
	tests := []struct {
		name      string
		msg       string
		wantErr   error
		wantField string // "" when no *FieldError is expected
		wantText  string
	}{
		{"empty", "", ErrNotJSON, "", "empty message"},
		{"blank", " \n\t", ErrNotJSON, "", "empty message"},
		{"flow log line", "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK", ErrNotJSON, "", `starts with '2'`},
		{"array", `[{"Type":"Pod"}]`, ErrNotJSON, "", `starts with '['`},
		{"truncated", `{"Type":"Pod","Timestamp":"15670973`, ErrNotJSON, "", "unexpected end"},
		{"trailing garbage", `{"Type":"Pod"} x`, ErrNotJSON, "", "invalid character"},
		{"audit event", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create"}`, ErrNotPerformance, "", `no "Type" field`},
		{"application EMF", `{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[]},"latency":3}`, ErrNotPerformance, "", `no "Type" field`},
		{"type not a string", `{"Type":7}`, ErrInvalid, "Type", "want a string, got 7"},
		{"type object", `{"Type":{"a":1}}`, ErrInvalid, "Type", "want a string, got an object"},
		{"type empty", `{"Type":""}`, ErrInvalid, "Type", "empty"},
		{"no timestamp", pod(func(m map[string]any) { delete(m, "Timestamp") }), ErrInvalid, "Timestamp", "missing"},
		{"timestamp text", pod(func(m map[string]any) { m["Timestamp"] = "yesterday" }), ErrInvalid, "Timestamp", `want epoch milliseconds, got string "yesterday"`},
		{"timestamp seconds", pod(func(m map[string]any) { m["Timestamp"] = 1567097351 }), ErrInvalid, "Timestamp", "not epoch milliseconds"},
		{"timestamp huge", pod(func(m map[string]any) { m["Timestamp"] = 1e300 }), ErrInvalid, "Timestamp", "not epoch milliseconds"},
		{"timestamp out of float range", `{"Type":"Pod","Timestamp":1e999}`, ErrInvalid, "Timestamp", "out of range"},
		{"timestamp bool", pod(func(m map[string]any) { m["Timestamp"] = true }), ErrInvalid, "Timestamp", "got a boolean"},
		{"emf timestamp", `{"_aws":{"Timestamp":"x"},"Type":"Pod"}`, ErrInvalid, "_aws.Timestamp", `got string "x"`},
		{"emf block not object", `{"_aws":[1],"Type":"Pod"}`, ErrInvalid, "_aws", "want an object"},
		{"directives not a list", pod(func(m map[string]any) { m["CloudWatchMetrics"] = "x" }), ErrInvalid, "CloudWatchMetrics", "want a list"},
		{"metric text", pod(func(m map[string]any) { m["pod_cpu_utilization"] = "high" }), ErrInvalid, "pod_cpu_utilization", `want a number, got string "high"`},
		{"metric object", pod(func(m map[string]any) { m["pod_network_tx_bytes"] = map[string]any{} }), ErrInvalid, "pod_network_tx_bytes", "got an object"},
		{"metric NaN string", pod(func(m map[string]any) { m["pod_memory_utilization"] = "NaN" }), ErrInvalid, "pod_memory_utilization", "want a number"},
		{"metric Inf string", pod(func(m map[string]any) { m["pod_memory_utilization"] = "+Inf" }), ErrInvalid, "pod_memory_utilization", "not finite"},
		{"declared metric text", pod(func(m map[string]any) { m["pod_cpu_reserved_capacity"] = "lots" }), ErrInvalid, "pod_cpu_reserved_capacity", "want a number"},
		{"cluster not a string", pod(func(m map[string]any) { m["ClusterName"] = []any{"a"} }), ErrInvalid, "ClusterName", "want a string, got a list"},
		{"no cluster", pod(func(m map[string]any) { delete(m, "ClusterName") }), ErrInvalid, "ClusterName", "missing"},
		{"no namespace", pod(func(m map[string]any) { delete(m, "Namespace"); delete(kube(m), "namespace_name") }), ErrInvalid, "Namespace", "missing"},
		{"no pod name", pod(func(m map[string]any) { delete(m, "PodName"); delete(kube(m), "pod_name") }), ErrInvalid, "kubernetes.pod_name", "missing"},
		{"kubernetes not object", pod(func(m map[string]any) { m["kubernetes"] = "x" }), ErrInvalid, "kubernetes", "want an object"},
		{"labels not strings", pod(func(m map[string]any) { kube(m)["labels"] = map[string]any{"a": 1} }), ErrInvalid, "kubernetes.labels", "want string"},
		{"owners not list", pod(func(m map[string]any) { kube(m)["pod_owners"] = "Deployment/x" }), ErrInvalid, "kubernetes.pod_owners", "got JSON string"},
		{"owner without name", pod(func(m map[string]any) { kube(m)["pod_owners"] = []any{map[string]any{"owner_kind": "Deployment"}} }), ErrInvalid, "kubernetes.pod_owners[0]", "want owner_kind and owner_name"},
		{"node without name", `{"Type":"Node","ClusterName":"c","Timestamp":"1567096682364"}`, ErrInvalid, "NodeName", "missing"},
		{"container without platform", `{"Type":"Container","ClusterName":"c","Timestamp":1623963900000}`, ErrInvalid, "kubernetes", "cannot tell EKS from ECS"},
		{"eks container without name", pod(func(m map[string]any) { m["Type"] = "Container" }), ErrInvalid, "kubernetes.container_name", "missing"},
		{"ecs task without family", `{"Type":"Task","ClusterName":"c","Timestamp":1623963900000,"TaskId":"t"}`, ErrInvalid, "TaskDefinitionFamily", "missing"},
		{"ecs container without name", `{"Type":"Container","ClusterName":"c","Timestamp":1623963900000,"TaskDefinitionFamily":"f"}`, ErrInvalid, "ContainerName", "missing"},
		{"ecs service without name", `{"Type":"Service","ClusterName":"c","Timestamp":1623963900000}`, ErrInvalid, "ServiceName", "missing"},
		{"ignored type, broken body", `{"Type":"NodeFS","Timestamp":"soon","node_filesystem_utilization":"full"}`, ErrIgnoredType, "", `type "NodeFS"`},
		{"unknown type", `{"Type":"Quantum","ClusterName":"c"}`, ErrIgnoredType, "", `type "Quantum"`},
		{"ignored type, broken directives", `{"Type":"NodeFS","CloudWatchMetrics":[1]}`, ErrIgnoredType, "", `type "NodeFS"`},
		{"container, broken directives", `{"Type":"Container","ClusterName":"c","Timestamp":1623963900000,"CloudWatchMetrics":[1]}`, ErrInvalid, "CloudWatchMetrics", "want a list of metric directives: want insights.directive, got JSON number"},
		{"emf directives not a list", `{"_aws":{"Timestamp":1623963900000,"CloudWatchMetrics":{}},"Type":"Task"}`, ErrInvalid, "_aws.CloudWatchMetrics", "want a list of metric directives, got an object"},
	}
	sentinels := []error{ErrNotJSON, ErrNotPerformance, ErrIgnoredType, ErrInvalid}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.msg))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want %v", tt.msg, tt.wantErr)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.wantErr; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, want)
				}
			}
			var fe *FieldError
			if got := errors.As(err, &fe); got != (tt.wantField != "") {
				t.Fatalf("errors.As(%v, *FieldError) = %v, want %v", err, got, tt.wantField != "")
			}
			if fe != nil && fe.Field != tt.wantField {
				t.Errorf("FieldError.Field = %q, want %q (%v)", fe.Field, tt.wantField, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if !strings.HasPrefix(err.Error(), "insights: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
		})
	}
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want func(*testing.T, Event)
	}{
		{"leading whitespace and escapes",
			"\n  " + `{"Type":"Task","ClusterName":"c\u0041","Timestamp":1623963900000.5,"TaskDefinitionFamily":"f","TaskDefinitionRevision":3,"CpuUtilized":null}`,
			func(t *testing.T, e Event) {
				if e.Cluster != "cA" || e.TaskRevision != "3" {
					t.Errorf("Cluster, TaskRevision = %q, %q; want cA, 3", e.Cluster, e.TaskRevision)
				}
				if want := time.UnixMilli(1623963900000).Add(500 * time.Microsecond).UTC(); !e.Time.Equal(want) {
					t.Errorf("Time = %v, want %v", e.Time, want)
				}
				if _, ok := e.Metrics["CpuUtilized"]; ok {
					t.Error("null CpuUtilized became a metric")
				}
			}},
		{"string attribute that is not a metric",
			`{"Type":"Node","ClusterName":"c","NodeName":"n","Timestamp":"1567096682364","device":"/dev/x","node_x_y":"7","Odd":"8"}`,
			func(t *testing.T, e Event) {
				if diff := cmp.Diff(map[string]float64{"node_x_y": 7}, e.Metrics); diff != "" {
					t.Errorf("Metrics (-want +got):\n%s", diff)
				}
			}},
		{"kubernetes.host as a top-level key",
			`{"Type":"Node","ClusterName":"c","kubernetes.host":"h","Timestamp":"1567096682364"}`,
			func(t *testing.T, e Event) {
				if e.Node != "h" {
					t.Errorf("Node = %q, want h", e.Node)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, ev)
		})
	}
}

// TestParseDoesNotRetain guards the cwlogs contract: the message buffer is
// reused for the next event.
func TestParseDoesNotRetain(t *testing.T) {
	msg := readFixture(t, "awsdocs_eks_Container.json")
	ev, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := summarize(&ev)
	for i := range msg {
		msg[i] = 'x'
	}
	if diff := cmp.Diff(want, summarize(&ev)); diff != "" {
		t.Errorf("event changed with its buffer (-before +after):\n%s", diff)
	}
}

// golden is the stored form of one Parse result.
type golden struct {
	Error string `json:"error,omitempty"`
	Event Event  `json:"event"`
}

func TestGolden(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			ev, err := Parse(readFixture(t, name))
			g := golden{Event: ev}
			if err != nil {
				g.Error = err.Error()
			}
			got, merr := json.MarshalIndent(g, "", "  ")
			if merr != nil {
				t.Fatal(merr)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".json")+".golden.json")
			goldenfile.Check(t, path, got)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(readFixture(f, name))
	}
	for _, s := range []string{
		"", "{}", `{"Type":"Pod"}`, `{"Type":"Container","Timestamp":"1","kubernetes":null}`,
		`{"_aws":{"Timestamp":1767225600000},"Type":"Task","ClusterName":"c","TaskDefinitionFamily":"f"}`,
		`{"Type":"Pod","Timestamp":"1567097351092","ClusterName":"c","Namespace":"n","PodName":"p","pod_cpu_utilization":"1e308"}`,
	} {
		f.Add([]byte(s))
	}
	sentinels := []error{ErrNotJSON, ErrNotPerformance, ErrIgnoredType, ErrInvalid}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if obj := bytes.TrimLeft(msg, " \t\r\n"); len(obj) > 0 && obj[0] == '{' && json.Valid(obj) && utf8.Valid(obj) {
			// The scanner must split any valid object as encoding/json does.
			var want map[string]json.RawMessage
			if err := json.Unmarshal(obj, &want); err == nil {
				got := map[string]json.RawMessage{}
				for _, m := range scanObject(obj, nil) {
					got[string(m.key)] = m.value
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("scanObject mismatch (-json +scan):\n%s", diff)
				}
			}
		}
		keep := bytes.Clone(msg)
		ev, err := parse(msg) // not Parse: a panic must fail the fuzzer, not be recovered
		if !bytes.Equal(keep, msg) {
			t.Fatal("parse modified its input")
		}
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v wraps %d sentinels, want 1", err, n)
			}
			return
		}
		if ev.Platform == "" || ev.Time.IsZero() || ev.Cluster == "" || !supported(ev.Platform, ev.Type) {
			t.Fatalf("Parse succeeded with an incomplete event: %+v", ev)
		}
		if err := required(&ev); err != nil {
			t.Fatalf("Parse succeeded but required says %v", err)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("event does not marshal: %v", err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"awsdocs_eks_Pod.json", "awsdocs_ecs_Task.json", "awsdocs_eks_NodeFS.json"} {
		msg := readFixture(b, name)
		// Real log events are one line.
		var buf bytes.Buffer
		if err := json.Compact(&buf, msg); err != nil {
			b.Fatal(err)
		}
		msg = buf.Bytes()
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := Parse(msg); err != nil && !errors.Is(err, ErrIgnoredType) {
					b.Fatal(err)
				}
			}
		})
	}
}
