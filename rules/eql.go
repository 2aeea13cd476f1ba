package rules

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseEQL parses a single-event EQL query: `<category> where <condition>`
// or `any where <condition>`. The category test is a case-sensitive match on
// event.category (any element of the array).
//
// Supported conditions: `==` and `!=` (case-sensitive), `<` `<=` `>` `>=`,
// `:` (case-insensitive, `*` and `?` wildcards, single value or list),
// `in`, `in~`, `not in`, `like`, `like~`, `regex`, `regex~` (single value or
// list), `== null`, `!= null`, `and`, `or`, `not`, parentheses, the
// constants true and false, optional fields `?field`, backtick-quoted field
// names, comments, and the functions startsWith, endsWith, stringContains
// (each with a `~` variant) and cidrMatch. Sequences, joins, samples and
// pipes are reported as unsupported.
func ParseEQL(query string) (Expr, error) {
	toks, err := lexEQL(query)
	if err != nil {
		return nil, err
	}
	p := &eqlParser{toks: toks}
	e, err := p.query()
	if err != nil {
		return nil, err
	}
	return simplify(e), nil
}

type eqlTokKind int

const (
	eqlEOF eqlTokKind = iota
	eqlWord
	eqlQuotedField // `field name`
	eqlString
	eqlNumber
	eqlPunct
)

type eqlTok struct {
	kind eqlTokKind
	text string // word, unescaped string, number spelling, or punctuation
	pos  int
	// optional marks a `?field` reference.
	optional bool
}

func (t eqlTok) is(kind eqlTokKind, text string) bool {
	if t.kind != kind {
		return false
	}
	// EQL keywords are lower-case only, as in Elasticsearch's grammar.
	return t.text == text
}

func eqlError(pos int, format string, args ...any) error {
	return &SyntaxError{Lang: "eql", Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func isEQLWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '@'
}

func isEQLWordChar(c byte) bool {
	return isEQLWordStart(c) || c >= '0' && c <= '9' || c == '.'
}

func lexEQL(src string) ([]eqlTok, error) {
	var toks []eqlTok
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			// Block comments nest, as in Elasticsearch's grammar.
			start, depth := i, 0
			for depth > 0 || i == start {
				switch {
				case i >= len(src):
					return nil, eqlError(start, "unterminated comment")
				case strings.HasPrefix(src[i:], "/*"):
					depth++
					i += 2
				case strings.HasPrefix(src[i:], "*/"):
					depth--
					i += 2
				default:
					i++
				}
			}
		case c == '"':
			s, n, err := lexEQLString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, eqlTok{kind: eqlString, text: s, pos: i})
			i += n
		case c == '\'':
			return nil, eqlError(i, "use double quotes for strings, not single quotes")
		case c == '`':
			s, n, err := lexBacktick(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, eqlTok{kind: eqlQuotedField, text: s, pos: i})
			i += n
		case c == '?':
			// Optional field: ?name or ?`name`.
			if i+1 < len(src) && src[i+1] == '`' {
				s, n, err := lexBacktick(src, i+1)
				if err != nil {
					return nil, err
				}
				toks = append(toks, eqlTok{kind: eqlQuotedField, text: s, pos: i, optional: true})
				i += 1 + n
				continue
			}
			if i+1 < len(src) && isEQLWordStart(src[i+1]) {
				j := i + 1
				for j < len(src) && isEQLWordChar(src[j]) {
					j++
				}
				toks = append(toks, eqlTok{kind: eqlQuotedField, text: src[i+1 : j], pos: i, optional: true})
				i = j
				continue
			}
			return nil, eqlError(i, "unexpected '?'")
		case c >= '0' && c <= '9', c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, eqlTok{kind: eqlNumber, text: src[i:j], pos: i})
			i = j
		case isEQLWordStart(c):
			j := i
			for j < len(src) && isEQLWordChar(src[j]) {
				j++
			}
			toks = append(toks, eqlTok{kind: eqlWord, text: src[i:j], pos: i})
			i = j
		default:
			op := punctAt(src[i:])
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, eqlError(i, "unexpected character %q", r)
			}
			toks = append(toks, eqlTok{kind: eqlPunct, text: op, pos: i})
			i += len(op)
		}
	}
	toks = append(toks, eqlTok{kind: eqlEOF, pos: len(src)})
	return toks, nil
}

