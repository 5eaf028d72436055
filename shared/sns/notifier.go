package sns

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tidewatch/tidewatch/shared/backoff"
	"github.com/tidewatch/tidewatch/shared/finding"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

// API is the part of the SNS client that Notifier uses; *sns.Client
// satisfies it.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ pipeline.Notifier = (*Notifier)(nil)

// Notifier publishes one message per finding to an SNS topic. It is safe
// for concurrent use.
type Notifier struct {
	api    API
	topic  string
	region string
	retry  backoff.Policy
}

// Option tunes a Notifier.
type Option func(*Notifier)

// WithRetry bounds the Notifier's own retries of throttled or failed
// publishes: at most attempts tries per finding, sleeping a random
// duration up to base·2ⁿ, capped at max. Defaults: 5 attempts, 100 ms, 3 s.
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(n *Notifier) { n.retry = n.retry.With(attempts, base, max) }
}

// New returns a Notifier publishing to topicARN. region is the Security
// Hub region the console links point to when a finding names none.
func New(api API, topicARN, region string, opts ...Option) *Notifier {
	n := &Notifier{api: api, topic: topicARN, region: region,
		retry: backoff.Policy{Attempts: 5, Base: 100 * time.Millisecond, Max: 3 * time.Second}}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Notify implements pipeline.Notifier: one Publish per finding, in order,
// each retried with backoff while SNS throttles or fails. When some
// findings could not be sent, the error is a *pipeline.PartialError naming
// them; the others were sent.
func (n *Notifier) Notify(ctx context.Context, findings []finding.Finding) error {
	var failed, reasons []string
	for i := range findings {
		f := &findings[i]
		if err := n.publish(ctx, f); err != nil {
			failed = append(failed, f.ID)
			reasons = append(reasons, err.Error())
			if ctx.Err() != nil {
				for _, rest := range findings[i+1:] {
					failed = append(failed, rest.ID)
				}
				break
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &pipeline.PartialError{
		Failed: failed,
		Err:    fmt.Errorf("sns: %d of %d notifications not sent (%s): %s", len(failed), len(findings), strings.Join(failed, ", "), strings.Join(reasons, "; ")),
	}
}

func (n *Notifier) publish(ctx context.Context, f *finding.Finding) error {
	subject, message, err := Build(f, n.region)
	if err != nil {
		return err
	}
	in := &sns.PublishInput{
		TopicArn:         aws.String(n.topic),
		Subject:          aws.String(subject),
		Message:          aws.String(message),
		MessageStructure: aws.String("json"),
	}
	tries, err := n.retry.Do(ctx, retryable, func() error {
		_, err := n.api.Publish(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("sns: publish %s (after %d attempts): %w", f.ID, tries, err)
	}
	return nil
}

// retryable reports throttling and server-side failures.
func retryable(err error) bool {
	return backoff.Transient(err, "Throttled", "Throttling", "ThrottlingException", "ThrottledException", "KMSThrottlingException",
		"InternalError", "InternalErrorException", "InternalFailure", "ServiceUnavailable")
}
