package simulate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/tidewatch/tidewatch/shared/workload"
)

// sizeBudget bounds the default output (every .jsonl file, as the Lambdas
// receive it). See the package report: per-minute Container Insights
// events in deliveries of at most five minutes cost most of it.
const sizeBudget = 24 << 20

// memSink keeps files in memory.
type memSink map[string]*bytes.Buffer

type memFile struct{ *bytes.Buffer }

func (memFile) Close() error { return nil }

func (m memSink) Create(name string) (io.WriteCloser, error) {
	b := &bytes.Buffer{}
	m[name] = b
	return memFile{b}, nil
}

func (m memSink) names() []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var (
	runMu   sync.Mutex
	runMemo = map[Options]memSink{}
	expMemo = map[Options][]Expectation{}
)

// run writes the Lambda events of opts once per test binary.
func run(t *testing.T, opts Options) (memSink, []Expectation) {
	t.Helper()
	runMu.Lock()
	defer runMu.Unlock()
	if m, ok := runMemo[opts]; ok {
		return m, expMemo[opts]
	}
	m := memSink{}
	exp, err := WriteLambdaEvents(opts, m)
	if err != nil {
		t.Fatalf("WriteLambdaEvents: %v", err)
	}
	runMemo[opts], expMemo[opts] = m, exp
	return m, exp
}

// delivery is the decoded CloudWatch Logs payload.
type decoded struct {
	MessageType         string   `json:"messageType"`
	Owner               string   `json:"owner"`
	LogGroup            string   `json:"logGroup"`
	LogStream           string   `json:"logStream"`
	SubscriptionFilters []string `json:"subscriptionFilters"`
	LogEvents           []struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	} `json:"logEvents"`
}

