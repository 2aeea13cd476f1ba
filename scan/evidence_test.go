package scan

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// TestEvidenceLimit: of one thing's events, only the first EvidenceLimit
// in input order that a rule or an unlimited selector matched are kept;
// the rest are counted, whatever the workers and chunks. Events of a
// limited selector alone, and events about nothing, are not bounded.
func TestEvidenceLimit(t *testing.T) {
	ev := func(id, name string, ruled, stage, keyed bool) string {
		s := fmt.Sprintf(`{"name":%q`, name)
		if id != "" {
			s += fmt.Sprintf(`,"id":%q`, id)
		}
		if ruled {
			s += `,"r":true`
		}
		if stage {
			s += `,"s":true`
		}
		if keyed {
			s += `,"k":"x"`
		}
		return s + "}"
	}
	in := []string{
		ev("a", "a0", true, false, false),
		ev("a", "a1", false, true, false),
		ev("a", "a2", true, true, false),
		ev("a", "a3", true, false, false), // past the limit
		ev("a", "a4", false, true, false), // past the limit
		ev("a", "a5", false, false, true), // a limited selector's
		ev("a", "a6", true, false, true),  // past the limit, with it
		ev("b", "b0", true, false, false),
		ev("a", "a7", false, false, true),
		ev("b", "b1", false, true, false),
	}
	for i := range 5 {
		in = append(in, ev("", fmt.Sprintf("n%d", i), true, true, false))
	}
	id, name := rules.NewField("id"), rules.NewField("name")
	opts := Options{
		Rules: []*rules.Rule{customRule(t, "r", `r:true`)},
		Selectors: []Selector{
			{Name: "stages", Expr: mustExpr(t, `s:true`)},
			{Name: "keyed", Expr: mustExpr(t, `k:*`), Keys: []*rules.Field{rules.NewField("k")}, Limit: 100},
		},
		Evidence:      func(doc rules.Document, raw []byte) string { return rules.First(doc, id).String() },
		EvidenceLimit: 3,
	}
	want := []string{"a0:[0]:[]", "a1:[]:[0]", "a2:[0]:[0]", "a5:[]:[1]", "b0:[0]:[]", "a7:[]:[1]", "b1:[]:[0]",
		"n0:[0]:[0]", "n1:[0]:[0]", "n2:[0]:[0]", "n3:[0]:[0]", "n4:[0]:[0]"}
	for _, workers := range []int{1, 4} {
		for _, chunk := range []int{64, 0} {
			o := opts
			o.Workers, o.ChunkSize = workers, chunk
			res := scanString(t, lines(in...), o)
			checkInvariants(t, res)
			var got []string
			for _, e := range res.Events {
				got = append(got, fmt.Sprintf("%s:%v:%v", rules.First(e.Doc, name).String(), e.Rules, e.Selectors))
			}
			if !slices.Equal(got, want) {
				t.Errorf("workers %d chunk %d: events %v, want %v", workers, chunk, got, want)
			}
			if w := map[string]int64{"a": 3}; !maps.Equal(res.MoreEvidence, w) {
				t.Errorf("workers %d chunk %d: more evidence %v, want %v", workers, chunk, res.MoreEvidence, w)
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

// TestEvidenceLimitNewTerms: a new_terms match dropped past the limit
// still counts in the rule's history, as it would have without the limit:
// a later event with its value is not new. New_terms matches alone are
// not bounded, since a later event may show they were not new.
func TestEvidenceLimitNewTerms(t *testing.T) {
	audit := func(id, day, ua, verb string) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":%q,"stage":"ResponseComplete","verb":%q,"user":{"username":"alice"},"userAgent":%q,"stageTimestamp":"2026-11-%sT10:00:00Z"}`, id, verb, ua, day)
	}
	in := []string{
		audit("x", "01", "ua0", "get"),
		audit("x", "09", "ua1", "get"),
		audit("x", "09", "ua2", "get"), // past the limit
		audit("x", "09", "ua3", "get"), // past the limit: ua3 is known from here on
		audit("y", "10", "ua3", "get"), // not new
		audit("z", "10", "ua9", "get"), // new
		audit("w", "09", "uaW", "list"),
		audit("w", "09", "uaW2", "list"),
		audit("w", "09", "uaW3", "list"), // new_terms alone: not bounded
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
		want := []string{"x/ua0:[1]", "x/ua1:[0 1]", "y/ua3:[1]", "z/ua9:[0 1]", "w/uaW:[0]", "w/uaW2:[0]", "w/uaW3:[0]"}
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: events %v, want %v", workers, got, want)
		}
		if w := map[string]int64{"x": 2}; !maps.Equal(res.MoreEvidence, w) {
			t.Errorf("workers %d: more evidence %v, want %v", workers, res.MoreEvidence, w)
		}
	}
}
