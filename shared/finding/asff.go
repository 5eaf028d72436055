package finding

// SchemaVersion is the only ASFF schema version.
const SchemaVersion = "2018-10-08"

// ASFF length limits (Security Hub API model, AwsSecurityFinding).
const (
	MaxIDLen          = 512
	MaxTitleLen       = 256
	MaxDescriptionLen = 1024
	MaxProductFields  = 50
	MaxFieldKeyLen    = 128
	MaxFieldValueLen  = 2048
	MaxResources      = 32
	MaxTypes          = 50
	MaxRelated        = 10
	MaxRecommendation = 512
)

// What marks a finding as tidewatch's: its ProductName (and CompanyName),
// the start of its GeneratorId (followed by the detector id), and the start
// of the Note on a finding tidewatch suppressed (followed by the reason).
const (
	ProductName          = "tidewatch"
	GeneratorPrefix      = "tidewatch/"
	SuppressedNotePrefix = "Suppressed by tidewatch: "
)

// Product field keys every tidewatch finding carries.
const (
	FieldDetector       = "tidewatch/detector"
	FieldTechnique      = "tidewatch/technique"
	FieldWorkload       = "tidewatch/workload"
	FieldObserved       = "tidewatch/observed"
	FieldExpected       = "tidewatch/expected"
	FieldTrainingPeriod = "tidewatch/trainingPeriod"
	FieldCount          = "tidewatch/count"
	// FieldUnit is the unit of observed, expected and the band
	// (e.g. "bytes/min", "%").
	FieldUnit = "tidewatch/unit"
	// FieldSeries holds the observed metric and its band around the
	// alert, as the JSON of signal.Series (read it with SeriesOf).
	FieldSeries = "tidewatch/series"
)

// Finding is an AWS Security Finding Format document, restricted to the
// attributes tidewatch sets. JSON names are ASFF's, so a Finding marshals to
// what BatchImportFindings and GetFindings speak.
type Finding struct {
	SchemaVersion         string                 `json:"SchemaVersion"`
	ID                    string                 `json:"Id"`
	ProductArn            string                 `json:"ProductArn"`
	ProductName           string                 `json:"ProductName,omitempty"`
	CompanyName           string                 `json:"CompanyName,omitempty"`
	GeneratorID           string                 `json:"GeneratorId"`
	AwsAccountID          string                 `json:"AwsAccountId"`
	Region                string                 `json:"Region,omitempty"`
	Types                 []string               `json:"Types"`
	FirstObservedAt       string                 `json:"FirstObservedAt,omitempty"`
	LastObservedAt        string                 `json:"LastObservedAt,omitempty"`
	CreatedAt             string                 `json:"CreatedAt"`
	UpdatedAt             string                 `json:"UpdatedAt"`
	Severity              Severity               `json:"Severity"`
	Confidence            int                    `json:"Confidence,omitempty"`
	Title                 string                 `json:"Title"`
	Description           string                 `json:"Description"`
	Remediation           *Remediation           `json:"Remediation,omitempty"`
	ProductFields         map[string]string      `json:"ProductFields,omitempty"`
	Resources             []Resource             `json:"Resources"`
	RelatedFindings       []RelatedFinding       `json:"RelatedFindings,omitempty"`
	RecordState           string                 `json:"RecordState,omitempty"`
	Workflow              *Workflow              `json:"Workflow,omitempty"`
	FindingProviderFields *FindingProviderFields `json:"FindingProviderFields,omitempty"`
	Action                *Action                `json:"Action,omitempty"`
	Process               *Process               `json:"Process,omitempty"`
	Note                  *Note                  `json:"Note,omitempty"`
}

// Severity is ASFF Severity; Label is one of INFORMATIONAL, LOW, MEDIUM,
// HIGH, CRITICAL.
type Severity struct {
	Label      string `json:"Label"`
	Normalized int    `json:"Normalized,omitempty"`
	Original   string `json:"Original,omitempty"`
}

// Remediation is ASFF Remediation.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is ASFF Remediation.Recommendation; Text is at most 512
// characters.
type Recommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url,omitempty"`
}

// Resource is ASFF Resources[].
type Resource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition,omitempty"`
	Region    string            `json:"Region,omitempty"`
	Tags      map[string]string `json:"Tags,omitempty"`
	Details   *ResourceDetails  `json:"Details,omitempty"`
}

// ResourceDetails holds the typed details tidewatch fills.
type ResourceDetails struct {
	Container *ContainerDetails `json:"Container,omitempty"`
	Other     map[string]string `json:"Other,omitempty"`
}

// ContainerDetails is ASFF Resources[].Details.Container.
type ContainerDetails struct {
	Name       string `json:"Name,omitempty"`
	ImageName  string `json:"ImageName,omitempty"`
	Privileged bool   `json:"Privileged,omitempty"`
}

// RelatedFinding is ASFF RelatedFindings[].
type RelatedFinding struct {
	ProductArn string `json:"ProductArn"`
	ID         string `json:"Id"`
}

// Workflow is ASFF Workflow; tidewatch sets SUPPRESSED for suppressed
// findings and NEW otherwise.
type Workflow struct {
	Status string `json:"Status"`
}

// Note is ASFF Note.
type Note struct {
	Text      string `json:"Text"`
	UpdatedBy string `json:"UpdatedBy"`
	UpdatedAt string `json:"UpdatedAt"`
}

// FindingProviderFields is ASFF FindingProviderFields.
type FindingProviderFields struct {
	Severity *Severity `json:"Severity,omitempty"`
	Types    []string  `json:"Types,omitempty"`
}

// Action is ASFF Action, for network evidence.
type Action struct {
	ActionType        string             `json:"ActionType"`
	NetworkConnection *NetworkConnection `json:"NetworkConnectionAction,omitempty"`
	AwsAPICall        *AwsAPICall        `json:"AwsApiCallAction,omitempty"`
}

// NetworkConnection is ASFF Action.NetworkConnectionAction.
type NetworkConnection struct {
	ConnectionDirection string       `json:"ConnectionDirection,omitempty"`
	Protocol            string       `json:"Protocol,omitempty"`
	RemoteIPDetails     *IPDetails   `json:"RemoteIpDetails,omitempty"`
	RemotePortDetails   *PortDetails `json:"RemotePortDetails,omitempty"`
	LocalPortDetails    *PortDetails `json:"LocalPortDetails,omitempty"`
	Blocked             bool         `json:"Blocked,omitempty"`
}

// IPDetails is ASFF ActionRemoteIpDetails (the address only).
type IPDetails struct {
	IPAddressV4 string `json:"IpAddressV4"`
}

// PortDetails is ASFF ActionRemotePortDetails / ActionLocalPortDetails.
type PortDetails struct {
	Port int `json:"Port"`
}

// AwsAPICall is ASFF Action.AwsApiCallAction; tidewatch uses it for
// Kubernetes API calls.
type AwsAPICall struct {
	API         string `json:"Api,omitempty"`
	ServiceName string `json:"ServiceName,omitempty"`
	CallerType  string `json:"CallerType,omitempty"`
}

// Process is ASFF Process.
type Process struct {
	Name string `json:"Name,omitempty"`
	Path string `json:"Path,omitempty"`
}
