package scan

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/k8sexec/k8sexec/rules"
)

// A new_terms rule reports only the matches of its query that carry a
// value not seen before them (rules.TermsHistory). Its query is matched
// as any rule's, and the worker that matched an event reads what the
// condition needs of it; the collector, which sees the events in input
// order whatever the number of workers, keeps a rule's history and drops
// at once the matches that cannot be new, so a query matching most of
// the input costs no memory for them. What the history still held at
// the end is decided when the scan is done.

// matchTerms is what a new_terms rule's condition reads of a match.
type matchTerms struct {
	rule   int
	t      int64
	combos []string
	timed  bool
}

// newTermsOf reads what nt's condition needs of doc, a match of rule.
func (w *worker) newTermsOf(rule int, nt *rules.NewTerms, doc rules.Document, shape Shape) matchTerms {
	var t int64
	var combos []string
	var timed bool
	if shape == ShapeRawAudit {
		// @timestamp is computed by the raw mapping (auditTimestamp):
		// computed here from the members the walk extracted, rather
		// than by the adapter from the text.
		ts := gjson.Result{}
		if s, ok := auditTimestamp(walkedMembers{doc}); ok {
			ts = gjson.Result{Type: gjson.String, Str: s}
		}
		t, combos, timed = w.termsReader.TermsAt(nt, doc, ts)
	} else {
		t, combos, timed = w.termsReader.Terms(nt, doc)
	}
	return matchTerms{rule: rule, t: t, combos: combos, timed: timed}
}

// auditTimeFields are the fields of the members a raw audit event's
// @timestamp comes from (timestampKeys), which the walk extracts for
// new_terms rules; walkedMembers serves them to auditTimestamp.
var auditTimeFields = func() map[string]*rules.Field {
	fs := map[string]*rules.Field{}
	for _, k := range timestampKeys {
		fs[k] = rules.NewField("kubernetes.audit." + k)
	}
	return fs
}()

type walkedMembers struct{ doc rules.Document }

func (m walkedMembers) member(key string) gjson.Result {
	if f := auditTimeFields[key]; f != nil {
		return rules.First(m.doc, f)
	}
	return gjson.Result{}
}

func (m walkedMembers) annotation(string) gjson.Result { return gjson.Result{} } // @timestamp reads none

// chunkTerms holds the times of a chunk's new_terms matches so far, by
// rule and combination, for notNew.
type chunkTerms map[int]map[string][]int64

func (ct *chunkTerms) reset() {
	if *ct == nil {
		*ct = chunkTerms{}
	}
	clear(*ct)
}

// notNew reports whether ev matched only new_terms rules and, for each,
// an earlier match in the chunk carried every combination of it within
// the window before it. The collector observes the chunk's matches in
// the order the worker found them, so it will have seen those earlier
// matches: ev cannot be new for any of its rules, and needs no text.
func (ct chunkTerms) notNew(ev *Event, nts []*rules.NewTerms) bool {
	if len(ev.Selectors) > 0 || len(ev.terms) != len(ev.Rules) {
		return false
	}
	for _, mt := range ev.terms {
		if !mt.timed || len(mt.combos) == 0 {
			continue // never new
		}
		w := int64(nts[mt.rule].History)
		for _, k := range mt.combos {
			if !seenIn(ct[mt.rule][k], mt.t-w, mt.t) {
				return false
			}
		}
	}
	return true
}

// seenIn reports whether one of the last few times lies in [from, to].
// Only the last few are looked at: a miss only costs ev its text.
func seenIn(times []int64, from, to int64) bool {
	for i := len(times) - 1; i >= 0 && i >= len(times)-4; i-- {
		if times[i] >= from && times[i] <= to {
			return true
		}
	}
	return false
}

func (ct chunkTerms) add(terms []matchTerms) {
	for _, mt := range terms {
		if !mt.timed {
			continue
		}
		byCombo := ct[mt.rule]
		if byCombo == nil {
			byCombo = map[string][]int64{}
			ct[mt.rule] = byCombo
		}
		for _, k := range mt.combos {
			byCombo[k] = append(byCombo[k], mt.t)
		}
	}
}

func (c *collector) startTerms(rs []*rules.Rule) {
	for i, r := range rs {
		if r.NewTerms == nil {
			continue
		}
		if c.histories == nil {
			c.histories = make([]*rules.TermsHistory, len(rs))
		}
		c.histories[i] = rules.NewTermsHistory(r)
	}
}

// observeTerms adds an event's new_terms matches to their rules'
// histories, and takes from its rules those that cannot be new. The id
// given is the index the event will have in Result.Events: an event is
// kept while it has a rule.
func (c *collector) observeTerms(h *Event) {
	if len(h.terms) == 0 {
		return
	}
	id := len(c.res.Events)
	if h.Raw == nil {
		id = -1 // never kept (notNew), so it must name no event
	}
	kept := h.terms[:0]
	for _, mt := range h.terms {
		hist := c.histories[mt.rule]
		// A match without its text (notNew) is never kept.
		isKept := hist.Observe(id, mt.t, mt.combos, mt.timed) && h.Raw != nil
		// Kept matches this one shows are not new need not wait for the
		// end: an event left with no rule and no selector lets its text
		// go at once, and dropUnwanted drops what is left of it, so input
		// in reverse time order keeps a few hundred bytes per match, not
		// the matches.
		for _, ruled := range hist.Ruled() {
			if ruled < 0 {
				continue // no event (notNew's are never kept)
			}
			ev := &c.res.Events[ruled]
			ev.Rules = slices.DeleteFunc(ev.Rules, func(r int) bool { return r == mt.rule })
			ev.terms = slices.DeleteFunc(ev.terms, func(t matchTerms) bool { return t.rule == mt.rule })
			c.letGo(ev)
		}
		if isKept {
			kept = append(kept, mt)
			continue
		}
		h.Rules = slices.DeleteFunc(h.Rules, func(r int) bool { return r == mt.rule })
	}
	h.terms = kept
}

// finishTerms takes each new_terms rule from the events its history kept
// but did not find new, and records the rules' summaries; dropUnwanted
// then leaves out the events left with no rule and no selector.
func (c *collector) finishTerms() {
	if c.histories == nil {
		return
	}
	res := c.res
	isNew := make([]map[int]bool, len(c.histories))
	for i, h := range c.histories {
		if h == nil {
			continue
		}
		ids, sum := h.Final()
		if sum.Matches > 0 {
			res.NewTerms = append(res.NewTerms, sum)
		}
		isNew[i] = map[int]bool{}
		for _, id := range ids {
			isNew[i][id] = true
		}
	}
	for id := range res.Events {
		ev := &res.Events[id]
		for _, mt := range ev.terms {
			if !isNew[mt.rule][id] {
				ev.Rules = slices.DeleteFunc(ev.Rules, func(r int) bool { return r == mt.rule })
			}
		}
		ev.terms = nil
	}
	c.unwanted = true // dropUnwanted leaves out the events left without a rule
}
