package rules

import (
	"errors"
	"fmt"
)

// SyntaxError is a query that does not parse. Offset is the byte offset in
// the query where the parser gave up.
type SyntaxError struct {
	Lang   string // "kql" or "eql"
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s syntax error at offset %d: %s", e.Lang, e.Offset, e.Msg)
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
