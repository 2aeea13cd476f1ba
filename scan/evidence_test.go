package scan

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// evidenceLine is a generic event for the evidence limit's tests: about
// thing id ("" for none), named name, with the flags the tests' rules and
// selectors look for.
func evidenceLine(id, name string, flags ...string) string {
	s := fmt.Sprintf(`{"name":%q`, name)
	if id != "" {
		s += fmt.Sprintf(`,"id":%q`, id)
	}
	for _, f := range flags {
		s += fmt.Sprintf(`,%q:true`, f)
	}
	return s + "}"
}

func evidenceNames(res *Result) []string {
	name := rules.NewField("name")
	var out []string
	for _, e := range res.Events {
		out = append(out, fmt.Sprintf("%s:%v:%v", rules.First(e.Doc, name).String(), e.Rules, e.Selectors))
	}
	return out
}

var evidenceID = func(doc rules.Document, raw []byte) string { return rules.First(doc, rules.NewField("id")).String() }

// TestEvidenceLimit: of one thing's events, each rule keeps the first
// EvidenceLimit it matched in input order, and the selectors without Keys
// and Limit the first EvidenceLimit they matched; the rest are counted
// once (per rule, or -1 for those selectors when no rule matched them),
// whatever the workers and chunks.
// One rule's matches never push out another's. What else holds an event
// (a limited selector) keeps it still, and events about nothing are not
// bounded.
func TestEvidenceLimit(t *testing.T) {
	ev := evidenceLine
	in := []string{
		ev("a", "a0", "r"),
		ev("a", "a1", "s"),
		ev("a", "a2", "r", "s"),
		ev("a", "a3", "r"),
		ev("a", "a4", "s"),
		ev("a", "a5", "k"),      // a limited selector's
		ev("a", "a6", "r", "k"), // past r's limit: the limited selector keeps it
		ev("a", "a8", "q"),      // another rule: room for it
		ev("a", "a9", "s"),      // past the context limit
		ev("a", "a10", "r", "s"),
		ev("b", "b0", "r"),
		ev("a", "a7", "k"),
		ev("b", "b1", "s"),
	}
	for i := range 5 {
		in = append(in, ev("", fmt.Sprintf("n%d", i), "r", "s"))
	}
	opts := Options{
		Rules: []*rules.Rule{customRule(t, "r", `r:true`), customRule(t, "q", `q:true`)},
		Selectors: []Selector{
			{Name: "stages", Expr: mustExpr(t, `s:true`)},
			{Name: "keyed", Expr: mustExpr(t, `k:*`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 100},
		},
		Evidence: evidenceID, EvidenceLimit: 3,
	}
	want := []string{"a0:[0]:[]", "a1:[]:[0]", "a2:[0]:[0]", "a3:[0]:[]", "a4:[]:[0]", "a5:[]:[1]", "a6:[]:[1]", "a8:[1]:[]",
		"b0:[0]:[]", "a7:[]:[1]", "b1:[]:[0]", "n0:[0]:[0]", "n1:[0]:[0]", "n2:[0]:[0]", "n3:[0]:[0]", "n4:[0]:[0]"}
	// a10 is counted as r's match only.
	wantMore := map[EvidenceKey]int64{{"a", 0}: 2, {"a", -1}: 1}
	for _, workers := range []int{1, 4} {
		for _, chunk := range []int{64, 0} {
			o := opts
			o.Workers, o.ChunkSize = workers, chunk
			res := scanString(t, lines(in...), o)
			checkInvariants(t, res)
			if got := evidenceNames(res); !slices.Equal(got, want) {
				t.Errorf("workers %d chunk %d: events %v, want %v", workers, chunk, got, want)
			}
			if !maps.Equal(res.MoreEvidence, wantMore) {
				t.Errorf("workers %d chunk %d: more evidence %v, want %v", workers, chunk, res.MoreEvidence, wantMore)
			}
		}
	}

	// Without a limit nothing is bounded.
	o := opts
	o.EvidenceLimit = 0
	if res := scanString(t, lines(in...), o); len(res.Events) != len(in) || res.MoreEvidence != nil {
		t.Errorf("no limit: %d events, more %v; want %d, none", len(res.Events), res.MoreEvidence, len(in))
	}
}

// TestEvidenceLimitOnePassOrTwo: a selector that may be left to a second
// pass (OnlyFor) is not bounded by the evidence limit, so reading the
// input once (stdin) or twice (a file) keeps the same events.
func TestEvidenceLimitOnePassOrTwo(t *testing.T) {
	var in []string
	for i := range 5 {
		in = append(in, evidenceLine("a", fmt.Sprintf("a%d", i), "r", "s"))
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(lines(in...)), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Rules:     []*rules.Rule{customRule(t, "r", `r:true`)},
		Selectors: []Selector{{Name: "later", Expr: mustExpr(t, `s:true`), OnlyFor: func(rules.Document) bool { return true }}},
		Evidence:  evidenceID, EvidenceLimit: 2,
	}
	once := scanString(t, lines(in...), opts)
	twice := mustScan(t, []Input{{Name: path}}, opts)
	want := []string{"a0:[0]:[0]", "a1:[0]:[0]", "a2:[]:[0]", "a3:[]:[0]", "a4:[]:[0]"}
	if got := evidenceNames(once); !slices.Equal(got, want) {
		t.Errorf("one pass: %v, want %v", got, want)
	}
	if got := evidenceNames(twice); !slices.Equal(got, want) {
		t.Errorf("two passes: %v, want %v", got, want)
	}
	for name, res := range map[string]*Result{"one pass": once, "two passes": twice} {
		if w := map[EvidenceKey]int64{{"a", 0}: 3}; !maps.Equal(res.MoreEvidence, w) {
			t.Errorf("%s: more evidence %v, want %v", name, res.MoreEvidence, w)
		}
	}
}

// TestEvidenceLimitNewTerms: new_terms rules are not bounded (a later
// event may show a match was not new): an event past another rule's limit
// stays a new_terms match, and the history sees every event.
func TestEvidenceLimitNewTerms(t *testing.T) {
	audit := func(id, day, ua, verb string) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":%q,"stage":"ResponseComplete","verb":%q,"user":{"username":"alice"},"userAgent":%q,"stageTimestamp":"2026-11-%sT10:00:00Z"}`, id, verb, ua, day)
	}
	in := []string{
		audit("x", "01", "ua0", "get"),
		audit("x", "09", "ua1", "get"),
		audit("x", "09", "ua2", "get"), // past plain's limit
		audit("x", "09", "ua3", "get"), // past plain's limit
		audit("y", "10", "ua3", "get"), // not new
		audit("z", "10", "ua9", "get"), // new
		audit("w", "09", "uaW", "list"),
		audit("w", "09", "uaW2", "list"),
		audit("w", "09", "uaW3", "list"),
	}
	rs := []*rules.Rule{
		newTermsTestRule(t, "nt", `kubernetes.audit.verb:(get or list)`, `"user_agent.original"`, "now-7d"),
		customRule(t, "plain", `kubernetes.audit.verb:get`),
	}
	auditID, ua := rules.NewField("kubernetes.audit.auditID"), rules.NewField("user_agent.original")
	for _, workers := range []int{1, 4} {
		res := scanString(t, lines(in...), Options{Rules: rs, Workers: workers, ChunkSize: 64, EvidenceLimit: 2,
			Evidence: func(doc rules.Document, raw []byte) string { return rules.First(doc, auditID).String() }})
		checkInvariants(t, res)
		var got []string
		for _, e := range res.Events {
			got = append(got, fmt.Sprintf("%s/%s:%v", rules.First(e.Doc, auditID).String(), rules.First(e.Doc, ua).String(), e.Rules))
		}
		want := []string{"x/ua0:[1]", "x/ua1:[0 1]", "x/ua2:[0]", "x/ua3:[0]", "y/ua3:[1]", "z/ua9:[0 1]", "w/uaW:[0]", "w/uaW2:[0]", "w/uaW3:[0]"}
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: events %v, want %v", workers, got, want)
		}
		if w := map[EvidenceKey]int64{{"x", 1}: 2}; !maps.Equal(res.MoreEvidence, w) {
			t.Errorf("workers %d: more evidence %v, want %v", workers, res.MoreEvidence, w)
		}
	}
}