func decode(t *testing.T, line []byte) (decoded, int) {
	t.Helper()
	var ev struct {
		AWSLogs struct {
			Data string `json:"data"`
		} `json:"awslogs"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("lambda event: %v", err)
	}
	z, err := base64.StdEncoding.DecodeString(ev.AWSLogs.Data)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	var d decoded
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return d, len(raw)
}

// deliveries decodes every line of every .jsonl file of m.
func deliveries(t *testing.T, m memSink, fn func(file string, d decoded, size int)) {
	t.Helper()
	for _, name := range m.names() {
		if !strings.HasSuffix(name, ".jsonl") {
			continue
		}
		for line := range bytes.Lines(m[name].Bytes()) {
			d, n := decode(t, bytes.TrimSuffix(line, []byte("\n")))
			fn(name, d, n)
		}
	}
}

var oneDay = Options{Days: 1, Seed: 7}

func TestDeterministic(t *testing.T) {
	a, _ := run(t, oneDay)
	b := memSink{}
	if _, err := WriteLambdaEvents(oneDay, b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.names(), b.names()); diff != "" {
		t.Fatalf("files differ (-first +second):\n%s", diff)
	}
	for _, n := range a.names() {
		if !bytes.Equal(a[n].Bytes(), b[n].Bytes()) {
			t.Errorf("%s differs between two runs with the same seed", n)
		}
	}
	c := memSink{}
	other := oneDay
	other.Seed++
	if _, err := WriteLambdaEvents(other, c); err != nil {
		t.Fatal(err)
	}
	for _, n := range a.names() {
		if n == FlowFormatFile {
			continue
		}
		if bytes.Equal(a[n].Bytes(), c[n].Bytes()) {
			t.Errorf("%s is the same for seeds %d and %d", n, oneDay.Seed, other.Seed)
		}
	}
}

func TestDeliveries(t *testing.T) {
	m, _ := run(t, oneDay)
	o, _ := oneDay.withDefaults()
	count := map[string]int{}
	deliveries(t, m, func(file string, d decoded, size int) {
		count[file]++
		where := file + " " + d.LogGroup + " " + d.LogStream
		if d.MessageType != "DATA_MESSAGE" || d.Owner != o.Account || !slices.Equal(d.SubscriptionFilters, []string{SubscriptionFilter}) {
			t.Errorf("%s: header %q %q %q", where, d.MessageType, d.Owner, d.SubscriptionFilters)
		}
		if n := len(d.LogEvents); n == 0 || n > maxDeliveryEvents {
			t.Errorf("%s: %d events", where, n)
		}
		if size > maxDeliveryBytes {
			t.Errorf("%s: %d bytes decompressed", where, size)
		}
		first, last := d.LogEvents[0].Timestamp, d.LogEvents[len(d.LogEvents)-1].Timestamp
		if time.Duration(last-first)*time.Millisecond >= deliveryWindow {
			t.Errorf("%s: spans %d ms", where, last-first)
		}
		if want := DayFile(o, d.LogGroup, time.UnixMilli(first)); want != file {
			t.Errorf("%s: belongs in %s", where, want)
		}
		ids := map[string]bool{}
		for i, e := range d.LogEvents {
			if i > 0 && e.Timestamp < d.LogEvents[i-1].Timestamp {
				t.Errorf("%s: event %d out of order", where, i)
			}
			if len(e.ID) != 56 || strings.Trim(e.ID, "0123456789") != "" || ids[e.ID] {
				t.Errorf("%s: bad or repeated id %q", where, e.ID)
			}
			ids[e.ID] = true
		}
	})
	for _, want := range []string{"flowlogs/day1.jsonl", "flowlogs/day2-attacks.jsonl", "audit/day1.jsonl", "audit/day2-attacks.jsonl", "metrics/day1.jsonl", "metrics/day2-attacks.jsonl"} {
		if count[want] == 0 {
			t.Errorf("no deliveries in %s", want)
		}
	}
	if _, ok := m[ExpectedFile]; !ok {
		t.Errorf("no %s", ExpectedFile)
	}
	if got := m[FlowFormatFile].String(); got != FlowFormat+"\n" {
		t.Errorf("%s = %q", FlowFormatFile, got)
	}
}

// collected is every log event of a run, decoded from its deliveries.
type collected struct {
	audit, flows, metrics []LogEvent
}

func collect(t *testing.T, m memSink) collected {
	t.Helper()
	var c collected
	deliveries(t, m, func(file string, d decoded, _ int) {
		for _, e := range d.LogEvents {
			ev := LogEvent{Group: d.LogGroup, Stream: d.LogStream, Time: time.UnixMilli(e.Timestamp).UTC(), Message: e.Message}
			switch Function(d.LogGroup) {
			case "audit":
				c.audit = append(c.audit, ev)
			case "flowlogs":
				c.flows = append(c.flows, ev)
			default:
				c.metrics = append(c.metrics, ev)
			}
		}
	})
	return c
}

func TestAuditEvents(t *testing.T) {
	m, _ := run(t, oneDay)
	c := collect(t, m)
	if len(c.audit) < 100 {
		t.Fatalf("only %d audit events", len(c.audit))
	}
	required := []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "sourceIPs",
		"userAgent", "objectRef", "responseStatus", "requestReceivedTimestamp", "stageTimestamp", "annotations"}
	verbs := map[string]int{}
	for _, e := range c.audit {
		var ev map[string]any
		if err := json.Unmarshal([]byte(e.Message), &ev); err != nil {
			t.Fatalf("audit event is not JSON: %v\n%s", err, e.Message)
		}
		for _, k := range required {
			if _, ok := ev[k]; !ok {
				t.Errorf("audit event lacks %q: %s", k, e.Message)
			}
		}
		if ev["kind"] != "Event" || ev["apiVersion"] != "audit.k8s.io/v1" {
			t.Errorf("kind/apiVersion: %s", e.Message)
		}
		ann, _ := ev["annotations"].(map[string]any)
		if ann[AnnotationSynthetic] != Marker || ann["authorization.k8s.io/decision"] != "allow" {
			t.Errorf("annotations: %v", ann)
		}
		if strings.Contains(e.Message, `\u0026`) {
			t.Errorf("HTML-escaped &: %s", e.Message)
		}
		if ua, _ := ev["userAgent"].(string); !strings.HasSuffix(ua, userAgentSuffix) {
			t.Errorf("user agent %q", ua)
		}
		for _, k := range []string{"requestReceivedTimestamp", "stageTimestamp"} {
			s, _ := ev[k].(string)
			if _, err := time.Parse(auditTime, s); err != nil {
				t.Errorf("%s %q: %v", k, s, err)
			}
		}
		ref := ev["objectRef"].(map[string]any)
		verbs[ev["verb"].(string)+" "+ref["resource"].(string)+"/"+str(ref["subresource"])]++
		if ev["verb"] == "create" && ref["resource"] == "pods" && ref["subresource"] == nil {
			resp := ev["responseObject"].(map[string]any)
			md := resp["metadata"].(map[string]any)
			if md["name"] == nil || md["uid"] == nil || md["namespace"] == nil {
				t.Errorf("pod create without name/uid/namespace: %s", e.Message)
			}
			spec := resp["spec"].(map[string]any)
			if len(spec["containers"].([]any)) == 0 {
				t.Errorf("pod create without containers")
			}
		}
	}
	for _, want := range []string{"create pods/", "patch pods/status", "create pods/exec", "delete pods/", "get configmaps/", "create deployments/"} {
		if verbs[want] == 0 {
			t.Errorf("no %q events; have %v", want, verbs)
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }

// podIPs returns, from the pods/status patches, when each IP was reported
// and for which pod.
func podIPs(t *testing.T, audit []LogEvent) map[string]struct {
	pod string
	at  time.Time
} {
	t.Helper()
	ips := map[string]struct {
		pod string
		at  time.Time
	}{}
	for _, e := range audit {
		var ev struct {
			Verb      string `json:"verb"`
			ObjectRef struct {
				Name, Namespace, Subresource string
			} `json:"objectRef"`
			RequestObject struct {
				Status struct {
					PodIP  string              `json:"podIP"`
					PodIPs []map[string]string `json:"podIPs"`
				} `json:"status"`
			} `json:"requestObject"`
			StageTimestamp string `json:"stageTimestamp"`
		}
		if err := json.Unmarshal([]byte(e.Message), &ev); err != nil {
			t.Fatal(err)
		}
		ip := ev.RequestObject.Status.PodIP
		if ev.Verb != "patch" || ev.ObjectRef.Subresource != "status" || ip == "" {
			continue
		}
		if len(ev.RequestObject.Status.PodIPs) != 1 || ev.RequestObject.Status.PodIPs[0]["ip"] != ip {
			t.Errorf("podIPs do not match podIP: %s", e.Message)
		}
		at, _ := time.Parse(auditTime, ev.StageTimestamp)
		pod := ev.ObjectRef.Namespace + "/" + ev.ObjectRef.Name
		if prev, ok := ips[ip]; ok && prev.pod != pod && !strings.HasPrefix(pod, "kube-system/") {
			t.Errorf("IP %s reused: %s and %s", ip, prev.pod, pod)
		}
		if _, ok := ips[ip]; !ok {
			ips[ip] = struct {
				pod string
				at  time.Time
			}{pod, at}
		}
	}
	return ips
}

func TestFlowRecords(t *testing.T) {
	m, _ := run(t, oneDay)
	c := collect(t, m)
	ips := podIPs(t, c.audit)
	fields := FlowFields()
	idx := map[string]int{}
	for i, f := range fields {
		idx[f] = i
	}
	if len(fields) != 39 {
		t.Fatalf("FlowFormat has %d fields", len(fields))
	}
	nodeIPs := map[string]bool{}
	seenPods := map[string]bool{}
	for _, e := range c.flows {
		f := strings.Fields(e.Message)
		if len(f) != len(fields) {
			t.Fatalf("%d fields, want %d: %s", len(f), len(fields), e.Message)
		}
		get := func(name string) string { return f[idx[name]] }
		if get("version") != "7" || get("log-status") != "OK" || get("type") != "IPv4" {
			t.Errorf("version/log-status/type: %s", e.Message)
		}
		if e.Stream != get("interface-id")+"-all" || e.Group != flowGroup() {
			t.Errorf("stream %s group %s for %s", e.Stream, e.Group, e.Message)
		}
		start, err1 := strconv.ParseInt(get("start"), 10, 64)
		end, err2 := strconv.ParseInt(get("end"), 10, 64)
		if err1 != nil || err2 != nil || end < start || start/60 != end/60 || e.Time.Unix() != start {
			t.Errorf("start/end/timestamp %d %d %v: %s", start, end, e.Time, e.Message)
		}
		for _, k := range []string{"srcport", "dstport", "protocol", "packets", "bytes", "tcp-flags"} {
			if _, err := strconv.Atoi(get(k)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		for _, k := range []string{"srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"} {
			a, err := netip.ParseAddr(get(k))
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if !a.IsPrivate() && !documentation(a) {
				t.Errorf("%s %s is neither private nor a documentation address", k, a)
			}
		}
		if a := get("action"); a != "ACCEPT" && a != "REJECT" {
			t.Errorf("action %q", a)
		}
		dir := get("flow-direction")
		local, eniIP := get("pkt-dstaddr"), get("dstaddr")
		if dir == "egress" {
			local, eniIP = get("pkt-srcaddr"), get("srcaddr")
		} else if dir != "ingress" || get("traffic-path") != "-" {
			t.Errorf("direction %q path %q", dir, get("traffic-path"))
		}
		if get("instance-id") != "-" {
			nodeIPs[eniIP] = true
		}
		if local == eniIP {
			continue // the ENI's own address: a node or a task
		}
		seen, ok := ips[local]
		if !ok {
			t.Errorf("pod IP %s in a flow was never reported by a pods/status patch: %s", local, e.Message)
			continue
		}
		if time.Unix(start, 0).Before(seen.at) {
			t.Errorf("flow of %s at %v before its status patch at %v", local, time.Unix(start, 0).UTC(), seen.at)
		}
		seenPods[seen.pod] = true
	}
	if len(nodeIPs) != 3 {
		t.Errorf("node ENIs: %v", nodeIPs)
	}
	if len(seenPods) < 8 {
		t.Errorf("flows of only %d pods: %v", len(seenPods), seenPods)
	}
}

var docNets = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}

func documentation(a netip.Addr) bool {
	for _, p := range docNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func TestInsightsEvents(t *testing.T) {
	m, _ := run(t, oneDay)
	c := collect(t, m)
	types := map[string]int{}
	pinned := 0
	for _, e := range c.metrics {
		var ev map[string]any
		if err := json.Unmarshal([]byte(e.Message), &ev); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		typ, _ := ev["Type"].(string)
		types[typ]++
		if ev[FieldSynthetic] != Marker || ev["Version"] != "0" || ev["CloudWatchMetrics"] == nil {
			t.Errorf("marker/Version/CloudWatchMetrics: %s", e.Message)
		}
		switch typ {
		case "Pod", "Node":
			ts, ok := ev["Timestamp"].(string)
			if ms, err := strconv.ParseInt(ts, 10, 64); !ok || err != nil || ms != e.Time.UnixMilli() {
				t.Errorf("EKS Timestamp %v vs %v", ev["Timestamp"], e.Time)
			}
			if e.Stream != ev["NodeName"] {
				t.Errorf("stream %s for node %v", e.Stream, ev["NodeName"])
			}
		case "Task":
			if ms, ok := ev["Timestamp"].(float64); !ok || int64(ms) != e.Time.UnixMilli() {
				t.Errorf("ECS Timestamp %v", ev["Timestamp"])
			}
			for _, k := range []string{"TaskId", "TaskDefinitionFamily", "ServiceName", "CpuUtilized", "CpuReserved", "NetworkTxBytes"} {
				if ev[k] == nil {
					t.Errorf("Task lacks %s", k)
				}
			}
		default:
			t.Errorf("type %q", typ)
		}
		if typ == "Pod" {
			k := ev["kubernetes"].(map[string]any)
			for _, key := range []string{"host", "namespace_name", "pod_name", "pod_id", "labels"} {
				if k[key] == nil {
					t.Errorf("Pod kubernetes lacks %s", key)
				}
			}
			if v, ok := ev["pod_cpu_utilization_over_pod_limit"].(float64); ok && v > 95 && k["pod_name"] == "debug-miner" {
				pinned++
			}
		}
	}
	if types["Pod"] == 0 || types["Node"] == 0 || types["Task"] == 0 {
		t.Errorf("types %v", types)
	}
	if pinned < 35 {
		t.Errorf("miner pinned for %d minutes, want about 40", pinned)
	}
}

func TestExpectations(t *testing.T) {
	_, exp := run(t, Options{})
	o, _ := Options{}.withDefaults()
	attack := o.AttackDay()
	scen := map[string]int{}
	for _, e := range exp {
		scen[e.Scenario]++
		if _, err := workload.Parse(e.Workload); err != nil {
			t.Errorf("%+v: %v", e, err)
		}
		if !e.From.Before(e.To) {
			t.Errorf("%+v: empty window", e)
		}
		if e.Quiet != strings.HasPrefix(e.Scenario, "trap-") {
			t.Errorf("%+v: quiet must mark exactly the traps", e)
		}
		if !e.Quiet && (e.Detector == "" || e.Technique == "" || e.From.Before(attack) || e.To.After(attack.Add(24*time.Hour))) {
			t.Errorf("%+v: attack expectation needs a detector, a technique and the attack day", e)
		}
	}
	for _, s := range Scenarios() {
		if scen[s] == 0 {
			t.Errorf("no expectation for %s", s)
		}
	}
	// No trap may overlap an attack on the same workload.
	for _, q := range exp {
		for _, a := range exp {
			if q.Quiet && !a.Quiet && q.Workload == a.Workload && q.From.Before(a.To) && a.From.Before(q.To) {
				t.Errorf("trap %s %s [%v, %v] overlaps %s %s", q.Scenario, q.Workload, q.From, q.To, a.Scenario, a.Detector)
			}
		}
	}
	want := Expectation{Scenario: ScenarioExecFlood, Detector: "k8s-exec", Technique: "T1609", Workload: "eks/prod/shop/Deployment/cart",
		From: attack.Add(10 * time.Hour), To: attack.Add(10*time.Hour + 2*time.Minute)}
	if diff := cmp.Diff(want, exp[slices.IndexFunc(exp, func(e Expectation) bool { return e.Detector == "k8s-exec" })]); diff != "" {
		t.Errorf("exec expectation (-want +got):\n%s", diff)
	}
}

func TestSize(t *testing.T) {
	m, _ := run(t, Options{})
	total := 0
	for _, n := range m.names() {
		if strings.HasSuffix(n, ".jsonl") {
			total += m[n].Len()
		}
		t.Logf("%-30s %10d", n, m[n].Len())
	}
	t.Logf("total %d bytes", total)
	if total > sizeBudget {
		t.Errorf("default output is %d bytes, budget %d", total, sizeBudget)
	}
}

func TestEnvelopeRejectsMixedStreams(t *testing.T) {
	evs := []LogEvent{{Group: "g", Stream: "a", Time: DefaultStart, Message: "x"}, {Group: "g", Stream: "b", Time: DefaultStart, Message: "y"}}
	if _, err := Envelope("123456789012", "g", "a", evs); err == nil {
		t.Error("want an error for an event of another stream")
	}
	if _, err := Envelope("123456789012", "g", "a", nil); err == nil {
		t.Error("want an error for no events")
	}
}

func TestGenerateOrder(t *testing.T) {
	var last time.Time
	lastInStream := map[string]time.Time{}
	n := 0
	_, err := Generate(oneDay, func(e LogEvent) error {
		if e.Time.Before(last) {
			t.Fatalf("event %d at %v after %v", n, e.Time, last)
		}
		last = e.Time
		lastInStream[e.Group+" "+e.Stream] = e.Time
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if end := oneDay.AttackDay().Add(24 * time.Hour); !last.Before(end) {
		t.Errorf("last event at %v, after the attack day", last)
	}
	// Flow logs: 3 node ENIs and 2 task ENIs; audit: 2 API servers;
	// Container Insights: 3 nodes, the Fargate stream and the batch node
	// of each of the two nights.
	if want := 5 + 2 + 3 + 1 + 2; len(lastInStream) != want {
		t.Errorf("%d streams, want %d: %v", len(lastInStream), want, lastInStream)
	}
}

func TestGenerateStops(t *testing.T) {
	n := 0
	stop := io.ErrShortWrite
	_, err := Generate(oneDay, func(LogEvent) error {
		n++
		if n == 1000 {
			return stop
		}
		return nil
	})
	if err != stop || n != 1000 {
		t.Errorf("err = %v after %d events, want the emit error after 1000", err, n)
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, o := range []Options{{Days: -1}, {Days: 61}, {Scale: -1}} {
		if _, err := Generate(o, func(LogEvent) error { return nil }); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
}

func TestFlowFile(t *testing.T) {
	var b bytes.Buffer
	if err := FlowFile(Options{Seed: 3}, &b, 5000); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 5001 {
		t.Fatalf("%d lines", len(lines))
	}
	if lines[0] != strings.Join(FlowFields(), " ") {
		t.Errorf("header %q", lines[0])
	}
	for _, l := range lines[1:] {
		if n := len(strings.Fields(l)); n != 39 {
			t.Fatalf("%d fields: %s", n, l)
		}
	}
}

func BenchmarkFlowFile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := FlowFile(Options{}, io.Discard, 100000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateDay(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(Options{Days: 1}, func(LogEvent) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
func TestScaleGrows(t *testing.T) {
	count := func(scale float64) int {
		n := 0
		if _, err := Generate(Options{Days: 1, Scale: scale}, func(e LogEvent) error {
			if Function(e.Group) == "flowlogs" {
				n++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	one, four := count(1), count(4)
	t.Logf("flow records: scale 1 %d, scale 4 %d", one, four)
	if four < 2*one {
		t.Errorf("scale 4 gave %d flow records, scale 1 %d", four, one)
	}
}
