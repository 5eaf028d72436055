package simulate

import (
	"strconv"
	"time"
)

// jw appends one flat JSON object; keys are written in the order given.
type jw struct {
	b     []byte
	first bool
}

func (j *jw) open()  { j.b = append(j.b, '{'); j.first = true }
func (j *jw) close() { j.b = append(j.b, '}'); j.first = false }

func (j *jw) key(k string) {
	if !j.first {
		j.b = append(j.b, ',')
	}
	j.first = false
	j.b = strconv.AppendQuote(j.b, k)
	j.b = append(j.b, ':')
}

func (j *jw) str(k, v string) { j.key(k); j.b = strconv.AppendQuote(j.b, v) }
func (j *jw) raw(k, v string) { j.key(k); j.b = append(j.b, v...) }
func (j *jw) int(k string, v int64) {
	j.key(k)
	j.b = strconv.AppendInt(j.b, v, 10)
}
func (j *jw) num(k string, v float64, prec int) {
	j.key(k)
	j.b = strconv.AppendFloat(j.b, v, 'f', prec, 64)
}

// The metric directives of the legacy ("Version 0") layout.
const (
	podMetrics = `[{"Metrics":[{"Unit":"Percent","Name":"pod_cpu_utilization"},{"Unit":"Percent","Name":"pod_memory_utilization"},` +
		`{"Unit":"Bytes/Second","Name":"pod_network_rx_bytes"},{"Unit":"Bytes/Second","Name":"pod_network_tx_bytes"},` +
		`{"Unit":"Percent","Name":"pod_cpu_utilization_over_pod_limit"},{"Unit":"Percent","Name":"pod_memory_utilization_over_pod_limit"}],` +
		`"Dimensions":[["PodName","Namespace","ClusterName"],["Namespace","ClusterName"],["ClusterName"]],"Namespace":"ContainerInsights"},` +
		`{"Metrics":[{"Unit":"Count","Name":"pod_number_of_container_restarts"}],"Dimensions":[["PodName","Namespace","ClusterName"]],"Namespace":"ContainerInsights"}]`
	nodeMetrics = `[{"Metrics":[{"Unit":"Percent","Name":"node_cpu_utilization"},{"Unit":"Percent","Name":"node_memory_utilization"},` +
		`{"Unit":"Bytes/Second","Name":"node_network_total_bytes"},{"Unit":"Count","Name":"node_number_of_running_pods"},` +
		`{"Unit":"Count","Name":"node_number_of_running_containers"}],"Dimensions":[["NodeName","InstanceId","ClusterName"],["ClusterName"]],"Namespace":"ContainerInsights"}]`
	taskMetrics = `[{"Namespace":"ECS/ContainerInsights","Metrics":[{"Name":"CpuUtilized","Unit":"None"},{"Name":"CpuReserved","Unit":"None"},` +
		`{"Name":"MemoryUtilized","Unit":"Megabytes"},{"Name":"MemoryReserved","Unit":"Megabytes"},{"Name":"NetworkRxBytes","Unit":"Bytes/Second"},` +
		`{"Name":"NetworkTxBytes","Unit":"Bytes/Second"}],"Dimensions":[["ClusterName"],["ClusterName","TaskDefinitionFamily"]]}]`
)

