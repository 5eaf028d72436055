// Command audit is the tidewatch Lambda function subscribed to the
// EKS audit log groups.
package main

import (
	"fmt"
	"os"

	"github.com/tidewatch/tidewatch/shared/lambdaapp"
	"github.com/tidewatch/tidewatch/shared/pipeline"
)

func main() {
	if err := lambdaapp.Main(pipeline.KindAudit); err != nil {
		fmt.Fprintln(os.Stderr, "audit:", err)
		os.Exit(1)
	}
}
