package rules

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// NewTerms is the condition a new_terms rule puts on its query's matches:
// an event is reported only when its value of Fields (their combination,
// when there are several) was not seen in the History before it. A scan
// applies it to the rule's matches over all its inputs (TermsHistory,
// docs/rules.md).
type NewTerms struct {
	Fields []*Field
	// History is how far back a value counts as seen; HistoryText is the
	// rule's own history_window_start ("now-7d").
	History     time.Duration
	HistoryText string
	// ip says which of Fields are of type ip, whose terms are addresses
	// (parseNewTerms sets it; none are when it is short).
	ip []bool
}

// maxNewTermsFields is Elastic's limit on a rule's new_terms fields.
const maxNewTermsFields = 3

// newTermsSpec mirrors [rule.new_terms] in the detection-rules layout.
type newTermsSpec struct {
	Field              string   `toml:"field"`
	Value              []string `toml:"value"`
	HistoryWindowStart []struct {
		Field string `toml:"field"`
		Value string `toml:"value"`
	} `toml:"history_window_start"`
}

// historyStart is the date math a history window is written in: now minus
// an amount of a fixed-length unit. Months and years have no fixed length
// and are not accepted.
var historyStart = regexp.MustCompile(`^now-([0-9]+)([wdhHms])$`)

var historyUnits = map[string]time.Duration{
	"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "H": time.Hour, "m": time.Minute, "s": time.Second,
}

// parseNewTerms reads a new_terms rule's table; an unsupported error says
// what k8sexec cannot run.
func parseNewTerms(spec newTermsSpec) (*NewTerms, error) {
	if spec.Field != "" && spec.Field != "new_terms_fields" {
		return nil, unsupported("new_terms rule with new_terms.field %q (want new_terms_fields)", spec.Field)
	}
	if len(spec.Value) == 0 {
		return nil, unsupported("new_terms rule without new_terms fields")
	}
	if len(spec.Value) > maxNewTermsFields {
		return nil, unsupported("new_terms rule with %d fields (Elastic allows at most %d)", len(spec.Value), maxNewTermsFields)
	}
	nt := &NewTerms{}
	seen := map[string]bool{}
	for _, name := range spec.Value {
		name = strings.TrimSpace(name)
		if name == "" || strings.Contains(name, "*") {
			return nil, unsupported("new_terms field %q", name)
		}
		if seen[name] {
			return nil, unsupported("new_terms field %q given twice", name)
		}
		seen[name] = true
		nt.Fields = append(nt.Fields, NewField(name))
		nt.ip = append(nt.ip, typeOf(name) == ipType)
	}
	var window string
	for _, h := range spec.HistoryWindowStart {
		if h.Field == "history_window_start" {
			window = strings.TrimSpace(h.Value)
		}
	}
	if window == "" {
		return nil, unsupported("new_terms rule without history_window_start")
	}
	m := historyStart.FindStringSubmatch(window)
	if m == nil {
		return nil, unsupported("new_terms history window %q (k8sexec reads now-N with unit w, d, h, m or s)", window)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 || n > 3650*24*60*60 {
		return nil, unsupported("new_terms history window %q", window)
	}
	nt.History = time.Duration(n) * historyUnits[m[2]]
	nt.HistoryText = window
	return nt, nil
}

// String describes the condition as `rules show` prints it.
func (nt *NewTerms) String() string {
	return fmt.Sprintf("%s not seen in the %s before the event (history_window_start %s)", nt.What(), nt.Window(), nt.HistoryText)
}

// What names what must be new: "a value of user_agent.original", or "a
// combination of" the fields.
func (nt *NewTerms) What() string {
	names := make([]string, len(nt.Fields))
	for i, f := range nt.Fields {
		names[i] = f.Name
	}
	if len(names) == 1 {
		return "a value of " + names[0]
	}
	return "a combination of " + strings.Join(names, ", ")
}

// Window is the history window in words: "7 days".
func (nt *NewTerms) Window() string { return formatDuration(nt.History) }

// formatDuration writes a history window in the largest whole unit.
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}} {
		if d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return d.String()
}

