package rules_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
)

// formatRequirement renders a requirement compactly: clauses joined by
// " & ", needles by "|", folded needles prefixed with "~".
func formatRequirement(req rules.Requirement) string {
	var clauses []string
	for _, c := range req {
		var needles []string
		for _, n := range c {
			if n.Fold {
				needles = append(needles, "~"+n.Text)
			} else {
				needles = append(needles, n.Text)
			}
		}
		clauses = append(clauses, strings.Join(needles, "|"))
	}
	return strings.Join(clauses, " & ")
}

func TestRequirementOf(t *testing.T) {
	tests := []struct {
		query, want string
	}{
		{`a:exec`, `exec`},
		{`a:exec and b:sh`, `exec & sh`},
		{`a:exec or b:sh`, `exec|sh`},
		{`a:(exec or sh)`, `exec|sh`},
		{`a:(exec and sh)`, `exec & sh`},
		{`a:exec or a:exec`, `exec`},
		{`a:exec or not b:sh`, ``},
		{`not a:exec`, ``},
		{`a:exec and not b:sh`, `exec`},
		{`a:*`, ``},
		{`a:ab*cde`, `cde`},
		{`a:ab*cde or b:x*`, `cde|x`},
		{`a < zzz`, ``},
		{``, ``},
		// Numbers may be spelled differently in the event (101.0, 1.01e2).
		{`a:101`, ``},
		{`any where a == 101`, ``},
		{`any where a in ("x", 5)`, ``},
		// Needles must appear verbatim in JSON text.
		{`a:"x\"y"`, ``},
		{`a:"x\\y"`, ``},
		{`a:"x\ty"`, ``},
		{`a:""`, ``},
		{`any where a : "EXEC"`, `~exec`},
		{`any where a : "*Exec*"`, `~exec`},
		{`any where a like "Ex*"`, `Ex`},
		{`any where a in~ ("SH", "Bash")`, `~sh|~bash`},
		{`any where a in~ ("été")`, ``},
		{`any where a == "été"`, `été`},
		{`any where a != "x"`, ``},
		{`any where a == null`, ``},
		{`any where a != null`, ``},
		{`any where a regex "exec.*"`, ``},
		{`any where cidrMatch(a, "10.0.0.0/8")`, ``},
		{`any where startsWith(a, "/bin/")`, `/bin/`},
		{`any where not startsWith(a, "/bin/")`, ``},
		{`any where a == true`, `true`},
		{`any where a : "*"`, ``},
		{`any where a : "?"`, ``},
		{`any where true`, ``},
		{`any where false`, ``},
		{`process where a == "xyz"`, `xyz & process`},
		// A less common needle is tried first.
		{`a:get and b:"system:serviceaccount"`, `system:serviceaccount & get`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e, _ := compileQuery(t, tt.query)
			got := formatRequirement(rules.RequirementOf(e, nil))
			if got != tt.want {
				t.Errorf("RequirementOf(%s) = %q, want %q", e, got, tt.want)
			}
		})
	}

	// Synthesized fields give no needle.
	e, _ := compileQuery(t, `event.dataset:"kubernetes.audit_logs" and kubernetes.audit.verb:create`)
	if got := formatRequirement(rules.RequirementOf(e, rawAuditSynthesized)); got != "create" {
		t.Errorf("with synthesized event.dataset: %q, want %q", got, "create")
	}
	if got := formatRequirement(rules.RequirementOf(e, nil)); got != "kubernetes.audit_logs & create" {
		t.Errorf("without synthesized fields: %q", got)
	}
}

// TestRequirementIsConservative is the prefilter's contract: whenever a
// query matches an event, the event's raw text satisfies every clause of the
// query's requirement, however the writer escaped or cased its values.
func TestRequirementIsConservative(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261120, 1))
	const queries, docsPerQuery = 3000, 12
	matched, checkedClauses := 0, 0
	for range queries {
		value := randomValue(rng)
		query := randomQuery(rng, value)
		e, _, err := rules.ParseQuery(query)
		if err != nil {
			t.Fatalf("generated query %q does not parse: %v", query, err)
		}
		m, err := rules.Compile(e)
		if err != nil {
			t.Fatalf("generated query %q does not compile: %v", query, err)
		}
		req := rules.RequirementOf(e, nil)
		for range docsPerQuery {
			line := randomDocument(rng, mutateValue(rng, value))
			if !m.Match(adapt(line)) {
				continue
			}
			matched++
			for _, c := range req {
				checkedClauses++
				if !c.Satisfied([]byte(line)) {
					t.Errorf("query %s matches %s\nbut the line does not satisfy clause %s of %s",
						query, line, formatRequirement(rules.Requirement{c}), formatRequirement(req))
				}
			}
		}
	}
	// The generator must actually exercise the property.
	if matched < queries || checkedClauses < queries {
		t.Fatalf("only %d matching pairs and %d clauses checked", matched, checkedClauses)
	}
}

