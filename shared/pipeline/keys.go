package pipeline

// Store item layout. Partition keys carry the item kind; see package store
// for the table layout.
const (
	skState = "state"
)

func ipKey(ip string) Key { return Key{PK: "ip#" + ip, SK: skState} }
func podKey(cluster, ns, pod string) Key {
	return Key{PK: "pod#" + cluster + "/" + ns + "/" + pod, SK: skState}
}
func windowKey(workload string) Key { return Key{PK: "win#" + workload, SK: skState} }
func rulesKey(cluster string) Key   { return Key{PK: "rules#" + cluster, SK: skState} }
func findingKey(id string) Key      { return Key{PK: "finding#" + id, SK: skState} }
func notifiedKey(id, severity string) Key {
	return Key{PK: "notified#" + id, SK: severity}
}
func batchKey(id string) Key { return Key{PK: "batch#" + id, SK: skState} }

// SuppressionPK is the partition that holds run-time suppression rules set
// with `tidewatch config`; each item's SK names the rule.
const SuppressionPK = "suppress"
