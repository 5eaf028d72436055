package simulate

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tidewatch/tidewatch/shared/workload"
)

// safeAlphabet is the alphabet Kubernetes draws generated name suffixes and
// pod-template-hash values from.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// iface is one ENI that the flow log covers: a node's primary ENI or an
// awsvpc task's ENI.
type iface struct {
	eni, ip, subnet, instance, azID string
	// ecs is the ten v7 fields, pre-rendered and space-separated; all "-"
	// for an EC2 node.
	ecs string
}

// node is an EKS worker node.
type node struct {
	name, instance, az, prefix string
	ifc                        *iface
	nextIP                     int
	cpuLimit                   float64 // millicores
	memLimit                   float64 // bytes
}

// allocIP hands out the next VPC CNI secondary IP of the node's subnet; IPs
// are never reused, so a restarted pod always has a new one.
func (n *node) allocIP() string {
	n.nextIP++
	if n.nextIP > 250 {
		n.nextIP = 20
	}
	return n.prefix + strconv.Itoa(n.nextIP)
}

// app is a Kubernetes controller (Deployment, DaemonSet, CronJob) or, for
// a bare pod, the pod itself.
type app struct {
	ns, name, kind string
	replicas       int
	image          string // without tag
	tag            string
	hash           string // pod-template-hash of the current ReplicaSet
	port           int
	cpu            float64 // millicores at full load
	cpuLimit       float64
	mem            float64 // bytes
	memLimit       float64
	hostNetwork    bool
	pods           []*pod
	extra          map[string]string // extra labels
}

// id returns the canonical workload id.
func (a *app) id(cluster string) string { return workload.EKS(cluster, a.ns, a.kind, a.name) }

// pod is one pod of an app. It carries traffic from ready on and until gone.
type pod struct {
	app        *app
	name, uid  string
	node       *node
	ip         string
	hash       string
	owner      string // controller name (ReplicaSet, Job, DaemonSet); "" for a bare pod
	tag        string
	created    time.Time
	ready      time.Time
	gone       time.Time // zero while running
	cpuFactor  float64   // per-pod multiplier of the app's CPU
	forcedCPU  float64   // > 0: fraction of the CPU limit the pod burns
	tx, rx     float64   // bytes in the current minute
	restarts   int
	privileged bool
}

func (p *pod) alive(t time.Time) bool {
	return !p.ready.IsZero() && !p.ready.After(t) && (p.gone.IsZero() || p.gone.After(t))
}

// task is an ECS awsvpc task of a service.
type task struct {
	id, arn, family, revision, service string
	ifc                                *iface
	az                                 string
	cpuReserved, memReserved           float64
	tx, rx                             float64
	forcedCPU                          float64
}

// world is the simulated estate: nodes, apps, pods and ECS tasks.
type world struct {
	random

	o     Options
	vpc   string
	nodes []*node
	apps  map[string]*app // by ns/name
	tasks []*task
	rds   string // the database, outside the logged ENIs
}

