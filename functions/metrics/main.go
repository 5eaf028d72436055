// Command metrics is the tidewatch Lambda function subscribed to the
// Container Insights performance log groups.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tidewatch/tidewatch/shared/lambdaapp"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

func run() error {
	h, err := lambdaapp.New(context.Background(), pipeline.KindInsights, os.LookupEnv)
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
