package securityhub

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/tidewatch/tidewatch/shared/backoff"
	"github.com/tidewatch/tidewatch/shared/finding"
)

// Finder is the part of the Security Hub client that Reader uses;
// *securityhub.Client satisfies it.
type Finder interface {
	GetFindings(ctx context.Context, in *securityhub.GetFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
}

var _ Finder = (*securityhub.Client)(nil)

// Tidewatch's findings are those whose GeneratorId starts with
// GeneratorPrefix and whose ProductName is ProductName, as finding.New
// sets them.
const (
	GeneratorPrefix = finding.GeneratorPrefix
	ProductName     = finding.ProductName
)

// pageSize is the most findings GetFindings returns per call.
const pageSize = 100

// Query selects the findings Read returns, beyond being tidewatch's and
// not archived.
type Query struct {
	// UpdatedFrom and UpdatedTo, when not zero, bound UpdatedAt
	// (inclusive).
	UpdatedFrom, UpdatedTo time.Time
}

// Reader reads tidewatch's findings back from Security Hub.
type Reader struct {
	api Finder
	// Retry bounds the retries of a throttled or failed page: at most
	// Attempts tries, sleeping a random duration up to Base·2ⁿ capped at
	// Max. NewReader sets 6, 200 ms and 5 s.
	Retry backoff.Policy
}

// NewReader returns a Reader calling api.
func NewReader(api Finder) *Reader {
	return &Reader{api: api, Retry: backoff.Policy{Attempts: 6, Base: 200 * time.Millisecond, Max: 5 * time.Second}}
}

// Read pages through GetFindings and returns tidewatch's active findings
// matching q, as finding.Finding. The selection is sent as filters and
// applied again to what comes back, so that a server that ignores some
// filters still yields only tidewatch's findings.
func (r *Reader) Read(ctx context.Context, q Query) ([]finding.Finding, error) {
	in := &securityhub.GetFindingsInput{Filters: filters(q), MaxResults: aws.Int32(pageSize)}
	var out []finding.Finding
	for page := 1; ; page++ {
		resp, err := r.page(ctx, in)
		if err != nil {
			return out, fmt.Errorf("securityhub: get findings, page %d: %w", page, err)
		}
		for i := range resp.Findings {
			if f := FindingOf(&resp.Findings[i]); q.matches(&f) {
				out = append(out, f)
			}
		}
		next := aws.ToString(resp.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return out, nil
		}
		in.NextToken = aws.String(next)
	}
}

func (r *Reader) page(ctx context.Context, in *securityhub.GetFindingsInput) (*securityhub.GetFindingsOutput, error) {
	var resp *securityhub.GetFindingsOutput
	_, err := r.Retry.Do(ctx, retryable, func() error {
		var err error
		resp, err = r.api.GetFindings(ctx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func filters(q Query) *types.AwsSecurityFindingFilters {
	f := &types.AwsSecurityFindingFilters{
		GeneratorId: []types.StringFilter{{Comparison: types.StringFilterComparisonPrefix, Value: aws.String(GeneratorPrefix)}},
		ProductName: []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(ProductName)}},
		RecordState: []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(string(types.RecordStateActive))}},
	}
	if !q.UpdatedFrom.IsZero() || !q.UpdatedTo.IsZero() {
		// Security Hub wants both ends of a date filter.
		from, to := q.UpdatedFrom, q.UpdatedTo
		if from.IsZero() {
			from = time.Unix(0, 0)
		}
		if to.IsZero() {
			to = time.Now().Add(24 * time.Hour)
		}
		f.UpdatedAt = []types.DateFilter{{Start: aws.String(finding.Timestamp(from)), End: aws.String(finding.Timestamp(to))}}
	}
	return f
}

// matches applies the selection to a finding read back.
func (q Query) matches(f *finding.Finding) bool {
	if !strings.HasPrefix(f.GeneratorID, GeneratorPrefix) || f.ProductName != ProductName ||
		strings.EqualFold(f.RecordState, string(types.RecordStateArchived)) {
		return false
	}
	if q.UpdatedFrom.IsZero() && q.UpdatedTo.IsZero() {
		return true
	}
	t, err := finding.ParseTimestamp(f.UpdatedAt)
	if err != nil {
		return false
	}
	return (q.UpdatedFrom.IsZero() || !t.Before(q.UpdatedFrom)) && (q.UpdatedTo.IsZero() || !t.After(q.UpdatedTo))
}

// FindingOf maps an SDK finding back onto finding.Finding, attribute for
// attribute: the inverse of Convert. Attributes tidewatch does not model
// are dropped.
func FindingOf(s *types.AwsSecurityFinding) finding.Finding {
	f := finding.Finding{
		SchemaVersion:   aws.ToString(s.SchemaVersion),
		ID:              aws.ToString(s.Id),
		ProductArn:      aws.ToString(s.ProductArn),
		ProductName:     aws.ToString(s.ProductName),
		CompanyName:     aws.ToString(s.CompanyName),
		GeneratorID:     aws.ToString(s.GeneratorId),
		AwsAccountID:    aws.ToString(s.AwsAccountId),
		Region:          aws.ToString(s.Region),
		Types:           s.Types,
		FirstObservedAt: aws.ToString(s.FirstObservedAt),
		LastObservedAt:  aws.ToString(s.LastObservedAt),
		CreatedAt:       aws.ToString(s.CreatedAt),
		UpdatedAt:       aws.ToString(s.UpdatedAt),
		Confidence:      int(aws.ToInt32(s.Confidence)),
		Title:           aws.ToString(s.Title),
		Description:     aws.ToString(s.Description),
		ProductFields:   s.ProductFields,
		RecordState:     string(s.RecordState),
	}
	if sev := s.Severity; sev != nil {
		f.Severity = finding.Severity{Label: string(sev.Label), Normalized: int(aws.ToInt32(sev.Normalized)), Original: aws.ToString(sev.Original)}
	}
	if rem := s.Remediation; rem != nil && rem.Recommendation != nil {
		f.Remediation = &finding.Remediation{Recommendation: finding.Recommendation{
			Text: aws.ToString(rem.Recommendation.Text),
			URL:  aws.ToString(rem.Recommendation.Url),
		}}
	}
	for _, r := range s.Resources {
		f.Resources = append(f.Resources, resourceOf(r))
	}
	for _, r := range s.RelatedFindings {
		f.RelatedFindings = append(f.RelatedFindings, finding.RelatedFinding{ProductArn: aws.ToString(r.ProductArn), ID: aws.ToString(r.Id)})
	}
	if w := s.Workflow; w != nil {
		f.Workflow = &finding.Workflow{Status: string(w.Status)}
	}
	if p := s.FindingProviderFields; p != nil {
		f.FindingProviderFields = &finding.FindingProviderFields{Types: p.Types}
		if p.Severity != nil {
			f.FindingProviderFields.Severity = &finding.Severity{Label: string(p.Severity.Label), Original: aws.ToString(p.Severity.Original)}
		}
	}
	if a := s.Action; a != nil {
		f.Action = &finding.Action{ActionType: aws.ToString(a.ActionType)}
		if n := a.NetworkConnectionAction; n != nil {
			nc := &finding.NetworkConnection{
				ConnectionDirection: aws.ToString(n.ConnectionDirection),
				Protocol:            aws.ToString(n.Protocol),
				Blocked:             aws.ToBool(n.Blocked),
			}
			if n.RemoteIpDetails != nil {
				nc.RemoteIPDetails = &finding.IPDetails{IPAddressV4: aws.ToString(n.RemoteIpDetails.IpAddressV4)}
			}
			if n.RemotePortDetails != nil {
				nc.RemotePortDetails = &finding.PortDetails{Port: int(aws.ToInt32(n.RemotePortDetails.Port))}
			}
			if n.LocalPortDetails != nil {
				nc.LocalPortDetails = &finding.PortDetails{Port: int(aws.ToInt32(n.LocalPortDetails.Port))}
			}
			f.Action.NetworkConnection = nc
		}
		if c := a.AwsApiCallAction; c != nil {
			f.Action.AwsAPICall = &finding.AwsAPICall{
				API:         aws.ToString(c.Api),
				ServiceName: aws.ToString(c.ServiceName),
				CallerType:  aws.ToString(c.CallerType),
			}
		}
	}
	if p := s.Process; p != nil {
		f.Process = &finding.Process{Name: aws.ToString(p.Name), Path: aws.ToString(p.Path)}
	}
	if n := s.Note; n != nil {
		f.Note = &finding.Note{Text: aws.ToString(n.Text), UpdatedBy: aws.ToString(n.UpdatedBy), UpdatedAt: aws.ToString(n.UpdatedAt)}
	}
	return f
}

func resourceOf(r types.Resource) finding.Resource {
	out := finding.Resource{
		Type:      aws.ToString(r.Type),
		ID:        aws.ToString(r.Id),
		Partition: string(r.Partition),
		Region:    aws.ToString(r.Region),
		Tags:      r.Tags,
	}
	if d := r.Details; d != nil && (d.Container != nil || len(d.Other) > 0) {
		out.Details = &finding.ResourceDetails{Other: d.Other}
		if c := d.Container; c != nil {
			out.Details.Container = &finding.ContainerDetails{
				Name:       aws.ToString(c.Name),
				ImageName:  aws.ToString(c.ImageName),
				Privileged: aws.ToBool(c.Privileged),
			}
		}
	}
	return out
}
