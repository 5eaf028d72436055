package rules

import (
	"testing"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// BenchmarkEvaluate runs a warmed-up engine over a mix of exec calls, pod
// and controller creates and reads.
func BenchmarkEvaluate(b *testing.B) {
	e := NewEngine(Config{}, nil)
	st := history(b, e)
	var evs []k8saudit.Event
	for _, f := range []string{
		"falco/exec_pod.json", "falco/create_nginx_pod_privileged.json", "falco/create_deployment.json",
		"falco/create_nginx_pod_unsensitive_mount.json", "falco/create_service.json",
		"constructed/exec_websocket_flood.json", "constructed/pod_create_ecr.json",
		"constructed/deployment_xmrig.json", "constructed/argocd_daemonset_privileged.json",
	} {
		evs = append(evs, load(b, f)...)
	}
	b.ReportAllocs()
	for b.Loop() {
		// A fresh call set each round, so that exec calls are judged.
		st.Calls = nil
		e.EvaluateAll(evs, "prod", st)
	}
}
