package insights

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkScan compares scanObject with encoding/json on a valid object.
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("fixture is not a JSON object: %v", err)
	}
	got := map[string]json.RawMessage{}
	for _, m := range scanObject(data, nil) {
		got[string(m.key)] = m.value
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scanObject(%s) mismatch (-json +scan):\n%s", data, diff)
	}
}

func TestScanObject(t *testing.T) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, "{\n\t\"a\" :\t\"x\" ,\r\n \"b\":[1, {\"c\": \"]}\"}] }",
		`{"k\"ey":"v\\","\u0054ype":"Pod","n":null,"t":true,"f":false,"e":-1.5e-3}`,
		`{"a":{"b":{"c":[[],{}]}},"d":"{[\"]}"}`,
		`{"a":1,"a":2}`,
	} {
		t.Run(s, func(t *testing.T) { checkScan(t, []byte(s)) })
	}
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) { checkScan(t, readFixture(t, name)) })
	}
}