// TestRequirementIsConservativeRawAudit checks the contract on raw audit
// events, whose adapter synthesizes fields and renames annotation keys.
func TestRequirementIsConservativeRawAudit(t *testing.T) {
	lines := []string{
		auditExecSPDYRequestReceived, auditExecSPDYResponseStarted, auditExecWebSocket,
		auditExecForbidden, auditGetPod, rawExecCreate, rawReordered,
		// Every character of the values escaped.
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x","stage":"ResponseStarted","verb":"\u0063\u0072\u0065\u0061\u0074\u0065","user":{"username":"\u0065rin@example.com"},"sourceIPs":["203.0.113.40"],"objectRef":{"resource":"\u0070ods","subresource":"\u0065\u0078\u0065\u0063","namespace":"shop","name":"api\/0"},"annotations":{"authorization.k8s.io\/decision":"\u0061llow"}}`,
	}
	queries := []string{
		`event.dataset : "kubernetes.audit_logs" and kubernetes.audit.annotations.authorization_k8s_io/decision:"allow" and kubernetes.audit.verb:"create" and kubernetes.audit.objectRef.resource:"pods" and kubernetes.audit.objectRef.subresource:"exec"`,
		`event.dataset : "kubernetes.audit_logs" and kubernetes.audit.annotations.authorization_k8s_io/decision:"allow" and kubernetes.audit.verb:"get" and kubernetes.audit.objectRef.resource:"pods" and kubernetes.audit.objectRef.subresource:"exec"`,
		`event.outcome:success and user.name:erin*`,
		`event.outcome:failure or source.ip:"10.20.0.14"`,
		`user.name:"erin@example.com" and orchestrator.resource.name:"api/0"`,
		`kubernetes.audit.objectRef.name:"api/0"`,
		`any where kubernetes.audit.verb : "CREATE" and event.action == "create"`,
		"any where stringContains~(`kubernetes.audit.annotations.authorization_k8s_io/reason`, \"CLUSTER-ADMIN\")",
		`any where user.name : "*@EXAMPLE.com" and kubernetes.audit.user.groups in ("sre", "devs")`,
		`any where kubernetes.audit.responseStatus.code == 101 and @timestamp >= "2026-11-20T00:00:00Z"`,
		`kubernetes.audit.requestURI:*&tty=true`,
	}
	matched := 0
	for _, q := range queries {
		e, m := compileQuery(t, q)
		req := rules.RequirementOf(e, rawAuditSynthesized)
		for _, line := range lines {
			if !m.Match(adapt(line)) {
				continue
			}
			matched++
			for _, c := range req {
				if !c.Satisfied([]byte(line)) {
					t.Errorf("query %s matches %s\nbut the line does not satisfy %s", q, line, formatRequirement(rules.Requirement{c}))
				}
			}
		}
	}
	if matched < len(queries) {
		t.Fatalf("only %d matching pairs", matched)
	}
}

