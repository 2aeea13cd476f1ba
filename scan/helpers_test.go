package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// Rule IDs of the built-in rules, named as in testdata/EXPECTED.md.
const (
	idR1 = "14de811c-d60f-11ec-9fd7-f661ea17fbce" // Kubernetes User Exec into Pod
	idR2 = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1" // Interactive Exec Command Launched Against A Running Container
	idR3 = "1c50f817-b9c2-4669-a629-d365cc2a0802" // k8sexec: exec over WebSocket (verb get)
)

var shortNames = map[string]string{idR1: "R1", idR2: "R2", idR3: "R3"}

var loadBuiltin = sync.OnceValues(rules.Builtin)

// builtinRules returns the compiled built-in rules EXPECTED.md talks about
// (R1, R2, R3), failing the test if one is missing. The other built-ins
// (denied execs, attach, ephemeral containers) have their own tests.
func builtinRules(tb testing.TB) []*rules.Rule {
	tb.Helper()
	rs, err := loadBuiltin()
	if err != nil {
		tb.Fatalf("rules.Builtin: %v", err)
	}
	var out []*rules.Rule
	for _, r := range rs {
		if shortNames[r.ID] != "" {
			out = append(out, r)
		}
	}
	if len(out) != len(shortNames) {
		tb.Fatalf("built-in rules %v, want the %d of EXPECTED.md", out, len(shortNames))
	}
	return out
}

// operatorRules returns the built-in rules of builtinRules and our rules
// of rules/testdata/operators, one per operator, failing the test if one
// does not load.
func operatorRules(tb testing.TB) []*rules.Rule {
	tb.Helper()
	rs := builtinRules(tb)
	res, err := rules.LoadPath("../rules/testdata/operators")
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			tb.Fatalf("%s: %v", r.Path, r.Err)
		}
		rs = append(rs, r.Rule)
	}
	return rs
}

// ruleName is the EXPECTED.md name of a rule (R1, R2, R3) or its ID.
func ruleName(r *rules.Rule) string {
	if n, ok := shortNames[r.ID]; ok {
		return n
	}
	return r.ID
}

// customRule compiles a query into a rule, for tests that need more than
// the built-ins.
func customRule(tb testing.TB, id, query string) *rules.Rule {
	tb.Helper()
	e, lang, err := rules.ParseQuery(query)
	if err != nil {
		tb.Fatalf("parse %q: %v", query, err)
	}
	m, err := rules.Compile(e)
	if err != nil {
		tb.Fatalf("compile %q: %v", query, err)
	}
	return &rules.Rule{ID: id, Name: id, Language: lang, Query: query, Expr: e, Matcher: m}
}

// hits renders the matches of one input as "line:R1" strings, one per
// (line, rule) pair, in result order.
func hits(res *Result, rs []*rules.Rule, input int) []string {
	var out []string
	for _, ev := range res.Events {
		if ev.Input != input {
			continue
		}
		for _, ri := range ev.Rules {
			out = append(out, fmt.Sprintf("%d:%s", ev.Line, ruleName(rs[ri])))
		}
	}
	return out
}

// problemLines returns the line numbers of the problems of one input.
func problemLines(res *Result, input int) []int64 {
	var out []int64
	for _, p := range res.Problems {
		if p.Input == input {
			out = append(out, p.Line)
		}
	}
	return out
}

// Unless a test asks for it, nothing is parsed for sampling (ParseFirst),
// so that small inputs show what the prefilter does on large ones.
func mustScan(tb testing.TB, inputs []Input, opts Options) *Result {
	tb.Helper()
	if opts.ParseFirst == 0 {
		opts.ParseFirst = -1
	}
	res, err := Scan(context.Background(), inputs, opts)
	if err != nil {
		tb.Fatalf("Scan: %v", err)
	}
	if len(res.Inputs) != len(inputs) {
		tb.Fatalf("Scan returned %d input stats for %d inputs", len(res.Inputs), len(inputs))
	}
	return res
}

// scanString scans data given as standard input.
func scanString(tb testing.TB, data string, opts Options) *Result {
	tb.Helper()
	opts.Stdin = strings.NewReader(data)
	return mustScan(tb, []Input{{Name: Stdin}}, opts)
}

