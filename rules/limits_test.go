package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// Brackets count only outside strings and comments, and only past
// MaxTOMLDepth is a file refused, naming the line.
func TestCheckTOMLNesting(t *testing.T) {
	deep := func(n int) string { return "a = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n" }
	inline := func(n int) string { return "a = " + strings.Repeat("{b = ", n) + "1" + strings.Repeat("}", n) + "\n" }
	for _, tc := range []struct {
		name, text string
		wantLine   string // "" when the text passes
	}{
		{"flat", "[rule]\nname = \"x\"\ntags = [\"a\", \"b\"]\n[[rule.threat]]\n", ""},
		{"at the limit", deep(rules.MaxTOMLDepth), ""},
		{"inline tables at the limit", inline(rules.MaxTOMLDepth), ""},
		{"one past", deep(rules.MaxTOMLDepth + 1), "line 1:"},
		{"inline tables one past", "# x\n\n" + inline(rules.MaxTOMLDepth+1), "line 3:"},
		{"in a basic string", `a = "` + strings.Repeat("[", 100) + `"` + "\n", ""},
		{"in a literal string", `a = '` + strings.Repeat("{", 100) + `'` + "\n", ""},
		{"escaped quote in a string", `a = "\"` + strings.Repeat("[", 100) + `"` + "\n", ""},
		{"multi-line strings", "a = '''\n" + strings.Repeat("[", 100) + "\n'''\nb = \"\"\"\n" + strings.Repeat("{", 100) + "\"\"\"\"\n", ""},
		{"in a comment", "# " + strings.Repeat("[", 100) + "\na = 1\n", ""},
		{"after a multi-line string", "a = '''\n\n'''\n" + deep(rules.MaxTOMLDepth+1), "line 4:"},
		{"after an escaped line break", "a = \"\"\"x\\\ny\"\"\"\n" + deep(rules.MaxTOMLDepth+1), "line 3:"},
	} {
		err := rules.CheckTOMLNesting([]byte(tc.text))
		switch {
		case tc.wantLine == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantLine != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantLine)):
			t.Errorf("%s: error %v, want one at %q", tc.name, err, tc.wantLine)
		}
	}
}

// A rule file over MaxRuleFile is refused without being read whole.
func TestRuleFileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	ok := "[rule]\nrule_id = \"r\"\nname = \"r\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'a:1'\n"
	big := ok + "# " + strings.Repeat("x", rules.MaxRuleFile) + "\n"
	for name, text := range map[string]string{"ok.toml": ok, "big.toml": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	results, err := rules.LoadPath(dir)
	if err != nil || len(results) != 2 {
		t.Fatalf("%v %v", results, err)
	}
	for _, r := range results {
		big := strings.HasSuffix(r.Path, "big.toml")
		if big != (r.Err != nil) || big && !strings.Contains(r.Err.Error(), "larger than 1024 KiB") {
			t.Errorf("%s: %v", r.Path, r.Err)
		}
	}
}
