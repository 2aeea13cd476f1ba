package rules_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

const validRuleTOML = `
[metadata]
creation_date = "2024/01/01"

[rule]
author = ["Elastic"]
rule_id = "00000000-0000-0000-0000-000000000001"
name = "Shell in a pod"
description = "A shell started."
severity = "High"
risk_score = 73
type = "eql"
language = "eql"
query = '''
process where process.name : ("sh", "bash")
'''
tags = ["Domain: Container"]
references = ["https://example.com/a"]

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1059"
name = "Command and Scripting Interpreter"
reference = "https://attack.mitre.org/techniques/T1059/"

[[rule.threat.technique.subtechnique]]
id = "T1059.004"
name = "Unix Shell"
reference = "https://attack.mitre.org/techniques/T1059/004/"

[[rule.threat.technique]]
id = "T1059"
name = "Command and Scripting Interpreter (again)"

[rule.threat.tactic]
id = "TA0002"
name = "Execution"
reference = "https://attack.mitre.org/tactics/TA0002/"
`

func TestParseRule(t *testing.T) {
	r, err := rules.Parse([]byte(validRuleTOML), "rules/shell.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if r.ID != "00000000-0000-0000-0000-000000000001" || r.Name != "Shell in a pod" || r.Description != "A shell started." {
		t.Errorf("identity: %+v", r)
	}
	if r.Severity != "high" {
		t.Errorf("Severity = %q, want high (lower-cased)", r.Severity)
	}
	if r.RiskScore != 73 || r.Language != "eql" || r.Type != "eql" {
		t.Errorf("RiskScore %d Language %q Type %q", r.RiskScore, r.Language, r.Type)
	}
	if r.Query != `process where process.name : ("sh", "bash")` {
		t.Errorf("Query = %q, want it trimmed", r.Query)
	}
	if r.Origin != "elastic" || r.Source != "rules/shell.toml" || r.Builtin() || r.NoteTemplate {
		t.Errorf("Origin %q Source %q Builtin %v NoteTemplate %v", r.Origin, r.Source, r.Builtin(), r.NoteTemplate)
	}
	if want := []string{"TA0002", "T1059", "T1059.004"}; !reflect.DeepEqual(r.AttackIDs(), want) {
		t.Errorf("AttackIDs = %v, want %v", r.AttackIDs(), want)
	}
	if len(r.Threat) != 1 || len(r.Threat[0].Techniques) != 2 || r.Threat[0].Techniques[0].Subtechniques[0].Name != "Unix Shell" {
		t.Errorf("Threat = %+v", r.Threat)
	}
	if r.Expr == nil || r.Matcher == nil {
		t.Fatal("rule is not compiled")
	}
	if !r.Matches(adapt(`{"event":{"category":"process"},"process":{"name":"BASH"}}`)) {
		t.Error("rule does not match a bash process")
	}
	if r.Matches(adapt(`{"event":{"category":"process"},"process":{"name":"zsh"}}`)) {
		t.Error("rule matches a zsh process")
	}
}

