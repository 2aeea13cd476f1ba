package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func boolPtr(b bool) *bool    { return &b }
func int64Ptr(n int64) *int64 { return &n }

// sampleResult is a hand-built report covering each kind of finding, and
// values a hostile log could hold: escape sequences, bidi overrides, CR/LF.
func sampleResult(t *testing.T) *report.Result {
	t.Helper()
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.NewSet(builtin, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := func(id string) triage.RuleRef {
		r := set.ByID(id)
		if r == nil {
			t.Fatalf("no built-in rule %s", id)
		}
		return triage.RuleRef{ID: r.ID, Name: r.Name, Severity: r.Severity, RiskScore: r.RiskScore, Origin: r.Origin, Tactics: []string{"TA0002"}, Techniques: []string{"T1609"}}
	}
	findings := []*triage.Finding{
		{
			ID: "1111aaaa2222bbbb", Rule: byID("420e5bb4-93bf-40a3-8f4a-4cc1af90eca1"), Kind: triage.KindProcess,
			Timestamp: "2026-11-20T09:41:07.452Z",
			Orch:      &triage.Orchestrator{Namespace: "shop", Cluster: &triage.Name{Name: "prod"}, Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			Container: &triage.Container{Name: "api", ID: "3f1c9a0b7d2e4f60", Image: "shop/api:1.4"},
			Host:      &triage.Host{Name: "node-a"},
			Process:   &triage.Process{Executable: "/bin/bash", Args: []string{"bash", "-i"}, PID: 4242, EntityID: "ent-1", Interactive: boolPtr(true)},
			Evidence:  []triage.Evidence{{File: "process.ndjson", Line: 3}},
			Guidance:  "Line one of the guide.\n\nSecond paragraph with \x1b[31mred\x1b[0m text.",
		},
		{
			ID: "3333cccc4444dddd", Rule: byID("14de811c-d60f-11ec-9fd7-f661ea17fbce"), Kind: triage.KindAudit,
			Timestamp: "2026-11-20T09:40:00Z",
			User:      &triage.User{Name: "mallory\x1b]0;pwned\x07@example.com", Groups: []string{"devs"}, Impersonated: &triage.User{Name: "admin"}},
			Source:    &triage.Source{IP: []string{"203.0.113.9"}},
			UserAgent: &triage.UserAgent{Original: "kubectl/v1.29.0\u202e"},
			Orch:      &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			Container: &triage.Container{Name: "api"},
			Process:   &triage.Process{Args: []string{"sh", "-c", "echo hi\nrm -rf /"}},
			Exec:      &triage.ExecFlags{TTY: true, Stdin: true, Stdout: true},
			Audit:     &triage.Audit{AuditID: "a-1", Verb: "create", Resource: "pods", Subresource: "exec", Decision: "allow", Reason: "RBAC: allowed", ResponseCode: 101},
			Session:   &triage.Session{Stages: []string{"RequestReceived", "ResponseStarted", "ResponseComplete"}, Start: "2026-11-20T09:40:00Z", End: "2026-11-20T09:54:05Z", DurationMS: int64Ptr(845000)},
			Evidence:  []triage.Evidence{{File: "audit.log", Line: 8, Stage: "ResponseStarted"}, {File: "audit.log", Line: 40, Stage: "ResponseComplete"}},
			Context:   []triage.Evidence{{File: "audit.log", Line: 7, Stage: "RequestReceived"}},
			Notes:     []string{"a note"},
			Guidance:  "Guide for the audit finding.",
		},
		{
			ID: "5555eeee6666ffff", Rule: byID("1c50f817-b9c2-4669-a629-d365cc2a0802"), Kind: triage.KindAudit,
			Timestamp: "2026-11-20T09:47:02Z",
			User:      &triage.User{Name: "bob"},
			Audit:     &triage.Audit{AuditID: "a-2", Verb: "get", Resource: "pods", Subresource: "exec", Decision: "allow", ResponseCode: 403},
			Session:   &triage.Session{Stages: []string{"ResponseStarted"}, Ongoing: true},
			Evidence:  []triage.Evidence{{File: "-", Line: 20}},
		},
	}
	r := &report.Result{
		Tool:     report.Tool{Name: "k8sexec", Version: "test"},
		Findings: findings,
		Notes:    []string{"1 exec request(s) used WebSocket."},
		Rules:    set.Rules,
		Summary: report.Summary{
			Inputs: []report.InputSummary{
				{Name: "audit.log", Counts: report.Counts{RawBytes: 2048, Bytes: 2048, Lines: 44, Events: 43, Parsed: 7, Malformed: 1}, Shapes: map[string]int64{"raw-audit": 7}},
				{Name: "old.log.gz", Compression: "gzip", Counts: report.Counts{RawBytes: 512, Bytes: 4096, Lines: 10, Events: 10}, Error: "old.log.gz: read failed at compressed byte 512: unexpected EOF"},
				{Name: "notes.txt", Counts: report.Counts{RawBytes: 10, Bytes: 10, Lines: 1, Malformed: 1}},
			},
			Problems:    []report.Problem{{File: "audit.log", Line: 3, Reason: "not JSON (starts \"\x1b[2J\")"}},
			RulesLoaded: 3,
		},
	}
	r.Tally()
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; rerun with -update and review the diff\n--- got ---\n%s", name, got)
	}
}

func TestWritersGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format string
		opts   report.Options
	}{
		{"sample.table.golden", "table", report.Options{Guide: "full"}},
		{"sample.table-color.golden", "table", report.Options{Guide: "full", Color: true}},
		{"sample.table-short.golden", "table", report.Options{Guide: "short"}},
		{"sample.json.golden", "json", report.Options{}},
		{"sample.ndjson.golden", "ndjson", report.Options{}},
		{"sample.timeline.golden", "timeline", report.Options{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			w, err := report.New(tc.format, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := w.Write(&buf, sampleResult(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, buf.Bytes())
		})
	}
}

// TestTableHasNoControlCharacters is the terminal-safety guarantee: nothing
// from a log reaches the terminal as an escape sequence or bidi override.
func TestTableHasNoControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	if err := (&report.Table{Guide: "full"}).Write(&buf, sampleResult(t)); err != nil {
		t.Fatal(err)
	}
	for i, r := range buf.String() {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e {
			t.Fatalf("control character %U at offset %d in table output", r, i)
		}
	}
	if !strings.Contains(buf.String(), "mallory<U+001B>]0;pwned<U+0007>@example.com") {
		t.Errorf("the user name should survive cleaning as visible text:\n%s", buf.String())
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := (&report.Table{Color: color, Guide: "none"}).Write(&buf, sampleResult(t)); err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(buf.String(), "\x1b["); has != color {
			t.Errorf("Color=%v: escape sequences present = %v", color, has)
		}
	}
}

