package scan

import (
	"container/heap"
	"math"
	"slices"
	"sort"

	"github.com/k8sexec/k8sexec/rules"
)

// keptEvents are the events a limited selector keeps for one key, as a
// heap whose top is the one to let go first: the latest by the
// selector's Order, and of equal ones the last read. A grouped
// selector's groups hold their keys the same way.
type keptEvents []keptEvent

type keptEvent struct {
	t   int64  // Unix nanoseconds; math.MaxInt64 without a time
	seq int64  // input order
	idx int    // in Result.Events
	key string // the key, in a group
	sum uint64 // the event's Event.sum
}

// holds reports whether a copy of an event with this text (Event.sum) is
// kept.
func (k keptEvents) holds(sum uint64) bool {
	return slices.ContainsFunc(k, func(e keptEvent) bool { return e.sum == sum })
}

func (k keptEvents) Len() int { return len(k) }
func (k keptEvents) Less(i, j int) bool {
	return k[i].t > k[j].t || k[i].t == k[j].t && k[i].seq > k[j].seq
}
func (k keptEvents) Swap(i, j int) { k[i], k[j] = k[j], k[i] }
func (k *keptEvents) Push(x any)   { *k = append(*k, x.(keptEvent)) }
func (k *keptEvents) Pop() any {
	old := *k
	x := old[len(old)-1]
	*k = old[:len(old)-1]
	return x
}

// admit decides whether h, which sel matched with key k, is one of the
// sel.Limit events kept for k. Without an Order the first ones read are;
// with one the earliest are, so a later-read earlier event takes the
// place of the latest kept, which is let go and counted as dropped. h,
// when admitted, is appended to the result next (collector.fold).
func (c *collector) admit(ks *keptEvents, sel Selector, k selectorKey, h *Event) bool {
	if sel.Order == nil {
		if len(*ks) < sel.Limit {
			*ks = append(*ks, keptEvent{idx: len(c.res.Events), sum: h.sum})
			return true
		}
		return false
	}
	ev := keptEvent{t: dateOf(h.Doc, sel.Order), seq: c.seq, idx: len(c.res.Events), sum: h.sum}
	if len(*ks) < sel.Limit {
		c.seq++
		heap.Push(ks, ev)
		return true
	}
	if top := (*ks)[0]; ev.t >= top.t {
		return false // no earlier than any kept: equal ones in input order
	}
	c.seq++
	c.evict(heap.Pop(ks).(keptEvent).idx, k)
	heap.Push(ks, ev)
	return true
}

// admitKey decides whether k, a key of a grouped selector that holds no
// events yet, is one of the sel.GroupLimit kept in its group, as admit
// does for events: the earliest by ek.at, its first event's date
// (groupDate). A key earlier than the latest kept takes its place, and
// the latest key's events are let go. What is left out is counted under
// the group.
func (c *collector) admitKey(sel Selector, k selectorKey, ek eventKey) bool {
	gk := selectorKey{k.selector, ek.group}
	g := c.groups[gk]
	if g == nil {
		g = &keptEvents{}
		c.groups[gk] = g
	}
	in := keptEvent{t: ek.at, seq: c.seq, key: k.key}
	if len(*g) >= sel.GroupLimit {
		if top := (*g)[0]; in.t >= top.t {
			c.groupDropped[gk]++
			return false
		}
		out := selectorKey{k.selector, heap.Pop(g).(keptEvent).key}
		for _, e := range *c.kept[out] {
			c.release(e.idx, out.selector)
		}
		c.groupDropped[gk] += int64(len(*c.kept[out])) + c.dropped[out]
		delete(c.kept, out)
		delete(c.dropped, out)
	}
	c.seq++
	heap.Push(g, in)
	return true
}

// groupDate is the date a key of a grouped selector is placed by, read
// from its event: GroupOrder's, or Order's where there is none.
func groupDate(doc rules.Document, sel Selector) int64 {
	if t := dateOf(doc, sel.GroupOrder); t != math.MaxInt64 {
		return t
	}
	return dateOf(doc, sel.Order)
}

// dateOf reads a date field as Unix nanoseconds, math.MaxInt64 (latest)
// when it is missing or not a date, or when f is nil.
func dateOf(doc rules.Document, f *rules.Field) int64 {
	if f == nil {
		return math.MaxInt64
	}
	if t, ok := rules.ParseDate(rules.First(doc, f).String()); ok {
		return t.UnixNano()
	}
	return math.MaxInt64
}

// sortOverflow puts overflow counts in a fixed order.
func sortOverflow(o []Overflow) {
	sort.Slice(o, func(i, j int) bool {
		a, b := o[i], o[j]
		if a.Selector != b.Selector {
			return a.Selector < b.Selector
		}
		if a.Group != b.Group {
			return !a.Group
		}
		return a.Key < b.Key
	})
}

// evict takes selector k.selector from the kept event at idx, which no
// longer counts among that key's.
func (c *collector) evict(idx int, k selectorKey) {
	c.dropped[k]++
	c.release(idx, k.selector)
}

// release takes selector si from the kept event at idx.
func (c *collector) release(idx, si int) {
	e := &c.res.Events[idx]
	if i := slices.Index(e.Selectors, si); i >= 0 {
		e.Selectors = slices.Delete(e.Selectors, i, i+1)
		e.keys = slices.Delete(e.keys, i, i+1)
	}
	c.letGo(e)
}

// unwanted reports whether an event is left with no rule and no selector.
func unwanted(e *Event) bool { return len(e.Rules) == 0 && len(e.Selectors) == 0 }

// letGo lets the text of an event left with no rule and no selector go
// now; compact, or dropUnwanted at the end, drops what is left of it.
func (c *collector) letGo(e *Event) {
	if unwanted(e) && e.Raw != nil {
		e.Raw, e.Doc = nil, nil
		c.unwanted = true
		c.stubs++
	}
}

// minCompact is how many events let go make compact worth its pass (a
// variable for tests, which make it compact often).
var minCompact = 4096

// compact leaves out the events let go during the scan (by a limited
// selector, or by a new_terms rule that found them not new), once they
// are half of those kept, and renumbers the events the selectors and the
// new_terms histories name: input in reverse time order lets go nearly
// every session and match it keeps, and memory would grow by an Event for
// each. dropUnwanted has the last word.
func (c *collector) compact() {
	if c.stubs < minCompact || c.stubs < len(c.res.Events)/2 {
		return
	}
	renum := make([]int, len(c.res.Events))
	n := 0
	for i := range c.res.Events {
		if unwanted(&c.res.Events[i]) {
			renum[i] = -1
			continue
		}
		renum[i] = n
		c.res.Events[n] = c.res.Events[i]
		n++
	}
	clear(c.res.Events[n:])
	c.res.Events = c.res.Events[:n]
	for _, ks := range c.kept {
		for i := range *ks {
			(*ks)[i].idx = renum[(*ks)[i].idx]
		}
	}
	for _, h := range c.histories {
		if h != nil {
			h.Renumber(renum)
		}
	}
	c.stubs = 0
}

// dropUnwanted leaves out the events left with no rule and no selector
// (by evict, or by finishTerms for matches that were not new). It runs
// last: until then events are named by their index.
func (c *collector) dropUnwanted() {
	if !c.unwanted {
		return
	}
	c.res.Events = slices.DeleteFunc(c.res.Events, func(e Event) bool { return unwanted(&e) })
}