// eqlPunct lists punctuation longest first, so "==" wins over "=".
var eqlPuncts = []string{"==", "!=", "<=", ">=", "<", ">", ":", "(", ")", ",", "|", "~", "[", "]", "-", "+", "*", "/", "%", "="}

func punctAt(s string) string {
	for _, op := range eqlPuncts {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// lexEQLString reads "..." (with escapes) or """...""" (raw) at src[i].
func lexEQLString(src string, i int) (string, int, error) {
	if strings.HasPrefix(src[i:], `"""`) {
		end := strings.Index(src[i+3:], `"""`)
		if end < 0 {
			return "", 0, eqlError(i, "unterminated raw string")
		}
		return src[i+3 : i+3+end], end + 6, nil
	}
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch c {
		case '"':
			return b.String(), j + 1 - i, nil
		case '\n':
			return "", 0, eqlError(j, "newline inside a string")
		case '\\':
			if j+1 >= len(src) {
				return "", 0, eqlError(j, "unterminated escape")
			}
			switch e := src[j+1]; e {
			case '"', '\\', '\'':
				b.WriteByte(e)
				j += 2
			case 'n':
				b.WriteByte('\n')
				j += 2
			case 'r':
				b.WriteByte('\r')
				j += 2
			case 't':
				b.WriteByte('\t')
				j += 2
			case 'b':
				b.WriteByte('\b')
				j += 2
			case 'f':
				b.WriteByte('\f')
				j += 2
			case 'u':
				// \u{XXXX}: 2 to 8 hex digits in braces.
				if j+2 < len(src) && src[j+2] == '{' {
					end := strings.IndexByte(src[j+3:], '}')
					if end >= 2 && end <= 8 {
						if v, err := strconv.ParseUint(src[j+3:j+3+end], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
							b.WriteRune(rune(v))
							j += 4 + end
							continue
						}
					}
				}
				return "", 0, eqlError(j, `invalid unicode escape, expected \u{XXXX}`)
			default:
				return "", 0, eqlError(j, "invalid escape \\%c", e)
			}
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, eqlError(i, "unterminated string")
}

// lexBacktick reads `name` at src[i]; a doubled backtick is a literal one.
func lexBacktick(src string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		if src[j] == '`' {
			if j+1 < len(src) && src[j+1] == '`' {
				b.WriteByte('`')
				j += 2
				continue
			}
			if b.Len() == 0 {
				return "", 0, eqlError(i, "empty field name")
			}
			return b.String(), j + 1 - i, nil
		}
		b.WriteByte(src[j])
		j++
	}
	return "", 0, eqlError(i, "unterminated backtick field name")
}

type eqlParser struct {
	toks  []eqlTok
	i     int
	depth int // groups open: parentheses, function calls and nots (MaxQueryDepth)
}

// enter opens a group at t, or refuses one nested too deeply.
func (p *eqlParser) enter(t eqlTok) error {
	if p.depth++; p.depth > MaxQueryDepth {
		return eqlError(t.pos, "the query nests more than %d deep", MaxQueryDepth)
	}
	return nil
}

func (p *eqlParser) peek() eqlTok { return p.toks[p.i] }
func (p *eqlParser) next() eqlTok {
	t := p.toks[p.i]
	if t.kind != eqlEOF {
		p.i++
	}
	return t
}

func (p *eqlParser) accept(kind eqlTokKind, text string) bool {
	if p.peek().is(kind, text) {
		p.i++
		return true
	}
	return false
}

func (p *eqlParser) expect(kind eqlTokKind, text string) error {
	if p.accept(kind, text) {
		return nil
	}
	t := p.peek()
	return eqlError(t.pos, "expected %q, found %s", text, describeTok(t))
}

func describeTok(t eqlTok) string {
	switch t.kind {
	case eqlEOF:
		return "end of query"
	case eqlString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// categoryField is the field EQL matches the event category against.
var categoryField = NewField("event.category")

func (p *eqlParser) query() (Expr, error) {
	t := p.next()
	switch {
	case t.is(eqlWord, "sequence"), t.is(eqlWord, "join"), t.is(eqlWord, "sample"):
		return nil, unsupported("EQL %s query (k8sexec evaluates single-event queries only)", t.text)
	case t.kind != eqlWord && t.kind != eqlString:
		return nil, eqlError(t.pos, "expected an event category or 'any', found %s", describeTok(t))
	}
	var category Expr = Const(true)
	if !t.is(eqlWord, "any") || t.kind == eqlString {
		category = &Pred{Field: categoryField, Op: OpEqual, Values: []Literal{{Kind: LitString, Text: t.text}}}
	}
	if err := p.expect(eqlWord, "where"); err != nil {
		return nil, err
	}
	cond, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.is(eqlPunct, "|") {
		return nil, unsupported("EQL pipes (| %s)", p.toks[p.i+1].text)
	}
	if t := p.peek(); t.kind != eqlEOF {
		return nil, eqlError(t.pos, "unexpected %s", describeTok(t))
	}
	if c, ok := category.(Const); ok && bool(c) {
		return cond, nil
	}
	return &And{X: []Expr{category, cond}}, nil
}

func (p *eqlParser) orExpr() (Expr, error) {
	first, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for p.accept(eqlWord, "or") {
		next, err := p.andExpr()
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

func (p *eqlParser) andExpr() (Expr, error) {
	first, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	items := []Expr{first}
	for p.accept(eqlWord, "and") {
		next, err := p.notExpr()
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

func (p *eqlParser) notExpr() (Expr, error) {
	if t := p.peek(); p.accept(eqlWord, "not") {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		p.depth--
		// A function on a field with constant arguments is a query to
		// Elasticsearch (prefix, wildcard or terms), and `not` over a
		// query is must_not: it holds where the field is missing, as for
		// any other condition.
		return &Not{X: e}, nil
	}
	return p.predicate()
}

func isFunctionOp(op Op) bool {
	return op == OpStartsWith || op == OpEndsWith || op == OpContains || op == OpCIDR
}

// operand is a parsed primary: a field reference, a literal, or a
// (boolean) expression.
type operand struct {
	field *Field
	lit   *Literal
	expr  Expr
	pos   int
}

var eqlFunctions = map[string]Op{
	"startswith":     OpStartsWith,
	"endswith":       OpEndsWith,
	"stringcontains": OpContains,
	"cidrmatch":      OpCIDR,
}

func (p *eqlParser) primary() (operand, error) {
	t := p.peek()
	switch {
	case t.is(eqlPunct, "("):
		if err := p.enter(t); err != nil {
			return operand{}, err
		}
		p.next()
		e, err := p.orExpr()
		if err != nil {
			return operand{}, err
		}
		if err := p.expect(eqlPunct, ")"); err != nil {
			return operand{}, err
		}
		p.depth--
		return operand{expr: e, pos: t.pos}, nil
	case t.kind == eqlString:
		p.next()
		lit := StringLit(t.text)
		return operand{lit: &lit, pos: t.pos}, nil
	case t.kind == eqlNumber, t.is(eqlPunct, "-"):
		lit, err := p.number()
		if err != nil {
			return operand{}, err
		}
		return operand{lit: &lit, pos: t.pos}, nil
	case t.is(eqlWord, "true"), t.is(eqlWord, "false"):
		p.next()
		if p.peek().is(eqlPunct, "(") {
			return operand{}, eqlError(t.pos, "unexpected '(' after %s", t.text)
		}
		lit := BoolLit(t.text == "true")
		return operand{lit: &lit, pos: t.pos}, nil
	case t.is(eqlWord, "null"):
		p.next()
		lit := Literal{Kind: LitNull, Text: "null"}
		return operand{lit: &lit, pos: t.pos}, nil
	case t.kind == eqlQuotedField:
		p.next()
		return operand{field: NewField(t.text), pos: t.pos}, nil
	case t.kind == eqlWord:
		if isEQLReserved(t.text) {
			return operand{}, eqlError(t.pos, "unexpected keyword %q", t.text)
		}
		p.next()
		// Function call: name, optional ~, then (.
		fold := false
		if p.peek().is(eqlPunct, "~") && p.toks[p.i+1].is(eqlPunct, "(") {
			p.next()
			fold = true
		}
		if p.peek().is(eqlPunct, "(") {
			return p.function(t, fold)
		}
		if fold {
			return operand{}, eqlError(t.pos, "unexpected '~' after field %s", t.text)
		}
		if p.peek().is(eqlPunct, "[") {
			return operand{}, unsupported("EQL array index on %s", t.text)
		}
		return operand{field: NewField(t.text), pos: t.pos}, nil
	}
	return operand{}, eqlError(t.pos, "unexpected %s", describeTok(t))
}

func isEQLReserved(w string) bool {
	switch w {
	case "and", "or", "not", "in", "like", "regex", "where", "sequence", "join", "sample", "by", "with", "until", "maxspan", "of":
		return true
	}
	return false
}

func (p *eqlParser) number() (Literal, error) {
	neg := p.accept(eqlPunct, "-")
	t := p.next()
	if t.kind != eqlNumber {
		return Literal{}, eqlError(t.pos, "expected a number, found %s", describeTok(t))
	}
	n, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return Literal{}, eqlError(t.pos, "invalid number %q", t.text)
	}
	text := t.text
	if neg {
		n, text = -n, "-"+text
	}
	return NumberLit(text, n), nil
}

func (p *eqlParser) function(name eqlTok, fold bool) (operand, error) {
	op, ok := eqlFunctions[strings.ToLower(name.text)]
	if !ok {
		return operand{}, unsupported("EQL function %s()", name.text)
	}
	if op == OpCIDR && fold {
		return operand{}, eqlError(name.pos, "cidrMatch has no case-insensitive variant")
	}
	if err := p.enter(name); err != nil {
		return operand{}, err
	}
	defer func() { p.depth-- }()
	p.next() // (
	first, err := p.primary()
	if err != nil {
		return operand{}, err
	}
	if first.field == nil {
		return operand{}, unsupported("EQL %s() whose first argument is not a field", name.text)
	}
	pred := &Pred{Field: first.field, Op: op, Fold: fold}
	for p.accept(eqlPunct, ",") {
		arg, err := p.primary()
		if err != nil {
			return operand{}, err
		}
		if arg.lit == nil || arg.lit.Kind != LitString {
			return operand{}, unsupported("EQL %s() with a non-string argument", name.text)
		}
		pred.Values = append(pred.Values, *arg.lit)
	}
	if err := p.expect(eqlPunct, ")"); err != nil {
		return operand{}, err
	}
	if len(pred.Values) == 0 {
		return operand{}, eqlError(name.pos, "%s() needs at least two arguments", name.text)
	}
	if op == OpCIDR {
		for _, v := range pred.Values {
			if _, err := parseCIDR(v.Text); err != nil {
				return operand{}, eqlError(name.pos, "cidrMatch: %v", err)
			}
		}
	}
	return operand{expr: pred, pos: name.pos}, nil
}

// predicate parses a primary and the comparison or set test after it.
func (p *eqlParser) predicate() (Expr, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == eqlPunct && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		return comparison(t, left, right)
	case t.is(eqlPunct, "="):
		return nil, eqlError(t.pos, "use == or : to compare, not =")
	case t.is(eqlPunct, ":"):
		p.next()
		return p.patternTest(left, t, ":", true)
	case t.is(eqlWord, "like"), t.is(eqlWord, "regex"):
		p.next()
		fold := p.accept(eqlPunct, "~")
		return p.patternTest(left, t, strings.ToLower(t.text), fold)
	case t.is(eqlWord, "in"), t.is(eqlWord, "not") && p.toks[p.i+1].is(eqlWord, "in"):
		negate := p.accept(eqlWord, "not")
		p.next() // in
		fold := p.accept(eqlPunct, "~")
		return p.inTest(left, negate, fold)
	}
	// A bare operand: a boolean expression or function, a constant, or a
	// field used as a boolean.
	switch {
	case left.expr != nil:
		return left.expr, nil
	case left.lit != nil && left.lit.Kind == LitBool:
		return Const(left.lit.Bool), nil
	case left.field != nil:
		return &Pred{Field: left.field, Op: OpEqual, Values: []Literal{BoolLit(true)}}, nil
	}
	return nil, eqlError(left.pos, "expected a condition")
}

func comparison(op eqlTok, left, right operand) (Expr, error) {
	if left.field == nil && right.field != nil {
		// Literal on the left: mirror the comparison.
		left, right = right, left
		switch op.text {
		case "<":
			op.text = ">"
		case "<=":
			op.text = ">="
		case ">":
			op.text = "<"
		case ">=":
			op.text = "<="
		}
	}
	if left.field == nil {
		return nil, unsupported("EQL comparison without a field at offset %d", op.pos)
	}
	if right.field != nil {
		return nil, unsupported("EQL comparison between two fields (%s %s %s)", left.field.Name, op.text, right.field.Name)
	}
	if right.lit == nil {
		return nil, eqlError(right.pos, "expected a value to compare %s with", left.field.Name)
	}
	lit := *right.lit
	f := left.field
	switch op.text {
	case "==":
		if lit.Kind == LitNull {
			return &Not{X: &Pred{Field: f, Op: OpExists}}, nil
		}
		return &Pred{Field: f, Op: OpEqual, Values: []Literal{lit}}, nil
	case "!=":
		if lit.Kind == LitNull {
			return &Pred{Field: f, Op: OpExists}, nil
		}
		return &Not{X: &Pred{Field: f, Op: OpEqual, Values: []Literal{lit}}}, nil
	}
	if lit.Kind == LitNull || lit.Kind == LitBool {
		return nil, eqlError(right.pos, "cannot order-compare with %s", lit.Text)
	}
	ops := map[string]Op{"<": OpLess, "<=": OpLessEq, ">": OpGreater, ">=": OpGreaterEq}
	return &Pred{Field: f, Op: ops[op.text], Values: []Literal{lit}}, nil
}

// constants parses one constant or a parenthesised, comma-separated list.
func (p *eqlParser) constants() ([]Literal, error) {
	list := p.accept(eqlPunct, "(")
	var out []Literal
	for {
		v, err := p.primary()
		if err != nil {
			return nil, err
		}
		if v.lit == nil {
			return nil, unsupported("EQL value list holding a non-constant at offset %d", v.pos)
		}
		out = append(out, *v.lit)
		if !list || !p.accept(eqlPunct, ",") {
			break
		}
	}
	if list {
		if err := p.expect(eqlPunct, ")"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *eqlParser) patternTest(left operand, opTok eqlTok, op string, fold bool) (Expr, error) {
	if left.field == nil {
		return nil, eqlError(opTok.pos, "%s needs a field on its left", op)
	}
	values, err := p.constants()
	if err != nil {
		return nil, err
	}
	pred := &Pred{Field: left.field, Fold: fold}
	if op == "regex" {
		pred.Op = OpRegex
	} else {
		pred.Op = OpWildcard
	}
	for _, v := range values {
		if v.Kind != LitString {
			return nil, eqlError(opTok.pos, "%s compares strings; %s is not a string", op, v.Text)
		}
		if op == "regex" {
			if _, err := compileRegex(v.Text, fold); err != nil {
				if IsUnsupported(err) {
					return nil, err
				}
				return nil, eqlError(opTok.pos, "%v", err)
			}
			pred.Regexps = append(pred.Regexps, v.Text)
		} else {
			pred.Patterns = append(pred.Patterns, ParseWildcard(v.Text, true))
		}
	}
	return pred, nil
}

func (p *eqlParser) inTest(left operand, negate, fold bool) (Expr, error) {
	if left.field == nil {
		return nil, eqlError(p.peek().pos, "in needs a field on its left")
	}
	if !p.peek().is(eqlPunct, "(") {
		return nil, eqlError(p.peek().pos, "expected '(' after in")
	}
	values, err := p.constants()
	if err != nil {
		return nil, err
	}
	var lits []Literal
	hasNull := false
	for _, v := range values {
		if v.Kind == LitNull {
			hasNull = true
			continue
		}
		lits = append(lits, v)
	}
	var e Expr
	if len(lits) > 0 {
		e = &Pred{Field: left.field, Op: OpEqual, Values: lits, Fold: fold}
	}
	if hasNull {
		missing := &Not{X: &Pred{Field: left.field, Op: OpExists}}
		if e == nil {
			e = missing
		} else {
			e = &Or{X: []Expr{e, missing}}
		}
	}
	if negate {
		return &Not{X: e}, nil
	}
	return e, nil
}
