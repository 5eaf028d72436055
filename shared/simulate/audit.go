package simulate

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Marker is the value of the synthetic markers: the audit annotation
// AnnotationSynthetic and the Container Insights field FieldSynthetic.
const Marker = "true"

// AnnotationSynthetic marks every audit event the simulator writes.
const AnnotationSynthetic = "tidewatch.dev/synthetic"

// FieldSynthetic marks every Container Insights event the simulator writes.
const FieldSynthetic = "tidewatch_synthetic"

// userAgentSuffix ends every audit event's user agent.
const userAgentSuffix = " tidewatch-synthetic"

const k8sVersion = "v1.30.4"
const k8sCommit = "d5ee5c5"

type auditUser struct {
	Username string              `json:"username"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

type objectRef struct {
	Resource        string `json:"resource"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}

type responseStatus struct {
	Metadata struct{} `json:"metadata"`
	Code     int      `json:"code"`
}

// auditEvent is the audit.k8s.io/v1 Event as the API server writes it.
type auditEvent struct {
	Kind                     string            `json:"kind"`
	APIVersion               string            `json:"apiVersion"`
	Level                    string            `json:"level"`
	AuditID                  string            `json:"auditID"`
	Stage                    string            `json:"stage"`
	RequestURI               string            `json:"requestURI"`
	Verb                     string            `json:"verb"`
	User                     auditUser         `json:"user"`
	SourceIPs                []string          `json:"sourceIPs"`
	UserAgent                string            `json:"userAgent"`
	ObjectRef                objectRef         `json:"objectRef"`
	ResponseStatus           responseStatus    `json:"responseStatus"`
	RequestObject            any               `json:"requestObject,omitempty"`
	ResponseObject           any               `json:"responseObject,omitempty"`
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp"`
	StageTimestamp           string            `json:"stageTimestamp"`
	Annotations              map[string]string `json:"annotations"`
}

// auditTime is the audit log's timestamp layout: RFC 3339, microseconds, UTC.
const auditTime = "2006-01-02T15:04:05.000000Z"

// actor is who sends a request to the API server.
type actor struct {
	user     auditUser
	agent    string
	sourceIP string
	rbac     string // authorization.k8s.io/reason
}

