package rules_test

import (
	"errors"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// TestParseEQL checks the tree each single-event EQL query parses into
// (Elasticsearch's EqlBase.g4 and ExpressionBuilder translations).
func TestParseEQL(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		// Categories.
		{"process where", `process where true`, `(and event.category == "process" true)`},
		{"any where", `any where true`, `true`},
		{"any where condition", `any where f == "x"`, `f == "x"`},
		{"quoted category", `"my-category" where f == 1`, `(and event.category == "my-category" f == 1)`},
		{"quoted any is a category", `"any" where true`, `(and event.category == "any" true)`},
		// Keywords are lower-case only, so `Any` is a category name.
		{"capitalised any is a category", `Any where true`, `(and event.category == "Any" true)`},
		{"category keeps case", `Process where true`, `(and event.category == "Process" true)`},

		// Comparisons.
		{"equal string", `any where f == "x"`, `f == "x"`},
		{"equal keeps star literal", `any where f == "a*"`, `f == "a*"`},
		{"not equal", `any where f != "x"`, `(not f == "x")`},
		{"equal number", `any where f == 101`, `f == 101`},
		{"equal true", `any where f == true`, `f == true`},
		{"equal false", `any where f == false`, `f == false`},
		{"equal null", `any where f == null`, `(not f exists)`},
		{"not equal null", `any where f != null`, `f exists`},
		{"less", `any where f < 5`, `f < 5`},
		{"less or equal", `any where f <= 5`, `f <= 5`},
		{"greater", `any where f > 5`, `f > 5`},
		{"greater or equal string", `any where f >= "b"`, `f >= "b"`},
		{"timestamp field", `any where @timestamp > "2024-01-01"`, `@timestamp > "2024-01-01"`},

		// Literal on the left mirrors the operator.
		{"literal left equal", `any where "x" == f`, `f == "x"`},
		{"literal left not equal", `any where "x" != f`, `(not f == "x")`},
		{"literal left less", `any where 5 < f`, `f > 5`},
		{"literal left less or equal", `any where 5 <= f`, `f >= 5`},
		{"literal left greater", `any where 5 > f`, `f < 5`},
		{"literal left greater or equal", `any where 5 >= f`, `f <= 5`},
		{"null left", `any where null == f`, `(not f exists)`},

		// Numbers.
		{"negative", `any where f == -1`, `f == -1`},
		{"negative with space", `any where f == - 1`, `f == -1`},
		{"decimal", `any where f == 1.5`, `f == 1.5`},
		{"exponent", `any where f >= 1e3`, `f >= 1e3`},
		{"negative exponent", `any where f < -2.5E-3`, `f < -2.5E-3`},
		{"exponent plus", `any where f < 1e+2`, `f < 1e+2`},
		{"leading dot decimal", `any where f == .5`, `f == .5`},
		{"trailing dot decimal", `any where f == 1.`, `f == 1.`},

		// Wildcard equality `:`: case-insensitive, single value or list.
		{"colon", `any where f : "abc"`, `f like~ "abc"`},
		{"colon star", `any where f : "a*"`, `f like~ "a*"`},
		{"colon question", `any where f : "a?c"`, `f like~ "a?c"`},
		{"colon list", `any where f : ("a", "b?c")`, `f like~ ("a", "b?c")`},

		// Set membership.
		{"in", `any where f in ("a", "b")`, `f == ("a", "b")`},
		{"in single", `any where f in ("a")`, `f == "a"`},
		{"in numbers", `any where f in (1, 2)`, `f == (1, 2)`},
		{"in insensitive", `any where f in~ ("a", "B")`, `f ==~ ("a", "B")`},
		{"in keeps wildcards literal", `any where f in~ ("a*")`, `f ==~ "a*"`},
		{"not in", `any where f not in ("a")`, `(not f == "a")`},
		{"not in insensitive", `any where f not in~ ("a", "b")`, `(not f ==~ ("a", "b"))`},
		{"in with null", `any where f in ("a", null)`, `(or f == "a" (not f exists))`},
		{"in only null", `any where f in (null)`, `(not f exists)`},

		// like, regex.
		{"like", `any where f like "a*"`, `f like "a*"`},
		{"like insensitive", `any where f like~ "A*"`, `f like~ "A*"`},
		{"like list", `any where f like ("a*", "b?")`, `f like ("a*", "b?")`},
		{"regex", `any where f regex "a.*"`, `f regex "a.*"`},
		{"regex insensitive", `any where f regex~ "a.*"`, `f regex~ "a.*"`},
		{"regex list", `any where f regex~ ("a.*", "b")`, `f regex~ ("a.*", "b")`},

		// Fields.
		{"optional field", `any where ?f == "x"`, `f == "x"`},
		{"optional dotted field", `any where ?a.b.c != null`, `a.b.c exists`},
		{"backtick field", "any where `my-field` == \"x\"", `my-field == "x"`},
		{"backtick doubled backtick", "any where `a``b` == 1", "a`b == 1"},
		{"backtick with dots and spaces", "any where `a b.c` == 1", `a b.c == 1`},
		{"optional backtick field", "any where ?`x-y` != null", `x-y exists`},
		{"bare field is boolean", `any where f`, `f == true`},
		{"not bare field", `any where not f`, `(not f == true)`},

		// Comments.
		{"block comment", `any where /* c */ f == 1`, `f == 1`},
		{"line comment", "any where f == 1 // trailing\n and g == 2", `(and f == 1 g == 2)`},
		{"comment before category", "// leading\nprocess where true", `(and event.category == "process" true)`},
		{"multi-line block comment", "any where f == 1 and /* a\nb */ g == 2", `(and f == 1 g == 2)`},
		{"nested block comment", `any where f == 1 /* a /* b */ c */ and g == 2`, `(and f == 1 g == 2)`},
		{"comment markers in string", `any where f == "/* x */ // y"`, `f == "/* x */ // y"`},

		// Strings.
		{"escaped quote and backslash", `any where f == "a\"b\\c"`, `f == "a\"b\\c"`},
		{"escaped control", `any where f == "a\nb\tc\rd"`, `f == "a\nb\tc\rd"`},
		{"escaped single quote", `any where f == "it\'s"`, `f == "it's"`},
		{"unicode escape", `any where f == "\u{41}\u{00e9}"`, `f == "Aé"`},
		{"unicode escape astral", `any where f == "\u{1F600}"`, `f == "😀"`},
		{"raw string", `any where f == """C:\Windows\x"""`, `f == "C:\\Windows\\x"`},
		{"raw string with quote", `any where f == """a"b"""`, `f == "a\"b"`},
		{"numeric string", `any where f == "101"`, `f == "101"`},

		// Functions.
		{"startsWith", `any where startsWith(f, "a")`, `f startsWith "a"`},
		{"startsWith insensitive", `any where startsWith~(f, "a", "b")`, `f startsWith~ ("a", "b")`},
		{"endsWith", `any where endsWith(f, ".sh")`, `f endsWith ".sh"`},
		{"endsWith insensitive", `any where endsWith~(f, ".SH")`, `f endsWith~ ".SH"`},
		{"stringContains", `any where stringContains(f, "x")`, `f stringContains "x"`},
		{"stringContains insensitive", `any where stringContains~(f, "x")`, `f stringContains~ "x"`},
		{"function name case", `any where STARTSWITH(f, "x")`, `f startsWith "x"`},
		{"cidrMatch", `any where cidrMatch(source.ip, "10.0.0.0/8", "::1", "192.168.1.1")`,
			`source.ip cidrMatch ("10.0.0.0/8", "::1", "192.168.1.1")`},
		// A not directly above a function is folded into Elasticsearch's
		// null-safe script: a missing field makes it false.
		{"not function", `any where not startsWith(f, "x")`, `(not f startsWith "x")`},
		{"not parenthesised function", `any where not (endsWith(f, "x"))`, `(not f endsWith "x")`},
		{"not cidrMatch", `any where not cidrMatch(ip, "10.0.0.0/8")`, `(not ip cidrMatch "10.0.0.0/8")`},
		{"double not function", `any where not not startsWith(f, "x")`, `f startsWith "x"`},

		// Boolean structure.
		{"and binds tighter than or", `any where a == 1 or b == 2 and c == 3`, `(or a == 1 (and b == 2 c == 3))`},
		{"not binds tighter than and", `any where not a == 1 and b == 2`, `(and (not a == 1) b == 2)`},
		{"parentheses", `any where (a == 1 or b == 2) and c == 3`, `(and (or a == 1 b == 2) c == 3)`},
		{"double not removed", `any where not not a == 1`, `a == 1`},
		{"constants", `any where true and false`, `(and true false)`},
		{"flattened", `process where a == 1 and (b == 2 and c == 3)`,
			`(and event.category == "process" a == 1 b == 2 c == 3)`},
		{"whitespace everywhere", "process\twhere\n\tf\n==\n1", `(and event.category == "process" f == 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseEQL(tt.query)
			if err != nil {
				t.Fatalf("ParseEQL(%q): %v", tt.query, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("ParseEQL(%q)\n got %s\nwant %s", tt.query, got, tt.want)
			}
			if _, err := rules.Compile(e); err != nil {
				t.Errorf("Compile(%s): %v", e, err)
			}
		})
	}
}

func TestParseEQLSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, query string
		offset      int // -1: any
	}{
		{"single quotes", `any where f == 'x'`, 15},
		{"assignment", `any where f = "x"`, 12},
		{"upper-case AND", `any where f == "x" AND g == 1`, 19},
		{"upper-case OR", `any where f == "x" OR g == 1`, 19},
		{"upper-case NOT", `any where NOT f == "x"`, 14},
		{"upper-case WHERE", `process WHERE true`, 8},
		{"upper-case IN", `any where f IN ("a")`, 12},
		{"no condition", `any where`, 9},
		{"no where", `process`, 7},
		{"empty", ``, 0},
		{"unterminated string", `any where f == "x`, 15},
		{"newline in string", "any where f == \"a\nb\"", -1},
		{"invalid escape", `any where f == "\q"`, 16},
		{"surrogate escape", `any where f == "\u{D800}"`, 16},
		{"short unicode escape", `any where f == "\u{4}"`, 16},
		{"unicode escape without braces", `any where f == "\u0041"`, 16},
		{"unterminated raw string", `any where f == """abc`, 15},
		{"unterminated comment", `any where /* x`, 10},
		{"unterminated backtick", "any where `abc == 1", 10},
		{"empty backtick", "any where `` == 1", 10},
		{"colon needs string", `any where f : 1`, 12},
		{"like needs string", `any where f like 1`, 12},
		{"unclosed regex class", `any where f regex "[a"`, 12},
		{"regex trailing backslash", `any where f regex "a\\"`, 12},
		{"invalid cidr", `any where cidrMatch(f, "nope")`, 10},
		{"invalid cidr prefix", `any where cidrMatch(f, "10.0.0.0/33")`, 10},
		{"one-argument function", `any where startsWith~(f)`, 10},
		{"cidrMatch insensitive", `any where cidrMatch~(f, "10.0.0.0/8")`, 10},
		{"two strings", `any where f == "a" "b"`, 19},
		{"missing operand", `any where f == `, 15},
		{"negative non-number", `any where f == -x`, 16},
		{"tilde after field", `any where f~ == 1`, 11},
		{"unbalanced parenthesis", `any where (f == 1`, 17},
		{"in without list", `any where f in "a"`, 15},
		{"order compare with null", `any where f < null`, 14},
		{"order compare with bool", `any where f > true`, 14},
		{"keyword as field", `any where where == 1`, 10},
		{"stray character", `any where f == 1 $`, 17},
		{"question mark alone", `any where ? == 1`, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseEQL(tt.query)
			if err == nil {
				t.Fatalf("ParseEQL(%q) = %s, want a syntax error", tt.query, e)
			}
			var se *rules.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseEQL(%q) error %v (%T), want *rules.SyntaxError", tt.query, err, err)
			}
			if se.Lang != "eql" {
				t.Errorf("Lang = %q, want eql", se.Lang)
			}
			if tt.offset >= 0 && se.Offset != tt.offset {
				t.Errorf("ParseEQL(%q) offset = %d, want %d (%v)", tt.query, se.Offset, tt.offset, err)
			}
			if rules.IsUnsupported(err) {
				t.Errorf("syntax error %v also reports unsupported", err)
			}
		})
	}
}