func TestParseRuleOrigin(t *testing.T) {
	tests := []struct {
		name, extra, author, want string
	}{
		{"elastic author", "", `["Elastic"]`, "elastic"},
		{"elastic author any case", "", `["someone", "elastic"]`, "elastic"},
		{"other author", "", `["ACME SecOps"]`, "user"},
		{"no author", "", `[]`, "user"},
		{"explicit origin", "[k8sexec]\norigin = \"k8sexec\"\nnote_format = \"template\"\n", `["Elastic"]`, "k8sexec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.extra + `
[rule]
author = ` + tt.author + `
rule_id = "r1"
name = "n"
severity = "low"
type = "query"
language = "kuery"
query = "a:b"
`
			r, err := rules.Parse([]byte(src), "x.toml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r.Origin != tt.want {
				t.Errorf("Origin = %q, want %q", r.Origin, tt.want)
			}
			if r.NoteTemplate != (tt.extra != "") {
				t.Errorf("NoteTemplate = %v", r.NoteTemplate)
			}
		})
	}
}

// A rule without a language takes Kibana's default for its type, and one
// without a risk score the score Kibana suggests for its severity.
func TestParseRuleDefaults(t *testing.T) {
	for _, tc := range []struct {
		src, language string
		risk          int
	}{
		{"[rule]\nrule_id = \"r\"\nname = \"n\"\nseverity = \"high\"\ntype = \"query\"\nquery = \"a:b\"\n", "kuery", 73},
		{"[rule]\nrule_id = \"r\"\nname = \"n\"\nseverity = \"Low\"\ntype = \"eql\"\nquery = \"any where a == 1\"\n", "eql", 21},
		{"[rule]\nrule_id = \"r\"\nname = \"n\"\nseverity = \"medium\"\nrisk_score = 0\ntype = \"query\"\nquery = \"a:b\"\n", "kuery", 0},
	} {
		r, err := rules.Parse([]byte(tc.src), "r.toml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if r.Language != tc.language || r.RiskScore != tc.risk {
			t.Errorf("Parse(%q): language %q, risk %d; want %q, %d", tc.src, r.Language, r.RiskScore, tc.language, tc.risk)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	base := map[string]string{
		"rule_id":  `"r1"`,
		"name":     `"A rule"`,
		"severity": `"medium"`,
		"type":     `"query"`,
		"language": `"kuery"`,
		"query":    `"a:b"`,
	}
	build := func(changes map[string]string) string {
		var b strings.Builder
		b.WriteString("[rule]\n")
		for _, k := range []string{"rule_id", "name", "severity", "risk_score", "type", "language", "query"} {
			v, ok := changes[k]
			if !ok {
				v = base[k]
			}
			if v != "" {
				b.WriteString(k + " = " + v + "\n")
			}
		}
		return b.String()
	}
	tests := []struct {
		name        string
		changes     map[string]string
		unsupported bool
		reason      string // substring of the error, or of the Reason for unsupported rules
	}{
		{"missing rule_id", map[string]string{"rule_id": ""}, false, "no rule_id"},
		{"blank rule_id", map[string]string{"rule_id": `"  "`}, false, "no rule_id"},
		{"missing name", map[string]string{"name": ""}, false, "no name"},
		{"unknown severity", map[string]string{"severity": `"urgent"`}, false, `unknown severity "urgent"`},
		{"missing severity", map[string]string{"severity": ""}, false, "has no severity"},
		{"risk_score above 100", map[string]string{"risk_score": "999"}, false, "risk_score 999; it must be from 0 to 100"},
		{"negative risk_score", map[string]string{"risk_score": "-1"}, false, "risk_score -1"},
		{"KQL syntax error", map[string]string{"query": `"a:(b"`}, false, "kql syntax error"},
		{"EQL syntax error", map[string]string{"type": `"eql"`, "language": `"eql"`, "query": `"any where a = 1"`}, false, "eql syntax error"},
		{"new_terms", map[string]string{"type": `"new_terms"`}, true, "new_terms"},
		{"threshold", map[string]string{"type": `"threshold"`}, true, "threshold"},
		{"threat_match", map[string]string{"type": `"threat_match"`}, true, "threat_match"},
		{"esql type", map[string]string{"type": `"esql"`, "language": `"esql"`, "query": `"FROM logs-* | LIMIT 1"`}, true, "esql"},
		{"machine learning without query", map[string]string{"type": `"machine_learning"`, "query": ""}, true, "machine_learning rule"},
		{"saved query without query", map[string]string{"type": `"saved_query"`, "query": ""}, true, "saved_query rule"},
		// A rule type that needs a query, without one, is a broken file.
		{"query rule without query", map[string]string{"query": ""}, false, `(type "query") has no query`},
		{"lucene", map[string]string{"language": `"lucene"`}, true, "Lucene"},
		// A typo is a broken file, not a rule k8sexec cannot run.
		{"unknown language", map[string]string{"language": `"sql"`}, false, `unknown query language "sql"`},
		{"EQL sequence", map[string]string{"type": `"eql"`, "language": `"eql"`, "query": `"sequence [process where true] [network where true]"`}, true, "sequence"},
		{"KQL free text", map[string]string{"query": `"hello"`}, true, "free-text"},
		{"EQL regex class", map[string]string{"type": `"eql"`, "language": `"eql"`, "query": `'any where a regex "\\d+"'`}, true, `\d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := build(tt.changes)
			r, err := rules.Parse([]byte(src), "dir/rule.toml")
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", src, r)
			}
			if r != nil {
				t.Errorf("Parse returned a rule beside error %v", err)
			}
			if !strings.Contains(err.Error(), "dir/rule.toml") {
				t.Errorf("error %q does not name the file", err)
			}
			if got := rules.IsUnsupported(err); got != tt.unsupported {
				t.Fatalf("IsUnsupported(%v) = %v, want %v", err, got, tt.unsupported)
			}
			res := rules.LoadResult{Path: "dir/rule.toml", Err: err}
			if res.Skipped() != tt.unsupported {
				t.Errorf("Skipped() = %v, want %v", res.Skipped(), tt.unsupported)
			}
			text := err.Error()
			if tt.unsupported {
				var ue *rules.UnsupportedError
				if !errors.As(err, &ue) || ue.Reason == "" {
					t.Fatalf("no UnsupportedError reason in %v", err)
				}
				text = res.Reason()
				if text != ue.Reason {
					t.Errorf("Reason() = %q, want %q", text, ue.Reason)
				}
			}
			if !strings.Contains(text, tt.reason) {
				t.Errorf("%q does not mention %q", text, tt.reason)
			}
		})
	}

	if _, err := rules.Parse([]byte("[rule\nname = "), "broken.toml"); err == nil || rules.IsUnsupported(err) || !strings.Contains(err.Error(), "broken.toml") {
		t.Errorf("invalid TOML: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ruleTOML(id, name, query string) string {
	return "[rule]\nrule_id = \"" + id + "\"\nname = \"" + name + "\"\nseverity = \"low\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '''" + query + "'''\n"
}

func TestLoadPath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b_good.toml"), ruleTOML("b", "B", "a:b"))
	writeFile(t, filepath.Join(dir, "a_broken.toml"), "[rule\nthis is not toml")
	writeFile(t, filepath.Join(dir, "sub", "c_new_terms.toml"), strings.Replace(ruleTOML("c", "C", "a:b"), `type = "query"`, `type = "new_terms"`, 1))
	writeFile(t, filepath.Join(dir, "d_syntax.toml"), ruleTOML("d", "D", "a:(b"))
	writeFile(t, filepath.Join(dir, "README.md"), "not a rule")
	writeFile(t, filepath.Join(dir, "e.toml.bak"), "not a rule")

	results, err := rules.LoadPath(dir)
	if err != nil {
		t.Fatalf("LoadPath: %v", err)
	}
	var names []string
	for _, r := range results {
		names = append(names, strings.TrimPrefix(filepath.ToSlash(r.Path), filepath.ToSlash(dir)+"/"))
	}
	if want := []string{"a_broken.toml", "b_good.toml", "d_syntax.toml", "sub/c_new_terms.toml"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("loaded %v, want %v", names, want)
	}
	broken, good, syntax, newTerms := results[0], results[1], results[2], results[3]
	if broken.Err == nil || broken.Skipped() || broken.Rule != nil || broken.Reason() == "" {
		t.Errorf("broken file: %+v", broken)
	}
	if good.Err != nil || good.Rule == nil || good.Rule.ID != "b" || good.Skipped() || good.Reason() != "" {
		t.Errorf("good file: %+v", good)
	}
	if good.Rule != nil && good.Rule.Source != good.Path {
		t.Errorf("Source = %q, want %q", good.Rule.Source, good.Path)
	}
	var se *rules.SyntaxError
	if syntax.Err == nil || syntax.Skipped() || !errors.As(syntax.Err, &se) || se.Offset != 4 {
		t.Errorf("syntax error file: %+v", syntax)
	}
	if !newTerms.Skipped() || !strings.Contains(newTerms.Reason(), "new_terms") || newTerms.Rule != nil {
		t.Errorf("new_terms file: %+v, reason %q", newTerms, newTerms.Reason())
	}

	// A single file.
	one, err := rules.LoadPath(filepath.Join(dir, "b_good.toml"))
	if err != nil || len(one) != 1 || one[0].Rule == nil {
		t.Errorf("LoadPath(file) = %+v, %v", one, err)
	}
	// A single file is loaded whatever its name.
	other, err := rules.LoadPath(filepath.Join(dir, "README.md"))
	if err != nil || len(other) != 1 || other[0].Err == nil {
		t.Errorf("LoadPath(README.md) = %+v, %v", other, err)
	}
	// Only an unreadable path is an error.
	if _, err := rules.LoadPath(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadPath(missing) succeeded")
	}
	empty, err := rules.LoadPath(t.TempDir())
	if err != nil || len(empty) != 0 {
		t.Errorf("LoadPath(empty dir) = %+v, %v", empty, err)
	}
}