func (s *sim) controller(name string) actor {
	sa := "system:serviceaccount:kube-system:" + name
	return actor{
		user: auditUser{Username: sa, UID: s.saUID(name),
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		agent:    "kube-controller-manager/" + k8sVersion + "-eks-" + k8sCommit + " (linux/amd64) kubernetes/" + k8sCommit + "/system:serviceaccount:kube-system:" + name,
		sourceIP: "10.0.200.17",
		rbac:     `RBAC: allowed by ClusterRoleBinding "system:controller:` + name + `" of ClusterRole "system:controller:` + name + `" to ServiceAccount "` + name + `/kube-system"`,
	}
}

func (s *sim) kubelet(n *node) actor {
	return actor{
		user:     auditUser{Username: "system:node:" + n.name, UID: "aws-iam-authenticator:" + s.o.Account + ":" + s.nodeRole, Groups: []string{"system:bootstrappers", "system:nodes", "system:authenticated"}},
		agent:    "kubelet/" + k8sVersion + "-eks-" + k8sCommit + " (linux/amd64) kubernetes/" + k8sCommit,
		sourceIP: n.ifc.ip,
		rbac:     "",
	}
}

func (s *sim) mallory() actor {
	arn := "arn:aws:iam::" + s.o.Account + ":user/mallory"
	return actor{
		user: auditUser{Username: "mallory", UID: "aws-iam-authenticator:" + s.o.Account + ":" + s.malloryID,
			Groups: []string{"system:masters", "system:authenticated"},
			Extra: map[string][]string{"accessKeyId": {s.malloryKey}, "arn": {arn}, "canonicalArn": {arn},
				"principalId": {s.malloryID}, "sessionName": {""}}},
		agent:    "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
		sourceIP: "203.0.113.99",
		rbac:     "",
	}
}

func (s *sim) deployer() actor {
	return actor{
		user: auditUser{Username: "system:serviceaccount:argocd:argocd-application-controller", UID: s.saUID("argocd-application-controller"),
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"}},
		agent:    "argocd-application-controller/v2.11.3 (linux/amd64)",
		sourceIP: "10.0.2.77",
		rbac:     `RBAC: allowed by ClusterRoleBinding "argocd-application-controller" of ClusterRole "argocd-application-controller" to ServiceAccount "argocd-application-controller/argocd"`,
	}
}

func (s *sim) saUID(name string) string {
	if u, ok := s.uids[name]; ok {
		return u
	}
	u := s.w.uuid()
	s.uids[name] = u
	return u
}

// audit queues one audit event at t (request received) that took d.
func (s *sim) audit(t time.Time, d time.Duration, a actor, level, stage, verb, uri string, ref objectRef, code int, req, resp any) string {
	id := s.w.uuid()
	s.auditAt(s.micro(t), d, id, a, level, stage, verb, uri, ref, code, req, resp)
	return id
}

func (s *sim) auditAt(t time.Time, d time.Duration, id string, a actor, level, stage, verb, uri string, ref objectRef, code int, req, resp any) {
	ev := auditEvent{
		Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: level, AuditID: id, Stage: stage,
		RequestURI: uri, Verb: verb, User: a.user, SourceIPs: []string{a.sourceIP}, UserAgent: a.agent + userAgentSuffix,
		ObjectRef: ref, ResponseStatus: responseStatus{Code: code},
		RequestObject: req, ResponseObject: resp,
		RequestReceivedTimestamp: t.UTC().Format(auditTime),
		StageTimestamp:           t.Add(d).UTC().Format(auditTime),
		Annotations: map[string]string{
			"authorization.k8s.io/decision": "allow",
			"authorization.k8s.io/reason":   a.rbac,
			AnnotationSynthetic:             Marker,
		},
	}
	b, err := marshal(ev)
	if err != nil {
		// Only plain data is marshalled; a failure is a bug in this package.
		panic("simulate: marshal audit event: " + err.Error())
	}
	stream := s.auditStreams[s.rng.IntN(len(s.auditStreams))]
	s.later(LogEvent{Group: s.auditGroup, Stream: stream, Time: t.Add(d).Truncate(time.Millisecond), Message: string(b)})
}

type ownerRef struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         bool   `json:"controller"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion"`
}

type meta struct {
	Name              string            `json:"name,omitempty"`
	GenerateName      string            `json:"generateName,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	CreationTimestamp *string           `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	OwnerReferences   []ownerRef        `json:"ownerReferences,omitempty"`
}

type secCtx struct {
	Privileged               *bool `json:"privileged,omitempty"`
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	RunAsNonRoot             *bool `json:"runAsNonRoot,omitempty"`
}

type resources struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

type port struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

type container struct {
	Name                     string    `json:"name"`
	Image                    string    `json:"image"`
	Args                     []string  `json:"args,omitempty"`
	Ports                    []port    `json:"ports,omitempty"`
	Resources                resources `json:"resources"`
	TerminationMessagePath   string    `json:"terminationMessagePath"`
	TerminationMessagePolicy string    `json:"terminationMessagePolicy"`
	ImagePullPolicy          string    `json:"imagePullPolicy"`
	SecurityContext          *secCtx   `json:"securityContext,omitempty"`
}

type podSpec struct {
	Containers                    []container `json:"containers"`
	RestartPolicy                 string      `json:"restartPolicy"`
	TerminationGracePeriodSeconds int         `json:"terminationGracePeriodSeconds"`
	DNSPolicy                     string      `json:"dnsPolicy"`
	ServiceAccountName            string      `json:"serviceAccountName,omitempty"`
	NodeName                      string      `json:"nodeName,omitempty"`
	HostNetwork                   bool        `json:"hostNetwork,omitempty"`
	HostPID                       bool        `json:"hostPID,omitempty"`
	SecurityContext               struct{}    `json:"securityContext"`
	SchedulerName                 string      `json:"schedulerName"`
	PriorityClassName             string      `json:"priorityClassName,omitempty"`
}

type podObject struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   meta           `json:"metadata"`
	Spec       podSpec        `json:"spec"`
	Status     map[string]any `json:"status"`
}

