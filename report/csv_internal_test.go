package report

import "testing"

// A cell a spreadsheet would evaluate gets an apostrophe, whatever spaces
// (tabs and line breaks, once cleaned) come first, and in full-width form
// too; a lone sign and ordinary text are left alone.
func TestDefuseFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":          "'=1+1",
		"+cmd":          "'+cmd",
		"-2+3":          "'-2+3",
		"@SUM(A1)":      "'@SUM(A1)",
		"  =1+1":        "'  =1+1",
		Clean("\t=1"):   "' =1",
		Clean("\r\n@x"): "'  @x",
		"＝1+1":          "'＝1+1",
		"＋1":            "'＋1",
		"\u00a0=1+2":    "'\u00a0=1+2",
		"\u3000@x":      "'\u3000@x",
		"\u2003-1+1":    "'\u2003-1+1",
		"-":             "-",
		"=":             "=",
		"   ":           "   ",
		"alice":         "alice",
		"a=b":           "a=b",
		"":              "",
	} {
		if got := defuseFormula(in); got != want {
			t.Errorf("defuseFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
