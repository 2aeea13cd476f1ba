package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// SARIF writes SARIF 2.1.0 for GitHub code scanning and other SARIF
// viewers: every rule that ran in tool.driver.rules, one result per
// finding located at its evidence lines, then one per suppressed finding
// shown (--show-suppressed), which carries its suppression.
type SARIF struct {
	// BaseDir makes input paths under it (the working directory) relative
	// to it, as code scanning expects paths relative to the checkout, and
	// resolves relative paths that climb out of it to file:/// URIs.
	BaseDir string
}

// InformationURI is k8sexec's home page, shown by SARIF viewers.
const InformationURI = "https://github.com/k8sexec/k8sexec"

// fingerprintKey names k8sexec's stable finding ID among a result's
// partial fingerprints.
const fingerprintKey = "k8sexecFindingId/v1"

func (s SARIF) Write(w io.Writer, r *Result) error {
	doc, index, err := s.skeleton(r)
	if err != nil {
		return err
	}
	fs := sarifFindings(r)
	// encoding/json sorts map keys, so the output is deterministic. Encode
	// without HTML escaping so that "<pod>" reads as written.
	var head bytes.Buffer
	if err := appendIndented(&head, doc, ""); err != nil {
		return err
	}
	// The results, most of the document, are encoded in parallel batches
	// (encodeEach) into the place of the empty list.
	text := head.Bytes()
	at := bytes.Index(text, []byte("\n"+sarifResultsIndent+`"results": []`))
	switch {
	case len(fs) == 0:
		_, err := w.Write(append(text, '\n'))
		return err
	case at < 0: // not reached: go-sarif lays runs out as expected
		return s.writeWhole(w, doc, index, fs)
	}
	at += 1 + len(sarifResultsIndent) + len(`"results": [`)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(text[:at])
	bw.WriteString("\n")
	err = encodeEach(bw, len(fs), func(buf *bytes.Buffer, i int) error {
		res, err := s.result(fs[i], index)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.WriteString(sarifResultsIndent + "  ")
		return appendIndented(buf, res, sarifResultsIndent+"  ")
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n" + sarifResultsIndent)
	bw.Write(text[at:])
	bw.WriteString("\n")
	return bw.Flush()
}

// sarifFindings are the findings that become results: those shown, then
// the suppressed ones shown with --show-suppressed, each in the report's
// order, as NDJSON and CSV list them.
func sarifFindings(r *Result) []*triage.Finding {
	if len(r.Suppressed) == 0 {
		return r.Findings
	}
	return append(slices.Clone(r.Findings), r.Suppressed...)
}

// writeWhole encodes doc with the results of fs in one piece. go-sarif's
// run cannot hold a sarifResult, so the run is encoded with a results
// member of its own standing in for go-sarif's: encoding/json writes it
// after the run's other members, where go-sarif's is too, as every member
// after that is empty.
func (s SARIF) writeWhole(w io.Writer, doc *sarif.Report, index map[string]int, fs []*triage.Finding) error {
	type runWithResults struct {
		*sarif.Run
		Results []*sarifResult `json:"results"`
	}
	type docWithRuns struct {
		*sarif.Report
		Runs []runWithResults `json:"runs"`
	}
	whole := docWithRuns{Report: doc, Runs: []runWithResults{{Run: doc.Runs[0], Results: []*sarifResult{}}}}
	for _, f := range fs {
		res, err := s.result(f, index)
		if err != nil {
			return err
		}
		whole.Runs[0].Results = append(whole.Runs[0].Results, res)
	}
	if err := encodeIndented(w, whole, ""); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// sarifResultsIndent is the indent of the results member of the run:
// {"runs": [{"results": ...}]}.
const sarifResultsIndent = "      "

// skeleton is the document without its results: the rules (index maps
// each rule ID to its place among them) and the invocation.
func (s SARIF) skeleton(r *Result) (*sarif.Report, map[string]int, error) {
	doc, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, nil, err
	}
	driver := sarif.NewVersionedDriver(r.Tool.Name, r.Tool.Version).WithInformationURI(InformationURI)
	run := sarif.NewRun(sarif.Tool{Driver: driver})

	index := map[string]int{}
	addRule := func(rule *rules.Rule) {
		if _, ok := index[rule.ID]; ok {
			return
		}
		index[rule.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule(rule))
	}
	for _, rule := range r.Rules {
		addRule(rule)
	}
	for _, f := range sarifFindings(r) {
		if rule := f.Rule.Rule(); rule != nil {
			addRule(rule)
		}
	}

	inv := run.AddInvocation(r.Summary.Totals.Incomplete == 0 && !r.Summary.Interrupted)
	for _, in := range r.Summary.Inputs {
		if in.Error != "" {
			id := "incomplete-input"
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
				Level:      "error",
				Message:    sarif.NewTextMessage(in.Error),
				Descriptor: &sarif.ReportingDescriptorReference{Id: &id},
			})
		}
	}
	// The scan's notes (execs Elastic's rule misses, what a replaced
	// built-in found, new_terms rules that could find nothing) are what a
	// CI job's reader should see beside the results.
	for _, n := range r.Notes {
		id := "scan-note"
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
			Level:      "note",
			Message:    sarif.NewTextMessage(n),
			Descriptor: &sarif.ReportingDescriptorReference{Id: &id},
		})
	}
	doc.AddRun(run)
	return doc, index, nil
}

