package backoff

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestTransient(t *testing.T) {
	httpErr := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"listed code", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"server fault", &smithy.GenericAPIError{Code: "Whatever", Fault: smithy.FaultServer}, true},
		{"client error", &smithy.GenericAPIError{Code: "InvalidInputException", Fault: smithy.FaultClient}, false},
		{"429", httpErr(429), true},
		{"503", httpErr(503), true},
		{"400", httpErr(400), false},
		{"no response", errors.New("connection reset"), true},
		{"cancelled", context.Canceled, false},
		{"deadline", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := Transient(tt.err, "ThrottlingException"); got != tt.want {
			t.Errorf("%s: Transient = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSleepStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, 30, time.Hour, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
	if err := Sleep(context.Background(), 3, time.Nanosecond, time.Microsecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}

func TestWaitStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, d := range []time.Duration{0, time.Hour} {
		if err := Wait(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait(%v) on a cancelled context = %v", d, err)
		}
	}
	for _, d := range []time.Duration{-time.Second, 0, time.Microsecond} {
		if err := Wait(context.Background(), d); err != nil {
			t.Errorf("Wait(%v) = %v", d, err)
		}
	}
}

func TestPolicyDo(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException"}
	invalid := &smithy.GenericAPIError{Code: "InvalidInputException", Fault: smithy.FaultClient}
	retryable := func(err error) bool { return Transient(err, "ThrottlingException") }
	fast := Policy{Attempts: 3, Base: time.Microsecond, Max: time.Microsecond}
	tests := []struct {
		name      string
		policy    Policy
		errs      []error // what the calls return, in turn; nil after
		wantTries int
		wantErr   error
	}{
		{"first try", fast, nil, 1, nil},
		{"after throttling", fast, []error{throttled, throttled}, 3, nil},
		{"throttled past the attempts", fast, []error{throttled, throttled, throttled, throttled}, 3, throttled},
		{"not retryable", fast, []error{invalid, throttled}, 1, invalid},
		{"no attempts set: one try", Policy{}, []error{throttled}, 1, throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			tries, err := tt.policy.Do(context.Background(), retryable, func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if tries != tt.wantTries || calls != tt.wantTries || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Do = %d tries (%d calls), %v; want %d tries, %v", tries, calls, err, tt.wantTries, tt.wantErr)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	tries, err := Policy{Attempts: 5, Base: time.Hour, Max: time.Hour}.Do(ctx, retryable, func() error {
		cancel()
		return throttled
	})
	if tries != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("Do cancelled between tries = %d tries, %v; want 1, context.Canceled", tries, err)
	}
}

func TestPolicyWith(t *testing.T) {
	p := Policy{Attempts: 6, Base: time.Second, Max: time.Minute}
	if got := p.With(0, -1, 0); got != p {
		t.Errorf("With of nothing positive = %+v, want %+v", got, p)
	}
	want := Policy{Attempts: 2, Base: time.Millisecond, Max: time.Second}
	if got := p.With(2, time.Millisecond, time.Second); got != want {
		t.Errorf("With = %+v, want %+v", got, want)
	}
}
