package securityhub_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/google/go-cmp/cmp"

	sh "github.com/tidewatch/tidewatch/shared/securityhub"
)

// motoClient returns a Security Hub client of moto_server at
// TIDEWATCH_MOTO_ENDPOINT, skipping the test when it is unset (failing it
// under CI=true).
func motoClient(t *testing.T) *securityhub.Client {
	t.Helper()
	endpoint := os.Getenv("TIDEWATCH_MOTO_ENDPOINT")
	if endpoint == "" {
		const msg = "moto not reachable: set TIDEWATCH_MOTO_ENDPOINT (make test starts moto_server; or test/servers/moto.sh start)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return securityhub.New(securityhub.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

func TestMotoImport(t *testing.T) {
	client := motoClient(t)
	ctx := context.Background()
	fs := findings(3)
	for i := range fs {
		// moto's default account; a finding must belong to the caller.
		fs[i].AwsAccountID = "123456789012"
		fs[i].ID += "/" + t.Name()
	}
	if err := sh.New(client).Publish(ctx, fs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	// moto ignores GetFindings filters, so read everything and match ids.
	stored := map[string]types.AwsSecurityFinding{}
	p := securityhub.NewGetFindingsPaginator(client, &securityhub.GetFindingsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("GetFindings: %v", err)
		}
		for _, f := range out.Findings {
			stored[aws.ToString(f.Id)] = f
		}
	}
	for _, want := range fs {
		got, ok := stored[want.ID]
		if !ok {
			t.Errorf("finding %s not stored", want.ID)
			continue
		}
		sent := sh.Convert(&want)
		if diff := cmp.Diff(asMap(t, sent), asMap(t, got)); diff != "" {
			t.Errorf("finding read back (-sent +stored):\n%s", diff)
		}
	}
}
