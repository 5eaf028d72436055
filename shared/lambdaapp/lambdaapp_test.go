package lambdaapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tidewatch/tidewatch/shared/config"
	"github.com/tidewatch/tidewatch/shared/pipeline"
	"github.com/tidewatch/tidewatch/shared/store"
)

// control is the message CloudWatch Logs sends when it tests a
// subscription's destination.
const control = `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"",` +
	`"subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination"}]}`

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newTestHandler(t *testing.T) *Handler {
	t.Helper()
	cfg := config.Default()
	var opts pipeline.Options
	if err := opts.Configure(&cfg); err != nil {
		t.Fatal(err)
	}
	opts.Store = store.NewMemory()
	opts.Publisher = discard{}
	return &Handler{kind: pipeline.KindAudit, opts: opts, log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func TestHandle(t *testing.T) {
	t.Parallel()
	awslogs, err := json.Marshal(map[string]any{"awslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(gz(t, control))}})
	if err != nil {
		t.Fatal(err)
	}
	kinesis := func(records ...string) []byte {
		var rs []map[string]any
		for _, r := range records {
			rs = append(rs, map[string]any{"eventID": "shardId-0:1", "kinesis": json.RawMessage(r)})
		}
		b, err := json.Marshal(map[string]any{"Records": rs})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := `{"data":"` + base64.StdEncoding.EncodeToString(gz(t, control)) + `"}`
	tests := map[string]struct {
		payload []byte
		wantErr string // "" for success
	}{
		"awslogs":                   {payload: awslogs},
		"kinesis":                   {payload: kinesis(good, good)},
		"kinesis record no data":    {payload: kinesis(good, `{}`), wantErr: "record 1: "},
		"kinesis record null data":  {payload: kinesis(`{"data":null}`, good), wantErr: "record 0: "},
		"kinesis record empty data": {payload: kinesis(`{"data":""}`), wantErr: "record 0: "},
		"awslogs bad base64":        {payload: []byte(`{"awslogs":{"data":"H4sIAAAA-not-base64"}}`), wantErr: "record 0: "},
		"neither":                   {payload: []byte(`{"something":"else"}`), wantErr: "neither a CloudWatch Logs nor a Kinesis event"},
		"not JSON":                  {payload: []byte(`{`), wantErr: "invocation payload: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := newTestHandler(t).Handle(context.Background(), tc.payload)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Handle: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Handle error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
