package simulate

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tidewatch/tidewatch/shared/workload"
)

// Scenarios that Container Insights shows: a node saturated by one
// workload, an OOM-kill loop, and a node saturated by a nightly batch
// spread evenly over many workloads. They draw on their own random source
// (extra.rng) where they can, and write no flow records: their pods send
// nothing the flow log sees. The nightly reports CronJobs also write the
// audit events of their Job and pod creates, as any CronJob does.
const (
	// shop/recommender, a Deployment without a CPU limit, spins on
	// crafted requests and takes its node.
	saturationFrom = 17*time.Hour + 15*time.Minute
	saturationTo   = 17*time.Hour + 40*time.Minute
	// Decompression bombs uploaded to the frontend, one pod after the
	// other, each killed for exceeding its memory limit.
	oomFrom  = 21 * time.Hour
	oomTo    = 21*time.Hour + 40*time.Minute
	oomEvery = 9 * time.Minute // per pod; the pods take turns
	// Every night a node is added for the reports CronJobs, which run
	// side by side and fill it, then the node is removed.
	batchNodeUp    = 40 * time.Minute
	reportsAt      = 45 * time.Minute
	reportsRunTime = 40 * time.Minute
	batchNodeDown  = 1*time.Hour + 45*time.Minute
)

// reportJobs are the CronJobs of namespace reports, all at 00:45.
var reportJobs = []string{"billing", "churn", "inventory", "ledger", "sales"}

// extra is the state of those scenarios.
type extra struct {
	random

	recommender *pod
	nights      []*night
	// reported is each pod's restart count at its last Pod event.
	reported map[*pod]int
	// oomKilled marks pods whose container last terminated by an OOM
	// kill; kills are the planned kill minutes of a pod.
	oomKilled map[*pod]bool
	kills     map[*pod][]time.Time
}

// night is one night's batch node and its pods.
type night struct {
	node     *node
	up, down time.Time
	pods     []*pod
}

func newExtra(o Options) *extra {
	return &extra{random: random{rand.New(rand.NewPCG(o.Seed, 0x6e6f64652d736174))}, reported: map[*pod]int{},
		oomKilled: map[*pod]bool{}, kills: map[*pod][]time.Time{}}
}

// plan adds the scenarios to the run and writes their expectations.
func (x *extra) plan(s *sim) {
	w, A := s.w, s.attack
	// 1. shop/recommender: one pod on the third node since before day 1.
	rec := &app{ns: "shop", name: "recommender", kind: workload.KindDeployment, replicas: 1, cpu: 180, mem: 600 << 20, memLimit: 2 << 30}
	rec.hash = x.safe(10)
	x.recommender = &pod{app: rec, name: rec.name + "-" + rec.hash + "-" + x.safe(5), uid: x.uuid(), node: w.nodes[len(w.nodes)-1],
		hash: rec.hash, owner: rec.name + "-" + rec.hash, ready: s.o.Start, cpuFactor: 1}
	recID := rec.id(s.o.Cluster)
	s.expect(ScenarioNodeSaturation, "res-node-saturation", "T1499", recID, saturationFrom, saturationTo)
	if s.o.Days >= 2 {
		s.quiet(TrapTraffic, recID, s.day(2), A.Add(saturationFrom-15*time.Minute))
	}

	// 2. The OOM-kill loop of the frontend.
	s.at(A.Add(oomFrom), func(t time.Time) { x.planKills(s, t) })
	s.expect(ScenarioOOMLoop, "res-oom-kill", "T1499", s.id("shop/frontend"), oomFrom, oomTo)

	// 3. The nightly batch node, every night including the attack day's.
	apps := make([]*app, len(reportJobs))
	ecr := s.o.Account + ".dkr.ecr." + s.o.Region + ".amazonaws.com/"
	for i, name := range reportJobs {
		apps[i] = &app{ns: "reports", name: name, kind: workload.KindCronJob, replicas: 1,
			image: ecr + "reports-" + name, tag: "v1.4.0",
			cpu: 730, cpuLimit: 1000, mem: 420 << 20, memLimit: 1 << 30}
	}
	for d := 1; d <= s.o.Days+1; d++ {
		day := s.day(d)
		ip := "10.0.4." + strconv.Itoa(10+7*d+x.rng.IntN(7))
		nt := &night{up: day.Add(batchNodeUp), down: day.Add(batchNodeDown), node: &node{
			name: nodeName(ip, s.o.Region), instance: "i-" + x.hex(17), cpuLimit: 4000, memLimit: 16 << 30}}
		for _, a := range apps {
			job := a.name + "-" + itoa(int(day.Add(reportsAt).Unix()/60))
			// The Job's uid, drawn here from the extra source, is the one
			// its create and its pod's labels carry.
			s.uids["owner/"+job] = x.uuid()
			start := day.Add(reportsAt + time.Duration(2+x.rng.IntN(20))*time.Second)
			p := &pod{app: a, name: job + "-" + x.safe(5), uid: x.uuid(), node: nt.node, owner: job, tag: a.tag,
				ready: start, gone: start.Add(reportsRunTime + time.Duration(x.rng.IntN(120))*time.Second), cpuFactor: 1}
			nt.pods = append(nt.pods, p)
			// The audit log sees the CronJob create the Job and the Job
			// its pod, as for any CronJob.
			s.at(day.Add(reportsAt), func(t time.Time) { x.startReport(s, p, t) })
			s.quiet(TrapNodePeak, a.id(s.o.Cluster), nt.up, nt.down)
		}
		x.nights = append(x.nights, nt)
	}
}

