package scan

import (
	"math"
	"slices"

	"github.com/k8sexec/k8sexec/rules"
)

// A block search finds many needles in one pass that skips most of the
// chunk (the Wu-Manber algorithm): every needle is looked for by m bytes
// of one of its parts (its member name or its value, with the quotes
// around them; newBlockSearch says which part and how long a window),
// and a table of the two-byte blocks those windows hold says how far a
// window of m bytes can move on when its last two bytes are not the end
// of any. With windows of ten bytes or so, most steps skip eight, where
// the pair search looks at every byte and an anchor search stops at every
// common byte.

type blockSearch struct {
	m int
	// shift is indexed by a hash of the block (blockSlot): 4 KiB stay in
	// the first-level cache, where 64 Ki entries, one per block, made
	// every step wait for the second. Blocks that share a slot share the
	// smallest shift, which only makes the search stop more often.
	shift [blockSlots]uint8
	// cands holds, for the slots of blocks that end a prefix, the needles
	// to check with the window starting at the prefix's first byte.
	cands [][]anchored
}

const blockSlots = 1 << 13

// blockSlot hashes the two-byte block a, b.
func blockSlot(a, b byte) uint16 { return (uint16(a)<<5 ^ uint16(b)) & (blockSlots - 1) }

// minBlockPrefix is the shortest prefix worth a block search: below it,
// skips are too short to beat the other searches.
const minBlockPrefix = 5

// A blockPart is what a block search can look for of a needle: its
// member name or its value, with the bytes around them any match has. A
// member's value is a string's, between quotes (when the event is
// embedded in a JSON string, the closing one follows a backslash), and a
// member name ends in a quote the same way. at lists the bytes allowed at
// each position (both cases of a folded letter); lead is how many come
// before the name or value itself.
type blockPart struct {
	at    []string
	lead  int
	inKey bool
	core  string
	fold  bool
}

