package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// Identities are state: the audit Lambda learns pod IPs and owners, the
// flow-log Lambda reads them. Items:
//
//	ip#<addr>                     → ipIdentity   (which pod holds the address since when)
//	pod#<cluster>/<ns>/<pod>      → podIdentity  (which workload the pod belongs to)
const (
	// ipTTL bounds how long a pod IP is trusted without being seen again:
	// pods rarely live longer, and addresses are reused.
	ipTTL = 7 * 24 * time.Hour
	// podTTL bounds how long a pod's owner is kept.
	podTTL = 30 * 24 * time.Hour
	// cacheTTL bounds how long a Lambda container trusts what it read.
	cacheTTL = 5 * time.Minute
)

type ipIdentity struct {
	Cluster   string    `json:"c"`
	Namespace string    `json:"n"`
	Pod       string    `json:"p"`
	Since     time.Time `json:"t"`
}

type podIdentity struct {
	Workload string    `json:"w"`
	Since    time.Time `json:"t"`
}

// resolved is what the identity cache knows of an address.
type resolved struct {
	workload string // "" when the address belongs to no known workload
	podKey   Key    // set when the address is a pod's but its owner is unknown
	fetched  time.Time
}

// identities caches identity lookups and collects what a batch learned.
type identities struct {
	addrs map[netip.Addr]resolved
	pods  map[Key]string // pod key → workload

	newIPs  map[netip.Addr]ipIdentity
	newPods map[Key]podIdentity
}

func newIdentities() *identities {
	return &identities{
		addrs:   map[netip.Addr]resolved{},
		pods:    map[Key]string{},
		newIPs:  map[netip.Addr]ipIdentity{},
		newPods: map[Key]podIdentity{},
	}
}

// learnIP records that a pod holds addr since t.
func (ids *identities) learnIP(addr netip.Addr, cluster, ns, pod string, t time.Time) {
	if prev, ok := ids.newIPs[addr]; ok && prev.Since.After(t) {
		return
	}
	ids.newIPs[addr] = ipIdentity{Cluster: cluster, Namespace: ns, Pod: pod, Since: t}
	pk := podKey(cluster, ns, pod)
	ids.addrs[addr] = resolved{workload: ids.pods[pk], podKey: pk}
}

// learnPod records the workload of a pod.
func (ids *identities) learnPod(cluster, ns, pod, workload string, t time.Time) {
	pk := podKey(cluster, ns, pod)
	ids.pods[pk] = workload
	ids.newPods[pk] = podIdentity{Workload: workload, Since: t}
	for a, r := range ids.addrs {
		if r.podKey == pk && r.workload != workload {
			r.workload = workload
			ids.addrs[a] = r
		}
	}
}

// podWorkload returns a pod's workload if known in memory.
func (ids *identities) podWorkload(cluster, ns, pod string) (string, bool) {
	w, ok := ids.pods[podKey(cluster, ns, pod)]
	return w, ok && w != ""
}

// lookup returns the workload of addr from the cache.
func (ids *identities) lookup(addr netip.Addr) (resolved, bool) {
	r, ok := ids.addrs[addr]
	return r, ok
}

// fetch loads from the store what the cache does not know (or knows for
// longer than cacheTTL) about addrs, in two batched reads: addresses, then
// the pods behind them.
func (ids *identities) fetch(ctx context.Context, st Store, addrs []netip.Addr, now time.Time) error {
	var keys []Key
	for _, a := range addrs {
		if r, ok := ids.addrs[a]; ok && (r.fetched.IsZero() || now.Sub(r.fetched) < cacheTTL) {
			continue
		}
		keys = append(keys, ipKey(a.String()))
	}
	if len(keys) == 0 {
		return nil
	}
	items, err := st.GetMany(ctx, keys)
	if err != nil {
		return fmt.Errorf("read pod addresses: %w", err)
	}
	var podKeys []Key
	pending := map[netip.Addr]Key{}
	for _, k := range keys {
		addr := netip.MustParseAddr(k.PK[len("ip#"):])
		it, ok := items[k]
		if !ok {
			ids.addrs[addr] = resolved{fetched: now}
			continue
		}
		var ip ipIdentity
		if err := json.Unmarshal(it.Data, &ip); err != nil {
			return fmt.Errorf("decode %s: %w", k.PK, err)
		}
		pk := podKey(ip.Cluster, ip.Namespace, ip.Pod)
		pending[addr] = pk
		podKeys = append(podKeys, pk)
	}
	if err := ids.fetchPods(ctx, st, podKeys); err != nil {
		return err
	}
	for addr, pk := range pending {
		ids.addrs[addr] = resolved{workload: ids.pods[pk], podKey: pk, fetched: now}
	}
	return nil
}

// fetchPods loads the owners of pods the cache does not know.
func (ids *identities) fetchPods(ctx context.Context, st Store, keys []Key) error {
	var missing []Key
	for _, k := range keys {
		if _, ok := ids.pods[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	items, err := st.GetMany(ctx, dedupKeys(missing))
	if err != nil {
		return fmt.Errorf("read pod owners: %w", err)
	}
	for pk, it := range items {
		var p podIdentity
		if err := json.Unmarshal(it.Data, &p); err != nil {
			return fmt.Errorf("decode %s: %w", pk.PK, err)
		}
		ids.pods[pk] = p.Workload
	}
	return nil
}

// save writes what the batch learned: newer pod-IP assignments win over
// older ones whatever order Lambdas run in. Expiry counts from processing
// time (now), so replaying old logs into a live table keeps what it learns.
func (ids *identities) save(ctx context.Context, st Store, now time.Time) error {
	if len(ids.newPods) > 0 {
		items := make([]Item, 0, len(ids.newPods))
		for k, p := range ids.newPods {
			data, err := json.Marshal(p)
			if err != nil {
				return err
			}
			items = append(items, Item{Key: k, Data: data, Expires: now.Add(podTTL)})
		}
		if err := st.PutMany(ctx, items); err != nil {
			return fmt.Errorf("write pod owners: %w", err)
		}
		clear(ids.newPods)
	}
	if len(ids.newIPs) > 0 {
		keys := make([]Key, 0, len(ids.newIPs))
		byKey := make(map[Key]ipIdentity, len(ids.newIPs))
		for a, ip := range ids.newIPs {
			k := ipKey(a.String())
			keys = append(keys, k)
			byKey[k] = ip
		}
		err := st.UpdateMany(ctx, keys, func(k Key, old []byte) ([]byte, time.Time, error) {
			ip := byKey[k]
			if old != nil {
				var prev ipIdentity
				if json.Unmarshal(old, &prev) == nil && prev.Since.After(ip.Since) {
					return nil, time.Time{}, ErrUnchanged
				}
			}
			data, err := json.Marshal(ip)
			return data, now.Add(ipTTL), err
		})
		if err != nil {
			return fmt.Errorf("write pod addresses: %w", err)
		}
		clear(ids.newIPs)
	}
	return nil
}

func dedupKeys(keys []Key) []Key {
	seen := make(map[Key]bool, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