func millicores(m float64) string { return strconv.Itoa(int(m)) + "m" }
func mebibytes(b float64) string  { return strconv.Itoa(int(b/(1<<20))) + "Mi" }

func (s *sim) labels(p *pod) map[string]string {
	a := p.app
	l := map[string]string{"app.kubernetes.io/name": a.name}
	switch a.kind {
	case "Deployment":
		l["app.kubernetes.io/part-of"] = a.ns
		l["pod-template-hash"] = p.hash
	case "DaemonSet":
		l["k8s-app"] = a.name
		l["controller-revision-hash"] = p.hash
		l["pod-template-generation"] = "3"
	case "CronJob":
		l["batch.kubernetes.io/job-name"] = p.owner
		l["job-name"] = p.owner
		l["batch.kubernetes.io/controller-uid"] = s.ownerUID(p.owner)
		l["controller-uid"] = s.ownerUID(p.owner)
	case "Pod":
		l = map[string]string{"run": a.name}
	}
	for k, v := range a.extra {
		l[k] = v
	}
	return l
}

func (s *sim) ownerUID(name string) string { return s.saUID("owner/" + name) }

// podObjects builds the request and response objects of a pod create.
func (s *sim) podObjects(p *pod, t time.Time) (req, resp podObject) {
	a := p.app
	c := container{
		Name: a.name, Image: a.image + ":" + p.tag,
		Resources:                resources{Requests: map[string]string{"cpu": millicores(a.cpu / 2), "memory": mebibytes(a.mem)}},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: "File",
		ImagePullPolicy:          "IfNotPresent",
	}
	if a.cpuLimit > 0 {
		c.Resources.Limits = map[string]string{"cpu": millicores(a.cpuLimit), "memory": mebibytes(a.memLimit)}
	}
	if a.port > 0 {
		c.Ports = []port{{Name: "http", ContainerPort: a.port, Protocol: "TCP"}}
	}
	f := false
	if p.privileged {
		tr := true
		c.SecurityContext = &secCtx{Privileged: &tr}
		c.ImagePullPolicy = "Always"
		c.Args = []string{"-o", "pool.example.invalid:3333", "--donate-level", "1"}
	} else {
		c.SecurityContext = &secCtx{AllowPrivilegeEscalation: &f}
	}
	spec := podSpec{
		Containers: []container{c}, RestartPolicy: "Always", TerminationGracePeriodSeconds: 30,
		DNSPolicy: "ClusterFirst", ServiceAccountName: a.name, SchedulerName: "default-scheduler",
		HostNetwork: a.hostNetwork, HostPID: p.privileged,
	}
	switch a.kind {
	case "CronJob":
		spec.RestartPolicy = "OnFailure"
	case "DaemonSet":
		spec.NodeName = p.node.name
		spec.PriorityClassName = "system-node-critical"
	case "Pod":
		spec.ServiceAccountName = ""
	}
	m := meta{Namespace: a.ns, Labels: s.labels(p)}
	if p.owner != "" {
		kind, api := "ReplicaSet", "apps/v1"
		switch a.kind {
		case "DaemonSet":
			kind = "DaemonSet"
		case "CronJob":
			kind, api = "Job", "batch/v1"
		}
		m.GenerateName = p.owner + "-"
		m.OwnerReferences = []ownerRef{{APIVersion: api, Kind: kind, Name: p.owner, UID: s.ownerUID(p.owner), Controller: true, BlockOwnerDeletion: true}}
	} else {
		m.Name = p.name
	}
	req = podObject{Kind: "Pod", APIVersion: "v1", Metadata: m, Spec: spec, Status: map[string]any{}}
	resp = req
	ts := t.UTC().Format(time.RFC3339)
	rm := m
	rm.Name, rm.UID, rm.ResourceVersion, rm.CreationTimestamp = p.name, p.uid, s.resourceVersion(), &ts
	resp.Metadata = rm
	qos := "Burstable"
	if a.cpuLimit == 0 {
		qos = "BestEffort"
	}
	resp.Status = map[string]any{"phase": "Pending", "qosClass": qos}
	return req, resp
}

