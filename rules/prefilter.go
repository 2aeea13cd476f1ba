package rules

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Needle is a literal that must appear in an event's raw JSON text for some
// condition to hold. Fold needles are lower-case ASCII and match in any case.
type Needle struct {
	Text string
	Fold bool
}

// Clause is satisfied by a text containing any of its needles.
type Clause []Needle

// Requirement is a conjunction of clauses: a document can match the query
// only if its raw text satisfies every clause. An empty Requirement demands
// nothing, so every line must be parsed.
type Requirement []Clause

// RequirementOf derives the literals a query needs. synthesized reports the
// fields an input adapter may fill with values that are not in the raw text
// (for example event.dataset on raw audit events); conditions on them give
// no literal.
//
// The derivation is conservative: it only ever drops clauses it cannot
// prove, never adds one, so filtering lines by it cannot change a result.
// JSON escapes are handled when a clause is checked (Satisfied), not here.
func RequirementOf(e Expr, synthesized func(field string) bool) Requirement {
	var req Requirement
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *And:
			for _, c := range x.X {
				walk(c)
			}
		default:
			if c, ok := clauseOf(x, synthesized); ok {
				req = append(req, c)
			}
		}
	}
	walk(e)
	sort.SliceStable(req, func(i, j int) bool { return req[i].cost() < req[j].cost() })
	return req
}

// clauseOf returns one clause that holds whenever e holds, if there is one.
func clauseOf(e Expr, synthesized func(string) bool) (Clause, bool) {
	switch x := e.(type) {
	case *Pred:
		return predClause(x, synthesized)
	case *And:
		// Any child's clause will do; take the most selective.
		var best Clause
		found := false
		for _, c := range x.X {
			if cl, ok := clauseOf(c, synthesized); ok && (!found || cl.cost() < best.cost()) {
				best, found = cl, true
			}
		}
		return best, found
	case *Or:
		var out Clause
		for _, c := range x.X {
			cl, ok := clauseOf(c, synthesized)
			if !ok {
				return nil, false
			}
			out = append(out, cl...)
		}
		return dedupeClause(out), len(out) > 0
	case Const:
		if !x {
			// Never true: an empty clause can never be satisfied. Fine, but
			// rare enough not to special-case.
			return nil, false
		}
	}
	return nil, false
}

func predClause(p *Pred, synthesized func(string) bool) (Clause, bool) {
	if synthesized != nil && synthesized(p.Field.Name) {
		return nil, false
	}
	var out Clause
	add := func(text string, fold bool) bool {
		n, ok := makeNeedle(text, fold)
		if ok {
			out = append(out, n)
		}
		return ok
	}
	switch p.Op {
	case OpEqual, OpStartsWith, OpEndsWith, OpContains:
		for _, v := range p.Values {
			if v.Kind == LitNumber || v.IsNum && p.Op == OpEqual {
				// 101 may be written 101.0 or 1.01e2.
				return nil, false
			}
			text := v.Text
			if p.Fold && p.Op != OpEqual {
				text = unicodeFoldSafe(text)
			}
			if !add(text, p.Fold) {
				return nil, false
			}
		}
	case OpWildcard:
		for _, pat := range p.Patterns {
			best := ""
			for _, lit := range pat.Literals() {
				if len(lit) > len(best) {
					best = lit
				}
			}
			if best == "" || !add(best, p.Fold) {
				return nil, false
			}
		}
	default:
		return nil, false
	}
	return dedupeClause(out), len(out) > 0
}

// unicodeFoldSafe returns the longest run of text without the letters k and
// i. The string functions fold case over all of Unicode, where the Kelvin
// sign (U+212A) lowers to k and the dotted capital I (U+0130) to i, so a
// value can match a folded k or i without holding either letter in any
// ASCII case; no other non-ASCII character lowers to ASCII.
func unicodeFoldSafe(text string) string {
	best, start := "", 0
	for i := 0; i <= len(text); i++ {
		if i == len(text) || strings.IndexByte("kiKI", text[i]) >= 0 {
			if i-start > len(best) {
				best = text[start:i]
			}
			start = i + 1
		}
	}
	return best
}

// makeNeedle accepts literals that appear verbatim in JSON text when not
// escaped: no control characters, quotes or backslashes, and ASCII-only when
// folding case.
func makeNeedle(text string, fold bool) (Needle, bool) {
	if text == "" {
		return Needle{}, false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < 0x20 || c == '"' || c == '\\' || c == 0x7f || fold && c >= 0x80 {
			return Needle{}, false
		}
	}
	if !utf8.ValidString(text) {
		return Needle{}, false
	}
	if fold {
		text = strings.ToLower(text)
	}
	return Needle{Text: text, Fold: fold}, true
}

