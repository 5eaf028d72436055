package k8saudit

import (
	"net/url"
	"strings"
)

// Pod subresources that open a stream into a running container.
const (
	SubresourceExec        = "exec"
	SubresourceAttach      = "attach"
	SubresourcePortForward = "portforward"
)

// Exec is a streaming call into a pod, decoded from the request URI: the
// API server logs no body for exec, attach and port-forward, so the query
// string is the only record of the command.
type Exec struct {
	// Subresource is exec, attach or portforward.
	Subresource string
	Namespace   string
	Pod         string
	// Container is the container asked for; "" lets the API server pick
	// the pod's default container.
	Container string
	// Command is the exec command, one element per command= parameter.
	Command []string
	// Ports are the port-forward ports, as the client wrote them.
	Ports []string
	// TTY and Stdin report an interactive session.
	TTY   bool
	Stdin bool
}

// Exec decodes a pods/exec, pods/attach or pods/portforward request. ok is
// false for any other event. It says nothing of success; see Succeeded.
func (e *Event) Exec() (x Exec, ok bool) {
	r := &e.ObjectRef
	if r.Resource != "pods" || r.APIGroup != "" {
		return Exec{}, false
	}
	switch r.Subresource {
	case SubresourceExec, SubresourceAttach, SubresourcePortForward:
	default:
		return Exec{}, false
	}
	x = Exec{Subresource: r.Subresource, Namespace: r.Namespace, Pod: r.Name}
	_, query, _ := strings.Cut(e.RequestURI, "?")
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(kv, "=")
		k = queryUnescape(k)
		switch k {
		case "command":
			x.Command = append(x.Command, queryUnescape(v))
		case "container":
			// kubectl repeats container=; the API server uses the first.
			if x.Container == "" {
				x.Container = queryUnescape(v)
			}
		case "ports", "port":
			x.Ports = append(x.Ports, queryUnescape(v))
		case "tty":
			x.TTY = isTrue(v)
		case "stdin":
			x.Stdin = isTrue(v)
		}
	}
	return x, true
}

// ExecCommand returns the decoded command of a pods/exec request and the
// container it targets. For pods/attach the command is nil (attach joins
// the container's own process); for pods/portforward it lists the
// forwarded ports. Other events return nil and "".
func (e *Event) ExecCommand() (cmd []string, container string) {
	x, ok := e.Exec()
	if !ok {
		return nil, ""
	}
	if x.Subresource == SubresourcePortForward {
		return x.Ports, x.Container
	}
	return x.Command, x.Container
}

// queryUnescape decodes a query component, keeping it as it is when it is
// not valid percent-encoding: a command is evidence and must not vanish.
func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

func isTrue(v string) bool {
	return v == "true" || v == "1" || v == "True"
}
