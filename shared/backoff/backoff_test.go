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
