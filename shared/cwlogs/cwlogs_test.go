package cwlogs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var samples = []string{"valid_vpc_flow_cw.json", "valid_cloudwatch_log_control.json", "extracted_fields_both.json"}

func TestUnmarshalSamples(t *testing.T) {
	tests := []struct {
		file        string
		want        view
		wantControl bool
	}{
		{
			file: "valid_vpc_flow_cw.json",
			want: view{
				MessageType: "DATA_MESSAGE", Owner: "123456789010", LogGroup: "/aws/vpc/flowlogs",
				LogStream: "eni-1235b8ca123456789", SubscriptionFilters: []string{"MyFlowLogSubscription"},
				LogEvents: []viewEvent{
					{ID: "eventId1", Timestamp: 1418530010000, Message: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"},
					{ID: "eventId2", Timestamp: 1418530010000, Message: "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"},
				},
			},
		},
		{
			file: "valid_cloudwatch_log_control.json",
			want: view{
				MessageType: "CONTROL_MESSAGE", Owner: "CloudwatchLogs", LogGroup: "log_group_name",
				LogStream: "log_stream_name", SubscriptionFilters: []string{"subscription_filter_name"},
				LogEvents: []viewEvent{
					{ID: "", Timestamp: 1763029869851, Message: "CWL CONTROL MESSAGE: Checking health of destination Firehose."},
				},
			},
			wantControl: true,
		},
		{
			file: "extracted_fields_both.json",
			want: view{
				MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "test-log-group",
				LogStream: "test-log-stream", SubscriptionFilters: []string{"test-filter"},
				LogEvents: []viewEvent{{
					ID: "38480917865042697267627490045603633139480491071049695232", Timestamp: 1725544035523,
					Message:         "Hello world, here is our first log message!",
					ExtractedFields: map[string]string{"@aws.account": "999888777666", "@aws.region": "us-west-2"},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			js := readTestdata(t, tt.file)
			b, err := Unmarshal(js)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, toView(b)); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
			if b.IsControl() != tt.wantControl {
				t.Errorf("IsControl() = %v, want %v", b.IsControl(), tt.wantControl)
			}
		})
	}
}

// Every way in must give the same batch as the decoded JSON.
func TestDecodePaths(t *testing.T) {
	var d Decoder // one Decoder across all, to check reuse too
	for _, file := range samples {
		t.Run(file, func(t *testing.T) {
			js := readTestdata(t, file)
			want, err := Unmarshal(js)
			if err != nil {
				t.Fatal(err)
			}
			gz := gzipBytes(t, js)
			b64 := base64.StdEncoding.EncodeToString(gz)
			escaped := `{"awslogs":{"data":"` + strings.ReplaceAll(b64, "/", `\/`) + `"}}`
			paths := map[string]func() (*Batch, error){
				"DecodeEvent":         func() (*Batch, error) { return d.DecodeEvent(lambdaEvent(t, js)) },
				"DecodeEvent escaped": func() (*Batch, error) { return d.DecodeEvent([]byte(escaped)) },
				"DecodeEvent extra keys": func() (*Batch, error) {
					return d.DecodeEvent([]byte(`{"x":[1,{"a":null}], "awslogs" : { "y":true, "data":"` + b64 + `"}}`))
				},
				"DecodeData":               func() (*Batch, error) { return d.DecodeData([]byte(b64)) },
				"DecodeData with newline":  func() (*Batch, error) { return d.DecodeData([]byte(b64 + "\n")) },
				"DecodeGzip":               func() (*Batch, error) { return d.DecodeGzip(gz) },
				"Decoder.Unmarshal":        func() (*Batch, error) { return d.Unmarshal(js) },
				"package DecodeEvent":      func() (*Batch, error) { return DecodeEvent(lambdaEvent(t, js)) },
				"package DecodeData":       func() (*Batch, error) { return DecodeData([]byte(b64)) },
				"package DecodeGzip":       func() (*Batch, error) { return DecodeGzip(gz) },
				"multistream concatenated": func() (*Batch, error) { return d.DecodeGzip(append(gzipBytes(t, js[:10]), gzipBytes(t, js[10:])...)) },
			}
			for name, decode := range paths {
				got, err := decode()
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if diff := cmp.Diff(toView(want), toView(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestGolden(t *testing.T) {
	for _, file := range samples {
		t.Run(file, func(t *testing.T) {
			b, err := DecodeEvent(lambdaEvent(t, readTestdata(t, file)))
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.MarshalIndent(toView(b), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(file, ".json")+".golden", append(out, '\n'))
		})
	}
}

func TestUnmarshalCases(t *testing.T) {
	tests := []struct {
		name string
		js   string
		want view
	}{
		{
			name: "any key order, whitespace, unknown keys of every kind",
			js: " \r\n\t{ \"logEvents\" : [ { \"message\" : \"m\" , \"unknown\": {\"a\":[1,-2.5e+3,true,false,null,\"s\\n\",{}]}, \"timestamp\" : 5, \"id\" : \"1\" } ] ," +
				"\"x\":[], \"y\":{}, \"z\":0, \"logStream\":\"s\", \"owner\":\"o\", \"subscriptionFilters\":[\"a\",\"b\"], \"logGroup\":\"g\", \"messageType\":\"DATA_MESSAGE\" } \n",
			want: view{MessageType: "DATA_MESSAGE", Owner: "o", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{"a", "b"},
				LogEvents: []viewEvent{{ID: "1", Timestamp: 5, Message: "m"}}},
		},
		{
			name: "policyLevel",
			js:   `{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[]}`,
			want: view{MessageType: "DATA_MESSAGE", LogGroup: "g", LogStream: "s", PolicyLevel: PolicyLevelAccount, LogEvents: []viewEvent{}},
		},
		{
			name: "escapes in message, ids and keys",
			js:   `{"messageType":"DATA_MESSAGE","log\u0047roup":"g\/h","logEvents":[{"\u0069d":"\u0031","message":"a\"b\\c\/d\b\f\n\r\t \u00e9 \u20ac \ud83d\ude00 \ud800 \udc00x \ud800\u0041"}]}`,
			want: view{MessageType: "DATA_MESSAGE", LogGroup: "g/h",
				LogEvents: []viewEvent{{ID: "1", Message: "a\"b\\c/d\b\f\n\r\t é € 😀 \uFFFD \uFFFDx \uFFFDA"}}},
		},
		{
			name: "extractedFields on some events, null values dropped",
			js: `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"a","extractedFields":{"@aws.account":"1","@aws.region":"r"}},` +
				`{"id":"2","message":"b"},{"id":"3","message":"c","extractedFields":{"@source.log":"g:s","x":null}},{"id":"4","message":"d","extractedFields":null},{"id":"5","message":"e","extractedFields":{}}]}`,
			want: view{MessageType: "DATA_MESSAGE", LogEvents: []viewEvent{
				{ID: "1", Message: "a", ExtractedFields: map[string]string{"@aws.account": "1", "@aws.region": "r"}},
				{ID: "2", Message: "b"},
				{ID: "3", Message: "c", ExtractedFields: map[string]string{"@source.log": "g:s"}},
				{ID: "4", Message: "d"},
				{ID: "5", Message: "e"},
			}},
		},
		{
			name: "nulls read as empty",
			js:   `{"messageType":"DATA_MESSAGE","owner":null,"subscriptionFilters":null,"logEvents":[{"id":null,"timestamp":null,"message":null}]}`,
			want: view{MessageType: "DATA_MESSAGE", LogEvents: []viewEvent{{}}},
		},
		{
			name: "null logEvents",
			js:   `{"messageType":"CONTROL_MESSAGE","logEvents":null}`,
			want: view{MessageType: "CONTROL_MESSAGE", LogEvents: []viewEvent{}},
		},
		{
			name: "repeated keys: the last wins",
			js:   `{"messageType":"X","messageType":"DATA_MESSAGE","logEvents":[{"message":"a\n","message":"b"}],"logEvents":[{"message":"c","message":"d\n"}]}`,
			want: view{MessageType: "DATA_MESSAGE", LogEvents: []viewEvent{{Message: "d\n"}}},
		},
		{
			name: "negative and extreme timestamps",
			js:   `{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":-1},{"timestamp":9223372036854775807},{"timestamp":-9223372036854775808},{"timestamp":0}]}`,
			want: view{MessageType: "DATA_MESSAGE", LogEvents: []viewEvent{{Timestamp: -1}, {Timestamp: 1<<63 - 1}, {Timestamp: -1 << 63}, {}}},
		},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func([]byte) (*Batch, error){Unmarshal, d.Unmarshal} {
				b, err := decode([]byte(tt.js))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, toView(b), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("batch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// A message without escapes is a sub-slice of the input: no copy.
func TestMessageAliasesInput(t *testing.T) {
	js := []byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"plain"}]}`)
	b, err := Unmarshal(js)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(js, []byte("plain"))
	if &b.LogEvents[0].Message[0] != &js[i] {
		t.Error("message was copied, want a sub-slice of the input")
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		js      string
		wantErr string // the whole Error()
	}{
		{"empty", ``, `cwlogs: at offset 0: malformed envelope: unexpected end of JSON`},
		{"not an object", `[]`, `cwlogs: at offset 0: malformed envelope: want an object`},
		{"missing messageType", `{"logGroup":"g"}`, `cwlogs: log group "g" stream "": malformed envelope: missing messageType`},
		{"trailing data", `{"messageType":"DATA_MESSAGE"} x`, `cwlogs: at offset 31: malformed envelope: data after the top-level value`},
		{"truncated", `{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","mess`, `cwlogs: log group "g" stream "s": logEvents[0] at offset 89: malformed envelope: unexpected end of JSON`},
		{"bad timestamp type", `{"logGroup":"g","logStream":"s","logEvents":[{},{"timestamp":"1"}]}`, `cwlogs: log group "g" stream "s": logEvents[1].timestamp at offset 61: malformed envelope: want an integer`},
		{"fractional timestamp", `{"logEvents":[{"timestamp":1.5}]}`, `cwlogs: logEvents[0].timestamp at offset 27: malformed envelope: want an integer`},
		{"timestamp overflow", `{"logEvents":[{"timestamp":9223372036854775808}]}`, `cwlogs: logEvents[0].timestamp at offset 27: malformed envelope: integer out of range`},
		{"timestamp leading zero", `{"logEvents":[{"timestamp":01}]}`, `cwlogs: logEvents[0].timestamp at offset 27: malformed envelope: invalid number`},
		{"bad escape", `{"logStream":"s","logEvents":[{"message":"a\x"}]}`, `cwlogs: log group "" stream "s": logEvents[0].message at offset 46: malformed envelope: invalid escape in string`},
		{"short unicode escape", `{"logEvents":[{"message":"\u12"}]}`, `cwlogs: logEvents[0].message at offset 31: malformed envelope: invalid escape in string`},
		{"raw newline in string", "{\"logEvents\":[{\"message\":\"a\nb\"}]}", `cwlogs: logEvents[0].message at offset 27: malformed envelope: control character in string`},
		{"event not an object", `{"logEvents":["x"]}`, `cwlogs: logEvents[0] at offset 14: malformed envelope: want an object`},
		{"filters not strings", `{"subscriptionFilters":["a",1]}`, `cwlogs: subscriptionFilters[1] at offset 28: malformed envelope: want a string`},
		{"extracted field not a string", `{"logEvents":[{"extractedFields":{"a":1}}]}`, `cwlogs: logEvents[0].extractedFields at offset 38: malformed envelope: want a string`},
		{"missing colon", `{"messageType" "x"}`, `cwlogs: at offset 15: malformed envelope: want ':' after an object key`},
		{"missing comma", `{"messageType":"x" "owner":"y"}`, `cwlogs: at offset 19: malformed envelope: want ',' or the end of the object or array`},
		{"trailing comma", `{"messageType":"x",}`, `cwlogs: at offset 19: malformed envelope: want a string`},
		{"bad literal in unknown key", `{"x":nul}`, `cwlogs: at offset 5: malformed envelope: invalid value`},
		{"bad number in unknown key", `{"x":1.}`, `cwlogs: at offset 7: malformed envelope: invalid number`},
		{"bad escape in unknown key", `{"x":"\q"}`, `cwlogs: at offset 9: malformed envelope: invalid escape in string`},
		{"too deep", `{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, `cwlogs: at offset 517: malformed envelope: nesting too deep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Unmarshal([]byte(tt.js))
			if err == nil {
				t.Fatalf("got batch %+v, want an error", b)
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("error\n got %s\nwant %s", got, tt.wantErr)
			}
			var env *EnvelopeError
			if !errors.As(err, &env) || !errors.Is(err, ErrSyntax) {
				t.Errorf("error %T does not wrap *EnvelopeError and ErrSyntax", err)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	js := readTestdata(t, "valid_vpc_flow_cw.json")
	gz := gzipBytes(t, js)
	b64 := base64.StdEncoding.EncodeToString(gz)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-8] ^= 1
	badSize := bytes.Clone(gz)
	badSize[len(badSize)-4] ^= 1
	tests := []struct {
		name    string
		decode  func(d *Decoder) (*Batch, error)
		wantErr string
	}{
		{"event without awslogs", func(d *Decoder) (*Batch, error) { return d.DecodeEvent([]byte(`{"Records":[]}`)) }, `cwlogs: malformed envelope: missing awslogs.data`},
		{"event without data", func(d *Decoder) (*Batch, error) { return d.DecodeEvent([]byte(`{"awslogs":{}}`)) }, `cwlogs: malformed envelope: missing awslogs.data`},
		{"event data not a string", func(d *Decoder) (*Batch, error) { return d.DecodeEvent([]byte(`{"awslogs":{"data":1}}`)) }, `cwlogs: awslogs.data at offset 19: malformed envelope: want a string`},
		{"event truncated", func(d *Decoder) (*Batch, error) { return d.DecodeEvent([]byte(`{"awslogs":{"data":"H4sI`)) }, `cwlogs: awslogs.data at offset 24: malformed envelope: unexpected end of JSON`},
		{"truncated base64", func(d *Decoder) (*Batch, error) { return d.DecodeData([]byte(b64[:len(b64)-3])) }, `cwlogs: awslogs.data: base64: illegal base64 data at input byte ` + strconv.Itoa(len(b64)-4)},
		{"not base64", func(d *Decoder) (*Batch, error) { return d.DecodeData([]byte("{not base64}")) }, `cwlogs: awslogs.data: base64: illegal base64 data at input byte 0`},
		{"empty data", func(d *Decoder) (*Batch, error) { return d.DecodeData(nil) }, `cwlogs: gunzip: EOF`},
		{"not gzip", func(d *Decoder) (*Batch, error) { return d.DecodeGzip(js) }, `cwlogs: gunzip: gzip: invalid header`},
		{"truncated gzip", func(d *Decoder) (*Batch, error) { return d.DecodeGzip(gz[:len(gz)/2]) }, `cwlogs: gunzip: unexpected EOF`},
		{"gzip without trailer", func(d *Decoder) (*Batch, error) { return d.DecodeGzip(gz[:len(gz)-8]) }, `cwlogs: gunzip: unexpected EOF`},
		{"gzip bad crc", func(d *Decoder) (*Batch, error) { return d.DecodeGzip(badCRC) }, `cwlogs: gunzip: gzip: invalid checksum`},
		{"gzip bad size", func(d *Decoder) (*Batch, error) { return d.DecodeGzip(badSize) }, `cwlogs: gunzip: gzip: invalid checksum`},
		{"over MaxSize", func(d *Decoder) (*Batch, error) { d.MaxSize = len(js) - 1; return d.DecodeGzip(gz) }, `cwlogs: decompressed payload exceeds the size limit`},
		{"good JSON, bad envelope", func(d *Decoder) (*Batch, error) {
			return d.DecodeGzip(gzipBytes(t, []byte(`{"logGroup":"/aws/vpc","logStream":"eni-1","logEvents":[{"timestamp":"x"}]}`)))
		},
			`cwlogs: log group "/aws/vpc" stream "eni-1": logEvents[0].timestamp at offset 69: malformed envelope: want an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			b, err := tt.decode(&d)
			if err == nil {
				t.Fatalf("got batch %+v, want an error", b)
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("error\n got %s\nwant %s", got, tt.wantErr)
			}
			var env *EnvelopeError
			if !errors.As(err, &env) {
				t.Errorf("error %T is not an *EnvelopeError", err)
			}
			// The Decoder stays usable after any error.
			if _, err := d.DecodeData([]byte(b64)); err != nil && d.MaxSize == 0 {
				t.Errorf("decode after the error: %v", err)
			}
		})
	}
}

// A gzip bomb (a small payload that inflates past the limit) is an error
// found without inflating it all.
func TestGzipBomb(t *testing.T) {
	zeros := make([]byte, DefaultMaxSize+1)
	bomb := gzipBytes(t, zeros)
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes, want a small payload", len(bomb))
	}
	var d Decoder
	_, err := d.DecodeData([]byte(base64.StdEncoding.EncodeToString(bomb)))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	if cap(d.raw) > DefaultMaxSize+1 {
		t.Errorf("buffer grew to %d bytes, want at most the limit", cap(d.raw))
	}
}

// A reused Decoder forgets the previous batch entirely.
func TestDecoderReuse(t *testing.T) {
	var d Decoder
	first := `{"messageType":"DATA_MESSAGE","logGroup":"g1","policyLevel":"ACCOUNT_LEVEL_POLICY","subscriptionFilters":["a","b"],` +
		`"logEvents":[{"id":"1","message":"x\n","extractedFields":{"k":"v"}},{"id":"2","message":"y"}]}`
	second := `{"messageType":"DATA_MESSAGE","logGroup":"g2","logEvents":[{"id":"3","message":"z"}]}`
	if _, err := d.Unmarshal([]byte(first)); err != nil {
		t.Fatal(err)
	}
	b, err := d.Unmarshal([]byte(second))
	if err != nil {
		t.Fatal(err)
	}
	want := view{MessageType: "DATA_MESSAGE", LogGroup: "g2", LogEvents: []viewEvent{{ID: "3", Message: "z"}}}
	if diff := cmp.Diff(want, toView(b), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("second batch (-want +got):\n%s", diff)
	}
}

// batchJSON builds a DATA_MESSAGE of n flow-log-like events; every fourth
// message holds an escape and every tenth event extracted fields.
func batchJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/vpc/flow","logStream":"eni-0a1b2c3d4e5f60718-all","subscriptionFilters":["tidewatch"],"logEvents":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"3719543856289075634628918127361782361238921738217391`)
		b.WriteString(strconv.Itoa(i % 100))
		b.WriteString(`","timestamp":1700000000000,"message":"5 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.`)
		b.WriteString(strconv.Itoa(i % 250))
		if i%4 == 0 {
			b.WriteString(`\t`)
		}
		b.WriteString(` 10.0.2.7 443 51234 6 10 8400 1700000000 1700000060 ACCEPT OK"`)
		if i%10 == 0 {
			b.WriteString(`,"extractedFields":{"@aws.account":"123456789012","@aws.region":"us-east-1"}`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// Allocations are per batch: they do not grow with the number of events.
func TestAllocsPerBatch(t *testing.T) {
	allocs := func(n int) float64 {
		gz := gzipBytes(t, batchJSON(n))
		var d Decoder
		return testing.AllocsPerRun(20, func() {
			if _, err := d.DecodeGzip(gz); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(1000), allocs(10000)
	t.Logf("allocations per batch: %v for 1,000 events, %v for 10,000", small, large)
	if large > small+1 || large > 8 {
		t.Errorf("allocs per batch: %v for 1,000 events, %v for 10,000; want equal and small", small, large)
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	js := batchJSON(10000)
	var d Decoder
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Unmarshal(js); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	js := batchJSON(10000)
	ev := lambdaEvent(b, js)
	var d Decoder
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.DecodeEvent(ev); err != nil {
			b.Fatal(err)
		}
	}
}
