package scan

import (
	"context"
	"os"
	"slices"
	"sort"
)

// Some context is costly and rarely needed: triage's session leaders are
// a fifth of a container process log (every exec probe starts one), and
// they only matter when an exec request in the audit logs may have started
// one of them. A selector with OnlyFor set is therefore deferred when every
// input can be read again: the first pass runs the rules and the other
// selectors, and only counts the lines that may hold the deferred
// selectors' events (their literals are there; Options.probes). Only if a
// rule hit wants the deferred selectors does a second pass run them, over
// the inputs that had such lines. The result is the one a single pass with
// every selector would give, except that the inputs' statistics describe
// the first pass.

// deferrable returns the indices of the selectors to defer: those with
// OnlyFor, when every input is a regular file (standard input and pipes
// cannot be read twice).
func deferrable(inputs []Input, sels []Selector) []int {
	var out []int
	for i, s := range sels {
		if s.OnlyFor != nil {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil
	}
	for _, in := range inputs {
		if in.Name == Stdin {
			return nil
		}
		if fi, err := os.Stat(in.Name); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
	}
	return out
}

// scanDeferring is Scan with the selectors at the indices deferred left
// for a second pass.
func scanDeferring(ctx context.Context, inputs []Input, opts Options, deferred []int) (*Result, error) {
	isDeferred := make([]bool, len(opts.Selectors))
	for _, i := range deferred {
		isDeferred[i] = true
	}
	// First pass: the rules and the other selectors; firstIdx maps its
	// selector indices back to opts'.
	first := opts
	first.Selectors = nil
	var firstIdx []int
	for i, s := range opts.Selectors {
		if isDeferred[i] {
			first.probes = append(first.probes, s)
		} else {
			first.Selectors = append(first.Selectors, s)
			firstIdx = append(firstIdx, i)
		}
	}
	res, err := scanOnce(ctx, inputs, first)
	if err != nil {
		return nil, err
	}
	remapSelectors(res, firstIdx)

	// Second pass: the deferred selectors some hit wants, over the inputs
	// that may hold their events.
	var second Options
	var secondIdx []int
	for _, i := range deferred {
		if wanted(res, opts.Selectors[i]) {
			second.Selectors = append(second.Selectors, opts.Selectors[i])
			secondIdx = append(secondIdx, i)
		}
	}
	if len(secondIdx) == 0 || res.Interrupted {
		return res, nil
	}
	var again []Input
	var againIdx []int
	for i, in := range inputs {
		if res.Inputs[i].probed > 0 {
			again = append(again, in)
			againIdx = append(againIdx, i)
		}
	}
	if len(again) == 0 {
		return res, nil
	}
	second.Workers, second.ChunkSize, second.MaxLineSize = opts.Workers, opts.ChunkSize, opts.MaxLineSize
	second.NoPrefilter, second.ParseFirst = opts.NoPrefilter, -1
	if opts.Progress != nil {
		second.Progress = func(p Progress) {
			p.InputIndex, p.Again = againIdx[p.InputIndex], true
			opts.Progress(p)
		}
	}
	more, err := scanOnce(ctx, again, second)
	if err != nil {
		return nil, err
	}
	remapSelectors(more, secondIdx)
	res.Interrupted = more.Interrupted
	merge(res, more, againIdx)
	return res, nil
}

// wanted reports whether a rule hit of res wants the selector's events.
func wanted(res *Result, s Selector) bool {
	for _, ev := range res.Events {
		if len(ev.Rules) > 0 && s.OnlyFor(ev.Doc) {
			return true
		}
	}
	return false
}

// remapSelectors rewrites the selector indices of a pass's events and
// overflows into the caller's numbering.
func remapSelectors(res *Result, idx []int) {
	for i := range res.Events {
		for k, s := range res.Events[i].Selectors {
			res.Events[i].Selectors[k] = idx[s]
		}
	}
	for i := range res.Overflow {
		res.Overflow[i].Selector = idx[res.Overflow[i].Selector]
	}
}

// merge adds the second pass's events and overflows to res, in the order a
// single pass would have found them. inputs maps the second pass's input
// indices to res's. An event both passes found is one event. Events past
// where the first pass stopped (a file that grew in between) are left
// out, and so is a read error of the second pass: res's statistics are
// the first pass's.
func merge(res, more *Result, inputs []int) {
	type key struct {
		input  int
		offset int64
		index  int
	}
	at := map[key]int{}
	for i, ev := range res.Events {
		at[key{ev.Input, ev.Offset, ev.Index}] = i
	}
	for _, ev := range more.Events {
		ev.Input = inputs[ev.Input]
		if ev.Line > res.Inputs[ev.Input].Lines {
			continue
		}
		if i, ok := at[key{ev.Input, ev.Offset, ev.Index}]; ok {
			joinSelectors(&res.Events[i], ev)
			continue
		}
		res.Events = append(res.Events, ev)
	}
	sort.SliceStable(res.Events, func(i, j int) bool {
		a, b := res.Events[i], res.Events[j]
		if a.Input != b.Input {
			return a.Input < b.Input
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return a.Index < b.Index
	})
	res.Overflow = append(res.Overflow, more.Overflow...)
	sortOverflow(res.Overflow)
}

// joinSelectors adds the selectors of other, the same event found by
// another pass, to ev's, keeping them (and their keys) in index order.
func joinSelectors(ev *Event, other Event) {
	for k, s := range other.Selectors {
		at := sort.SearchInts(ev.Selectors, s)
		ev.Selectors = slices.Insert(ev.Selectors, at, s)
		ev.keys = slices.Insert(ev.keys, at, other.keys[k])
	}
}
