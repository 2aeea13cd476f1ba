package rules

import (
	"regexp"
)

// eqlHead recognises the start of an EQL query: a category (a word or a
// quoted string) followed by `where`, or a sequence/join/sample keyword
// followed by what those queries continue with ([, by, with), so that KQL
// on a field named sample.* or sequence stays KQL.
var eqlHead = regexp.MustCompile(`^\s*(?:/\*[\s\S]*?\*/\s*|//[^\n]*\n\s*)*(?:(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]*")\s+where\b|(?:sequence|join|sample)\s*(?:\[|(?:by|with)\s))`)

// ParseQuery parses a hunting query, deciding the language from its shape:
// `<category> where ...` (and sequence/join/sample) is EQL, anything else
// is KQL. It returns the language, "eql" or "kuery", beside the tree.
func ParseQuery(q string) (Expr, string, error) {
	if eqlHead.MatchString(q) {
		e, err := ParseEQL(q)
		return e, "eql", err
	}
	e, err := ParseKQL(q)
	return e, "kuery", err
}
