package rules

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

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
	return RequirementFor(e, Literals{Synthesized: synthesized})
}

// Literals is what the input adapters tell the prefilter about how fields
// are spelled in the raw text. Every function may be nil.
type Literals struct {
	// Synthesized reports fields an adapter may fill with values that are
	// not in the text; conditions on them give no literal.
	Synthesized func(field string) bool
	// MemberKeys gives the member names the text spells a field's last
	// segment with (more than one when an adapter reads the field from a
	// differently named member). A whole-value condition on the field then
	// requires one of those names with the value ("subresource":"exec"
	// rather than exec), which few unrelated lines contain.
	MemberKeys func(field string) []string
	// Name gives a member name every document holding the field spells
	// verbatim (a segment of its path, say "impersonatedUser" for
	// kubernetes.audit.impersonatedUser.username), or "". Any condition on
	// a field needs it to have a value, so the name must be in the text:
	// conditions that give no value literal (f:*, numbers, regexes) and
	// long lists of common values then still filter.
	Name func(field string) string
}

// RequirementFor derives the literals a query needs, given how the inputs
// spell fields.
func RequirementFor(e Expr, lit Literals) Requirement {
	var req Requirement
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *And:
			for _, c := range x.X {
				walk(c)
			}
		case *Pred:
			// Both the value and the name must be in the text.
			if c, ok := predClause(x, lit); ok {
				req = append(req, c)
			}
			if c, ok := nameClause(x, lit); ok {
				req = append(req, c)
			}
		default:
			if c, ok := clauseOf(x, lit); ok {
				req = append(req, c)
			}
		}
	}
	walk(e)
	sort.SliceStable(req, func(i, j int) bool { return req[i].cost() < req[j].cost() })
	return dedupeRequirement(req)
}

// dedupeRequirement drops repeated clauses (two conditions on fields with
// the same name give the same name clause).
func dedupeRequirement(req Requirement) Requirement {
	out := req[:0:0]
	for _, c := range req {
		dup := false
		for _, o := range out {
			if slices.Equal(c, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// nameClause is the clause of the field's verbatim name, when the inputs
// have one.
func nameClause(p *Pred, lit Literals) (Clause, bool) {
	if lit.Name == nil || lit.Synthesized != nil && lit.Synthesized(p.Field.Name) {
		return nil, false
	}
	name := lit.Name(p.Field.Name)
	n, ok := makeNeedle(name, false)
	if !ok {
		return nil, false
	}
	n.Name = true
	return Clause{n}, true
}

// clauseOf returns one clause that holds whenever e holds, if there is one.
func clauseOf(e Expr, lit Literals) (Clause, bool) {
	switch x := e.(type) {
	case *Pred:
		// Either will do; take the more selective.
		v, vok := predClause(x, lit)
		n, nok := nameClause(x, lit)
		if nok && (!vok || n.cost() < v.cost()) {
			return n, true
		}
		return v, vok
	case *And:
		// Any child's clause will do; take the most selective.
		var best Clause
		found := false
		for _, c := range x.X {
			if cl, ok := clauseOf(c, lit); ok && (!found || cl.cost() < best.cost()) {
				best, found = cl, true
			}
		}
		return best, found
	case *Or:
		var out Clause
		for _, c := range x.X {
			cl, ok := clauseOf(c, lit)
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

func predClause(p *Pred, lit Literals) (Clause, bool) {
	if lit.Synthesized != nil && lit.Synthesized(p.Field.Name) {
		return nil, false
	}
	var keys []string
	if lit.MemberKeys != nil {
		keys = lit.MemberKeys(p.Field.Name)
	}
	var out Clause
	// add adds a needle for text; whole is set when the condition holds
	// only if text is the whole value, so member needles can say so.
	add := func(text string, fold, whole bool) bool {
		n, ok := makeNeedle(text, fold)
		if !ok {
			return false
		}
		if !whole || len(keys) == 0 || looksNumeric(n.Text) {
			out = append(out, n)
			return true
		}
		for _, k := range keys {
			m := n
			m.Key = k
			m.Bool = n.Text == "true" || n.Text == "false"
			out = append(out, m)
		}
		return true
	}
	switch p.Op {
	case OpEqual, OpStartsWith, OpEndsWith, OpContains:
		if ft := typeOf(p.Field.Name); p.Op == OpEqual && ft != nil && ft.spellings {
			// An address or a date has many spellings, and a CIDR block
			// or a day none of its own.
			return nil, false
		}
		for _, v := range p.Values {
			if v.Kind == LitNumber || v.IsNum && p.Op == OpEqual {
				// 101 may be written 101.0 or 1.01e2.
				return nil, false
			}
			if !add(v.Text, p.Fold, p.Op == OpEqual) {
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
			if best == "" || !add(best, p.Fold, !pat.HasWildcard()) {
				return nil, false
			}
		}
	default:
		return nil, false
	}
	return dedupeClause(out), len(out) > 0
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
		common := commonWords[strings.ToLower(n.Text)]
		score := 1000 / (len(n.Text) + 1)
		switch {
		case n.Key != "":
			// A member needle is far more selective than its value
			// alone, unless the value is a common word.
			score = 1000 / (len(n.Text) + len(n.Key) + 1)
			if common {
				score += 300
			}
		case common:
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

// ASCIISet is the set of ASCII characters r for which ContainsRune(r)
// holds, bit r%64 of word r/64, computed in one pass over the needles.
func (c Clause) ASCIISet() [2]uint64 {
	var set [2]uint64
	mark := func(b byte) { set[b/64] |= 1 << (b % 64) }
	for _, n := range c {
		for i := 0; i < len(n.Key); i++ {
			if b := n.Key[i]; b < utf8.RuneSelf {
				mark(b)
			}
		}
		for i := 0; i < len(n.Text); i++ {
			b := n.Text[i]
			switch {
			case b >= utf8.RuneSelf:
			case !n.Fold:
				mark(b)
			case b >= 'A' && b <= 'Z':
				// Folding looks for the lower case: an upper-case byte of
				// the text stands for nothing.
			case b >= 'a' && b <= 'z':
				mark(b)
				mark(b - 'a' + 'A')
			default:
				mark(b)
			}
		}
	}
	return set
}

// ContainsRune reports whether r occurs in one of the clause's needles (in
// either case for folded needles).
func (c Clause) ContainsRune(r rune) bool {
	for _, n := range c {
		if strings.ContainsRune(n.Key, r) {
			return true
		}
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
