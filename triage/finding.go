package triage

import (
	"strconv"

	"github.com/k8sexec/k8sexec/rules"
)

// Kinds of finding.
const (
	KindAudit   = "kubernetes.audit" // built from Kubernetes API audit events
	KindProcess = "process"          // built from container process events
	KindEvent   = "event"            // any other event a rule matched
)

// Finding is one thing a responder should look at: one exec request, one
// interactive process, or one other matching event. Its JSON form is the
// stable output schema documented in docs/output.md.
type Finding struct {
	ID        string        `json:"id"`
	Rule      RuleRef       `json:"rule"`
	Kind      string        `json:"kind"`
	Timestamp string        `json:"timestamp"`
	User      *User         `json:"user,omitempty"`
	Source    *Source       `json:"source,omitempty"`
	UserAgent *UserAgent    `json:"user_agent,omitempty"`
	Orch      *Orchestrator `json:"orchestrator,omitempty"`
	Container *Container    `json:"container,omitempty"`
	Host      *Host         `json:"host,omitempty"`
	Process   *Process      `json:"process,omitempty"`
	Exec      *ExecFlags    `json:"exec,omitempty"`
	Audit     *Audit        `json:"kubernetes,omitempty"`
	Session   *Session      `json:"session,omitempty"`
	// Started is, for an exec request, the first process of the container
	// session it started, as the node's process events record it.
	Started *Process `json:"started_process,omitempty"`
	// Commands are the programs run in the container session (of a
	// process finding, or of the session an exec request started), in time
	// order; MoreCommands counts those seen beyond the ones listed.
	Commands     []SessionCommand `json:"commands,omitempty"`
	MoreCommands int64            `json:"more_commands,omitempty"`
	Evidence     []Evidence       `json:"evidence"`
	// MoreEvidence counts the matches of the finding's rule on its
	// request or process (or copies of its event) that were read but not
	// kept, past MaxEvidence.
	MoreEvidence int64      `json:"more_evidence,omitempty"`
	Context      []Evidence `json:"context,omitempty"`
	// Related lists the IDs of findings about the same session: the
	// process an exec request started, the request that started a
	// process, or the commands run in the session and its shell. Candidates lists possible links that could not be told
	// apart (never merged silently).
	Related    []string `json:"related,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Notes      []string `json:"notes,omitempty"`
	Guidance   string   `json:"guidance,omitempty"`
	// SuppressedBy is set on findings an exception suppressed, when they
	// are shown anyway (--show-suppressed).
	SuppressedBy *SuppressedBy `json:"suppressed_by,omitempty"`

	// capped is the note saying how many events of the finding's thing
	// the evidence limit left out, "" when none.
	capped string
}

// SuppressedBy names the exception that suppressed a finding, and why.
type SuppressedBy struct {
	Exception string `json:"exception"`
	Reason    string `json:"reason"`
	Source    string `json:"source"`
}

// RuleRef identifies the rule behind a finding.
type RuleRef struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Severity  string   `json:"severity"`
	RiskScore int      `json:"risk_score"`
	Origin    string   `json:"origin"`
	Tactics   []string `json:"tactics,omitempty"`
	// Techniques lists ATT&CK technique and sub-technique IDs.
	Techniques []string `json:"techniques,omitempty"`
	// Tags are the rule file's tags, as written.
	Tags []string `json:"tags,omitempty"`

	rule *rules.Rule
}

// Rule returns the loaded rule, for writers that need its full metadata.
func (r RuleRef) Rule() *rules.Rule { return r.rule }

// User is who made the request.
type User struct {
	Name         string   `json:"name,omitempty"`
	ID           string   `json:"id,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	Impersonated *User    `json:"impersonated,omitempty"`
	// TokenPod and TokenNode are the pod (namespace/name) and node a
	// service account's token was bound to, as the API server records
	// it (user.extra authentication.kubernetes.io/pod-name, node-name):
	// the request came from inside that pod.
	TokenPod  string `json:"token_pod,omitempty"`
	TokenNode string `json:"token_node,omitempty"`
}

// Source is where the request came from. All but the last address can be
// set by the client.
type Source struct {
	IP []string `json:"ip,omitempty"`
}

// UserAgent is the client's self-description (untrusted).
type UserAgent struct {
	Original string `json:"original"`
}

