package rules_test

import (
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
)

// compileQuery parses a KQL or EQL query (by its shape, as `k8sexec search`
// does) and compiles it, failing the test on any error.
func compileQuery(t testing.TB, query string) (rules.Expr, rules.Matcher) {
	t.Helper()
	e, _, err := rules.ParseQuery(query)
	if err != nil {
		t.Fatalf("parse %q: %v", query, err)
	}
	m, err := rules.Compile(e)
	if err != nil {
		t.Fatalf("compile %q: %v", query, err)
	}
	return e, m
}

// adapt turns one JSON line into a Document through the real scan adapters.
func adapt(line string) rules.Document {
	doc, _ := scan.Adapt([]byte(line))
	return doc
}

// rawAuditSynthesized mirrors the raw-audit adapter's agent-added fields
// whose values are not in the line's text (scan's rawSynthesized), so the
// prefilter tests can give RequirementOf the same answer the scanner does.
func rawAuditSynthesized(field string) bool {
	switch field {
	case "event.dataset", "data_stream.dataset", "data_stream.type", "event.kind",
		"orchestrator.type", "event.outcome", "@timestamp":
		return true
	}
	return false
}
