package rules_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
)

// wildcardRegexp is the reference for ParseWildcard: `*` is any run of
// characters, `?` (when withOne) exactly one character, anything else
// literal, and the whole value must match.
func wildcardRegexp(pattern string, withOne bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch {
		case r == '*':
			b.WriteString(`.*`)
		case r == '?' && withOne:
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func checkPattern(t *testing.T, pattern, s string, withOne bool) {
	t.Helper()
	got := rules.ParseWildcard(pattern, withOne).Match(s)
	want := wildcardRegexp(pattern, withOne).MatchString(s)
	if got != want {
		t.Errorf("ParseWildcard(%q, %v).Match(%q) = %v, want %v", pattern, withOne, s, got, want)
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		withOne    bool
		want       bool
	}{
		{"", "", true, true},
		{"", "a", true, false},
		{"*", "", true, true},
		{"*", "anything", true, true},
		{"**", "x", true, true},
		{"abc", "abc", true, true},
		{"abc", "abcd", true, false},
		{"a*", "a", true, true},
		{"a*", "ba", true, false},
		{"*a", "ba", true, true},
		{"*a", "ab", true, false},
		{"*b*", "abc", true, true},
		{"*b*", "ac", true, false},
		{"a*b*c", "aXbYc", true, true},
		{"a*b*c", "abc", true, true},
		{"a*b*c", "acb", true, false},
		{"a*b*c", "aXbYcZ", true, false},
		{"*ab*abc", "xabyababc", true, true},
		{"*aab", "aaab", true, true},
		{"a?c", "abc", true, true},
		{"a?c", "ac", true, false},
		{"a?c", "abbc", true, false},
		{"a?c", "a?c", false, true},
		{"a?c", "abc", false, false},
		{"a?c", "aéc", true, true},
		{"a?c", "a😀c", true, true},
		{"??", "é", true, false},
		{"?*?", "ab", true, true},
		{"?*?", "a", true, false},
		{"*?", "", true, false},
		{"é*", "été", true, true},
		{"*😀", "x😀", true, true},
	}
	for _, tt := range tests {
		got := rules.ParseWildcard(tt.pattern, tt.withOne).Match(tt.s)
		if got != tt.want {
			t.Errorf("ParseWildcard(%q, %v).Match(%q) = %v, want %v", tt.pattern, tt.withOne, tt.s, got, tt.want)
		}
		checkPattern(t, tt.pattern, tt.s, tt.withOne)
	}
}

// TestPatternMatchReference compares the matcher with the regexp reference
// over random patterns and strings from a small alphabet, where matches
// and near misses are frequent.
func TestPatternMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	patternRunes := []rune{'a', 'b', 'a', 'b', '*', '*', '?', 'é', '😀'}
	stringRunes := []rune{'a', 'b', 'a', 'b', 'é', '😀', '*', '?'}
	random := func(runes []rune, n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		return b.String()
	}
	matches := 0
	for range 30000 {
		pattern := random(patternRunes, rng.IntN(8))
		s := random(stringRunes, rng.IntN(10))
		withOne := rng.IntN(3) != 0
		if wildcardRegexp(pattern, withOne).MatchString(s) {
			matches++
		}
		checkPattern(t, pattern, s, withOne)
		if t.Failed() {
			return
		}
	}
	if matches < 1000 {
		t.Fatalf("only %d matching pairs; the generator does not exercise matches", matches)
	}
}

// TestPatternMatchLongSegments compares with the reference on patterns
// whose runs between stars are longer than one word of the bit-parallel
// matcher (64 runes) and than the ones it keeps on the stack (256).
func TestPatternMatchLongSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 300 {
		n := []int{63, 64, 65, 128, 255, 256, 257, 300}[rng.IntN(8)]
		var seg strings.Builder
		for range n {
			switch rng.IntN(6) {
			case 0:
				seg.WriteRune('?')
			case 1:
				seg.WriteRune('é')
			default:
				seg.WriteRune(rune('a' + rng.IntN(2)))
			}
		}
		// A value that holds the segment, with its ? filled in, or
		// almost: one rune changed.
		var val strings.Builder
		for _, r := range seg.String() {
			if r == '?' {
				r = []rune{'a', 'b', '😀'}[rng.IntN(3)]
			}
			val.WriteRune(r)
		}
		hit := val.String()
		if rng.IntN(2) == 0 {
			runes := []rune(hit)
			runes[rng.IntN(len(runes))] = 'z'
			hit = string(runes)
		}
		s := strings.Repeat("ab", rng.IntN(40)) + hit + strings.Repeat("é", rng.IntN(40))
		for _, pattern := range []string{seg.String(), "*" + seg.String(), seg.String() + "*", "*" + seg.String() + "*", "*a*" + seg.String() + "*b", "a*" + seg.String()} {
			checkPattern(t, pattern, s, true)
		}
		if t.Failed() {
			return
		}
	}
}

