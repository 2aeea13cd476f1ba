package triage

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	// Exceptions name IANA time zones. Embedding the zone database keeps
	// them working on hosts without /usr/share/zoneinfo (scratch and
	// distroless images, Windows), where a CGO-free binary has no other
	// source for it.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
	"github.com/k8sexec/k8sexec/rules"
)

// Exception excepts known-benign findings from a report: findings of its
// rules that its `when` query matches, at times inside its window, until it
// expires. Exceptions come from a TOML file (see docs/exceptions.md).
type Exception struct {
	// Name is the name given in the file, or "exception N".
	Name string
	// Reason says why the findings it covers are benign. Always set.
	Reason string
	// Rules lists the rule IDs it applies to; empty means every rule.
	Rules []string
	// When is a KQL query over the finding's fields (docs/output.md
	// names); empty matches every finding of Rules.
	When string
	// Expires is the first instant at which the exception no longer
	// applies; zero means never. A date in the file (expires = 2027-03-31)
	// becomes the midnight that ends that day in the window's time zone
	// (UTC without one).
	Expires time.Time
	// Window, when set, limits the exception to findings whose timestamp
	// falls inside it.
	Window *Window
	// Source locates the exception: "FILE: exception N" (1-based, in file
	// order).
	Source string

	matcher     rules.Matcher // nil: matches every finding
	named       bool          // Name came from the file
	expiresText string        // expires as the file spelled it
}

// Window is a recurring stretch of time, such as "Saturdays 22:00-06:00 in
// Europe/Berlin".
type Window struct {
	// Days are the days on which the window starts, indexed by
	// time.Weekday. All false (or all true) means every day.
	Days [7]bool
	// From and To are minutes since midnight, To exclusive (1440 is
	// 24:00). From > To crosses midnight: the window runs from From on a
	// day in Days to To on the next day. From == To == 0 means all day.
	From, To int
	// Location is the time zone the days and hours are read in; nil means
	// UTC.
	Location *time.Location
}

// ExceptionError is a problem with one exception, or with the exceptions
// file as a whole (Index 0).
type ExceptionError struct {
	File  string
	Index int    // 1-based position in the file; 0 for the file as a whole
	Name  string // the name given in the file, if any
	Err   error
}

func (e *ExceptionError) Error() string {
	if e.Index == 0 {
		return e.File + ": " + e.Err.Error()
	}
	return exceptionLabel(e.File, e.Index, e.Name) + ": " + e.Err.Error()
}

func (e *ExceptionError) Unwrap() error { return e.Err }

func exceptionLabel(file string, index int, name string) string {
	s := file + ": exception " + strconv.Itoa(index)
	if name != "" {
		s += " (" + strconv.Quote(name) + ")"
	}
	return s
}

// String names the exception for messages: `FILE: exception N ("name")`.
func (e *Exception) String() string {
	if e.named {
		return e.Source + " (" + strconv.Quote(e.Name) + ")"
	}
	return e.Source
}

// ExpiresText returns the expiry as the file wrote it ("2027-03-31",
// "2027-03-31T18:00:00Z"), or "" when the exception never expires.
func (e *Exception) ExpiresText() string {
	if e.expiresText == "" && !e.Expires.IsZero() {
		return e.Expires.Format(time.RFC3339)
	}
	return e.expiresText
}

// MaxExceptionsFile bounds the size of an exceptions file: thousands of
// exceptions fit in far less.
const MaxExceptionsFile = 16 << 20

// LoadExceptions reads an exceptions file. Problems are reported as
// *ExceptionError values (several joined with errors.Join), each naming the
// file and the exception.
func LoadExceptions(path string) ([]*Exception, error) {
	data, err := rules.ReadLimited(path, MaxExceptionsFile)
	if err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	return ParseExceptions(data, path)
}

// exceptionsFile is the file's layout. Every value that users get wrong in
// more than one way is decoded as `any` and checked here, so that the
// message names the exception and the key rather than a Go type.
type exceptionsFile struct {
	Exception []toml.Primitive `toml:"exception"`
}

