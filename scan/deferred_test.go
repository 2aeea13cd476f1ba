package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// sessionSelectors are selectors like triage's context queries; with
// deferLeaders the session leaders are only wanted for exec requests.
func sessionSelectors(t *testing.T, deferLeaders bool) []Selector {
	t.Helper()
	f := func(s string) []*rules.Field {
		var out []*rules.Field
		for _, name := range strings.Fields(s) {
			out = append(out, rules.NewField(name))
		}
		return out
	}
	sels := []Selector{
		{Name: "stages", Expr: mustExpr(t, `kubernetes.audit.objectRef.subresource:("exec" or "attach")`)},
		{Name: "leaders", Expr: mustExpr(t, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.same_as_process:true and event.action:"exec" and not process.interactive:true`),
			Keys: f("orchestrator.namespace orchestrator.resource.name container.name process.args"), Limit: 1},
		{Name: "commands", Expr: mustExpr(t, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.interactive:true and not process.entry_leader.same_as_process:true and event.action:"exec"`),
			Keys: f("process.entry_leader.entity_id"), Limit: 2},
	}
	if deferLeaders {
		exec := rules.NewField("kubernetes.audit.objectRef.subresource")
		sels[1].OnlyFor = func(d rules.Document) bool { return rules.First(d, exec).String() == "exec" }
	}
	return sels
}

// eventsAndOverflow is what a scan found, without the statistics (which
// describe the first pass of a deferring scan).
func eventsAndOverflow(res *Result) string {
	return canonEvents(res) + fmt.Sprint(res.Overflow)
}

// TestDeferredSelectorsMatchOnePass: leaving a selector for a second pass
// finds the same events, with the same selectors and overflow counts, as
// evaluating it with everything else; and without a hit that wants it,
// the second pass does not run.
func TestDeferredSelectorsMatchOnePass(t *testing.T) {
	rs := builtinRules(t)
	audit, process := "../testdata/sessions/audit.log", "../testdata/sessions/process.ndjson"
	cases := []struct {
		name    string
		inputs  []Input
		leaders int // 1: some must be found; 0: none may be; -1: either
	}{
		{"audit then process", []Input{{Name: audit}, {Name: process}}, 1},
		{"process then audit", []Input{{Name: process}, {Name: audit}}, 1},
		{"ambiguous sessions", []Input{{Name: "../testdata/sessions/audit_ambiguous.log"}, {Name: "../testdata/sessions/process_ambiguous.ndjson"}}, -1},
		{"process alone", []Input{{Name: process}}, 0},
	}
	for _, tc := range cases {
		for _, chunk := range []int{512, 1 << 20} {
			opts := Options{Rules: rs, ChunkSize: chunk, Workers: 3}
			opts.Selectors = sessionSelectors(t, false)
			once := mustScan(t, tc.inputs, opts)
			opts.Selectors = sessionSelectors(t, true)
			var again []Progress
			opts.Progress = func(p Progress) {
				if p.Again {
					again = append(again, p)
				}
			}
			deferring := mustScan(t, tc.inputs, opts)
			opts.Progress = nil
			for _, p := range again {
				if p.Input != tc.inputs[p.InputIndex].Name || p.Input == audit {
					t.Errorf("%s: second pass progress names input %d %q", tc.name, p.InputIndex, p.Input)
				}
			}
			if tc.leaders == 1 && len(again) == 0 {
				t.Errorf("%s: no progress from the second pass", tc.name)
			}
			checkInvariants(t, deferring)
			leaders := countSelector(deferring, 1)
			if tc.leaders == 0 {
				if leaders > 0 {
					t.Errorf("%s: %d leaders found without an exec request to want them", tc.name, leaders)
				}
				if countSelector(once, 1) == 0 {
					t.Errorf("%s: no leaders in one pass either: the test checks nothing", tc.name)
				}
				continue
			}
			if leaders == 0 && tc.leaders == 1 {
				t.Fatalf("%s: no leader found: the test checks nothing", tc.name)
			}
			if got, want := eventsAndOverflow(deferring), eventsAndOverflow(once); got != want {
				t.Errorf("%s, chunk %d: the deferring scan differs from one pass: %s", tc.name, chunk, firstDiff(got, want))
			}
		}
	}
}

