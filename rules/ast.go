package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is a parsed query: a tree of boolean operators over predicates. KQL
// and EQL both parse into it, so one compiler and one prefilter serve both.
// String renders a canonical, language-neutral form used by tests and by
// `k8sexec rules show`.
type Expr interface {
	String() string
}

// And holds when every operand holds.
type And struct{ X []Expr }

// Or holds when any operand holds.
type Or struct{ X []Expr }

// Not holds when its operand does not.
type Not struct{ X Expr }

// Const is a constant truth value (EQL `true`, `any where true`).
type Const bool

// Op is what a Pred tests on each value of its field.
type Op int

// The predicate operators. Every operator except Exists is evaluated per
// value, and the predicate holds when any value passes (Elasticsearch's
// multi-value rule). A missing field therefore never satisfies a value test.
const (
	OpEqual      Op = iota // value equals one of Values (KQL term, EQL ==, in)
	OpWildcard             // value matches one of Patterns (KQL *, EQL :, like)
	OpExists               // field has at least one non-null value
	OpLess                 // value < Values[0]
	OpLessEq               // value <= Values[0]
	OpGreater              // value > Values[0]
	OpGreaterEq            // value >= Values[0]
	OpRegex                // value matches one of Regexps, anchored at both ends
	OpStartsWith           // value starts with one of Values
	OpEndsWith             // value ends with one of Values
	OpContains             // value contains one of Values
	OpCIDR                 // value is an IP address inside one of Values (CIDR blocks)
)

var opNames = [...]string{"==", "like", "exists", "<", "<=", ">", ">=", "regex", "startsWith", "endsWith", "stringContains", "cidrMatch"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Pred is one condition on one field.
type Pred struct {
	Field    *Field
	Op       Op
	Values   []Literal  // OpEqual, comparisons, string functions, OpCIDR
	Patterns []*Pattern // OpWildcard
	Regexps  []string   // OpRegex, in the query's syntax
	Fold     bool       // case-insensitive (EQL :, in~, like~, regex~, f~())
}

// LitKind is the type of a query literal.
type LitKind int

// Literal kinds.
const (
	LitString LitKind = iota
	LitNumber
	LitBool
	LitNull
)

// Literal is a constant in a query. Text always holds the value's spelling
// (for strings, the unescaped string), so a literal can be compared with the
// keyword form of a document value whatever its kind.
type Literal struct {
	Kind LitKind
	Text string
	Num  float64 // LitNumber, or a LitString whose Text is a number
	// IsNum reports whether Num is meaningful.
	IsNum bool
	Bool  bool // LitBool
}

// StringLit returns a string literal. A string that spells a number also
// compares numerically with numeric document values, as Elasticsearch
// coerces query strings for numeric fields.
func StringLit(s string) Literal {
	lit := Literal{Kind: LitString, Text: s}
	if n, err := strconv.ParseFloat(s, 64); err == nil && looksNumeric(s) {
		lit.Num, lit.IsNum = n, true
	}
	return lit
}

// looksNumeric rejects spellings ParseFloat accepts but no JSON number or
// Elasticsearch numeric field would: "Inf", "NaN", "0x1p3", "1_000".
func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// NumberLit returns a numeric literal spelled text.
func NumberLit(text string, n float64) Literal {
	return Literal{Kind: LitNumber, Text: text, Num: n, IsNum: true}
}

// BoolLit returns true or false.
func BoolLit(b bool) Literal {
	return Literal{Kind: LitBool, Text: strconv.FormatBool(b), Bool: b}
}

func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return strconv.Quote(l.Text)
	case LitNull:
		return "null"
	}
	return l.Text
}

func (e *And) String() string { return joinExprs("and", e.X) }
func (e *Or) String() string  { return joinExprs("or", e.X) }
func (e *Not) String() string { return "(not " + e.X.String() + ")" }
func (c Const) String() string {
	if c {
		return "true"
	}
	return "false"
}

func joinExprs(op string, xs []Expr) string {
	var b strings.Builder
	b.WriteString("(" + op)
	for _, x := range xs {
		b.WriteString(" " + x.String())
	}
	b.WriteString(")")
	return b.String()
}

func (p *Pred) String() string {
	var b strings.Builder
	b.WriteString(p.Field.Name)
	b.WriteString(" ")
	b.WriteString(p.Op.String())
	if p.Fold {
		b.WriteString("~")
	}
	var items []string
	switch p.Op {
	case OpExists:
		return b.String()
	case OpWildcard:
		for _, pat := range p.Patterns {
			items = append(items, pat.String())
		}
	case OpRegex:
		for _, re := range p.Regexps {
			items = append(items, strconv.Quote(re))
		}
	default:
		for _, v := range p.Values {
			items = append(items, v.String())
		}
	}
	if len(items) == 1 {
		fmt.Fprintf(&b, " %s", items[0])
	} else {
		fmt.Fprintf(&b, " (%s)", strings.Join(items, ", "))
	}
	return b.String()
}

// simplify flattens nested And/Or of the same kind and removes double
// negation, so later passes see a canonical tree.
func simplify(e Expr) Expr {
	switch x := e.(type) {
	case *And:
		var out []Expr
		for _, c := range x.X {
			c = simplify(c)
			if inner, ok := c.(*And); ok {
				out = append(out, inner.X...)
			} else {
				out = append(out, c)
			}
		}
		if len(out) == 1 {
			return out[0]
		}
		return &And{X: out}
	case *Or:
		var out []Expr
		for _, c := range x.X {
			c = simplify(c)
			if inner, ok := c.(*Or); ok {
				out = append(out, inner.X...)
			} else {
				out = append(out, c)
			}
		}
		if len(out) == 1 {
			return out[0]
		}
		return &Or{X: out}
	case *Not:
		inner := simplify(x.X)
		if n, ok := inner.(*Not); ok {
			return n.X
		}
		return &Not{X: inner}
	}
	return e
}

// Fields returns the fields e reads, each *Field once, in the order they
// first appear. The compiled matcher reads exactly these pointers.
func Fields(e Expr) []*Field {
	var out []*Field
	seen := map[*Field]bool{}
	var walk func(Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *And:
			for _, c := range x.X {
				walk(c)
			}
		case *Or:
			for _, c := range x.X {
				walk(c)
			}
		case *Not:
			walk(x.X)
		case *Pred:
			if !seen[x.Field] {
				seen[x.Field] = true
				out = append(out, x.Field)
			}
		}
	}
	walk(e)
	return out
}
