package rules

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseKQL parses a Kibana Query Language expression.
//
// The grammar is Kibana's: `or` binds loosest, then `and`, then `not`;
// keywords are case-insensitive and need whitespace around them; an
// unquoted value runs up to the next keyword or special character and is
// trimmed, so `f:hello world` looks for "hello world". Values:
//
//	f:v          keyword match, exact and case-sensitive
//	f:"v"        the same, but `*` inside quotes is literal
//	f:v*         wildcard (`*` only; `?` is an ordinary character)
//	f:*          the field exists
//	f:(a or b)   value lists with and/or/not
//	f < v        ranges: < <= > >=
//
// Free-text terms without a field, wildcard field names and nested queries
// (`f:{...}`) parse but are reported as unsupported.
func ParseKQL(query string) (Expr, error) {
	p := &kqlParser{src: query}
	p.skipSpace()
	if p.eof() {
		// An empty KQL query matches every document.
		return Const(true), nil
	}
	e, err := p.orQuery()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", p.rest(12))
	}
	return simplify(e), nil
}

type kqlParser struct {
	src   string
	pos   int
	depth int // groups open: parentheses around queries or values
}

// MaxQueryDepth bounds how deeply a query may nest groups (parentheses,
// and `not` in EQL). Parsing, compiling and matching all recurse over the
// nesting, and a rule or exceptions file from anyone must not exhaust the
// stack; published rules nest a handful of levels.
const MaxQueryDepth = 100

// enter opens a group, or refuses one nested too deeply.
func (p *kqlParser) enter() error {
	if p.depth++; p.depth > MaxQueryDepth {
		return p.errorf("the query nests groups more than %d deep", MaxQueryDepth)
	}
	return nil
}

func (p *kqlParser) eof() bool { return p.pos >= len(p.src) }

func (p *kqlParser) rest(n int) string {
	r := p.src[p.pos:]
	if len(r) > n {
		r = r[:n] + "..."
	}
	return r
}

func (p *kqlParser) errorf(format string, args ...any) error {
	return &SyntaxError{Lang: "kql", Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func isKQLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0'
}

func (p *kqlParser) peekRune() (rune, int) {
	if p.eof() {
		return utf8.RuneError, 0
	}
	return utf8.DecodeRuneInString(p.src[p.pos:])
}

func (p *kqlParser) skipSpace() int {
	n := 0
	for !p.eof() {
		r, size := p.peekRune()
		if !isKQLSpace(r) {
			break
		}
		p.pos += size
		n++
	}
	return n
}

// spacesAt returns the byte length of the run of spaces at offset i.
func (p *kqlParser) spacesAt(i int) int {
	j := i
	for j < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[j:])
		if !isKQLSpace(r) {
			break
		}
		j += size
	}
	return j - i
}

// wordAt reports whether the keyword w (case-insensitive) is at offset i.
func (p *kqlParser) wordAt(i int, w string) bool {
	return len(p.src)-i >= len(w) && strings.EqualFold(p.src[i:i+len(w)], w)
}

// binaryKeywordAt returns the length of " or " / " and " (with any run of
// spaces on both sides) at offset i, or 0.
func (p *kqlParser) binaryKeywordAt(i int, w string) int {
	lead := p.spacesAt(i)
	if lead == 0 || !p.wordAt(i+lead, w) {
		return 0
	}
	trail := p.spacesAt(i + lead + len(w))
	if trail == 0 {
		return 0
	}
	return lead + len(w) + trail
}

// notKeywordAt returns the length of "not " at offset i, or 0.
func (p *kqlParser) notKeywordAt(i int) int {
	if !p.wordAt(i, "not") {
		return 0
	}
	trail := p.spacesAt(i + 3)
	if trail == 0 {
		return 0
	}
	return 3 + trail
}

func (p *kqlParser) keywordAt(i int) bool {
	return p.binaryKeywordAt(i, "or") > 0 || p.binaryKeywordAt(i, "and") > 0 || p.notKeywordAt(i) > 0
}

