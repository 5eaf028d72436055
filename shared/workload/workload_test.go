package workload

import (
	"errors"
	"net/netip"
	"testing"
)

func TestForPod(t *testing.T) {
	tests := []struct {
		name   string
		pod    string
		owners []Owner
		labels map[string]string
		want   string
	}{
		{"deployment via replicaset and hash label", "cart-7d9f8b6c5-x2x9q",
			[]Owner{{KindReplicaSet, "cart-7d9f8b6c5"}}, map[string]string{"pod-template-hash": "7d9f8b6c5"},
			"eks/prod/shop/Deployment/cart"},
		{"deployment via replicaset without labels", "nginx-deployment-7998647bdf-phvq7",
			[]Owner{{KindReplicaSet, "nginx-deployment-7998647bdf"}}, nil,
			"eks/prod/shop/Deployment/nginx-deployment"},
		{"bare replicaset keeps its kind", "web-abc12", []Owner{{KindReplicaSet, "web"}}, nil,
			"eks/prod/shop/ReplicaSet/web"},
		{"daemonset", "aws-node-x7k2p", []Owner{{KindDaemonSet, "aws-node"}}, nil,
			"eks/prod/shop/DaemonSet/aws-node"},
		{"statefulset", "db-0", []Owner{{KindStatefulSet, "db"}}, nil,
			"eks/prod/shop/StatefulSet/db"},
		{"cronjob via job", "backup-29012345-q2w4r", []Owner{{KindJob, "backup-29012345"}}, nil,
			"eks/prod/shop/CronJob/backup"},
		{"job not from a cronjob", "migrate-q2w4r", []Owner{{KindJob, "migrate"}}, nil,
			"eks/prod/shop/Job/migrate"},
		{"no owner, deployment-shaped name", "cart-7d9f8b6c5-x2x9q", nil, nil,
			"eks/prod/shop/Deployment/cart"},
		{"no owner, hash label confirms", "cart-abcdef-x2x9q", nil, map[string]string{"pod-template-hash": "abcdef"},
			"eks/prod/shop/Deployment/cart"},
		{"no owner, plain name", "debug-miner", nil, nil, "eks/prod/shop/Pod/debug-miner"},
		{"no owner, word that is not a hash", "my-app-server-x2x9q", nil, nil, "eks/prod/shop/Pod/my-app-server-x2x9q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ForPod("prod", "shop", tt.pod, tt.owners, tt.labels); got != tt.want {
				t.Errorf("ForPod(%q) = %q, want %q", tt.pod, got, tt.want)
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	ids := []string{
		EKS("prod", "shop", KindDeployment, "cart"),
		ECSService("ecs-prod", "orders"),
		ECSTask("ecs-prod", "batch"),
		VPC("eni-0a1b2c3d", netip.MustParseAddr("10.0.1.5")),
		VPC("eni-0a1b2c3d", netip.MustParseAddr("2001:db8::1")),
	}
	for _, id := range ids {
		ref, err := Parse(id)
		if err != nil {
			t.Fatalf("Parse(%q): %v", id, err)
		}
		if got := ref.String(); got != id {
			t.Errorf("Parse(%q).String() = %q", id, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, id := range []string{"", "eks/prod/shop/Deployment", "ecs/c/queue/x", "vpc//10.0.0.1", "gcp/a/b", "eks/prod//Deployment/x"} {
		if _, err := Parse(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Parse(%q) error = %v, want ErrBadID", id, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	if got := EKS("", "", KindPod, "x"); got != "eks/unknown/default/Pod/x" {
		t.Errorf("EKS defaults = %q", got)
	}
	if got := ECSService("", "orders"); got != "ecs/unknown/service/orders" {
		t.Errorf("ECSService default = %q", got)
	}
}
