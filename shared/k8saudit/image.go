package k8saudit

import "strings"

// DockerHub is the registry of image references that name none.
const DockerHub = "docker.io"

// Image is a parsed container image reference.
type Image struct {
	// Registry is the host (and port) the image is pulled from, lower
	// case; "docker.io" when the reference names none.
	Registry string `json:"registry"`
	// Repository is the path inside the registry, with "library/" added
	// for single-name Docker Hub images ("nginx" → "library/nginx").
	Repository string `json:"repository"`
	// Tag is "" when the reference has none (the runtime assumes latest).
	Tag string `json:"tag,omitempty"`
	// Digest is e.g. "sha256:…", "" when the reference has none.
	Digest string `json:"digest,omitempty"`
}

// ParseImage splits [registry/]repository[:tag][@digest] the way container
// runtimes do: the first path component is a registry only if it contains
// "." or ":" or is "localhost"; without one the image comes from Docker
// Hub, where single names live under "library/". "index.docker.io" is
// Docker Hub too. ParseImage never fails; a malformed reference gives
// whatever parts it has.
func ParseImage(ref string) Image {
	var img Image
	ref = strings.TrimSpace(ref)
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		img.Digest = ref[at+1:]
		ref = ref[:at]
	}
	rest := ref
	if slash := strings.IndexByte(ref, '/'); slash >= 0 {
		first := ref[:slash]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			img.Registry = strings.ToLower(first)
			rest = ref[slash+1:]
		}
	}
	if img.Registry == "" || img.Registry == "index.docker.io" || img.Registry == "registry-1.docker.io" {
		img.Registry = DockerHub
	}
	// A tag follows the last ':' after the last '/'; a ':' before it was
	// a registry port, handled above.
	lastSlash := strings.LastIndexByte(rest, '/')
	if colon := strings.LastIndexByte(rest, ':'); colon > lastSlash {
		img.Tag = rest[colon+1:]
		rest = rest[:colon]
	}
	if img.Registry == DockerHub && rest != "" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	img.Repository = rest
	return img
}

// String renders the normalized reference, e.g.
// "docker.io/library/nginx:1.27".
func (i Image) String() string {
	var b strings.Builder
	b.WriteString(i.Registry)
	b.WriteByte('/')
	b.WriteString(i.Repository)
	if i.Tag != "" {
		b.WriteByte(':')
		b.WriteString(i.Tag)
	}
	if i.Digest != "" {
		b.WriteByte('@')
		b.WriteString(i.Digest)
	}
	return b.String()
}