// TestFormatsAgreeOnFindings: every format renders the same finding IDs in
// the same order.
func TestFormatsAgreeOnFindings(t *testing.T) {
	r := sampleResult(t)
	var want []string
	for _, f := range r.Findings {
		want = append(want, f.ID)
	}
	var doc struct {
		Findings []struct{ ID string } `json:"findings"`
	}
	var buf bytes.Buffer
	if err := (report.JSON{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var gotJSON []string
	for _, f := range doc.Findings {
		gotJSON = append(gotJSON, f.ID)
	}
	buf.Reset()
	if err := (report.NDJSON{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var gotND []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var f struct{ ID string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("ndjson line %q: %v", line, err)
		}
		gotND = append(gotND, f.ID)
	}
	buf.Reset()
	if err := (&report.Table{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var gotTable []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, "  finding ") {
			gotTable = append(gotTable, strings.Fields(line)[1])
		}
	}
	buf.Reset()
	if err := (report.CSV{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var gotCSV []string
	for _, row := range rows[1:] {
		gotCSV = append(gotCSV, row[0])
	}
	buf.Reset()
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &sarif); err != nil {
		t.Fatal(err)
	}
	var gotSARIF []string
	for _, res := range sarif.Runs[0].Results {
		gotSARIF = append(gotSARIF, res.PartialFingerprints["k8sexecFindingId/v1"])
	}
	for name, got := range map[string][]string{"json": gotJSON, "ndjson": gotND, "table": gotTable, "csv": gotCSV, "sarif": gotSARIF} {
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s findings %v, want %v", name, got, want)
		}
	}
	// The timeline names each finding by the start of its ID.
	buf.Reset()
	if err := (report.Timeline{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if !strings.Contains(buf.String(), "["+id[:8]+" ") {
			t.Errorf("timeline lacks finding %s:\n%s", id, buf.String())
		}
	}
}

func TestJSONEmptyFindingsIsArray(t *testing.T) {
	var buf bytes.Buffer
	if err := (report.JSON{}).Write(&buf, &report.Result{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) {
		t.Errorf("no findings should render as an empty array, got:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "Elapsed") || strings.Contains(buf.String(), "elapsed") {
		t.Errorf("wall-clock time must not appear in JSON output")
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"", ""},
		{" ~edges of printable ASCII~ ", " ~edges of printable ASCII~ "},
		{"a\x1b[31mred", "a<U+001B>[31mred"},
		{"\x1f", "<U+001F>"},
		{"tab\tand\nnewline\r", "tab and newline "},
		{"line\u2028and\u2029paragraph separators", "line and paragraph separators"},
		{"bell\x07", "bell<U+0007>"},
		{"c1\u009bcsi", "c1<U+009B>csi"},
		{"bidi\u202eevil\u2066x", "bidi<U+202E>evil<U+2066>x"},
		{"del\x7f", "del<U+007F>"},
		// Invisible: each would let one name pass for another.
		{"alice\u200b@example.com", "alice<U+200B>@example.com"},
		{"alice\u200e@example.com", "alice<U+200E>@example.com"},
		{"soft\u00adhyphen, bom\ufeff, joiner\u200d, filler\u3164", "soft<U+00AD>hyphen, bom<U+FEFF>, joiner<U+200D>, filler<U+3164>"},
		{"tag\U000e0041", "tag<U+E0041>"},
		// Default-ignorable: variation selectors, the Khmer inherent
		// vowel, the grapheme joiner, reserved code points.
		{"alice\ufe0f, \U000e0100, mongolian\u180b, khmer\u17b4, cgj\u034f, reserved\ufff0\U000e0fff", "alice<U+FE0F>, <U+E0100>, mongolian<U+180B>, khmer<U+17B4>, cgj<U+034F>, reserved<U+FFF0><U+E0FFF>"},
		{"bad utf8 \xff\xfe", "bad utf8 \ufffd\ufffd"},
		{"unicode ünïcödé 日本", "unicode ünïcödé 日本"},
	} {
		if got := report.Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := report.HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTallyCountsEveryRule(t *testing.T) {
	r := sampleResult(t)
	if r.Summary.Totals.Findings != 3 || r.Summary.Totals.Incomplete != 1 || r.Summary.Totals.Malformed != 2 {
		t.Errorf("totals = %+v", r.Summary.Totals)
	}
	if len(r.Summary.ByRule) != len(r.Rules) {
		t.Errorf("ByRule has %d entries, want one per rule (%d)", len(r.Summary.ByRule), len(r.Rules))
	}
	want := []report.SeverityCount{{Severity: "high", Count: 1}, {Severity: "medium", Count: 2}}
	if len(r.Summary.BySeverity) != 2 || r.Summary.BySeverity[0] != want[0] || r.Summary.BySeverity[1] != want[1] {
		t.Errorf("BySeverity = %+v, want %+v", r.Summary.BySeverity, want)
	}
}

func TestWriteEvents(t *testing.T) {
	rows := []report.EventRow{
		{File: "a.log", Line: 3, Summary: triage.EventSummary{Time: "2026-11-20T10:00:00Z", Who: "alice", Action: "create pods/exec", Where: "shop/api-1", What: "allow 101"}, Raw: []byte("{\"kind\":\"Event\",\"x\":\"\xff\",\"y\":\"a\xff\xfeb\"}")},
		{File: "b\x1b[0m.log", Line: 9, Summary: triage.EventSummary{}, Raw: []byte(`{"a":1}`)},
	}
	var buf bytes.Buffer
	if err := report.WriteEvents(&buf, rows, "table"); err != nil {
		t.Fatal(err)
	}
	golden(t, "events.table.golden", buf.Bytes())
	buf.Reset()
	if err := report.WriteEvents(&buf, rows, "ndjson"); err != nil {
		t.Fatal(err)
	}
	// Each byte that is no UTF-8 is one U+FFFD, as a wildcard counts it.
	if !strings.Contains(buf.String(), `"y":"a\ufffd\ufffdb"`) && !strings.Contains(buf.String(), "\"y\":\"a\uFFFD\uFFFDb\"") {
		t.Errorf("two invalid bytes should print as two U+FFFD:\n%s", buf.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("invalid ndjson line %q", line)
		}
	}
	golden(t, "events.ndjson.golden", buf.Bytes())
	if err := report.WriteEvents(&buf, rows, "xml"); err == nil {
		t.Error("unknown format should fail")
	}
}

// TestJSONWritersMatchEncoder: the JSON and NDJSON writers, which encode
// findings in parallel batches, write exactly what one encoding/json
// encoder writes for the whole result, with and without suppressed
// findings and notes, for few findings and for many batches.
func TestJSONWritersMatchEncoder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	sample := sampleResult(t)
	many := *sample
	many.Findings = nil
	for i := range 1000 {
		f := *sample.Findings[i%len(sample.Findings)]
		f.ID = fmt.Sprintf("%016x", i)
		many.Findings = append(many.Findings, &f)
	}
	withSuppressed := many
	withSuppressed.Suppressed = sample.Findings[:2]
	bare := report.Result{Tool: sample.Tool}
	for name, r := range map[string]*report.Result{"sample": sample, "many": &many, "suppressed": &withSuppressed, "bare": &bare} {
		want := func(indent bool) []byte {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if indent {
				out := *r
				if out.Findings == nil {
					out.Findings = []*triage.Finding{}
				}
				enc.SetIndent("", "  ")
				if err := enc.Encode(&out); err != nil {
					t.Fatal(err)
				}
				return escapeTerminalControls(buf.Bytes())
			}
			for _, f := range append(slices.Clone(r.Findings), r.Suppressed...) {
				if err := enc.Encode(f); err != nil {
					t.Fatal(err)
				}
			}
			return escapeTerminalControls(buf.Bytes())
		}
		var got bytes.Buffer
		if err := (report.JSON{}).Write(&got, r); err != nil {
			t.Fatal(err)
		}
		if w := want(true); !bytes.Equal(got.Bytes(), w) {
			t.Errorf("%s: JSON differs from the encoder's (%d bytes, want %d)", name, got.Len(), len(w))
		}
		got.Reset()
		if err := (report.NDJSON{}).Write(&got, r); err != nil {
			t.Fatal(err)
		}
		if w := want(false); !bytes.Equal(got.Bytes(), w) {
			t.Errorf("%s: NDJSON differs from the encoder's (%d bytes, want %d)", name, got.Len(), len(w))
		}
	}
}

// TestResultMembers: JSON.Write writes Result's members one by one; a new
// member must be added there too.
func TestResultMembers(t *testing.T) {
	var names []string
	rt := reflect.TypeFor[report.Result]()
	for i := range rt.NumField() {
		if tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]; tag != "-" {
			names = append(names, tag)
		}
	}
	if want := []string{"tool", "findings", "suppressed", "notes", "summary"}; !slices.Equal(names, want) {
		t.Errorf("Result's JSON members are %v; JSON.Write writes %v", names, want)
	}
}

// A whole folder of rules runs nearly a hundred: the table lists those
// with findings and counts the rest on one line, while JSON keeps every
// rule. A few rules are still listed one by one, zeros included.
func TestTableSummaryCollapsesQuietRules(t *testing.T) {
	table := func(r *report.Result) string {
		var buf bytes.Buffer
		if err := (&report.Table{Guide: "none"}).Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	few := sampleResult(t)
	if got := table(few); !strings.Contains(got, "   0  low      Kubernetes Ephemeral Debug Container Added to a Pod") || strings.Contains(got, "other") {
		t.Errorf("with %d rules every rule should be listed, zeros included:\n%s", len(few.Rules), got)
	}

	many := sampleResult(t)
	for i := range 20 {
		many.Rules = append(many.Rules, &rules.Rule{ID: fmt.Sprintf("quiet-%02d", i), Name: fmt.Sprintf("Quiet rule %02d", i), Severity: "low"})
	}
	many.Tally()
	got := table(many)
	if strings.Contains(got, "Quiet rule") || strings.Contains(got, "Kubernetes Ephemeral Debug Container") {
		t.Errorf("rules without findings listed one by one:\n%s", got)
	}
	quiet := len(many.Rules) - 3 // sampleResult's findings come from three rules
	if want := fmt.Sprintf("   0  in each of the other %d rules (--format json lists them)\n", quiet); !strings.Contains(got, want) {
		t.Errorf("no line %q in:\n%s", want, got)
	}
	for _, f := range many.Findings {
		if !strings.Contains(got, f.Rule.Name) {
			t.Errorf("rule %q has a finding but is not in the summary", f.Rule.Name)
		}
	}
	var buf bytes.Buffer
	if err := (report.JSON{}).Write(&buf, many); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"Quiet rule `); n != 20 {
		t.Errorf("JSON names %d of the 20 quiet rules, want all", n)
	}
}

// A published rule's note is the same text in every finding of the rule:
// the table prints it once and points later findings back to it, in both
// guide modes, while a guide filled with a finding's own values prints
// in full each time. The short guide is the first paragraph that says
// something: not a heading, not a quoted disclaimer.
func TestTableGuidePrintedOnce(t *testing.T) {
	note := "## Triage and analysis\n\n> **Disclaimer**:\n> Boilerplate.\n\n### Investigating X\n\nWhat the rule looks for.\nSecond line.\n\n### Steps\n\n- Look."
	r := sampleResult(t)
	first, second, third := r.Findings[0], r.Findings[1], r.Findings[2]
	first.Guidance, second.Guidance, third.Guidance = note, "Own guide for bob.", note
	for _, tc := range []struct {
		guide, once, never string
	}{
		{"full", "    What the rule looks for.\n    Second line.\n\n    ### Steps\n\n    - Look.\n", ""},
		{"short", "  guide\n    What the rule looks for.\n    Second line.\n\n", "Disclaimer"},
	} {
		var buf bytes.Buffer
		if err := (&report.Table{Guide: tc.guide}).Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		if n := strings.Count(got, tc.once); n != 1 {
			t.Errorf("--guide %s: the shared note printed %d times, want once:\n%s", tc.guide, n, got)
		}
		if want := "  guide     as for finding " + first.ID + " above\n"; strings.Count(got, want) != 1 || strings.Index(got, want) < strings.Index(got, third.ID) {
			t.Errorf("--guide %s: the later finding of the same note should point back with %q:\n%s", tc.guide, want, got)
		}
		if !strings.Contains(got, "  guide\n    Own guide for bob.\n") {
			t.Errorf("--guide %s: a finding's own guide should print in full:\n%s", tc.guide, got)
		}
		if tc.never != "" && strings.Contains(got, tc.never) {
			t.Errorf("--guide %s: %q should not be the short guide:\n%s", tc.guide, tc.never, got)
		}
	}
}

// An audit finding about an object, not a session, is told as the
// request it was: no exec, no WebSocket for a plain get.
func TestHeadlineOfObjectRequests(t *testing.T) {
	who := &triage.User{Name: "system:node:n1"}
	src := &triage.Source{IP: []string{"10.0.0.7"}}
	for _, tc := range []struct {
		audit triage.Audit
		orch  *triage.Orchestrator
		want  string
		noun  string
	}{
		{triage.Audit{Verb: "get", Resource: "secrets", Decision: "allow"}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "secrets", Name: "api-tls"}},
			"system:node:n1 get secrets shop/api-tls from 10.0.0.7 at 2026-11-20T10:00:00Z", "get secrets"},
		{triage.Audit{Verb: "list", Resource: "secrets", Decision: "forbid", ResponseCode: 403}, &triage.Orchestrator{Namespace: "kube-system", Resource: &triage.Resource{Type: "secrets"}},
			"system:node:n1 was refused list secrets in kube-system from 10.0.0.7 at 2026-11-20T10:00:00Z", "list secrets (refused)"},
		{triage.Audit{Verb: "get", Resource: "pods", Subresource: "log"}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			"system:node:n1 get pods/log shop/api-1 from 10.0.0.7 at 2026-11-20T10:00:00Z", "get pods/log"},
		{triage.Audit{Verb: "get", Resource: "pods", Subresource: "exec"}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			"system:node:n1 exec'd into shop/api-1 over WebSocket from 10.0.0.7 at 2026-11-20T10:00:00Z", "exec"},
		{triage.Audit{}, nil, "system:node:n1 made a request from 10.0.0.7 at 2026-11-20T10:00:00Z", "request"},
		{triage.Audit{ResponseCode: 403}, nil, "system:node:n1 was refused a request from 10.0.0.7 at 2026-11-20T10:00:00Z", "request (refused)"},
		{triage.Audit{Verb: "get", Resource: "secrets", Decision: "allow", ResponseCode: 404}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "secrets", Name: "gone"}},
			"system:node:n1 failed to get secrets shop/gone from 10.0.0.7 at 2026-11-20T10:00:00Z", "get secrets (failed)"},
		{triage.Audit{Verb: "create", Resource: "pods", Subresource: "exec", Decision: "allow", ResponseCode: 500}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			"system:node:n1 failed to exec into shop/api-1 from 10.0.0.7 at 2026-11-20T10:00:00Z", "exec (failed)"},
		{triage.Audit{Verb: "create", Resource: "pods", Subresource: "attach", Decision: "forbid", ResponseCode: 403}, &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}},
			"system:node:n1 was refused an attach to shop/api-1 from 10.0.0.7 at 2026-11-20T10:00:00Z", "attach (refused)"},
	} {
		f := &triage.Finding{ID: "0123456789abcdef", Rule: triage.RuleRef{ID: "r", Name: "R", Severity: "low"}, Kind: triage.KindAudit,
			Timestamp: "2026-11-20T10:00:00Z", User: who, Source: src, Audit: &tc.audit, Orch: tc.orch,
			Evidence: []triage.Evidence{{File: "a.log", Line: 1, Stage: "ResponseComplete"}}}
		if got := report.Headline(f); got != tc.want {
			t.Errorf("Headline = %q, want %q", got, tc.want)
		}
		var buf bytes.Buffer
		if err := (report.Timeline{}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "  "+tc.noun+"  ") {
			t.Errorf("timeline %q should name the request %q", buf.String(), tc.noun)
		}
		// CSV: the pod column holds pods only; resource and object say
		// what any request was about.
		buf.Reset()
		if err := (report.CSV{}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("csv: %v, %d rows", err, len(rows))
		}
		cell := map[string]string{}
		for i, name := range rows[0] {
			cell[name] = rows[1][i]
		}
		wantPod, wantObject, wantResource := "", "", tc.audit.Resource
		if tc.orch != nil && tc.orch.Resource != nil {
			wantObject = tc.orch.Resource.Name
			if tc.orch.Resource.Type == "pod" {
				wantPod = wantObject
			}
		}
		if tc.audit.Subresource != "" {
			wantResource += "/" + tc.audit.Subresource
		}
		if cell["pod"] != wantPod || cell["object"] != wantObject || cell["resource"] != wantResource || cell["message"] != tc.want {
			t.Errorf("csv pod %q object %q resource %q message %q, want %q %q %q %q", cell["pod"], cell["object"], cell["resource"], cell["message"], wantPod, wantObject, wantResource, tc.want)
		}
	}
}