func (s *sim) resourceVersion() string {
	s.rv += 1 + uint64(s.rng.IntN(40))
	return strconv.FormatUint(s.rv, 10)
}

// startPod writes the pod create and, when the pod has its IP, the
// kubelet's status patch.
func (s *sim) startPod(p *pod, t time.Time, by actor) {
	a := p.app
	req, resp := s.podObjects(p, t)
	uri := "/api/v1/namespaces/" + a.ns + "/pods"
	ref := objectRef{Resource: "pods", Namespace: a.ns, APIVersion: "v1"}
	if p.owner == "" {
		uri += "?fieldManager=kubectl-run"
		ref.Name = p.name
	}
	s.audit(t, time.Duration(4+s.rng.IntN(9))*time.Millisecond, by, "RequestResponse", "ResponseComplete", "create", uri, ref, 201, req, resp)

	// The scheduler binds, the kubelet starts the sandbox, the CNI hands
	// out the IP and the kubelet reports it.
	patchAt := t.Add(time.Duration(2500+s.rng.IntN(3000)) * time.Millisecond)
	ts := t.UTC().Format(time.RFC3339)
	status := map[string]any{
		"$setElementOrder/conditions": []map[string]string{{"type": "PodReadyToStartContainers"}, {"type": "Initialized"}, {"type": "Ready"}, {"type": "ContainersReady"}, {"type": "PodScheduled"}},
		"hostIP":                      p.node.ifc.ip,
		"hostIPs":                     []map[string]string{{"ip": p.node.ifc.ip}},
		"phase":                       "Running",
		"podIP":                       p.ip,
		"podIPs":                      []map[string]string{{"ip": p.ip}},
		"startTime":                   ts,
	}
	patch := map[string]any{"metadata": map[string]string{"uid": p.uid}, "status": status}
	s.audit(patchAt, time.Duration(3+s.rng.IntN(6))*time.Millisecond, s.kubelet(p.node), "Request", "ResponseComplete", "patch",
		"/api/v1/namespaces/"+a.ns+"/pods/"+p.name+"/status", objectRef{Resource: "pods", Namespace: a.ns, Name: p.name, APIVersion: "v1", Subresource: "status"}, 200, patch, nil)
	p.created = t
	p.ready = patchAt.Add(time.Duration(3+s.rng.IntN(8)) * time.Second)
}

