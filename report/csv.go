package report

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/triage"
)

// CSV writes one row per finding under a fixed header (RFC 4180 quoting).
// Cells that a spreadsheet would read as a formula (starting with = + - @
// or a tab or CR) get a leading apostrophe, so a hostile log value cannot
// run anything when the file is opened.
type CSV struct{}

// CSVColumns is the header row; columns are only ever appended.
var CSVColumns = []string{
	"id", "severity", "risk_score", "rule_id", "rule_name", "kind", "timestamp",
	"user", "groups", "impersonated_user", "source_ip", "user_agent",
	"cluster", "namespace", "pod", "container", "node",
	"command", "tty", "stdin", "process", "pid",
	"verb", "decision", "reason", "response_code", "audit_id",
	"stages", "duration_ms", "ongoing", "related",
	"file", "line", "evidence", "message",
	"suppressed_by",
	"resource", "object",
	"process_end", "exit_code",
}

func (CSV) Write(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, f := range append(slices.Clone(r.Findings), r.Suppressed...) {
		if err := cw.Write(csvRow(f)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(f *triage.Finding) []string {
	col := map[string]string{
		"id": f.ID, "severity": f.Rule.Severity, "risk_score": strconv.Itoa(f.Rule.RiskScore),
		"rule_id": f.Rule.ID, "rule_name": f.Rule.Name, "kind": f.Kind, "timestamp": f.Timestamp,
		"related": strings.Join(f.Related, " "), "message": Headline(f),
	}
	if s := f.SuppressedBy; s != nil {
		col["suppressed_by"] = s.Exception + ": " + s.Reason
	}
	if u := f.User; u != nil {
		col["user"] = u.Name
		col["groups"] = strings.Join(u.Groups, " ")
		if u.Impersonated != nil {
			col["impersonated_user"] = u.Impersonated.Name
		}
	}
	if f.Source != nil {
		col["source_ip"] = strings.Join(f.Source.IP, " ")
	}
	if f.UserAgent != nil {
		col["user_agent"] = f.UserAgent.Original
	}
	if o := f.Orch; o != nil {
		col["namespace"] = o.Namespace
		if o.Cluster != nil {
			col["cluster"] = o.Cluster.Name
		}
		if o.Resource != nil {
			col["object"] = o.Resource.Name
			if o.Resource.Type == "pod" {
				col["pod"] = o.Resource.Name
			}
		}
	}
	if f.Container != nil {
		col["container"] = f.Container.Name
		if col["container"] == "" {
			col["container"] = f.Container.ID
		}
	}
	if f.Host != nil {
		col["node"] = f.Host.Name
	}
	if p := f.Process; p != nil {
		if f.Kind == triage.KindAudit {
			col["command"] = triage.Command(p.Args)
		} else {
			col["process"] = p.Executable
			if len(p.Args) > 0 {
				col["command"] = triage.Command(p.Args)
			}
			if p.PID != 0 {
				col["pid"] = strconv.FormatInt(p.PID, 10)
			}
		}
	}
	// The session's first process: the finding's own, or the one the
	// exec request started.
	ended := f.Started
	if f.Kind == triage.KindProcess {
		ended = f.Process
	}
	if ended != nil {
		col["process_end"] = ended.End
		if ended.ExitCode != nil {
			col["exit_code"] = strconv.FormatInt(*ended.ExitCode, 10)
		}
	}
	if e := f.Exec; e != nil {
		col["tty"] = strconv.FormatBool(e.TTY)
		col["stdin"] = strconv.FormatBool(e.Stdin)
	}
	if a := f.Audit; a != nil {
		col["verb"], col["decision"], col["reason"], col["audit_id"] = a.Verb, a.Decision, a.Reason, a.AuditID
		col["resource"] = a.Path()
		if a.ResponseCode != 0 {
			col["response_code"] = strconv.Itoa(a.ResponseCode)
		}
	}
	if s := f.Session; s != nil {
		col["stages"] = strings.Join(s.Stages, " ")
		if s.DurationMS != nil {
			col["duration_ms"] = strconv.FormatInt(*s.DurationMS, 10)
		}
		col["ongoing"] = strconv.FormatBool(s.Ongoing)
	}
	if len(f.Evidence) > 0 {
		col["file"] = f.Evidence[0].File
		col["line"] = strconv.FormatInt(f.Evidence[0].Line, 10)
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, e.Place())
		}
		col["evidence"] = strings.Join(ev, " ")
	}
	row := make([]string, len(CSVColumns))
	for i, name := range CSVColumns {
		row[i] = defuseFormula(Clean(col[name]))
	}
	return row
}

// defuseFormula keeps spreadsheets from evaluating a cell as a formula:
// one whose first character, after any spaces (what Clean made of tabs
// and line breaks, and Unicode's spaces such as U+00A0 and U+3000, which
// a spreadsheet may trim too), starts a formula, in its ASCII or
// full-width form.
func defuseFormula(s string) string {
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if r, size := utf8.DecodeRuneInString(t); len(t) > size && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return "'" + s
	}
	return s
}
