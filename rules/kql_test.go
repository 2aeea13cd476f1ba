package rules_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// TestParseKQL checks the tree Kibana's grammar (kbn-es-query grammar.peggy)
// gives for each query, through the canonical Expr.String form.
func TestParseKQL(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		// Empty query: Kibana's start rule turns it into match_all.
		{"empty", ``, `true`},
		{"only spaces", " \t\r\n", `true`},

		{"term", `a:1`, `a == "1"`},
		{"spaces around colon", `a : 1`, `a == "1"`},
		{"dotted field", `kubernetes.audit.verb:create`, `kubernetes.audit.verb == "create"`},
		{"field with slash", `kubernetes.audit.annotations.authorization_k8s_io/decision:allow`,
			`kubernetes.audit.annotations.authorization_k8s_io/decision == "allow"`},
		{"quoted field", `"f.g":x`, `f.g == "x"`},

		// Precedence: or < and < not.
		{"and binds tighter than or", `a:1 or b:2 and c:3`, `(or a == "1" (and b == "2" c == "3"))`},
		{"and binds tighter than or, left", `a:1 and b:2 or c:3`, `(or (and a == "1" b == "2") c == "3")`},
		{"not binds tighter than and", `not a:1 and b:2`, `(and (not a == "1") b == "2")`},
		{"not binds tighter than or", `a:1 or not b:2`, `(or a == "1" (not b == "2"))`},
		{"parentheses override", `(a:1 or b:2) and c:3`, `(and (or a == "1" b == "2") c == "3")`},
		{"not over parentheses", `not (a:1 or b:2)`, `(not (or a == "1" b == "2"))`},
		{"parenthesised and", `(a:1 and b:2)`, `(and a == "1" b == "2")`},
		{"parenthesised not", `(not a:1)`, `(not a == "1")`},
		{"not of parenthesised not", `not (not a:1)`, `a == "1"`},
		{"nested and flattened", `a:1 and (b:2 and c:3)`, `(and a == "1" b == "2" c == "3")`},
		{"nested or flattened", `(a:1 or b:2) or c:3`, `(or a == "1" b == "2" c == "3")`},
		{"space inside parentheses", `( a:1 )`, `a == "1"`},

		// Keywords are case-insensitive and need whitespace around them.
		{"upper-case OR", `a:1 OR b:2`, `(or a == "1" b == "2")`},
		{"mixed-case AnD", `a:1 AnD b:2`, `(and a == "1" b == "2")`},
		{"upper-case NOT", `NOT a:1`, `(not a == "1")`},
		{"tab as space", "not\ta:1\tand\tb:2", `(and (not a == "1") b == "2")`},
		{"newline as space", "a:1\nor\nb:2", `(or a == "1" b == "2")`},
		{"nbsp as space", "a:1\u00a0or\u00a0b:2", `(or a == "1" b == "2")`},
		{"several spaces", "a:1   and   b:2", `(and a == "1" b == "2")`},
		{"keyword prefix in value", `a:orange and b:android`, `(and a == "orange" b == "android")`},
		{"keyword suffix in value", `a:cannot`, `a == "cannot"`},
		{"keyword as whole value", `a:or`, `a == "or"`},
		{"value starting with not", `a:nothing`, `a == "nothing"`},
		// `and` at the end is not followed by whitespace, so it is part of
		// the unquoted value.
		{"trailing and is value text", `a:1 and`, `a == "1 and"`},

		// Value lists distribute the field.
		{"list or", `f:(a or b)`, `(or f == "a" f == "b")`},
		{"list and", `f:(a and b)`, `(and f == "a" f == "b")`},
		{"list not", `f:(not a)`, `(not f == "a")`},
		{"list single", `f:(a)`, `f == "a"`},
		{"list precedence", `f:(a or b and c)`, `(or f == "a" (and f == "b" f == "c"))`},
		{"nested list", `f:((a or b) and not c)`, `(and (or f == "a" f == "b") (not f == "c"))`},
		{"list of quoted and wildcard", `f:("a b" or c*)`, `(or f == "a b" f like "c*")`},
		{"list next to field", `f:(a or b) and g:c`, `(and (or f == "a" f == "b") g == "c")`},

		// Quoted vs unquoted values.
		{"quoted", `f:"a b"`, `f == "a b"`},
		{"quoted empty", `f:""`, `f == ""`},
		{"quoted star literal", `f:"a*b"`, `f == "a*b"`},
		{"quoted lone star literal", `f:"*"`, `f == "*"`},
		{"quoted keyword", `f:"a or b"`, `f == "a or b"`},
		{"quoted special chars", `f:"(a):<b>{c}"`, `f == "(a):<b>{c}"`},
		{"unquoted wildcard", `f:a*b`, `f like "a*b"`},
		{"unquoted leading wildcard", `f:*exec`, `f like "*exec"`},
		{"unquoted several wildcards", `f:a*b*c`, `f like "a*b*c"`},
		{"double star is one star", `f:**`, `f like "*"`},
		{"lone star is exists", `f:*`, `f exists`},
		{"lone star trimmed is exists", `f: * `, `f exists`},
		{"question mark is literal", `f:a?b`, `f == "a?b"`},
		{"question mark in wildcard is literal", `f:a?b*`, `f like "a\?b*"`},
		{"unicode wildcard", `f:é*`, `f like "é*"`},
		{"true stays text", `f:true`, `f == "true"`},
		{"number stays text", `f:101`, `f == "101"`},

		// Unquoted values may hold inner spaces; they are trimmed.
		{"inner spaces", `f:hello world`, `f == "hello world"`},
		{"trimmed", "f:   hello world \t", `f == "hello world"`},
		{"trimmed before keyword", `f:hello world  or g:x`, `(or f == "hello world" g == "x")`},
		{"trim around wildcard", `f: a* `, `f like "a*"`},

		// Escapes in unquoted values.
		{"escaped colon", `f:a\:b`, `f == "a:b"`},
		{"escaped star", `f:a\*b`, `f == "a*b"`},
		{"escaped star beside wildcard", `f:a\*b*`, `f like "a\*b*"`},
		{"escaped lone star", `f:\*`, `f == "*"`},
		{"escaped parentheses", `f:\(x\)`, `f == "(x)"`},
		{"escaped quote", `f:a\"b`, `f == "a\"b"`},
		{"escaped backslash", `f:a\\b`, `f == "a\\b"`},
		{"escaped angle and braces", `f:\<\>\{\}`, `f == "<>{}"`},
		{"escaped tab", `f:a\tb`, `f == "a\tb"`},
		{"escaped newline and cr", `f:a\nb\rc`, `f == "a\nb\rc"`},
		{"escaped tab is trimmed", `f:\tx`, `f == "x"`},
		{"unicode escape", `f:\u0041BC`, `f == "ABC"`},
		{"unicode escape lower hex", `f:caf\u00e9`, `f == "café"`},
		{"unicode escape surrogate pair", `f:\uD83D\uDE00`, `f == "😀"`},
		{"escaped keyword and", `f:\and`, `f == "and"`},
		{"escaped keyword keeps case", `f:\AND`, `f == "AND"`},
		{"escaped keyword inside value", `f:foo \or bar`, `f == "foo or bar"`},
		{"escaped NOT", `f:\NOT x`, `f == "NOT x"`},
		// The grammar tries \n (newline) before an escaped keyword, and the
		// leading newline is then trimmed.
		{"newline escape wins over escaped not", `f:\not x`, `f == "ot x"`},
		{"escaped field name", `a\:b:c`, `a:b == "c"`},

		// Escapes in quoted values: \" \\ \t \r \n \uXXXX; others are kept.
		{"quoted escaped quote", `f:"a\"b"`, `f == "a\"b"`},
		{"quoted escaped backslash", `f:"a\\b"`, `f == "a\\b"`},
		{"quoted tab", `f:"a\tb"`, `f == "a\tb"`},
		{"quoted unicode", `f:"\u00e9"`, `f == "é"`},
		{"quoted other escape kept", `f:"a\qb"`, `f == "a\\qb"`},
		{"quoted escaped star kept", `f:"a\*b"`, `f == "a\\*b"`},
		{"quoted not trimmed", `f:" a "`, `f == " a "`},

		// Ranges.
		{"less", `f < 5`, `f < "5"`},
		{"less or equal", `f<=5`, `f <= "5"`},
		{"greater", `f > a`, `f > "a"`},
		{"greater or equal date", `@timestamp >= 2024-01-01`, `@timestamp >= "2024-01-01"`},
		{"range quoted", `f < "x y"`, `f < "x y"`},
		{"range pair", `f >= 1 and f < 10`, `(and f >= "1" f < "10")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseKQL(tt.query)
			if err != nil {
				t.Fatalf("ParseKQL(%q): %v", tt.query, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("ParseKQL(%q)\n got %s\nwant %s", tt.query, got, tt.want)
			}
			if _, err := rules.Compile(e); err != nil {
				t.Errorf("Compile(%s): %v", e, err)
			}
		})
	}
}

func TestParseKQLSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, query string
		offset      int
	}{
		{"missing value", `a:`, 2},
		{"missing value after spaces", `a:   `, 5},
		{"missing field", `:x`, 0},
		{"missing field before range", `< 5`, 0},
		{"missing range value", `f <`, 3},
		{"missing range value before and", `f >= `, 5},
		{"unclosed value list", `a:(b`, 4},
		{"empty value list", `f:()`, 3},
		{"unclosed group", `(a:1`, 4},
		{"unterminated quote", `a:"unterm`, 2},
		{"stray close", `a:1)`, 3},
		{"and without space before group", `a:1 and(b:2)`, 7},
		{"invalid escape", `a:\x`, 2},
		{"escaped space", `a:b\ c`, 3},
		{"short unicode escape", `a:\u12`, 2},
		{"dangling or", `a:1 or `, 7},
		{"two colons", `a:b:c`, 3},
		{"juxtaposed groups", `(a:1) (b:2)`, 6},
		{"not without operator", `a:1 not b:2`, 4},
		// The grammar's NotQuery takes a SubQuery, which cannot start with
		// another not.
		{"double not", `not not a:1`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseKQL(tt.query)
			if err == nil {
				t.Fatalf("ParseKQL(%q) = %s, want a syntax error", tt.query, e)
			}
			var se *rules.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseKQL(%q) error %v (%T), want *rules.SyntaxError", tt.query, err, err)
			}
			if se.Lang != "kql" {
				t.Errorf("Lang = %q, want kql", se.Lang)
			}
			if se.Offset != tt.offset {
				t.Errorf("ParseKQL(%q) offset = %d, want %d (%v)", tt.query, se.Offset, tt.offset, err)
			}
			if rules.IsUnsupported(err) {
				t.Errorf("syntax error %v also reports unsupported", err)
			}
		})
	}
}