// sarifResult is a result as go-sarif writes it, with suppressions of
// k8sexec's own: go-sarif writes a suppression's unset location and guid
// as null, which the schema does not allow. encoding/json writes this
// Suppressions in place of the embedded result's, which stays empty.
type sarifResult struct {
	*sarif.Result
	Suppressions []*sarifSuppression `json:"suppressions,omitempty"`
}

// sarifSuppression is SARIF's suppression object, with what k8sexec says:
// kind "external", as an exceptions file is kept apart from the logs.
type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
	sarif.PropertyBag
}

// result is the SARIF result of finding f, located at its evidence lines;
// a finding an exception suppressed carries that exception as an accepted
// suppression.
func (s SARIF) result(f *triage.Finding, index map[string]int) (*sarifResult, error) {
	i, ok := index[f.Rule.ID]
	if !ok {
		return nil, fmt.Errorf("sarif: finding %s has rule %s, which did not run", f.ID, f.Rule.ID)
	}
	res := sarif.NewRuleResult(f.Rule.ID).
		WithRuleIndex(i).
		WithLevel(sarifLevel(f.Rule.Severity)).
		WithMessage(sarif.NewTextMessage(Headline(f)))
	res.WithPartialFingerPrints(map[string]interface{}{fingerprintKey: f.ID})
	// Evidence first, then context, up to GitHub's limit of locations
	// per result; JSON output keeps them all.
	places := append(slices.Clone(f.Evidence), f.Context...)
	omitted := max(0, len(places)-MaxSARIFLocations)
	for j, ev := range places[:len(places)-omitted] {
		loc := s.location(ev)
		if j == 0 {
			res.AddLocation(loc)
		} else {
			res.AddRelatedLocation(loc.WithId(j))
		}
	}
	props := sarif.NewPropertyBag()
	props.Add("k8sexec", findingProperties(f))
	if omitted > 0 {
		props.Add("k8sexec/omittedLocations", omitted)
	}
	res.AttachPropertyBag(props)
	out := &sarifResult{Result: res}
	if by := f.SuppressedBy; by != nil {
		sup := &sarifSuppression{Kind: "external", Status: "accepted", Justification: by.Reason}
		props := sarif.NewPropertyBag()
		props.Add("k8sexec/exception", by.Exception)
		props.Add("k8sexec/source", by.Source)
		sup.AttachPropertyBag(props)
		out.Suppressions = []*sarifSuppression{sup}
	}
	return out, nil
}

