package k8saudit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// benchMix is a realistic mix of log messages, one event each: exec and
// attach calls, kubelet pods/status patches, large pod and controller
// creates with request and response objects, and get/list reads.
func benchMix(b *testing.B) [][]byte {
	b.Helper()
	files := []string{
		"falco/exec_pod.json",                           // exec, SPDY
		"constructed/exec_websocket_flood.json",         // exec, WebSocket, two stages
		"falco/attach_pod.json",                         // attach
		"constructed/pod_status_patch.json",             // kubelet status patch
		"constructed/pod_status_patch.json",             // (status patches are frequent)
		"falco/create_nginx_pod_privileged.json",        // pod create, RequestResponse
		"falco/create_nginx_pod_sensitive_mount.json",   // pod create, RequestResponse
		"constructed/pod_create_ecr.json",               // pod create, EKS shape
		"falco/create_deployment.json",                  // controller create
		"constructed/cronjob_hostpid.json",              // controller create
		"falco/create_nginx_pod_unsensitive_mount.json", // kubelet get with response
		"constructed/eventlist.json",                    // list and get
		"falco/create_configmap_sensitive_values.json",  // configmap creates
		"falco/delete_deployment.json",
	}
	var msgs [][]byte
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, bytes.Split(bytes.TrimSpace(data), []byte("\n"))...)
	}
	return msgs
}

func benchSize(msgs [][]byte) int64 {
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	return n
}

// BenchmarkParseGenericMap is the baseline: encoding/json into a generic
// map, on the same messages as BenchmarkParse.
func BenchmarkParseGenericMap(b *testing.B) {
	msgs := benchMix(b)
	b.SetBytes(benchSize(msgs))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			var v map[string]any
			if err := json.Unmarshal(m, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseTypedStruct is encoding/json into Event, for reference:
// its RawMessage fields are still scanned and copied.
func BenchmarkParseTypedStruct(b *testing.B) {
	msgs := benchMix(b)
	b.SetBytes(benchSize(msgs))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			var v Event
			if err := json.Unmarshal(m, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParse is the package's scanner on the same messages.
func BenchmarkParse(b *testing.B) {
	msgs := benchMix(b)
	b.SetBytes(benchSize(msgs))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := Parse(m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWorkload measures the lazy decode of a pod create.
func BenchmarkWorkload(b *testing.B) {
	data, err := os.ReadFile("testdata/falco/create_nginx_pod_privileged.json")
	if err != nil {
		b.Fatal(err)
	}
	evs, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := evs[0].Workload(); !ok {
			b.Fatal("no workload")
		}
	}
}

// BenchmarkExecCommand measures decoding an exec command from its URI.
func BenchmarkExecCommand(b *testing.B) {
	data, err := os.ReadFile("testdata/constructed/exec_websocket_flood.json")
	if err != nil {
		b.Fatal(err)
	}
	evs, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if cmd, _ := evs[0].ExecCommand(); len(cmd) != 3 {
			b.Fatal(cmd)
		}
	}
}

// BenchmarkParseImage measures image reference parsing.
func BenchmarkParseImage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = ParseImage("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1")
	}
}