// TestRequirementRegressions pins specific events the prefilter once
// wrongly ruled out.
func TestRequirementRegressions(t *testing.T) {
	tests := []struct {
		name, query, line string
	}{
		{"unicode escape", `f:exec`, `{"f":"\u0065xec"}`},
		{"escaped slash", `f:"/bin/sh"`, `{"f":"\/bin\/sh"}`},
		{"escaped surrogate pair", `any where f == "😀sh"`, `{"f":"\ud83d\ude00sh"}`},
		{"escaped surrogate pair wildcard", `f:*😀*`, `{"f":"x\uD83D\uDE00y"}`},
		{"escaped capital in a folded function", `any where startsWith~(f, "kubectl")`, `{"f":"\u004bubectl"}`},
		{"capital i in a folded function", `any where endsWith~(f, "bin")`, `{"f":"/BIN"}`},
		{"folded escape", `any where f : "EXEC"`, `{"f":"\u0045XEC"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, m := compileQuery(t, tt.query)
			if !m.Match(adapt(tt.line)) {
				t.Fatalf("%s does not match %s", tt.query, tt.line)
			}
			for _, c := range rules.RequirementOf(e, nil) {
				if !c.Satisfied([]byte(tt.line)) {
					t.Errorf("%s matches %s but clause %s rules it out", tt.query, tt.line, formatRequirement(rules.Requirement{c}))
				}
			}
		})
	}
}

// valueRunes are the characters generated values are made of: letters whose
// case folding is special, JSON and query metacharacters, non-ASCII and
// astral characters.
var valueRunes = []rune{
	'a', 'b', 'e', 'x', 'k', 'K', 'i', 'I', 's', 'S', '1', '0', '.', '-', '/', ':', ' ',
	'*', '?', '"', '\\', '&', '<', '(', ')', '\t',
	'é', 'É', 'ß', '\u212a', '\u0130', '\u017f', '😀', '€',
}

func randomValue(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(6) {
		b.WriteRune(valueRunes[rng.IntN(len(valueRunes))])
	}
	return b.String()
}

// caseVariants lists characters a value may hold instead of a query's.
var caseVariants = map[rune][]rune{
	'k': {'K', '\u212a'}, 'K': {'k', '\u212a'}, '\u212a': {'k', 'K'},
	'i': {'I', '\u0130'}, 'I': {'i', '\u0130'}, '\u0130': {'i', 'I'},
	's': {'S', '\u017f'}, 'S': {'s', '\u017f'}, '\u017f': {'s', 'S'},
	'é': {'É'}, 'É': {'é'}, 'a': {'A'}, 'b': {'B'}, 'e': {'E'}, 'x': {'X'},
}

// mutateValue returns value, or a variant of it with some characters in
// another case and text around it, so that case-insensitive, wildcard and
// substring queries match it.
func mutateValue(rng *rand.Rand, value string) string {
	if rng.IntN(4) == 0 {
		return value
	}
	var b strings.Builder
	if rng.IntN(3) == 0 {
		b.WriteString(randomValue(rng))
	}
	for _, r := range value {
		if vs, ok := caseVariants[r]; ok && rng.IntN(2) == 0 {
			r = vs[rng.IntN(len(vs))]
		}
		b.WriteRune(r)
	}
	if rng.IntN(3) == 0 {
		b.WriteString(randomValue(rng))
	}
	return b.String()
}

// jsonString encodes s as a JSON string, escaping characters at random the
// ways a JSON writer may: \uXXXX (surrogate pairs for astral characters),
// \/ and the short escapes.
func jsonString(rng *rand.Rand, s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		escape := rng.IntN(4) == 0
		switch {
		case r == '"' || r == '\\':
			if escape {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteByte('\\')
				b.WriteRune(r)
			}
		case r == '\t':
			if escape {
				b.WriteString(`\u0009`)
			} else {
				b.WriteString(`\t`)
			}
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '/' && escape && rng.IntN(2) == 0:
			b.WriteString(`\/`)
		case escape && r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04X\u%04X`, r1, r2)
			}
		case escape:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// randomDocument places value in field a.b of an event, in one of the
// layouts the ECS adapter resolves, beside a field c used by compound
// queries.
func randomDocument(rng *rand.Rand, value string) string {
	v := jsonString(rng, value)
	other := `"c":"x"`
	if rng.IntN(3) == 0 {
		other = `"c":"y"`
	}
	switch rng.IntN(6) {
	case 0:
		return `{"a":{"b":` + v + `},` + other + `}`
	case 1:
		return `{` + other + `,"a.b":` + v + `}`
	case 2:
		return `{"a":[{"b":"zz"},{"b":` + v + `}],` + other + `}`
	case 3:
		return `{"a.b":["q",` + v + `,null],` + other + `}`
	case 4:
		return `{"a":{"b":"nested"},"a.b":` + v + `,` + other + `}`
	}
	return `{"_index":"logs","_source":{"a":{"b":` + v + `},` + other + `}}`
}

// eqlString quotes s as an EQL string literal.
func eqlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// kqlQuoted quotes s as a KQL quoted string.
func kqlQuoted(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// kqlWildcard writes s as an unquoted KQL value with special characters
// escaped and a wildcard put in at random places.
func kqlWildcard(rng *rand.Rand, s string) string {
	var b strings.Builder
	for _, r := range s {
		if rng.IntN(4) == 0 {
			b.WriteByte('*')
		}
		switch {
		case strings.ContainsRune(`\():<>"*{}`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	if rng.IntN(2) == 0 {
		b.WriteByte('*')
	}
	return b.String()
}

// wildcardOf turns s into an EQL wildcard pattern that still matches s:
// some characters become ?, some runs *.
func wildcardOf(rng *rand.Rand, s string) string {
	var b strings.Builder
	for _, r := range s {
		switch rng.IntN(6) {
		case 0:
			b.WriteByte('?')
		case 1:
			b.WriteByte('*')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// randomQuery builds a query on field a.b from value, in KQL or EQL, alone
// or combined with a condition on field c.
func randomQuery(rng *rand.Rand, value string) string {
	const f = "a.b"
	var kql bool
	var q string
	simple := !strings.ContainsAny(value, " \t") && !strings.Contains(value, `\`)
	switch n := rng.IntN(16); {
	case n == 0:
		kql, q = true, f+":"+kqlQuoted(value)
	case n == 1 && simple:
		kql, q = true, f+":"+kqlWildcard(rng, value)
	case n == 1:
		kql, q = true, f+":("+kqlQuoted(value)+" or "+kqlQuoted(randomValue(rng))+")"
	case n == 2:
		q = f + " == " + eqlString(value)
	case n == 3:
		q = f + " : " + eqlString(wildcardOf(rng, value))
	case n == 4:
		q = f + " : (" + eqlString(randomValue(rng)) + ", " + eqlString(value) + ")"
	case n == 5:
		q = f + " in (" + eqlString(value) + ", " + eqlString(randomValue(rng)) + ")"
	case n == 6:
		q = f + " in~ (" + eqlString(value) + ")"
	case n == 7:
		q = f + " like " + eqlString(wildcardOf(rng, value))
	case n == 8:
		q = f + " like~ " + eqlString(wildcardOf(rng, value))
	case n == 9:
		q = "startsWith(" + f + ", " + eqlString(firstRunes(value, 1+rng.IntN(3))) + ")"
	case n == 10:
		q = "startsWith~(" + f + ", " + eqlString(firstRunes(value, 1+rng.IntN(3))) + ")"
	case n == 11:
		q = "endsWith~(" + f + ", " + eqlString(value) + ")"
	case n == 12:
		q = "stringContains(" + f + ", " + eqlString(value) + ")"
	case n == 13:
		q = "stringContains~(" + f + ", " + eqlString(value) + ", " + eqlString(randomValue(rng)) + ")"
	case n == 14:
		q = f + " != " + eqlString(randomValue(rng))
	default:
		q = "not " + f + " in~ (" + eqlString(randomValue(rng)) + ")"
	}
	switch rng.IntN(4) {
	case 0:
		if kql {
			q = "(" + q + ") and c:x"
		} else {
			q = "(" + q + ") and c == \"x\""
		}
	case 1:
		if kql {
			q = q + " or c:y"
		} else {
			q = q + " or c : \"Y\""
		}
	}
	if kql {
		return q
	}
	return "any where " + q
}

func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func TestClauseSatisfied(t *testing.T) {
	exec := rules.Clause{{Text: "exec"}}
	execFold := rules.Clause{{Text: "exec", Fold: true}}
	tests := []struct {
		name   string
		clause rules.Clause
		text   string
		want   bool
	}{
		{"plain", exec, `{"f":"exec"}`, true},
		{"absent", exec, `{"f":"shell"}`, false},
		{"case-sensitive", exec, `{"f":"EXEC"}`, false},
		{"folded", execFold, `{"f":"EXEC"}`, true},
		{"folded mixed", execFold, `{"f":"ExEc"}`, true},
		{"at the end", exec, `xxexec`, true},
		{"at the start", exec, `exec"}`, true},
		{"empty text", exec, ``, false},
		{"second needle", rules.Clause{{Text: "sh"}, {Text: "exec"}}, `{"f":"exec"}`, true},
		{"escape hides a needle letter", exec, `{"f":"\u0065xec"}`, true},
		{"escape of another letter", exec, `{"f":"\u0041bc"}`, false},
		{"escape of upper-case letter", exec, `{"f":"\u0045XEC"}`, false},
		{"escape of upper-case letter folded", execFold, `{"f":"\u0045XEC"}`, true},
		{"escaped slash", rules.Clause{{Text: "/bin"}}, `{"f":"\/bin"}`, true},
		{"escaped quote is not a letter", exec, `{"f":"\"ex\"ec"}`, false},
		// An escaped backslash is no \u escape here, but may be one in an
		// event embedded as a string (EKS messages): it must be parsed.
		{"escaped backslash may be an embedded u escape", exec, `{"f":"\\u0065xec"}`, true},
		{"broken escape", exec, `{"f":"\u00"}`, false},
		{"escaped astral character", rules.Clause{{Text: "😀"}}, `{"f":"\ud83d\ude00"}`, true},
		{"escaped other astral character", rules.Clause{{Text: "😀"}}, `{"f":"\ud83d\ude01"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clause.Satisfied([]byte(tt.text)); got != tt.want {
				t.Errorf("%v.Satisfied(%s) = %v, want %v", tt.clause, tt.text, got, tt.want)
			}
		})
	}
}

func TestClauseEscapeHides(t *testing.T) {
	tests := []struct {
		name   string
		clause rules.Clause
		text   string
		want   bool
	}{
		{"no escape", rules.Clause{{Text: "exec"}}, `exec`, false},
		{"unicode letter", rules.Clause{{Text: "exec"}}, `\u0078`, true},
		{"unicode other", rules.Clause{{Text: "exec"}}, `\u0079`, false},
		{"folded upper-case", rules.Clause{{Text: "exec", Fold: true}}, `\u0058`, true},
		{"slash", rules.Clause{{Text: "a/b"}}, `a\/b`, true},
		{"backslash", rules.Clause{{Text: `a\b`}}, `a\\b`, true},
		{"quote", rules.Clause{{Text: `a"b`}}, `a\"b`, true},
		{"tab", rules.Clause{{Text: "a\tb"}}, `a\tb`, true},
		{"tab not in needle", rules.Clause{{Text: "ab"}}, `a\tb`, false},
		{"second escape", rules.Clause{{Text: "é"}}, `\n\u00e9`, true},
		// Inside an event embedded as a JSON string, \\u0065 is the inner
		// event's own \u0065.
		{"escaped backslash then u", rules.Clause{{Text: "exec"}}, `\\u0065`, true},
		{"escaped backslash then other", rules.Clause{{Text: "exec"}}, `\\u0079`, false},
		{"doubly embedded", rules.Clause{{Text: "a&b"}}, `a\\\\u0026b`, true},
		{"escaped slash one level down", rules.Clause{{Text: "a/b"}}, `a\\\/b`, true},
		{"trailing backslash", rules.Clause{{Text: "exec"}}, `abc\`, false},
		{"surrogate pair", rules.Clause{{Text: "😀"}}, `\uD83D\uDE00`, true},
		{"lone surrogate", rules.Clause{{Text: "\uFFFD"}}, `\uD83D"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clause.EscapeHides([]byte(tt.text)); got != tt.want {
				t.Errorf("%v.EscapeHides(%s) = %v, want %v", tt.clause, tt.text, got, tt.want)
			}
		})
	}
}

func TestDecodeEscape(t *testing.T) {
	tests := []struct {
		in   string
		r    rune
		size int
	}{
		{`\"`, '"', 2},
		{`\\`, '\\', 2},
		{`\/`, '/', 2},
		{`\b`, '\b', 2},
		{`\f`, '\f', 2},
		{`\n`, '\n', 2},
		{`\r`, '\r', 2},
		{`\t`, '\t', 2},
		{`\u0041rest`, 'A', 6},
		{`\u00e9`, 'é', 6},
		{`\u00E9`, 'é', 6},
		{`\u212A`, '\u212a', 6},
		{`\uD83D\uDE00`, '😀', 12},
		{`\ud83d\ude00`, '😀', 12},
		{`\uD83D`, utf8.RuneError, 6},
		{`\uD83D\u0041`, utf8.RuneError, 6},
		{`\uDE00`, utf8.RuneError, 6},
		{`\u12`, 0, 0},
		{`\uZZZZ`, 0, 0},
		{`\u+123`, 0, 0},
		{`\x`, 0, 0},
		{`\`, 0, 0},
		{`a`, 0, 0},
		{``, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, size := rules.DecodeEscape([]byte(tt.in))
			if r != tt.r || size != tt.size {
				t.Errorf("DecodeEscape(%s) = %U, %d; want %U, %d", tt.in, r, size, tt.r, tt.size)
			}
		})
	}
}

func TestClauseContainsRune(t *testing.T) {
	tests := []struct {
		clause rules.Clause
		r      rune
		want   bool
	}{
		{rules.Clause{{Text: "exec"}}, 'x', true},
		{rules.Clause{{Text: "exec"}}, 'X', false},
		{rules.Clause{{Text: "exec", Fold: true}}, 'X', true},
		{rules.Clause{{Text: "exec", Fold: true}}, 'q', false},
		{rules.Clause{{Text: "café"}}, 'é', true},
		{rules.Clause{{Text: "café"}}, 'É', false},
		{rules.Clause{{Text: "a"}, {Text: "b"}}, 'b', true},
	}
	for _, tt := range tests {
		if got := tt.clause.ContainsRune(tt.r); got != tt.want {
			t.Errorf("%v.ContainsRune(%q) = %v, want %v", tt.clause, tt.r, got, tt.want)
		}
	}
}

func TestNeedleIndex(t *testing.T) {
	tests := []struct {
		needle rules.Needle
		text   string
		want   int
	}{
		{rules.Needle{Text: "exec"}, "xxexecyy", 2},
		{rules.Needle{Text: "exec"}, "xxEXECyy", -1},
		{rules.Needle{Text: "exec", Fold: true}, "xxEXECyy", 2},
		{rules.Needle{Text: "exec", Fold: true}, "abcEXEC", 3},
		{rules.Needle{Text: "exec", Fold: true}, "EXEc and exec", 0},
		// The upper-case first letter comes first but does not start a match.
		{rules.Needle{Text: "exec", Fold: true}, "Ex exec", 3},
		// The lower-case first letter comes first but does not start a match.
		{rules.Needle{Text: "exec", Fold: true}, "ex EXEC", 3},
		{rules.Needle{Text: "exec", Fold: true}, "e E ex Ex exEc", 10},
		{rules.Needle{Text: "exec", Fold: true}, "xxex", -1},
		{rules.Needle{Text: "exec", Fold: true}, "exe", -1},
		{rules.Needle{Text: "exec", Fold: true}, "", -1},
		{rules.Needle{Text: "/bin", Fold: true}, "x/BIN", 1},
		{rules.Needle{Text: "1a", Fold: true}, "11A", 1},
	}
	for _, tt := range tests {
		if got := tt.needle.Index([]byte(tt.text)); got != tt.want {
			t.Errorf("%+v.Index(%q) = %d, want %d", tt.needle, tt.text, got, tt.want)
		}
	}
}

// TestRequirementNames: with Literals.Name, a condition also requires its
// field's name, which is the only literal of an existence test, a number
// or a regex, and the better one of a long list of common values. Fields
// without a name (synthesized, or Name gives "") add nothing.
func TestRequirementNames(t *testing.T) {
	lastSegment := func(f string) string {
		if f == "event.dataset" {
			return ""
		}
		return f[strings.LastIndexByte(f, '.')+1:]
	}
	lit := rules.Literals{Name: lastSegment, Synthesized: func(f string) bool { return f == "user.name" }}
	tests := []struct{ query, want string }{
		{`a.impersonated:*`, `impersonated`},
		{`a.code >= 400`, `code`},
		{`any where a.path regex "/etc/.*"`, `path`},
		// A list of common words loses to the name.
		{`a.verb:(get or list or watch) and a.impersonated:*`, `impersonated & verb`},
		// Inside an or, each branch gives its better clause.
		{`a.x.impersonated:* or a.y.impersonated:"admin"`, `impersonated`},
		{`a.code >= 400 or a.verb:get`, `code|verb`},
		{`a.code >= 400 or a.verb:serviceaccounts`, `code|serviceaccounts`},
		{`event.dataset:*`, ``},
		{`user.name:*`, ``},
		// Negated conditions can hold without the field.
		{`not a.impersonated:*`, ``},
	}
	for _, tt := range tests {
		e, _ := compileQuery(t, tt.query)
		if got := formatRequirement(rules.RequirementFor(e, lit)); got != tt.want {
			t.Errorf("RequirementFor(%s) = %q, want %q", tt.query, got, tt.want)
		}
	}
	// A name clause holds on the name, also when it is spelled with escapes.
	e, _ := compileQuery(t, `a.impersonated:*`)
	req := rules.RequirementFor(e, lit)
	if len(req) != 1 || len(req[0]) != 1 || !req[0][0].Name {
		t.Fatalf("requirement %v", req)
	}
	if req[0].Satisfied([]byte(`{"a":{"other":1}}`)) || !req[0].Satisfied([]byte(`{"a":{"imperson\u0061ted":1}}`)) {
		t.Errorf("name clause: wrong on a text without the name, or with it escaped")
	}
}