// blockParts lists the parts of n a block search can look for.
func blockParts(n rules.Needle) []blockPart {
	var out []blockPart
	if n.Key != "" {
		out = append(out, newBlockPart(n.Key, false, true, "", `"\`))
	}
	if n.Key != "" && !n.Bool {
		out = append(out, newBlockPart(n.Text, n.Fold, false, `"`, `"\`))
	} else {
		out = append(out, newBlockPart(n.Text, n.Fold, false, "", ""))
	}
	return out
}

func newBlockPart(core string, fold, inKey bool, before, after string) blockPart {
	p := blockPart{lead: len(before), inKey: inKey, core: core, fold: fold}
	if before != "" {
		p.at = append(p.at, before)
	}
	for i := 0; i < len(core); i++ {
		p.at = append(p.at, string(caseVariants(core[i], fold)))
	}
	if after != "" {
		p.at = append(p.at, after)
	}
	return p
}

// longestPart is the longest of a needle's parts.
func longestPart(parts []blockPart) blockPart {
	best := parts[0]
	for _, p := range parts[1:] {
		if len(p.at) > len(best.at) {
			best = p
		}
	}
	return best
}

// blockWindow picks the m positions of part a block search looks for:
// those whose last block, where the search stops to check, is rarest.
func blockWindow(p blockPart, m int, freq pairFreq) (int, float64) {
	best, bestFreq := 0, -1.0
	for o := 0; o+m <= len(p.at); o++ {
		f := 0.0
		for _, x := range []byte(p.at[o+m-2]) {
			for _, y := range []byte(p.at[o+m-1]) {
				f += freq(x, y)
			}
		}
		if bestFreq < 0 || f < bestFreq {
			best, bestFreq = o, f
		}
	}
	return best, bestFreq
}

// newBlockSearch builds the block search of needles and estimates what it
// costs per byte, or returns nil when a needle's parts are too short.
// Without a sample it looks for each needle's longest part, in windows as
// long as the shortest of those. With one, it tries windows of each
// length that lets another part in, each needle by the part whose window
// ends in the block rarest in the sample ("resource" is on every audit
// event, "secrets" on few), and keeps the length that costs least on the
// sample: a longer window skips further, a shorter one lets more needles
// be looked for by a rare part. Tried on a sample, it returns nil when no
// window costs less than beat per byte (what the other searches cost).
func newBlockSearch(needles []anchored, freq *sampledFreq, beat float64) (*blockSearch, float64) {
	all := make([][]blockPart, len(needles)) // each needle's parts
	longest := 1 << 30
	for i, an := range needles {
		all[i] = blockParts(an.n)
		longest = min(longest, len(longestPart(all[i]).at))
	}
	longest = min(longest, maxBlockPrefix)
	if longest < minBlockPrefix {
		return nil, 0
	}
	if freq == nil || len(freq.sample) == 0 {
		parts := make([]blockPart, len(needles))
		for i := range needles {
			parts[i] = longestPart(all[i])
		}
		bs := buildBlocks(needles, parts, longest, staticPairFreq)
		return bs, bs.estimateCost(staticPairFreq)
	}
	// Between the lengths of parts, a shorter window lets no other part
	// in: only those lengths are worth a try.
	lengths := []int{longest}
	for i := range needles {
		for _, p := range all[i] {
			if l := len(p.at); l >= minBlockPrefix && l < longest && !slices.Contains(lengths, l) {
				lengths = append(lengths, l)
			}
		}
	}
	var best *blockSearch
	bestCost := 0.0
	for _, m := range lengths {
		parts := make([]blockPart, len(needles))
		for i := range needles {
			pickFreq := -1.0
			for _, p := range all[i] {
				if len(p.at) < m {
					continue
				}
				if _, f := blockWindow(p, m, freq.pair); pickFreq < 0 || f < pickFreq {
					parts[i], pickFreq = p, f
				}
			}
		}
		bs := buildBlocks(needles, parts, m, freq.pair)
		limit := beat
		if best != nil {
			limit = min(limit, bestCost)
		}
		if cost := bs.trialCost(freq.sample, limit); cost < limit && (best == nil || cost < bestCost) {
			best, bestCost = bs, cost
		}
	}
	return best, bestCost
}

// maxBlockPrefix bounds the window: shifts are bytes, and past a few
// dozen bytes a longer window hardly skips further.
const maxBlockPrefix = 64

// buildBlocks builds the search for each needle by its part, in windows
// of m positions.
func buildBlocks(needles []anchored, parts []blockPart, m int, freq pairFreq) *blockSearch {
	bs := &blockSearch{m: m, cands: make([][]anchored, blockSlots)}
	for i := range bs.shift {
		bs.shift[i] = uint8(m - 1)
	}
	for i, an := range needles {
		p := parts[i]
		o, _ := blockWindow(p, m, freq)
		// The anchor is where the window starts, counted from the name
		// or value: -1 is a value's opening quote.
		off := o - p.lead
		b := byte('"')
		if off >= 0 {
			b = p.core[off]
		}
		id := an.id
		an = newAnchored(an.n, rules.Anchor{InKey: p.inKey, Off: off, Byte: b})
		an.id = id
		for q := 1; q < m; q++ {
			for _, x := range []byte(p.at[o+q-1]) {
				for _, y := range []byte(p.at[o+q]) {
					b := blockSlot(x, y)
					bs.shift[b] = min(bs.shift[b], uint8(m-1-q))
					if q == m-1 && !slices.ContainsFunc(bs.cands[b], func(c anchored) bool { return c.n == an.n }) {
						bs.cands[b] = append(bs.cands[b], an)
					}
				}
			}
		}
	}
	return bs
}

// scan calls hit for every window whose prefix may be a needle's, with the
// needles to check there. Each step waits for the one before (its table
// lookup says where the next is), so the chunk is cut in blockChains
// parts searched in step: the processor overlaps their lookups.
func (bs *blockSearch) scan(data []byte, from int, hit func(at int, needles []anchored) (next int)) {
	m := bs.m
	lo := from + m - 1 // the last byte of the first window
	part := (len(data) - lo) / blockChains
	if part < 4*m {
		bs.scanOne(data, lo, len(data), hit)
		return
	}
	// The chains in step, in variables the compiler keeps in registers
	// (eight chains in arrays were 6-18% slower, on Elastic's rules);
	// each goes on alone once one reaches its end.
	p0, p1, p2, p3 := lo, lo+part, lo+2*part, lo+3*part
	e0, e1, e2, e3 := lo+part, lo+2*part, lo+3*part, len(data)
	shift := &bs.shift
	step := func(p int) int {
		slot := blockSlot(data[p-1], data[p])
		if s := shift[slot]; s != 0 {
			return p + int(s)
		}
		return max(p+1, hit(p-m+1, bs.cands[slot])+m-1)
	}
	for p0 < e0 && p1 < e1 && p2 < e2 && p3 < e3 {
		s0 := shift[blockSlot(data[p0-1], data[p0])]
		s1 := shift[blockSlot(data[p1-1], data[p1])]
		s2 := shift[blockSlot(data[p2-1], data[p2])]
		s3 := shift[blockSlot(data[p3-1], data[p3])]
		if s0 != 0 && s1 != 0 && s2 != 0 && s3 != 0 {
			p0, p1, p2, p3 = p0+int(s0), p1+int(s1), p2+int(s2), p3+int(s3)
			continue
		}
		p0, p1, p2, p3 = step(p0), step(p1), step(p2), step(p3)
	}
	bs.scanOne(data, p0, e0, hit)
	bs.scanOne(data, p1, e1, hit)
	bs.scanOne(data, p2, e2, hit)
	bs.scanOne(data, p3, e3, hit)
}

// scanOne searches the windows whose last byte is in data[p:end].
func (bs *blockSearch) scanOne(data []byte, p, end int, hit func(at int, needles []anchored) (next int)) {
	m := bs.m
	for p < end {
		slot := blockSlot(data[p-1], data[p])
		if s := bs.shift[slot]; s != 0 {
			p += int(s)
			continue
		}
		p = max(p+1, hit(p-m+1, bs.cands[slot])+m-1)
	}
}

const blockChains = 4 // as many as scan has variables for

// estimateCost is the search's cost per byte, in nanoseconds, over text
// whose byte pairs occur as freq says.
func (bs *blockSearch) estimateCost(freq pairFreq) float64 {
	shift, stops := bs.estimate(freq)
	return costBlockStep/shift + stops*(costStop+costPerNeedle)
}

// trialCost is the search's cost per byte of sample, in nanoseconds:
// its steps, stops and needle checks there.
func (bs *blockSearch) trialCost(sample []byte, limit float64) float64 {
	// A trial stops as soon as what it has counted costs more than limit
	// per byte of the sample: that window cannot be the one chosen.
	budget := limit * float64(max(len(sample), 1))
	steps, stops, checks := 0, 0, 0
	counted := func() float64 {
		return float64(steps)*costBlockStep + float64(stops)*costBlockStop + float64(checks)*costPerNeedle
	}
	for pos := bs.m - 1; pos < len(sample); steps++ {
		pos += max(int(bs.shift[blockSlot(sample[pos-1], sample[pos])]), 1)
		if steps&1023 == 0 && counted() > budget {
			return math.Inf(1)
		}
	}
	over := false
	bs.scan(sample, 0, func(at int, list []anchored) int {
		stops++
		checks += len(list)
		if over = over || counted() > budget; over {
			return len(sample) // ends this chain of the scan, and each other at its next stop
		}
		return at + 1
	})
	if over {
		return math.Inf(1)
	}
	return counted() / float64(max(len(sample), 1))
}

// estimate returns the search's average step and how often, per byte, it
// checks needles, over text whose byte pairs occur as freq says (parts per
// 10^10).
func (bs *blockSearch) estimate(freq pairFreq) (shift, stops float64) {
	weighted := 0.0
	for a := range 256 {
		for b := range 256 {
			f := freq(byte(a), byte(b))
			s := bs.shift[blockSlot(byte(a), byte(b))]
			weighted += f * float64(s)
			if s == 0 {
				stops += f / 1e10
			}
		}
	}
	return max(weighted/1e10, 1), stops
}
