package k8saudit

import (
	"encoding/json"
	"errors"
	goldenfile "github.com/tidewatch/tidewatch/shared/golden"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testFiles returns every sample and constructed input.
func testFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"falco", "constructed"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("found %d test files, want the 47 Falco samples and the constructed ones", len(files))
	}
	return files
}

// summary is what the golden files record for one input: what Parse
// returned and what every helper makes of each event.
type summary struct {
	Error     string          `json:"error,omitempty"`
	Truncated *TruncatedError `json:"truncated,omitempty"`
	Events    []eventSummary  `json:"events"`
}

type eventSummary struct {
	Kind       string          `json:"kind,omitempty"`
	APIVersion string          `json:"apiVersion,omitempty"`
	Level      string          `json:"level"`
	AuditID    string          `json:"auditID"`
	Stage      string          `json:"stage"`
	Verb       string          `json:"verb"`
	User       string          `json:"user"`
	ObjectRef  ObjectReference `json:"objectRef"`
	Code       int             `json:"code,omitempty"`
	Time       string          `json:"time"`
	Decision   string          `json:"decision,omitempty"`
	RequestLen int             `json:"requestObjectBytes,omitempty"`
	Exec       *Exec           `json:"exec,omitempty"`
	ExecCmd    []string        `json:"execCommand,omitempty"`
	PodIPs     []netip.Addr    `json:"podIPs,omitempty"`
	Workload   *Object         `json:"workload,omitempty"`
	Images     []Image         `json:"images,omitempty"`
}

func summarize(evs []Event, err error) summary {
	s := summary{Events: []eventSummary{}}
	if err != nil {
		s.Error = err.Error()
		errors.As(err, &s.Truncated)
	}
	for i := range evs {
		e := &evs[i]
		es := eventSummary{Kind: e.Kind, APIVersion: e.APIVersion, Level: e.Level, AuditID: e.AuditID, Stage: e.Stage, Verb: e.Verb,
			User: e.User.Username, ObjectRef: e.ObjectRef, Time: e.Time().Format("2006-01-02T15:04:05.999999Z07:00"),
			Decision: e.Decision(), RequestLen: len(e.RequestObject)}
		if e.ResponseStatus != nil {
			es.Code = e.ResponseStatus.Code
		}
		if x, ok := e.Exec(); ok {
			es.Exec = &x
			es.ExecCmd, _ = e.ExecCommand()
		}
		if _, _, ips, ok := e.PodIPs(); ok {
			es.PodIPs = ips
		}
		if o, ok := e.Workload(); ok {
			es.Workload = o
			for _, c := range o.Pod.AllContainers() {
				es.Images = append(es.Images, ParseImage(c.Image))
			}
		}
		s.Events = append(s.Events, es)
	}
	return s
}

// TestParseGolden parses every Falco sample and constructed event and
// compares what each helper returns with testdata/golden.
func TestParseGolden(t *testing.T) {
	for _, f := range testFiles(t) {
		name := filepath.Base(filepath.Dir(f)) + "_" + strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(summarize(Parse(b)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			goldenfile.Check(t, filepath.Join("testdata", "golden", name+".golden.json"), got)
		})
	}
}

