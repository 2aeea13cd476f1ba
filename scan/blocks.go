package scan

import (
	"slices"

	"github.com/k8sexec/k8sexec/rules"
)

// A block search finds many needles in one pass that skips most of the
// chunk (the Wu-Manber algorithm): every needle is looked for by the first
// m bytes of one of its parts (its member name or its value, whichever is
// longer; m is the shortest such part), and a table of the two-byte blocks
// those prefixes hold says how far a window of m bytes can move on when
// its last two bytes are not the end of any prefix. With parts of ten
// bytes or so, most steps skip eight, where the pair search looks at
// every byte and an anchor search stops at every common byte.

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

// blockPart returns the part of a needle a block search looks for (its
// member name or its value, whichever is longer), and whether it matches
// in any case.
func blockPart(n rules.Needle) (part string, fold, inKey bool) {
	if n.Key != "" && len(n.Key) >= len(n.Text) {
		return n.Key, false, true
	}
	return n.Text, n.Fold, false
}

// blockWindow picks the m bytes of part a block search looks for: those
// whose last block, where the search stops to check, is rarest.
func blockWindow(part string, fold bool, m int, freq pairFreq) int {
	best, bestFreq := 0, -1.0
	for o := 0; o+m <= len(part); o++ {
		f := 0.0
		for _, x := range caseVariants(part[o+m-2], fold) {
			for _, y := range caseVariants(part[o+m-1], fold) {
				f += freq(x, y)
			}
		}
		if bestFreq < 0 || f < bestFreq {
			best, bestFreq = o, f
		}
	}
	return best
}

// newBlockSearch builds the block search of needles, or returns nil when
// a needle's parts are too short.
func newBlockSearch(needles []anchored, freq pairFreq) *blockSearch {
	m := 1 << 30
	for _, an := range needles {
		part, _, _ := blockPart(an.n)
		m = min(m, len(part))
	}
	if m < minBlockPrefix || m > 255 {
		return nil
	}
	bs := &blockSearch{m: m, cands: make([][]anchored, blockSlots)}
	for i := range bs.shift {
		bs.shift[i] = uint8(m - 1)
	}
	for _, an := range needles {
		part, fold, inKey := blockPart(an.n)
		o := blockWindow(part, fold, m, freq)
		id := an.id
		an = newAnchored(an.n, rules.Anchor{InKey: inKey, Off: o, Byte: part[o]})
		an.id = id
		part = part[o : o+m]
		for q := 1; q < m; q++ {
			for _, x := range caseVariants(part[q-1], fold) {
				for _, y := range caseVariants(part[q], fold) {
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
	var pos, end [blockChains]int
	part := (len(data) - lo) / blockChains
	for k := range blockChains {
		pos[k], end[k] = lo+k*part, lo+(k+1)*part
	}
	end[blockChains-1] = len(data)
	if part < 4*m {
		pos[0], end[0] = lo, len(data)
		for k := 1; k < blockChains; k++ {
			pos[k], end[k] = 0, 0
		}
	}
	shift := &bs.shift
	for {
		active := false
		for k := range blockChains {
			p := pos[k]
			if p >= end[k] {
				continue
			}
			active = true
			slot := blockSlot(data[p-1], data[p])
			if s := shift[slot]; s != 0 {
				pos[k] = p + int(s)
				continue
			}
			next := hit(p-m+1, bs.cands[slot])
			pos[k] = max(p+1, next+m-1)
		}
		if !active {
			return
		}
	}
}

const blockChains = 8

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