// A request's verb and resource come from the log: the timeline and the
// table's linked lines clean them like every other log value.
func TestRequestActionIsCleaned(t *testing.T) {
	hostile := &triage.Finding{ID: "0123456789abcdef", Rule: triage.RuleRef{ID: "r", Name: "R", Severity: "low"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T10:00:00Z", Audit: &triage.Audit{Verb: "get\x1b[2J", Resource: "se\xf6crets\u202e"},
		Evidence: []triage.Evidence{{File: "a.log", Line: 1, Stage: "ResponseComplete"}}, Related: []string{"fedcba9876543210"}}
	other := *hostile
	other.ID, other.Related = "fedcba9876543210", []string{hostile.ID}
	r := &report.Result{Findings: []*triage.Finding{hostile, &other}}
	for _, w := range []report.Writer{report.Timeline{}, &report.Table{Guide: "full"}} {
		var buf bytes.Buffer
		if err := w.Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !utf8.ValidString(out) || strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("%T wrote log text uncleaned:\n%q", w, out)
		}
	}
}

// A session's shell lists the findings about commands run in it: each
// linked line says which rule saw the command, as several may.
func TestLinkedCommandNamesItsRule(t *testing.T) {
	yes := true
	shell := &triage.Finding{ID: "1111111111111111", Rule: triage.RuleRef{ID: "s", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", PID: 7, EntityID: "E1", EntryLeaderID: "E1", Interactive: &yes},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Related: []string{"2222222222222222"}}
	read := &triage.Finding{ID: "2222222222222222", Rule: triage.RuleRef{ID: "t", Name: "Token read", Severity: "medium"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:05Z", Process: &triage.Process{Executable: "/bin/cat", PID: 8, EntityID: "E2", EntryLeaderID: "E1", Interactive: &yes},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 2}}, Related: []string{shell.ID}}
	var buf bytes.Buffer
	if err := (&report.Table{Guide: "none"}).Write(&buf, &report.Result{Findings: []*triage.Finding{shell, read}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  linked    interactive /bin/cat pid 8 started at 2026-11-20T10:00:05Z, Token read (finding 2222222222222222)\n",
		"  linked    interactive /bin/bash pid 7 started at 2026-11-20T10:00:00Z (finding 1111111111111111)\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

// The timeline has one line per event: two findings about one request,
// or a command of a session that a rule also reported, are one line
// naming every finding, so none is left out and nothing is said twice.
func TestTimelineOneLinePerEvent(t *testing.T) {
	ev := func(line int64, stage, at string) triage.Evidence {
		return triage.Evidence{File: "audit.log", Line: line, Stage: stage, Time: at}
	}
	orch := &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}}
	denied := &triage.Finding{ID: "aaaaaaaa00000001", Rule: triage.RuleRef{Name: "Denied", Severity: "low"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T10:00:00Z", User: &triage.User{Name: "mallory"}, Orch: orch,
		Audit:    &triage.Audit{Verb: "create", Resource: "pods", Subresource: "exec", Decision: "forbid", ResponseCode: 403},
		Evidence: []triage.Evidence{ev(2, "ResponseComplete", "2026-11-20T10:00:00.100Z")}, Context: []triage.Evidence{ev(1, "RequestReceived", "2026-11-20T10:00:00Z")}}
	forbidden := *denied
	forbidden.ID, forbidden.Rule.Name = "bbbbbbbb00000002", "Forbidden creation"
	forbidden.Evidence, forbidden.Context = []triage.Evidence{ev(1, "RequestReceived", "2026-11-20T10:00:00Z"), ev(2, "ResponseComplete", "2026-11-20T10:00:00.100Z")}, nil
	shell := &triage.Finding{ID: "cccccccc00000003", Rule: triage.RuleRef{Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T11:00:00Z", Orch: orch, Process: &triage.Process{Executable: "/bin/sh", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "proc.ndjson", Line: 1}},
		Commands: []triage.SessionCommand{
			{Time: "2026-11-20T11:00:05Z", Args: []string{"id"}, EntityID: "E2", Evidence: triage.Evidence{File: "proc.ndjson", Line: 2}},
			{Time: "2026-11-20T11:00:09Z", Args: []string{"env"}, EntityID: "E3", Evidence: triage.Evidence{File: "proc.ndjson", Line: 3}},
		}}
	token := &triage.Finding{ID: "dddddddd00000004", Rule: triage.RuleRef{Name: "Token read", Severity: "medium"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T11:00:09Z", Orch: orch, Process: &triage.Process{Executable: "/usr/bin/env", EntityID: "E3"},
		Evidence: []triage.Evidence{{File: "proc.ndjson", Line: 3}}}
	// Every order of the findings gives the same timeline.
	var first string
	for _, findings := range [][]*triage.Finding{{shell, token, denied, &forbidden}, {&forbidden, denied, token, shell}} {
		var buf bytes.Buffer
		if err := (report.Timeline{}).Write(&buf, &report.Result{Findings: findings}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines, want 5 (2 request stages, shell, 2 commands):\n%s", len(lines), buf.String())
		}
		for _, l := range lines[:2] {
			if !strings.Contains(l, "[aaaaaaaa Denied]") || !strings.Contains(l, "[bbbbbbbb Forbidden creation]") {
				t.Errorf("request stage %q should name both findings", l)
			}
		}
		if l := lines[4]; !strings.Contains(l, "[dddddddd Token read]") || !strings.HasSuffix(l, "(session of cccccccc)") {
			t.Errorf("command line %q should be the token finding's, in the shell's session", l)
		}
		if first == "" {
			first = buf.String()
		} else if strings.ReplaceAll(buf.String(), "[bbbbbbbb Forbidden creation] [aaaaaaaa Denied]", "[aaaaaaaa Denied] [bbbbbbbb Forbidden creation]") != first {
			t.Errorf("timeline depends on the order of findings:\n%s\nvs\n%s", first, buf.String())
		}
	}
}

// TestTimelineSuppressed: suppressed findings shown (--show-suppressed)
// are on the timeline, each named with the exception that suppressed it;
// a request that a shown finding is about too is still one line.
func TestTimelineSuppressed(t *testing.T) {
	orch := &triage.Orchestrator{Namespace: "shop", Resource: &triage.Resource{Type: "pod", Name: "api-1"}}
	stage := triage.Evidence{File: "audit.log", Line: 1, Stage: "RequestReceived", Time: "2026-11-20T10:00:00Z"}
	shown := &triage.Finding{ID: "aaaaaaaa00000001", Rule: triage.RuleRef{Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T10:00:00Z", User: &triage.User{Name: "ci"}, Orch: orch,
		Audit: &triage.Audit{Verb: "create", Resource: "pods", Subresource: "exec"}, Evidence: []triage.Evidence{stage}}
	other := *shown
	other.ID, other.Rule.Name = "bbbbbbbb00000002", "Exec by a service account"
	other.SuppressedBy = &triage.SuppressedBy{Exception: "ci-\x1b[31mls", Reason: "the deploy job", Source: `ex.toml: exception 1 ("ci-ls")`}
	alone := other
	alone.ID = "cccccccc00000003"
	alone.Evidence = []triage.Evidence{{File: "audit.log", Line: 9, Stage: "RequestReceived", Time: "2026-11-20T11:00:00Z"}}
	var buf bytes.Buffer
	r := &report.Result{Findings: []*triage.Finding{shown}, Suppressed: []*triage.Finding{&other, &alone}}
	if err := (report.Timeline{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (the shared request, the suppressed one's own):\n%s", len(lines), buf.String())
	}
	if !strings.HasSuffix(lines[0], "[aaaaaaaa Exec] [bbbbbbbb Exec by a service account, suppressed by ci-<U+001B>[31mls]") {
		t.Errorf("shared request %q should name both findings, the suppressed one as such", lines[0])
	}
	if !strings.HasSuffix(lines[1], "[cccccccc Exec by a service account, suppressed by ci-<U+001B>[31mls]") {
		t.Errorf("suppressed request %q should be on the timeline, marked", lines[1])
	}
}

// escapeTerminalControls writes as \u escapes the characters of encoded
// JSON that Clean drops (DEL, C1 controls, bidirectional formatting):
// what the JSON writers do, so that no terminal acts on them.
func escapeTerminalControls(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		if r >= 0x7f && r != utf8.RuneError && triage.TerminalUnsafe(r) {
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&out, "\\u%04x\\u%04x", hi, lo)
			} else {
				fmt.Fprintf(&out, "\\u%04x", r)
			}
			continue
		}
		out.WriteRune(r)
	}
	return out.Bytes()
}

// The JSON writers keep the values taken from logs but write the
// characters a terminal would act on as escapes: `cat report.json` or
// `jq` output on a terminal cannot be hijacked by a user agent.
func TestJSONEscapesTerminalControls(t *testing.T) {
	evil := "ua\x7f\u009b2J\u202egnp.exe\u2066x\u200fy\u061cz"
	sample := sampleResult(t)
	f := *sample.Findings[0]
	f.UserAgent = &triage.UserAgent{Original: evil}
	r := &report.Result{Findings: []*triage.Finding{&f}, Rules: sample.Rules}
	for _, w := range []report.Writer{report.JSON{}, report.NDJSON{}, report.SARIF{}} {
		var buf bytes.Buffer
		if err := w.Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		for _, r := range buf.String() {
			if r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x200e && r <= 0x206f && report.Clean(string(r)) == "" || r == 0x61c {
				t.Errorf("%T writes %U as it is", w, r)
			}
		}
		if !strings.Contains(buf.String(), `ua\u007f\u009b2J\u202egnp.exe\u2066x\u200fy\u061cz`) {
			t.Errorf("%T: the user agent is not escaped as expected:\n%s", w, buf.String())
		}
		if _, ok := w.(report.NDJSON); ok {
			var back triage.Finding
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.UserAgent == nil || back.UserAgent.Original != evil {
				t.Errorf("NDJSON does not decode to the same value: %v, %+v", err, back.UserAgent)
			}
		}
	}
}

// A process that execs again (a script exec'ing its payload) runs two
// commands under one entity ID: the timeline has a line for each, and a
// command listed on two findings (the shell's and the request's) once.
func TestTimelineExecChain(t *testing.T) {
	cmds := []triage.SessionCommand{
		{Time: "2026-11-20T10:00:01Z", Args: []string{"sh", "/tmp/run.sh"}, EntityID: "P1", Evidence: triage.Evidence{File: "p.ndjson", Line: 2}},
		{Time: "2026-11-20T10:00:01.5Z", Args: []string{"python3", "/tmp/payload.py"}, EntityID: "P1", Evidence: triage.Evidence{File: "p.ndjson", Line: 3}},
	}
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Commands: cmds}
	exec := &triage.Finding{ID: "3333cccc4444dddd", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T09:59:59.8Z", User: &triage.User{Name: "alice"}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"},
		Evidence: []triage.Evidence{{File: "a.log", Line: 1, Stage: "ResponseStarted", Time: "2026-11-20T09:59:59.8Z"}}, Commands: cmds}
	var buf bytes.Buffer
	if err := (report.Timeline{}).Write(&buf, &report.Result{Findings: []*triage.Finding{shell, exec}}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{"sh /tmp/run.sh", "python3 /tmp/payload.py"} {
		if n := strings.Count(got, want); n != 1 {
			t.Errorf("%q on %d lines, want 1:\n%s", want, n, got)
		}
	}
}

// Two findings about two execs of one process (a script, then the curl it
// exec'd) are each on the line of their own event.
func TestTimelineFindingsOnTheirOwnExec(t *testing.T) {
	cmds := []triage.SessionCommand{
		{Time: "2026-11-20T10:00:01Z", Args: []string{"sh", "/tmp/run.sh"}, EntityID: "P1", Evidence: triage.Evidence{File: "p.ndjson", Line: 2}},
		{Time: "2026-11-20T10:00:02Z", Args: []string{"curl", "http://169.254.169.254/"}, EntityID: "P1", Evidence: triage.Evidence{File: "p.ndjson", Line: 3}},
	}
	finding := func(id, name, ts string, args []string, line int64) *triage.Finding {
		return &triage.Finding{ID: id, Rule: triage.RuleRef{ID: name, Name: name, Severity: "low"}, Kind: triage.KindProcess, Timestamp: ts,
			Process: &triage.Process{Args: args, EntityID: "P1", EntryLeaderID: "E1"}, Evidence: []triage.Evidence{{File: "p.ndjson", Line: line}}}
	}
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Commands: cmds}
	script := finding("5555eeee6666ffff", "Script", "2026-11-20T10:00:01Z", cmds[0].Args, 2)
	curl := finding("7777aaaa8888bbbb", "Curl", "2026-11-20T10:00:02Z", cmds[1].Args, 3)
	var buf bytes.Buffer
	if err := (report.Timeline{}).Write(&buf, &report.Result{Findings: []*triage.Finding{shell, script, curl}}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		switch {
		case strings.Contains(line, "run.sh") && (!strings.Contains(line, "Script") || strings.Contains(line, "Curl")),
			strings.Contains(line, "169.254") && (!strings.Contains(line, "Curl") || strings.Contains(line, "Script")):
			t.Errorf("line %q: each finding belongs on its own exec's line:\n%s", line, buf.String())
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Errorf("%d lines, want 3 (the shell, the script, the curl):\n%s", n, buf.String())
	}
}

// A payload passed as an argument (kilobytes of base64) is cut where
// people read the command, once per place; JSON keeps it whole.
func TestLongCommandCutInTable(t *testing.T) {
	payload := strings.Repeat("QUJD", 750)
	f := &triage.Finding{ID: "0123456789abcdef", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T10:00:00Z", User: &triage.User{Name: "alice"}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"},
		Process: &triage.Process{Args: []string{"sh", "-c", "echo " + payload + " | base64 -d | sh"}}, Evidence: []triage.Evidence{{File: "a.log", Line: 1}}}
	var buf bytes.Buffer
	if err := (&report.Table{}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if utf8.RuneCountInString(line) > triage.MaxCommandText+100 {
			t.Errorf("a line of %d characters: %.120q", utf8.RuneCountInString(line), line)
		}
	}
	if !strings.Contains(buf.String(), "…") {
		t.Errorf("the command is not marked as cut:\n%.600s", buf.String())
	}
	buf.Reset()
	if err := (report.JSON{}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), payload) {
		t.Error("JSON should keep the argument whole")
	}
}

// TestManyEvidencePlacesCutInTable: a finding of a log that repeats its
// request holds a hundred places or more; the table lists 20 and says how
// many more JSON has.
func TestManyEvidencePlacesCutInTable(t *testing.T) {
	f := &triage.Finding{ID: "0123456789abcdef", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T10:00:00Z", User: &triage.User{Name: "alice"}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"}}
	for i := range 25 {
		f.Evidence = append(f.Evidence, triage.Evidence{File: "a.log", Line: int64(i + 1), Stage: "ResponseStarted"})
	}
	var buf bytes.Buffer
	if err := (&report.Table{}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "20 (ResponseStarted) ... 5 more (--format json)") || strings.Contains(out, "21 (ResponseStarted)") {
		t.Errorf("evidence not cut at 20 places:\n%s", out)
	}
}

// A session past midnight lists its commands with their date once it
// changes: the clock alone would go back.
func TestTableCommandsPastMidnight(t *testing.T) {
	f := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T23:59:40Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Commands: []triage.SessionCommand{
			{Time: "2026-11-20T23:59:59Z", Args: []string{"ls"}},
			{Time: "2026-11-21T00:00:10Z", Args: []string{"date"}},
		}}
	var buf bytes.Buffer
	if err := (&report.Table{Guide: "none"}).Write(&buf, &report.Result{Findings: []*triage.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commands  23:59:59.000  ls\n", "          2026-11-21 00:00:10.000  date\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

// A shell's linked request names the identity it impersonated too: the
// API server checked that one's rights.
func TestTableLinkedRequestImpersonating(t *testing.T) {
	exec := &triage.Finding{ID: "3333cccc4444dddd", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T09:59:59.8Z", User: &triage.User{Name: "dave", Impersonated: &triage.User{Name: "ops-bot"}}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"},
		Evidence: []triage.Evidence{{File: "a.log", Line: 1}}, Related: []string{"1111aaaa2222bbbb"}}
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Related: []string{exec.ID}}
	var buf bytes.Buffer
	if err := (&report.Table{Guide: "none"}).Write(&buf, &report.Result{Findings: []*triage.Finding{shell, exec}}); err != nil {
		t.Fatal(err)
	}
	if want := "linked    exec by dave as ops-bot at 2026-11-20T09:59:59.8Z"; !strings.Contains(buf.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, buf.String())
	}
}

// A shell whose exec request the report leaves out (outside --since) says
// on the timeline who started it and why that is not shown, as the table's
// linked line does.
func TestTimelineHiddenStarter(t *testing.T) {
	exec := &triage.Finding{ID: "3333cccc4444dddd", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T09:59:59.8Z", User: &triage.User{Name: "dave"}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"},
		Evidence: []triage.Evidence{{File: "a.log", Line: 1}}, Related: []string{"1111aaaa2222bbbb"}}
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1"},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Related: []string{exec.ID}}
	var buf bytes.Buffer
	r := &report.Result{Findings: []*triage.Finding{shell}, Hidden: map[string]report.Hidden{exec.ID: {Finding: exec, Why: "outside --since/--until"}}}
	if err := (report.Timeline{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if want := "(started by 3333cccc, not shown: outside --since/--until)"; !strings.Contains(buf.String(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, buf.String())
	}
}

// A session's end and its commands' failures are on the shell's table
// and timeline: the ended line, a command's non-zero exit code (0 says
// nothing), and one timeline line for the end, however many findings name
// the process.
func TestSessionEndShown(t *testing.T) {
	code := func(n int64) *int64 { return &n }
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1", PID: 7, End: "2026-11-20T10:02:30Z", ExitCode: code(130)},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}, Context: []triage.Evidence{{File: "p.ndjson", Line: 9, Note: "process end"}},
		Related: []string{"3333cccc4444dddd"}, Commands: []triage.SessionCommand{
			{Time: "2026-11-20T10:00:01Z", Args: []string{"cat", "/etc/shadow"}, ExitCode: code(1), Evidence: triage.Evidence{File: "p.ndjson", Line: 2}},
			{Time: "2026-11-20T10:00:02Z", Args: []string{"id"}, ExitCode: code(0), Evidence: triage.Evidence{File: "p.ndjson", Line: 3}},
		}}
	started := *shell.Process
	started.Time = "2026-11-20T10:00:00Z"
	exec := &triage.Finding{ID: "3333cccc4444dddd", Rule: triage.RuleRef{ID: "r1", Name: "Exec", Severity: "medium"}, Kind: triage.KindAudit,
		Timestamp: "2026-11-20T09:59:59.8Z", User: &triage.User{Name: "alice"}, Audit: &triage.Audit{Verb: "create", Subresource: "exec"},
		Evidence: []triage.Evidence{{File: "a.log", Line: 1}}, Started: &started, Commands: shell.Commands, Related: []string{shell.ID}}
	res := &report.Result{Findings: []*triage.Finding{shell, exec}}
	var table, tl bytes.Buffer
	if err := (&report.Table{Guide: "none"}).Write(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  ended     2026-11-20T10:02:30Z  after 2m 30s  exit 130\n",
		"  commands  10:00:01.000  cat /etc/shadow  (exit 1)\n",
		"            10:00:02.000  id\n",
		"  context   p.ndjson:9 (process end)\n",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := (report.Timeline{}).Write(&tl, res); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(tl.String(), "ended, exit 130, lasted 2m 30s"); n != 1 {
		t.Errorf("the end is on %d timeline lines, want 1:\n%s", n, tl.String())
	}
	if !strings.Contains(tl.String(), "cat /etc/shadow  (exit 1)") {
		t.Errorf("the timeline does not say the command failed:\n%s", tl.String())
	}
	var csvOut bytes.Buffer
	if err := (report.CSV{}).Write(&csvOut, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	endCol, codeCol := slices.Index(rows[0], "process_end"), slices.Index(rows[0], "exit_code")
	for _, row := range rows[1:] {
		if row[endCol] != "2026-11-20T10:02:30Z" || row[codeCol] != "130" {
			t.Errorf("csv row %s: process_end %q exit_code %q, want the shell's for both findings", row[0], row[endCol], row[codeCol])
		}
	}
}

// An end event without a date still ended the process: the table and the
// timeline say so, with its code.
func TestSessionEndWithoutTime(t *testing.T) {
	code := int64(137)
	shell := &triage.Finding{ID: "1111aaaa2222bbbb", Rule: triage.RuleRef{ID: "r2", Name: "Shell", Severity: "high"}, Kind: triage.KindProcess,
		Timestamp: "2026-11-20T10:00:00Z", Process: &triage.Process{Executable: "/bin/bash", EntityID: "E1", ExitCode: &code},
		Evidence: []triage.Evidence{{File: "p.ndjson", Line: 1}}}
	res := &report.Result{Findings: []*triage.Finding{shell}}
	var table, tl bytes.Buffer
	if err := (&report.Table{Guide: "none"}).Write(&table, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "  ended     at an unknown time  exit 137\n") {
		t.Errorf("table:\n%s", table.String())
	}
	if err := (report.Timeline{}).Write(&tl, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tl.String(), "/bin/bash  ended, exit 137") {
		t.Errorf("timeline:\n%s", tl.String())
	}
}

// TestIdleExceptions: the exceptions in force that suppressed nothing are
// named, expired ones are not (they are warned about), and a long list is
// cut after a few.
func TestIdleExceptions(t *testing.T) {
	use := func(n int, suppressed int, expired bool) report.ExceptionUse {
		src := fmt.Sprintf("ex.toml: exception %d", n)
		return report.ExceptionUse{Name: fmt.Sprintf("exception %d", n), Source: src, Suppressed: suppressed, Expired: expired}
	}
	for _, tc := range []struct {
		name string
		uses []report.ExceptionUse
		want string
	}{
		{"none loaded", nil, ""},
		{"every one suppressed something", []report.ExceptionUse{use(1, 3, false), use(2, 1, false)}, ""},
		{"an expired one is not idle", []report.ExceptionUse{use(1, 3, false), use(2, 0, true)}, ""},
		{"one idle", []report.ExceptionUse{use(1, 0, false), use(2, 0, true), use(3, 2, false)},
			"1 of 2 exceptions in force suppressed nothing: ex.toml: exception 1"},
		{"many idle", []report.ExceptionUse{use(1, 0, false), use(2, 0, false), use(3, 0, false), use(4, 0, false), use(5, 0, false), use(6, 0, false), use(7, 0, false)},
			"7 of 7 exceptions in force suppressed nothing: ex.toml: exception 1; ex.toml: exception 2; ex.toml: exception 3; ex.toml: exception 4; ex.toml: exception 5; and 2 more (--format json lists each)"},
	} {
		if got := report.IdleExceptions(report.Summary{Exceptions: tc.uses}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
