// Package report renders a scan's findings and summary. Each format is one
// Writer in its own file; the same Result always renders to the same bytes.
// table.go is the only file that knows about colour, and it strips terminal
// control characters from every string that came from a log.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
)

// Writer renders a Result in one format.
type Writer interface {
	Write(w io.Writer, r *Result) error
}

// Result is everything a report shows.
type Result struct {
	Tool     Tool              `json:"tool"`
	Findings []*triage.Finding `json:"findings"`
	// Suppressed are findings exceptions suppressed, each with its
	// SuppressedBy; non-nil (if empty) only when they are to be shown.
	Suppressed []*triage.Finding `json:"suppressed,omitempty"`
	Notes      []string          `json:"notes,omitempty"`
	Summary    Summary           `json:"summary"`
	// Rules are the rules the scan ran, in load order.
	Rules []*rules.Rule `json:"-"`
	// Hidden are findings the report does not show (outside the time
	// window, suppressed, in the baseline, below --min-severity), by ID,
	// with why: a finding shown may name one in related, and the table
	// still says what it was.
	Hidden map[string]Hidden `json:"-"`
}

// Hidden is a finding left out of a report, and why ("below
// --min-severity").
type Hidden struct {
	Finding *triage.Finding
	Why     string
}

// Tool names the program that produced the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary describes what was scanned. Elapsed is wall-clock time and is
// left out of every machine-readable format so that output is
// reproducible.
type Summary struct {
	Inputs     []InputSummary  `json:"inputs"`
	Totals     Totals          `json:"totals"`
	ByRule     []RuleCount     `json:"findings_by_rule"`
	BySeverity []SeverityCount `json:"findings_by_severity"`
	Suppressed int             `json:"suppressed"`
	// Exceptions says what each exception of --exceptions did, in the
	// order they were loaded; none without --exceptions.
	Exceptions []ExceptionUse `json:"exceptions,omitempty"`
	// Baselined counts findings hidden because --baseline held them.
	Baselined int `json:"baselined"`
	// BelowMinSeverity counts findings hidden by --min-severity; they still
	// count for --fail-on.
	BelowMinSeverity int `json:"below_min_severity"`
	// OutsideWindow counts findings left out by --since and --until.
	OutsideWindow int       `json:"outside_time_window,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
	RulesLoaded   int       `json:"rules_loaded"`
	// RulesSkipped lists rules that were loaded but cannot run, with why.
	RulesSkipped []string `json:"rules_skipped,omitempty"`
	// RulesReplaced lists built-in rules replaced by a loaded rule.
	RulesReplaced []string      `json:"rules_replaced,omitempty"`
	Interrupted   bool          `json:"interrupted,omitempty"`
	Elapsed       time.Duration `json:"-"`
}

// ExceptionUse is what one exception did in a scan: how many findings it
// suppressed (a finding several cover is the first one's, in file order).
type ExceptionUse struct {
	Name       string `json:"name"`   // as given in the file, or "exception N"
	Source     string `json:"source"` // FILE: exception N ("name")
	Suppressed int    `json:"suppressed"`
	Expired    bool   `json:"expired,omitempty"` // it suppresses nothing any more
}

// maxIdleListed is how many exceptions that suppressed nothing IdleExceptions
// names.
const maxIdleListed = 5

// IdleExceptions says which exceptions in force suppressed no finding of
// the scan, `1 of 3 exceptions in force suppressed nothing: FILE:
// exception 2 ("name")`, or "": each may be one to review (its findings stopped, or
// it never covered what it was meant to), or one an earlier exception in
// the file shadows. Expired ones are left out: they are warned about.
func IdleExceptions(s Summary) string {
	var idle []string
	inForce := 0
	for _, e := range s.Exceptions {
		if e.Expired {
			continue
		}
		inForce++
		if e.Suppressed == 0 {
			idle = append(idle, e.Source)
		}
	}
	if len(idle) == 0 {
		return ""
	}
	out := fmt.Sprintf("%d of %d exceptions in force suppressed nothing: ", len(idle), inForce)
	if len(idle) > maxIdleListed {
		return out + strings.Join(idle[:maxIdleListed], "; ") + fmt.Sprintf("; and %d more (--format json lists each)", len(idle)-maxIdleListed)
	}
	return out + strings.Join(idle, "; ")
}

// InputSummary describes one input (see scan.InputStats for how the
// counts add up).
type InputSummary struct {
	Name        string `json:"name"`
	Compression string `json:"compression,omitempty"`
	// Encoding names the text encoding k8sexec decoded (utf-16le,
	// utf-16be); offsets are of the UTF-8 text. Empty for UTF-8.
	Encoding string `json:"encoding,omitempty"`
	Layout   string `json:"layout,omitempty"`
	Counts
	Shapes      map[string]int64 `json:"shapes,omitempty"`
	SkipReasons map[string]int64 `json:"skip_reasons,omitempty"`
	// Error says why the input was not read completely.
	Error string `json:"error,omitempty"`
}

// Counts are what is counted of each input, and of them all: records =
// events + malformed + overlong + skipped + envelopes - unwrapped, and in
// the lines layout lines = blank + records.
type Counts struct {
	RawBytes  int64 `json:"raw_bytes"`
	Bytes     int64 `json:"bytes"`
	Lines     int64 `json:"lines"`
	Records   int64 `json:"records"`
	Events    int64 `json:"events"`
	Parsed    int64 `json:"parsed"`
	Blank     int64 `json:"blank"`
	Malformed int64 `json:"malformed"`
	Overlong  int64 `json:"overlong"`
	Skipped   int64 `json:"skipped"`
	Envelopes int64 `json:"envelopes"`
	// Unwrapped counts the records found inside envelopes.
	Unwrapped int64 `json:"unwrapped"`
	// Joined counts the envelopes that were no wrapper but several values
	// written one after another on a line.
	Joined int64 `json:"joined"`
}

func (c *Counts) add(o Counts) {
	c.RawBytes += o.RawBytes
	c.Bytes += o.Bytes
	c.Lines += o.Lines
	c.Records += o.Records
	c.Events += o.Events
	c.Parsed += o.Parsed
	c.Blank += o.Blank
	c.Malformed += o.Malformed
	c.Overlong += o.Overlong
	c.Skipped += o.Skipped
	c.Envelopes += o.Envelopes
	c.Unwrapped += o.Unwrapped
	c.Joined += o.Joined
}

// Totals add up the inputs.
type Totals struct {
	Inputs     int `json:"inputs"`
	Incomplete int `json:"incomplete"`
	Counts
	Findings int `json:"findings"`
}

// RuleCount is how many findings one rule produced.
type RuleCount struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Count    int    `json:"count"`
}

