package finding

import (
	"strings"

	"github.com/tidewatch/tidewatch/shared/signal"
	"github.com/tidewatch/tidewatch/shared/workload"
)

// Recommend returns the response steps for sig: verify, isolate with the
// workload's names filled in, investigate, then tune. It fits ASFF's
// 512-character Recommendation.Text.
func Recommend(sig *signal.Signal) string {
	ref := workloadRef(sig.Workload)
	var b strings.Builder
	b.WriteString("1) Verify: ")
	switch {
	case strings.HasPrefix(sig.Technique, "T1609"):
		b.WriteString("ask " + orSomeone(sig.Actor) + " whether the session was expected. ")
	case strings.HasPrefix(sig.Technique, "T1610"), strings.HasPrefix(sig.Technique, "T1611"):
		b.WriteString("check the object against your deployment pipeline and who created it. ")
	default:
		b.WriteString("compare with known deployments, load tests and maintenance. ")
	}
	b.WriteString("2) Isolate: ")
	b.WriteString(isolate(ref))
	b.WriteString(" 3) Investigate: ")
	switch ref.Platform {
	case workload.PlatformEKS:
		b.WriteString("review the audit log for this workload's pods (exec, creates) and their network peers. ")
	case workload.PlatformECS:
		b.WriteString("review the task's image, command and recent deployments. ")
	default:
		b.WriteString("find the instance or pod behind the ENI and its recent changes. ")
	}
	b.WriteString("4) If benign: add a suppression (tidewatch config) or a maintenance window.")
	return b.String()
}

func orSomeone(s string) string {
	if s == "" {
		return "the caller"
	}
	return s
}

func isolate(ref workload.Ref) string {
	switch ref.Platform {
	case workload.PlatformEKS:
		ns := ref.Namespace
		switch ref.Kind {
		case workload.KindPod:
			return "kubectl -n " + ns + " label pod " + ref.Name + " quarantine=true and apply a deny-all NetworkPolicy selecting quarantine=true; keep the pod for forensics."
		default:
			return "apply a deny-all NetworkPolicy to the pods of " + strings.ToLower(ref.Kind) + "/" + ref.Name + " in " + ns + ", or kubectl -n " + ns + " scale " + strings.ToLower(ref.Kind) + "/" + ref.Name + " --replicas=0 after capturing a pod."
		}
	case workload.PlatformECS:
		if ref.Kind == "service" {
			return "aws ecs update-service --cluster " + ref.Cluster + " --service " + ref.Name + " --desired-count 0 (after aws ecs list-tasks --cluster " + ref.Cluster + " --service-name " + ref.Name + " for forensics)."
		}
		return "aws ecs list-tasks --cluster " + ref.Cluster + " --family " + ref.Name + ", then aws ecs stop-task --cluster " + ref.Cluster + " --task <id> after capture."
	}
	return "restrict the network interface's security group (" + ref.ENI + ")."
}
