package report

import (
	"encoding/json"
	"io"
	"slices"

	"github.com/k8sexec/k8sexec/triage"
)

// JSON writes one document: {"tool", "findings", "notes", "summary"}.
type JSON struct{}

func (JSON) Write(w io.Writer, r *Result) error {
	out := *r
	if out.Findings == nil {
		out.Findings = []*triage.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(&out)
}

// NDJSON writes one finding per line and nothing else, for streaming into
// other tools. The summary goes to stderr (the command prints it).
type NDJSON struct{}

func (NDJSON) Write(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range append(slices.Clone(r.Findings), r.Suppressed...) {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
