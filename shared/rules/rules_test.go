package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

const cluster = "prod"

func load(t testing.TB, name string) []k8saudit.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := k8saudit.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return evs
}

// got is the part of a signal the tables pin down.
type got struct {
	Detector string
	Severity signal.Severity
	Workload string
}

func summarize(sigs []signal.Signal) []got {
	var out []got
	for _, s := range sigs {
		out = append(out, got{s.Detector, s.Severity, s.Workload})
	}
	return out
}

// checkInvariants asserts what every signal must carry.
func checkInvariants(t *testing.T, sigs []signal.Signal) {
	t.Helper()
	for _, s := range sigs {
		if s.Count != 1 || s.First.IsZero() || !s.First.Equal(s.Last) || s.Title == "" || s.Description == "" || s.Technique == "" || s.Tactic == "" {
			t.Errorf("signal misses evidence: %+v", s)
		}
		if _, err := workload.Parse(s.Workload); err != nil {
			t.Errorf("bad workload: %v", err)
		}
		if len(s.Resources) == 0 || s.Resources[len(s.Resources)-1].Type != signal.ResourceEKSCluster {
			t.Errorf("signal %s lacks the cluster resource: %+v", s.Detector, s.Resources)
		}
		if s.Fields["user"] == "" {
			t.Errorf("signal %s lacks the user field", s.Detector)
		}
	}
}