func sarifRule(r *rules.Rule) *sarif.ReportingDescriptor {
	desc := r.Description
	if desc == "" {
		desc = r.Name
	}
	d := sarif.NewRule(r.ID).
		WithShortDescription(sarif.NewMultiformatMessageString(r.Name)).
		WithFullDescription(sarif.NewMultiformatMessageString(triage.Cut(desc, maxSARIFDescription))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(r.Severity)))
	if name := sarifRuleName(r.Name); name != "" {
		d.WithName(name)
	}
	help := triage.GenericGuide(r)
	if help == "" {
		help = desc // whole: the description is cut above, the help is not
	}
	d.WithHelp(&sarif.MultiformatMessageString{Text: &help, Markdown: &help})
	// helpUri must be an absolute URI: the first reference that is one.
	for _, ref := range r.References {
		if absoluteURI(ref) {
			d.WithHelpURI(ref)
			break
		}
	}
	// GitHub rejects a rule with more than 20 tags (and shows 10): the
	// first are the ones that matter most.
	tags := append([]string{"security"}, r.AttackIDs()...)
	for _, t := range r.Tags {
		if !containsString(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) > MaxSARIFTags {
		tags = tags[:MaxSARIFTags]
	}
	props := sarif.NewPropertyBag()
	props.Add("tags", tags)
	props.Add("security-severity", fmt.Sprintf("%.1f", float64(r.RiskScore)/10))
	props.Add("precision", "high")
	props.Add("problem.severity", sarifProblemSeverity(r.Severity))
	props.Add("k8sexec/origin", r.Origin)
	d.AttachPropertyBag(props)
	return d
}

// sarifRuleName turns a rule's title into the identifier-like name SARIF
// viewers show: "Kubernetes User Exec into Pod" -> "KubernetesUserExecIntoPod".
// Letters of any script are kept; a title without any gives "" (no name).
func sarifRuleName(name string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		first, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToUpper(first))
		b.WriteString(word[size:])
	}
	return b.String()
}

// absoluteURI reports whether s is an absolute URI as RFC 3986 writes
// one (SARIF's helpUri is one): a scheme, and only the characters a URI
// may hold, so no space, backslash or non-ASCII letter unencoded.
func absoluteURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`"+`{|}`, c) >= 0 {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

// GitHub code scanning's limits on what one SARIF file may hold
// (docs/ci.md): a run with more results, or a result with more
// locations, or a rule with more tags, is rejected.
const (
	MaxSARIFResults   = 25000
	MaxSARIFLocations = 1000
	MaxSARIFTags      = 20
	// maxSARIFDescription is where GitHub cuts a rule's full
	// description; the help holds the whole text.
	maxSARIFDescription = 1024
)

func sarifLevel(severity string) string {
	switch severity {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

func sarifProblemSeverity(severity string) string {
	switch severity {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "recommendation"
}

// artifactURI names an input as a SARIF artifact: a URI reference, with
// what a URI cannot hold percent-encoded. A file under base (the working
// directory) is named relative to it, so that code-scanning UIs place it
// in the repository; a file elsewhere, given by an absolute path or by a
// relative one that climbs out of base ("../t/a.log"), is a file:/// URI;
// standard input is "stdin". Without a base a relative path is left
// relative, as nothing says where it climbs to.
func artifactURI(file, base string) string {
	if file == "-" {
		return "stdin"
	}
	if !filepath.IsAbs(file) && base != "" && climbsOut(filepath.Clean(file)) {
		file = filepath.Join(base, file)
	}
	if filepath.IsAbs(file) {
		rel, err := filepath.Rel(base, file)
		if base == "" || err != nil || climbsOut(rel) {
			p := filepath.ToSlash(file)
			if !strings.HasPrefix(p, "/") {
				p = "/" + p // a Windows drive: file:///C:/logs/audit.log
			}
			return (&url.URL{Scheme: "file", Path: p}).String()
		}
		file = rel
	}
	return (&url.URL{Path: strings.TrimPrefix(filepath.ToSlash(filepath.Clean(file)), "./")}).String()
}

// climbsOut reports whether the clean relative path rel leaves the folder
// it is relative to: ".." or "../x", not "..x".
func climbsOut(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (s SARIF) location(ev triage.Evidence) *sarif.Location {
	uri := artifactURI(ev.File, s.BaseDir)
	line := int(ev.Line)
	if line < 1 {
		line = 1
	}
	loc := sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri)).
		WithRegion(sarif.NewSimpleRegion(line, line)))
	if ev.Stage != "" {
		loc.WithDescriptionText(ev.Stage)
	}
	return loc
}

// findingProperties is the finding itself, as in the JSON report, so a
// SARIF consumer loses nothing, less its guidance (in the rule's help;
// per-finding text bloats uploads).
func findingProperties(f *triage.Finding) json.RawMessage {
	g := *f
	g.Guidance = ""
	var buf bytes.Buffer
	if err := appendLine(&buf, &g); err != nil {
		return json.RawMessage("null") // not reached: a Finding always marshals
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
