package cwlogs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzSeeds are the samples plus the edge cases of the unit tests.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte(`{"messageType":"DATA_MESSAGE","log\u0047roup":"g\/h","logEvents":[{"\u0069d":"\u0031","message":"a\"b\\c\/d\b\f\n\r\t \u00e9 \ud83d\ude00 \ud800 \udc00x"}]}`),
		[]byte(`{"messageType":"DATA_MESSAGE","policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","message":"a","extractedFields":{"@aws.account":"1","x":null}},{"timestamp":-1}]}`),
		[]byte(`{"x":[1,-2.5e+3,true,false,null,"s",{}],"messageType":null,"logEvents":null}`),
		batchJSON(3),
	}
	for _, name := range samples {
		seeds = append(seeds, readTestdata(f, name))
	}
	return seeds
}

// checkError fails unless err is nil or an *EnvelopeError.
func checkError(t *testing.T, err error) {
	t.Helper()
	var env *EnvelopeError
	if err != nil && !errors.As(err, &env) {
		t.Fatalf("error %T %v is not an *EnvelopeError", err, err)
	}
}

func validUTF8(b *Batch) bool {
	ok := utf8.ValidString(b.MessageType) && utf8.ValidString(b.Owner) && utf8.ValidString(b.LogGroup) &&
		utf8.ValidString(b.LogStream) && utf8.ValidString(b.PolicyLevel)
	for _, s := range b.SubscriptionFilters {
		ok = ok && utf8.ValidString(s)
	}
	for _, e := range b.LogEvents {
		ok = ok && utf8.ValidString(e.ID) && utf8.Valid(e.Message)
		for k, v := range e.ExtractedFields {
			ok = ok && utf8.ValidString(k) && utf8.ValidString(v)
		}
	}
	return ok
}

// FuzzUnmarshal checks that the scanner never panics, accepts only valid
// JSON, and that what it reads survives a round trip through encoding/json.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, js []byte) {
		b, err := d.Unmarshal(js)
		checkError(t, err)
		if err != nil {
			return
		}
		if !json.Valid(js) {
			t.Fatalf("accepted invalid JSON %q", js)
		}
		if !validUTF8(b) {
			return // encoding/json would replace the bad bytes
		}
		want := toView(b)
		again, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := Unmarshal(again)
		if err != nil {
			t.Fatalf("round trip of %q: %v", again, err)
		}
		if diff := cmp.Diff(want, toView(b2), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzUnescape compares string unescaping with encoding/json's.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`plain`, `a\"b\\c\/d\b\f\n\r\t`, `\u00e9\u20ac\ud83d\ude00`, `\ud800`, `\udc00x`, `\ud800\u0041`, `\ud800\ud800\udc00`, `\u12`, `\x`, "\x01", `é`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // encoding/json replaces invalid bytes; we keep them
		}
		lit := []byte(`"` + s + `"`)
		var want string
		wantErr := json.Unmarshal(lit, &want)
		sc := scanner{buf: lit}
		raw, esc, err := sc.str()
		got := string(raw)
		if err == nil && sc.pos != len(lit) {
			err = errTrailing
		}
		if err == nil && esc {
			var b []byte
			b, err = appendUnescaped(nil, raw)
			got = string(b)
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, encoding/json error %v", lit, err, wantErr)
		}
		if err == nil && got != want {
			t.Fatalf("%q: got %q, encoding/json %q", lit, got, want)
		}
	})
}

// FuzzDecodeData feeds arbitrary base64 (and so arbitrary gzip) bytes.
func FuzzDecodeData(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		b64 := base64.StdEncoding.EncodeToString(gzipBytes(f, s))
		f.Add([]byte(b64))
		f.Add([]byte(b64[:len(b64)/2]))
	}
	d := Decoder{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, b64 []byte) {
		_, err := d.DecodeData(b64)
		checkError(t, err)
	})
}

// FuzzDecodeGzip feeds arbitrary gzip bytes.
func FuzzDecodeGzip(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		gz := gzipBytes(f, s)
		f.Add(gz)
		f.Add(gz[:len(gz)-4])
	}
	d := Decoder{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, gz []byte) {
		b, err := d.DecodeGzip(gz)
		checkError(t, err)
		if err == nil && len(d.raw) > d.MaxSize {
			t.Fatalf("decoded %d bytes past the %d limit into %+v", len(d.raw), d.MaxSize, b)
		}
	})
}

// FuzzDecodeEvent feeds arbitrary Lambda events.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(lambdaEvent(f, s))
	}
	f.Add([]byte(`{"awslogs":{"data":"H4s\/"}}`))
	f.Add([]byte(`{"awslogs":null}`))
	d := Decoder{MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, ev []byte) {
		_, err := d.DecodeEvent(ev)
		checkError(t, err)
	})
}