// maxCombinations bounds the value combinations one match is checked
// with, where several new_terms fields hold arrays.
const maxCombinations = 100

var timestampField = NewField("@timestamp")

// The times a new_terms match may have, in Unix milliseconds.
var (
	minTermsMillis = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxTermsMillis = time.Date(2200, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
)

// Reads are the fields Terms reads of a match: Fields and @timestamp.
func (nt *NewTerms) Reads() []*Field { return append(slices.Clone(nt.Fields), timestampField) }

// Terms reads what the condition needs of a match: its @timestamp (Unix
// nanoseconds, to the millisecond; ok false when it has no date, see
// dateFields) and the
// combinations of its values of Fields, one value of each field, in
// document order, at most maxCombinations, each encoded as one string.
// None when a field has no value: Elasticsearch's terms aggregation
// leaves such a document out.
func (nt *NewTerms) Terms(doc Document) (t int64, combos []string, ok bool) {
	var r TermsReader
	return r.Terms(nt, doc)
}

// A TermsReader reads the terms of matches for one goroutine at a time.
// It reuses its buffers from match to match, and hands out each
// combination it has seen lately as the same string, so that a rule
// matching most of the input does not allocate a key per match.
type TermsReader struct {
	tc   *termsCollector
	keys map[string]string
}

// Terms is NewTerms.Terms.
func (r *TermsReader) Terms(nt *NewTerms, doc Document) (t int64, combos []string, ok bool) {
	return r.TermsAt(nt, doc, First(doc, timestampField))
}

// maxReaderKeys bounds the combinations a TermsReader remembers; it
// forgets them all past that.
const maxReaderKeys = 1 << 14

// TermsAt is Terms with the match's @timestamp read by the caller.
func (r *TermsReader) TermsAt(nt *NewTerms, doc Document, timestamp gjson.Result) (t int64, combos []string, ok bool) {
	// A date, as Elasticsearch indexes @timestamp: to the millisecond.
	ms, ok := dateOf(timestamp)
	if !ok || ms < minTermsMillis || ms > maxTermsMillis {
		return 0, nil, false // Unix nanoseconds cover the years 1678 to 2262
	}
	ts := time.UnixMilli(ms)
	if r.tc == nil {
		r.tc = newTermsCollector()
	}
	tc := r.tc
	tc.vals, tc.all = tc.vals[:0], tc.all[:0]
	for i, f := range nt.Fields {
		from := len(tc.all)
		tc.cur, tc.ip = tc.all[from:], i < len(nt.ip) && nt.ip[i]
		doc.Any(f, tc.keep)
		if len(tc.cur) == 0 {
			return ts.UnixNano(), nil, true
		}
		tc.all = append(tc.all, tc.cur...) // in place unless cur grew
		tc.vals = append(tc.vals, tc.all[from:])
	}
	// One value of each field, the first field's varying slowest.
	n := 1
	for _, vs := range tc.vals {
		n *= len(vs)
		if n >= maxCombinations {
			n = maxCombinations
		}
	}
	combos = make([]string, 0, n)
	idx := tc.idx[:0]
	for range tc.vals {
		idx = append(idx, 0)
	}
	tc.idx = idx
	for range n {
		key := tc.buf[:0]
		for i, vs := range tc.vals {
			v := vs[idx[i]]
			key = strconv.AppendInt(key, int64(len(v)), 10)
			key = append(key, ':')
			key = append(key, v...)
		}
		tc.buf = key
		combos = append(combos, r.key(key))
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < len(tc.vals[i]) {
				break
			}
			idx[i] = 0
		}
	}
	return ts.UnixNano(), combos, true
}

