package rules_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

func newTermsRule(t *testing.T, fields, window string) *rules.Rule {
	t.Helper()
	src := `[rule]
rule_id = "nt"
name = "NT"
severity = "low"
type = "new_terms"
language = "kuery"
query = 'event.dataset:"kubernetes.audit_logs"'

[rule.new_terms]
field = "new_terms_fields"
value = [` + fields + `]

[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "` + window + `"
`
	r, err := rules.Parse([]byte(src), "nt.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func TestParseNewTerms(t *testing.T) {
	r := newTermsRule(t, `"user_agent.original", "source.ip"`, "now-7d")
	nt := r.NewTerms
	if nt == nil || len(nt.Fields) != 2 || nt.Fields[0].Name != "user_agent.original" || nt.Fields[1].Name != "source.ip" {
		t.Fatalf("NewTerms = %+v", nt)
	}
	if nt.History != 7*24*time.Hour || nt.HistoryText != "now-7d" || nt.Window() != "7 days" {
		t.Errorf("history %v %q %q", nt.History, nt.HistoryText, nt.Window())
	}
	for window, want := range map[string]time.Duration{"now-2w": 14 * 24 * time.Hour, "now-10d": 240 * time.Hour, "now-36h": 36 * time.Hour, "now-36H": 36 * time.Hour, "now-90m": 90 * time.Minute, "now-30s": 30 * time.Second} {
		if got := newTermsRule(t, `"a"`, window).NewTerms.History; got != want {
			t.Errorf("%s: %v, want %v", window, got, want)
		}
	}

	base := strings.ReplaceAll(`[rule]
rule_id = "nt"
name = "NT"
severity = "low"
type = "new_terms"
language = "kuery"
query = 'a:b'
NEWTERMS`, "\r", "")
	for name, tc := range map[string]struct{ table, reason string }{
		"no table":        {"", "without new_terms fields"},
		"months":          {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\"]\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-1M\"\n", `"now-1M"`},
		"absolute date":   {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\"]\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"2024-01-01\"\n", `"2024-01-01"`},
		"zero":            {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\"]\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-0d\"\n", `"now-0d"`},
		"no window":       {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\"]\n", "without history_window_start"},
		"four fields":     {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\", \"b\", \"c\", \"d\"]\n", "4 fields"},
		"repeated field":  {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a\", \"a\"]\n", "twice"},
		"wildcard field":  {"[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"a.*\"]\n", `"a.*"`},
		"other key field": {"[rule.new_terms]\nfield = \"other\"\nvalue = [\"a\"]\n", `"other"`},
	} {
		_, err := rules.Parse([]byte(strings.Replace(base, "NEWTERMS", tc.table, 1)), "nt.toml")
		res := rules.LoadResult{Path: "nt.toml", Err: err}
		if !res.Skipped() || !strings.Contains(res.Reason(), tc.reason) {
			t.Errorf("%s: err %v, want skipped with %q", name, err, tc.reason)
		}
	}
}

// jsonDoc reads fields the way Elasticsearch sees an ECS document, for
// tests: nested objects only.
type jsonDoc struct{ root gjson.Result }

func (d jsonDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	v := d.root.Get(strings.ReplaceAll(f.Name, "@", `\@`))
	if v.IsArray() {
		for _, e := range v.Array() {
			if test(e) {
				return true
			}
		}
		return false
	}
	return v.Exists() && v.Type != gjson.Null && test(v)
}

func TestNewTermsTerms(t *testing.T) {
	nt := newTermsRule(t, `"user.name", "user_agent.original"`, "now-7d").NewTerms
	doc := func(s string) rules.Document { return jsonDoc{gjson.Parse(s)} }
	ts, combos, ok := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00.5+01:00","user":{"name":"alice"},"user_agent":{"original":["10.0.0.1","10.0.0.2","10.0.0.1"]}}`))
	want := time.Date(2026, 11, 20, 7, 0, 0, 5e8, time.UTC).UnixNano()
	if !ok || ts != want || len(combos) != 2 || combos[0] == combos[1] {
		t.Fatalf("Terms = %d %q %v", ts, combos, ok)
	}
	// A value holding the separator cannot pass for another combination.
	_, a, _ := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00Z","user":{"name":"a:1"},"user_agent":{"original":"b"}}`))
	_, b, _ := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00Z","user":{"name":"a"},"user_agent":{"original":"1:b"}}`))
	if a[0] == b[0] {
		t.Errorf("combinations collide: %q", a[0])
	}
	if _, combos, ok := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00Z","user":{"name":"alice"}}`)); !ok || combos != nil {
		t.Errorf("missing field: %q %v", combos, ok)
	}
	for _, s := range []string{`{"user":{"name":"a"},"user_agent":{"original":"b"}}`, `{"@timestamp":"yesterday","user":{"name":"a"},"user_agent":{"original":"b"}}`, `{"@timestamp":"0001-01-01T00:00:00Z","user":{"name":"a"},"user_agent":{"original":"b"}}`} {
		if _, _, ok := nt.Terms(doc(s)); ok {
			t.Errorf("%s: timed", s)
		}
	}
	// Numbers and booleans are terms as Elasticsearch indexes them.
	if _, combos, _ := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00Z","user":{"name":7},"user_agent":{"original":true}}`)); len(combos) != 1 || combos[0] != "1:74:true" {
		t.Errorf("scalars: %q", combos)
	}
	// Arrays multiply up to the cap.
	var agents []string
	for i := range 30 {
		agents = append(agents, `"curl/`+string(rune('a'+i%26))+string(rune('a'+i/26))+`"`)
	}
	big := `{"@timestamp":"2026-11-20T08:00:00Z","user":{"name":["a","b","c","d","e"]},"user_agent":{"original":[` + strings.Join(agents, ",") + `]}}`
	if _, combos, _ := nt.Terms(doc(big)); len(combos) != 100 {
		t.Errorf("%d combinations, want the cap of 100", len(combos))
	}
}