// TestParseSamples pins down, file by file, the outcome the rules depend
// on, independently of the golden files.
func TestParseSamples(t *testing.T) {
	tests := []struct {
		file    string
		events  int
		errIs   error
		auditID string // of the first event
		verb    string
		res     string
		sub     string
		code    int
	}{
		{file: "falco/exec_pod.json", events: 1, auditID: "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6", verb: "create", res: "pods", sub: "exec", code: 101},
		{file: "falco/attach_pod.json", events: 1, auditID: "14933b4e-7b09-4964-af09-b7987367e1ba", verb: "create", res: "pods", sub: "attach", code: 101},
		{file: "falco/create_nginx_pod_privileged.json", events: 1, verb: "create", res: "pods", code: 201, auditID: "a362d22b-db3c-4590-9505-23782f12925f"},
		{file: "falco/create_deployment.json", events: 1, verb: "create", res: "deployments", code: 201, auditID: "c5be68f4-80b8-4159-adc4-76ddb195334e"},
		{file: "falco/create_configmap_sensitive_values.json", events: 6, verb: "create", res: "configmaps", code: 201, auditID: "9a2bb12c-b9f7-4d34-809c-671e8c7e1e06"},
		{file: "falco/create_nginx_pod_unsensitive_mount.json", events: 1, verb: "get", res: "pods", code: 200, auditID: "8ae98948-66b2-4963-9b99-e2b7e2f499f1"},
		{file: "falco/fal_01_003.json", errIs: ErrNotEvent},
		{file: "constructed/eventlist.json", events: 2, verb: "list", res: "pods", code: 200, auditID: "9f1e0000-0000-4000-8000-000000000020"},
		{file: "constructed/exec_websocket_flood.json", events: 2, verb: "get", res: "pods", sub: "exec", code: 101, auditID: "0b6c3e4a-1f2d-4c5e-9a7b-000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := Parse(b)
			if tt.errIs != nil {
				if !errors.Is(err, tt.errIs) || len(evs) != 0 {
					t.Fatalf("Parse = %d events, %v; want 0, %v", len(evs), err, tt.errIs)
				}
				return
			}
			if err != nil || len(evs) != tt.events {
				t.Fatalf("Parse = %d events, %v; want %d, nil", len(evs), err, tt.events)
			}
			e := evs[0]
			got := []any{e.AuditID, e.Verb, e.ObjectRef.Resource, e.ObjectRef.Subresource, e.ResponseStatus.Code}
			want := []any{tt.auditID, tt.verb, tt.res, tt.sub, tt.code}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("first event (-want +got):\n%s", diff)
			}
			if e.Time().IsZero() {
				t.Error("Time() is zero")
			}
		})
	}
}