// startReport writes the creates of a reports Job, due at t, and of its
// pod p.
func (x *extra) startReport(s *sim, p *pod, t time.Time) {
	s.createJob(p.app, p.owner, t)
	at := p.ready.Add(-time.Second)
	req, resp := s.podObjects(p, at)
	s.audit(at, time.Duration(4+x.rng.IntN(9))*time.Millisecond, s.controller("job-controller"), "RequestResponse", "ResponseComplete", "create",
		"/api/v1/namespaces/"+p.app.ns+"/pods", objectRef{Resource: "pods", Namespace: p.app.ns, APIVersion: "v1"}, 201, req, resp)
}

// planKills spreads the bombs over the frontend pods running at t.
func (x *extra) planKills(s *sim, t time.Time) {
	end := s.attack.Add(oomTo)
	for i, p := range s.w.app("shop/frontend").running(t) {
		for k := t.Add(time.Duration(2+3*i) * time.Minute); k.Before(end); k = k.Add(oomEvery) {
			x.kills[p] = append(x.kills[p], k)
			s.at(k, func(time.Time) {
				p.restarts++
				x.oomKilled[p] = true
			})
		}
	}
}

// oomMemory returns the memory of p in the minute of t: near its limit the
// minute before a kill, a fresh container's the minute of one, else mem.
func (x *extra) oomMemory(p *pod, t time.Time, mem float64) float64 {
	for _, k := range x.kills[p] {
		switch {
		case t.Equal(k.Add(-time.Minute)):
			return p.app.memLimit * (0.965 + 0.03*x.rng.Float64())
		case t.Equal(k):
			return p.app.mem * (0.3 + 0.05*x.rng.Float64())
		}
	}
	return mem
}

// restarts returns the restarts of p since its last Pod event; false for
// its first, as the agent reports them.
func (x *extra) restarts(p *pod) (int, bool) {
	prev, ok := x.reported[p]
	x.reported[p] = p.restarts
	return p.restarts - prev, ok
}

// podsOn returns the extra pods running on n at t.
func (x *extra) podsOn(n *node, t time.Time) []*pod {
	if p := x.recommender; p != nil && p.node == n && p.alive(t) {
		return []*pod{p}
	}
	return nil
}

// use returns the CPU (millicores) and memory (bytes) an extra pod uses at t.
func (x *extra) use(p *pod, t time.Time, attack time.Time) (cpu, mem float64) {
	a := p.app
	if p == x.recommender {
		cpu = a.cpu * (0.2 + 0.8*load(t)) * x.jitter(0.08)
		if rel := t.Sub(attack); rel >= saturationFrom && rel < saturationTo {
			cpu = 3400 * x.jitter(0.02)
		}
		return cpu, a.mem * (0.95 + 0.05*load(t)) * x.jitter(0.02)
	}
	return a.cpu * x.jitter(0.06), a.mem * x.jitter(0.03)
}

// batchNode writes the minute's events of the night's batch node, if one
// is up: its pods', then its own.
func (x *extra) batchNode(s *sim, j *jw, t time.Time) {
	for _, nt := range x.nights {
		if t.Before(nt.up) || !t.Before(nt.down) {
			continue
		}
		n := nt.node
		at := t.Add(53*time.Second + time.Duration(x.rng.IntN(900))*time.Millisecond).Truncate(time.Millisecond)
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		cpuSum, memSum := 120*x.jitter(0.1), 0.9e9*x.jitter(0.01)
		pods := 0
		for _, p := range nt.pods {
			if !p.alive(t) {
				continue
			}
			pods++
			cpu, mem := x.use(p, t, s.attack)
			cpuSum += cpu
			memSum += mem
			s.podEvent(j, n, p, ts, cpu, mem, 0, 0)
			s.later(LogEvent{Group: s.ciGroup, Stream: n.name, Time: at, Message: string(j.b)})
		}
		s.nodeEvent(j, n, ts, cpuSum, memSum, 0, 0, pods)
		s.later(LogEvent{Group: s.ciGroup, Stream: n.name, Time: at, Message: string(j.b)})
	}
}