func TestParseKQLUnsupported(t *testing.T) {
	tests := []struct {
		name, query string
	}{
		{"free text", `hello`},
		{"quoted free text", `"hello world"`},
		{"free text after or", `a:1 or hello`},
		{"free text wildcard", `hel*`},
		{"wildcard field", `kubernetes.*:x`},
		{"lone star field", `*:x`},
		{"wildcard field range", `a* > 5`},
		{"nested query", `a:{b:c}`},
		{"nested query with spaces", `a : { b:c }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseKQL(tt.query)
			if err == nil {
				t.Fatalf("ParseKQL(%q) = %s, want unsupported", tt.query, e)
			}
			if !rules.IsUnsupported(err) {
				t.Fatalf("ParseKQL(%q) error %v, want unsupported", tt.query, err)
			}
			var se *rules.SyntaxError
			if errors.As(err, &se) {
				t.Errorf("unsupported %v is also a syntax error", err)
			}
			var ue *rules.UnsupportedError
			if errors.As(err, &ue) && ue.Reason == "" {
				t.Errorf("unsupported error without a reason")
			}
		})
	}
}

// Queries come from anyone's rule and exceptions files, and parsing,
// compiling and matching recurse over their nesting: past MaxQueryDepth
// groups a query is a syntax error, however deep it goes, never a stack
// overflow.
func TestQueryNestingIsBounded(t *testing.T) {
	kql := func(n int) string { return strings.Repeat("(", n) + "a:1" + strings.Repeat(")", n) }
	kqlValues := func(n int) string { return "a:" + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	eql := func(n int) string {
		return "any where " + strings.Repeat("(", n) + "a == 1" + strings.Repeat(")", n)
	}
	eqlNot := func(n int) string { return "any where " + strings.Repeat("not ", n) + "a == 1" }
	for _, tc := range []struct {
		name  string
		query func(int) string
		parse func(string) (rules.Expr, error)
	}{
		{"kql groups", kql, rules.ParseKQL},
		{"kql value groups", kqlValues, rules.ParseKQL},
		{"eql groups", eql, rules.ParseEQL},
		{"eql nots", eqlNot, rules.ParseEQL},
	} {
		if e, err := tc.parse(tc.query(rules.MaxQueryDepth)); err != nil {
			t.Errorf("%s: %d deep: %v", tc.name, rules.MaxQueryDepth, err)
		} else if _, err := rules.Compile(e); err != nil {
			t.Errorf("%s: %d deep does not compile: %v", tc.name, rules.MaxQueryDepth, err)
		}
		for _, n := range []int{rules.MaxQueryDepth + 1, 3_000_000} {
			_, err := tc.parse(tc.query(n))
			var se *rules.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "deep") {
				t.Errorf("%s: %d deep: error %v, want a syntax error about the nesting", tc.name, n, err)
			}
		}
	}
}