// On an ip field the terms are addresses, as Elasticsearch's terms
// aggregation returns them: one spelling per address, and a value that is
// no address is not indexed, so no term.
func TestNewTermsIPTerms(t *testing.T) {
	nt := newTermsRule(t, `"source.ip"`, "now-7d").NewTerms
	doc := func(s string) rules.Document { return jsonDoc{gjson.Parse(s)} }
	terms := func(ips string) []string {
		_, combos, ok := nt.Terms(doc(`{"@timestamp":"2026-11-20T08:00:00Z","source":{"ip":` + ips + `}}`))
		if !ok {
			t.Fatalf("%s: untimed", ips)
		}
		return combos
	}
	if a, b := terms(`"10.0.0.1"`), terms(`"::ffff:10.0.0.1"`); len(a) != 1 || !slices.Equal(a, b) {
		t.Errorf("10.0.0.1 %q and ::ffff:10.0.0.1 %q should be one term", a, b)
	}
	if a, b := terms(`"2001:DB8:0::1"`), terms(`"2001:db8::1"`); len(a) != 1 || !slices.Equal(a, b) {
		t.Errorf("two spellings of 2001:db8::1 give %q and %q", a, b)
	}
	if got := terms(`["10.0.0.1","::ffff:10.0.0.1","not-an-ip",7]`); len(got) != 1 {
		t.Errorf("one address, a word and a number: %q, want one term", got)
	}
	if got := terms(`"not-an-ip"`); got != nil {
		t.Errorf("no address: %q, want no term", got)
	}
}

