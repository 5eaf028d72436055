package securityhub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tidewatch/tidewatch/shared/finding"
	sh "github.com/tidewatch/tidewatch/shared/securityhub"
)

// TestFindingOf: reading back what Convert wrote gives the finding again.
func TestFindingOf(t *testing.T) {
	for i := range 3 {
		want := sample(i)
		sdk := sh.Convert(&want)
		got := sh.FindingOf(&sdk)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("sample %d read back (-sent +read):\n%s", i, diff)
		}
	}
}

// fakeFinder serves GetFindings from pages, after failing with errs.
type fakeFinder struct {
	pages [][]types.AwsSecurityFinding
	errs  []error
	calls []*securityhub.GetFindingsInput
}

func (f *fakeFinder) GetFindings(_ context.Context, in *securityhub.GetFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error) {
	cp := *in
	f.calls = append(f.calls, &cp)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	i := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "page-%d", &i)
	}
	out := &securityhub.GetFindingsOutput{Findings: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(fmt.Sprintf("page-%d", i+1))
	}
	return out, nil
}

func fastReader(r *sh.Reader) *sh.Reader {
	r.Retry.Base, r.Retry.Max = time.Millisecond, 2*time.Millisecond
	return r
}

func TestReadPagesAndFilters(t *testing.T) {
	at := func(i int, updated time.Time) types.AwsSecurityFinding {
		f := sample(i)
		f.UpdatedAt = finding.Timestamp(updated)
		return sh.Convert(&f)
	}
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	foreign := at(10, now)
	foreign.GeneratorId, foreign.ProductName = aws.String("guardduty/x"), aws.String("GuardDuty")
	archived := at(11, now)
	archived.RecordState = types.RecordStateArchived
	fake := &fakeFinder{pages: [][]types.AwsSecurityFinding{
		{at(1, now), foreign},
		{at(2, now.Add(-time.Hour)), archived},
		{at(3, now.Add(-48*time.Hour)), at(4, now.Add(-2*time.Minute))},
	}}
	q := sh.Query{UpdatedFrom: now.Add(-24 * time.Hour), UpdatedTo: now}
	got, err := fastReader(sh.NewReader(fake)).Read(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ProductFields[finding.FieldWorkload])
	}
	want := []string{"eks/prod/shop/Deployment/api-1", "eks/prod/shop/Deployment/api-2", "eks/prod/shop/Deployment/api-4"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("findings read (-want +got):\n%s", diff)
	}
	if len(fake.calls) != 3 || aws.ToString(fake.calls[2].NextToken) != "page-2" || aws.ToInt32(fake.calls[0].MaxResults) != 100 {
		t.Errorf("calls: %d, last token %q", len(fake.calls), aws.ToString(fake.calls[len(fake.calls)-1].NextToken))
	}
	fl := fake.calls[0].Filters
	wantFilters := &types.AwsSecurityFindingFilters{
		GeneratorId: []types.StringFilter{{Comparison: types.StringFilterComparisonPrefix, Value: aws.String("tidewatch/")}},
		ProductName: []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String("tidewatch")}},
		RecordState: []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String("ACTIVE")}},
		UpdatedAt:   []types.DateFilter{{Start: aws.String("2026-03-05T12:00:00.000Z"), End: aws.String("2026-03-06T12:00:00.000Z")}},
	}
	if diff := cmp.Diff(wantFilters, fl, cmpopts.IgnoreUnexported(types.AwsSecurityFindingFilters{}, types.StringFilter{}, types.DateFilter{})); diff != "" {
		t.Errorf("filters (-want +got):\n%s", diff)
	}
}

func TestReadRetries(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no", Fault: smithy.FaultClient}
	page := []types.AwsSecurityFinding{func() types.AwsSecurityFinding { f := sample(1); return sh.Convert(&f) }()}
	tests := []struct {
		name    string
		errs    []error
		calls   int
		wantErr string
	}{
		{"throttled twice", []error{throttled, throttled}, 3, ""},
		{"denied", []error{denied}, 1, "page 1: api error AccessDeniedException"},
		{"throttled past the attempts", []error{throttled, throttled, throttled, throttled}, 3, "ThrottlingException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeFinder{pages: [][]types.AwsSecurityFinding{page}, errs: tt.errs}
			r := fastReader(sh.NewReader(fake))
			r.Retry.Attempts = 3
			got, err := r.Read(context.Background(), sh.Query{})
			if len(fake.calls) != tt.calls {
				t.Errorf("%d calls, want %d", len(fake.calls), tt.calls)
			}
			switch {
			case tt.wantErr == "" && (err != nil || len(got) != 1):
				t.Errorf("read %d findings, error %v", len(got), err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			var api smithy.APIError
			if tt.wantErr != "" && !errors.As(err, &api) {
				t.Errorf("the API error is not wrapped: %v", err)
			}
		})
	}
}

// TestMotoReadBack imports findings into moto and reads them back
// unchanged.
func TestMotoReadBack(t *testing.T) {
	client := motoClient(t)
	ctx := context.Background()
	fs := findings(3)
	for i := range fs {
		fs[i].AwsAccountID = "123456789012"
		fs[i].ID += "/" + t.Name() + fmt.Sprint(time.Now().UnixNano())
	}
	if err := sh.New(client).Publish(ctx, fs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, err := sh.NewReader(client).Read(ctx, sh.Query{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]finding.Finding{}
	for _, f := range got {
		byID[f.ID] = f
	}
	for _, want := range fs {
		f, ok := byID[want.ID]
		if !ok {
			t.Errorf("finding %s not read back", want.ID)
			continue
		}
		if diff := cmp.Diff(want, f, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("finding read back (-sent +read):\n%s", diff)
		}
	}
}
