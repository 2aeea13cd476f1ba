package rules

import (
	"strings"
	"unicode/utf8"
)

// Pattern is a wildcard pattern: `*` matches any run of characters
// (including none) and, where the query language allows it, `?` matches
// exactly one character. A pattern always matches the whole value.
type Pattern struct {
	items []patItem
	// kind and lit describe the pattern's shape, so the common cases (exact,
	// prefix, suffix, contains, anything) skip the general matcher.
	kind patKind
	lit  string
}

type patItem struct {
	star, one bool
	lit       string // when neither star nor one
}

type patKind int

const (
	patGeneral patKind = iota
	patExact
	patPrefix   // lit*
	patSuffix   // *lit
	patContains // *lit*
	patAny      // *
)

// patternBuilder collects a pattern piece by piece, so each parser can keep
// escaped wildcard characters literal.
type patternBuilder struct {
	items []patItem
	lit   strings.Builder
}

func (b *patternBuilder) literal(s string) { b.lit.WriteString(s) }

func (b *patternBuilder) flush() {
	if b.lit.Len() > 0 {
		b.items = append(b.items, patItem{lit: b.lit.String()})
		b.lit.Reset()
	}
}

func (b *patternBuilder) star() {
	b.flush()
	if n := len(b.items); n > 0 && b.items[n-1].star {
		return // ** is *
	}
	b.items = append(b.items, patItem{star: true})
}

func (b *patternBuilder) one() {
	b.flush()
	b.items = append(b.items, patItem{one: true})
}

func (b *patternBuilder) build() *Pattern {
	b.flush()
	p := &Pattern{items: b.items}
	p.classify()
	return p
}

// ParseWildcard builds a pattern from text in which every `*` is a wildcard
// and, when withOne is set, every `?` is too. EQL's `:` and `like` patterns
// have no escape for them.
func ParseWildcard(text string, withOne bool) *Pattern {
	var b patternBuilder
	for _, r := range text {
		switch {
		case r == '*':
			b.star()
		case r == '?' && withOne:
			b.one()
		default:
			b.lit.WriteRune(r)
		}
	}
	return b.build()
}

func (p *Pattern) classify() {
	it := p.items
	switch {
	case len(it) == 0:
		p.kind, p.lit = patExact, ""
	case len(it) == 1 && it[0].star:
		p.kind = patAny
	case len(it) == 1 && !it[0].one:
		p.kind, p.lit = patExact, it[0].lit
	case len(it) == 2 && !it[0].star && !it[0].one && it[1].star:
		p.kind, p.lit = patPrefix, it[0].lit
	case len(it) == 2 && it[0].star && !it[1].star && !it[1].one:
		p.kind, p.lit = patSuffix, it[1].lit
	case len(it) == 3 && it[0].star && it[2].star && !it[1].star && !it[1].one:
		p.kind, p.lit = patContains, it[1].lit
	default:
		p.kind = patGeneral
	}
}

// HasWildcard reports whether the pattern contains a wildcard at all.
func (p *Pattern) HasWildcard() bool { return p.kind != patExact }

// Literals returns the pattern's literal runs, in order. A value matching
// the pattern contains every one of them.
func (p *Pattern) Literals() []string {
	var out []string
	for _, it := range p.items {
		if !it.star && !it.one {
			out = append(out, it.lit)
		}
	}
	return out
}

// lower returns a copy of the pattern with the ASCII letters of its literal
// runs lower-cased, for case-insensitive matching against values lowered
// the same way.
func (p *Pattern) lower() *Pattern {
	q := &Pattern{items: make([]patItem, len(p.items))}
	for i, it := range p.items {
		it.lit = lowerASCII(it.lit)
		q.items[i] = it
	}
	q.classify()
	return q
}

// String renders the pattern with `*` and `?` as wildcards and literal
// wildcard characters escaped with a backslash.
func (p *Pattern) String() string {
	var b strings.Builder
	b.WriteByte('"')
	for _, it := range p.items {
		switch {
		case it.star:
			b.WriteByte('*')
		case it.one:
			b.WriteByte('?')
		default:
			for _, r := range it.lit {
				if r == '*' || r == '?' || r == '\\' || r == '"' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Match reports whether s matches the whole pattern.
func (p *Pattern) Match(s string) bool {
	switch p.kind {
	case patAny:
		return true
	case patExact:
		return s == p.lit
	case patPrefix:
		return strings.HasPrefix(s, p.lit)
	case patSuffix:
		return strings.HasSuffix(s, p.lit)
	case patContains:
		return strings.Contains(s, p.lit)
	}
	return matchItems(p.items, s)
}

// matchItems is a backtracking glob matcher. Only the most recent star is
// ever revisited, which keeps it linear in practice and O(len(items)*len(s))
// at worst.
func matchItems(items []patItem, s string) bool {
	i, pos := 0, 0
	starItem, starPos := -1, 0
	for {
		if i < len(items) {
			it := items[i]
			switch {
			case it.star:
				starItem, starPos = i, pos
				i++
				continue
			case it.one:
				if pos < len(s) {
					_, size := utf8.DecodeRuneInString(s[pos:])
					pos += size
					i++
					continue
				}
			default:
				if strings.HasPrefix(s[pos:], it.lit) {
					pos += len(it.lit)
					i++
					continue
				}
			}
		} else if pos == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character.
		if starItem < 0 || starPos >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starPos:])
		starPos += size
		i, pos = starItem+1, starPos
	}
}
