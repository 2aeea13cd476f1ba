package report

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
)

// TestSARIFMatchesEncoder: SARIF.Write, which encodes the results in
// parallel batches into the document, writes exactly what one encoder
// writes for the whole document, for no, one and many findings.
func TestSARIFMatchesEncoder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rule := builtin[0]
	finding := func(i int) *triage.Finding {
		return &triage.Finding{
			ID: fmt.Sprintf("%016x", i), Rule: triage.RuleRef{ID: rule.ID, Name: rule.Name, Severity: rule.Severity},
			Kind: triage.KindAudit, Timestamp: "2026-11-20T09:40:00Z", User: &triage.User{Name: "<alice>"},
			Evidence: []triage.Evidence{{File: "audit.log", Line: int64(2 * i)}, {File: "audit.log", Line: int64(2*i + 1)}},
			Context:  []triage.Evidence{{File: "audit.log", Line: 1}},
		}
	}
	for _, n := range []int{0, 1, 1000} {
		r := &Result{Tool: Tool{Name: "k8sexec", Version: "test"}, Rules: builtin,
			Summary: Summary{Inputs: []InputSummary{{Name: "audit.log", Error: "audit.log: line 9: cut short"}}}}
		for i := range n {
			r.Findings = append(r.Findings, finding(i))
		}
		s := SARIF{BaseDir: "/work"}
		doc, index, err := s.skeleton(r)
		if err != nil {
			t.Fatal(err)
		}
		var want, got bytes.Buffer
		if err := s.writeWhole(&want, doc, index, r.Findings); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d findings: SARIF differs from the encoder's (%d bytes, want %d)", n, got.Len(), want.Len())
		}
	}
}
