// Command flowlogs is the tidewatch Lambda function subscribed to the
// VPC Flow Logs log groups.
package main

import (
	"fmt"
	"os"

	"github.com/tidewatch/tidewatch/shared/lambdaapp"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

func main() {
	if err := lambdaapp.Main(pipeline.KindFlow); err != nil {
		fmt.Fprintln(os.Stderr, "flowlogs:", err)
		os.Exit(1)
	}
}
