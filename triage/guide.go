package triage

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/k8sexec/k8sexec/rules"
)

// GuideData is what a rule's investigation guide template can use. Every
// string comes from the logs; templates pass values bound for a shell
// through `sh` and values bound for a KQL query through `kql`.
type GuideData struct {
	Rule         string
	User         string
	Groups       string
	Impersonated string
	SourceIP     string // the first source address
	SourceIPs    string
	UserAgent    string
	Cluster      string
	Namespace    string
	Pod          string
	Container    string
	ContainerID  string
	Image        string
	Node         string
	Command      string // the exec'd argv, shell-quoted for reading, cut at MaxCommandText
	Interactive  bool   // a TTY and stdin were requested
	TTY, Stdin   bool
	StreamsKnown bool // the log records which streams were attached
	Time         string
	// Duration is how long the session lasted: for an exec request, from
	// its audit stages; for a process finding, from its first event to
	// the process's end.
	Duration string
	Ongoing  bool
	// Ended and ExitCode are when the session's first process ended and
	// its exit code, "" when the logs hold no end or no code: a process
	// finding's own process, or the process an exec request started.
	Ended, ExitCode string
	// RequestEnded is, for a process finding linked to the exec request
	// that opened its session, when that request's stream closed
	// (ResponseComplete).
	RequestEnded  string
	Verb          string
	AuditID       string
	Decision      string
	Reason        string
	ResponseCode  int
	Process       string // executable of a process finding
	EntryLeaderID string
	// Inputs are the scan's inputs, shell-quoted, for follow-up commands.
	Inputs string
	// ExecBy and ExecFrom name the user and address of the exec request
	// linked to a process finding; LinkedFinding is the other finding's
	// ID and LinkedProcess the process an exec request started.
	ExecBy, ExecFrom, LinkedFinding, LinkedProcess string
	// Ambiguous is set when several findings could be the other side of
	// this session.
	Ambiguous bool
	// CommandCount is how many programs ran in the container session
	// (listed, and counted beyond the list).
	CommandCount int64
	// ProcessEvents is set when the scan held container process events
	// (sessions were seen), so a missing link means something;
	// AuditEvents when it held API server audit events.
	ProcessEvents, AuditEvents bool
	// As is kubectl's impersonation flags, shell-quoted, for the identity
	// whose rights the API server checked (the impersonated one, when
	// the request impersonated): --as with the user, and --as-group with
	// each group the log recorded, as groups often hold the binding,
	// but those impersonating the user brings anyway (extraGroups).
	As string
	// ImpersonateChecks, when the request impersonated, is kubectl
	// commands (one line, joined by "; ") asking whether User may
	// impersonate that identity and its groups.
	ImpersonateChecks string
	// TokenPod and TokenNode are where the service account token the
	// request used was bound (User.TokenPod, TokenNode).
	TokenPod, TokenNode string
	// Masters is set when the identity checked is in system:masters,
	// which skips authorization: no binding granted it.
	Masters bool
	// Failed is set when the request was refused or answered with an
	// error (ResponseCode 400 or more: a 404 for a pod not found, a 403
	// from admission), so it opened no stream; ResponseMessage says why.
	Failed          bool
	ResponseMessage string
	// FromStdin is set when the logs were read from standard input, so
	// follow-up commands must be given them again.
	FromStdin bool
	// Copy is "download" or "upload" when the command is the tar that
	// kubectl cp runs in the container to copy files out or in.
	Copy string
}

// kqlQuote renders s as a quoted KQL value.
func kqlQuote(s string) string {
	return `"` + kqlEscaper.Replace(s) + `"`
}

// kqlEscaper is built once: a Replacer costs more to build than to run.
var kqlEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// guideTemplate is a rule's parsed guide, or why it cannot be used.
type guideTemplate struct {
	t   *template.Template
	err error
}

type guideCache map[*rules.Rule]guideTemplate

func newGuideCache() guideCache { return guideCache{} }

// prepare parses the rule's guide template once. After every rule is
// prepared, render only reads the cache, and may run in parallel.
func (c guideCache) prepare(r *rules.Rule) guideTemplate {
	if g, ok := c[r]; ok {
		return g
	}
	var g guideTemplate
	if r.Note != "" && r.NoteTemplate {
		g.t, g.err = parseGuide(r)
		if g.err == nil {
			oneLineActions(g.t)
		}
	}
	c[r] = g
	return g
}