func dedupeClause(c Clause) Clause {
	seen := map[Needle]bool{}
	out := c[:0:0]
	for _, n := range c {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// commonWords are values found in most audit and process events; a needle
// made of one of them filters almost nothing, so it ranks last.
var commonWords = map[string]bool{
	"true": true, "false": true, "get": true, "list": true, "watch": true, "create": true,
	"update": true, "patch": true, "delete": true, "allow": true, "pods": true, "start": true,
	"end": true, "process": true, "event": true, "events": true, "default": true, "v1": true,
	"system": true, "kubernetes": true, "container": true, "stdout": true, "metadata": true,
	"request": true, "responsecomplete": true, "responsestarted": true, "success": true,
}

// cost estimates how often a clause is satisfied by chance: lower is more
// selective. Long, rare, case-sensitive needles win; every alternative adds.
func (c Clause) cost() int {
	total := 0
	for _, n := range c {
		score := 1000 / (len(n.Text) + 1)
		if commonWords[strings.ToLower(n.Text)] {
			score += 1000
		}
		if n.Fold {
			score += 50
		}
		total += score
	}
	return total
}

// Satisfied reports whether text can satisfy the clause: it contains one of
// the needles, or it holds a JSON escape sequence that could be hiding one
// of the needles' characters (kube-apiserver writes & as \u0026, and any
// writer may escape any character).
func (c Clause) Satisfied(text []byte) bool {
	for _, n := range c {
		if n.Index(text) >= 0 {
			return true
		}
	}
	return c.EscapeHides(text)
}

// Index returns the offset of the first occurrence of the needle in text,
// or -1.
func (n Needle) Index(text []byte) int {
	if !n.Fold {
		return bytes.Index(text, []byte(n.Text))
	}
	return indexFold(text, n.Text)
}

// indexFold finds lower-case ASCII needle in text, ignoring ASCII case. It
// searches for each case of the first letter with IndexByte, so it runs at
// memchr speed on text that rarely holds the first letter.
func indexFold(text []byte, needle string) int {
	first := needle[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	best := -1
	for _, c := range []byte{first, upper} {
		if c == upper && upper == first && best >= 0 {
			break
		}
		for i := 0; ; {
			j := bytes.IndexByte(text[i:], c)
			if j < 0 {
				break
			}
			i += j
			if best >= 0 && i >= best {
				break
			}
			if len(text)-i >= len(needle) && equalFoldASCII(text[i:i+len(needle)], needle) {
				best = i
				break
			}
			i++
		}
	}
	return best
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// EscapeHides reports whether text holds a JSON escape that decodes to a
// character of one of the clause's needles, at this level or in JSON
// embedded in a string (see EscapedRunes).
func (c Clause) EscapeHides(text []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(text[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
		hides := false
		size := EscapedRunes(text[i:], func(r rune) { hides = hides || c.ContainsRune(r) })
		if hides {
			return true
		}
		i += size
	}
}

// EscapedRunes calls fn with every character the escape sequence at the
// start of b (which begins with a backslash) may stand for, and returns
// the sequence's length (at least 1). Besides the plain JSON escape it sees
// through escaped backslashes: an event embedded as a JSON string in
// another (EKS and AKS exports do this) writes its own \u0026 as \\u0026, so
// a run of backslashes followed by an escape letter may hide that
// character one or more levels down, besides the backslash itself.
func EscapedRunes(b []byte, fn func(rune)) int {
	n := 0
	for n < len(b) && b[n] == '\\' {
		n++
	}
	if n == 1 {
		r, size := DecodeEscape(b)
		if size == 0 {
			return 1
		}
		fn(r)
		return size
	}
	fn('\\')
	r, size := DecodeEscape(b[n-1:])
	if size == 0 {
		return n
	}
	fn(r)
	return n - 1 + size
}

// ContainsRune reports whether r occurs in one of the clause's needles (in
// either case for folded needles).
func (c Clause) ContainsRune(r rune) bool {
	for _, n := range c {
		if n.Fold && r < utf8.RuneSelf {
			b := byte(r)
			if b >= 'A' && b <= 'Z' {
				b += 'a' - 'A'
			}
			if strings.IndexByte(n.Text, b) >= 0 {
				return true
			}
			continue
		}
		if strings.ContainsRune(n.Text, r) {
			return true
		}
	}
	return false
}

// DecodeEscape decodes the JSON escape sequence at the start of b (which
// begins with a backslash) and returns the character and the sequence's
// length, or size 0 if b does not start with a valid escape. A surrogate
// pair (\uD83D\uDE00) decodes to the one character it encodes, with size
// 12; a lone surrogate decodes to utf8.RuneError, as JSON decoders read it.
func DecodeEscape(b []byte) (rune, int) {
	r, size := decodeEscape1(b)
	if size == 6 && utf16.IsSurrogate(r) {
		if r2, size2 := decodeEscape1(b[6:]); size2 == 6 {
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				return pair, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, size
}

func decodeEscape1(b []byte) (rune, int) {
	if len(b) < 2 || b[0] != '\\' {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/':
		return rune(b[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		if len(b) < 6 {
			return 0, 0
		}
		var r rune
		for _, h := range b[2:6] {
			r <<= 4
			switch {
			case h >= '0' && h <= '9':
				r |= rune(h - '0')
			case h >= 'a' && h <= 'f':
				r |= rune(h - 'a' + 10)
			case h >= 'A' && h <= 'F':
				r |= rune(h - 'A' + 10)
			default:
				return 0, 0
			}
		}
		return r, 6
	}
	return 0, 0
}
