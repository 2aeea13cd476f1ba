package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/triage"
)

// TestRepeatedEventsKeepBoundedEvidence: a log that repeats one exec
// request's stage and one interactive shell's event hundreds of times (the
// same log read twice over, a broken writer) gives the findings it gives
// once, each holding MaxEvidence of its events and saying how many more
// it read, with the same bytes whatever the workers.
func TestRepeatedEventsKeepBoundedEvidence(t *testing.T) {
	const copies = 150
	dir := t.TempDir()
	repeat := func(src, name string, pick func(line string) bool) {
		t.Helper()
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		ls := strings.SplitAfter(string(data), "\n")
		i := slices.IndexFunc(ls, pick)
		if i < 0 {
			t.Fatalf("%s: no line to repeat", src)
		}
		out := slices.Concat(ls[:i+1], slices.Repeat(ls[i:i+1], copies), ls[i+1:])
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(out, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// alice's exec, as the API server answered it; the shell it started.
	repeat("../testdata/demo/kube-apiserver-audit.log", "audit.log", func(l string) bool {
		return strings.Contains(l, `"9483afa0-f5ba-4ca6-bdde-8126bc306607"`) && strings.Contains(l, `"ResponseStarted"`)
	})
	repeat("../testdata/demo/cloud-defend-process.ndjson", "process.ndjson", func(l string) bool {
		return strings.Contains(l, `"interactive":true`) && strings.Contains(l, `"same_as_process":true`)
	})

	once, _, _ := run(t, nil, "scan", "--format", "json", "../testdata/demo/kube-apiserver-audit.log", "../testdata/demo/cloud-defend-process.ndjson")
	out, errOut, code := run(t, nil, "scan", "--format", "json", filepath.Join(dir, "audit.log"), filepath.Join(dir, "process.ndjson"))
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	r, r1 := parseReport(t, out), parseReport(t, once)
	if len(r.Findings) != len(r1.Findings) {
		t.Fatalf("%d findings, want %d as without the copies", len(r.Findings), len(r1.Findings))
	}
	for i, f := range r.Findings {
		if g := r1.Findings[i]; f.ID != g.ID || !slices.Equal(f.Related, g.Related) {
			t.Errorf("finding %d: %s related %v, want %s related %v as without the copies", i, f.ID, f.Related, g.ID, g.Related)
		}
	}
	var capped []string
	for _, f := range r.Findings {
		if f.MoreEvidence == 0 {
			continue
		}
		capped = append(capped, f.Rule.ID)
		if n := len(f.Evidence) + len(f.Context); n != triage.MaxEvidence {
			t.Errorf("finding %s: %d events kept, want %d", f.ID, n, triage.MaxEvidence)
		}
		if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "more events of this") }) {
			t.Errorf("finding %s: notes %q say nothing of the events not kept", f.ID, f.Notes)
		}
	}
	// The request: 3 stages and the copies, of which 100 are kept. The
	// shell: one event and the copies.
	slices.Sort(capped)
	if want := []string{rule1, rule2}; !slices.Equal(capped, want) {
		t.Errorf("findings with events not kept: rules %v, want %v", capped, want)
	}
	for _, f := range r.Findings {
		want := map[string]int64{rule1: 3 + copies - triage.MaxEvidence, rule2: 1 + copies - triage.MaxEvidence}[f.Rule.ID]
		if f.MoreEvidence != 0 && f.MoreEvidence != want {
			t.Errorf("finding %s (rule %s): more_evidence %d, want %d", f.ID, f.Rule.ID, f.MoreEvidence, want)
		}
	}
	if !strings.Contains(out, "the first 100 of each were kept") {
		t.Errorf("no scan note about the events not kept:\n%s", out)
	}
	one, _, _ := run(t, nil, "scan", "--format", "json", "--workers", "1", filepath.Join(dir, "audit.log"), filepath.Join(dir, "process.ndjson"))
	if one != out {
		t.Error("one worker gives other bytes than the default")
	}
}