// Orchestrator locates the pod.
type Orchestrator struct {
	Cluster   *Name     `json:"cluster,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	Resource  *Resource `json:"resource,omitempty"`
}

// Name is an object with just a name.
type Name struct {
	Name string `json:"name"`
}

// Resource is the Kubernetes object involved.
type Resource struct {
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// Container is the container involved.
type Container struct {
	Name  string `json:"name,omitempty"`
	ID    string `json:"id,omitempty"`
	Image string `json:"image,omitempty"`
}

// Host is the node.
type Host struct {
	Name string `json:"name"`
}

// Process is what ran: for an audit finding, the command the exec request
// asked for; for a process finding, the process itself.
type Process struct {
	Args             []string `json:"args,omitempty"`
	Executable       string   `json:"executable,omitempty"`
	Name             string   `json:"name,omitempty"`
	PID              int64    `json:"pid,omitempty"`
	EntityID         string   `json:"entity_id,omitempty"`
	EntryLeaderID    string   `json:"entry_leader_entity_id,omitempty"`
	WorkingDirectory string   `json:"working_directory,omitempty"`
	Interactive      *bool    `json:"interactive,omitempty"`
	UserID           string   `json:"user_id,omitempty"`
	// Time is when the process started (set on Finding.Started).
	Time string `json:"time,omitempty"`
	// End and ExitCode are when the process ended and with what code,
	// from its end event, for the first process of a container session
	// (a process finding about it, or the process an exec request
	// started); absent when the logs hold no end for it.
	End      string `json:"end,omitempty"`
	ExitCode *int64 `json:"exit_code,omitempty"`
	// entryType is how its session entered (entry_meta.type): container
	// for one entered from outside, as kubectl exec does.
	entryType string
}

// SessionCommand is one program run inside a container session.
type SessionCommand struct {
	Time             string   `json:"time,omitempty"`
	Args             []string `json:"args,omitempty"`
	Executable       string   `json:"executable,omitempty"`
	PID              int64    `json:"pid,omitempty"`
	EntityID         string   `json:"entity_id,omitempty"`
	UserID           string   `json:"user_id,omitempty"`
	WorkingDirectory string   `json:"working_directory,omitempty"`
	// End and ExitCode are when the program ended and with what code,
	// from its end event (read for sessions with a terminal only).
	End      string   `json:"end,omitempty"`
	ExitCode *int64   `json:"exit_code,omitempty"`
	Evidence Evidence `json:"evidence"`
}

// ExecFlags are the streams an exec request asked for.
type ExecFlags struct {
	TTY    bool `json:"tty"`
	Stdin  bool `json:"stdin"`
	Stdout bool `json:"stdout"`
	Stderr bool `json:"stderr"`
}

// Audit holds the Kubernetes audit details of an exec request.
type Audit struct {
	AuditID      string `json:"audit_id,omitempty"`
	Verb         string `json:"verb,omitempty"`
	Resource     string `json:"resource,omitempty"`
	Subresource  string `json:"subresource,omitempty"`
	RequestURI   string `json:"request_uri,omitempty"`
	Decision     string `json:"decision,omitempty"`
	Reason       string `json:"reason,omitempty"`
	ResponseCode int    `json:"response_code,omitempty"`
	// ResponseMessage is the response's status message, when it has
	// one: why a request failed ("pods \"x\" not found", a webhook's
	// refusal).
	ResponseMessage string `json:"response_message,omitempty"`
	// FallbackFrom is the audit ID of a WebSocket attempt kubectl made
	// just before this request, refused, before it fell back to SPDY.
	FallbackFrom string `json:"fallback_from,omitempty"`
}

// Session is the life of an exec request as its stages tell it.
type Session struct {
	Stages []string `json:"stages"`
	Start  string   `json:"start,omitempty"`
	End    string   `json:"end,omitempty"`
	// DurationMS is ResponseComplete minus requestReceived, when both are
	// known.
	DurationMS *int64 `json:"duration_ms,omitempty"`
	// Ongoing is set when no ResponseComplete stage was seen.
	Ongoing bool `json:"ongoing"`
}

// Evidence locates one event merged into a finding.
type Evidence struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	// Index is the event's position among the events of the record at
	// Line (an EventList, an export page), counted from 1; absent when
	// the record is the event.
	Index int    `json:"index,omitempty"`
	Stage string `json:"stage,omitempty"`
	// Time is the event's own time (@timestamp; for audit events the
	// stage's time).
	Time string `json:"time,omitempty"`
	// Note says what a context event is when it is not a stage of this
	// request: the refused WebSocket attempt before an SPDY retry.
	Note string `json:"note,omitempty"`
}

// Place renders the location as file:line, or file:line#index inside a
// record that holds several events.
func (e Evidence) Place() string {
	s := e.File + ":" + strconv.FormatInt(e.Line, 10)
	if e.Index > 0 {
		s += "#" + strconv.Itoa(e.Index)
	}
	return s
}

// Streams reports whether an audit finding is an exec or attach request:
// a session with streams into a container, rather than a request that
// reads or changes an object.
func Streams(f *Finding) bool {
	return f.Audit != nil && (f.Audit.Subresource == "exec" || f.Audit.Subresource == "attach")
}

// Path is the request's resource with its subresource, as the API path
// names them: "pods/exec", "secrets".
func (a *Audit) Path() string {
	if a.Subresource == "" {
		return a.Resource
	}
	return a.Resource + "/" + a.Subresource
}
