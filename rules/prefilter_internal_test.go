package rules

import (
	"bytes"
	"math/rand/v2"
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
		got, want := indexFold([]byte(tt.text), tt.needle), reference([]byte(tt.text), tt.needle)
		if got != want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tt.text, tt.needle, got, want)
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
		got, want := indexFold(text, needle), reference(text, needle)
		if got != want {
			t.Fatalf("indexFold(%q, %q) = %d, want %d", text, needle, got, want)
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
