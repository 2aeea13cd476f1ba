package rules

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Matcher evaluates a compiled query against one document.
type Matcher interface {
	Match(doc Document) bool
}

// Compile turns a parsed query into a Matcher. It fails only on things the
// parsers already accept but cannot run, such as an invalid regular
// expression.
func Compile(e Expr) (Matcher, error) {
	switch x := e.(type) {
	case Const:
		return constMatcher(x), nil
	case *Not:
		m, err := Compile(x.X)
		if err != nil {
			return nil, err
		}
		return notMatcher{m}, nil
	case *And:
		ms, err := compileAll(x.X)
		return andMatcher(ms), err
	case *Or:
		ms, err := compileAll(x.X)
		return orMatcher(ms), err
	case *Pred:
		test, err := valueTest(x)
		if err != nil {
			return nil, err
		}
		return &predMatcher{field: x.Field, test: test}, nil
	}
	return nil, fmt.Errorf("compile: unexpected expression %T", e)
}

func compileAll(xs []Expr) ([]Matcher, error) {
	out := make([]Matcher, len(xs))
	for i, x := range xs {
		m, err := Compile(x)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

type constMatcher bool

func (c constMatcher) Match(Document) bool { return bool(c) }

type notMatcher struct{ m Matcher }

func (n notMatcher) Match(doc Document) bool { return !n.m.Match(doc) }

type andMatcher []Matcher

func (a andMatcher) Match(doc Document) bool {
	for _, m := range a {
		if !m.Match(doc) {
			return false
		}
	}
	return true
}

type orMatcher []Matcher

func (o orMatcher) Match(doc Document) bool {
	for _, m := range o {
		if m.Match(doc) {
			return true
		}
	}
	return false
}

// predMatcher holds when any value of field passes test. test is built once,
// so a match allocates nothing.
type predMatcher struct {
	field *Field
	test  func(gjson.Result) bool
}

func (p *predMatcher) Match(doc Document) bool { return doc.Any(p.field, p.test) }

// A fieldType is how Elasticsearch reads the values of a field whose ECS
// type the default tests do not fit (ip.go, date.go, and the identifiers,
// keywords however numeric they look): which values it indexes, and what
// a term and a range on it mean. Other operators read the values as
// keywords.
type fieldType struct {
	exists      func(gjson.Result) bool
	equal, rang func(*Pred) (func(gjson.Result) bool, error)
	// spellings: a value has many spellings, or a query value (a CIDR
	// block, a day) none of its own, so the prefilter cannot look for
	// a term's text.
	spellings bool
}

var (
	ipType      = &fieldType{exists: ipExistsTest, equal: ipEqualTest, rang: ipRangeTest, spellings: true}
	dateType    = &fieldType{exists: dateExistsTest, equal: dateEqualTest, rang: dateRangeTest, spellings: true}
	keywordType = &fieldType{exists: Exists, equal: keywordEqualTest, rang: keywordRangeTest}
)

// typeOf is the type of the ECS field name, nil for the default tests:
// a keyword, a number (compared as a number, as a numeric mapping does),
// or a boolean.
func typeOf(name string) *fieldType {
	switch {
	case ipFields[name]:
		return ipType
	case dateFields[name]:
		return dateType
	case keywordField(name):
		return keywordType
	}
	return nil
}

// valueTest builds the per-value test for a predicate.
func valueTest(p *Pred) (func(gjson.Result) bool, error) {
	if ft := typeOf(p.Field.Name); ft != nil {
		switch p.Op {
		case OpExists:
			return ft.exists, nil
		case OpEqual:
			return ft.equal(p)
		case OpLess, OpLessEq, OpGreater, OpGreaterEq:
			return ft.rang(p)
		}
	}
	switch p.Op {
	case OpExists:
		return Exists, nil
	case OpEqual:
		return equalTest(p.Values, p.Fold), nil
	case OpWildcard:
		return wildcardTest(p.Patterns, p.Fold), nil
	case OpLess, OpLessEq, OpGreater, OpGreaterEq:
		return rangeTest(p.Op, p.Values[0]), nil
	case OpRegex:
		var res []*regexp.Regexp
		for _, src := range p.Regexps {
			re, err := compileRegex(src, p.Fold)
			if err != nil {
				return nil, err
			}
			res = append(res, re)
		}
		return func(v gjson.Result) bool {
			s, ok := scalarText(v)
			if !ok {
				return false
			}
			for _, re := range res {
				if re.MatchString(s) {
					return true
				}
			}
			return false
		}, nil
	case OpStartsWith, OpEndsWith, OpContains:
		return stringFuncTest(p.Op, p.Values, p.Fold), nil
	case OpCIDR:
		var blocks []netip.Prefix
		for _, v := range p.Values {
			b, err := parseCIDR(v.Text)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		}
		return inBlocks(blocks), nil
	}
	return nil, fmt.Errorf("compile: unknown operator %v", p.Op)
}

// scalarText is the keyword form of a scalar value; objects have none.
func scalarText(v gjson.Result) (string, bool) {
	switch v.Type {
	case gjson.String:
		return v.Str, true
	case gjson.Number, gjson.True, gjson.False:
		return v.Raw, true
	}
	return "", false
}

// Exists holds for any indexed value: a scalar, or an object with a leaf
// value somewhere below it (Elasticsearch's exists on an object field
// looks for any of its sub-fields, and nulls, empty arrays and empty
// objects index nothing). It is the test of `f:*` and `f != null`.
func Exists(v gjson.Result) bool {
	switch {
	case v.Type == gjson.Null:
		return false
	case v.IsObject(), v.IsArray():
		found := false
		v.ForEach(func(_, m gjson.Result) bool {
			found = Exists(m)
			return !found
		})
		return found
	}
	return true
}

// equalTest compares each value with the literals the way a term query
// would: strings exactly (or case-folded), numbers numerically when both
// sides are numbers, and booleans by their spelling, which is also how
// Elasticsearch reads "true" and "false" strings in a boolean field.
func equalTest(lits []Literal, fold bool) func(gjson.Result) bool {
	texts := make(map[string]bool, len(lits))
	var nums []number
	for _, l := range lits {
		t := l.Text
		if fold {
			t = lowerASCII(t)
		}
		texts[t] = true
		if l.IsNum {
			nums = append(nums, numberOf(l.Text, l.Num))
		}
	}
	hasNum := func(n number) bool {
		for _, x := range nums {
			if x.compare(n) == 0 {
				return true
			}
		}
		return false
	}
	return func(v gjson.Result) bool {
		switch v.Type {
		case gjson.String:
			s := v.Str
			if fold {
				s = lowerASCII(s)
			}
			if texts[s] {
				return true
			}
			if len(nums) > 0 && looksNumeric(v.Str) {
				if n, err := strconv.ParseFloat(v.Str, 64); err == nil {
					return hasNum(numberOf(v.Str, n))
				}
			}
			return false
		case gjson.Number:
			if len(nums) > 0 && hasNum(numberOf(v.Raw, v.Num)) {
				return true
			}
			return texts[v.Raw]
		case gjson.True, gjson.False:
			return texts[v.Raw]
		}
		return false
	}
}

// lowerASCII lower-cases ASCII letters only. Elasticsearch's
// case_insensitive term and wildcard queries (EQL `:`, in~, like~) fold
// ASCII only, so "É" does not match "é" and the Kelvin sign is no "k".
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

func wildcardTest(patterns []*Pattern, fold bool) func(gjson.Result) bool {
	if fold {
		lowered := make([]*Pattern, len(patterns))
		for i, p := range patterns {
			lowered[i] = p.lower()
		}
		patterns = lowered
	}
	return func(v gjson.Result) bool {
		s, ok := scalarText(v)
		if !ok {
			return false
		}
		if fold {
			s = lowerASCII(s)
		}
		for _, p := range patterns {
			if p.Match(s) {
				return true
			}
		}
		return false
	}
}

// stringFuncTest runs startsWith, endsWith and stringContains. On a field
// with constant arguments Elasticsearch turns them into prefix and
// wildcard queries, whose case_insensitive form folds ASCII letters only,
// like `:` and in~.
func stringFuncTest(op Op, lits []Literal, fold bool) func(gjson.Result) bool {
	var needles []string
	for _, l := range lits {
		n := l.Text
		if fold {
			n = lowerASCII(n)
		}
		needles = append(needles, n)
	}
	return func(v gjson.Result) bool {
		s, ok := scalarText(v)
		if !ok {
			return false
		}
		if fold {
			s = lowerASCII(s)
		}
		for _, n := range needles {
			switch {
			case op == OpStartsWith && strings.HasPrefix(s, n),
				op == OpEndsWith && strings.HasSuffix(s, n),
				op == OpContains && strings.Contains(s, n):
				return true
			}
		}
		return false
	}
}

// rangeTest orders numbers numerically, RFC 3339 timestamps by time, and
// anything else by bytes, as a keyword range query does.
func rangeTest(op Op, lit Literal) func(gjson.Result) bool {
	litTime, litIsTime := parseTime(lit.Text)
	litNum := numberOf(lit.Text, lit.Num)
	return func(v gjson.Result) bool {
		var cmp int
		switch {
		case lit.IsNum && v.Type == gjson.Number:
			cmp = numberOf(v.Raw, v.Num).compare(litNum)
		case lit.IsNum && v.Type == gjson.String && looksNumeric(v.Str):
			n, err := strconv.ParseFloat(v.Str, 64)
			if err != nil {
				return false
			}
			cmp = numberOf(v.Str, n).compare(litNum)
		case v.Type == gjson.String:
			if t, ok := parseTime(v.Str); ok && litIsTime {
				cmp = t.Compare(litTime)
			} else {
				cmp = strings.Compare(v.Str, lit.Text)
			}
		default:
			return false
		}
		return holds(op, cmp)
	}
}

// keywordField reports whether ECS (or Elastic's Kubernetes integration)
// maps the field as a keyword though its values are often numbers: the
// identifiers, user.id "1000" and the like. Elasticsearch compares such a
// field's text, so user.id:1000 holds for "1000" and the JSON number 1000,
// not for "01000" or 1000.0, and a range compares bytes. Other fields
// holding numbers are compared as numbers (they are mapped numeric, or
// dynamically so). The thread IDs are numbers in ECS.
func keywordField(name string) bool {
	switch {
	case strings.HasSuffix(name, "thread.id"):
		return false
	case strings.HasSuffix(name, ".id"), strings.HasSuffix(name, ".uid"), strings.HasSuffix(name, ".entity_id"):
		return true
	}
	return name == "event.code" || name == "kubernetes.audit.objectRef.resourceVersion"
}

// keywordEqualTest is a term on an identifier: its text, a JSON number's
// as it is written; numbers lose their numeric reading.
func keywordEqualTest(p *Pred) (func(gjson.Result) bool, error) {
	lits := make([]Literal, len(p.Values))
	for i, l := range p.Values {
		l.IsNum = false
		lits[i] = l
	}
	return equalTest(lits, p.Fold), nil
}

// keywordRangeTest compares an identifier's text, a JSON number's as it
// is written, with the bound's, byte by byte, as Elasticsearch ranges
// over a keyword field.
func keywordRangeTest(p *Pred) (func(gjson.Result) bool, error) {
	op, lit := p.Op, p.Values[0]
	return func(v gjson.Result) bool {
		s, ok := scalarText(v)
		return ok && holds(op, strings.Compare(s, lit.Text))
	}, nil
}

// holds says whether a comparison's result cmp (as from strings.Compare)
// satisfies the range operator op.
func holds(op Op, cmp int) bool {
	switch op {
	case OpLess:
		return cmp < 0
	case OpLessEq:
		return cmp <= 0
	case OpGreater:
		return cmp > 0
	}
	return cmp >= 0
}

// number is a numeric value, with its exact integer where its spelling
// is one that fits a long.
type number struct {
	f     float64
	i     int64
	isInt bool
}

func numberOf(text string, f float64) number {
	n := number{f: f}
	if !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			n.i, n.isInt = i, true
		}
	}
	return n
}

