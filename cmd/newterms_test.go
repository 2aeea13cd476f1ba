package cmd

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

const (
	newTermsRules  = "../testdata/newterms/rules"
	newTermsLog    = "../testdata/newterms/audit.log"
	newTermsRuleID = "5b0f6a52-9a43-4c1e-8e61-0d3f2c7e4a19"
)

// newTermsLines runs a scan with the fixture's new_terms rule and returns
// the evidence lines of its findings, sorted, and the JSON report's notes.
func newTermsLines(t *testing.T, stdin *os.File, args ...string) ([]int64, []string) {
	t.Helper()
	full := append([]string{"scan", "--rules", newTermsRules, "--format", "json"}, args...)
	var out, errOut string
	var code int
	if stdin != nil {
		out, errOut, code = run(t, stdin, full...)
	} else {
		out, errOut, code = run(t, nil, full...)
	}
	if code != ExitFindings && code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Rule     struct{ ID string }
			Evidence []struct{ Line int64 }
		}
		Notes []string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	var lines []int64
	for _, f := range rep.Findings {
		if f.Rule.ID != newTermsRuleID {
			t.Errorf("finding of rule %s", f.Rule.ID)
		}
		for _, e := range f.Evidence {
			lines = append(lines, e.Line)
		}
	}
	slices.Sort(lines)
	return lines, rep.Notes
}

// TestNewTermsFixture checks the hand-worked reading of
// testdata/newterms/audit.log (its README says why each line is or is
// not new) with a 7-day new_terms rule on user_agent.original.
func TestNewTermsFixture(t *testing.T) {
	want := []int64{5, 8, 12}
	lines, notes := newTermsLines(t, nil, newTermsLog)
	if !slices.Equal(lines, want) {
		t.Errorf("new matches on lines %v, want %v", lines, want)
	}
	note := ""
	for _, n := range notes {
		if strings.HasPrefix(n, `new_terms rule "Secret Read by a New User Agent"`) {
			note = n
		}
	}
	for _, part := range []string{"3 of its 11 match(es)", "from 2026-11-01T09:00:00Z to 2026-11-08T09:00:00Z only taught values", "1 without a value"} {
		if !strings.Contains(note, part) {
			t.Errorf("note %q does not say %q", note, part)
		}
	}

	// Standard input gives the same.
	f, err := os.Open(newTermsLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if lines, _ := newTermsLines(t, f, "-"); !slices.Equal(lines, want) {
		t.Errorf("stdin: new matches on lines %v, want %v", lines, want)
	}

	// --since narrows what is reported, not what is learned: the matches
	// before it are still history.
	if lines, _ := newTermsLines(t, nil, "--since", "2026-11-10T00:00:00Z", newTermsLog); !slices.Equal(lines, []int64{8}) {
		t.Errorf("--since: new matches on lines %v, want [8]", lines)
	}

	// Less than the window of data: nothing is new, and the note says why.
	short := t.TempDir() + "/short.log"
	data, err := os.ReadFile(newTermsLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte(strings.Join(strings.Split(string(data), "\n")[:3], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, notes = newTermsLines(t, nil, short)
	if len(lines) != 0 || len(notes) != 1 || !strings.Contains(notes[0], `1 new_terms rule(s) could find nothing new`) ||
		!strings.Contains(notes[0], `"Secret Read by a New User Agent" (3 match(es) over 47h15m0s, window 7 days)`) {
		t.Errorf("short log: lines %v, notes %q", lines, notes)
	}
}

func TestNewTermsRuleCheckAndShow(t *testing.T) {
	out, _, code := run(t, nil, "rules", "check", newTermsRules)
	if code != 0 || !strings.Contains(out, "loaded   "+newTermsRules+"/secret_read_unusual_agent.toml  "+newTermsRuleID) {
		t.Errorf("rules check: exit %d\n%s", code, out)
	}
	out, _, code = run(t, nil, "rules", "show", "--rules", newTermsRules, newTermsRuleID)
	if code != 0 || !strings.Contains(out, "a value of user_agent.original not seen in the 7 days before the event (history_window_start now-7d)") {
		t.Errorf("rules show: exit %d\n%s", code, out)
	}
}

// TestNewTermsFixtureElastic runs Elastic's "Kubernetes Secret Access via
// Unusual User Agent" (new terms: source.ip, user.name and
// user_agent.original over 7 days) on the same fixture: each user reads
// from one address, so it finds the same three lines.
func TestNewTermsFixtureElastic(t *testing.T) {
	rule := elasticRulesDir + "/integrations/kubernetes/credential_access_get_secrets_access.toml"
	if _, err := os.Stat(rule); err != nil {
		t.Skipf("reference rules not available: %v", err)
	}
	out, errOut, code := run(t, nil, "scan", "--rules", rule, "--format", "json", newTermsLog)
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Evidence []struct{ Line int64 }
		}
		Notes []string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var lines []int64
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			lines = append(lines, e.Line)
		}
	}
	slices.Sort(lines)
	// The query wants a user agent: line 9 has none and is no match.
	if !slices.Equal(lines, []int64{5, 8, 12}) || len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "3 of its 10 match(es)") {
		t.Errorf("lines %v, notes %q", lines, rep.Notes)
	}
}
