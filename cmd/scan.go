package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/k8sexec/k8sexec/triage"
	"github.com/spf13/cobra"
)

type scanOptions struct {
	rules          ruleFlags
	filter         filterFlags
	window         timeWindow
	exceptions     []string
	showSuppressed bool
	format         string
	output         string
	color          string
	guide          string
	failOn         string
	minSeverity    string
	baseline       string
	baselineMaybe  string
	writeBaseline  string
	progress       string
	workers        int
	maxLineSize    int
	quiet          bool
}

// shownProblems is how many malformed-line locations go to stderr.
const shownProblems = 5

func newScanCmd(e *env) *cobra.Command {
	o := &scanOptions{}
	c := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Scan logs for exec sessions into containers",
		Long: `Scan Kubernetes audit logs and container process-event logs for exec sessions into
running containers, and print one finding per session with investigation guidance.

PATH is a file, a folder (read recursively) or "-" for standard input; with no PATH,
k8sexec reads standard input when it is not a terminal. Files may be plain, gzip or
zstd, detected from their first bytes.

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage error or an
input that could not be read completely (the report is still written), 130 interrupted.`,
		Example: `  k8sexec scan audit.log
  k8sexec scan /var/log/kubernetes/
  zcat audit.log.gz | k8sexec scan -
  kubectl logs -n kube-system kube-apiserver-cp-1 --timestamps | k8sexec scan -
  k8sexec scan --format ndjson audit.log | jq .user.name`,
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(c.Context(), e, o, args)
		},
	}
	f := c.Flags()
	o.rules.register(c)
	o.filter.register(c)
	f.StringVarP(&o.format, "format", "f", "table", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout (- for stdout)")
	f.StringVar(&o.color, "color", "auto", "colour the table: auto, always, never (auto honours NO_COLOR)")
	f.StringVar(&o.guide, "guide", "full", "investigation guidance in the table: full, short, none")
	f.StringVar(&o.failOn, "fail-on", "low", "exit 1 when a finding is at least this severe: low, medium, high, critical, none")
	f.StringVar(&o.minSeverity, "min-severity", "low", "report only findings at least this severe (does not change the exit code)")
	f.StringVar(&o.baseline, "baseline", "", "suppress findings already in this earlier JSON report (by finding ID)")
	f.StringVar(&o.baselineMaybe, "baseline-if-exists", "", "like --baseline, but a missing file is an empty baseline (for a job's first run)")
	f.StringVar(&o.writeBaseline, "write-baseline", "", "also write every finding but those exceptions suppress to this file as a JSON report, for --baseline next time")
	f.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto (a terminal, not in CI), always, never")
	f.StringVar(&o.window.since, "since", "", "report only findings at or after this time: RFC 3339, a date, or a duration back from now (6h, 7d)")
	f.StringVar(&o.window.until, "until", "", "report only findings before this time (same forms as --since)")
	f.StringArrayVar(&o.exceptions, "exceptions", nil, "suppress known-benign findings listed in this TOML file (repeatable; docs/exceptions.md)")
	f.BoolVar(&o.showSuppressed, "show-suppressed", false, "list the findings exceptions suppressed, with the exception and its reason")
	f.StringVar(&o.window.now, "now", "", "the time durations in --since/--until count back from, and exceptions expire against: RFC 3339 or a date (default: the clock)")
	workersFlag(c, &o.workers)
	lineSizeFlag(c, &o.maxLineSize)
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on stderr except errors")
	return c
}

