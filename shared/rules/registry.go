package rules

import (
	"path"
	"strings"

	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// eksAccounts are the AWS accounts whose ECR repositories serve the EKS
// add-on images (VPC CNI, kube-proxy, CoreDNS, EBS CSI…), one per region
// group, from the EKS user guide "Amazon container image registries".
var eksAccounts = map[string]bool{
	"602401143452": true, // most commercial regions
	"877085696533": true, // af-south-1
	"800184023465": true, // ap-east-1
	"900889452093": true, // ap-south-2
	"296578399912": true, // ap-southeast-3
	"491585149902": true, // ap-southeast-4
	"151610086707": true, // ap-southeast-5
	"121268973566": true, // ap-southeast-7
	"761377655185": true, // ca-west-1
	"900612956339": true, // eu-central-2
	"590381155156": true, // eu-south-1
	"455263428931": true, // eu-south-2
	"066635153087": true, // il-central-1
	"759879836304": true, // me-central-1
	"558608220178": true, // me-south-1
	"730335286997": true, // mx-central-1
	"918309763551": true, // cn-north-1
	"961992271922": true, // cn-northwest-1
	"151742754352": true, // us-gov-east-1
	"013241004608": true, // us-gov-west-1
}

// awsPublicNamespaces are the public.ecr.aws namespaces AWS itself
// publishes EKS components and agents under. Other public.ecr.aws
// namespaces belong to anyone and are learned like Docker Hub ones.
var awsPublicNamespaces = map[string]bool{
	"eks": true, "eks-distro": true, "eks-distro-build-tooling": true, "eks-anywhere": true,
	"aws-observability": true, "aws-ec2": true, "aws-containers": true, "aws-cli": true,
	"aws-secrets-manager": true, "aws-appmesh": true, "aws-guardduty-agent": true,
	"ebs-csi-driver": true, "efs-csi-driver": true, "mountpoint-s3-csi-driver": true,
	"karpenter": true, "cloudwatch-agent": true, "xray": true, "bottlerocket": true,
	"amazonlinux": true, "aws-network-flow-monitoring-agent": true, "aws-ecr-credential-provider": true,
}

// sharedRegistries host images of many unrelated publishers; their key
// includes the first path component (the publisher), so that using
// docker.io/library/nginx says nothing about docker.io/xmrig.
var sharedRegistries = map[string]bool{
	"docker.io": true, "ghcr.io": true, "quay.io": true, "public.ecr.aws": true,
	"gcr.io": true, "registry.gitlab.com": true, "docker.pkg.github.com": true,
}

// registryKey is what the registry rule learns an image by: its registry
// host, plus the publisher on shared registries.
func registryKey(img k8saudit.Image) string {
	if sharedRegistries[img.Registry] || strings.HasSuffix(img.Registry, "-docker.pkg.dev") {
		ns, _, _ := strings.Cut(img.Repository, "/")
		return img.Registry + "/" + ns
	}
	return img.Registry
}

// alwaysTrusted reports the registries EKS itself pulls add-ons from.
func alwaysTrusted(img k8saudit.Image) bool {
	host := img.Registry
	switch host {
	case "registry.k8s.io":
		return true
	case "public.ecr.aws":
		ns, _, _ := strings.Cut(img.Repository, "/")
		return awsPublicNamespaces[ns]
	}
	acct, rest, ok := strings.Cut(host, ".")
	if !ok || !eksAccounts[acct] {
		return false
	}
	return (strings.HasPrefix(rest, "dkr.ecr.") || strings.HasPrefix(rest, "dkr.ecr-fips.")) &&
		(strings.HasSuffix(rest, ".amazonaws.com") || strings.HasSuffix(rest, ".amazonaws.com.cn"))
}

// allowed reports whether img matches one of the configured entries: a
// host ("ghcr.io"), a host pattern ("*.dkr.ecr.*.amazonaws.com"), or a
// host/path prefix ("docker.io/myorg", "ghcr.io/myorg/app").
func allowed(entries []string, img k8saudit.Image) bool {
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(e), "/"))
		if e == "" {
			continue
		}
		host, prefix, hasPath := strings.Cut(e, "/")
		if host == "index.docker.io" {
			host = k8saudit.DockerHub
		}
		if ok, _ := path.Match(host, img.Registry); !ok && host != img.Registry {
			continue
		}
		if !hasPath {
			return true
		}
		repo := img.Repository
		if repo == prefix || strings.HasPrefix(repo, prefix+"/") {
			return true
		}
	}
	return false
}