// compare orders two numbers: exactly when both are integers that fit a
// long, as Elasticsearch compares a long field (9007199254740993 is not
// 9007199254740992, which doubles cannot tell apart), else as doubles.
func (a number) compare(b number) int {
	if a.isInt && b.isInt {
		return cmp.Compare(a.i, b.i)
	}
	return compareFloat(a.f, b.f)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR block %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// compileRegex translates the part of Lucene's regular expression syntax
// that Go's RE2 shares (literals, ., [...] classes, groups, |, * + ? {n,m})
// and rejects the rest (the optional operators ~ & < > @ #, quoted strings,
// and \d \s \w, whose meaning differs between Lucene versions) rather than
// guess at it. In Lucene a backslash makes any character literal, patterns
// are anchored at both ends, ^ and $ are ordinary characters, and `.`
// matches newlines.
func compileRegex(src string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	// literal writes a character that stands for itself. regex~ folds
	// ASCII letters only (Lucene's ASCII_CASE_INSENSITIVE flag), which RE2's
	// (?i) would not do: it also matches the Kelvin sign for k.
	literal := func(r rune) {
		if fold && r < utf8.RuneSelf && unicode.IsLetter(r) {
			fmt.Fprintf(&b, "[%c%c]", unicode.ToLower(r), unicode.ToUpper(r))
			return
		}
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	inClass := false
	// atom reports whether something precedes that a repetition operator
	// could apply to. Lucene reads an operator with nothing before it (at
	// the start, after '(' or '|') as a literal character, so `(?i)` is a
	// group holding "?i", not RE2's flag syntax.
	atom := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if !inClass && !atom && strings.IndexByte("?*+{", c) >= 0 {
			b.WriteString(regexp.QuoteMeta(string(c)))
			atom = true
			continue
		}
		atom = !(c == '(' || c == '|') || inClass
		switch {
		case c == '\\':
			if i+1 >= len(src) {
				return nil, fmt.Errorf("regex %q ends with a backslash", src)
			}
			i++
			e := src[i]
			if strings.IndexByte("dDsSwW", e) >= 0 {
				return nil, unsupported("regex character class \\%c in %q", e, src)
			}
			r, size := utf8.DecodeRuneInString(src[i:])
			if inClass {
				b.WriteString(regexp.QuoteMeta(string(r)))
			} else {
				literal(r)
			}
			i += size - 1
		case inClass:
			if c == ']' {
				inClass = false
				if fold {
					b.WriteString("])")
					continue
				}
			}
			if c == '[' {
				b.WriteString(`\[`)
				continue
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			if fold {
				// A class keeps RE2's case folding (see docs/rules.md).
				b.WriteString("(?i:")
			}
			b.WriteByte(c)
			if i+1 < len(src) && src[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(src) && src[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case strings.IndexByte("~&<>@#\"", c) >= 0:
			return nil, unsupported("Lucene regex operator %q in %q", string(c), src)
		case c == '^' || c == '$':
			b.WriteString(regexp.QuoteMeta(string(c)))
		case c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
			literal(rune(c))
		default:
			b.WriteByte(c)
		}
	}
	if inClass {
		return nil, fmt.Errorf("regex %q has an unclosed [", src)
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("regex %q: %v", src, err)
	}
	return re, nil
}