type rawException struct {
	Name    any            `toml:"name"`
	Rule    any            `toml:"rule"`
	When    any            `toml:"when"`
	Reason  any            `toml:"reason"`
	Expires any            `toml:"expires"`
	Window  toml.Primitive `toml:"window"`

	window *rawWindow // Window decoded; nil when absent
}

type rawWindow struct {
	Days     any `toml:"days"`
	Hours    any `toml:"hours"`
	Timezone any `toml:"timezone"`
}

// keyHints suggest the right key for likely mistakes.
var keyHints = map[string]string{
	"exceptions": "[[exception]]", "rules": "rule", "rule_id": "rule", "rule_ids": "rule",
	"query": "when", "condition": "when", "match": "when", "kql": "when",
	"expire": "expires", "expiry": "expires", "until": "expires", "expires_at": "expires",
	"comment": "reason", "description": "reason", "why": "reason",
	"day": "days", "hour": "hours", "time": "hours", "tz": "timezone", "zone": "timezone",
	"time_zone": "timezone", "location": "timezone", "windows": "window", "schedule": "window",
}

// ParseExceptions parses an exceptions file's contents; source names it in
// messages and in each Exception's Source.
func ParseExceptions(data []byte, source string) ([]*Exception, error) {
	var file exceptionsFile
	if err := rules.CheckTOMLNesting(data); err != nil {
		return nil, &ExceptionError{File: source, Err: err}
	}
	md, err := toml.Decode(string(data), &file)
	if err != nil {
		return nil, &ExceptionError{File: source, Err: err}
	}
	raws := make([]rawException, len(file.Exception))
	var errs []error
	for i, prim := range file.Exception {
		raw := &raws[i]
		err := md.PrimitiveDecode(prim, raw)
		if err == nil && !reflect.ValueOf(raw.Window).IsZero() {
			raw.window = &rawWindow{}
			if md.PrimitiveDecode(raw.Window, raw.window) != nil {
				err = errors.New("window: want a table ([exception.window] with days, hours, timezone)")
			}
		}
		if err != nil {
			name, _ := raw.Name.(string)
			errs = append(errs, &ExceptionError{File: source, Index: i + 1, Name: strings.TrimSpace(name), Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Keys of an array of tables carry no index, so an unknown key is
	// found by name first, then traced to the exceptions that hold it.
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "exception" {
			undecoded[k.String()] = true
			continue
		}
		if len(k) > 1 && undecoded[k[:len(k)-1].String()] {
			continue // inside an unknown table already reported
		}
		undecoded[k.String()] = true
		errs = append(errs, &ExceptionError{File: source, Err: unknownKeyError(k, true)})
	}
	var unknownIn [][]toml.Key
	if len(undecoded) > 0 {
		unknownIn = make([][]toml.Key, len(file.Exception))
		for i, prim := range file.Exception {
			var m map[string]any
			if err := md.PrimitiveDecode(prim, &m); err == nil {
				unknownIn[i] = unknownKeys(toml.Key{"exception"}, m, undecoded)
			}
		}
	}

	exs := make([]*Exception, 0, len(raws))
	named := map[string]int{} // the exception each name was first given, from 1
	for i := range raws {
		var problems []error
		if unknownIn != nil {
			for _, k := range unknownIn[i] {
				problems = append(problems, unknownKeyError(k[1:], false))
			}
		}
		ex, more := buildException(&raws[i], source, i+1)
		problems = append(problems, more...)
		// A finding says which exception suppressed it by name.
		if first, ok := named[ex.Name]; ok && ex.named {
			problems = append(problems, fmt.Errorf("name %q is also exception %d's: give each its own", ex.Name, first))
		} else if ex.named {
			named[ex.Name] = i + 1
		}
		name := ""
		if ex.named {
			name = ex.Name
		}
		for _, p := range problems {
			errs = append(errs, &ExceptionError{File: source, Index: i + 1, Name: name, Err: p})
		}
		exs = append(exs, ex)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return exs, nil
}

// isDefaultName reports whether name is of the form an exception without
// one is given: "exception N", in any case.
func isDefaultName(name string) bool {
	n, ok := strings.CutPrefix(strings.ToLower(name), "exception ")
	n = strings.TrimSpace(n)
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// unknownKeys lists the keys of one exception's table m (under prefix)
// that are in undecoded, outermost only.
func unknownKeys(prefix toml.Key, m map[string]any, undecoded map[string]bool) []toml.Key {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []toml.Key
	for _, k := range names {
		key := append(append(toml.Key{}, prefix...), k)
		if undecoded[key.String()] {
			out = append(out, key)
			continue
		}
		if sub, ok := m[k].(map[string]any); ok {
			out = append(out, unknownKeys(key, sub, undecoded)...)
		}
	}
	return out
}

func unknownKeyError(k toml.Key, topLevel bool) error {
	msg := "unknown key " + k.String()
	if hint, ok := keyHints[k[len(k)-1]]; ok {
		msg += " (did you mean " + hint + "?)"
	} else if topLevel && len(k) == 1 && allowedExceptionKey[k[0]] {
		msg += " (the keys of an exception go under an [[exception]] header)"
	}
	return errors.New(msg)
}

var allowedExceptionKey = map[string]bool{
	"name": true, "rule": true, "when": true, "reason": true, "expires": true, "window": true,
}

// buildException checks one decoded exception and returns it with every
// problem found (not just the first).
func buildException(raw *rawException, source string, index int) (*Exception, []error) {
	var problems []error
	fail := func(key string, format string, args ...any) {
		problems = append(problems, fmt.Errorf(key+": "+format, args...))
	}
	ex := &Exception{Source: source + ": exception " + strconv.Itoa(index)}

	switch name := raw.Name.(type) {
	case nil:
	case string:
		ex.Name = strings.TrimSpace(name)
		ex.named = ex.Name != ""
		if isDefaultName(ex.Name) {
			// It could pass for another exception that has no name.
			fail("name", "%q is how an exception without a name is called: choose another", ex.Name)
		}
	default:
		fail("name", "want a string, not %s", tomlType(name))
	}
	if !ex.named {
		ex.Name = "exception " + strconv.Itoa(index)
	}

	switch reason := raw.Reason.(type) {
	case nil:
		problems = append(problems, errors.New("reason is required: say why these findings are benign"))
	case string:
		ex.Reason = strings.TrimSpace(reason)
		if ex.Reason == "" {
			problems = append(problems, errors.New("reason is required: say why these findings are benign"))
		}
	default:
		fail("reason", "want a string, not %s", tomlType(reason))
	}

	ruleIDs, err := parseRuleList(raw.Rule)
	if err != nil {
		problems = append(problems, fmt.Errorf("rule: %w", err))
	}
	ex.Rules = ruleIDs

	switch when := raw.When.(type) {
	case nil:
	case string:
		ex.When = strings.TrimSpace(when)
		if ex.When == "" {
			// Blank would count as a condition given, and hold for
			// every finding of every rule.
			problems = append(problems, errors.New("when is empty: give a KQL query, or leave when out"))
			break
		}
		m, err := compileWhen(ex.When)
		if err != nil {
			problems = append(problems, fmt.Errorf("when: %w", err))
		}
		ex.matcher = m
	default:
		fail("when", "want a KQL query in a string, not %s", tomlType(when))
	}

	loc := time.UTC
	if raw.window != nil {
		w, errs := parseWindow(raw.window)
		for _, err := range errs {
			problems = append(problems, fmt.Errorf("window: %w", err))
		}
		ex.Window = w
		if w.Location != nil {
			loc = w.Location
		}
	}

	if raw.Expires != nil {
		at, text, err := parseExpires(raw.Expires, loc)
		if err != nil {
			problems = append(problems, fmt.Errorf("expires: %w", err))
		}
		ex.Expires, ex.expiresText = at, text
	}
	return ex, problems
}

// tomlType names a decoded TOML value's type the way the TOML spec does.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date or time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// parseRuleList reads `rule`: absent or "*" for every rule, one rule ID,
// or a list of them. It returns nil for every rule.
func parseRuleList(v any) ([]string, error) {
	var entries []string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		id := strings.TrimSpace(x)
		if id == "" {
			return nil, errors.New(`empty; name a rule_id, or use "*" (or leave rule out) for every rule`)
		}
		if id == "*" {
			return nil, nil
		}
		return []string{id}, nil
	case []any:
		if len(x) == 0 {
			return nil, errors.New(`empty list; name rule IDs, or use "*" (or leave rule out) for every rule`)
		}
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("entry %d: want a rule_id string, not %s", i+1, tomlType(e))
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, fmt.Errorf("entry %d is empty", i+1)
			}
			entries = append(entries, s)
		}
	default:
		return nil, fmt.Errorf("want a rule_id or a list of them, not %s", tomlType(v))
	}
	var ids []string
	seen := map[string]bool{}
	for _, id := range entries {
		if id == "*" {
			if len(entries) == 1 {
				return nil, nil
			}
			return nil, errors.New(`"*" means every rule and cannot be listed with rule IDs`)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// compileWhen parses and compiles a `when` query. It is KQL only: an
// exception is written against the finding's fields, and one language
// keeps files readable.
func compileWhen(query string) (rules.Matcher, error) {
	if _, lang, _ := rules.ParseQuery(query); lang == "eql" {
		return nil, errors.New(`this is EQL ("<category> where ..."); EQL is not accepted here, write the condition in KQL (field:value, and/or/not)`)
	}
	expr, err := rules.ParseKQL(query)
	if err != nil {
		if strings.Contains(query, "==") || strings.Contains(query, "!=") {
			return nil, fmt.Errorf("%w (write KQL, field:value; EQL is not accepted here)", err)
		}
		return nil, err
	}
	if err := checkFields(expr); err != nil {
		return nil, err
	}
	return rules.Compile(expr)
}

// checkFields rejects fields a finding does not have. Such a query would
// never match, or worse, `not field:x` would match (and suppress) every
// finding; both are almost always a field name copied from a rule that
// reads the raw event (kubernetes.audit.user.username) instead of the
// finding (user.name).
func checkFields(e rules.Expr) error {
	switch x := e.(type) {
	case *rules.And:
		for _, sub := range x.X {
			if err := checkFields(sub); err != nil {
				return err
			}
		}
	case *rules.Or:
		for _, sub := range x.X {
			if err := checkFields(sub); err != nil {
				return err
			}
		}
	case *rules.Not:
		return checkFields(x.X)
	case *rules.Pred:
		if x.Field == nil {
			return nil
		}
		leaf, ok := findingFields()[x.Field.Name]
		kind := fieldKinds()[x.Field.Name]
		if !ok {
			msg := fmt.Sprintf("%s is not a field of a finding (the names are those of the JSON output, docs/output.md)", x.Field.Name)
			if s := suggestField(x.Field.Name); s != "" {
				msg += "; did you mean " + s + "?"
			}
			return errors.New(msg)
		}
		if !leaf && x.Op != rules.OpExists {
			// A value never matches an object, so `not user:"alice"`
			// would suppress every finding.
			return fmt.Errorf("%s is an object; name one of its fields (such as %s)", x.Field.Name, firstLeafUnder(x.Field.Name))
		}
		return checkValues(x, kind)
	}
	return nil
}

// checkValues rejects a value a field of its kind can never hold, as
// Elasticsearch refuses such a query on a boolean or numeric field:
// `not exec.tty:True` would otherwise suppress every finding.
func checkValues(p *rules.Pred, kind reflect.Kind) error {
	switch kind {
	case reflect.Bool:
		if p.Op == rules.OpWildcard && len(p.Patterns) > 0 || p.Op != rules.OpEqual && p.Op != rules.OpWildcard && p.Op != rules.OpExists {
			return fmt.Errorf("%s is true or false: compare it with one of those", p.Field.Name)
		}
		for _, v := range p.Values {
			if v.Kind != rules.LitBool && v.Text != "true" && v.Text != "false" {
				return fmt.Errorf("%s is true or false, not %q", p.Field.Name, v.Text)
			}
		}
	case reflect.Int, reflect.Int64:
		if p.Op == rules.OpWildcard && len(p.Patterns) > 0 || p.Op == rules.OpRegex || p.Op == rules.OpCIDR ||
			p.Op == rules.OpStartsWith || p.Op == rules.OpEndsWith || p.Op == rules.OpContains {
			return fmt.Errorf("%s is a number: compare it with a number", p.Field.Name)
		}
		for _, v := range p.Values {
			if !v.IsNum && v.Kind != rules.LitNumber {
				return fmt.Errorf("%s is a number, not %q", p.Field.Name, v.Text)
			}
		}
	}
	return nil
}

// firstLeafUnder returns the alphabetically first value field under the
// object field name.
func firstLeafUnder(name string) string {
	var leaves []string
	for f, leaf := range findingFields() {
		if leaf && strings.HasPrefix(f, name+".") {
			leaves = append(leaves, f)
		}
	}
	sort.Strings(leaves)
	if len(leaves) == 0 {
		return name + ".*"
	}
	return leaves[0]
}

// eventFieldAliases map the names rules use on raw audit and process
// events to the finding fields that hold the same value.
var eventFieldAliases = map[string]string{
	"@timestamp":                                                 "timestamp",
	"kubernetes.audit.user.username":                             "user.name",
	"kubernetes.audit.user.uid":                                  "user.id",
	"kubernetes.audit.user.groups":                               "user.groups",
	"kubernetes.audit.impersonatedUser.username":                 "user.impersonated.name",
	"kubernetes.audit.impersonatedUser.groups":                   "user.impersonated.groups",
	"kubernetes.audit.sourceIPs":                                 "source.ip",
	"kubernetes.audit.userAgent":                                 "user_agent.original",
	"kubernetes.audit.auditID":                                   "kubernetes.audit_id",
	"kubernetes.audit.verb":                                      "kubernetes.verb",
	"kubernetes.audit.requestURI":                                "kubernetes.request_uri",
	"kubernetes.audit.objectRef.namespace":                       "orchestrator.namespace",
	"kubernetes.audit.objectRef.name":                            "orchestrator.resource.name",
	"kubernetes.audit.objectRef.resource":                        "kubernetes.resource",
	"kubernetes.audit.objectRef.subresource":                     "kubernetes.subresource",
	"kubernetes.audit.responseStatus.code":                       "kubernetes.response_code",
	"kubernetes.audit.annotations.authorization_k8s_io/decision": "kubernetes.decision",
	"kubernetes.audit.annotations.authorization_k8s_io/reason":   "kubernetes.reason",
	"kubernetes.namespace":                                       "orchestrator.namespace",
	"kubernetes.pod.name":                                        "orchestrator.resource.name",
	"kubernetes.container.name":                                  "container.name",
	"process.entry_leader.entity_id":                             "process.entry_leader_entity_id",
	"process.user.id":                                            "process.user_id",
	"process.command_line":                                       "process.args",
	"rule_id":                                                    "rule.id",
	"severity":                                                   "rule.severity",
	"namespace":                                                  "orchestrator.namespace",
	"pod":                                                        "orchestrator.resource.name",
	"verb":                                                       "kubernetes.verb",
	"kubernetes.audit.stage":                                     "session.stages",
	"kubernetes.audit.requestReceivedTimestamp":                  "session.start",
}

func suggestField(name string) string {
	if s, ok := eventFieldAliases[name]; ok {
		return s
	}
	// The same last segment in exactly one finding field.
	last := name[strings.LastIndexByte(name, '.')+1:]
	found := ""
	for f, leaf := range findingFields() {
		if leaf && (f == last || strings.HasSuffix(f, "."+last)) {
			if found != "" {
				return ""
			}
			found = f
		}
	}
	return found
}

// findingFields maps every field path of a finding's JSON form to whether
// it holds values (true) or objects (false: user, user.impersonated, ...).
// It is read from the Finding type so that it stays in step with the
// schema.
var findingFields = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	walkFields("", reflect.TypeFor[Finding](), map[reflect.Type]int{}, func(path string, _ reflect.Type, leaf bool) { set[path] = leaf })
	return set
})

// fieldKinds maps every value field of a finding's JSON form to the kind
// of its values (reflect.String, Bool, Int, Int64).
var fieldKinds = sync.OnceValue(func() map[string]reflect.Kind {
	kinds := map[string]reflect.Kind{}
	walkFields("", reflect.TypeFor[Finding](), map[reflect.Type]int{}, func(path string, t reflect.Type, leaf bool) {
		if leaf {
			kinds[path] = t.Kind()
		}
	})
	return kinds
})

// elemType strips pointers, slices and arrays: the type of one value.
func elemType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}

// walkFields calls visit with the path of every field of t's JSON form
// under prefix, the type of one of its values, and whether it holds
// values (leaf) rather than objects.
func walkFields(prefix string, t reflect.Type, depth map[reflect.Type]int, visit func(path string, t reflect.Type, leaf bool)) {
	t = elemType(t)
	if depth[t] >= 2 { // User nests User (impersonated); once is enough
		return
	}
	depth[t]++
	defer func() { depth[t]-- }()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if ft := elemType(f.Type); ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			visit(path, ft, false)
			walkFields(path, ft, depth, visit)
		} else {
			visit(path, ft, true)
		}
	}
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseWindow(raw *rawWindow) (*Window, []error) {
	w := &Window{Location: time.UTC}
	var errs []error
	switch tz := raw.Timezone.(type) {
	case nil:
	case string:
		tz = strings.TrimSpace(tz)
		switch {
		case tz == "":
		case strings.EqualFold(tz, "local"):
			errs = append(errs, errors.New(`timezone: "Local" depends on the machine that runs the scan; name a zone such as "Europe/Berlin" or "UTC"`))
		default:
			loc, err := time.LoadLocation(tz)
			if err != nil {
				errs = append(errs, fmt.Errorf("timezone: unknown time zone %q (use an IANA name such as \"Europe/Berlin\" or \"UTC\")", tz))
			} else {
				w.Location = loc
			}
		}
	default:
		errs = append(errs, fmt.Errorf("timezone: want an IANA zone name in a string, not %s", tomlType(tz)))
	}

	var dayItems []string
	switch d := raw.Days.(type) {
	case nil:
	case string:
		dayItems = []string{d}
	case []any:
		for i, e := range d {
			s, ok := e.(string)
			if !ok {
				errs = append(errs, fmt.Errorf("days: entry %d: want a day name, not %s", i+1, tomlType(e)))
				continue
			}
			dayItems = append(dayItems, s)
		}
	default:
		errs = append(errs, fmt.Errorf("days: want a list of day names, not %s", tomlType(d)))
	}
	for _, item := range dayItems {
		if err := w.addDays(item); err != nil {
			errs = append(errs, fmt.Errorf("days: %w", err))
		}
	}

	switch h := raw.Hours.(type) {
	case nil:
	case string:
		if strings.TrimSpace(h) != "" {
			from, to, err := parseHours(h)
			if err != nil {
				errs = append(errs, fmt.Errorf("hours: %w", err))
			}
			w.From, w.To = from, to
		}
	default:
		errs = append(errs, fmt.Errorf("hours: want \"HH:MM-HH:MM\" in a string, not %s", tomlType(h)))
	}
	return w, errs
}

// addDays sets the days named by one item: "mon", "Monday" or a range
// "mon-fri" (which may wrap: "fri-mon" is Friday to Monday).
func (w *Window) addDays(item string) error {
	first, last, isRange := strings.Cut(item, "-")
	from, err := weekday(first)
	if err != nil {
		return err
	}
	to := from
	if isRange {
		if to, err = weekday(last); err != nil {
			return err
		}
	}
	for d := from; ; d = (d + 1) % 7 {
		w.Days[d] = true
		if d == to {
			return nil
		}
	}
}

func weekday(name string) (time.Weekday, error) {
	d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return 0, fmt.Errorf("unknown day %q (use mon, tue, wed, thu, fri, sat, sun, full names, or a range such as \"mon-fri\")", strings.TrimSpace(name))
	}
	return d, nil
}