// TestTermsHistoryWorked checks hand-worked cases with a window of 7 days.
func TestTermsHistoryWorked(t *testing.T) {
	r := newTermsRule(t, `"user_agent.original"`, "now-7d")
	day := int64(24 * time.Hour)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	type obs struct {
		at     int64 // days after t0, in nanoseconds
		combos []string
		timed  bool
	}
	cases := []struct {
		name string
		obs  []obs
		want []int
	}{
		{"within the first window nothing is new", []obs{{0, []string{"a"}, true}, {6 * day, []string{"b"}, true}}, nil},
		{"a value first seen after the first window is new", []obs{{0, []string{"a"}, true}, {8 * day, []string{"b"}, true}}, []int{1}},
		{"seen 8 days before: new again", []obs{{0, []string{"a"}, true}, {8 * day, []string{"a"}, true}}, []int{1}},
		{"seen exactly 7 days before: not new", []obs{{0, []string{"a"}, true}, {7 * day, []string{"a"}, true}}, nil},
		{"seen 6 days before: not new", []obs{{0, []string{"x"}, true}, {2 * day, []string{"a"}, true}, {8 * day, []string{"a"}, true}}, nil},
		{"only the first of equal times is new", []obs{{0, []string{"x"}, true}, {8 * day, []string{"a"}, true}, {8 * day, []string{"a"}, true}}, []int{1}},
		{"observed out of order: the earlier match rules the later out", []obs{{0, []string{"x"}, true}, {9 * day, []string{"a"}, true}, {8 * day, []string{"a"}, true}}, []int{2}},
		{"learning starts at the earliest match, whenever observed", []obs{{9 * day, []string{"a"}, true}, {3 * day, []string{"x"}, true}}, nil},
		{"one new combination of several is enough", []obs{{0, []string{"a"}, true}, {8 * day, []string{"b"}, true}, {9 * day, []string{"b", "c"}, true}}, []int{1, 2}},
		{"every combination seen: not new", []obs{{0, []string{"a"}, true}, {8 * day, []string{"b"}, true}, {8 * day, []string{"c"}, true}, {9 * day, []string{"b", "c"}, true}}, []int{1, 2}},
		{"untimed and valueless matches are never new and teach nothing", []obs{{0, []string{"x"}, true}, {8 * day, []string{"a"}, false}, {8 * day, nil, true}, {9 * day, []string{"a"}, true}}, []int{3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := rules.NewTermsHistory(r)
			for i, o := range tc.obs {
				h.Observe(i, t0+o.at, o.combos, o.timed)
			}
			got, sum := h.Final()
			if !slices.Equal(got, tc.want) {
				t.Errorf("new %v, want %v", got, tc.want)
			}
			if sum.New != len(tc.want) || sum.Matches != len(tc.obs) || sum.Rule != r {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// TestTermsHistoryMatchesModel holds TermsHistory to a direct reading of
// the condition on random matches observed in random order: sort by time
// (then observation order), and call a match new when it is past the
// first window and some combination of it has no match before it in the
// window. Observe may keep a match that is not new, never drop one that is.
func TestTermsHistoryMatchesModel(t *testing.T) {
	r := newTermsRule(t, `"a"`, "now-10s")
	w := int64(10 * time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3000 {
		n := 1 + rng.IntN(30)
		ts := make([]int64, n)
		cs := make([][]string, n)
		for i := range n {
			ts[i] = int64(rng.IntN(60)) * int64(time.Second) / int64(1+rng.IntN(2))
			for _, k := range []string{"p", "q", "r"} {
				if rng.IntN(3) == 0 {
					cs[i] = append(cs[i], k)
				}
			}
		}
		h := rules.NewTermsHistory(r)
		kept := make([]bool, n)
		for i := range n {
			kept[i] = h.Observe(i, ts[i], cs[i], true)
		}
		got, _ := h.Final()

		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return int(ts[a]/1e6) - int(ts[b]/1e6) })
		first := int64(-1)
		for _, i := range order {
			if len(cs[i]) > 0 && (first < 0 || ts[i] < first) {
				first = ts[i]
			}
		}
		var want []int
		for pos, i := range order {
			if len(cs[i]) == 0 || ts[i] < first+w {
				continue
			}
			isNew := false
			for _, k := range cs[i] {
				seen := false
				for _, j := range order[:pos] {
					if ts[j] >= ts[i]-w && slices.Contains(cs[j], k) {
						seen = true
					}
				}
				isNew = isNew || !seen
			}
			if isNew {
				want = append(want, i)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: times %v combos %v: new %v, want %v", round, ts, cs, got, want)
		}
		for _, i := range want {
			if !kept[i] {
				t.Fatalf("round %d: Observe dropped %d, which is new", round, i)
			}
		}
	}
}

// A match's time is its @timestamp as a date field holds it: to the
// millisecond, from any spelling Elasticsearch's default date format
// reads, epoch milliseconds included.
func TestNewTermsTimes(t *testing.T) {
	nt := newTermsRule(t, `"user.name"`, "now-7d").NewTerms
	doc := func(s string) rules.Document { return jsonDoc{gjson.Parse(s)} }
	want := time.Date(2026, 11, 20, 12, 0, 0, 123e6, time.UTC).UnixNano()
	for _, ts := range []string{`"2026-11-20T12:00:00.123Z"`, `"2026-11-20T12:00:00.123999Z"`, `"2026-11-20T13:00:00.123+01:00"`,
		`"2026-11-20T12:00:00.123"`, `1795176000123`, `"1795176000123"`} {
		got, _, ok := nt.Terms(doc(`{"@timestamp":` + ts + `,"user":{"name":"alice"}}`))
		if !ok || got != want {
			t.Errorf("@timestamp %s: %v %v, want %v", ts, time.Unix(0, got).UTC(), ok, time.Unix(0, want).UTC())
		}
	}
	for _, ts := range []string{`"soon"`, `"2026-11-20T12:00:00.123Z "`, `true`, `"1500-01-01"`} {
		if _, _, ok := nt.Terms(doc(`{"@timestamp":` + ts + `,"user":{"name":"alice"}}`)); ok {
			t.Errorf("@timestamp %s: timed", ts)
		}
	}
}
