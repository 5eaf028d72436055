package insights

// metricNames are the metric fields of the supported types (from the
// agent-test schemas and the ECS documentation), interned so Parse does
// not allocate a key per metric.
var metricNames = func() map[string]string {
	names := []string{
		"CpuReserved", "CpuUtilized", "DeploymentCount", "DesiredTaskCount", "EphemeralStorageReserved",
		"EphemeralStorageUtilized", "MemoryReserved", "MemoryUtilized", "NetworkRxBytes",
		"NetworkRxDropped", "NetworkRxErrors", "NetworkRxPackets", "NetworkTxBytes", "NetworkTxDropped",
		"NetworkTxErrors", "NetworkTxPackets", "PendingTaskCount", "RunningTaskCount",
		"StorageReadBytes", "StorageWriteBytes", "TaskSetCount", "container_cpu_limit",
		"container_cpu_request", "container_cpu_usage_system", "container_cpu_usage_total",
		"container_cpu_usage_user", "container_cpu_utilization",
		"container_cpu_utilization_over_container_limit", "container_filesystem_available",
		"container_filesystem_usage", "container_filesystem_utilization", "container_memory_cache",
		"container_memory_failcnt", "container_memory_failures_total",
		"container_memory_hierarchical_pgfault", "container_memory_hierarchical_pgmajfault",
		"container_memory_limit", "container_memory_mapped_file", "container_memory_max_usage",
		"container_memory_pgfault", "container_memory_pgmajfault", "container_memory_request",
		"container_memory_rss", "container_memory_swap", "container_memory_usage",
		"container_memory_utilization", "container_memory_utilization_over_container_limit",
		"container_memory_working_set", "container_status_running", "container_status_terminated",
		"container_status_waiting", "container_status_waiting_reason_crashed", "node_cpu_limit",
		"node_cpu_request", "node_cpu_reserved_capacity", "node_cpu_usage_system",
		"node_cpu_usage_total", "node_cpu_usage_user", "node_cpu_utilization", "node_memory_cache",
		"node_memory_failcnt", "node_memory_failures_total", "node_memory_hierarchical_pgfault",
		"node_memory_hierarchical_pgmajfault", "node_memory_limit", "node_memory_mapped_file",
		"node_memory_max_usage", "node_memory_pgfault", "node_memory_pgmajfault", "node_memory_request",
		"node_memory_reserved_capacity", "node_memory_rss", "node_memory_swap", "node_memory_usage",
		"node_memory_utilization", "node_memory_working_set", "node_network_rx_bytes",
		"node_network_rx_dropped", "node_network_rx_errors", "node_network_rx_packets",
		"node_network_total_bytes", "node_network_tx_bytes", "node_network_tx_dropped",
		"node_network_tx_errors", "node_network_tx_packets", "node_number_of_running_containers",
		"node_number_of_running_pods", "node_status_allocatable_pods", "node_status_capacity_pods",
		"node_status_condition_disk_pressure", "node_status_condition_memory_pressure",
		"node_status_condition_pid_pressure", "node_status_condition_ready",
		"number_of_container_restarts", "pod_container_status_running",
		"pod_container_status_terminated", "pod_container_status_terminated_reason_oom_killed",
		"pod_container_status_waiting", "pod_container_status_waiting_reason_crash_loop_back_off",
		"pod_container_status_waiting_reason_create_container_config_error",
		"pod_container_status_waiting_reason_create_container_error",
		"pod_container_status_waiting_reason_image_pull_error",
		"pod_container_status_waiting_reason_start_error", "pod_cpu_limit", "pod_cpu_request",
		"pod_cpu_reserved_capacity", "pod_cpu_usage_system", "pod_cpu_usage_total", "pod_cpu_usage_user",
		"pod_cpu_utilization", "pod_cpu_utilization_over_pod_limit", "pod_interface_network_rx_dropped",
		"pod_interface_network_tx_dropped", "pod_memory_cache", "pod_memory_failcnt",
		"pod_memory_failures_total", "pod_memory_hierarchical_pgfault",
		"pod_memory_hierarchical_pgmajfault", "pod_memory_limit", "pod_memory_mapped_file",
		"pod_memory_max_usage", "pod_memory_pgfault", "pod_memory_pgmajfault", "pod_memory_request",
		"pod_memory_reserved_capacity", "pod_memory_rss", "pod_memory_swap", "pod_memory_usage",
		"pod_memory_utilization", "pod_memory_utilization_over_pod_limit", "pod_memory_working_set",
		"pod_network_rx_bytes", "pod_network_rx_dropped", "pod_network_rx_errors",
		"pod_network_rx_packets", "pod_network_total_bytes", "pod_network_tx_bytes",
		"pod_network_tx_dropped", "pod_network_tx_errors", "pod_network_tx_packets",
		"pod_number_of_container_restarts", "pod_number_of_containers",
		"pod_number_of_running_containers", "pod_status_failed", "pod_status_initialized",
		"pod_status_pending", "pod_status_ready", "pod_status_running", "pod_status_scheduled",
		"pod_status_succeeded", "pod_status_unknown",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}()
