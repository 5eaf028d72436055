package k8saudit

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// load parses one testdata file that must parse cleanly.
func load(t testing.TB, name string) []Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return evs
}

func TestTime(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{"stage", `{"auditID":"a","stageTimestamp":"2024-01-02T03:04:05.123456Z","requestReceivedTimestamp":"2024-01-02T03:04:04Z"}`, ts("2024-01-02T03:04:05.123456Z")},
		{"received", `{"auditID":"a","requestReceivedTimestamp":"2024-01-02T03:04:04Z","timestamp":"2024-01-02T03:00:00Z"}`, ts("2024-01-02T03:04:04Z")},
		{"v1beta1 timestamp", `{"auditID":"a","timestamp":"2024-01-02T03:00:00Z"}`, ts("2024-01-02T03:00:00Z")},
		{"offset form", `{"auditID":"a","stageTimestamp":"2024-01-02T05:04:05.5+02:00"}`, ts("2024-01-02T03:04:05.5Z")},
		{"none", `{"auditID":"a"}`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := evs[0].Time(); !got.Equal(tt.want) {
				t.Errorf("Time() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExec(t *testing.T) {
	tests := []struct {
		file string
		want Exec
		cmd  []string
	}{
		{"falco/exec_pod.json", Exec{Subresource: "exec", Namespace: "default", Pod: "nginx-deployment-7998647bdf-phvq7", Container: "nginx1", Command: []string{"bash"}, TTY: true, Stdin: true}, []string{"bash"}},
		{"falco/attach_pod.json", Exec{Subresource: "attach", Namespace: "default", Pod: "nginx-deployment-7998647bdf-phvq7", Container: "nginx1", Stdin: true}, nil},
		{"constructed/exec_websocket_flood.json", Exec{Subresource: "exec", Namespace: "shop", Pod: "cart-7d9f8b6c5-x2x9q", Container: "cart",
			Command: []string{"sh", "-c", "while true; do curl -s http://x; done"}, TTY: true, Stdin: true}, []string{"sh", "-c", "while true; do curl -s http://x; done"}},
		{"constructed/portforward.json", Exec{Subresource: "portforward", Namespace: "shop", Pod: "cart-7d9f8b6c5-x2x9q", Ports: []string{"5432"}}, []string{"5432"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e := load(t, tt.file)[0]
			got, ok := e.Exec()
			if !ok {
				t.Fatal("Exec() not ok")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Exec() (-want +got):\n%s", diff)
			}
			cmd, container := e.ExecCommand()
			if diff := cmp.Diff(tt.cmd, cmd); diff != "" || container != tt.want.Container {
				t.Errorf("ExecCommand() = %q, %q; want %q, %q", cmd, container, tt.cmd, tt.want.Container)
			}
		})
	}
	t.Run("not exec", func(t *testing.T) {
		e := load(t, "falco/create_deployment.json")[0]
		if _, ok := e.Exec(); ok {
			t.Error("Exec() ok for a deployment create")
		}
		if cmd, c := e.ExecCommand(); cmd != nil || c != "" {
			t.Errorf("ExecCommand() = %q, %q", cmd, c)
		}
	})
	t.Run("bad escapes kept", func(t *testing.T) {
		e := Event{ObjectRef: ObjectReference{Resource: "pods", Subresource: "exec"}, RequestURI: "/x?command=a%zz&command=b%20c&command=d+e&container=&container=k"}
		cmd, c := e.ExecCommand()
		if diff := cmp.Diff([]string{"a%zz", "b c", "d e"}, cmd); diff != "" || c != "k" {
			t.Errorf("ExecCommand() = %q, %q", cmd, c)
		}
	})
}

func TestPodIPs(t *testing.T) {
	tests := []struct {
		file   string
		ok     bool
		ns     string
		pod    string
		ips    []netip.Addr
		reason string
	}{
		{file: "constructed/pod_status_patch.json", ok: true, ns: "shop", pod: "cart-7d9f8b6c5-x2x9q", ips: []netip.Addr{netip.MustParseAddr("10.0.1.23")}},
		{file: "constructed/ephemeral_debug_privileged.json", reason: "not a status write or pod write"},
		{file: "falco/create_nginx_pod_privileged.json", reason: "create response has no IP yet"},
		{file: "falco/exec_pod.json", reason: "exec"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ns, pod, ips, ok := load(t, tt.file)[0].PodIPs()
			if ok != tt.ok || ns != tt.ns || pod != tt.pod || !cmp.Equal(ips, tt.ips, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
				t.Errorf("PodIPs() = %q, %q, %v, %v; want %q, %q, %v, %v (%s)", ns, pod, ips, ok, tt.ns, tt.pod, tt.ips, tt.ok, tt.reason)
			}
		})
	}
	patch := func(body string, code int) Event {
		return Event{Verb: "patch", ObjectRef: ObjectReference{Resource: "pods", Namespace: "n", Name: "p", Subresource: "status"},
			RequestObject: []byte(body), ResponseStatus: &Status{Code: code}}
	}
	t.Run("dual stack deduplicated", func(t *testing.T) {
		e := patch(`{"status":{"podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.1"},{"ip":"2600:1f18::1"}]}}`, 200)
		_, _, ips, ok := e.PodIPs()
		if !ok || len(ips) != 2 || ips[1] != netip.MustParseAddr("2600:1f18::1") {
			t.Errorf("PodIPs() = %v, %v", ips, ok)
		}
	})
	t.Run("refused patch", func(t *testing.T) {
		e := patch(`{"status":{"podIP":"10.0.0.1"}}`, 409)
		if _, _, _, ok := e.PodIPs(); ok {
			t.Error("PodIPs() ok for a 409")
		}
	})
	t.Run("host network response", func(t *testing.T) {
		e := patch(`{"status":{}}`, 200)
		e.ResponseObject = []byte(`{"spec":{"hostNetwork":true},"status":{"podIP":"10.0.0.9"}}`)
		if _, _, _, ok := e.PodIPs(); ok {
			t.Error("PodIPs() ok for a host-network pod")
		}
	})
	t.Run("pod update response", func(t *testing.T) {
		e := Event{Verb: "update", ObjectRef: ObjectReference{Resource: "pods", Namespace: "n", Name: "p"},
			ResponseObject: []byte(`{"metadata":{"name":"p","namespace":"n"},"status":{"podIP":"10.0.0.7"}}`)}
		if _, pod, ips, ok := e.PodIPs(); !ok || pod != "p" || len(ips) != 1 {
			t.Errorf("PodIPs() = %q %v %v", pod, ips, ok)
		}
	})
	t.Run("garbage body", func(t *testing.T) {
		e := patch(`{"status":{"podIP":42}}`, 200)
		if _, _, _, ok := e.PodIPs(); ok {
			t.Error("PodIPs() ok for a bad body")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestWorkload(t *testing.T) {
	token := Volume{Name: "default-token-g2sp7"}
	tests := []struct {
		file string
		want *Object
	}{
		{file: "falco/create_nginx_pod_privileged_2nd_container.json", want: &Object{
			Kind: "Pod", Namespace: "default", Name: "nginx-deployment-544b59f8b8-ffkxm",
			Labels:          map[string]string{"app": "nginx", "pod-template-hash": "1006159464"},
			OwnerReferences: []workload.Owner{{Kind: "ReplicaSet", Name: "nginx-deployment-544b59f8b8"}},
			Pod: PodSpec{Volumes: []Volume{token}, ServiceAccountName: "default", Containers: []Container{
				{Name: "nginx1", Image: "nginx", Privileged: ptr(false)},
				{Name: "mysql", Image: "mysql:latest", Privileged: ptr(true)},
			}},
		}},
		{file: "falco/create_nginx_pod_sensitive_mount.json", want: &Object{
			Kind: "Pod", Namespace: "default", Name: "nginx-deployment-7d5b5dd9cf-t8ngb",
			Labels:          map[string]string{"app": "nginx", "pod-template-hash": "3816188579"},
			OwnerReferences: []workload.Owner{{Kind: "ReplicaSet", Name: "nginx-deployment-7d5b5dd9cf"}},
			Pod: PodSpec{Volumes: []Volume{{Name: "etc", HostPath: "/etc"}, token}, ServiceAccountName: "default", Containers: []Container{
				{Name: "nginx", Image: "nginx"},
			}},
		}},
		{file: "falco/create_deployment.json", want: &Object{
			Kind: "Deployment", Namespace: "default", Name: "nginx-deployment",
			Labels: map[string]string{"app": "demo", "name": "nginx-deployment"},
			Pod:    PodSpec{Containers: []Container{{Name: "nginx1", Image: "nginx"}}},
		}},
		{file: "constructed/cronjob_hostpid.json", want: &Object{
			Kind: "CronJob", Namespace: "ops", Name: "node-inventory", Labels: map[string]string{"app": "node-inventory"},
			Pod: PodSpec{HostPID: true, Containers: []Container{{Name: "inv", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/ops/inventory:1.4", Command: []string{"/bin/inventory"}}}},
		}},
		{file: "constructed/ephemeral_debug_privileged.json", want: &Object{
			Kind: "Pod", Namespace: "shop", Name: "cart-7d9f8b6c5-x2x9q", Labels: map[string]string{"app": "cart", "pod-template-hash": "7d9f8b6c5"},
			OwnerReferences: []workload.Owner{{Kind: "ReplicaSet", Name: "cart-7d9f8b6c5"}},
			Pod: PodSpec{
				Containers:          []Container{{Name: "cart", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/cart:2.3.1"}},
				EphemeralContainers: []Container{{Name: "debugger-8xk2p", Image: "docker.io/library/busybox:1.36", Privileged: ptr(true), Ephemeral: true}},
			},
		}},
		{file: "falco/exec_pod.json"},
		{file: "falco/create_service.json"},
		{file: "falco/delete_deployment.json"},
		{file: "falco/create_nginx_pod_unsensitive_mount.json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, ok := load(t, tt.file)[0].Workload()
			if ok != (tt.want != nil) {
				t.Fatalf("Workload() ok = %v, want %v", ok, tt.want != nil)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Workload() (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("controller owner first, pod runAsUser inherited", func(t *testing.T) {
		e := Event{Verb: "create", ObjectRef: ObjectReference{Resource: "pods", Namespace: "n"}, ResponseStatus: &Status{Code: 201},
			RequestObject: []byte(`{"metadata":{"generateName":"x-","ownerReferences":[{"kind":"Node","name":"n1"},{"kind":"DaemonSet","name":"ds","controller":true}]},
			"spec":{"securityContext":{"runAsUser":0},"containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":true,"capabilities":{"add":["NET_ADMIN"]}}},{"name":"d","securityContext":{"runAsUser":1000}}]}}`)}
		o, ok := e.Workload()
		if !ok {
			t.Fatal("not ok")
		}
		want := &Object{Kind: "Pod", Namespace: "n", Name: "x-", OwnerReferences: []workload.Owner{{Kind: "DaemonSet", Name: "ds"}, {Kind: "Node", Name: "n1"}},
			Pod: PodSpec{Containers: []Container{
				{Name: "c", AllowPrivilegeEscalation: ptr(true), RunAsUser: ptr(int64(0)), CapabilitiesAdd: []string{"NET_ADMIN"}},
				{Name: "d", RunAsUser: ptr(int64(1000))},
			}}}
		if diff := cmp.Diff(want, o); diff != "" {
			t.Errorf("Workload() (-want +got):\n%s", diff)
		}
	})
	t.Run("refused create", func(t *testing.T) {
		e := load(t, "falco/create_deployment.json")[0]
		e.ResponseStatus.Code = 422
		if _, ok := e.Workload(); ok {
			t.Error("Workload() ok for a refused create")
		}
	})
	t.Run("CRD named jobs", func(t *testing.T) {
		e := load(t, "falco/create_deployment.json")[0]
		e.ObjectRef.Resource, e.ObjectRef.APIGroup = "jobs", "example.com"
		if _, ok := e.Workload(); ok {
			t.Error("Workload() ok for a custom resource")
		}
	})
}

func TestParseImage(t *testing.T) {
	tests := []struct {
		in   string
		want Image
		str  string
	}{
		{"nginx", Image{Registry: "docker.io", Repository: "library/nginx"}, "docker.io/library/nginx"},
		{"mysql:latest", Image{Registry: "docker.io", Repository: "library/mysql", Tag: "latest"}, "docker.io/library/mysql:latest"},
		{"xmrig/xmrig:latest", Image{Registry: "docker.io", Repository: "xmrig/xmrig", Tag: "latest"}, "docker.io/xmrig/xmrig:latest"},
		{"docker.io/xmrig/xmrig:latest", Image{Registry: "docker.io", Repository: "xmrig/xmrig", Tag: "latest"}, "docker.io/xmrig/xmrig:latest"},
		{"docker.io/nginx", Image{Registry: "docker.io", Repository: "library/nginx"}, "docker.io/library/nginx"},
		{"index.docker.io/library/nginx:1.27", Image{Registry: "docker.io", Repository: "library/nginx", Tag: "1.27"}, "docker.io/library/nginx:1.27"},
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1", Image{Registry: "602401143452.dkr.ecr.us-west-2.amazonaws.com", Repository: "amazon-k8s-cni", Tag: "v1.18.3-eksbuild.1"}, ""},
		{"public.ecr.aws/eks-distro/kubernetes/pause:3.9", Image{Registry: "public.ecr.aws", Repository: "eks-distro/kubernetes/pause", Tag: "3.9"}, ""},
		{"localhost/app", Image{Registry: "localhost", Repository: "app"}, ""},
		{"localhost:5000/app:v1", Image{Registry: "localhost:5000", Repository: "app", Tag: "v1"}, ""},
		{"registry:5000/team/app@sha256:abcd", Image{Registry: "registry:5000", Repository: "team/app", Digest: "sha256:abcd"}, "registry:5000/team/app@sha256:abcd"},
		{"ghcr.io/org/app:v1@sha256:abcd", Image{Registry: "ghcr.io", Repository: "org/app", Tag: "v1", Digest: "sha256:abcd"}, ""},
		{"Quay.IO/org/app", Image{Registry: "quay.io", Repository: "org/app"}, ""},
		{"team/app", Image{Registry: "docker.io", Repository: "team/app"}, ""},
		{"", Image{Registry: "docker.io"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseImage(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseImage(%q) (-want +got):\n%s", tt.in, diff)
			}
			if tt.str != "" && got.String() != tt.str {
				t.Errorf("String() = %q, want %q", got.String(), tt.str)
			}
		})
	}
}