// Elastic's repository keeps retired rules, with successors, in
// rules/_deprecated: a folder load skips them, saying why, and a file
// named on its own still loads.
func TestLoadPathDeprecated(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ file, maturity string }{
		{"a.toml", "production"}, {"b.toml", `Deprecated`}, {"c.toml", "development"},
	} {
		id := strings.TrimSuffix(tt.file, ".toml")
		writeFile(t, filepath.Join(dir, "_deprecated", tt.file), "[metadata]\nmaturity = \""+tt.maturity+"\"\n"+ruleTOML(id, strings.ToUpper(id), "a:b"))
	}
	results, err := rules.LoadPath(dir)
	if err != nil || len(results) != 3 {
		t.Fatalf("LoadPath = %+v, %v", results, err)
	}
	for i, want := range []string{"production", "deprecated", "development"} {
		r := results[i]
		if deprecated := want == "deprecated"; r.Skipped() != deprecated || (r.Rule == nil) != deprecated {
			t.Errorf("%s: %+v", r.Path, r)
		} else if r.Rule != nil && r.Rule.Maturity != want {
			t.Errorf("%s: Maturity = %q, want %q", r.Path, r.Rule.Maturity, want)
		}
	}
	if reason := results[1].Reason(); !strings.Contains(reason, "deprecated") || !strings.Contains(reason, "--rules") {
		t.Errorf("reason %q should say the rule is deprecated and how to run it", reason)
	}
	if err := results[1].Err; err == nil || !strings.Contains(err.Error(), "rule b (B)") {
		t.Errorf("error %v should name the rule", err)
	}
	one, err := rules.LoadPath(filepath.Join(dir, "_deprecated", "b.toml"))
	if err != nil || len(one) != 1 || one[0].Rule == nil || one[0].Rule.Maturity != "deprecated" {
		t.Errorf("LoadPath(deprecated file) = %+v, %v", one, err)
	}
	// A folder named through a symlink is read, its files named through it.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(dir, "_deprecated"), link); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	linked, err := rules.LoadPath(link)
	if err != nil || len(linked) != 3 || linked[0].Path != filepath.Join(link, "a.toml") || linked[0].Rule == nil {
		t.Errorf("LoadPath(symlink to a folder) = %+v, %v", linked, err)
	}
}

