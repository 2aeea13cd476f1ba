package rules

import "testing"

// TestGuardHoldsWhereTheNeedleMatches: wherever a needle matches with an
// anchor, that anchor's guard byte is there too (in either case for a
// folded value), so a search may skip a stop whose guard differs.
func TestGuardHoldsWhereTheNeedleMatches(t *testing.T) {
	needles := []Needle{
		{Text: "exec", Key: "subresource"},
		{Text: "attach", Key: "subresource"},
		{Text: "kubectl", Fold: true},
		{Text: "true", Key: "interactive", Bool: true},
		{Text: "x"},
		{Text: "sh", Fold: true, Key: "name"},
	}
	texts := []string{
		`{"objectRef":{"subresource":"exec"}}`,
		`{"subresource" : "attach"}`,
		`{"embedded":"{\"subresource\":\"exec\"}"}`,
		`{"userAgent":"KubeCTL/v1.31"}`,
		`{"process":{"interactive":true}}`,
		`{"process.interactive":"true"}`,
		`{"x":"x"}`,
		`{"name":"SH"}`,
	}
	matched := 0
	for _, n := range needles {
		for _, text := range texts {
			b := []byte(text)
			for _, a := range n.Anchors() {
				g, ok := n.Guard(a)
				for i := range b {
					if !a.InKey && n.Fold && b[i]|0x20 != a.Byte || (a.InKey || !n.Fold) && b[i] != a.Byte {
						continue
					}
					if !n.MatchAnchor(b, i, a) {
						continue
					}
					matched++
					if !ok {
						continue
					}
					if j := i + g.Off; j < 0 || j >= len(b) || b[j]|g.Mask != g.Byte {
						t.Errorf("%v matches %s with anchor %+v at %d, but its guard %+v does not hold", n, text, a, i, g)
					}
				}
			}
		}
	}
	if matched < len(needles) {
		t.Fatalf("only %d matches: the test checks nothing", matched)
	}
	if _, ok := (Needle{Text: "x"}).Guard(Anchor{Byte: 'x'}); ok {
		t.Error("a one-byte needle has no other byte to guard with")
	}
}

// TestASCIISetIsContainsRune: the one-pass set answers as ContainsRune does
// for every ASCII character: member names, folded and exact values, an
// upper-case byte in a folded value, bytes outside ASCII.
func TestASCIISetIsContainsRune(t *testing.T) {
	clauses := []Clause{
		{{Text: "exec", Key: "subresource"}},
		{{Text: "kubectl", Fold: true}, {Text: "/api/v1/Secrets?x=1"}},
		{{Text: "MiXed", Fold: true}, {Text: "héllo\\\"", Key: "n.a_me"}},
		{{Text: "true", Key: "interactive", Bool: true}, {Text: "impersonatedUser", Name: true}},
		{},
	}
	for _, c := range clauses {
		set := c.ASCIISet()
		for r := rune(0); r < 128; r++ {
			if got, want := set[r/64]&(1<<(r%64)) != 0, c.ContainsRune(r); got != want {
				t.Errorf("%v: %q in the set %v, ContainsRune %v", c, r, got, want)
			}
		}
	}
}
