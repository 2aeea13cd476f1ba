package rules_test

import (
	"errors"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
)

// fuzzDocuments are evaluated by every query the fuzzers parse, so matching
// and the prefilter run on arbitrary trees too.
var fuzzDocuments = []string{
	`{}`,
	`{"a":"x","b":1,"c":true,"d":null,"e":[],"f":{"g":"h"}}`,
	`{"a":{"b":"x"},"a.b":["y","\u0065xec"],"event":{"category":["process"],"type":"start"}}`,
	`{"process":{"name":"sh","interactive":"true","entry_leader":{"same_as_process":true,"entry_meta":{"type":"CONTAINER"}}},"container.id":"c1"}`,
	`{"f":"\ud83d\ude00 \/bin\/sh 10.0.0.1","n":[1.5,-2,3e2],"@timestamp":"2024-01-01T00:00:00Z"}`,
	rawExecCreate,
	`{"_source":{"a":{"b":"x"},"source.ip":"::ffff:10.1.2.3"}}`,
}

// checkParsed holds for any query text: a parse error is either a syntax
// error inside the query or an unsupported feature, and a parsed tree
// prints, compiles, matches without panicking, and yields a prefilter
// requirement that every matching document satisfies.
func checkParsed(t *testing.T, query, lang string, e rules.Expr, err error) {
	t.Helper()
	if err != nil {
		if e != nil {
			t.Fatalf("%q: tree %v beside error %v", query, e, err)
		}
		var se *rules.SyntaxError
		isSyntax := errors.As(err, &se)
		if isSyntax == rules.IsUnsupported(err) {
			t.Fatalf("%q: error %v (%T) is neither or both syntax and unsupported", query, err, err)
		}
		if isSyntax && (se.Offset < 0 || se.Offset > len(query) || se.Lang != lang) {
			t.Fatalf("%q: syntax error %+v out of range", query, se)
		}
		return
	}
	if e == nil {
		t.Fatalf("%q: no tree and no error", query)
	}
	_ = e.String()
	// The parsers validate regular expressions and CIDR blocks, so a tree
	// they return compiles unless it gives an ip field a value that is no
	// address, or a date field one that is no date, which fail in
	// Elasticsearch when the query runs.
	m, err := rules.Compile(e)
	if errors.Is(err, rules.ErrNotAddress) || errors.Is(err, rules.ErrNotDate) {
		return
	}
	if err != nil {
		t.Fatalf("%q parses to %s but does not compile: %v", query, e, err)
	}
	plain, raw := rules.RequirementOf(e, nil), rules.RequirementOf(e, rawAuditSynthesized)
	for _, line := range fuzzDocuments {
		doc, shape := scan.Adapt([]byte(line))
		if !m.Match(doc) {
			continue
		}
		req := plain
		if shape == scan.ShapeRawAudit {
			req = raw
		}
		for _, c := range req {
			if !c.Satisfied([]byte(line)) {
				t.Fatalf("%q (%s) matches %s but the prefilter rules it out (%s)", query, e, line, formatRequirement(req))
			}
		}
	}
}

func FuzzParseKQL(f *testing.F) {
	for _, seed := range []string{
		``, `a:1`, `a:1 or b:2 and not c:3`, `f:(a or (b and not c))`, `f:"quoted \"x\" \u00e9"`,
		`f:a*b\*c`, `f:*`, `f < 5 and g >= "x"`, `f:\and \or \NOT`, `f:\uD83D\uDE00`, `f:hello world`,
		`kubernetes.audit.annotations.authorization_k8s_io/decision:"allow"`, `a:{b:c}`, `a*:x`, `hello`,
		"a:1\u00a0OR\u00a0b:2", `source.ip:10.0.0.0/8 or not source.ip:"::ffff:10.1.2.3"`, `source.ip:x`, `@timestamp:2026-11-20 or @timestamp <= "2026-11-20T09"`, `(a:1`, `a:"unterminated`, `a:\x`, `not not a:1`, `f:\t x \t`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		e, err := rules.ParseKQL(query)
		checkParsed(t, query, "kql", e, err)
	})
}

func FuzzParseEQL(f *testing.F) {
	for _, seed := range []string{
		`any where true`, `process where a == "x" and not b != 1`, `any where f : ("a*", "b?")`,
		`any where f in~ ("A", null)`, `any where f not in (1, 2.5, -3e2)`, `any where f like~ "x*" or g regex "a.*"`,
		`any where not startsWith~(f, "a", "b")`, `any where cidrMatch(ip, "10.0.0.0/8", "::1")`,
		"any where `a``b` == ?c", "any where /* x */ f == \"\\u{1F600}\" // y\n and g", `any where f == """raw\"""`,
		`"cat" where 5 <= f`, `sequence [any where true] [any where true]`, `any where f | head 1`,
		`any where source.ip in ("10.0.0.0/8", "::1") and destination.ip > "10.0.0.1"`, `any where f = 1`, `any where f == 'x'`, `any where f regex "\\d"`, `any where f == .5e1`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		e, err := rules.ParseEQL(query)
		checkParsed(t, query, "eql", e, err)
		// The language router must not panic either.
		_, _, _ = rules.ParseQuery(query)
	})
}

func FuzzPatternMatch(f *testing.F) {
	f.Add("a*b?c", "aXbYc", true)
	f.Add("*ab*abc", "xabyababc", true)
	f.Add("a?c", "a😀c", true)
	f.Add("a?c", "a?c", false)
	f.Add("**", "", true)
	f.Add("é*?", "été", true)
	f.Fuzz(func(t *testing.T, pattern, s string, withOne bool) {
		if !validPatternInput(pattern, s) {
			return
		}
		checkPattern(t, pattern, s, withOne)
	})
}