func (o *scanOptions) validate() error {
	if err := oneOf("format", o.format, report.Formats...); err != nil {
		return err
	}
	if err := oneOf("color", o.color, "auto", "always", "never"); err != nil {
		return err
	}
	if err := oneOf("guide", o.guide, "full", "short", "none"); err != nil {
		return err
	}
	if err := oneOf("fail-on", o.failOn, "low", "medium", "high", "critical", "none"); err != nil {
		return err
	}
	if err := oneOf("min-severity", o.minSeverity, "low", "medium", "high", "critical"); err != nil {
		return err
	}
	if err := oneOf("progress", o.progress, "auto", "always", "never"); err != nil {
		return err
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if o.output == scan.Stdin {
		o.output = "" // -o - is standard output, as inputs read "-" as standard input
	}
	if o.writeBaseline == scan.Stdin {
		return usageError("--write-baseline -: a baseline is a file the next run reads; name one")
	}
	if err := o.filter.check(); err != nil {
		return err
	}
	return checkLineSize(o.maxLineSize)
}

// useColor decides colour once: --color, then NO_COLOR, then whether the
// report goes to a terminal.
func (o *scanOptions) useColor(e *env) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	if v, ok := os.LookupEnv("NO_COLOR"); ok && v != "" {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	return o.output == "" && e.stdoutTTY
}

func runScan(ctx context.Context, e *env, o *scanOptions, args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	if len(args) == 0 {
		if e.stdinTTY {
			return usageError("no input: give a file or folder, or pipe logs in (zcat audit.log.gz | k8sexec scan -)")
		}
		args = []string{scan.Stdin}
	}
	warn := e.stderr
	if o.quiet {
		warn = nil
	}
	set, skipped, err := o.rules.load(warn)
	if err != nil {
		return err
	}
	if len(set.Rules) == 0 {
		// A scan that runs nothing would pass every job.
		return usageError("no rule left to run: --only-rule and --disable-rule ruled out every one (see k8sexec rules list)")
	}
	since, until, now, err := o.window.resolve(time.Now())
	if err != nil {
		return err
	}
	var exceptions []*triage.Exception
	for _, path := range o.exceptions {
		exs, err := triage.LoadExceptions(path)
		if err != nil {
			return usageError("--exceptions: %v", err)
		}
		exceptions = append(exceptions, exs...)
	}
	if warn != nil {
		for _, w := range triage.UnknownRules(exceptions, func(id string) bool { return set.ByID(id) != nil }) {
			fmt.Fprintln(warn, "k8sexec: warning: "+report.Clean(w))
		}
	}
	cwd, _ := os.Getwd()
	writer, err := report.New(o.format, report.Options{Color: o.useColor(e), Guide: o.guide, BaseDir: cwd})
	if err != nil {
		return usageError("%v", err)
	}
	var baseline map[string]bool
	switch {
	case o.baseline != "" && o.baselineMaybe != "":
		return usageError("use --baseline or --baseline-if-exists, not both")
	case o.baseline != "":
		if baseline, err = loadBaseline(o.baseline); err != nil {
			return usageError("--baseline: %v", err)
		}
	case o.baselineMaybe != "":
		if _, statErr := os.Stat(o.baselineMaybe); statErr == nil {
			if baseline, err = loadBaseline(o.baselineMaybe); err != nil {
				return usageError("--baseline-if-exists: %v", err)
			}
		} else if !errors.Is(statErr, fs.ErrNotExist) {
			return usageError("--baseline-if-exists: %v", statErr)
		}
	}

	x := o.filter.expand(args, warn)
	inputs, expandErrs := x.Inputs, x.Errors
	// A report or baseline this job wrote into a folder it scans is no
	// log: read the rest. (Named as an input, it is refused below.)
	inputs = withoutOwnFiles(inputs, args, warn, map[string]string{
		"--output": o.output, "--write-baseline": o.writeBaseline, "--baseline": o.baseline, "--baseline-if-exists": o.baselineMaybe})

	// Open the outputs before scanning: a bad path should fail before a
	// long scan. None may be a file the scan reads (creating it would
	// empty the evidence before it is read) or the other output.
	read := readFiles{stdin: e.stdin}
	for _, in := range inputs {
		read.add(in.Name, "an input", "creating it would empty it before it is scanned")
	}
	for _, path := range o.exceptions {
		read.add(path, "an --exceptions file", "creating it would overwrite it")
	}
	for _, path := range o.rules.read {
		read.add(path, "a --rules file", "creating it would overwrite it")
	}
	// Both outputs are checked before either is created. The report may
	// not be a baseline read either (the next run would take the report
	// for its baseline); the new baseline may: that is the CI loop.
	asOutput := readFiles{stdin: read.stdin, files: slices.Clone(read.files)}
	asOutput.add(o.baseline, "the --baseline file", "the next run would read this report as its baseline")
	asOutput.add(o.baselineMaybe, "the --baseline-if-exists file", "the next run would read this report as its baseline")
	if err := asOutput.refuse("--output", o.output); err != nil {
		return err
	}
	read.add(o.output, "--output's file", "two reports cannot share a file")
	if err := read.refuse("--write-baseline", o.writeBaseline); err != nil {
		return err
	}
	// The new baseline is written beside the old and renamed over it at
	// the end, so a scan that fails or is killed leaves the old one whole;
	// its file is made first, so that a bad path leaves --output as it was.
	var baselineFile *wholeFile
	if o.writeBaseline != "" {
		if baselineFile, err = createWhole(o.writeBaseline); err != nil {
			return usageError("--write-baseline: %v", err)
		}
		defer baselineFile.discard()
	}
	out := e.stdout
	var outFile *os.File
	if o.output != "" {
		outFile, err = os.Create(o.output)
		if err != nil {
			return usageError("--output: %v", err)
		}
		defer outFile.Close()
		out = outFile
	}

	contexts := triage.ContextQueries()
	// The built-ins that loaded rules replaced run too, for triage to say
	// what their replacements did not match.
	scanned := slices.Clip(set.Rules) // appending copies
	replaced := map[*rules.Rule]*rules.Rule{}
	for _, b := range set.ReplacedBuiltins() {
		scanned = append(scanned, b)
		replaced[b] = set.ByID(b.ID)
	}
	opts := scan.Options{
		Rules:       scanned,
		Selectors:   selectors(contexts),
		Stdin:       e.stdin,
		Workers:     o.workers,
		MaxLineSize: o.maxLineSize,
		// One request written a million times is one finding, which
		// needs no million events.
		Evidence: triage.EvidenceOf, EvidenceLimit: evidenceLimit,
	}
	var prog *progress
	if progressWanted(o.progress, e, o.quiet) {
		prog = startProgress(e.stderr, inputs)
		opts.Progress = prog.update
	}
	start := time.Now()
	res, err := scan.Scan(ctx, inputs, opts)
	if prog != nil {
		prog.finish()
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)

	events := triageEvents(res, scanned, contexts)
	// Nothing reads the matched events after triage: let their text and
	// documents go while the report is written.
	res.Events = nil
	rep := triage.Build(events, triage.Options{
		Inputs: args, Guide: o.guide != "none", MoreCommands: moreCommands(res, contexts), MoreEvidence: moreEvidence(res, scanned), Since: since, Until: until,
		NewTerms: res.NewTerms, Replaced: replaced, Running: func(id string) bool { return set.ByID(id) != nil },
		AuditScanned: auditScanned(res.Inputs), Cut: cutStages(res)})
	kept, suppressed, expired := triage.Apply(rep.Findings, exceptions, now, findingDoc)
	if warn != nil {
		for _, ex := range expired {
			fmt.Fprintf(warn, "k8sexec: warning: %s expired (%s) and no longer suppresses anything\n", report.Clean(ex.String()), report.Clean(ex.ExpiresText()))
		}
	}
	result := &report.Result{
		Tool:     report.Tool{Name: "k8sexec", Version: version()},
		Findings: kept,
		Notes:    rep.Notes,
		Rules:    set.Rules,
		Summary: report.Summary{
			Inputs:        []report.InputSummary{}, // [] in JSON when none
			RulesLoaded:   len(set.Rules),
			RulesSkipped:  skipped,
			RulesReplaced: set.Replaced(),
			Interrupted:   res.Interrupted,
			OutsideWindow: len(rep.Outside),
			Suppressed:    len(suppressed),
			Elapsed:       elapsed,
		},
	}
	credited := map[*triage.Exception]int{}
	for _, sp := range suppressed {
		credited[sp.By]++
	}
	for _, ex := range exceptions {
		result.Summary.Exceptions = append(result.Summary.Exceptions, report.ExceptionUse{
			Name: ex.Name, Source: ex.String(), Suppressed: credited[ex], Expired: ex.Expired(now)})
	}
	result.Hidden = map[string]report.Hidden{}
	hide := func(f *triage.Finding, why string) { result.Hidden[f.ID] = report.Hidden{Finding: f, Why: why} }
	for _, f := range rep.Outside {
		hide(f, "outside --since/--until")
	}
	for _, sp := range suppressed {
		hide(sp.Finding, "suppressed by "+sp.By.String())
	}
	if o.showSuppressed {
		result.Suppressed = []*triage.Finding{} // listed, if empty
		for _, sp := range suppressed {
			f := *sp.Finding
			f.SuppressedBy = &triage.SuppressedBy{Exception: sp.By.Name, Reason: sp.By.Reason, Source: sp.By.String()}
			result.Suppressed = append(result.Suppressed, &f)
		}
	}
	for _, err := range expandErrs {
		result.Summary.Inputs = append(result.Summary.Inputs, report.InputSummary{Name: pathOf(err), Error: err.Error()})
	}
	for _, in := range res.Inputs {
		result.Summary.Inputs = append(result.Summary.Inputs, inputSummary(in))
	}
	for _, p := range res.Problems {
		result.Summary.Problems = append(result.Summary.Problems, report.Problem{File: res.Inputs[p.Input].Name, Line: p.Line, Index: p.Index, Reason: p.Reason})
	}

	if baselineFile != nil && res.Interrupted {
		// The findings of a scan cut short are not all the logs hold:
		// replacing the baseline with them would show the rest as new.
		if warn != nil {
			fmt.Fprintf(warn, "k8sexec: the scan was interrupted: --write-baseline %s was left as it was\n", report.Clean(o.writeBaseline))
		}
	} else if baselineFile != nil {
		// The new baseline holds every current finding, including those
		// the old baseline hid, so they stay hidden, and those
		// --since/--until left out, so a wider window next time does not
		// show old sessions as new; not those exceptions suppress, which
		// nobody has seen: when an exception expires or goes, they are
		// new. It replaces the old one only once the report is written.
		base := *result
		base.Findings, _, _ = triage.Apply(rep.All(), exceptions, now, findingDoc)
		base.Tally()
		if err := writeReport(baselineFile, report.JSON{}, &base); err != nil {
			return fmt.Errorf("--write-baseline: %w", err)
		}
	}

	// What counts for the exit code: every finding not in the baseline.
	// What is shown: those at or above --min-severity. The summary says
	// how many each filter removed.
	var counted, shown []*triage.Finding
	minRank := rules.SeverityRank(o.minSeverity)
	for _, f := range result.Findings {
		if baseline[f.ID] {
			result.Summary.Baselined++
			hide(f, "in the baseline")
			continue
		}
		counted = append(counted, f)
		if rules.SeverityRank(f.Rule.Severity) < minRank {
			result.Summary.BelowMinSeverity++
			hide(f, "below --min-severity")
			continue
		}
		shown = append(shown, f)
	}
	result.Findings = shown
	result.Tally()
	if note := triage.CappedNote(shown); note != "" {
		result.Notes = append(result.Notes, note)
	}

	if err := writeReport(out, writer, result); err != nil {
		return err
	}
	if n := len(result.Findings) + len(result.Suppressed); o.format == "sarif" && n > report.MaxSARIFResults && warn != nil {
		fmt.Fprintf(warn, "k8sexec: warning: the SARIF run holds %d results; GitHub code scanning rejects a run of more than %d (narrow it with --min-severity, --since or exceptions)\n", n, report.MaxSARIFResults)
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	// A report that could not be written (a full disk, a closed pipe)
	// reported nothing: the old baseline stays.
	if baselineFile != nil && !res.Interrupted {
		if err := baselineFile.commit(); err != nil {
			return fmt.Errorf("--write-baseline: %w", err)
		}
	}
	// The inputs that could not be read are errors, said even with -q:
	// they make the exit code 2.
	printInputErrors(e.stderr, result.Summary)
	if !o.quiet {
		// A table on stdout ends with its own summary; anything else gets
		// the one-line closing summary on stderr.
		closing := o.format != "table" || o.output != ""
		printDiagnostics(e.stderr, result, o.minSeverity, closing)
	}
	if result.Summary.Interrupted {
		fmt.Fprintln(e.stderr, "k8sexec: interrupted: the report covers only what was read before")
	}
	return exitFor(result.Summary, counted, o.failOn)
}

// findingDoc is the document an exception's `when` query reads: the
// finding as it appears in JSON output, with Elasticsearch's field rules.
func findingDoc(f *triage.Finding) rules.Document {
	data, err := json.Marshal(f)
	if err != nil {
		data = []byte("{}") // not reached: a Finding always marshals
	}
	doc, _ := scan.Adapt(data)
	return doc
}

func writeReport(w io.Writer, writer report.Writer, r *report.Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writer.Write(bw, r); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// loadBaseline reads the finding IDs of an earlier JSON report.
func loadBaseline(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// Go's message names the struct it decodes into.
			where := "its top-level object"
			if te.Field != "" {
				where = "its " + te.Field
			}
			return nil, fmt.Errorf("%s is not a k8sexec JSON report: it has a JSON %s where a report has %s", path, te.Value, where)
		}
		return nil, fmt.Errorf("%s is not a k8sexec JSON report: %v", path, err)
	}
	if doc.Findings == nil {
		return nil, fmt.Errorf("%s has no findings array; is it a k8sexec --format json report?", path)
	}
	ids := map[string]bool{}
	for _, f := range doc.Findings {
		ids[f.ID] = true
	}
	return ids, nil
}

// auditScanned reports whether the scan read API server audit events: of
// a shape that holds nothing else (Shape.Audit).
func auditScanned(inputs []scan.InputStats) bool {
	for _, in := range inputs {
		for shape, n := range in.Shapes {
			if n > 0 && shape.Audit() {
				return true
			}
		}
	}
	return false
}

// pathOf recovers the path from an Expand error for the summary.
func pathOf(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	var fe *scan.FolderError
	if errors.As(err, &fe) {
		return fe.Path
	}
	return ""
}

func triageEvents(res *scan.Result, rs []*rules.Rule, contexts []triage.Context) []triage.Event {
	out := make([]triage.Event, 0, len(res.Events))
	for _, ev := range res.Events {
		te := triage.Event{File: res.Inputs[ev.Input].Name, Line: ev.Line, Index: ev.Index, Raw: ev.Raw, Doc: ev.Doc, Cluster: ev.Cluster}
		for _, i := range ev.Rules {
			te.Rules = append(te.Rules, rs[i])
		}
		for _, i := range ev.Selectors {
			te.Context = append(te.Context, contexts[i].Name)
		}
		out = append(out, te)
	}
	return out
}

// moreEvidence names the rules of what the evidence limit left out.
func moreEvidence(res *scan.Result, rs []*rules.Rule) map[triage.EvidenceKey]int64 {
	out := map[triage.EvidenceKey]int64{}
	for k, n := range res.MoreEvidence {
		var r *rules.Rule
		if k.Rule >= 0 {
			r = rs[k.Rule]
		}
		out[triage.EvidenceKey{Rule: r, Thing: k.Thing}] += n
	}
	return out
}

// evidenceLimit is triage.MaxEvidence, lowered by the fuzz test to reach
// the limit on small inputs.
var evidenceLimit = triage.MaxEvidence

// selectors asks the scan for triage's context.
func selectors(contexts []triage.Context) []scan.Selector {
	out := make([]scan.Selector, len(contexts))
	for i, c := range contexts {
		out[i] = scan.Selector{Name: c.Name, Expr: c.Expr, Keys: c.Keys, Limit: c.Limit, OnlyFor: c.OnlyFor, Order: c.Order,
			Group: c.Group, GroupLimit: c.GroupLimit, GroupOrder: c.GroupOrder}
	}
	return out
}

// cutStages are the stages of requests whose events were cut short.
func cutStages(res *scan.Result) []triage.CutStage {
	var out []triage.CutStage
	for _, p := range res.Problems {
		if p.Cut != nil {
			out = append(out, triage.CutStage{AuditID: p.Cut.AuditID, Stage: p.Cut.Stage,
				At: triage.Evidence{File: res.Inputs[p.Input].Name, Line: p.Line, Index: p.Index}})
		}
	}
	return out
}

// moreCommands is how many commands of each session the scan left out.
func moreCommands(res *scan.Result, contexts []triage.Context) map[string]int64 {
	out := map[string]int64{}
	for _, o := range res.Overflow {
		if name := contexts[o.Selector].Name; !o.Group && (name == triage.ContextCommands || name == triage.ContextQuiet) {
			out[o.Key] += o.Dropped
		}
	}
	return out
}

func inputSummary(in scan.InputStats) report.InputSummary {
	s := report.InputSummary{Name: in.Name, Compression: in.Compression, Encoding: in.Encoding, Layout: in.Layout, Counts: report.Counts{
		RawBytes: in.RawBytes, Bytes: in.Bytes, Lines: in.Lines, Records: in.Records, Events: in.Events,
		Parsed: in.Parsed, Blank: in.Blank, Malformed: in.Malformed, Overlong: in.Overlong, Skipped: in.Skipped,
		Envelopes: in.Envelopes, Unwrapped: in.Unwrapped, Joined: in.Joined,
	}}
	if len(in.Shapes) > 0 {
		s.Shapes = map[string]int64{}
		for k, v := range in.Shapes {
			s.Shapes[string(k)] = v
		}
	}
	if len(in.SkipReasons) > 0 {
		s.SkipReasons = in.SkipReasons
	}
	if in.Err != nil {
		s.Error = in.Err.Error()
		if !strings.Contains(s.Error, in.Name) {
			s.Error = in.Name + ": " + s.Error
		}
	}
	return s
}

// printInputErrors says which inputs could not be read, or not to the end.
func printInputErrors(w io.Writer, s report.Summary) {
	for _, in := range s.Inputs {
		switch {
		case in.Error == "":
		case in.RawBytes == 0 && in.Lines == 0:
			fmt.Fprintf(w, "k8sexec: cannot read input: %s\n", report.Clean(in.Error))
		default:
			fmt.Fprintf(w, "k8sexec: incomplete input: %s (findings read before the error are reported)\n", report.Clean(in.Error))
		}
	}
}

// printDiagnostics tells the person at the terminal what else went wrong
// (bad lines, what the report leaves out) and sums the scan up. Everything
// that came from a file is cleaned.
func printDiagnostics(w io.Writer, r *report.Result, minSeverity string, closing bool) {
	s := r.Summary
	t := s.Totals
	for i, p := range s.Problems {
		if i == shownProblems {
			break
		}
		fmt.Fprintf(w, "k8sexec: %s: %s\n", report.Clean(p.Place()), report.Clean(p.Reason))
	}
	bad := t.Malformed + t.Overlong
	if bad > int64(min(len(s.Problems), shownProblems)) {
		fmt.Fprintf(w, "k8sexec: %d malformed or overlong line(s) in all (the summary counts them per input)\n", bad)
	}
	if s.BelowMinSeverity > 0 {
		fmt.Fprintf(w, "k8sexec: %d finding(s) below --min-severity %s not shown (they still count for --fail-on)\n", s.BelowMinSeverity, minSeverity)
	}
	if s.OutsideWindow > 0 {
		fmt.Fprintf(w, "k8sexec: %d finding(s) outside --since/--until not shown\n", s.OutsideWindow)
	}
	if s.Baselined > 0 {
		fmt.Fprintf(w, "k8sexec: %d finding(s) already in the baseline not shown\n", s.Baselined)
	}
	// The bytes scanned are the decompressed ones, and so is the rate:
	// what the rules ran over. The bytes read from disk follow when a
	// compressed input makes them differ.
	secs := s.Elapsed.Seconds()
	scanned := report.HumanBytes(t.Bytes)
	if t.RawBytes != t.Bytes {
		scanned += " (" + report.HumanBytes(t.RawBytes) + " read)"
	}
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(", %s/s", report.HumanBytes(int64(float64(t.Bytes)/secs)))
	}
	if !closing {
		// The table on stdout has the summary; only the wall-clock time,
		// which would make its bytes differ from run to run, is here.
		fmt.Fprintf(w, "k8sexec: scanned %s in %s%s\n", scanned, s.Elapsed.Round(time.Millisecond), rate)
		return
	}
	// The table's summary says these; the other formats have stderr.
	for _, in := range s.Inputs {
		if warning := report.InputWarning(in, s.Interrupted); warning != "" {
			fmt.Fprintf(w, "k8sexec: warning: %s\n", report.Clean(warning))
		}
	}
	var sev []string
	for _, sc := range s.BySeverity {
		sev = append(sev, fmt.Sprintf("%d %s", sc.Count, sc.Severity))
	}
	findings := fmt.Sprintf("%d finding(s)", t.Findings)
	if len(sev) > 0 {
		findings += " (" + strings.Join(sev, ", ") + ")"
	}
	fmt.Fprintf(w, "k8sexec: %s in %d input(s), %d events, %d malformed; %s in %s%s\n",
		findings, t.Inputs, t.Events, t.Malformed, scanned, s.Elapsed.Round(time.Millisecond), rate)
	var byRule []string
	for _, rc := range s.ByRule {
		if rc.Count > 0 {
			byRule = append(byRule, fmt.Sprintf("%d %s", rc.Count, report.Clean(rc.Name)))
		}
	}
	if len(byRule) > 0 {
		fmt.Fprintf(w, "k8sexec:   by rule: %s\n", strings.Join(byRule, "; "))
	}
	if shapes := shapeTotals(s.Inputs); shapes != "" {
		fmt.Fprintf(w, "k8sexec:   events by shape: %s\n", shapes)
	}
	for _, rr := range s.RulesReplaced {
		fmt.Fprintf(w, "k8sexec:   built-in rule replaced: %s\n", report.Clean(rr))
	}
	// The table prints the notes; NDJSON and CSV have no place for them.
	for _, n := range r.Notes {
		fmt.Fprintf(w, "k8sexec:   note: %s\n", report.Clean(n))
	}
	if hidden := report.NotShown(s); hidden != "" {
		fmt.Fprintf(w, "k8sexec:   not shown: %s\n", hidden)
	}
	if idle := report.IdleExceptions(s); idle != "" {
		fmt.Fprintf(w, "k8sexec:   unused: %s\n", report.Clean(idle))
	}
}

// shapeTotals adds up the events of every input by shape, most first.
func shapeTotals(inputs []report.InputSummary) string {
	totals := map[string]int64{}
	for _, in := range inputs {
		for k, v := range in.Shapes {
			totals[k] += v
		}
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if totals[keys[i]] != totals[keys[j]] {
			return totals[keys[i]] > totals[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, totals[k]))
	}
	return strings.Join(parts, ", ")
}

// exitFor maps the outcome to an exit code: interruption first, then an
// incomplete input, then findings at or above the threshold. counted are
// the findings that count (not in the baseline), whether shown or not.
func exitFor(s report.Summary, counted []*triage.Finding, failOn string) error {
	switch {
	case s.Interrupted:
		return &exitError{code: ExitInterrupted}
	case s.Totals.Incomplete > 0:
		return &exitError{code: ExitError}
	}
	if failOn == "none" {
		return nil
	}
	threshold := rules.SeverityRank(failOn)
	for _, f := range counted {
		if rules.SeverityRank(f.Rule.Severity) >= threshold {
			return &exitError{code: ExitFindings}
		}
	}
	return nil
}