func newWorld(o Options, rng *rand.Rand) *world {
	w := &world{o: o, random: random{rng}, apps: map[string]*app{}}
	w.vpc = "vpc-" + w.hex(17)
	azs := []struct{ az, id string }{{"a", "az1"}, {"b", "az2"}, {"c", "az4"}}
	abbr := regionAbbrev(o.Region)
	for i, z := range azs {
		prefix := "10.0." + strconv.Itoa(i+1) + "."
		ip := prefix + strconv.Itoa(10+rng.IntN(9))
		n := &node{
			name:     nodeName(ip, o.Region),
			instance: "i-" + w.hex(17),
			az:       o.Region + z.az,
			prefix:   prefix,
			nextIP:   30 + rng.IntN(40),
			cpuLimit: 4000,
			memLimit: 16 << 30,
		}
		n.ifc = &iface{eni: "eni-" + w.hex(17), ip: ip, subnet: "subnet-" + w.hex(17), instance: n.instance,
			azID: abbr + "-" + z.id, ecs: strings.Repeat(" -", 10)[1:]}
		w.nodes = append(w.nodes, n)
	}
	ecr := o.Account + ".dkr.ecr." + o.Region + ".amazonaws.com/"
	add := func(a *app) { w.apps[a.ns+"/"+a.name] = a }
	add(&app{ns: "shop", name: "frontend", kind: workload.KindDeployment, replicas: 3, image: ecr + "frontend", tag: "v2.14.0", port: 8080, cpu: 220, cpuLimit: 1000, mem: 380 << 20, memLimit: 1 << 30})
	add(&app{ns: "shop", name: "cart", kind: workload.KindDeployment, replicas: 2, image: ecr + "cart", tag: "v1.9.3", port: 8080, cpu: 160, cpuLimit: 500, mem: 210 << 20, memLimit: 512 << 20})
	add(&app{ns: "shop", name: "checkout", kind: workload.KindDeployment, replicas: 2, image: ecr + "checkout", tag: "v3.2.1", port: 8080, cpu: 180, cpuLimit: 500, mem: 260 << 20, memLimit: 512 << 20})
	add(&app{ns: "payments", name: "api", kind: workload.KindDeployment, replicas: 2, image: ecr + "payments-api", tag: "v5.0.7", port: 8443, cpu: 140, cpuLimit: 500, mem: 300 << 20, memLimit: 768 << 20})
	add(&app{ns: "kube-system", name: "aws-node", kind: workload.KindDaemonSet, replicas: len(w.nodes), image: "602401143452.dkr.ecr." + o.Region + ".amazonaws.com/amazon-k8s-cni", tag: "v1.18.3-eksbuild.1", cpu: 25, cpuLimit: 0, mem: 60 << 20, hostNetwork: true})
	add(&app{ns: "batch", name: "backup", kind: workload.KindCronJob, replicas: 1, image: ecr + "backup", tag: "v0.8.2", cpu: 350, cpuLimit: 1000, mem: 400 << 20, memLimit: 1 << 30})
	for _, k := range sortedKeys(w.apps) {
		w.apps[k].hash = w.safe(10)
	}
	w.rds = "10.0.21." + strconv.Itoa(10+rng.IntN(200))

	clusterARN := "arn:aws:ecs:" + o.Region + ":" + o.Account + ":cluster/" + o.ECSCluster
	for i := range 2 {
		id := w.hex(32)
		t := &task{id: id, family: "orders", revision: "14", service: "orders", az: azs[i].az,
			arn: "arn:aws:ecs:" + o.Region + ":" + o.Account + ":task/" + o.ECSCluster + "/" + id, cpuReserved: 512, memReserved: 1024}
		ip := "10.0." + strconv.Itoa(11+i) + "." + strconv.Itoa(20+rng.IntN(200))
		container := id + "-" + strconv.FormatUint(1000000000+rng.Uint64N(8999999999), 10)
		t.ifc = &iface{eni: "eni-" + w.hex(17), ip: ip, subnet: "subnet-" + w.hex(17), instance: "-", azID: abbr + "-" + azs[i].id,
			ecs: strings.Join([]string{clusterARN, o.ECSCluster, "-", "-", container, "-", t.service,
				"arn:aws:ecs:" + o.Region + ":" + o.Account + ":task-definition/" + t.family + ":" + t.revision, t.arn, id}, " ")}
		w.tasks = append(w.tasks, t)
	}
	return w
}

func (w *world) app(key string) *app { return w.apps[key] }

// random draws the simulator's random ids and factors from rng. The world
// and the run share one source; the Container Insights scenarios (extra)
// have their own.
type random struct {
	rng *rand.Rand
}

// hex returns n random lower-case hex digits.
func (r random) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.rng.IntN(16)]
	}
	return string(b)
}

// safe returns n random characters of the Kubernetes safe alphabet.
func (r random) safe(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = safeAlphabet[r.rng.IntN(len(safeAlphabet))]
	}
	return string(b)
}

// uuid returns a random version 4 UUID.
func (r random) uuid() string {
	h := r.hex(32)
	v := "89ab"[r.rng.IntN(4)]
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string(v) + h[17:20] + "-" + h[20:32]
}

// jitter returns a factor around 1 spread by ±f.
func (r random) jitter(f float64) float64 { return 1 + f*(2*r.rng.Float64()-1) }

func nodeName(ip, region string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// regionAbbrev gives the AZ id prefix of a region ("use1" for us-east-1).
func regionAbbrev(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return "use1"
	}
	var b strings.Builder
	b.WriteString(parts[0])
	for _, w := range strings.Fields(strings.NewReplacer("north", "n ", "south", "s ", "east", "e ", "west", "w ", "central", "c ").Replace(parts[1])) {
		b.WriteString(w)
	}
	b.WriteString(parts[2])
	return b.String()
}
