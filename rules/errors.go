package rules

import (
	"errors"
	"fmt"
	"strings"
)

// SyntaxError is a query that does not parse. Offset is the byte offset in
// the query where the parser gave up.
type SyntaxError struct {
	Lang   string // "kql" or "eql"
	Offset int
	Msg    string
	// Line and Column place Offset in a query of several lines (1-based,
	// Column in bytes), once locate has been called; 0 otherwise.
	Line, Column int
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s syntax error at line %d, column %d of the query (offset %d): %s", e.Lang, e.Line, e.Column, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s syntax error at offset %d: %s", e.Lang, e.Offset, e.Msg)
}

// locate sets Line and Column from the query the error is in, when it
// has more than one line: a rule file's query usually does, and an
// offset into it is hard to count.
func (e *SyntaxError) locate(query string) {
	if !strings.Contains(query, "\n") || e.Offset < 0 || e.Offset > len(query) {
		return
	}
	before := query[:e.Offset]
	e.Line = strings.Count(before, "\n") + 1
	e.Column = e.Offset - (strings.LastIndexByte(before, '\n') + 1) + 1
}

// UnsupportedError is a valid query, or rule, that k8sexec cannot evaluate
// offline with Elasticsearch's semantics: an EQL sequence, a pipe, an
// unknown function, a free-text KQL term. Callers skip the rule and print
// Reason.
type UnsupportedError struct {
	Reason string
}

func (e *UnsupportedError) Error() string { return "unsupported: " + e.Reason }

func unsupported(format string, args ...any) error {
	return &UnsupportedError{Reason: fmt.Sprintf(format, args...)}
}

// IsUnsupported reports whether err says the query or rule uses something
// outside the supported subset (as opposed to being malformed).
func IsUnsupported(err error) bool {
	var u *UnsupportedError
	return errors.As(err, &u)
}
