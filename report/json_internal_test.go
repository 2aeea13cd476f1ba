package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// indentCases are JSON texts whose indenting has corners: empty and
// nested containers, escaped quotes and backslashes before a closing
// quote, punctuation inside strings, scalars in arrays.
var indentCases = []string{
	`{}`, `[]`, `{"a":{}}`, `[[]]`, `{"a":[]}`, `[{}]`, `"x"`, `1`, `null`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	`{"q":"say \"hi\"","b":"ends in a backslash\\","s":"\\\"","p":"{[,:]}"}`,
	`[1,[2,[3,[]]],{"k":[{"x":-1.5e3}]}]`,
	`{"u":"\u0022\u005c","a,b":":"}`,
}

// TestIndentCompactMatchesIndent: indentCompact formats compact JSON
// byte for byte as json.Indent does, with and without a prefix.
func TestIndentCompactMatchesIndent(t *testing.T) {
	for _, c := range indentCases {
		checkIndent(t, []byte(c))
	}
}

func checkIndent(t *testing.T, text []byte) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		return
	}
	for _, prefix := range []string{"", "    "} {
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), prefix, "  "); err != nil {
			t.Fatal(err)
		}
		if got := indentCompact(nil, compact.Bytes(), prefix, "  "); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("indentCompact(%q, prefix %q):\n%s\nwant\n%s", compact.Bytes(), prefix, got, want.Bytes())
		}
	}
}

// FuzzIndentCompact: any valid JSON, compacted, is indented as json.Indent
// indents it.
func FuzzIndentCompact(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkIndent(t, text)
	})
}