// SeverityCount is how many findings had one severity.
type SeverityCount struct {
	Severity string `json:"severity"`
	Count    int    `json:"count"`
}

// Problem locates a line, or an event inside it, that could not be
// evaluated.
type Problem struct {
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Index  int    `json:"index,omitempty"`
	Reason string `json:"reason"`
}

// Place renders the location as file:line or file:line#index.
func (p Problem) Place() string {
	return triage.Evidence{File: p.File, Line: p.Line, Index: p.Index}.Place()
}

// Tally fills the totals and the per-rule and per-severity counts from the
// inputs and findings. Rules with no finding are listed with 0, so a
// report shows what was looked for.
func (r *Result) Tally() {
	t := Totals{Inputs: len(r.Summary.Inputs), Findings: len(r.Findings)}
	for _, in := range r.Summary.Inputs {
		t.add(in.Counts)
		if in.Error != "" {
			t.Incomplete++
		}
	}
	r.Summary.Totals = t

	counts := map[string]int{}
	sev := map[string]int{}
	for _, f := range r.Findings {
		counts[f.Rule.ID]++
		sev[f.Rule.Severity]++
	}
	r.Summary.ByRule = nil
	for _, rule := range r.Rules {
		r.Summary.ByRule = append(r.Summary.ByRule, RuleCount{ID: rule.ID, Name: rule.Name, Severity: rule.Severity, Count: counts[rule.ID]})
	}
	sort.SliceStable(r.Summary.ByRule, func(i, j int) bool {
		a, b := r.Summary.ByRule[i], r.Summary.ByRule[j]
		if ra, rb := rules.SeverityRank(a.Severity), rules.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		return a.Name < b.Name
	})
	r.Summary.BySeverity = []SeverityCount{} // [] in JSON when there is no finding, not null
	for _, s := range []string{"critical", "high", "medium", "low"} {
		if sev[s] > 0 {
			r.Summary.BySeverity = append(r.Summary.BySeverity, SeverityCount{Severity: s, Count: sev[s]})
		}
	}
}

// New returns the writer for a format name.
func New(format string, opts Options) (Writer, error) {
	switch format {
	case "table":
		return &Table{Color: opts.Color, Guide: opts.Guide}, nil
	case "json":
		return JSON{}, nil
	case "ndjson":
		return NDJSON{}, nil
	case "sarif":
		return SARIF{BaseDir: opts.BaseDir}, nil
	case "csv":
		return CSV{}, nil
	case "timeline":
		return Timeline{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// Formats lists the format names New accepts.
var Formats = []string{"table", "json", "ndjson", "sarif", "csv", "timeline"}

// Options configure writers that have choices.
type Options struct {
	Color bool
	// Guide is "full", "short" or "none": how much of each finding's
	// guidance the table shows.
	Guide string
	// BaseDir is the working directory, for SARIF's relative paths.
	BaseDir string
}