func TestParseEQLUnsupported(t *testing.T) {
	tests := []struct {
		name, query string
	}{
		{"sequence", `sequence [process where true] [network where true]`},
		{"sequence by", `sequence by host.id with maxspan=1m [process where true] [network where true]`},
		{"join", `join [process where true] [network where true]`},
		{"sample", `sample by host.id [process where true] [network where true]`},
		{"pipe head", `process where true | head 5`},
		{"pipe tail", `any where f == 1 | tail 1`},
		{"unknown function", `any where foo(f)`},
		{"length function", `any where length(f) > 3`},
		{"unknown insensitive function", `any where between~(f, "a", "b")`},
		{"field to field", `any where f == g`},
		{"field to field order", `any where f < g`},
		{"no field", `any where 1 == 2`},
		{"function on literal", `any where startsWith("x", "y")`},
		{"function with field argument", `any where startsWith(f, g)`},
		{"function with number argument", `any where stringContains(f, 1)`},
		{"in with field", `any where f in (g)`},
		{"array index", `any where f[0] == 1`},
		// Lucene's regex syntax differs from RE2 here; rather than guess,
		// these are reported as unsupported, not as broken queries.
		{"regex digit class", `any where f regex "\\d+"`},
		{"regex word class", `any where f regex~ "\\w+"`},
		{"regex complement operator", `any where f regex "~a"`},
		{"regex interval operator", `any where f regex "<1-10>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := rules.ParseEQL(tt.query)
			if err == nil {
				t.Fatalf("ParseEQL(%q) = %s, want unsupported", tt.query, e)
			}
			if !rules.IsUnsupported(err) {
				t.Fatalf("ParseEQL(%q) error %v (%T), want unsupported", tt.query, err, err)
			}
		})
	}
}

// TestParseQueryLanguage checks that hunting queries are routed to the
// right parser by their shape.
func TestParseQueryLanguage(t *testing.T) {
	tests := []struct {
		query, lang string
		wantErr     bool
	}{
		{`process where true`, "eql", false},
		{`any where f == 1`, "eql", false},
		{`"my-cat" where f == 1`, "eql", false},
		{"/* c */ process where true", "eql", false},
		{"// c\nany where true", "eql", false},
		{`sequence [process where true] [network where true]`, "eql", true},
		{`sequence by host.id [process where true] [network where true]`, "eql", true},
		{`join [process where true] [network where true]`, "eql", true},
		{`sample by host.id [process where true] [network where true]`, "eql", true},
		{`f:x`, "kuery", false},
		{``, "kuery", false},
		{`process.name:sh`, "kuery", false},
		{`kubernetes.audit.verb:create and user.name:alice`, "kuery", false},
		{`where:x`, "kuery", false},
		// KQL queries on fields that happen to be named like EQL keywords.
		{`sample.id:1`, "kuery", false},
		{`sequence:5`, "kuery", false},
		{`join_key:x`, "kuery", false},
		{`joined:true`, "kuery", false},
		{`sample.rate > 5`, "kuery", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e, lang, err := rules.ParseQuery(tt.query)
			if lang != tt.lang {
				t.Errorf("ParseQuery(%q) language = %q, want %q", tt.query, lang, tt.lang)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseQuery(%q) = %v, %v; want error %v", tt.query, e, err, tt.wantErr)
			}
		})
	}
}