// deepInArray is an event in a top-level array nested one level deeper
// than encoding/json allows, counting the array.
var deepInArray = `[{"auditID":"x","requestObject":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}]`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		errIs     error
		truncated *TruncatedError
		events    int
	}{
		{name: "kind number (Falco fal_01_003)", in: `{"kind": 0}`, errIs: ErrNotEvent},
		{name: "empty object", in: `{}`, errIs: ErrNotEvent},
		{name: "other kind", in: `{"kind":"Pod","apiVersion":"v1","metadata":{}}`, errIs: ErrNotEvent},
		{name: "other apiVersion", in: `{"kind":"Event","apiVersion":"v1","auditID":"x"}`, errIs: ErrNotEvent},
		{name: "verb not a string", in: `{"auditID":"x","verb":["get"]}`, errIs: ErrNotEvent},
		{name: "code not integer", in: `{"auditID":"x","responseStatus":{"code":1.5}}`, errIs: ErrNotEvent},
		{name: "bad time", in: `{"auditID":"x","stageTimestamp":"yesterday"}`, errIs: ErrNotEvent},
		{name: "top-level string", in: `"Event"`, errIs: ErrNotEvent},
		{name: "syntax in skipped object", in: `{"auditID":"x","requestObject":{"a":[1,2,}]}}`, errIs: ErrSyntax},
		{name: "mismatched bracket", in: `{"auditID":"x","requestObject":{"a":[1,2}}}`, errIs: ErrSyntax},
		{name: "trailing garbage", in: `{"auditID":"x"} nope`, errIs: ErrSyntax, events: 1},
		{name: "control char in string", in: "{\"auditID\":\"a\tb\"}", errIs: ErrSyntax},
		{name: "bad escape", in: `{"auditID":"a\qb"}`, errIs: ErrSyntax},
		{name: "cut without marker", in: `{"auditID":"abc","verb":"create","requestObject":{"spec":{"containers":[{"image":"ngi`,
			truncated: &TruncatedError{AuditID: "abc", Offset: 85}},
		{name: "CloudWatch marker mid-string", in: `{"kind":"Event","auditID":"abc-1","requestObject":{"spec":{"image":"ngi[Truncated...]`,
			truncated: &TruncatedError{AuditID: "abc-1", Offset: 85, Marker: true}},
		{name: "CloudWatch marker after comma", in: `{"kind":"Event","requestObject":{"a":1},"auditID":"abc-2","spec":[Truncated...]`,
			truncated: &TruncatedError{AuditID: "abc-2", Offset: 66, Marker: true}},
		{name: "marker before auditID", in: `{"kind":"Event","requestObject":{"a":"b[Truncated...]`,
			truncated: &TruncatedError{Offset: 53, Marker: true}},
		{name: "truncated item of a list", in: `{"kind":"EventList","items":[{"auditID":"i1"},{"auditID":"i2","verb":"cre`,
			truncated: &TruncatedError{AuditID: "i2", Offset: 73}},
		{name: "deep nesting", in: `{"auditID":"x","requestObject":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, errIs: ErrSyntax},
		// The array counts as a level, as encoding/json counts it.
		{name: "deep nesting in a top-level array", in: deepInArray, errIs: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := Parse([]byte(tt.in))
			if len(evs) != tt.events {
				t.Errorf("got %d events, want %d", len(evs), tt.events)
			}
			if tt.truncated != nil {
				var te *TruncatedError
				if !errors.As(err, &te) {
					t.Fatalf("err = %v, want *TruncatedError", err)
				}
				if diff := cmp.Diff(tt.truncated, te); diff != "" {
					t.Errorf("TruncatedError (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tt.errIs) {
				t.Fatalf("err = %v, want %v", err, tt.errIs)
			}
			if json.Valid([]byte(tt.in)) == errors.Is(err, ErrSyntax) {
				t.Errorf("json.Valid = %v but err = %v", json.Valid([]byte(tt.in)), err)
			}
		})
	}
}

func TestParseTruncatedSample(t *testing.T) {
	b, err := os.ReadFile("testdata/constructed/truncated_pod_create.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(b)
	var te *TruncatedError
	if !errors.As(err, &te) || te.AuditID != "7a7a7a7a-0000-4000-8000-000000000050" || !te.Marker {
		t.Fatalf("Parse error = %#v, want a *TruncatedError with the auditID and the marker", err)
	}
}

func TestParseForms(t *testing.T) {
	one := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","verb":"get","requestURI":"/api","user":{"username":"u\u00e9\ud83d\ude00","groups":null,"extra":{"arn":["x"]}},"impersonatedUser":{"username":"bob"},"annotations":{"k":"v"},"responseStatus":{"code":2e2}}`
	tests := []struct {
		name string
		in   string
		ids  []string
	}{
		{name: "event", in: one, ids: []string{"a1"}},
		{name: "v1beta1 without kind", in: `{"auditID":"b1","timestamp":"2018-10-26T13:38:34Z","metadata":{"creationTimestamp":"2018-10-26T13:38:34Z"}}`, ids: []string{"b1"}},
		{name: "verb and URI only", in: `{"verb":"get","requestURI":"/healthz"}`, ids: []string{""}},
		{name: "event list", in: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + one + `,{"auditID":"a2"}]}`, ids: []string{"a1", "a2"}},
		{name: "empty list", in: `{"kind":"EventList","items":[]}`},
		{name: "array", in: `[` + one + `, {"auditID":"a3"}]`, ids: []string{"a1", "a3"}},
		{name: "JSON lines", in: one + "\n" + `{"auditID":"a4"}` + "\n\n", ids: []string{"a1", "a4"}},
		{name: "nulls", in: `{"auditID":"n","user":null,"objectRef":null,"requestObject":null,"responseStatus":null,"annotations":null,"sourceIPs":null}`, ids: []string{"n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range evs {
				ids = append(ids, e.AuditID)
			}
			if diff := cmp.Diff(tt.ids, ids); diff != "" {
				t.Errorf("auditIDs (-want +got):\n%s", diff)
			}
		})
	}
	evs, err := Parse([]byte(one))
	if err != nil {
		t.Fatal(err)
	}
	if e := evs[0]; e.User.Username != "ué😀" || e.ImpersonatedUser.Username != "bob" || e.ResponseStatus.Code != 200 || e.User.Extra["arn"][0] != "x" || e.Annotations["k"] != "v" {
		t.Errorf("decoded %+v", e)
	}
}

// TestParseMatchesEncodingJSON checks the scanner against encoding/json on
// the fields both decode.
func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, f := range testFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := Parse(b)
		if err != nil {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatalf("%s: encoding/json: %v", f, err)
			}
			var want Event
			var meta struct {
				Metadata struct {
					CreationTimestamp time.Time `json:"creationTimestamp"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s: encoding/json: %v", f, err)
			}
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatalf("%s: encoding/json: %v", f, err)
			}
			want.CreationTimestamp = meta.Metadata.CreationTimestamp
			if want.Kind == "EventList" {
				break
			}
			got := evs[i]
			for _, raw := range []*json.RawMessage{&want.RequestObject, &want.ResponseObject} {
				if string(*raw) == "null" {
					*raw = nil
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s event %d (-encoding/json +Parse):\n%s", f, i, diff)
			}
		}
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	b, err := os.ReadFile("testdata/falco/create_nginx_pod_privileged.json")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(evs)
	for i := range b {
		b[i] = 'x'
	}
	after, _ := json.Marshal(evs)
	if string(before) != string(after) {
		t.Error("events changed when the input buffer was overwritten")
	}
}