// parseHours reads "HH:MM-HH:MM". The end may be 24:00; an end before the
// start crosses midnight.
func parseHours(s string) (from, to int, err error) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want a range \"HH:MM-HH:MM\", such as \"22:00-06:00\"", s)
	}
	if from, err = clock(start, false); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	if to, err = clock(end, true); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	if from == to || (from == 0 && to == 24*60) {
		if from == to {
			return 0, 0, fmt.Errorf("%q starts and ends at the same time; leave hours out for the whole day", s)
		}
		return 0, 0, nil // 00:00-24:00 is the whole day
	}
	return from, to, nil
}

func clock(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	if errH != nil || errM != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
		return 0, fmt.Errorf("%q is not a time HH:MM (00:00 to 23:59, or 24:00 as an end)", s)
	}
	return h*60 + m, nil
}

// The BurntSushi decoder marks TOML values without an offset by the name
// of their location.
const (
	tomlLocalDate     = "date-local"
	tomlLocalDatetime = "datetime-local"
	tomlLocalTime     = "time-local"
)

// parseExpires reads `expires`: a TOML date (the exception holds through
// the end of that day in loc), a local date-time (read in loc), or an
// offset date-time. A string in one of those forms is accepted too.
func parseExpires(v any, loc *time.Location) (time.Time, string, error) {
	switch x := v.(type) {
	case time.Time:
		switch x.Location().String() {
		case tomlLocalDate:
			return endOfDay(x, loc), x.Format(time.DateOnly), nil
		case tomlLocalDatetime:
			return wallIn(x, loc), x.Format("2006-01-02T15:04:05.999999999"), nil
		case tomlLocalTime:
			return time.Time{}, "", errors.New("a time of day alone is not an expiry; give a date such as 2027-03-31")
		}
		return x, x.Format(time.RFC3339Nano), nil
	case string:
		s := strings.TrimSpace(x)
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return endOfDay(t, loc), s, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, s, nil
		}
		if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
			return wallIn(t, loc), s, nil
		}
		return time.Time{}, "", fmt.Errorf("%q is not a date (2027-03-31) or a date-time (2027-03-31T18:00:00Z)", s)
	}
	return time.Time{}, "", fmt.Errorf("want a date such as 2027-03-31, not %s", tomlType(v))
}