// TestPatternMatchHostile runs patterns that make a backtracking
// matcher take time in the product of the lengths (BenchmarkPatternHostile
// measures it); the answers must still be right.
func TestPatternMatchHostile(t *testing.T) {
	s := strings.Repeat("a", 100_000)
	tests := []struct {
		pattern string
		want    bool
	}{
		{"*" + strings.Repeat("a?", 500) + "b*", false},
		{"*" + strings.Repeat("a", 1000) + "b*", false},
		{"*" + strings.Repeat("a*", 500) + "b", false},
		{"*" + strings.Repeat("a?", 500) + "*", true},
		{strings.Repeat("?", 99_999) + "*a", true},
		{strings.Repeat("?", 100_001), false},
	}
	for _, tt := range tests {
		if got := rules.ParseWildcard(tt.pattern, true).Match(s); got != tt.want {
			t.Errorf("pattern of %d bytes on %d a's = %v, want %v", len(tt.pattern), len(s), got, tt.want)
		}
	}
}

func BenchmarkPatternHostile(b *testing.B) {
	s := strings.Repeat("a", 1<<20)
	for _, bc := range []struct{ name, pattern string }{
		{"question-marks", "*" + strings.Repeat("a?", 1000) + "b*"},
		{"literal", "*" + strings.Repeat("a", 2000) + "b*"},
		{"stars", "*" + strings.Repeat("a*", 1000) + "b"},
	} {
		p := rules.ParseWildcard(bc.pattern, true)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				if p.Match(s) {
					b.Fatal("matched")
				}
			}
		})
	}
}

func TestPatternAccessors(t *testing.T) {
	tests := []struct {
		pattern     string
		withOne     bool
		hasWildcard bool
		literals    []string
		str         string
	}{
		{"abc", true, false, []string{"abc"}, `"abc"`},
		{"", true, false, nil, `""`},
		{"a*b?c", true, true, []string{"a", "b", "c"}, `"a*b?c"`},
		{"a*b?c", false, true, []string{"a", "b?c"}, `"a*b\?c"`},
		{"**x**", true, true, []string{"x"}, `"*x*"`},
		{`a"\b`, true, false, []string{`a"\b`}, `"a\"\\b"`},
	}
	for _, tt := range tests {
		p := rules.ParseWildcard(tt.pattern, tt.withOne)
		if p.HasWildcard() != tt.hasWildcard {
			t.Errorf("ParseWildcard(%q).HasWildcard() = %v", tt.pattern, p.HasWildcard())
		}
		got := p.Literals()
		if strings.Join(got, "\x00") != strings.Join(tt.literals, "\x00") || len(got) != len(tt.literals) {
			t.Errorf("ParseWildcard(%q).Literals() = %q, want %q", tt.pattern, got, tt.literals)
		}
		if p.String() != tt.str {
			t.Errorf("ParseWildcard(%q).String() = %s, want %s", tt.pattern, p.String(), tt.str)
		}
	}
}

// TestKQLPattern checks the patterns the KQL parser builds, where an
// escaped star and a question mark are literal characters.
func TestKQLPattern(t *testing.T) {
	tests := []struct {
		value, s string // unquoted KQL value, event value
		want     bool
	}{
		{`a\*b*`, "a*bc", true},
		{`a\*b*`, "axbc", false},
		{`*\**`, "x*y", true},
		{`*\**`, "xy", false},
		{`a?b*`, "a?bc", true},
		{`a?b*`, "axbc", false},
	}
	for _, tt := range tests {
		e, err := rules.ParseKQL("f:" + tt.value)
		if err != nil {
			t.Fatalf("ParseKQL(f:%s): %v", tt.value, err)
		}
		pred, ok := e.(*rules.Pred)
		if !ok || pred.Op != rules.OpWildcard || len(pred.Patterns) != 1 {
			t.Fatalf("ParseKQL(f:%s) = %s, want one wildcard pattern", tt.value, e)
		}
		if got := pred.Patterns[0].Match(tt.s); got != tt.want {
			t.Errorf("f:%s on %q = %v, want %v", tt.value, tt.s, got, tt.want)
		}
	}
}

// validPatternInput reports whether fuzz input can be compared with the
// regexp reference, which needs valid UTF-8.
func validPatternInput(pattern, s string) bool {
	return utf8.ValidString(pattern) && utf8.ValidString(s) && len(pattern) <= 512 && len(s) <= 1024
}

// A byte that is no UTF-8 in a value is matched by `?` (one character)
// but never by a literal, not even U+FFFD, wherever the pattern's run
// is matched (at the start, by search, at the end).
func TestPatternInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*\uFFFD?", "\xffx", false},
		{"\uFFFD?*", "\xffx", false},
		{"*\uFFFD*", "\xffx", false},
		{"*?x", "\xffx", true},
		{"?x*", "\xffx", true},
		{"*a?b*", "a\xffb", true},
		{"*a\uFFFDb*", "a\xffb", false},
		{"*a\uFFFDb?*", "a\uFFFDbc", true},
	} {
		if got := rules.ParseWildcard(tc.pattern, true).Match(tc.s); got != tc.want {
			t.Errorf("ParseWildcard(%q).Match(%q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
