package rules

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestIndexFold compares indexFold with a plain reference: lower-case the
// text's ASCII letters and search.
func TestIndexFold(t *testing.T) {
	reference := func(text []byte, needle string) int {
		return bytes.Index(bytes.ToLower(asciiOnly(text)), []byte(needle))
	}
	tests := []struct {
		text, needle string
	}{
		{"EXEC", "exec"},
		{"xxeXeC", "exec"},
		{"Exe exec", "exec"},
		{"exe EXEC", "exec"},
		{"exec", "exec"},
		{"exe", "exec"},
		{"", "e"},
		{"E", "e"},
		{"aE", "e"},
		{"/BIN/SH", "/bin/sh"},
		{"9a9A", "9a"},
		{"ééEXEC", "exec"},
	}
	for _, tt := range tests {
		got, want := indexLiteral([]byte(tt.text), tt.needle, true), reference([]byte(tt.text), tt.needle)
		if got != want {
			t.Errorf("indexLiteral(%q, %q) = %d, want %d", tt.text, tt.needle, got, want)
		}
	}

	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "abAB1 é"
	randomText := func(alphabet string, n int) []byte {
		var b []byte
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return b
	}
	for range 20000 {
		text := randomText(alphabet, rng.IntN(12))
		needle := string(bytes.ToLower(randomText("abAB1 ", 1+rng.IntN(3))))
		got, want := indexLiteral(text, needle, true), reference(text, needle)
		if got != want {
			t.Fatalf("indexLiteral(%q, %q) = %d, want %d", text, needle, got, want)
		}
	}
}

// asciiOnly replaces bytes outside ASCII with NUL, so bytes.ToLower cannot
// touch them (it decodes UTF-8) and they match no ASCII needle.
func asciiOnly(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x80 {
			c = 0
		}
		out[i] = c
	}
	return out
}

// TestIndexLiteralPlain: the rare-byte search finds the first occurrence,
// like bytes.Index, for random texts and needles.
func TestIndexLiteralPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	const alphabet = "exc\"/ab"
	for range 50000 {
		var text, needle []byte
		for range rng.IntN(20) {
			text = append(text, alphabet[rng.IntN(len(alphabet))])
		}
		for range 1 + rng.IntN(4) {
			needle = append(needle, alphabet[rng.IntN(len(alphabet))])
		}
		if got, want := indexLiteral(text, string(needle), false), bytes.Index(text, needle); got != want {
			t.Fatalf("indexLiteral(%q, %q) = %d, want %d", text, needle, got, want)
		}
	}
}

// memberReference is what a member needle must find, as a regular
// expression over the same text.
func memberReference(n Needle) *regexp.Regexp {
	key := regexp.QuoteMeta(n.Key)
	val := regexp.QuoteMeta(n.Text)
	if n.Fold {
		val = "(?i:" + val + ")"
	}
	v := `\\*"` + val + `\\*"`
	if n.Bool {
		v = `(?:` + v + `|` + val + `(?:[^a-zA-Z0-9_]|$))`
	}
	return regexp.MustCompile(key + `\\*"[ \t\r]*:[ \t\r]*(?:\[|` + v + `)`)
}

// TestMemberNeedle: a member needle matches every text a match of the
// reference pattern is in (it may match more: array elements anywhere),
// in compact, spaced, dotted, array and embedded (escaped) forms.
func TestMemberNeedle(t *testing.T) {
	exec := Needle{Text: "exec", Key: "subresource"}
	yes := []string{
		`{"subresource":"exec"}`,
		`{"objectRef.subresource" : "exec"}`,
		`{"subresource":["get","exec"]}`,
		`"{\"subresource\":\"exec\"}"`,
		`{"message":"{\\\"subresource\\\":\\\"exec\\\"}"}`,
		`["exec"]`, // an array element: cannot tell its member, so it may match
	}
	no := []string{
		`{"subresource":"exec2"}`,
		`{"subresource":"attach","verb":"exec"}`,
		`{"subresource":"execute"}`,
		`{"command":"exec"}`,
		`{"subresource":exec}`,
	}
	for _, s := range yes {
		if exec.Index([]byte(s)) < 0 {
			t.Errorf("%v should match %s", exec, s)
		}
	}
	for _, s := range no {
		if exec.Index([]byte(s)) >= 0 {
			t.Errorf("%v should not match %s", exec, s)
		}
	}
	tty := Needle{Text: "true", Key: "interactive", Bool: true}
	for s, want := range map[string]bool{
		`{"interactive":true}`: true, `{"interactive": "true"}`: true, `{"process.interactive":true,"x":1}`: true,
		`{"interactive":false}`: false, `{"interactive":trueish}`: false, `{"interactive":null,"b":true}`: false,
		`{"interactive":[false,true]}`: true,
	} {
		if got := tty.Index([]byte(s)) >= 0; got != want {
			t.Errorf("%v on %s = %v, want %v", tty, s, got, want)
		}
	}
	fold := Needle{Text: "container", Key: "type", Fold: true}
	if fold.Index([]byte(`{"entry_meta":{"type":"CONTAINER"}}`)) < 0 || fold.Index([]byte(`{"type":"init","name":"container"}`)) >= 0 {
		t.Errorf("%v folds the value only", fold)
	}

	// Random texts: whenever the reference matches, so does the needle.
	rng := rand.New(rand.NewPCG(9, 9))
	pieces := []string{`"`, `\`, `:`, ` `, `[`, `,`, `k`, `ey`, `key`, `v`, `val`, `V`, `true`, `x`}
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(14) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		for _, n := range []Needle{{Text: "val", Key: "key"}, {Text: "val", Key: "key", Fold: true}, {Text: "true", Key: "key", Bool: true}} {
			if memberReference(n).MatchString(text) && n.Index([]byte(text)) < 0 {
				t.Fatalf("%v misses %q", n, text)
			}
		}
	}
}