// endOfDay returns the midnight that ends t's calendar day in loc.
func endOfDay(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
}

// wallIn reads t's wall clock in loc.
func wallIn(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// Expired reports whether the exception has expired at now: at or after
// Expires.
func (e *Exception) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// AppliesTo reports whether the exception covers findings of the rule.
func (e *Exception) AppliesTo(ruleID string) bool {
	if len(e.Rules) == 0 {
		return true
	}
	for _, id := range e.Rules {
		if id == ruleID {
			return true
		}
	}
	return false
}

// always reports whether the window admits every time.
func (w *Window) always() bool {
	if w == nil {
		return true
	}
	if w.From != 0 || w.To != 0 {
		return false
	}
	n := 0
	for _, d := range w.Days {
		if d {
			n++
		}
	}
	return n == 0 || n == 7
}

// Contains reports whether t falls inside the window, reading t in the
// window's time zone. A nil window contains every time.
func (w *Window) Contains(t time.Time) bool {
	if w == nil {
		return true
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	minute := local.Hour()*60 + local.Minute()
	startDay := local.Weekday()
	switch {
	case w.From == 0 && w.To == 0:
	case w.From < w.To:
		if minute < w.From || minute >= w.To {
			return false
		}
	default: // crosses midnight
		switch {
		case minute >= w.From:
		case minute < w.To:
			startDay = (startDay + 6) % 7 // began the day before
		default:
			return false
		}
	}
	return w.onDay(startDay)
}

func (w *Window) onDay(d time.Weekday) bool {
	someDay := false
	for _, on := range w.Days {
		someDay = someDay || on
	}
	return !someDay || w.Days[d]
}

// Covers reports whether the exception covers the finding: the finding's
// rule is one of the exception's, its time is inside the window, and the
// `when` query matches doc (the finding's JSON form read with
// scan.Adapt). Expiry is not checked here; Apply does that. A finding
// whose timestamp does not parse is never inside a window.
func (e *Exception) Covers(f *Finding, doc rules.Document) bool {
	return e.covers(f, func() rules.Document { return doc }, func() (time.Time, bool) { return findingTime(f) })
}

func (e *Exception) covers(f *Finding, doc func() rules.Document, at func() (time.Time, bool)) bool {
	if !e.AppliesTo(f.Rule.ID) {
		return false
	}
	if !e.Window.always() {
		t, ok := at()
		if !ok || !e.Window.Contains(t) {
			return false
		}
	}
	if e.matcher == nil {
		return true
	}
	d := doc()
	return d != nil && e.matcher.Match(d)
}

func findingTime(f *Finding) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, f.Timestamp)
	return t, err == nil
}