// TestFalcoSamples runs every Falco sample through a fresh engine.
func TestFalcoSamples(t *testing.T) {
	want := map[string][]got{
		"exec_pod.json":                                  {{DetectorExec, signal.Medium, "eks/prod/default/Deployment/nginx-deployment"}},
		"attach_pod.json":                                {{DetectorExec, signal.Medium, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_privileged.json":               {{DetectorPrivileged, signal.High, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_privileged_2nd_container.json": {{DetectorPrivileged, signal.High, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json": {{DetectorPrivileged, signal.High, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_hostnetwork.json":                                      {{DetectorPrivileged, signal.Medium, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_sensitive_mount.json":                                  {{DetectorPrivileged, signal.High, "eks/prod/default/Deployment/nginx-deployment"}},
		"create_nginx_pod_sensitive_mount_2nd_container.json":                    {{DetectorPrivileged, signal.High, "eks/prod/default/Deployment/nginx-deployment"}},
	}
	files, err := filepath.Glob("testdata/falco/*.json")
	if err != nil || len(files) != 47 {
		t.Fatalf("found %d Falco samples (%v), want 47", len(files), err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := k8saudit.Parse(b)
			if name == "fal_01_003.json" {
				if err == nil {
					t.Fatal("malformed sample parsed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := NewEngine(Config{}, nil)
			sigs := e.EvaluateAll(evs, cluster, NewState())
			checkInvariants(t, sigs)
			if diff := cmp.Diff(want[name], summarize(sigs)); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFalcoEvidence(t *testing.T) {
	e := NewEngine(Config{}, nil)
	t.Run("exec", func(t *testing.T) {
		s := e.EvaluateAll(load(t, "falco/exec_pod.json"), cluster, NewState())[0]
		if s.Title != "exec into default/nginx-deployment-7998647bdf-phvq7 by minikube-user: bash" || s.Command != "bash" ||
			s.Fields["interactive"] != "true" || s.Fields["container"] != "nginx1" || s.Fields["sourceIP"] != "192.168.99.1" ||
			!s.First.Equal(time.Date(2018, 10, 26, 13, 38, 34, 867116000, time.UTC)) || s.Resources[0].Name != "nginx-deployment-7998647bdf-phvq7/nginx1" {
			t.Errorf("exec signal: %+v", s)
		}
	})
	t.Run("second container privileged", func(t *testing.T) {
		s := e.EvaluateAll(load(t, "falco/create_nginx_pod_privileged_2nd_container.json"), cluster, NewState())[0]
		if s.Fields["reasons"] != "container mysql is privileged" || len(s.Resources) != 2 || s.Resources[0].Name != "mysql" || !s.Resources[0].Privileged || s.Resources[0].Image != "mysql:latest" {
			t.Errorf("privileged signal: %+v", s)
		}
	})
	t.Run("sensitive mount", func(t *testing.T) {
		s := e.EvaluateAll(load(t, "falco/create_nginx_pod_sensitive_mount.json"), cluster, NewState())[0]
		if !strings.Contains(s.Fields["reasons"], "hostPath volume etc mounts /etc") {
			t.Errorf("reasons = %q", s.Fields["reasons"])
		}
	})
	t.Run("hostNetwork", func(t *testing.T) {
		s := e.EvaluateAll(load(t, "falco/create_nginx_pod_hostnetwork.json"), cluster, NewState())[0]
		if !strings.HasPrefix(s.Fields["reasons"], "hostNetwork") {
			t.Errorf("reasons = %q", s.Fields["reasons"])
		}
	})
}

// history returns a State warmed up on ECR-only pod creates.
func history(t testing.TB, e *Engine) *State {
	t.Helper()
	st := NewState()
	evs := load(t, "constructed/history_ecr_only.json")
	if len(evs) != 60 {
		t.Fatalf("history has %d events", len(evs))
	}
	if sigs := e.EvaluateAll(evs, cluster, st); len(sigs) != 0 {
		t.Fatalf("history raised %d signals: %+v", len(sigs), summarize(sigs))
	}
	if st.WarmingUp() {
		t.Fatalf("still warming up after the history: %+v", st)
	}
	return st
}

func TestConstructed(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		cfg      Config
		lookup   PodLookup
		history  bool
		want     []got
		title    string
		field    [2]string
		contains string // in Description
	}{
		{name: "WebSocket exec with a curl loop, both stages", file: "exec_websocket_flood.json",
			want:  []got{{DetectorExec, signal.High, "eks/prod/shop/Deployment/cart"}},
			title: "kubectl exec into shop/cart-7d9f8b6c5-x2x9q by alice: sh -c 'while true; do curl -s http://x; done'",
			field: [2]string{"patterns", "infinite loop; HTTP client in a loop"}, contains: "arn:aws:sts::111122223333:assumed-role/Developer/alice"},
		{name: "exec workload from the identity map", file: "exec_websocket_flood.json",
			lookup: func(c, ns, pod string) (string, bool) {
				return workload.EKS(c, ns, workload.KindStatefulSet, "cart"), true
			},
			want: []got{{DetectorExec, signal.High, "eks/prod/shop/StatefulSet/cart"}}},
		{name: "WebSocket interactive shell", file: "exec_websocket_shell.json",
			want: []got{{DetectorExec, signal.Medium, "eks/prod/shop/Deployment/cart"}}, field: [2]string{"interactive", "true"}, contains: "interactive exec session"},
		{name: "hping3 flood exec (SPDY)", file: "exec_hping3.json",
			want: []got{{DetectorExec, signal.High, "eks/prod/shop/Deployment/cart"}}, field: [2]string{"patterns", "packet generator (hping3)"}},
		{name: "exec in kube-system", file: "exec_kube_system.json",
			want: []got{{DetectorExec, signal.High, "eks/prod/kube-system/Deployment/coredns"}}, contains: "kube-system"},
		{name: "exec forbidden", file: "exec_forbidden.json",
			want: []got{{DetectorExecDenied, signal.Low, "eks/prod/shop/Deployment/cart"}}, title: "Denied kubectl exec into shop/cart-7d9f8b6c5-x2x9q by alice: sh"},
		{name: "kubectl run by a person", file: "kubectl_run_bare_pod.json",
			want: []got{{DetectorBarePod, signal.Medium, "eks/prod/default/Pod/debug-shell"}}, title: "Bare pod default/debug-shell created by alice: 111122223333.dkr.ecr.us-east-1.amazonaws.com/tools/netshoot:v0.13"},
		{name: "kubectl run by a trusted deployer", file: "kubectl_run_bare_pod.json", cfg: Config{TrustedDeployers: []string{"arn:aws:sts::111122223333:assumed-role/Developer/*"}}},
		{name: "xmrig after an ECR-only history", file: "deployment_xmrig.json", history: true,
			want:  []got{{DetectorUntrustedRegistry, signal.Medium, "eks/prod/shop/Deployment/metrics-helper"}},
			field: [2]string{"registry", "docker.io/xmrig"}, contains: "has created 60 workloads using 1 known registry, none of them this one"},
		{name: "xmrig from an allowlisted registry", file: "deployment_xmrig.json", history: true, cfg: Config{AllowedRegistries: []string{"docker.io/xmrig"}}},
		{name: "xmrig during warm-up", file: "deployment_xmrig.json"},
		{name: "Argo CD deploys a normal Deployment", file: "argocd_deployment_normal.json", history: true},
		{name: "Argo CD deploys a privileged DaemonSet", file: "argocd_daemonset_privileged.json", history: true,
			want:  []got{{DetectorPrivileged, signal.High, "eks/prod/monitoring/DaemonSet/node-agent"}},
			field: [2]string{"reasons", "hostNetwork (the node's network stack and address); hostPath volume docker mounts /var/run/docker.sock; container agent is privileged; container agent adds capability SYS_ADMIN"}},
		{name: "CronJob template with hostPID", file: "cronjob_hostpid.json",
			want: []got{{DetectorPrivileged, signal.High, "eks/prod/ops/CronJob/node-inventory"}}, field: [2]string{"reasons", "hostPID (sees and can signal every process on the node)"}},
		{name: "pod with a flood command", file: "pod_flood_command.json",
			want: []got{{DetectorUnexpectedContainer, signal.High, "eks/prod/default/Job/load"}}, field: [2]string{"container", "load"}},
		{name: "privileged ephemeral debug container", file: "ephemeral_debug_privileged.json",
			want: []got{{DetectorPrivileged, signal.High, "eks/prod/shop/Deployment/cart"}}, field: [2]string{"reasons", "ephemeral container debugger-8xk2p is privileged"}},
		{name: "ordinary controller pod", file: "pod_create_ecr.json", history: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(tt.cfg, tt.lookup)
			st := NewState()
			if tt.history {
				st = history(t, e)
			}
			sigs := e.EvaluateAll(load(t, "constructed/"+tt.file), cluster, st)
			checkInvariants(t, sigs)
			if diff := cmp.Diff(tt.want, summarize(sigs)); diff != "" {
				t.Fatalf("signals (-want +got):\n%s", diff)
			}
			if len(sigs) == 0 {
				return
			}
			s := sigs[0]
			if tt.title != "" && s.Title != tt.title {
				t.Errorf("Title = %q\nwant    %q", s.Title, tt.title)
			}
			if tt.field[0] != "" && s.Fields[tt.field[0]] != tt.field[1] {
				t.Errorf("Fields[%s] = %q, want %q", tt.field[0], s.Fields[tt.field[0]], tt.field[1])
			}
			if !strings.Contains(s.Description, tt.contains) {
				t.Errorf("Description lacks %q:\n%s", tt.contains, s.Description)
			}
		})
	}
}

func TestExecStages(t *testing.T) {
	evs := load(t, "constructed/exec_websocket_flood.json")
	e := NewEngine(Config{}, nil)
	t.Run("across batches with State", func(t *testing.T) {
		st := NewState()
		a := e.Evaluate(&evs[0], cluster, st)
		b := e.Evaluate(&evs[1], cluster, st)
		if len(a)+len(b) != 1 {
			t.Fatalf("got %d + %d signals, want 1", len(a), len(b))
		}
	})
	t.Run("either stage gives the same signal", func(t *testing.T) {
		a := e.Evaluate(&evs[0], cluster, nil)
		b := e.Evaluate(&evs[1], cluster, nil)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("got %d and %d signals", len(a), len(b))
		}
		// The stage and its status are the only differences.
		if diff := cmp.Diff(a[0], b[0]); diff != "" {
			t.Errorf("stages differ (-started +complete):\n%s", diff)
		}
	})
	t.Run("batch in reverse order picks ResponseStarted", func(t *testing.T) {
		rev := []k8saudit.Event{evs[1], evs[0]}
		sigs := e.EvaluateAll(rev, cluster, nil)
		if len(sigs) != 1 {
			t.Fatalf("got %d signals", len(sigs))
		}
	})
	t.Run("RequestReceived is ignored", func(t *testing.T) {
		ev := evs[0]
		ev.Stage, ev.ResponseStatus = k8saudit.StageRequestReceived, nil
		if sigs := e.Evaluate(&ev, cluster, nil); len(sigs) != 0 {
			t.Errorf("got %d signals", len(sigs))
		}
	})
	t.Run("pod not found is quiet", func(t *testing.T) {
		ev := evs[1]
		ev.ResponseStatus = &k8saudit.Status{Code: 404}
		if sigs := e.Evaluate(&ev, cluster, nil); len(sigs) != 0 {
			t.Errorf("got %d signals", len(sigs))
		}
	})
}

func TestControllerPodsAndUpdates(t *testing.T) {
	e := NewEngine(Config{}, nil)
	priv := load(t, "falco/create_nginx_pod_privileged.json")[0]
	t.Run("kube-system controller update of a template is not re-judged", func(t *testing.T) {
		ds := load(t, "constructed/argocd_daemonset_privileged.json")[0]
		ds.Verb = "update"
		ds.User = priv.User // system:serviceaccount:kube-system:replicaset-controller
		if sigs := e.Evaluate(&ds, cluster, NewState()); len(sigs) != 0 {
			t.Errorf("got %v", summarize(sigs))
		}
	})
	t.Run("a person's patch of a template is judged", func(t *testing.T) {
		ds := load(t, "constructed/argocd_daemonset_privileged.json")[0]
		ds.Verb = "patch"
		if sigs := e.Evaluate(&ds, cluster, NewState()); len(sigs) != 1 {
			t.Errorf("got %v", summarize(sigs))
		}
	})
	t.Run("pod update is not re-judged", func(t *testing.T) {
		p := priv
		p.Verb = "update"
		if sigs := e.Evaluate(&p, cluster, NewState()); len(sigs) != 0 {
			t.Errorf("got %v", summarize(sigs))
		}
	})
	t.Run("EKS add-on in kube-system is capped at LOW", func(t *testing.T) {
		ds := load(t, "constructed/argocd_daemonset_privileged.json")[0]
		o := strings.NewReplacer(`"namespace":"monitoring"`, `"namespace":"kube-system"`,
			"111122223333.dkr.ecr.us-east-1.amazonaws.com/ops/node-agent:0.9", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3")
		ds.RequestObject = []byte(o.Replace(string(ds.RequestObject)))
		ds.ResponseObject = []byte(o.Replace(string(ds.ResponseObject)))
		sigs := e.Evaluate(&ds, cluster, NewState())
		if len(sigs) != 1 || sigs[0].Severity != signal.Low || sigs[0].Workload != "eks/prod/kube-system/DaemonSet/node-agent" {
			t.Errorf("got %v", summarize(sigs))
		}
	})
}

func TestRegistryLearning(t *testing.T) {
	e := NewEngine(Config{}, nil)
	st := history(t, e)
	xm := load(t, "constructed/deployment_xmrig.json")[0]
	if sigs := e.Evaluate(&xm, cluster, st); len(sigs) != 1 {
		t.Fatalf("first sighting: %v", summarize(sigs))
	}
	// Still new an hour later: alerting goes on until PromoteAfter.
	later := xm
	later.StageTimestamp = xm.StageTimestamp.Add(time.Hour)
	if sigs := e.Evaluate(&later, cluster, st); len(sigs) != 1 {
		t.Fatalf("an hour later: %v", summarize(sigs))
	}
	later.StageTimestamp = xm.StageTimestamp.Add(DefaultPromoteAfter)
	if sigs := e.Evaluate(&later, cluster, st); len(sigs) != 0 {
		t.Fatalf("after PromoteAfter: %v", summarize(sigs))
	}
	if st.Registries["docker.io/xmrig"].Count != 3 {
		t.Errorf("registry entry: %+v", st.Registries["docker.io/xmrig"])
	}
	t.Run("nil State learns nothing and stays quiet", func(t *testing.T) {
		if sigs := e.Evaluate(&xm, cluster, nil); len(sigs) != 0 {
			t.Errorf("got %v", summarize(sigs))
		}
	})
	t.Run("learned bare-pod creator", func(t *testing.T) {
		st := NewState()
		run := load(t, "constructed/kubectl_run_bare_pod.json")[0]
		e2 := NewEngine(Config{WarmupCreates: 1, WarmupPeriod: time.Nanosecond}, nil)
		if sigs := e2.Evaluate(&run, cluster, st); len(sigs) != 1 {
			t.Fatalf("first bare pod: %v", summarize(sigs))
		}
		again := run
		again.StageTimestamp = run.StageTimestamp.Add(DefaultPromoteAfter + time.Hour)
		if sigs := e2.Evaluate(&again, cluster, st); len(sigs) != 0 {
			t.Errorf("bare pod by a user who has done it for a day: %v", summarize(sigs))
		}
	})
}

func TestStateJSON(t *testing.T) {
	e := NewEngine(Config{}, nil)
	st := history(t, e)
	e.EvaluateAll(load(t, "constructed/exec_websocket_flood.json"), cluster, st)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, &back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if len(b) > 4096 {
		t.Errorf("state is %d bytes after 60 creates", len(b))
	}
}

func TestStateBounds(t *testing.T) {
	m := map[string]Seen{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		observe(m, string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute), 5)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"f", "g", "h", "i", "j"}, keys); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	st := NewState()
	for i := range MaxCalls + 10 {
		st.rememberCall(string(rune(0x4e00+i)), t0.Add(time.Duration(i)*time.Second))
	}
	if len(st.Calls) > MaxCalls {
		t.Errorf("%d calls remembered", len(st.Calls))
	}
}

func TestSensitivity(t *testing.T) {
	evs := load(t, "constructed/exec_websocket_flood.json")
	tests := []struct {
		v    float64
		want []got
	}{
		{1, []got{{DetectorExec, signal.High, "eks/prod/shop/Deployment/cart"}}},
		{0.5, []got{{DetectorExec, signal.Medium, "eks/prod/shop/Deployment/cart"}}},
		{2, []got{{DetectorExec, signal.Critical, "eks/prod/shop/Deployment/cart"}}},
		{0, nil},
	}
	for _, tt := range tests {
		e := NewEngine(Config{Sensitivity: map[string]float64{DetectorExec: tt.v}}, nil)
		if diff := cmp.Diff(tt.want, summarize(e.EvaluateAll(evs, cluster, nil))); diff != "" {
			t.Errorf("sensitivity %v (-want +got):\n%s", tt.v, diff)
		}
	}
}
