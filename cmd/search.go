package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/k8sexec/k8sexec/triage"
	"github.com/spf13/cobra"
)

type searchOptions struct {
	filter      filterFlags
	format      string
	count       bool
	limit       int
	workers     int
	maxLineSize int
	quiet       bool
}

func newSearchCmd(e *env) *cobra.Command {
	o := &searchOptions{}
	c := &cobra.Command{
		Use:   "search QUERY [PATH...]",
		Short: "Hunt: print every event matching a KQL or EQL query",
		Long: `Run a KQL or EQL query over the same inputs and shapes as scan, and print the
matching events. A query of the form "<category> where ..." is EQL; anything else is KQL.
Fields are ECS names, as in the rules (raw audit events answer to kubernetes.audit.*,
user.name, source.ip and the other names Elastic's integration gives them).

Exit codes (like grep): 0 events matched, 1 none matched, 2 error.`,
		Example: `  k8sexec search 'user.name:"alice@example.com"' audit.log
  k8sexec search 'kubernetes.audit.objectRef.subresource:(exec or attach)' /var/log/kubernetes/
  k8sexec search 'process where process.entry_leader.entity_id == "Nzgy..."' process.ndjson
  k8sexec search --format ndjson 'source.ip:"203.0.113.9"' audit.log | jq .event.verb`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("search needs a QUERY\nRun 'k8sexec search --help' for usage.")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runSearch(c, e, o, args[0], args[1:])
		},
	}
	f := c.Flags()
	o.filter.register(c)
	f.StringVarP(&o.format, "format", "f", "table", "output format: "+strings.Join(report.EventFormats, ", "))
	f.BoolVarP(&o.count, "count", "c", false, "print only the number of matching events")
	f.IntVarP(&o.limit, "limit", "n", 0, "print at most this many events (0: all)")
	workersFlag(c, &o.workers)
	lineSizeFlag(c, &o.maxLineSize)
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on stderr except errors")
	return c
}

// pointAt shows where in a query of one line a syntax error is: the
// query, and a caret under the byte the parser stopped at; "" for other
// errors and queries of several lines (the error names line and column).
func pointAt(query string, err error) string {
	var se *rules.SyntaxError
	if !errors.As(err, &se) || strings.Contains(query, "\n") || se.Offset < 0 || se.Offset > len(query) || len(query) > 200 {
		return ""
	}
	q := report.Clean(query)
	if q != query {
		return "" // a cleaned query is not the one the offset counts in
	}
	return "\n  " + query + "\n  " + strings.Repeat(" ", utf8.RuneCountInString(query[:se.Offset])) + "^"
}

func runSearch(c *cobra.Command, e *env, o *searchOptions, query string, paths []string) error {
	if err := oneOf("format", o.format, report.EventFormats...); err != nil {
		return err
	}
	if o.limit < 0 {
		return usageError("--limit %d: must be 0 (all) or more", o.limit)
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if err := o.filter.check(); err != nil {
		return err
	}
	if err := checkLineSize(o.maxLineSize); err != nil {
		return err
	}
	expr, lang, err := rules.ParseQuery(query)
	if err != nil {
		return usageError("query: %v%s", err, pointAt(query, err))
	}
	m, err := rules.Compile(expr)
	if err != nil {
		return usageError("query: %v", err)
	}
	q := &rules.Rule{ID: "search", Name: "search", Severity: "low", Language: lang, Query: query, Expr: expr, Matcher: m}
	if len(paths) == 0 {
		if e.stdinTTY {
			return usageError("no input: give a file or folder, or pipe logs in")
		}
		paths = []string{scan.Stdin}
	}
	var warn io.Writer = e.stderr
	if o.quiet {
		warn = nil
	}
	x := o.filter.expand(paths, warn)
	inputs, expandErrs := x.Inputs, x.Errors
	for _, err := range expandErrs {
		fmt.Fprintf(e.stderr, "k8sexec: %s\n", report.Clean(err.Error()))
	}
	// Only the events printed are kept: a count keeps none, a limit its
	// first events, however many match.
	keep := o.limit
	if o.count {
		keep = -1
	}
	res, err := scan.Scan(c.Context(), inputs, scan.Options{
		Rules: []*rules.Rule{q}, Stdin: e.stdin, Workers: o.workers, MaxLineSize: o.maxLineSize, MaxEvents: keep,
	})
	if err != nil {
		return err
	}
	matched := int64(len(res.Events)) + res.MoreEvents
	if o.count {
		fmt.Fprintln(e.stdout, matched)
	} else {
		var rows []report.EventRow
		for _, ev := range res.Events {
			rows = append(rows, report.EventRow{File: res.Inputs[ev.Input].Name, Line: ev.Line, Index: ev.Index, Summary: triage.Summarize(ev.Doc), Raw: ev.Raw})
		}
		if err := report.WriteEvents(e.stdout, rows, o.format); err != nil {
			return err
		}
	}
	incomplete := len(expandErrs) > 0
	for _, in := range res.Inputs {
		if in.Err != nil {
			incomplete = true
			fmt.Fprintf(e.stderr, "k8sexec: incomplete input: %s\n", report.Clean(in.Err.Error()))
		}
	}
	if !o.quiet {
		var bad int64
		for _, in := range res.Inputs {
			bad += in.Malformed + in.Overlong
		}
		// Where, as scan says it: the first few, then how many in all.
		for i, p := range res.Problems {
			if i == shownProblems {
				break
			}
			place := report.Problem{File: res.Inputs[p.Input].Name, Line: p.Line, Index: p.Index}.Place()
			fmt.Fprintf(e.stderr, "k8sexec: %s: %s\n", report.Clean(place), report.Clean(p.Reason))
		}
		if bad > 0 {
			fmt.Fprintf(e.stderr, "k8sexec: %d malformed or overlong line(s) skipped\n", bad)
		}
		if o.limit > 0 && matched > int64(o.limit) && !o.count {
			fmt.Fprintf(e.stderr, "k8sexec: showing %d of %d matching events (--limit)\n", o.limit, matched)
		}
	}
	switch {
	case res.Interrupted:
		return &exitError{code: ExitInterrupted}
	case incomplete:
		return &exitError{code: ExitError}
	case matched == 0:
		return &exitError{code: 1}
	}
	return nil
}