func TestNewSet(t *testing.T) {
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	mustParse := func(id, name, source string) *rules.Rule {
		r, err := rules.Parse([]byte(ruleTOML(id, name, "a:b")), source)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	replacement := mustParse(ruleExecIntoPod, "My exec rule", "mine/exec.toml")
	extra := mustParse("extra-1", "Extra", "mine/extra.toml")

	s, err := rules.NewSet(builtin, []*rules.Rule{extra, replacement})
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	var ids []string
	for _, r := range s.Rules {
		ids = append(ids, r.ID)
	}
	// The replacement takes the built-in's place; new rules follow.
	if want := []string{ruleInteractiveExec, ruleExecIntoPod, ruleEphemeral, ruleExecDenied, ruleAttach, ruleExecWebSocket, "extra-1"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("rule IDs = %v, want %v", ids, want)
	}
	if s.ByID(ruleExecIntoPod) != replacement {
		t.Errorf("ByID(%s) is not the replacement", ruleExecIntoPod)
	}
	if s.ByID("nope") != nil {
		t.Error("ByID(nope) found a rule")
	}
	want := []string{ruleExecIntoPod + " (Kubernetes User Exec into Pod) by mine/exec.toml"}
	if !reflect.DeepEqual(s.Replaced(), want) {
		t.Errorf("Replaced = %q, want %q", s.Replaced(), want)
	}

	// Filtering keeps a replacement listed while it runs, and drops it
	// with the rule: --only-rule for another rule runs neither version.
	s.Filter(func(r *rules.Rule) bool { return r.ID != "extra-1" })
	if !reflect.DeepEqual(s.Replaced(), want) {
		t.Errorf("after filtering out another rule, Replaced = %q, want %q", s.Replaced(), want)
	}
	s.Filter(func(r *rules.Rule) bool { return r.ID != ruleExecIntoPod })
	if len(s.Replaced()) != 0 {
		t.Errorf("after filtering out the replacement, Replaced = %q, want none", s.Replaced())
	}

	// Two loaded rules with one rule_id are an error naming both files.
	dup := mustParse("extra-1", "Extra again", "mine/extra2.toml")
	if _, err := rules.NewSet(builtin, []*rules.Rule{extra, dup}); err == nil ||
		!strings.Contains(err.Error(), "mine/extra.toml") || !strings.Contains(err.Error(), "mine/extra2.toml") {
		t.Errorf("duplicate rule_id: %v", err)
	}
	dupBuiltin := mustParse(ruleExecIntoPod, "Again", "mine/exec2.toml")
	if _, err := rules.NewSet(builtin, []*rules.Rule{replacement, dupBuiltin}); err == nil {
		t.Error("two replacements of one built-in rule: no error")
	}

	// Without loaded rules the set is the built-in rules.
	plain, err := rules.NewSet(builtin, nil)
	if err != nil || len(plain.Rules) != len(builtin) || len(plain.Replaced()) != 0 {
		t.Errorf("NewSet(builtin, nil) = %+v, %v", plain, err)
	}
	plain.Filter(func(r *rules.Rule) bool { return r.Language == "eql" })
	if len(plain.Rules) != 1 || plain.Rules[0].ID != ruleInteractiveExec {
		t.Errorf("Filter kept %d rules", len(plain.Rules))
	}
}

func TestSeverityRank(t *testing.T) {
	tests := map[string]int{"low": 1, "medium": 2, "High": 3, "CRITICAL": 4, "": 0, "urgent": 0, " low": 0}
	for sev, want := range tests {
		if got := rules.SeverityRank(sev); got != want {
			t.Errorf("SeverityRank(%q) = %d, want %d", sev, got, want)
		}
	}
}

// A syntax error in a rule file's query of several lines names the file's
// line and the query's line and column, not only an offset.
func TestSyntaxErrorPlace(t *testing.T) {
	file := "[rule]\nrule_id = \"x\"\nname = \"X\"\nseverity = \"low\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '''\nuser.name:alice and\n  (kubernetes.audit.verb:get or\n'''\n"
	_, err := rules.Parse([]byte(file), "bad.toml")
	var se *rules.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Column != 32 {
		t.Fatalf("err %v (%+v), want line 2, column 32 of the query", err, se)
	}
	if want := "bad.toml:9: rule x (X): kql syntax error at line 2, column 32 of the query (offset 51): "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err %q, want it to start %q", err, want)
	}
	// A one-line query keeps the offset alone.
	_, err = rules.Parse([]byte(strings.Replace(file, "'''\nuser.name:alice and\n  (kubernetes.audit.verb:get or\n'''", `"a:(b"`, 1)), "bad.toml")
	if err == nil || !strings.Contains(err.Error(), "bad.toml:7: rule x (X): kql syntax error at offset 4: ") {
		t.Errorf("err %v", err)
	}
}

