package triage_test

import (
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/triage"
)

// TestMoreEvidenceOnItsFindings: what the scan left out of a request is
// said on the findings about that request: each rule's finding counts its
// own matches left out (more_evidence) and its note the context too; a
// finding about another request says nothing, and the scan's note counts
// the findings shown that say so.
func TestMoreEvidenceOnItsFindings(t *testing.T) {
	r1, denied := mustRule(t, rule1), mustRule(t, ruleDenied)
	evs := []triage.Event{
		event(t, "audit.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:01Z", true), r1),
		event(t, "audit.log", 2, auditLine("B", "ResponseStarted", "create", "bob", uriBash, 101, "2026-11-20T11:00:00Z", "2026-11-20T11:00:01Z", true), r1),
	}
	thing := func(e triage.Event) string { return triage.EvidenceOf(e.Doc, e.Raw) }
	rep := triage.Build(evs, triage.Options{MoreEvidence: map[triage.EvidenceKey]int64{
		{Rule: r1, Thing: thing(evs[0])}:     7,
		{Rule: nil, Thing: thing(evs[0])}:    3,
		{Rule: denied, Thing: thing(evs[1])}: 5, // a rule with no finding on B
	}})
	if len(rep.Findings) != 2 {
		t.Fatalf("%d findings, want 2", len(rep.Findings))
	}
	for _, f := range rep.Findings {
		notes := strings.Join(f.Notes, "\n")
		switch f.User.Name {
		case "alice":
			if f.MoreEvidence != 7 || !strings.Contains(notes, "7 more matches of this rule and 3 more events read as its context were read but not kept") ||
				!strings.Contains(notes, `k8sexec search 'kubernetes.audit.auditID:"A"'`) {
				t.Errorf("alice: more_evidence %d, notes %q", f.MoreEvidence, notes)
			}
		case "bob":
			if f.MoreEvidence != 0 || strings.Contains(notes, "not kept") {
				t.Errorf("bob: more_evidence %d, notes %q; his rule's matches were all kept", f.MoreEvidence, notes)
			}
		}
	}
	if n := triage.CappedNote(rep.Findings); !strings.HasPrefix(n, "1 finding(s) are about a request, process or event that the logs hold so many times over") {
		t.Errorf("scan note %q, want one naming alice's finding alone", n)
	}
	if n := triage.CappedNote(rep.Findings[:0]); n != "" {
		t.Errorf("scan note %q with no finding shown", n)
	}
}

// TestMoreEvidenceOfAFoldedAttempt: a refused WebSocket attempt folded
// into its SPDY retry brings what the scan left out of it: its note, its
// count, and the scan's note counts the finding shown.
func TestMoreEvidenceOfAFoldedAttempt(t *testing.T) {
	r1, denied := mustRule(t, rule1), mustRule(t, ruleDenied)
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=sh&stdin=true&stdout=true&tty=true"
	ws := strings.Replace(auditLine("W", "ResponseComplete", "get", "bob", uri, 403, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.020Z", true),
		`"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`, 1)
	retry := auditLine("S", "ResponseStarted", "create", "bob", uri, 101, "2026-11-20T10:00:00.300Z", "2026-11-20T10:00:00.350Z", true)
	evs := []triage.Event{event(t, "a.log", 1, ws, r1, denied), event(t, "a.log", 2, retry, r1, denied)}
	rep := triage.Build(evs, triage.Options{MoreEvidence: map[triage.EvidenceKey]int64{{Rule: denied, Thing: triage.EvidenceOf(evs[0].Doc, evs[0].Raw)}: 4}})
	if len(rep.Findings) != 1 || rep.Findings[0].Audit.FallbackFrom != "W" {
		t.Fatalf("findings %+v, want the retry folding W", rep.Findings)
	}
	f := rep.Findings[0]
	if f.MoreEvidence != 4 || !strings.Contains(strings.Join(f.Notes, "\n"), "Of the WebSocket attempt W: 4 more matches of this rule") {
		t.Errorf("more_evidence %d, notes %q", f.MoreEvidence, f.Notes)
	}
	if n := triage.CappedNote(rep.Findings); !strings.HasPrefix(n, "1 finding(s)") {
		t.Errorf("scan note %q", n)
	}
}
