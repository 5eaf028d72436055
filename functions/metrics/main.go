// Command metrics is the tidewatch Lambda function subscribed to the
// Container Insights performance log groups.
package main

import (
	"fmt"
	"os"

	"github.com/tidewatch/tidewatch/shared/lambdaapp"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

func main() {
	if err := lambdaapp.Main(pipeline.KindInsights); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}