// insights writes the Container Insights events of the minute starting
// at t: per node one Node event and one Pod event per running pod, per ECS
// task one Task event. Network figures are the bytes the minute's flows
// carried, per second.
func (s *sim) insights(t time.Time) {
	L := load(t)
	A := s.attack
	flooding := t.Sub(A) >= floodFrom && t.Sub(A) < floodTo
	var j jw
	for ni, n := range s.w.nodes {
		at := t.Add(time.Duration(17+ni*9)*time.Second + time.Duration(s.rng.IntN(900))*time.Millisecond).Truncate(time.Millisecond)
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		var cpuSum, memSum, netRx, netTx float64
		pods := 0
		for _, a := range s.appsInOrder() {
			for _, p := range a.pods {
				if p.node != n || !p.alive(t) {
					continue
				}
				pods++
				cpu := a.cpu * (0.2 + 0.8*L) * p.cpuFactor * s.jitter(0.08)
				if p.forcedCPU > 0 {
					cpu = a.cpuLimit * p.forcedCPU * s.jitter(0.004)
				} else if flooding && a.name == "cart" && p == a.first(t) {
					cpu *= 2.6
				}
				if a.cpuLimit > 0 && cpu > a.cpuLimit {
					cpu = a.cpuLimit
				}
				mem := a.mem * (0.92 + 0.08*L) * s.jitter(0.02)
				mem = s.x.oomMemory(p, t, mem)
				rx, tx := p.rx/60, p.tx/60
				p.rx, p.tx = 0, 0
				cpuSum += cpu
				memSum += mem
				if !a.hostNetwork {
					netRx += rx
					netTx += tx
				}
				s.podEvent(&j, n, p, ts, cpu, mem, rx, tx)
				s.later(LogEvent{Group: s.ciGroup, Stream: n.name, Time: at, Message: string(j.b)})
			}
		}
		for _, p := range s.x.podsOn(n, t) {
			pods++
			cpu, mem := s.x.use(p, t, s.attack)
			cpuSum += cpu
			memSum += mem
			s.podEvent(&j, n, p, ts, cpu, mem, 0, 0)
			s.later(LogEvent{Group: s.ciGroup, Stream: n.name, Time: at, Message: string(j.b)})
		}
		cpuSum += 160 * s.jitter(0.1)
		memSum += 1.1e9 * s.jitter(0.01)
		s.nodeEvent(&j, n, ts, cpuSum, memSum, netRx, netTx, pods)
		s.later(LogEvent{Group: s.ciGroup, Stream: n.name, Time: at, Message: string(j.b)})
	}
	s.x.batchNode(s, &j, t)

	for i, tk := range s.w.tasks {
		at := t.Add(time.Duration(41+i*3)*time.Second + time.Duration(s.rng.IntN(700))*time.Millisecond).Truncate(time.Millisecond)
		cpu := tk.cpuReserved * (0.06 + 0.22*L) * s.jitter(0.1)
		if tk.forcedCPU > 0 {
			cpu = tk.cpuReserved * tk.forcedCPU * s.jitter(0.01)
		}
		if cpu > tk.cpuReserved {
			cpu = tk.cpuReserved
		}
		rx, tx := tk.rx/60, tk.tx/60
		tk.rx, tk.tx = 0, 0
		j.b = j.b[:0]
		j.open()
		j.str("Version", "0")
		j.str("Type", "Task")
		j.str("TaskId", tk.id)
		j.str("TaskDefinitionFamily", tk.family)
		j.str("TaskDefinitionRevision", tk.revision)
		j.str("ServiceName", tk.service)
		j.str("ClusterName", s.o.ECSCluster)
		j.str("AccountID", s.o.Account)
		j.str("Region", s.o.Region)
		j.str("AvailabilityZone", s.o.Region+tk.az)
		j.str("KnownStatus", "RUNNING")
		j.str("LaunchType", "FARGATE")
		j.int("Timestamp", at.UnixMilli())
		j.num("CpuUtilized", cpu, 1)
		j.num("CpuReserved", tk.cpuReserved, 1)
		j.int("MemoryUtilized", int64(410*s.jitter(0.03)))
		j.int("MemoryReserved", int64(tk.memReserved))
		j.int("NetworkRxBytes", int64(rx))
		j.int("NetworkTxBytes", int64(tx))
		j.raw("CloudWatchMetrics", taskMetrics)
		j.str(FieldSynthetic, Marker)
		j.close()
		s.later(LogEvent{Group: s.ecsGroup, Stream: s.fargateStream, Time: at, Message: string(j.b)})
	}
}

// appsInOrder returns the apps in a fixed order (the map has none).
func (s *sim) appsInOrder() []*app {
	if len(s.order) != len(s.w.apps) {
		s.order = s.order[:0]
		for _, k := range sortedKeys(s.w.apps) {
			s.order = append(s.order, s.w.apps[k])
		}
	}
	return s.order
}

