package k8saudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, accepts only valid JSON, and
// that the helpers survive whatever it accepts.
func FuzzParse(f *testing.F) {
	for _, name := range testFiles(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind": 0}`))
	f.Add([]byte(`{"auditID":"a","requestObject":{"a":"b[Truncated...]`))
	f.Add([]byte(deepInArray))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := Parse(b)
		var te *TruncatedError
		if err == nil {
			if !validSequence(b) {
				t.Fatalf("Parse accepted invalid JSON %q", b)
			}
		} else if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrNotEvent) && !errors.As(err, &te) {
			t.Fatalf("error of unknown kind: %v", err)
		} else if errors.Is(err, ErrSyntax) && validSequence(b) {
			t.Fatalf("Parse called valid JSON invalid: %v", err)
		}
		for i := range evs {
			e := &evs[i]
			_ = e.Time()
			_, _ = e.ExecCommand()
			_, _, _, _ = e.PodIPs()
			if o, ok := e.Workload(); ok {
				for _, c := range o.Pod.AllContainers() {
					_ = ParseImage(c.Image).String()
				}
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}

// validSequence reports whether b is white-space separated valid JSON
// values.
func validSequence(b []byte) bool {
	dec := json.NewDecoder(bytesReader(b))
	for dec.More() {
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return false
		}
	}
	_, err := dec.Token()
	return err != nil && err.Error() == "EOF"
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
