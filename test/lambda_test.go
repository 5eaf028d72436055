package test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/store"
)

// endpoint returns a local server's endpoint from the environment that
// make test sets; without it the test skips, except under CI=true.
func endpoint(t *testing.T, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	msg := name + " is not set: run the tests with make test, which starts DynamoDB Local and moto"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runtimeAPI is a stand-in for the Lambda Runtime API: it hands out the
// queued events one by one and records each invocation's outcome.
type runtimeAPI struct {
	mu      sync.Mutex
	queue   [][]byte
	results map[string]string // request id → "ok" or the error body
	next    int
	done    chan struct{}
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
		r.mu.Lock()
		if r.next >= len(r.queue) {
			r.mu.Unlock()
			select { // no more work: hold the poll until the test ends
			case <-r.done:
			case <-req.Context().Done():
			}
			http.Error(w, "shutting down", http.StatusGone)
			return
		}
		id := fmt.Sprintf("req-%d", r.next)
		ev := r.queue[r.next]
		r.next++
		r.mu.Unlock()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+e2eRegion+":123456789012:function:tidewatch")
		w.Write(ev)
	case req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, "/2018-06-01/runtime/invocation/"):
		parts := strings.Split(req.URL.Path, "/")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		if parts[len(parts)-1] == "response" {
			r.results[parts[len(parts)-2]] = "ok"
		} else {
			r.results[parts[len(parts)-2]] = "error: " + string(body)
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// invoke runs a function binary over events and returns each
// invocation's outcome in order.
func invoke(t *testing.T, bin string, env []string, events [][]byte) []string {
	t.Helper()
	api := &runtimeAPI{queue: events, results: map[string]string{}, done: make(chan struct{})}
	srv := httptest.NewServer(api)
	defer srv.Close()
	cmd := exec.Command(bin)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(srv.URL, "http://"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		api.mu.Lock()
		n := len(api.results)
		api.mu.Unlock()
		if n == len(events) || time.Now().After(deadline) {
			break
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(api.done)
	cmd.Process.Kill()
	cmd.Wait()
	out := make([]string, len(events))
	for i := range events {
		r, ok := api.results[fmt.Sprintf("req-%d", i)]
		if !ok {
			t.Fatalf("invocation %d of %s got no answer; function output:\n%s", i, filepath.Base(bin), logs.String())
		}
		out[i] = r
	}
	t.Logf("%s output:\n%s", filepath.Base(bin), logs.String())
	return out
}

// deliveries returns the Lambda events of a file of events/ whose
// messages match re.
func deliveries(t *testing.T, path string, re *regexp.Regexp, max int) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 8<<20), 8<<20)
	var out [][]byte
	var dec cwlogs.Decoder
	for sc.Scan() && len(out) < max {
		b, err := dec.DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, ev := range b.LogEvents {
			if re.Match(ev.Message) {
				out = append(out, bytes.Clone(sc.Bytes()))
				break
			}
		}
	}
	return out
}

// TestLambdaEndToEnd builds the three functions, runs them against a
// Runtime API stand-in with the payloads of events/, writing to DynamoDB
// Local and moto, and reads back what they reported.
// e2eRegion is a region no other test uses: Security Hub findings are
// regional, and other packages' tests import the same sample findings into
// the same moto server at the same time.
const e2eRegion = "ap-southeast-2"

