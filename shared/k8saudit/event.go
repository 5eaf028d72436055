package k8saudit

import (
	"encoding/json"
	"time"
)

// Audit stages (audit.k8s.io Stage).
const (
	StageRequestReceived  = "RequestReceived"
	StageResponseStarted  = "ResponseStarted"
	StageResponseComplete = "ResponseComplete"
	StagePanic            = "Panic"
)

// Audit levels (audit.k8s.io Level).
const (
	LevelNone            = "None"
	LevelMetadata        = "Metadata"
	LevelRequest         = "Request"
	LevelRequestResponse = "RequestResponse"
)

// Event is one audit.k8s.io/v1 (or v1beta1) Event. The request and response
// objects are kept as raw JSON and decoded only by the helpers that need
// them (Workload, PodIPs).
type Event struct {
	// Kind is "Event"; empty when the log line omits it.
	Kind string `json:"kind,omitempty"`
	// APIVersion is "audit.k8s.io/v1" or "audit.k8s.io/v1beta1"; empty
	// when the log line omits it.
	APIVersion string `json:"apiVersion,omitempty"`
	// Level is the audit level the policy chose: Metadata, Request or
	// RequestResponse.
	Level string `json:"level,omitempty"`
	// AuditID is shared by every stage of one request.
	AuditID string `json:"auditID,omitempty"`
	// Stage is RequestReceived, ResponseStarted, ResponseComplete or Panic.
	Stage string `json:"stage,omitempty"`
	// RequestURI is the path and query the client sent; the only place an
	// exec command appears.
	RequestURI string `json:"requestURI,omitempty"`
	// Verb is the Kubernetes verb: get, list, watch, create, update, patch,
	// delete, deletecollection.
	Verb string `json:"verb,omitempty"`
	// User is who authenticated.
	User UserInfo `json:"user,omitzero"`
	// ImpersonatedUser is who User acted as, when impersonating.
	ImpersonatedUser *UserInfo `json:"impersonatedUser,omitempty"`
	// SourceIPs lists the client address first, then any proxies.
	SourceIPs []string `json:"sourceIPs,omitempty"`
	// UserAgent is the client's User-Agent header, e.g. "kubectl/v1.30.1 ...".
	UserAgent string `json:"userAgent,omitempty"`
	// ObjectRef names the object the request is about; zero for
	// non-resource requests such as /healthz.
	ObjectRef ObjectReference `json:"objectRef,omitzero"`
	// ResponseStatus is nil until the response has started.
	ResponseStatus *Status `json:"responseStatus,omitempty"`
	// RequestObject is the request body at levels Request and
	// RequestResponse (a full object, or a patch for verb patch).
	RequestObject json.RawMessage `json:"requestObject,omitempty"`
	// ResponseObject is the response body at level RequestResponse.
	ResponseObject json.RawMessage `json:"responseObject,omitempty"`
	// RequestReceivedTimestamp is when the API server received the request.
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp,omitzero"`
	// StageTimestamp is when the API server reached Stage.
	StageTimestamp time.Time `json:"stageTimestamp,omitzero"`
	// Annotations carry the authorization decision
	// ("authorization.k8s.io/decision") and admission results.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Timestamp is the audit.k8s.io/v1beta1 event time.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// CreationTimestamp is the audit.k8s.io/v1beta1
	// metadata.creationTimestamp.
	CreationTimestamp time.Time `json:"creationTimestamp,omitzero"`
}

// UserInfo is an authenticated or impersonated identity.
type UserInfo struct {
	// Username is e.g. "alice", an STS ARN on EKS access entries, or
	// "system:serviceaccount:<namespace>:<name>".
	Username string `json:"username,omitempty"`
	// UID is e.g. "aws-iam-authenticator:<account>:<principal id>" on EKS.
	UID string `json:"uid,omitempty"`
	// Groups the user belongs to, e.g. "system:masters".
	Groups []string `json:"groups,omitempty"`
	// Extra holds authenticator details; on EKS "arn", "canonicalArn",
	// "sessionName", "accessKeyId", "principalId".
	Extra map[string][]string `json:"extra,omitempty"`
}

// ObjectReference names the object of a request.
type ObjectReference struct {
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}

// Status is the response status (a metav1.Status subset).
type Status struct {
	// Code is the HTTP status code: 101 for an upgraded exec stream, 201
	// for a create, 403 for a forbidden request.
	Code    int    `json:"code,omitempty"`
	Status  string `json:"status,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Time is the event time: the stage timestamp, else the time the request
// was received, else the v1beta1 timestamp fields.
func (e *Event) Time() time.Time {
	switch {
	case !e.StageTimestamp.IsZero():
		return e.StageTimestamp
	case !e.RequestReceivedTimestamp.IsZero():
		return e.RequestReceivedTimestamp
	case !e.Timestamp.IsZero():
		return e.Timestamp
	}
	return e.CreationTimestamp
}

// Succeeded reports whether the request was not refused: its response
// status is 1xx or 2xx, or it has no status yet.
func (e *Event) Succeeded() bool {
	return e.ResponseStatus == nil || e.ResponseStatus.Code == 0 || e.ResponseStatus.Code < 300
}

// Decision returns the authorizer's decision annotation, "allow" or
// "forbid", or "" when the event has none.
func (e *Event) Decision() string {
	return e.Annotations["authorization.k8s.io/decision"]
}