// render fills the rule's guide with the finding's values. A rule whose
// note is not a k8sexec template is shown as written; a template that fails
// (a user's rule file) falls back to the raw note with the error.
// scannedKinds says which kinds of events the scan read, for what a guide
// may say is missing from them.
type scannedKinds struct{ process, audit bool }

func (c guideCache) render(r *rules.Rule, f *Finding, byID map[string]*Finding, inputs []string, scanned scannedKinds) string {
	if r.Note == "" {
		return ""
	}
	if !r.NoteTemplate {
		return r.Note
	}
	g, ok := c[r]
	if !ok {
		g = c.prepare(r)
	}
	if g.err != nil {
		return r.Note + "\n\n(k8sexec: the guide template failed: " + g.err.Error() + ")"
	}
	d := guideData(f, byID, inputs)
	d.ProcessEvents, d.AuditEvents = scanned.process, scanned.audit
	text, err := execGuide(g.t, d)
	if err != nil {
		return r.Note + "\n\n(k8sexec: the guide template failed: " + err.Error() + ")"
	}
	return text
}

// CheckGuide reports why a rule's guide template cannot be filled in,
// or nil when it can (or the rule has no template): as a scan parses it.
func CheckGuide(r *rules.Rule) error {
	if r.Note == "" || !r.NoteTemplate {
		return nil
	}
	_, err := parseGuide(r)
	return err
}

// maxGuide bounds what one guide may print: a rule file's template that
// prints a long value many times must not take all memory.
const maxGuide = 256 << 10

// parseGuide parses a rule's guide template. A rule file comes from
// anyone, and filling its guide must take time and memory in proportion
// to the template and the finding: loops (range) and calls of other
// templates (template, block), which can repeat work without bound, are
// refused. k8sexec's own guides use neither.
func parseGuide(r *rules.Rule) (*template.Template, error) {
	t, err := template.New(r.ID).Funcs(boundedFuncs).Option("missingkey=error").Parse(r.Note)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Name() != t.Name() {
			return nil, fmt.Errorf("defines template %q: a guide may not define or call templates", tt.Name())
		}
		if tt.Tree != nil {
			if err := boundedNodes(tt.Tree, tt.Tree.Root); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// boundedNodes refuses the actions that can repeat: range, template.
func boundedNodes(tree *parse.Tree, n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := boundedNodes(tree, c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		loc, _ := tree.ErrorContext(n)
		return fmt.Errorf("%s: range: a guide may not loop", loc)
	case *parse.TemplateNode:
		loc, _ := tree.ErrorContext(n)
		return fmt.Errorf("%s: template %q: a guide may not define or call templates", loc, n.Name)
	case *parse.IfNode:
		return errors.Join(boundedNodes(tree, n.List), boundedNodes(tree, n.ElseList))
	case *parse.WithNode:
		return errors.Join(boundedNodes(tree, n.List), boundedNodes(tree, n.ElseList))
	}
	return nil
}

// errGuideLong is a guide, or a value it computes, longer than maxGuide.
var errGuideLong = fmt.Errorf("the guide is longer than %d KiB", maxGuide>>10)

// boundedFuncs are the functions guide templates may call: sh, kql and
// oneLine (which every printing action ends in, oneLineActions), and
// text/template's builtins that make strings, each refusing to make one
// longer than maxGuide: a template that doubles a value in a variable
// ({{$x = print $x $x}}) prints little, and must stop all the same. A
// builtin named here is replaced by its bounded twin.
var boundedFuncs = func() template.FuncMap {
	m := template.FuncMap{}
	m["sh"] = func(s string) (string, error) { return bounded(len(s)*4, func() string { return ShellQuote(s) }) }
	m["kql"] = func(s string) (string, error) { return bounded(len(s)*2+2, func() string { return kqlQuote(s) }) }
	m["oneLine"] = func(v any) (string, error) { return bounded(argsLen([]any{v}), func() string { return oneLine(v) }) }
	m["print"] = func(args ...any) (string, error) {
		return bounded(argsLen(args), func() string { return fmt.Sprint(args...) })
	}
	m["println"] = func(args ...any) (string, error) {
		return bounded(argsLen(args)+len(args), func() string { return fmt.Sprintln(args...) })
	}
	m["printf"] = func(format string, args ...any) (string, error) {
		if err := checkFormat(format); err != nil {
			return "", err
		}
		return bounded(len(format)+argsLen(args), func() string { return fmt.Sprintf(format, args...) })
	}
	for name, esc := range map[string]func(...any) string{"html": template.HTMLEscaper, "js": template.JSEscaper, "urlquery": template.URLQueryEscaper} {
		m[name] = func(args ...any) (string, error) {
			return bounded(argsLen(args)*6, func() string { return esc(args...) })
		}
	}
	return m
}()

// bounded makes a string with build, when the most it may be, most, and what
// it is are within maxGuide.
func bounded(most int, build func() string) (string, error) {
	if most > maxGuide {
		return "", errGuideLong
	}
	if s := build(); len(s) <= maxGuide {
		return s, nil
	}
	return "", errGuideLong
}

// argsLen is how long the arguments print, each as fmt prints it (a guide's
// values are strings, numbers and booleans).
func argsLen(args []any) int {
	n := 0
	for _, a := range args {
		if s, ok := a.(string); ok {
			n += len(s)
		} else {
			n += len(fmt.Sprint(a))
		}
	}
	return n
}

// checkFormat refuses a printf format whose width or precision could make
// a long string from a short one: one over four digits, or given by an
// argument (*).
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		digits := 0
	spec:
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '*':
				return fmt.Errorf("printf %q: a width or precision from an argument (*) is not allowed in a guide", format)
			case c >= '0' && c <= '9':
				if digits++; digits > 4 {
					return fmt.Errorf("printf %q: a width or precision over 9999 is not allowed in a guide", format)
				}
				continue
			case c == '.' || c == '[' || c == ']' || strings.IndexByte("+-# ", c) >= 0:
				digits = 0
				continue
			}
			break spec // the verb
		}
	}
	return nil
}