func (p *kqlParser) orQuery() (Expr, error) {
	first, err := p.andQuery()
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for {
		n := p.binaryKeywordAt(p.pos, "or")
		if n == 0 {
			break
		}
		p.pos += n
		next, err := p.andQuery()
		if err != nil {
			return nil, err
		}
		items = append(items, next)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &Or{X: items}, nil
}

func (p *kqlParser) andQuery() (Expr, error) {
	first, err := p.notQuery()
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for {
		n := p.binaryKeywordAt(p.pos, "and")
		if n == 0 {
			break
		}
		p.pos += n
		next, err := p.notQuery()
		if err != nil {
			return nil, err
		}
		items = append(items, next)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &And{X: items}, nil
}

func (p *kqlParser) notQuery() (Expr, error) {
	if n := p.notKeywordAt(p.pos); n > 0 {
		p.pos += n
		e, err := p.subQuery()
		if err != nil {
			return nil, err
		}
		return &Not{X: e}, nil
	}
	return p.subQuery()
}

func (p *kqlParser) subQuery() (Expr, error) {
	if !p.eof() && p.src[p.pos] == '(' {
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.pos++
		p.skipSpace()
		e, err := p.orQuery()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.src[p.pos] != ')' {
			return nil, p.errorf("expected ')'")
		}
		p.pos++
		p.depth--
		return e, nil
	}
	return p.expression()
}

// expression parses `field:values`, `field <op> value`, or reports a bare
// value (free-text search) as unsupported.
func (p *kqlParser) expression() (Expr, error) {
	start := p.pos
	field, err := p.literal()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if op, n := p.rangeOpAt(p.pos); n > 0 {
		p.pos += n
		p.skipSpace()
		f, err := kqlField(field, start)
		if err != nil {
			return nil, err
		}
		val, err := p.literal()
		if err != nil {
			return nil, err
		}
		if val.empty() && !val.quoted {
			return nil, p.errorf("missing value for range on field %s", f.Name)
		}
		return &Pred{Field: f, Op: op, Values: []Literal{StringLit(val.text())}}, nil
	}
	if !p.eof() && p.src[p.pos] == ':' {
		p.pos++
		p.skipSpace()
		f, err := kqlField(field, start)
		if err != nil {
			return nil, err
		}
		if !p.eof() && p.src[p.pos] == '{' {
			return nil, unsupported("KQL nested query %s:{...}", f.Name)
		}
		return p.listOfValues(f)
	}
	if field.empty() {
		return nil, p.errorf("expected a field or value, found %q", p.rest(12))
	}
	return nil, unsupported("KQL free-text term %q without a field name", field.text())
}

func (p *kqlParser) rangeOpAt(i int) (Op, int) {
	switch {
	case strings.HasPrefix(p.src[i:], "<="):
		return OpLessEq, 2
	case strings.HasPrefix(p.src[i:], ">="):
		return OpGreaterEq, 2
	case strings.HasPrefix(p.src[i:], "<"):
		return OpLess, 1
	case strings.HasPrefix(p.src[i:], ">"):
		return OpGreater, 1
	}
	return 0, 0
}

func kqlField(lit kqlLiteral, offset int) (*Field, error) {
	if lit.empty() {
		return nil, &SyntaxError{Lang: "kql", Offset: offset, Msg: "missing field name"}
	}
	if lit.hasWildcard() {
		return nil, unsupported("KQL wildcard field name %q", lit.text())
	}
	return NewField(lit.text()), nil
}

// listOfValues parses the value side of `field:` for one field: a single
// value or a parenthesised and/or/not list of them.
func (p *kqlParser) listOfValues(f *Field) (Expr, error) {
	if !p.eof() && p.src[p.pos] == '(' {
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.pos++
		p.skipSpace()
		e, err := p.orValues(f)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.src[p.pos] != ')' {
			return nil, p.errorf("expected ')' to close the value list")
		}
		p.pos++
		p.depth--
		return e, nil
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if lit.empty() && !lit.quoted {
		return nil, p.errorf("missing value for field %s", f.Name)
	}
	return lit.pred(f), nil
}

func (p *kqlParser) orValues(f *Field) (Expr, error) {
	first, err := p.andValues(f)
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for {
		n := p.binaryKeywordAt(p.pos, "or")
		if n == 0 {
			break
		}
		p.pos += n
		next, err := p.andValues(f)
		if err != nil {
			return nil, err
		}
		items = append(items, next)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &Or{X: items}, nil
}

func (p *kqlParser) andValues(f *Field) (Expr, error) {
	first, err := p.notValues(f)
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for {
		n := p.binaryKeywordAt(p.pos, "and")
		if n == 0 {
			break
		}
		p.pos += n
		next, err := p.notValues(f)
		if err != nil {
			return nil, err
		}
		items = append(items, next)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &And{X: items}, nil
}

func (p *kqlParser) notValues(f *Field) (Expr, error) {
	if n := p.notKeywordAt(p.pos); n > 0 {
		p.pos += n
		e, err := p.listOfValues(f)
		if err != nil {
			return nil, err
		}
		return &Not{X: e}, nil
	}
	return p.listOfValues(f)
}

// kqlChar is one character of a literal; wild marks an unescaped `*`.
type kqlChar struct {
	r    rune
	wild bool
}

type kqlLiteral struct {
	chars  []kqlChar
	quoted bool
}

func (l kqlLiteral) empty() bool { return len(l.chars) == 0 }

func (l kqlLiteral) hasWildcard() bool {
	for _, c := range l.chars {
		if c.wild {
			return true
		}
	}
	return false
}

func (l kqlLiteral) text() string {
	var b strings.Builder
	for _, c := range l.chars {
		b.WriteRune(c.r)
	}
	return b.String()
}

// pred turns a parsed value into the predicate Kibana would send to
// Elasticsearch: exists for a lone `*`, a wildcard query when the unquoted
// value holds `*`, and a term match otherwise.
func (l kqlLiteral) pred(f *Field) Expr {
	if !l.quoted && l.hasWildcard() {
		if len(l.chars) == 1 {
			return &Pred{Field: f, Op: OpExists}
		}
		var b patternBuilder
		for _, c := range l.chars {
			if c.wild {
				b.star()
			} else {
				b.literal(string(c.r))
			}
		}
		return &Pred{Field: f, Op: OpWildcard, Patterns: []*Pattern{b.build()}}
	}
	return &Pred{Field: f, Op: OpEqual, Values: []Literal{StringLit(l.text())}}
}

// literal parses a quoted string or an unquoted literal at the current
// position. An unquoted literal may be empty; callers decide.
func (p *kqlParser) literal() (kqlLiteral, error) {
	if !p.eof() && p.src[p.pos] == '"' {
		return p.quoted()
	}
	return p.unquoted()
}

func (p *kqlParser) quoted() (kqlLiteral, error) {
	start := p.pos
	p.pos++ // opening quote
	lit := kqlLiteral{quoted: true}
	for {
		if p.eof() {
			p.pos = start
			return lit, p.errorf("unterminated quoted string")
		}
		c := p.src[p.pos]
		if c == '"' {
			p.pos++
			return lit, nil
		}
		if c == '\\' && p.pos+1 < len(p.src) {
			if r, n, ok := p.escapeAt(p.pos, `\"`); ok {
				lit.chars = append(lit.chars, kqlChar{r: r})
				p.pos += n
				continue
			}
		}
		r, size := p.peekRune()
		lit.chars = append(lit.chars, kqlChar{r: r})
		p.pos += size
	}
}

// escapeAt decodes a backslash escape at offset i: \t \r \n, \uXXXX, or a
// backslash before one of the characters in plain. It returns the rune and
// the escape's length.
func (p *kqlParser) escapeAt(i int, plain string) (rune, int, bool) {
	if i+1 >= len(p.src) {
		return 0, 0, false
	}
	switch c := p.src[i+1]; {
	case c == 't':
		return '\t', 2, true
	case c == 'r':
		return '\r', 2, true
	case c == 'n':
		return '\n', 2, true
	case c == 'u':
		if r, ok := hex4(p.src, i+2); ok {
			// Kibana builds strings of UTF-16 code units, so an escaped
			// surrogate pair is one character.
			if utf16.IsSurrogate(r) && strings.HasPrefix(p.src[i+6:], `\u`) {
				if r2, ok := hex4(p.src, i+8); ok {
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						return pair, 12, true
					}
				}
			}
			return r, 6, true
		}
	case strings.IndexByte(plain, c) >= 0:
		return rune(c), 2, true
	}
	return 0, 0, false
}

// hex4 decodes the four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, h := range []byte(s[i : i+4]) {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | rune(h-'0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | rune(h-'a'+10)
		case h >= 'A' && h <= 'F':
			r = r<<4 | rune(h-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

const kqlSpecial = `\():<>"*{}`

func (p *kqlParser) unquoted() (kqlLiteral, error) {
	var lit kqlLiteral
	for !p.eof() {
		c := p.src[p.pos]
		if c == '\\' {
			if r, n, ok := p.escapeAt(p.pos, kqlSpecial); ok {
				lit.chars = append(lit.chars, kqlChar{r: r})
				p.pos += n
				continue
			}
			if w := p.escapedKeywordAt(p.pos + 1); w != "" {
				for _, r := range w {
					lit.chars = append(lit.chars, kqlChar{r: r})
				}
				p.pos += 1 + len(w)
				continue
			}
			return lit, p.errorf("invalid escape %q", p.rest(2))
		}
		if c == '*' {
			lit.chars = append(lit.chars, kqlChar{r: '*', wild: true})
			p.pos++
			continue
		}
		if strings.IndexByte(kqlSpecial, c) >= 0 || p.keywordAt(p.pos) {
			break
		}
		r, size := p.peekRune()
		lit.chars = append(lit.chars, kqlChar{r: r})
		p.pos += size
	}
	lit.chars = trimKQLSpace(lit.chars)
	return lit, nil
}

func (p *kqlParser) escapedKeywordAt(i int) string {
	for _, w := range []string{"and", "not", "or"} {
		if p.wordAt(i, w) {
			return p.src[i : i+len(w)]
		}
	}
	return ""
}

// trimKQLSpace trims whitespace from both ends, as Kibana trims unquoted
// literals (escaped whitespace included, since the trim runs after
// unescaping).
func trimKQLSpace(cs []kqlChar) []kqlChar {
	for len(cs) > 0 && !cs[0].wild && unicode.IsSpace(cs[0].r) {
		cs = cs[1:]
	}
	for len(cs) > 0 && !cs[len(cs)-1].wild && unicode.IsSpace(cs[len(cs)-1].r) {
		cs = cs[:len(cs)-1]
	}
	return cs
}
