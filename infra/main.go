// Command infra is the tidewatch CDK app that cdk.json runs: it reads the
// configuration from CDK context, checks the Lambda binaries are built and
// synthesizes the Tidewatch stack. Everything else lives in infra/stack.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/tidewatch/tidewatch/infra/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props, err := stack.PropsFromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return err
	}
	if props.AssetDir == "" {
		props.AssetDir = stack.DefaultAssetDir
	}
	if props.AssetDir, err = filepath.Abs(props.AssetDir); err != nil {
		return fmt.Errorf("asset dir: %w", err)
	}
	if err := stack.CheckAssets(props.AssetDir); err != nil {
		return err
	}
	name, err := stack.String(app.Node().TryGetContext(jsii.String("stackName")))
	if err != nil {
		return fmt.Errorf("context stackName: %w", err)
	}
	if name == "" {
		name = "Tidewatch"
	}
	// No Env: the stack is environment-agnostic, so synth needs no
	// credentials and deploy targets the CLI's account and AWS_REGION.
	stack.NewTidewatchStack(app, name, props)
	app.Synth(nil)
	return nil
}