func countSelector(res *Result, sel int) int {
	n := 0
	for _, ev := range res.Events {
		for _, s := range ev.Selectors {
			if s == sel {
				n++
			}
		}
	}
	return n
}

// TestDeferredSelectorsOnStdin: standard input cannot be read twice, so
// every selector is evaluated in the one pass.
func TestDeferredSelectorsOnStdin(t *testing.T) {
	data, err := os.ReadFile("../testdata/sessions/process.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Rules: builtinRules(t), Selectors: sessionSelectors(t, true)}
	res := scanString(t, string(data), opts)
	opts.Selectors = sessionSelectors(t, false)
	if got, want := eventsAndOverflow(res), eventsAndOverflow(scanString(t, string(data), opts)); got != want {
		t.Errorf("stdin: %s", firstDiff(got, want))
	}
	if deferrable([]Input{{Name: "../testdata/sessions/audit.log"}, {Name: Stdin}}, opts.Selectors) != nil {
		t.Error("nothing is deferred without selectors that ask for it")
	}
	if deferrable([]Input{{Name: "../testdata/sessions/audit.log"}, {Name: Stdin}}, sessionSelectors(t, true)) != nil {
		t.Error("a scan reading stdin deferred a selector")
	}
	if got := deferrable([]Input{{Name: "../testdata/sessions/audit.log"}}, sessionSelectors(t, true)); fmt.Sprint(got) != "[1]" {
		t.Errorf("deferrable on a file: %v, want [1]", got)
	}
}

// TestDeferredSelectorsReadAgainOnlyWhatMayHoldThem: the second pass reads
// only the inputs where the first found lines that may hold the deferred
// selectors' events: not a raw audit log, not an ECS audit export.
func TestDeferredSelectorsReadAgainOnlyWhatMayHoldThem(t *testing.T) {
	dir := t.TempDir()
	var gone []string
	var inputs []Input
	for _, f := range []string{"../testdata/sessions/audit.log", "../testdata/ecs/nested.ndjson", "../testdata/ecs/dotted.ndjson"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		path := writeFile(t, filepath.Join(dir, filepath.Base(f)), data)
		gone = append(gone, path)
		inputs = append(inputs, Input{Name: path})
	}
	process := "../testdata/sessions/process.ndjson"
	inputs = append(inputs, Input{Name: process})
	rs := builtinRules(t)
	once := mustScan(t, inputs, Options{Rules: rs, Selectors: sessionSelectors(t, false)})
	defer func() { mappedHook = nil }()
	mappedHook = func(f *os.File, end int64) {
		if f.Name() == process {
			// The first pass, reading one input at a time, is at the
			// last: the others cannot be read again.
			for _, p := range gone {
				os.Remove(p)
			}
		}
	}
	res := mustScan(t, inputs, Options{Rules: rs, Selectors: sessionSelectors(t, true), Workers: 1})
	if _, err := os.Stat(gone[0]); err == nil {
		t.Fatal("the hook did not run: the test checks nothing")
	}
	if got, want := eventsAndOverflow(res), eventsAndOverflow(once); got != want {
		t.Errorf("%s", firstDiff(got, want))
	}
	if countSelector(res, 1) == 0 {
		t.Error("no leader found: the test checks nothing")
	}
	for _, st := range res.Inputs {
		if st.Err != nil {
			t.Errorf("%s: %v", st.Name, st.Err)
		}
	}
	if res.Inputs[3].probed == 0 || res.Inputs[0].probed+res.Inputs[1].probed+res.Inputs[2].probed != 0 {
		t.Errorf("lines that may hold leaders: %d %d %d %d", res.Inputs[0].probed, res.Inputs[1].probed, res.Inputs[2].probed, res.Inputs[3].probed)
	}
}