// execGuide runs a parsed guide on d, stopping once it prints more than
// maxGuide bytes.
func execGuide(t *template.Template, d GuideData) (string, error) {
	w := &cappedBuffer{max: maxGuide}
	if err := t.Execute(w, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(w.b.String()), nil
}

// cappedBuffer is a bytes.Buffer that refuses to grow past max.
type cappedBuffer struct {
	b   bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.b.Len()+len(p) > c.max {
		return 0, fmt.Errorf("the guide is longer than %d KiB", c.max>>10)
	}
	return c.b.Write(p)
}

func guideData(f *Finding, byID map[string]*Finding, inputs []string) GuideData {
	d := GuideData{Rule: f.Rule.Name, Time: f.Timestamp}
	if d.Time == "" {
		d.Time = "an unknown time" // the guides say "at" and "around" it
	}
	for _, id := range f.Related {
		other := byID[id]
		if other == nil {
			continue
		}
		switch {
		case other.Kind == KindAudit && other.User != nil:
			d.ExecBy = other.User.Name
			if imp := other.User.Impersonated; imp != nil && imp.Name != "" {
				// The table's linked line's words.
				d.ExecBy = cmp.Or(d.ExecBy, "a user the log does not name") + " as " + imp.Name
			}
			if other.Source != nil && len(other.Source.IP) > 0 {
				d.ExecFrom = other.Source.IP[0]
			}
			if sess := other.Session; sess != nil && !sess.Ongoing && sess.End != "" && Streams(other) {
				d.RequestEnded = sess.End
			}
			d.LinkedFinding = other.ID
		case other.Kind == KindProcess && other.Process != nil:
			d.LinkedFinding = other.ID
		}
	}
	if f.Started != nil {
		d.LinkedProcess = processLabel(f.Started)
		d.Ended, d.ExitCode = processEnd(f.Started)
	}
	d.CommandCount = int64(len(f.Commands)) + f.MoreCommands
	d.Ambiguous = len(f.Candidates) > 0
	if f.User != nil {
		d.User = f.User.Name
		d.Groups = strings.Join(f.User.Groups, ", ")
		checked := f.User
		if imp := f.User.Impersonated; imp != nil {
			d.Impersonated = imp.Name
			checked = imp
			d.ImpersonateChecks = impersonateChecks(f.User, imp)
		}
		d.As = asFlags(checked)
		d.Masters = slices.Contains(checked.Groups, "system:masters")
		d.TokenPod, d.TokenNode = f.User.TokenPod, f.User.TokenNode
	}
	if d.As == "" || f.User.Name == "" && f.User.Impersonated == nil {
		// An event without a user (a damaged line): without --as,
		// can-i would check the investigator's own rights.
		d.As = "--as '<user>'"
	}
	if f.Source != nil && len(f.Source.IP) > 0 {
		d.SourceIP = f.Source.IP[0]
		d.SourceIPs = strings.Join(f.Source.IP, ", ")
	}
	if f.UserAgent != nil {
		d.UserAgent = f.UserAgent.Original
	}
	if f.Orch != nil {
		d.Namespace = f.Orch.Namespace
		if f.Orch.Resource != nil {
			d.Pod = f.Orch.Resource.Name
		}
		if f.Orch.Cluster != nil {
			d.Cluster = f.Orch.Cluster.Name
		}
	}
	if f.Container != nil {
		d.Container, d.ContainerID, d.Image = f.Container.Name, f.Container.ID, f.Container.Image
	}
	if f.Host != nil {
		d.Node = f.Host.Name
	}
	if f.Process != nil {
		if f.Kind == KindAudit {
			d.Command = Cut(Command(f.Process.Args), MaxCommandText)
		} else {
			d.Process = f.Process.Executable
			if d.Process == "" {
				d.Process = f.Process.Name
			}
			d.EntryLeaderID = f.Process.EntryLeaderID
			if d.EntryLeaderID == "" {
				d.EntryLeaderID = f.Process.EntityID
			}
			d.Ended, d.ExitCode = processEnd(f.Process)
			if lasted, ok := Lasted(f.Timestamp, f.Process.End); ok {
				d.Duration = FormatDuration(lasted)
			}
		}
	}
	if f.Exec != nil {
		d.StreamsKnown = true
		d.TTY, d.Stdin = f.Exec.TTY, f.Exec.Stdin
		d.Interactive = f.Exec.TTY && f.Exec.Stdin
	}
	if f.Audit != nil {
		d.Verb, d.AuditID = f.Audit.Verb, f.Audit.AuditID
		d.Decision, d.Reason, d.ResponseCode = f.Audit.Decision, f.Audit.Reason, f.Audit.ResponseCode
		d.Failed = Failed(f)
		d.ResponseMessage = f.Audit.ResponseMessage
	}
	if f.Kind == KindAudit && f.Process != nil {
		d.Copy = copyDirection(f.Process.Args)
	}
	if f.Session != nil {
		d.Ongoing = f.Session.Ongoing
		if f.Session.DurationMS != nil {
			d.Duration = FormatDuration(time.Duration(*f.Session.DurationMS) * time.Millisecond)
		}
	}
	d.FromStdin = slices.Contains(inputs, "-")
	quoted := make([]string, 0, len(inputs)+1)
	for _, in := range inputs {
		if in != "-" && strings.HasPrefix(in, "-") && (len(quoted) == 0 || quoted[0] != "--") {
			// A path that looks like a flag is one after "--".
			quoted = append([]string{"--"}, quoted...)
		}
		quoted = append(quoted, ShellQuote(in))
	}
	d.Inputs = strings.Join(quoted, " ")
	return d
}

// processEnd is when a process ended and its exit code, as the guides
// print them.
func processEnd(p *Process) (at, code string) {
	at = p.End
	if p.ExitCode != nil {
		code = strconv.FormatInt(*p.ExitCode, 10)
		if at == "" {
			at = "an unknown time" // the end event has no date
		}
	}
	return at, code
}

// asFlags renders kubectl's flags to act as u: --as, and --as-group for
// each of its groups that impersonating u does not add by itself.
func asFlags(u *User) string {
	flags := "--as " + ShellQuote(u.Name)
	for _, g := range extraGroups(u) {
		flags += " --as-group " + ShellQuote(g)
	}
	return flags
}

// extraGroups are u's groups that impersonating u does not bring:
// system:authenticated comes with any user, and a service account's own
// groups (system:serviceaccounts, system:serviceaccounts:NAMESPACE) with
// it. Any other group was asked for, and needs a right of its own.
func extraGroups(u *User) []string {
	ns, _, sa := serviceAccount(u.Name)
	var out []string
	for _, g := range u.Groups {
		if g == "system:authenticated" || sa && (g == "system:serviceaccounts" || g == "system:serviceaccounts:"+ns) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// impersonateChecks renders kubectl auth can-i commands asking whether
// requester may impersonate imp: its user (or service account) and each
// of the groups asked for with it.
func impersonateChecks(requester, imp *User) string {
	as := asFlags(requester)
	var checks []string
	if ns, name, ok := serviceAccount(imp.Name); ok {
		checks = append(checks, "kubectl auth can-i impersonate serviceaccounts/"+ShellQuote(name)+" -n "+ShellQuote(ns)+" "+as)
	} else if imp.Name != "" {
		checks = append(checks, "kubectl auth can-i impersonate users/"+ShellQuote(imp.Name)+" "+as)
	}
	for _, g := range extraGroups(imp) {
		checks = append(checks, "kubectl auth can-i impersonate groups/"+ShellQuote(g)+" "+as)
	}
	return strings.Join(checks, "; ")
}

// serviceAccount splits a service account's user name,
// system:serviceaccount:NAMESPACE:NAME.
func serviceAccount(user string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != ""
}

// copyDirection says whether argv is the tar kubectl cp runs in a
// container: "tar cf - PATH" to copy out ("download"), "tar xmf - -C
// DIR" (or xf, after --no-same-permissions --no-same-owner with
// --no-preserve) to copy in ("upload"); "" for any other command. With
// --retries, kubectl cp copies out through a shell that resumes at an
// offset: sh -c "tar cf - PATH | tail -c+N".
func copyDirection(argv []string) string {
	if len(argv) == 3 && argv[0] == "sh" && argv[1] == "-c" && isResumedCopyOut(argv[2]) {
		return "download"
	}
	if len(argv) < 3 || argv[0] != "tar" {
		return ""
	}
	rest := argv[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "--") {
		rest = rest[1:]
	}
	if len(rest) < 2 || rest[1] != "-" {
		return ""
	}
	switch strings.TrimPrefix(rest[0], "-") {
	case "cf":
		return "download"
	case "xmf", "xf":
		return "upload"
	}
	return ""
}

// isResumedCopyOut reports whether script is "tar cf - PATH | tail -c+N".
func isResumedCopyOut(script string) bool {
	rest, ok := strings.CutPrefix(script, "tar cf - ")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, " | tail -c+")
	if i <= 0 {
		return false
	}
	n := rest[i+len(" | tail -c+"):]
	return n != "" && strings.Trim(n, "0123456789") == ""
}

// FormatDuration renders a session length for people: "14m 3s", "2h 5m",
// "350ms".
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}

// GenericGuide renders a rule's guide with placeholders in place of a
// finding's values, for documentation such as SARIF rule help.
func GenericGuide(r *rules.Rule) string {
	if !r.NoteTemplate {
		return r.Note
	}
	t, err := parseGuide(r)
	if err != nil {
		return r.Note
	}
	d := GuideData{
		Rule: r.Name, User: "<user>", SourceIP: "<source-ip>", SourceIPs: "<source-ip>", UserAgent: "<user-agent>",
		Namespace: "<namespace>", Pod: "<pod>", Container: "<container>", ContainerID: "<container-id>", Node: "<node>",
		Command: "<command>", Time: "<time>", Process: "<process>", EntryLeaderID: "<entry-leader-id>", Inputs: "'<logs>'",
		StreamsKnown: true, As: "--as '<user>' --as-group '<group>'", Decision: "forbid", Ended: "<end>", ExitCode: "<exit-code>",
	}
	text, err := execGuide(t, d)
	if err != nil {
		return r.Note
	}
	return text
}

// lineBreaks are what oneLine turns into spaces.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ", "\u2028", " ", "\u2029", " ")

// oneLine is what every action of a guide prints (oneLineActions): its
// value on one line. A guide is lines of text with commands among them,
// and a value from the log (an RBAC reason, a user agent) that held a
// line break would start lines of its own, which read as the guide's.
// Functions get the values as they are: sh quotes a user name with a
// line break exactly.
func oneLine(v any) string { return lineBreaks.Replace(fmt.Sprint(v)) }

// oneLineActions makes every action of t that prints a value pipe it
// through oneLine: {{.Reason}} prints as {{.Reason | oneLine}}.
func oneLineActions(t *template.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			oneLineNodes(tt.Tree, tt.Tree.Root)
		}
	}
}

func oneLineNodes(tree *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			oneLineNodes(tree, c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) == 0 { // {{$x := ...}} prints nothing
			call := parse.NewIdentifier("oneLine").SetTree(tree).SetPos(n.Pos)
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{call}})
		}
	case *parse.IfNode:
		oneLineNodes(tree, n.List)
		oneLineNodes(tree, n.ElseList)
	case *parse.RangeNode:
		oneLineNodes(tree, n.List)
		oneLineNodes(tree, n.ElseList)
	case *parse.WithNode:
		oneLineNodes(tree, n.List)
		oneLineNodes(tree, n.ElseList)
	}
}