// A Loader reads each file once however many paths reach it, and a file
// named on its own where it is named.
func TestLoader(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sub", "a.toml"), ruleTOML("a", "A", "x:1"))
	writeFile(t, filepath.Join(dir, "sub", "old.toml"), "[metadata]\nmaturity = \"deprecated\"\n"+ruleTOML("old", "Old", "x:1"))
	old := filepath.Join(dir, "sub", "old.toml")
	l := rules.NewLoader([]string{dir, filepath.Join(dir, "sub"), old})
	var got []string
	for _, p := range []string{dir, filepath.Join(dir, "sub"), old} {
		results, err := l.Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		for _, r := range results {
			got = append(got, fmt.Sprintf("%s:%v", filepath.Base(r.Path), r.Rule != nil))
		}
	}
	// The folder gives a.toml; the subfolder nothing new; old.toml, named,
	// loads where it is named though its folder would skip it.
	if want := []string{"a.toml:true", "old.toml:true"}; !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %v, want %v", got, want)
	}
	if _, err := rules.NewLoader(nil).Load(t.TempDir()); !errors.Is(err, rules.ErrNoRuleFiles) {
		t.Errorf("an empty folder: %v", err)
	}
}

// The [k8sexec] table is ours: a key or value it does not know is an
// error, not ignored. Elastic's tables keep their unknown keys.
func TestK8sexecTableChecked(t *testing.T) {
	base := "[rule]\nrule_id = \"r\"\nname = \"n\"\nseverity = \"low\"\ntype = \"query\"\nquery = \"a:b\"\nfrom = \"now-6m\"\n"
	for table, want := range map[string]string{
		"[k8sexec]\nfoo = \"x\"\n":                "unknown key foo in [k8sexec]",
		"[k8sexec]\norigin = \"bogus\"\n":         `origin "bogus"`,
		"[k8sexec]\nnote_format = \"markdown\"\n": `note_format "markdown"`,
	} {
		if _, err := rules.Parse([]byte(base+table), "r.toml"); err == nil || !strings.Contains(err.Error(), want) || rules.IsUnsupported(err) {
			t.Errorf("%q: error %v, want one mentioning %q", table, err, want)
		}
	}
	for _, table := range []string{"", "[k8sexec]\norigin = \"user\"\nnote_format = \"template\"\n", "[metadata]\nmaturity = \"production\"\nwhatever = 1\n"} {
		if _, err := rules.Parse([]byte(base+table), "r.toml"); err != nil {
			t.Errorf("%q: %v", table, err)
		}
	}
}