func TestLambdaEndToEnd(t *testing.T) {
	ddbURL := endpoint(t, "TIDEWATCH_DYNAMODB_ENDPOINT")
	motoURL := endpoint(t, "TIDEWATCH_MOTO_ENDPOINT")
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider("testing", "testing", "")

	table := "e2e-" + fmt.Sprint(time.Now().UnixNano())
	ddb := dynamodb.New(dynamodb.Options{Region: e2eRegion, BaseEndpoint: aws.String(ddbURL), Credentials: creds})
	if err := store.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})

	snsc := awssns.New(awssns.Options{Region: e2eRegion, BaseEndpoint: aws.String(motoURL), Credentials: creds})
	sqsc := sqs.New(sqs.Options{Region: e2eRegion, BaseEndpoint: aws.String(motoURL), Credentials: creds})
	hub := awssecurityhub.New(awssecurityhub.Options{Region: e2eRegion, BaseEndpoint: aws.String(motoURL), Credentials: creds})
	topic, err := snsc.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	qattr, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(qattr.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	for _, fn := range []string{"flowlogs", "audit", "metrics"} {
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, fn), "../functions/"+fn)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", fn, err, out)
		}
	}
	format, err := os.ReadFile("../events/flow-format.txt")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_REGION=" + e2eRegion, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + motoURL, "AWS_ENDPOINT_URL_DYNAMODB=" + ddbURL,
		"TIDEWATCH_TABLE=" + table, "TIDEWATCH_TOPIC_ARN=" + *topic.TopicArn, "TIDEWATCH_SECURITYHUB=true",
		"TIDEWATCH_FLOW_FORMAT=" + strings.TrimSpace(string(format)),
		"AWS_LAMBDA_FUNCTION_NAME=tidewatch", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
	}

	// The audit function: the exec of the attack day, the crypto-miner
	// pod, the same exec again (a redelivery), a CONTROL_MESSAGE and a
	// broken envelope.
	attacks := deliveries(t, "../events/audit/day4-attacks.jsonl", regexp.MustCompile(`mallory`), 4)
	if len(attacks) < 2 {
		t.Fatalf("found %d attack deliveries in events/audit", len(attacks))
	}
	control := []byte(`{"awslogs":{"data":"` + gzipB64(t, `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination"}]}`) + `"}}`)
	broken := []byte(`{"awslogs":{"data":"H4sIAAAA-not-base64"}}`)
	events := append(append([][]byte{}, attacks...), attacks[0], control, broken)
	results := invoke(t, filepath.Join(dir, "audit"), env, events)
	for i, r := range results[:len(results)-1] {
		if r != "ok" {
			t.Errorf("audit invocation %d: %s", i, r)
		}
	}
	if last := results[len(results)-1]; !strings.HasPrefix(last, "error") {
		t.Errorf("a broken envelope must fail its invocation so that it is retried; got %s", last)
	}

	// The flowlogs and metrics functions take their deliveries of the
	// first hour of history without error and keep state.
	flows := deliveries(t, "../events/flowlogs/day1.jsonl", regexp.MustCompile(`.`), 5)
	for i, r := range invoke(t, filepath.Join(dir, "flowlogs"), env, flows) {
		if r != "ok" {
			t.Errorf("flowlogs invocation %d: %s", i, r)
		}
	}
	metrics := deliveries(t, "../events/metrics/day1.jsonl", regexp.MustCompile(`.`), 3)
	for i, r := range invoke(t, filepath.Join(dir, "metrics"), env, metrics) {
		if r != "ok" {
			t.Errorf("metrics invocation %d: %s", i, r)
		}
	}
	// The flow function has not seen this table's pod identities (the
	// audit deliveries of day 1 were not fed), so its workloads are the
	// ENI fallbacks; each keeps its open windows and baseline.
	scan, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table),
		FilterExpression:          aws.String("begins_with(pk, :p)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "win#vpc/eni-"}}})
	if err != nil || scan.Count == 0 {
		t.Errorf("flowlogs kept no window state (%v)", err)
	}

	// Security Hub has the findings.
	got, err := hub.GetFindings(ctx, &awssecurityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	detectors := map[string]int{}
	for _, f := range got.Findings {
		detectors[f.ProductFields["tidewatch/detector"]+" "+f.ProductFields["tidewatch/workload"]]++
	}
	for _, want := range []string{
		"k8s-exec eks/prod/shop/Deployment/cart",
		"k8s-privileged eks/prod/default/Pod/debug-miner",
		"k8s-bare-pod eks/prod/default/Pod/debug-miner",
	} {
		if detectors[want] != 1 {
			t.Errorf("Security Hub holds %d findings %q, want 1; all: %v", detectors[want], want, detectors)
		}
	}

	// One notification per finding, none for the redelivery.
	notified := map[string]int{}
	for range 10 {
		msgs, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) == 0 {
			break
		}
		for _, m := range msgs.Messages {
			var env struct{ Message string }
			if err := json.Unmarshal([]byte(*m.Body), &env); err != nil {
				t.Fatal(err)
			}
			var f struct {
				ID string `json:"Id"`
			}
			if err := json.Unmarshal([]byte(env.Message), &f); err != nil {
				t.Fatalf("SQS message is not the finding JSON: %v\n%s", err, env.Message)
			}
			notified[f.ID]++
		}
	}
	if len(notified) == 0 {
		t.Error("no notification reached SQS")
	}
	for id, n := range notified {
		if n != 1 {
			t.Errorf("finding %s notified %d times", id, n)
		}
	}
}

func gzipB64(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}