// key returns k as a string, the same one as the last time unless the
// reader has forgotten it.
func (r *TermsReader) key(k []byte) string {
	if s, ok := r.keys[string(k)]; ok {
		return s
	}
	if r.keys == nil || len(r.keys) >= maxReaderKeys {
		r.keys = make(map[string]string)
	}
	s := string(k)
	r.keys[s] = s
	return s
}

// A termsCollector gathers one field's distinct values for a TermsReader
// without allocating a closure per call; a combination's key is each
// value length-prefixed, so that no two combinations share a key.
type termsCollector struct {
	cur  []string   // the field being read
	all  []string   // the values of the fields read, one after the other
	vals [][]string // each field's, in all
	idx  []int      // the combination being built: a value of each field
	buf  []byte
	ip   bool // the field being read is of type ip: values by address
	keep func(gjson.Result) bool
}

func newTermsCollector() *termsCollector {
	tc := new(termsCollector)
	tc.keep = func(v gjson.Result) bool {
		if v.IsObject() {
			return false
		}
		s := ""
		if tc.ip {
			var ok bool
			if s, ok = IPText(v); !ok {
				return false // not indexed, so no term
			}
		} else {
			s = valueText(v)
		}
		if !slices.Contains(tc.cur, s) {
			tc.cur = append(tc.cur, s)
		}
		return false
	}
	return tc
}

// TermsHistory applies a new_terms rule's condition to the rule's matches
// over a whole scan, as if Elastic's rule had run all along over the
// scanned data: a match is new when it carries a combination of values
// that no match before it carried in the history window before its time.
// "Before" is time order, and among equal times the order of Observe
// calls. The scanned data is all the history there is, so the window's
// length from the earliest match only teaches values: nothing in it is
// new.
//
// Matches are observed in any time order (files, and the stages of one
// request, are not sorted). Observe says at once when a match cannot be
// new, so the caller need not keep it; a match it keeps may still be
// ruled out by a later-observed match from the window before it, and
// Final says which are new in the end. Memory: a few times per value
// and window (thin), and the matches still kept.
type TermsHistory struct {
	nt *NewTerms
	// times holds times of each combination's matches, sorted: enough of
	// them to tell whether one lies in any window (thin); open the kept
	// matches not yet ruled out for a combination.
	times     map[string][]int64
	open      map[string][]*termsCand
	cands     []*termsCand
	sum       TermsSummary
	uncovered []bool // Observe's scratch
	ruled     []int  // ids of kept matches ruled out since Ruled was called
	// first and last are the earliest and latest times of the matches
	// counted in sum.Matches but not as Untimed or Valueless.
	first, last int64
}

// Ruled returns the ids of the matches Observe kept that later matches
// have since shown are not new, so the caller can let them go before
// the end. The slice is reused by the next Observe.
func (h *TermsHistory) Ruled() []int {
	ids := h.ruled
	h.ruled = h.ruled[:0]
	return ids
}

type termsCand struct {
	id    int
	t     int64
	left  int // combinations not yet seen in the window before it
	ruled bool
}

// TermsSummary says what a rule's condition did over a scan.
type TermsSummary struct {
	Rule *Rule
	// Matches counts the rule's query matches; Untimed those without a
	// @timestamp and Valueless those without a value in every field,
	// which are never new and teach nothing; New the new ones.
	Matches, Untimed, Valueless, New int
	// First and Last are the times of the earliest and latest timed
	// matches with values, LearnedUntil First plus the history window.
	First, Last, LearnedUntil time.Time
}

// thin inserts t into the sorted times ts and keeps them thin: no three
// consecutive times within w of each other. Whether some time lies in a
// window [u-w, u] is all Observe asks, and the middle one of three such
// times never decides it: if it lies in the window, so does the first
// (when u is before the third) or the third. So a combination keeps at
// most two times per window its matches span, however many matches
// there are. One insertion breaks at most the triples it is in: t is
// dropped at once if it is the middle of one, else the middle of the
// triple before it and of the one after it, which leaves none.
func thin(ts []int64, t, w int64) []int64 {
	at, _ := slices.BinarySearch(ts, t+1)
	if at > 0 && at < len(ts) && ts[at]-ts[at-1] <= w {
		return ts // t is between two times within w
	}
	ts = slices.Insert(ts, at, t)
	if at+2 < len(ts) && ts[at+2]-t <= w {
		ts = slices.Delete(ts, at+1, at+2)
	}
	if at >= 2 && t-ts[at-2] <= w {
		ts = slices.Delete(ts, at-1, at)
	}
	return ts
}

