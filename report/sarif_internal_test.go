package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
)

// TestSARIFMatchesEncoder: SARIF.Write, which encodes the results in
// parallel batches into the document, writes exactly what one encoder
// writes for the whole document, for no, one and many findings, with and
// without suppressed findings shown.
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
	for _, tc := range []struct{ findings, suppressed int }{{0, 0}, {1, 0}, {1000, 0}, {0, 1}, {1000, 3}} {
		n := tc.findings
		r := &Result{Tool: Tool{Name: "k8sexec", Version: "test"}, Rules: builtin,
			Summary: Summary{Inputs: []InputSummary{{Name: "audit.log", Error: "audit.log: line 9: cut short"}}}}
		for i := range n {
			r.Findings = append(r.Findings, finding(i))
		}
		for i := range tc.suppressed {
			f := finding(n + i)
			f.SuppressedBy = &triage.SuppressedBy{Exception: "ci", Reason: "<the CI job>", Source: `ex.toml: exception 1 ("ci")`}
			r.Suppressed = append(r.Suppressed, f)
		}
		s := SARIF{BaseDir: "/work"}
		doc, index, err := s.skeleton(r)
		if err != nil {
			t.Fatal(err)
		}
		var want, got bytes.Buffer
		if err := s.writeWhole(&want, doc, index, sarifFindings(r)); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d findings, %d suppressed: SARIF differs from the encoder's (%d bytes, want %d)", n, tc.suppressed, got.Len(), want.Len())
		}
	}
}

// TestFindingProperties: a result's properties are the finding as the
// JSON report has it, less its guidance, with hostile strings intact.
func TestFindingProperties(t *testing.T) {
	decode := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return m
	}
	for _, s := range []string{"<pod> & \"x\"", "a\u2028b", "bad \xff utf-8", "ctl \x00\x1b[31m\n", "é 😀"} {
		f := &triage.Finding{ID: s, Rule: triage.RuleRef{ID: "r", Name: s}, Kind: triage.KindProcess, Guidance: "read this",
			Process: &triage.Process{Executable: s, PID: 1 << 60}, Evidence: []triage.Evidence{{File: s, Line: 9007199254740993}}}
		props := findingProperties(f)
		whole, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		want := decode(whole)
		delete(want, "guidance")
		if got := decode(props); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: properties %s, want the finding less its guidance", s, props)
		}
		if strings.Contains(s, "<") && !bytes.Contains(props, []byte("<pod>")) {
			t.Errorf("properties escape HTML: %s", props)
		}
		if !bytes.Contains(props, []byte("9007199254740993")) {
			t.Errorf("properties round a large line number: %s", props)
		}
	}
}

func TestArtifactURI(t *testing.T) {
	for _, tc := range []struct{ file, base, want string }{
		{"-", "/work", "stdin"},
		{"/work/logs/audit.log", "/work", "logs/audit.log"},
		{"/work/logs/my audit#1.log", "/work", "logs/my%20audit%231.log"},
		{"/var/log/audit.log", "/work", "file:///var/log/audit.log"},
		{"/var/log/kube audit.log", "/work", "file:///var/log/kube%20audit.log"},
		{"/work/..x/a.log", "/work", "..x/a.log"},
		{"/var/log/audit.log", "", "file:///var/log/audit.log"},
		{"./logs//audit.log", "/work", "logs/audit.log"},
		{"../other/audit.log", "/work", "file:///other/audit.log"},
		// A relative path is judged once cleaned: one that climbs out of
		// the working directory is named as its absolute path would be.
		{"../x.log", "/work/src", "file:///work/x.log"},
		{"./x.log", "/work/src", "x.log"},
		{"a/../b.log", "/work/src", "b.log"},
		{"a/../../b.log", "/work/src", "file:///work/b.log"},
		{"../src/x.log", "/work/src", "x.log"},
		{"..x.log", "/work/src", "..x.log"},
		{"../t/my audit 100%#1 ünï 😀.log", "/work/src", "file:///work/t/my%20audit%20100%25%231%20%C3%BCn%C3%AF%20%F0%9F%98%80.log"},
		{"/work/t/my audit 100%#1 ünï 😀.log", "/work/src", "file:///work/t/my%20audit%20100%25%231%20%C3%BCn%C3%AF%20%F0%9F%98%80.log"},
		{"../x.log", "", "../x.log"},
		{"c:x.log", "/work", "./c:x.log"},
	} {
		if got := artifactURI(tc.file, tc.base); got != tc.want {
			t.Errorf("artifactURI(%q, %q) = %q, want %q", tc.file, tc.base, got, tc.want)
		}
		if _, err := url.Parse(artifactURI(tc.file, tc.base)); err != nil {
			t.Errorf("artifactURI(%q) is no URI reference: %v", tc.file, err)
		}
	}
}