// checkInvariants asserts what must hold for every input of every Result:
// every line is counted exactly once, events are in input and line order,
// and every event and problem points at a line that exists.
func checkInvariants(tb testing.TB, res *Result) {
	tb.Helper()
	for i, st := range res.Inputs {
		units := st.Events + st.Malformed + st.Overlong + st.Skipped + st.Envelopes - st.Unwrapped
		if units != st.Records {
			tb.Errorf("input %d (%s): events %d + malformed %d + overlong %d + skipped %d + envelopes %d - unwrapped %d = %d, want records %d",
				i, st.Name, st.Events, st.Malformed, st.Overlong, st.Skipped, st.Envelopes, st.Unwrapped, units, st.Records)
		}
		if st.Layout != LayoutJSON && st.Layout != LayoutCSV && st.Layout != LayoutCRI && st.Layout != LayoutDocker && st.Blank+st.Records != st.Lines {
			tb.Errorf("input %d (%s): blank %d + records %d = %d, want lines %d", i, st.Name, st.Blank, st.Records, st.Blank+st.Records, st.Lines)
		}
		if st.Joined > st.Envelopes {
			tb.Errorf("input %d: joined %d > envelopes %d", i, st.Joined, st.Envelopes)
		}
		if st.Parsed > st.Events {
			tb.Errorf("input %d: parsed %d > events %d", i, st.Parsed, st.Events)
		}
		var shapes int64
		for _, n := range st.Shapes {
			shapes += n
		}
		if shapes != st.Events {
			tb.Errorf("input %d: shapes add up to %d, events %d", i, shapes, st.Events)
		}
		var skips int64
		for _, n := range st.SkipReasons {
			skips += n
		}
		if skips != st.Skipped {
			tb.Errorf("input %d: skip reasons add up to %d, skipped %d", i, skips, st.Skipped)
		}
	}
	for k, ev := range res.Events {
		if ev.Input < 0 || ev.Input >= len(res.Inputs) {
			tb.Fatalf("event %d: input %d out of range", k, ev.Input)
		}
		if ev.Line < 1 || ev.Line > res.Inputs[ev.Input].Lines {
			tb.Errorf("event %d: line %d outside 1..%d", k, ev.Line, res.Inputs[ev.Input].Lines)
		}
		if len(ev.Rules)+len(ev.Selectors) == 0 {
			tb.Errorf("event %d (line %d) matched nothing", k, ev.Line)
		}
		if !slices.IsSorted(ev.Rules) {
			tb.Errorf("event %d: rule indices %v not sorted", k, ev.Rules)
		}
		if k > 0 {
			prev := res.Events[k-1]
			if !before(prev.Input, prev.Line, prev.Offset, prev.Index, ev.Input, ev.Line, ev.Offset, ev.Index) {
				tb.Errorf("events out of order: %d:%d#%d before %d:%d#%d", prev.Input, prev.Line, prev.Index, ev.Input, ev.Line, ev.Index)
			}
		}
	}
	for k, p := range res.Problems {
		if p.Line < 1 || p.Line > res.Inputs[p.Input].Lines {
			tb.Errorf("problem %d: line %d outside 1..%d", k, p.Line, res.Inputs[p.Input].Lines)
		}
		if k > 0 {
			prev := res.Problems[k-1]
			if !before(prev.Input, prev.Line, prev.Offset, prev.Index, p.Input, p.Line, p.Offset, p.Index) {
				tb.Errorf("problems out of order: %d:%d#%d before %d:%d#%d", prev.Input, prev.Line, prev.Index, p.Input, p.Line, p.Index)
			}
		}
	}
}

// before reports whether position a comes strictly before position b
// (input, line, offset: whole-file JSON may start several records on one
// line; index inside the record).
func before(ai int, al, ao int64, ax int, bi int, bl, bo int64, bx int) bool {
	switch {
	case ai != bi:
		return ai < bi
	case al != bl:
		return al < bl
	case ao != bo:
		return ao < bo
	}
	return ax < bx
}

// canon renders everything a Result says, so two Results can be compared
// as text and a difference shown line by line.
func canon(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "interrupted=%v\n", res.Interrupted)
	for i, st := range res.Inputs {
		errText := "<nil>"
		if st.Err != nil {
			errText = st.Err.Error()
		}
		fmt.Fprintf(&b, "input %d %q comp=%q layout=%s raw=%d bytes=%d lines=%d blank=%d records=%d events=%d parsed=%d malformed=%d overlong=%d skipped=%d envelopes=%d unwrapped=%d err=%s\n",
			i, st.Name, st.Compression, st.Layout, st.RawBytes, st.Bytes, st.Lines, st.Blank, st.Records, st.Events, st.Parsed, st.Malformed, st.Overlong, st.Skipped, st.Envelopes, st.Unwrapped, errText)
		var shapes []string
		for k, v := range st.Shapes {
			shapes = append(shapes, fmt.Sprintf("%s=%d", k, v))
		}
		slices.Sort(shapes)
		fmt.Fprintf(&b, "  shapes %v\n", shapes)
	}
	b.WriteString(canonEvents(res))
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "problem %d:%d#%d off=%d %s\n", p.Input, p.Line, p.Index, p.Offset, p.Reason)
	}
	return b.String()
}

