package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/triage"
)

// TestRepeatedEventsKeepBoundedEvidence: a log that repeats one exec
// request's stage and one interactive shell's event hundreds of times (a
// broken writer) gives the findings it gives once, with the same links,
// each holding the event once and MaxEvidence copies of it and saying how
// many more it read; the request's later stage still ends its session.
// The bytes are the same whatever the workers.
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
		// The request: its 3 stages and 100 copies of the repeated one.
		// The shell: its event, its end and 100 copies.
		want := map[string]int{rule1: 3, rule2: 2}[f.Rule.ID] + triage.MaxEvidence
		if n := len(f.Evidence) + len(f.Context); n != want {
			t.Errorf("finding %s: %d events kept, want %d", f.ID, n, want)
		}
		if f.MoreEvidence != copies-triage.MaxEvidence {
			t.Errorf("finding %s: more_evidence %d, want %d", f.ID, f.MoreEvidence, copies-triage.MaxEvidence)
		}
		if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "were read but not kept") }) {
			t.Errorf("finding %s: notes %q say nothing of the events not kept", f.ID, f.Notes)
		}
		if f.Rule.ID == rule1 && (f.Session == nil || !slices.Equal(f.Session.Stages, []string{"RequestReceived", "ResponseStarted", "ResponseComplete"}) || f.Session.DurationMS == nil) {
			t.Errorf("finding %s: session %+v, want all three stages and an end", f.ID, f.Session)
		}
	}
	slices.Sort(capped)
	if want := []string{rule1, rule2}; !slices.Equal(capped, want) {
		t.Errorf("findings with events not kept: rules %v, want %v", capped, want)
	}
	if !strings.Contains(out, "2 finding(s) are about a request, process or event that the logs hold so many times over") {
		t.Errorf("no scan note about the events not kept:\n%s", out)
	}
	if later, _, _ := run(t, nil, "scan", "--format", "json", "--since", "2030-01-01T00:00:00Z", filepath.Join(dir, "audit.log"), filepath.Join(dir, "process.ndjson")); strings.Contains(later, "so many times over") {
		t.Error("the scan's note counts findings --since left out")
	}
	one, _, _ := run(t, nil, "scan", "--format", "json", "--workers", "1", filepath.Join(dir, "audit.log"), filepath.Join(dir, "process.ndjson"))
	if one != out {
		t.Error("one worker gives other bytes than the default")
	}
}

var programsRE = regexp.MustCompile(`[0-9]+ program\(s\) r[au]n`)

// TestRepeatedLinesKeepFindings: however a log repeats its lines (every
// line written 120 times in place, or a request's first stage, which no
// rule matches, written 150 times before the stage that matches), the
// scan gives the findings and links it gives on the log as written once.
func TestRepeatedLinesKeepFindings(t *testing.T) {
	type repeat func(i int, line string) int // how many times line i is written
	cases := map[string]struct {
		files  []string
		repeat repeat
	}{
		"every line 120 times": {
			[]string{"../testdata/sessions/audit.log", "../testdata/sessions/process.ndjson", "../testdata/demo/kube-apiserver-audit.log"},
			func(int, string) int { return 120 }},
		"a first stage 150 times": {
			[]string{"../testdata/demo/kube-apiserver-audit.log", "../testdata/demo/cloud-defend-process.ndjson"},
			func(_ int, l string) int {
				if strings.Contains(l, `"9483afa0-f5ba-4ca6-bdde-8126bc306607"`) && strings.Contains(l, `"RequestReceived"`) {
					return 150
				}
				return 1
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var copies []string
			for _, src := range tc.files {
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for i, l := range strings.SplitAfter(string(data), "\n") {
					b.WriteString(strings.Repeat(l, tc.repeat(i, l)))
				}
				path := filepath.Join(dir, filepath.Base(src))
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				copies = append(copies, path)
			}
			once, _, _ := run(t, nil, append([]string{"scan", "--format", "json"}, tc.files...)...)
			out, errOut, code := run(t, nil, append([]string{"scan", "--format", "json"}, copies...)...)
			if code != ExitFindings {
				t.Fatalf("exit %d; stderr %s", code, errOut)
			}
			r, r1 := parseReport(t, out), parseReport(t, once)
			if len(r.Findings) != len(r1.Findings) {
				t.Fatalf("%d findings, want %d as without the copies", len(r.Findings), len(r1.Findings))
			}
			counted := 0
			for i, f := range r.Findings {
				g := r1.Findings[i]
				if f.ID != g.ID || !slices.Equal(f.Related, g.Related) || len(f.Commands) != len(g.Commands) || f.MoreCommands != g.MoreCommands {
					t.Errorf("finding %d: %s related %v, %d+%d commands; want %s related %v, %d+%d commands as without the copies",
						i, f.ID, f.Related, len(f.Commands), f.MoreCommands, g.ID, g.Related, len(g.Commands), g.MoreCommands)
				}
				if a, b := programsRE.FindString(f.Guidance), programsRE.FindString(g.Guidance); a != b {
					t.Errorf("finding %s: guidance says %q, want %q as without the copies", f.ID, a, b)
				} else if a != "" {
					counted++
				}
				if (f.Session == nil) != (g.Session == nil) || f.Session != nil && !slices.Equal(f.Session.Stages, g.Session.Stages) {
					t.Errorf("finding %s: session %+v, want %+v", f.ID, f.Session, g.Session)
				}
			}
			if counted == 0 {
				t.Error("no finding's guidance counts the programs of its session")
			}
		})
	}
}
