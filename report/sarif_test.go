package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
)

// validateSARIF checks the SARIF 2.1.0 constraints that GitHub code
// scanning and other viewers rely on, following the OASIS specification:
// the document shape, rule descriptors, result-to-rule references, levels,
// locations and fingerprints.
func validateSARIF(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if doc["version"] != "2.1.0" {
		t.Errorf("version = %v, want 2.1.0", doc["version"])
	}
	if s, _ := doc["$schema"].(string); !strings.Contains(s, "sarif-schema-2.1.0") {
		t.Errorf("$schema = %q", s)
	}
	runs, _ := doc["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("want one run, got %d", len(runs))
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "k8sexec" || driver["version"] == nil || driver["informationUri"] == nil {
		t.Errorf("driver = %v", driver)
	}
	ruleList, _ := driver["rules"].([]any)
	if len(ruleList) == 0 {
		t.Fatal("tool.driver.rules is empty")
	}
	ruleIDs := map[string]int{}
	for i, rv := range ruleList {
		rule := rv.(map[string]any)
		id, _ := rule["id"].(string)
		if id == "" {
			t.Errorf("rule %d has no id", i)
		}
		if _, dup := ruleIDs[id]; dup {
			t.Errorf("rule %s listed twice", id)
		}
		ruleIDs[id] = i
		for _, key := range []string{"shortDescription", "fullDescription", "help"} {
			m, _ := rule[key].(map[string]any)
			if s, _ := m["text"].(string); s == "" {
				t.Errorf("rule %s: %s.text is empty", id, key)
			}
		}
		if name, _ := rule["name"].(string); name == "" || strings.ContainsAny(name, " /") {
			t.Errorf("rule %s: name %q should be an identifier", id, name)
		}
		props := rule["properties"].(map[string]any)
		sev, err := strconv.ParseFloat(props["security-severity"].(string), 64)
		if err != nil || sev < 0 || sev > 10 {
			t.Errorf("rule %s: security-severity %v", id, props["security-severity"])
		}
		tags, _ := props["tags"].([]any)
		if len(tags) == 0 {
			t.Errorf("rule %s: no tags", id)
		}
		level := rule["defaultConfiguration"].(map[string]any)["level"]
		if !validLevel(level) {
			t.Errorf("rule %s: default level %v", id, level)
		}
	}
	results, _ := run["results"].([]any)
	for i, rv := range results {
		res := rv.(map[string]any)
		id, _ := res["ruleId"].(string)
		idx, ok := ruleIDs[id]
		if !ok {
			t.Errorf("result %d: ruleId %q is not among the rules", i, id)
		}
		if ri, _ := res["ruleIndex"].(float64); int(ri) != idx {
			t.Errorf("result %d: ruleIndex %v does not point at %s", i, res["ruleIndex"], id)
		}
		if !validLevel(res["level"]) {
			t.Errorf("result %d: level %v", i, res["level"])
		}
		if msg, _ := res["message"].(map[string]any)["text"].(string); msg == "" {
			t.Errorf("result %d: empty message", i)
		}
		locs, _ := res["locations"].([]any)
		if len(locs) == 0 {
			t.Errorf("result %d: no location", i)
		}
		related, _ := res["relatedLocations"].([]any)
		seen := map[float64]bool{}
		for j, lv := range append(append([]any{}, locs...), related...) {
			loc := lv.(map[string]any)
			phys := loc["physicalLocation"].(map[string]any)
			uri, _ := phys["artifactLocation"].(map[string]any)["uri"].(string)
			if uri == "" || strings.Contains(uri, `\`) || strings.HasPrefix(uri, "/") {
				t.Errorf("result %d location %d: uri %q must be a relative, slash-separated path", i, j, uri)
			}
			if line, _ := phys["region"].(map[string]any)["startLine"].(float64); line < 1 {
				t.Errorf("result %d location %d: startLine %v", i, j, line)
			}
			if j >= len(locs) {
				id, ok := loc["id"].(float64)
				if !ok || seen[id] {
					t.Errorf("result %d related location %d: id %v missing or repeated", i, j, loc["id"])
				}
				seen[id] = true
			}
		}
		fp, _ := res["partialFingerprints"].(map[string]any)
		if v, _ := fp["k8sexecFindingId/v1"].(string); len(v) != 16 {
			t.Errorf("result %d: partialFingerprints = %v", i, fp)
		}
		if sv, ok := res["suppressions"]; ok {
			sups, _ := sv.([]any)
			if len(sups) == 0 {
				t.Errorf("result %d: suppressions %v should be left out when empty", i, sv)
			}
			for j, sup := range sups {
				m, _ := sup.(map[string]any)
				switch m["kind"] {
				case "inSource", "external":
				default:
					t.Errorf("result %d suppression %d: kind %v", i, j, m["kind"])
				}
				switch m["status"] {
				case nil, "accepted", "underReview", "rejected":
				default:
					t.Errorf("result %d suppression %d: status %v", i, j, m["status"])
				}
			}
		}
	}
	// The schema allows no JSON null in the properties k8sexec writes.
	var noNulls func(path string, v any)
	noNulls = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("null at %s", path)
		case map[string]any:
			for k, e := range x {
				noNulls(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				noNulls(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	noNulls("$", doc)
	inv, _ := run["invocations"].([]any)
	if len(inv) != 1 {
		t.Errorf("want one invocation, got %d", len(inv))
	} else if _, ok := inv[0].(map[string]any)["executionSuccessful"].(bool); !ok {
		t.Error("invocation.executionSuccessful missing")
	}
	return doc
}

func validLevel(v any) bool {
	switch v {
	case "none", "note", "warning", "error":
		return true
	}
	return false
}

func TestSARIF(t *testing.T) {
	r := sampleResult(t)
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.sarif.golden", buf.Bytes())
	doc := validateSARIF(t, buf.Bytes())
	run := doc["runs"].([]any)[0].(map[string]any)
	if n := len(run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)); n != len(r.Rules) {
		t.Errorf("%d rules in SARIF, want every rule that ran (%d)", n, len(r.Rules))
	}
	results := run["results"].([]any)
	if len(results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(results), len(r.Findings))
	}
	levels := map[string]string{}
	for _, rv := range results {
		res := rv.(map[string]any)
		levels[res["ruleId"].(string)] = res["level"].(string)
	}
	if levels["420e5bb4-93bf-40a3-8f4a-4cc1af90eca1"] != "error" || levels["14de811c-d60f-11ec-9fd7-f661ea17fbce"] != "warning" {
		t.Errorf("levels = %v: high is error, medium is warning", levels)
	}
	// stdin evidence becomes a readable URI.
	if !strings.Contains(buf.String(), `"uri": "stdin"`) {
		t.Error("evidence from stdin should have the uri stdin")
	}
	// The incomplete input is reported as a failed invocation, and the
	// scan's notes as notifications after it.
	inv := run["invocations"].([]any)[0].(map[string]any)
	notes := inv["toolExecutionNotifications"].([]any)
	if inv["executionSuccessful"] != false || len(notes) != 2 {
		t.Fatalf("invocation = %v", inv)
	}
	first, second := notes[0].(map[string]any), notes[1].(map[string]any)
	if first["level"] != "error" || second["level"] != "note" || second["message"].(map[string]any)["text"] != "1 exec request(s) used WebSocket." {
		t.Errorf("notifications = %v: the input error, then the scan's note", notes)
	}
}

// TestSARIFSuppressed: a suppressed finding shown (--show-suppressed) is
// a result like the others, after them, with its exception as an accepted
// external suppression; the rules and the results shown are unchanged.
func TestSARIFSuppressed(t *testing.T) {
	r := sampleResult(t)
	var plain bytes.Buffer
	if err := (report.SARIF{}).Write(&plain, r); err != nil {
		t.Fatal(err)
	}
	suppressed := *r.Findings[1]
	suppressed.SuppressedBy = &triage.SuppressedBy{Exception: "ci-ls", Reason: "the deploy job lists <the app folder>", Source: `exceptions.toml: exception 1 ("ci-ls")`}
	r.Findings = slices.Delete(slices.Clone(r.Findings), 1, 2)
	r.Suppressed = []*triage.Finding{&suppressed}
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	run := doc["runs"].([]any)[0].(map[string]any)
	if n := len(run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)); n != len(r.Rules) {
		t.Errorf("%d rules in SARIF, want every rule that ran (%d)", n, len(r.Rules))
	}
	results := run["results"].([]any)
	if len(results) != len(r.Findings)+len(r.Suppressed) {
		t.Fatalf("%d results for %d findings and %d suppressed", len(results), len(r.Findings), len(r.Suppressed))
	}
	for i, rv := range results[:len(r.Findings)] {
		if _, ok := rv.(map[string]any)["suppressions"]; ok {
			t.Errorf("result %d is not suppressed but has suppressions", i)
		}
	}
	last := results[len(results)-1].(map[string]any)
	if id := last["partialFingerprints"].(map[string]any)["k8sexecFindingId/v1"]; id != suppressed.ID {
		t.Errorf("last result is %v, want the suppressed finding %s", id, suppressed.ID)
	}
	want := []any{map[string]any{
		"kind": "external", "status": "accepted", "justification": "the deploy job lists <the app folder>",
		"properties": map[string]any{"k8sexec/exception": "ci-ls", "k8sexec/source": `exceptions.toml: exception 1 ("ci-ls")`},
	}}
	if got := last["suppressions"]; !reflect.DeepEqual(got, want) {
		t.Errorf("suppressions = %v, want %v", got, want)
	}
	if by := last["properties"].(map[string]any)["k8sexec"].(map[string]any)["suppressed_by"]; by == nil {
		t.Error("properties.k8sexec lacks suppressed_by")
	}

	// Without suppressed findings to show, the document is as it was.
	r.Suppressed = nil
	r.Findings = sampleResult(t).Findings
	buf.Reset()
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), plain.Bytes()) {
		t.Error("SARIF without suppressed findings changed")
	}
}

// TestSARIFOnlySuppressed: suppressed findings are results even when no
// finding is shown.
func TestSARIFOnlySuppressed(t *testing.T) {
	r := sampleResult(t)
	for _, f := range r.Findings {
		g := *f
		g.SuppressedBy = &triage.SuppressedBy{Exception: "all", Reason: "a drill", Source: "exceptions.toml: exception 1"}
		r.Suppressed = append(r.Suppressed, &g)
	}
	r.Findings = nil
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	results := doc["runs"].([]any)[0].(map[string]any)["results"].([]any)
	if len(results) != len(r.Suppressed) {
		t.Fatalf("%d results for %d suppressed findings", len(results), len(r.Suppressed))
	}
	for i, rv := range results {
		if sups, _ := rv.(map[string]any)["suppressions"].([]any); len(sups) != 1 {
			t.Errorf("result %d: suppressions %v", i, sups)
		}
	}
}

func TestSARIFRelativePaths(t *testing.T) {
	r := sampleResult(t)
	r.Findings[0].Evidence[0].File = "/work/logs/process.ndjson"
	var buf bytes.Buffer
	if err := (report.SARIF{BaseDir: "/work"}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"uri": "logs/process.ndjson"`) {
		t.Errorf("absolute path not made relative to the base dir:\n%s", buf.String())
	}
	validateSARIF(t, buf.Bytes())
}

func TestSARIFNoFindings(t *testing.T) {
	r := sampleResult(t)
	r.Findings = nil
	r.Tally()
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	results, ok := doc["runs"].([]any)[0].(map[string]any)["results"].([]any)
	if !ok || len(results) != 0 {
		t.Errorf("results should be an empty array, got %v", results)
	}
}

func TestCSV(t *testing.T) {
	r := sampleResult(t)
	r.Findings[1].User.Name = "=HYPERLINK(\"http://evil.example\")"
	var buf bytes.Buffer
	if err := (report.CSV{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.csv.golden", buf.Bytes())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse back: %v", err)
	}
	if len(rows) != len(r.Findings)+1 {
		t.Fatalf("%d rows, want header + %d", len(rows), len(r.Findings))
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVColumns, ",") {
		t.Errorf("header = %v", rows[0])
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	audit := rows[2]
	if audit[col["user"]] != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("formula not defused: %q", audit[col["user"]])
	}
	if audit[col["command"]] != `sh -c $'echo hi\nrm -rf /'` || audit[col["duration_ms"]] != "845000" || audit[col["line"]] != "8" {
		t.Errorf("audit row = %q", audit)
	}
	if rows[3][col["file"]] != "-" {
		t.Errorf("stdin file should stay -: %q", rows[3][col["file"]])
	}
}

// TestSARIFGitHubLimits: a rule file from anyone and a finding with many
// lines still give a file GitHub code scanning accepts: at most 20 tags
// per rule, at most 1,000 locations per result, a helpUri that is an
// absolute URI, a name from a title in any script, a full description
// of at most 1,024 characters.
func TestSARIFGitHubLimits(t *testing.T) {
	var tags []string
	for i := range 30 {
		tags = append(tags, fmt.Sprintf("%q", fmt.Sprintf("Tag %d", i)))
	}
	toml := `[metadata]
creation_date = "2026/12/01"
[rule]
author = ["k8sexec"]
description = "` + strings.Repeat("é", 2000) + `"
name = "日本語ルール"
risk_score = 21
rule_id = "limits-rule"
severity = "low"
type = "query"
language = "kuery"
query = 'kubernetes.audit.verb:"get"'
references = ["not a uri", "/relative", "https://ok.example/x y", 'https://ok.example/a\b', "https://例え.jp/パス", "https://example.com/rule"]
tags = [` + strings.Join(tags, ", ") + `]
`
	rule, err := rules.Parse([]byte(toml), "limits.toml")
	if err != nil {
		t.Fatal(err)
	}
	var evidence []triage.Evidence
	for i := range 1500 {
		evidence = append(evidence, triage.Evidence{File: "audit.log", Line: int64(i + 1)})
	}
	f := &triage.Finding{ID: "0123456789abcdef", Rule: triage.RuleRef{ID: rule.ID, Name: rule.Name, Severity: "low"}, Kind: triage.KindEvent,
		Timestamp: "2026-11-20T10:00:00Z", Evidence: evidence[:1200], Context: evidence[1200:]}
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, &report.Result{Tool: report.Tool{Name: "k8sexec", Version: "test"}, Findings: []*triage.Finding{f}, Rules: []*rules.Rule{rule}}); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	run := doc["runs"].([]any)[0].(map[string]any)
	r := run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)[0].(map[string]any)
	if got := r["properties"].(map[string]any)["tags"].([]any); len(got) != report.MaxSARIFTags || got[0] != "security" {
		t.Errorf("%d tags, first %v: want %d, security first", len(got), got[0], report.MaxSARIFTags)
	}
	if r["helpUri"] != "https://example.com/rule" {
		t.Errorf("helpUri = %v, want the first absolute URI among the references", r["helpUri"])
	}
	if r["name"] != "日本語ルール" {
		t.Errorf("name = %v", r["name"])
	}
	full := r["fullDescription"].(map[string]any)["text"].(string)
	if n := utf8.RuneCountInString(full); n != 1024 || !strings.HasSuffix(full, "…") {
		t.Errorf("fullDescription of %d runes, want 1024 ending in …", n)
	}
	if help := r["help"].(map[string]any)["text"].(string); utf8.RuneCountInString(help) != 2000 {
		t.Errorf("help of %d runes, want the whole description", utf8.RuneCountInString(help))
	}
	res := run["results"].([]any)[0].(map[string]any)
	locs := len(res["locations"].([]any)) + len(res["relatedLocations"].([]any))
	if locs != report.MaxSARIFLocations || res["properties"].(map[string]any)["k8sexec/omittedLocations"] != float64(500) {
		t.Errorf("%d locations, omitted %v: want %d and 500", locs, res["properties"].(map[string]any)["k8sexec/omittedLocations"], report.MaxSARIFLocations)
	}
}