// canonEvents renders only the matches, which must not depend on the
// prefilter.
func canonEvents(res *Result) string {
	var b strings.Builder
	for _, ev := range res.Events {
		fmt.Fprintf(&b, "event %d:%d#%d off=%d shape=%s rules=%v selectors=%v raw=%q\n",
			ev.Input, ev.Line, ev.Index, ev.Offset, ev.Shape, ev.Rules, ev.Selectors, ev.Raw)
	}
	return b.String()
}

// firstDiff reports the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  got  %.300s\n  want %.300s", i+1, x, y)
		}
	}
	return "no difference"
}

// Test events. execLine is an allowed `kubectl exec -it` (verb create) as
// kube-apiserver writes it: rule R1 matches it.
const (
	execLine = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=%2Fbin%2Fsh\u0026container=api\u0026stdin=true\u0026tty=true","verb":"create","user":{"username":"alice@example.com","uid":"u-1","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1","2001:db8::1"],"userAgent":"kubectl/v1.29.4","objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T09:41:06.000000Z","stageTimestamp":"2026-11-20T09:41:07.160199Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}`
	// wsExecLine is the same exec over WebSocket (verb get): rule R3.
	wsExecLine = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5da3a64b-b74d-4e44-b2cd-05d40f5d252b","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/pay/pods/ledger-1/exec?command=sh\u0026container=ledger\u0026stdin=true\u0026tty=true","verb":"get","user":{"username":"bob@example.com"},"sourceIPs":["10.0.0.2"],"objectRef":{"resource":"pods","namespace":"pay","name":"ledger-1","apiVersion":"v1","subresource":"exec"},"annotations":{"authorization.k8s.io/decision":"allow"}}`
	// noiseLine is ordinary API traffic: no rule matches.
	noiseLine = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0f0e0d0c-0000-4000-8000-000000000001","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/api-1","verb":"get","user":{"username":"system:node:wk-1"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"annotations":{"authorization.k8s.io/decision":"allow"}}`
	// procLine is an interactive container entry leader (Defend for
	// Containers): rule R2.
	procLine = `{"@timestamp":"2026-11-20T09:41:07.500Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"name":"api-1"}},"process":{"entity_id":"KMx","executable":"/bin/bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"KMx","same_as_process":true,"entry_meta":{"type":"container"}}},"user":{"id":"1000"}}`
)

// endless is a reader that produces lines forever (or up to limit bytes
// when limit > 0) without holding them: line i (1-based) is exec when
// i%every == 0 and noise otherwise.
type endless struct {
	every int
	limit int64
	line  int
	buf   []byte
	n     int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.limit > 0 && e.n >= e.limit {
		return 0, io.EOF
	}
	if len(e.buf) == 0 {
		e.line++
		if e.line%e.every == 0 {
			e.buf = append(e.buf, execLine...)
		} else {
			e.buf = append(e.buf, noiseLine...)
		}
		e.buf = append(e.buf, '\n')
	}
	m := copy(p, e.buf)
	if e.limit > 0 && e.n+int64(m) > e.limit {
		m = int(e.limit - e.n)
	}
	e.buf = e.buf[m:]
	e.n += int64(m)
	return m, nil
}

// lazyLine is a reader that produces prefix, then n bytes of fill, then
// suffix, without ever holding the n bytes.
type lazyLine struct {
	prefix []byte
	fill   byte
	n      int64
	suffix []byte
}

func (l *lazyLine) Read(p []byte) (int, error) {
	switch {
	case len(l.prefix) > 0:
		m := copy(p, l.prefix)
		l.prefix = l.prefix[m:]
		return m, nil
	case l.n > 0:
		m := int(min(int64(len(p)), l.n))
		for i := range p[:m] {
			p[i] = l.fill
		}
		l.n -= int64(m)
		return m, nil
	case len(l.suffix) > 0:
		m := copy(p, l.suffix)
		l.suffix = l.suffix[m:]
		return m, nil
	}
	return 0, io.EOF
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// jsonString is s written as a JSON string.
func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
