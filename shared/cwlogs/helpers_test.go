package cwlogs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	goldenfile "github.com/tidewatch/tidewatch/shared/golden"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// view is a Batch in a form encoding/json writes and reads the way
// CloudWatch Logs does (messages as strings), for golden files and for
// round trips.
type view struct {
	MessageType         string      `json:"messageType"`
	Owner               string      `json:"owner"`
	LogGroup            string      `json:"logGroup"`
	LogStream           string      `json:"logStream"`
	SubscriptionFilters []string    `json:"subscriptionFilters"`
	PolicyLevel         string      `json:"policyLevel,omitempty"`
	LogEvents           []viewEvent `json:"logEvents"`
}

type viewEvent struct {
	ID              string            `json:"id"`
	Timestamp       int64             `json:"timestamp"`
	Message         string            `json:"message"`
	ExtractedFields map[string]string `json:"extractedFields,omitempty"`
}

func toView(b *Batch) view {
	v := view{
		MessageType: b.MessageType, Owner: b.Owner, LogGroup: b.LogGroup, LogStream: b.LogStream,
		SubscriptionFilters: append([]string{}, b.SubscriptionFilters...),
		PolicyLevel:         b.PolicyLevel,
		LogEvents:           []viewEvent{},
	}
	for _, e := range b.LogEvents {
		v.LogEvents = append(v.LogEvents, viewEvent{e.ID, e.Timestamp, string(e.Message), e.ExtractedFields})
	}
	return v
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lambdaEvent wraps a decoded envelope the way the Lambda service delivers
// it: {"awslogs":{"data":"<base64(gzip(JSON))>"}}.
func lambdaEvent(t testing.TB, js []byte) []byte {
	t.Helper()
	ev := map[string]map[string]string{"awslogs": {"data": base64.StdEncoding.EncodeToString(gzipBytes(t, js))}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name (see package golden).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}