// podEvent writes the Pod event of p on n into j: cpu in millicores, mem
// in bytes, rx and tx in bytes per second. Restarts are reported as the
// agent does, since its previous sample of the pod (none in the first),
// and the OOM state of enhanced observability only once a container of
// the pod has been OOM-killed.
func (s *sim) podEvent(j *jw, n *node, p *pod, ts string, cpu, mem, rx, tx float64) {
	a := p.app
	j.b = j.b[:0]
	j.open()
	j.raw("CloudWatchMetrics", podMetrics)
	j.str("ClusterName", s.o.Cluster)
	j.str("InstanceId", n.instance)
	j.str("InstanceType", "m5.xlarge")
	j.str("Namespace", a.ns)
	j.str("NodeName", n.name)
	j.str("PodName", a.name)
	j.raw("Sources", `["cadvisor","pod","calculated"]`)
	j.str("Timestamp", ts)
	j.str("Type", "Pod")
	j.str("Version", "0")
	j.key("kubernetes")
	j.open()
	j.str("host", n.name)
	j.key("labels")
	j.open()
	for _, kv := range sortedLabels(s.labels(p)) {
		j.str(kv[0], kv[1])
	}
	j.close()
	j.str("namespace_name", a.ns)
	j.str("pod_id", p.uid)
	j.str("pod_name", p.name)
	if kind := a.kind; kind != "Pod" {
		j.raw("pod_owners", `[{"owner_kind":"`+kind+`","owner_name":"`+a.name+`"}]`)
	}
	j.close()
	j.num("pod_cpu_utilization", cpu/n.cpuLimit*100, 2)
	if a.cpuLimit > 0 {
		j.num("pod_cpu_utilization_over_pod_limit", cpu/a.cpuLimit*100, 1)
	}
	j.num("pod_memory_utilization", mem/n.memLimit*100, 2)
	if a.memLimit > 0 {
		j.num("pod_memory_utilization_over_pod_limit", mem/a.memLimit*100, 1)
	}
	j.num("pod_network_rx_bytes", rx, 0)
	j.num("pod_network_tx_bytes", tx, 0)
	if d, ok := s.x.restarts(p); ok {
		j.int("pod_number_of_container_restarts", int64(d))
	}
	if s.x.oomKilled[p] {
		j.int("pod_container_status_terminated_reason_oom_killed", 1)
	}
	j.int("pod_number_of_containers", 1)
	j.int("pod_number_of_running_containers", 1)
	j.str("pod_status", "Running")
	j.str(FieldSynthetic, Marker)
	j.close()
}

// nodeEvent writes the Node event of n into j: cpu in millicores and mem
// in bytes used by everything on it, rx and tx in bytes per second.
func (s *sim) nodeEvent(j *jw, n *node, ts string, cpu, mem, rx, tx float64, pods int) {
	// A node cannot use more than it has; the kernel shares it out.
	cpu = min(cpu, 0.995*n.cpuLimit)
	mem = min(mem, 0.995*n.memLimit)
	j.b = j.b[:0]
	j.open()
	j.raw("CloudWatchMetrics", nodeMetrics)
	j.str("ClusterName", s.o.Cluster)
	j.str("InstanceId", n.instance)
	j.str("InstanceType", "m5.xlarge")
	j.str("NodeName", n.name)
	j.raw("Sources", `["cadvisor","/proc","pod","calculated"]`)
	j.str("Timestamp", ts)
	j.str("Type", "Node")
	j.str("Version", "0")
	j.raw("kubernetes", `{"host":"`+n.name+`"}`)
	j.num("node_cpu_limit", n.cpuLimit, 0)
	j.num("node_cpu_utilization", cpu/n.cpuLimit*100, 2)
	j.num("node_memory_utilization", mem/n.memLimit*100, 2)
	j.num("node_network_rx_bytes", rx, 0)
	j.num("node_network_total_bytes", rx+tx, 0)
	j.num("node_network_tx_bytes", tx, 0)
	j.int("node_number_of_running_containers", int64(pods+1))
	j.int("node_number_of_running_pods", int64(pods))
	j.str(FieldSynthetic, Marker)
	j.close()
}
