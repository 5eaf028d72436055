package securityhub

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/tidewatch/tidewatch/shared/finding"
)

// ProductArn is the ARN of the account's default custom integration,
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default,
// under which tidewatch imports its findings ("aws" when partition is
// empty).
func ProductArn(partition, region, account string) string {
	return finding.ProductArn(partition, region, account)
}

// str is nil for "", so that unset ASFF attributes stay unset.
func str(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func int32p(n int) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(int32(n))
}

// Convert maps a finding onto the SDK's AwsSecurityFinding, attribute for
// attribute. It does not trim; Publish does.
func Convert(f *finding.Finding) types.AwsSecurityFinding {
	out := types.AwsSecurityFinding{
		SchemaVersion:   str(f.SchemaVersion),
		Id:              str(f.ID),
		ProductArn:      str(f.ProductArn),
		ProductName:     str(f.ProductName),
		CompanyName:     str(f.CompanyName),
		GeneratorId:     str(f.GeneratorID),
		AwsAccountId:    str(f.AwsAccountID),
		Region:          str(f.Region),
		Types:           f.Types,
		FirstObservedAt: str(f.FirstObservedAt),
		LastObservedAt:  str(f.LastObservedAt),
		CreatedAt:       str(f.CreatedAt),
		UpdatedAt:       str(f.UpdatedAt),
		Severity:        severity(f.Severity),
		Confidence:      int32p(f.Confidence),
		Title:           str(f.Title),
		Description:     str(f.Description),
		ProductFields:   f.ProductFields,
		RecordState:     types.RecordState(f.RecordState),
	}
	if f.Remediation != nil {
		out.Remediation = &types.Remediation{Recommendation: &types.Recommendation{
			Text: str(f.Remediation.Recommendation.Text),
			Url:  str(f.Remediation.Recommendation.URL),
		}}
	}
	for _, r := range f.Resources {
		out.Resources = append(out.Resources, resource(r))
	}
	for _, r := range f.RelatedFindings {
		out.RelatedFindings = append(out.RelatedFindings, types.RelatedFinding{ProductArn: str(r.ProductArn), Id: str(r.ID)})
	}
	if f.Workflow != nil {
		out.Workflow = &types.Workflow{Status: types.WorkflowStatus(f.Workflow.Status)}
	}
	if p := f.FindingProviderFields; p != nil {
		out.FindingProviderFields = &types.FindingProviderFields{Types: p.Types}
		if p.Severity != nil {
			out.FindingProviderFields.Severity = &types.FindingProviderSeverity{
				Label:    types.SeverityLabel(p.Severity.Label),
				Original: str(p.Severity.Original),
			}
		}
	}
	if a := f.Action; a != nil {
		out.Action = &types.Action{ActionType: str(a.ActionType)}
		if n := a.NetworkConnection; n != nil {
			nc := &types.NetworkConnectionAction{
				ConnectionDirection: str(n.ConnectionDirection),
				Protocol:            str(n.Protocol),
			}
			if n.Blocked {
				nc.Blocked = aws.Bool(true)
			}
			if n.RemoteIPDetails != nil {
				nc.RemoteIpDetails = &types.ActionRemoteIpDetails{IpAddressV4: str(n.RemoteIPDetails.IPAddressV4)}
			}
			if n.RemotePortDetails != nil {
				nc.RemotePortDetails = &types.ActionRemotePortDetails{Port: aws.Int32(int32(n.RemotePortDetails.Port))}
			}
			if n.LocalPortDetails != nil {
				nc.LocalPortDetails = &types.ActionLocalPortDetails{Port: aws.Int32(int32(n.LocalPortDetails.Port))}
			}
			out.Action.NetworkConnectionAction = nc
		}
		if c := a.AwsAPICall; c != nil {
			out.Action.AwsApiCallAction = &types.AwsApiCallAction{
				Api:         str(c.API),
				ServiceName: str(c.ServiceName),
				CallerType:  str(c.CallerType),
			}
		}
	}
	if p := f.Process; p != nil {
		out.Process = &types.ProcessDetails{Name: str(p.Name), Path: str(p.Path)}
	}
	if n := f.Note; n != nil {
		out.Note = &types.Note{Text: str(n.Text), UpdatedBy: str(n.UpdatedBy), UpdatedAt: str(n.UpdatedAt)}
	}
	return out
}

func severity(s finding.Severity) *types.Severity {
	return &types.Severity{
		Label:      types.SeverityLabel(s.Label),
		Normalized: int32p(s.Normalized),
		Original:   str(s.Original),
	}
}

func resource(r finding.Resource) types.Resource {
	out := types.Resource{
		Type:      str(r.Type),
		Id:        str(r.ID),
		Partition: types.Partition(r.Partition),
		Region:    str(r.Region),
		Tags:      r.Tags,
	}
	if d := r.Details; d != nil {
		out.Details = &types.ResourceDetails{Other: d.Other}
		if c := d.Container; c != nil {
			out.Details.Container = &types.ContainerDetails{Name: str(c.Name), ImageName: str(c.ImageName)}
			if c.Privileged {
				out.Details.Container.Privileged = aws.Bool(true)
			}
		}
	}
	return out
}
