package main

import (
	"context"
	"fmt"
	"io"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tidewatch/tidewatch/shared/store"
)

const tableExamples = `  tidewatch table create tidewatch
  AWS_ENDPOINT_URL=http://127.0.0.1:8000 tidewatch table create tidewatch   # DynamoDB Local
`

func tableCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("table", "tidewatch table create NAME", tableExamples, stderr)
	create := len(args) > 0 && args[0] == "create"
	if create {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !create || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("table: want 'create NAME'")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("table: AWS configuration: %w", err)
	}
	name := fs.Arg(0)
	if err := store.CreateTable(ctx, dynamodb.NewFromConfig(cfg), name); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	fmt.Fprintf(stdout, "table %s is ready\n", name)
	return nil
}