func candAt(e *termsCand, t int64) int { return cmp.Compare(e.t, t) }

// NewTermsHistory starts the history of r, a new_terms rule.
func NewTermsHistory(r *Rule) *TermsHistory {
	return &TermsHistory{nt: r.NewTerms, times: map[string][]int64{}, open: map[string][]*termsCand{}, sum: TermsSummary{Rule: r}}
}

// Observe records a match (id is the caller's) with what Terms read of
// it, and reports whether it may be new.
func (h *TermsHistory) Observe(id int, t int64, combos []string, timed bool) bool {
	h.sum.Matches++
	switch {
	case !timed:
		h.sum.Untimed++
		return false
	case len(combos) == 0:
		h.sum.Valueless++
		return false
	}
	if placed := h.sum.Matches - h.sum.Untimed - h.sum.Valueless; placed == 1 {
		h.first, h.last = t, t
	} else {
		h.first, h.last = min(h.first, t), max(h.last, t)
	}
	w := int64(h.nt.History)
	c := &termsCand{id: id, t: t}
	uncovered := h.uncovered[:0]
	for _, k := range combos {
		ts := h.times[k]
		// Seen in [t-w, t]: a match at the same time observed earlier
		// comes before this one.
		at, _ := slices.BinarySearch(ts, t-w)
		seen := at < len(ts) && ts[at] <= t
		uncovered = append(uncovered, !seen)
		if !seen {
			c.left++
		}
		// This match comes before the kept ones after it within the
		// window, those at times in (t, t+w]: they have seen k.
		open := h.open[k]
		lo, _ := slices.BinarySearchFunc(open, t+1, candAt)
		hi, _ := slices.BinarySearchFunc(open, t+w+1, candAt)
		for _, e := range open[lo:hi] {
			if e.left--; e.left == 0 {
				e.ruled = true
				h.ruled = append(h.ruled, e.id)
			}
		}
		h.open[k] = slices.Delete(open, lo, hi)
		h.times[k] = thin(ts, t, w)
	}
	h.uncovered = uncovered
	if c.left == 0 {
		return false
	}
	for i, k := range combos {
		// Still open for k if no earlier match of k is in [t-w, t].
		// Among equal times, in Observe order.
		if uncovered[i] {
			open := h.open[k]
			i, _ := slices.BinarySearchFunc(open, t+1, candAt)
			h.open[k] = slices.Insert(open, i, c)
		}
	}
	h.cands = append(h.cands, c)
	return true
}

// Renumber rewrites the ids Observe was given, for a caller that renumbers
// what they name: renum[id] is the new id (negative for one that names
// nothing now, which must be a match ruled out).
func (h *TermsHistory) Renumber(renum []int) {
	for _, c := range h.cands {
		if c.id >= 0 {
			c.id = renum[c.id]
		}
	}
}

// Final returns the ids of the new matches, in Observe order, and the
// summary.
func (h *TermsHistory) Final() (ids []int, sum TermsSummary) {
	sum = h.sum
	if sum.Matches == sum.Untimed+sum.Valueless {
		return nil, sum
	}
	sum.First, sum.Last = time.Unix(0, h.first).UTC(), time.Unix(0, h.last).UTC()
	sum.LearnedUntil = sum.First.Add(h.nt.History)
	learned := h.first + int64(h.nt.History)
	for _, c := range h.cands {
		if !c.ruled && c.t >= learned {
			ids = append(ids, c.id)
		}
	}
	sum.New = len(ids)
	return ids, sum
}