// stopPod writes the delete of a pod.
func (s *sim) stopPod(p *pod, t time.Time, by actor) {
	a := p.app
	req := map[string]any{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
	s.audit(t, time.Duration(5+s.rng.IntN(9))*time.Millisecond, by, "Request", "ResponseComplete", "delete",
		"/api/v1/namespaces/"+a.ns+"/pods/"+p.name, objectRef{Resource: "pods", Namespace: a.ns, Name: p.name, APIVersion: "v1"}, 200, req, nil)
	p.gone = t.Add(time.Duration(1+s.rng.IntN(3)) * time.Second)
}

// exec writes a kubectl exec over SPDY: ResponseStarted when the stream is
// upgraded, ResponseComplete when it ends.
func (s *sim) exec(p *pod, t, end time.Time, command []string, by actor) {
	var b []byte
	b = append(b, "command="...)
	for i, c := range command {
		if i > 0 {
			b = append(b, "&command="...)
		}
		b = append(b, url.QueryEscape(c)...)
	}
	uri := "/api/v1/namespaces/" + p.app.ns + "/pods/" + p.name + "/exec?" + string(b) + "&container=" + p.app.name + "&stderr=true&stdout=true"
	ref := objectRef{Resource: "pods", Namespace: p.app.ns, Name: p.name, APIVersion: "v1", Subresource: "exec"}
	id := s.w.uuid()
	t = s.micro(t)
	s.auditAt(t, 31*time.Millisecond, id, by, "Request", "ResponseStarted", "create", uri, ref, 101, nil, nil)
	s.auditAt(t, end.Sub(t), id, by, "Request", "ResponseComplete", "create", uri, ref, 101, nil, nil)
}

// noise writes the ordinary chatter of a cluster for the minute starting
// at t: controllers listing and watching, pods reading their ConfigMaps.
func (s *sim) noise(t time.Time) {
	if s.rng.IntN(5) != 0 {
		return
	}
	at := t.Add(time.Duration(s.rng.IntN(59000)) * time.Millisecond)
	switch s.rng.IntN(5) {
	case 0:
		a := s.controller("cronjob-controller")
		s.audit(at, time.Duration(2+s.rng.IntN(5))*time.Millisecond, a, "Request", "ResponseComplete", "list",
			"/apis/batch/v1/jobs?limit=500", objectRef{Resource: "jobs", APIGroup: "batch", APIVersion: "v1"}, 200, nil, nil)
	case 1:
		a := s.controller("endpointslice-controller")
		s.audit(at, time.Duration(300+s.rng.IntN(9000))*time.Millisecond, a, "Request", "ResponseComplete", "watch",
			"/apis/discovery.k8s.io/v1/endpointslices?allowWatchBookmarks=true&resourceVersion="+s.resourceVersion()+"&timeout=8m31s&timeoutSeconds=511&watch=true",
			objectRef{Resource: "endpointslices", APIGroup: "discovery.k8s.io", APIVersion: "v1"}, 200, nil, nil)
	case 2, 3:
		keys := []string{"shop/frontend", "shop/cart", "shop/checkout", "payments/api"}
		ap := s.w.app(keys[s.rng.IntN(len(keys))])
		p := ap.first(t)
		if p == nil {
			return
		}
		sa := "system:serviceaccount:" + ap.ns + ":" + ap.name
		a := actor{
			user: auditUser{Username: sa, UID: s.saUID(ap.ns + "/" + ap.name), Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ap.ns, "system:authenticated"},
				Extra: map[string][]string{"authentication.kubernetes.io/node-name": {p.node.name}, "authentication.kubernetes.io/pod-name": {p.name}, "authentication.kubernetes.io/pod-uid": {p.uid}}},
			agent: ap.name + "/" + p.tag + " (linux/amd64) client-go", sourceIP: p.ip,
			rbac: `RBAC: allowed by RoleBinding "` + ap.name + `-config" of Role "config-reader" to ServiceAccount "` + ap.name + `/` + ap.ns + `"`,
		}
		s.audit(at, time.Duration(2+s.rng.IntN(4))*time.Millisecond, a, "Metadata", "ResponseComplete", "get",
			"/api/v1/namespaces/"+ap.ns+"/configmaps/"+ap.name+"-config", objectRef{Resource: "configmaps", Namespace: ap.ns, Name: ap.name + "-config", APIVersion: "v1"}, 200, nil, nil)
	case 4:
		n := s.w.nodes[s.rng.IntN(len(s.w.nodes))]
		s.audit(at, time.Duration(2+s.rng.IntN(4))*time.Millisecond, s.kubelet(n), "Request", "ResponseComplete", "get",
			"/api/v1/nodes/"+n.name+"?resourceVersion=0&timeout=10s", objectRef{Resource: "nodes", Name: n.name, APIVersion: "v1"}, 200, nil, nil)
	}
}

// micro places a request at a random microsecond of its millisecond.
func (s *sim) micro(t time.Time) time.Time {
	return t.Truncate(time.Millisecond).Add(time.Duration(s.rng.IntN(1000)) * time.Microsecond)
}

// marshal encodes v as compact JSON without escaping &, < and >, as the
// API server and CloudWatch Logs write them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