// Suppression is a finding an exception covered.
type Suppression struct {
	Finding *Finding
	By      *Exception
}

// Apply splits findings into those to report (kept, in their order) and
// those an exception covers (suppressed, in their order), each by the
// first exception in file order that covers it. Exceptions expired at now
// suppress nothing and are returned, in file order, so the caller can
// warn. docOf builds the document a `when` query is evaluated on (from the
// finding's JSON with scan.Adapt); it is called at most once per finding,
// and only when a `when` query needs it. Apply changes no finding.
func Apply(findings []*Finding, exs []*Exception, now time.Time, docOf func(*Finding) rules.Document) (kept []*Finding, suppressed []Suppression, expired []*Exception) {
	active := make([]*Exception, 0, len(exs))
	for _, e := range exs {
		if e.Expired(now) {
			expired = append(expired, e)
		} else {
			active = append(active, e)
		}
	}
	kept = make([]*Finding, 0, len(findings))
	for _, f := range findings {
		var (
			doc      rules.Document
			docBuilt bool
			at       time.Time
			atOK     bool
			atParsed bool
		)
		docFn := func() rules.Document {
			if !docBuilt {
				docBuilt = true
				if docOf != nil {
					doc = docOf(f)
				}
			}
			return doc
		}
		atFn := func() (time.Time, bool) {
			if !atParsed {
				atParsed = true
				at, atOK = findingTime(f)
			}
			return at, atOK
		}
		var by *Exception
		for _, e := range active {
			if e.covers(f, docFn, atFn) {
				by = e
				break
			}
		}
		if by != nil {
			suppressed = append(suppressed, Suppression{Finding: f, By: by})
		} else {
			kept = append(kept, f)
		}
	}
	return kept, suppressed, expired
}

// UnknownRules lists, for each exception, the rule IDs it names that known
// does not: `FILE: exception N ("name"): rule X is not loaded`. An unknown
// ID is not an error (the rule may come from a file not loaded this run),
// but it is worth a warning: a typo leaves findings unsuppressed.
func UnknownRules(exs []*Exception, known func(id string) bool) []string {
	var out []string
	for _, e := range exs {
		for _, id := range e.Rules {
			if !known(id) {
				out = append(out, e.String()+": rule "+id+" is not loaded")
			}
		}
	}
	return out
}
