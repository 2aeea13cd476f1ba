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
	// The general matcher's view: the runs between stars, and whether
	// the pattern starts and ends with one.
	segs               []segment
	openStart, openEnd bool
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
		p.segs, p.openStart, p.openEnd = segmentsOf(it)
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
	return p.matchGeneral(s)
}

// matchGeneral matches s against segments separated by stars, in time
// linear in len(s) for each segment (times its length in words when it
// holds `?`): each segment is matched where it first can be after the one
// before it, which is where any match could place it at the earliest, so
// no choice is ever revisited. A segment's rune count is fixed, so an
// earlier start never ends later.
func (p *Pattern) matchGeneral(s string) bool {
	segs, pos := p.segs, 0
	if !p.openStart {
		end, ok := segs[0].prefix(s)
		if !ok {
			return false
		}
		if len(segs) == 1 && !p.openEnd {
			return end == len(s) // no star at all
		}
		segs, pos = segs[1:], end
	}
	var last *segment
	if !p.openEnd && len(segs) > 0 {
		last, segs = &segs[len(segs)-1], segs[:len(segs)-1]
	}
	for i := range segs {
		end, ok := segs[i].find(s, pos, false)
		if !ok {
			return false
		}
		pos = end
	}
	if last != nil {
		_, ok := last.find(s, pos, true)
		return ok
	}
	return true
}

// A segment is a run of a pattern without stars: literals and `?`s, which
// match a fixed number of runes.
type segment struct {
	items []patItem
	lit   string    // the whole segment, when it has no `?`
	bits  *segMasks // when it has one
}

// segMasks are the bit-parallel matcher's masks for a segment of size
// runes: bit j of a rune's mask is set when the segment's j-th rune may
// be that rune. Every mask has the bits of the `?`s, which are all that
// any has.
type segMasks struct {
	size   int
	any    []uint64
	ascii  [utf8.RuneSelf][]uint64
	others map[rune][]uint64
}

// segmentsOf splits a pattern's items at its stars.
func segmentsOf(items []patItem) (segs []segment, openStart, openEnd bool) {
	openStart = items[0].star
	openEnd = items[len(items)-1].star
	var cur []patItem
	flush := func() {
		if len(cur) > 0 {
			segs = append(segs, newSegment(cur))
			cur = nil
		}
	}
	for _, it := range items {
		if it.star {
			flush()
			continue
		}
		cur = append(cur, it)
	}
	flush()
	return segs, openStart, openEnd
}

func newSegment(items []patItem) segment {
	sg := segment{items: items}
	size, one := 0, false
	var lit strings.Builder
	for _, it := range items {
		if it.one {
			one = true
			size++
		} else {
			lit.WriteString(it.lit)
			size += utf8.RuneCountInString(it.lit)
		}
	}
	if !one {
		sg.lit = lit.String()
		return sg
	}
	b := &segMasks{size: size, any: make([]uint64, (size+63)/64)}
	j := 0
	for _, it := range items {
		if it.one {
			b.any[j/64] |= 1 << (j % 64)
			j++
			continue
		}
		for _, r := range it.lit {
			m := b.mask(r)
			if m == nil {
				m = make([]uint64, len(b.any))
				if r < utf8.RuneSelf {
					b.ascii[r] = m
				} else {
					if b.others == nil {
						b.others = map[rune][]uint64{}
					}
					b.others[r] = m
				}
			}
			m[j/64] |= 1 << (j % 64)
			j++
		}
	}
	for _, m := range b.ascii {
		orInto(m, b.any)
	}
	for _, m := range b.others {
		orInto(m, b.any)
	}
	sg.bits = b
	return sg
}

func orInto(dst, src []uint64) {
	for i := range dst {
		dst[i] |= src[i]
	}
}

// mask returns r's mask, or nil when only a `?` may be r.
func (b *segMasks) mask(r rune) []uint64 {
	if r >= 0 && r < utf8.RuneSelf {
		return b.ascii[r]
	}
	return b.others[r]
}

// prefix matches the segment at the start of s, and returns where it
// ends.
func (sg *segment) prefix(s string) (int, bool) {
	pos := 0
	for _, it := range sg.items {
		switch {
		case it.one:
			if pos == len(s) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[pos:])
			pos += size
		case strings.HasPrefix(s[pos:], it.lit):
			pos += len(it.lit)
		default:
			return 0, false
		}
	}
	return pos, true
}

// find returns where the first match of the segment at or after from
// ends, or, when atEnd is set, whether one ends at the end of s.
func (sg *segment) find(s string, from int, atEnd bool) (int, bool) {
	if sg.bits == nil {
		if atEnd {
			return len(s), len(s)-from >= len(sg.lit) && strings.HasSuffix(s, sg.lit)
		}
		i := strings.Index(s[from:], sg.lit)
		if i < 0 {
			return 0, false
		}
		return from + i + len(sg.lit), true
	}
	// Shift-and: bit j of state is set when the runes read so far end
	// with the segment's first j+1 runes.
	b := sg.bits
	var small [4]uint64 // no allocation for segments of up to 256 runes
	var state []uint64
	if len(b.any) <= len(small) {
		state = small[:len(b.any)]
	} else {
		state = make([]uint64, len(b.any))
	}
	top, topBit := len(state)-1, uint64(1)<<((b.size-1)%64)
	for pos := from; pos < len(s); {
		r, size := utf8.DecodeRuneInString(s[pos:])
		pos += size
		m := b.any // a byte that is no UTF-8 is matched by a `?` only
		if r != utf8.RuneError || size != 1 {
			if rm := b.mask(r); rm != nil {
				m = rm
			}
		}
		carry := uint64(1)
		for w, v := range state {
			state[w] = (v<<1 | carry) & m[w]
			carry = v >> 63
		}
		if state[top]&topBit != 0 && (!atEnd || pos == len(s)) {
			return pos, true
		}
	}
	return 0, false
}