// TestEvidenceLimitCopies: copies of an event kept (the same text) take
// none of the places of the events that differ, so a stage written over
// and over leaves room for the next one; the first EvidenceLimit copies of
// one thing are kept too, and the rest counted. A limited selector keeps
// no copy of an event it kept for the same key, nor counts it: the
// commands of a session whose log was written twice are its commands, not
// its first one twice.
func TestEvidenceLimitCopies(t *testing.T) {
	ev := evidenceLine
	var in []string
	for range 6 {
		in = append(in, ev("a", "X", "r", "s"))
	}
	in = append(in, ev("a", "Y", "r", "s"), ev("a", "Z", "s"))
	for range 3 {
		in = append(in, ev("", "K1", "k"))
	}
	in = append(in, ev("", "K2", "k"), ev("", "K3", "k"))
	opts := Options{
		Rules: []*rules.Rule{customRule(t, "r", `r:true`)},
		Selectors: []Selector{
			{Name: "stages", Expr: mustExpr(t, `s:true`)},
			{Name: "keyed", Expr: mustExpr(t, `k:*`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 2},
		},
		Evidence: evidenceID, EvidenceLimit: 3,
	}
	for _, workers := range []int{1, 4} {
		o := opts
		o.Workers, o.ChunkSize = workers, 64
		res := scanString(t, lines(in...), o)
		checkInvariants(t, res)
		// X once and 3 copies; Y and Z differ, so they have room.
		want := []string{"X:[0]:[0]", "X:[0]:[0]", "X:[0]:[0]", "X:[0]:[0]", "Y:[0]:[0]", "Z:[]:[0]", "K1:[]:[1]", "K2:[]:[1]"}
		if got := evidenceNames(res); !slices.Equal(got, want) {
			t.Errorf("workers %d: events %v, want %v", workers, got, want)
		}
		if w := map[EvidenceKey]int64{{"a", 0}: 2}; !maps.Equal(res.MoreEvidence, w) {
			t.Errorf("workers %d: more evidence %v, want %v", workers, res.MoreEvidence, w)
		}
		// K3, past the limit; K1's copies are no more events.
		if w := []Overflow{{Selector: 1, Key: "true", Dropped: 1}}; !slices.Equal(res.Overflow, w) {
			t.Errorf("workers %d: overflow %v, want %v", workers, res.Overflow, w)
		}
	}
}

// TestEvidenceCopiesLeaveSelectorsAlone: a rule's match takes no place in
// a limited selector (without OnlyFor); once its copies are past those
// kept, the next copy is let go whole rather than taking the place of
// another event there, as a copy of a match it still is.
func TestEvidenceCopiesLeaveSelectorsAlone(t *testing.T) {
	at := func(name, ts string, flags ...string) string {
		return strings.Replace(evidenceLine("a", name, flags...), "{", fmt.Sprintf(`{"@timestamp":%q,`, ts), 1)
	}
	in := []string{
		at("X", "2026-11-20T10:00:00Z", "r", "k"),
		at("A", "2026-11-20T10:00:01Z", "k"),
		at("B", "2026-11-20T10:00:02Z", "k"),
		at("X", "2026-11-20T10:00:00Z", "r", "k"),
		at("X", "2026-11-20T10:00:00Z", "r", "k"),
	}
	opts := Options{
		Rules:     []*rules.Rule{customRule(t, "r", `r:true`)},
		Selectors: []Selector{{Name: "commands", Expr: mustExpr(t, `k:*`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 2, Order: rules.NewField("@timestamp")}},
		Evidence:  evidenceID, EvidenceLimit: 1,
	}
	res := scanString(t, lines(in...), opts)
	checkInvariants(t, res)
	if got, want := evidenceNames(res), []string{"X:[0]:[0]", "A:[]:[0]", "B:[]:[0]", "X:[0]:[0]"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if w := map[EvidenceKey]int64{{"a", 0}: 1}; !maps.Equal(res.MoreEvidence, w) {
		t.Errorf("more evidence %v, want %v", res.MoreEvidence, w)
	}
}

// TestEvidenceCopiesOnePassOrTwo: a copy past those kept stays with the
// selectors a second pass may read (OnlyFor), so that reading the input
// once (stdin) or twice (a file) keeps and counts the same.
func TestEvidenceCopiesOnePassOrTwo(t *testing.T) {
	rs := []*rules.Rule{customRule(t, "r", `r:true`)}
	sels := []Selector{
		{Name: "later", Expr: mustExpr(t, `dd:true`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 1, OnlyFor: func(rules.Document) bool { return true }},
		{Name: "now", Expr: mustExpr(t, `c:true`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 1},
	}
	a := `{"id":"a","name":"A","dd":true,"c":true,"k":"s"}`
	x := `{"id":"x","name":"X","r":true,"dd":true,"k":"s"}`
	c := `{"id":"b","name":"C","c":true,"k":"s"}`
	in := []string{a, x, c, x, x, c, c}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(lines(in...)), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Rules: rs, Selectors: sels, Evidence: evidenceID, EvidenceLimit: 1}
	once := scanString(t, lines(in...), opts)
	twice := mustScan(t, []Input{{Name: path}}, opts)
	if a, b := evidenceNames(once), evidenceNames(twice); !slices.Equal(a, b) {
		t.Errorf("events: one pass %v, two passes %v", a, b)
	}
	if !slices.Equal(once.Overflow, twice.Overflow) || !maps.Equal(once.MoreEvidence, twice.MoreEvidence) {
		t.Errorf("one pass: overflow %v, more %v; two passes: overflow %v, more %v", once.Overflow, once.MoreEvidence, twice.Overflow, twice.MoreEvidence)
	}
	if w := map[EvidenceKey]int64{{"x", 0}: 1}; !maps.Equal(once.MoreEvidence, w) {
		t.Errorf("more evidence %v, want %v", once.MoreEvidence, w)
	}
}
