package scan

import "github.com/k8sexec/k8sexec/rules"

// Two-byte needle groups: which pair of bytes each needle is looked for
// by (a cover of the needles by pairs they share), and the search of a
// chunk for several groups at once (the byte searches are in twobyte.go).

// maxTwoByteNeedles bounds the needles twoByteGroups covers: with more, a
// block search wins anyway, and the cover costs more to compute.
const maxTwoByteNeedles = 64

// maxTwoByteShare is the most often a pair may occur (per byte) for
// twoByteGroups to look for needles by it: stopping costs about two
// hundred times what searching a byte does.
const maxTwoByteShare = 1e-3

// maxTwoByteStopCost bounds what a two-byte group may cost at its stops,
// per byte searched: half what the pass itself costs.
const maxTwoByteStopCost = costTwoBytes / 2

// maxTwoByteDistance bounds how far apart a pair's bytes are: nearer pairs
// are as rare, and fewer candidates make the plan cheaper to build.
const maxTwoByteDistance = 12

// searchTwoBytes says whether groups look for needles by two bytes.
func searchTwoBytes() bool {
	switch forceSearch {
	case "twobytes":
		return true
	case "bytes":
		return false
	}
	return twoByteSIMD
}

// byteShare is how often b occurs, per byte.
func byteShare(b byte, freq *sampledFreq) float64 {
	if freq == nil {
		return float64(byteFreq(b)) / 1e5
	}
	return freq.byteOf(b) / 1e5
}

// twoByteGroups covers the needles with groups looked for by two bytes of
// one part (member name or value) of each: greedily, the pair most
// needles hold first ("subresource": serves exec, attach and
// ephemeralcontainers at once), among pairs rare enough. The first byte
// is taken exactly, so a letter of a case-insensitive value is never it;
// the second may be one, in either case. Needles with no such pair are
// returned in rest.
func twoByteGroups(c rules.Clause, freq *sampledFreq) (groups []anchorGroup, rest []rules.Needle) {
	// Each needle's pairs rare enough, each pair once (its first place).
	type option struct {
		key pairKey
		a   rules.Anchor
	}
	options := make([][]option, len(c))
	seen := map[pairKey]int{} // needle k+1 that last listed the pair
	for k, n := range c {
		forPairs(n, func(key pairKey, a rules.Anchor) {
			if seen[key] == k+1 {
				return
			}
			if key.share(freq) <= maxTwoByteShare {
				seen[key] = k + 1
				options[k] = append(options[k], option{key, a})
			}
		})
	}
	covered := make([]bool, len(c))
	count := map[pairKey]int{}
	for {
		clear(count)
		for k := range c {
			if !covered[k] {
				for _, o := range options[k] {
					count[o.key]++
				}
			}
		}
		var best pairKey
		bestN, bestP := 0, 0.0
		for key, n := range count {
			p := key.share(freq)
			// Where a pair stops, every needle of its group is matched in
			// full (the pair is their guard): a pair on every line, the
			// "rc" of "resource", cannot serve sixteen needles.
			if p*(costStop+costMatch*float64(n)) > maxTwoByteStopCost {
				continue
			}
			if n > bestN || n == bestN && (p < bestP || p == bestP && key.less(best)) {
				best, bestN, bestP = key, n, p
			}
		}
		if bestN == 0 {
			break
		}
		g := anchorGroup{b: best.lo, two: true, hi: best.hi, mask: best.mask, d: best.d, p: bestP}
		for k, n := range c {
			if covered[k] {
				continue
			}
			for _, o := range options[k] {
				if o.key == best {
					covered[k] = true
					g.needles = append(g.needles, anchored{n: n, a: o.a, id: -1,
						g: rules.Guard{Off: best.d, Byte: best.hi, Mask: best.mask}, guarded: true})
					break
				}
			}
		}
		groups = append(groups, g)
	}
	for k, n := range c {
		if !covered[k] {
			rest = append(rest, n)
		}
	}
	return groups, rest
}

// pairKey is a pair of bytes a needle holds d apart: lo exactly, hi under
// mask (0x20 for a letter of a case-insensitive value).
type pairKey struct {
	lo, hi, mask byte
	d            int
}

// share is how often the pair occurs, per byte: in the sample for
// adjacent bytes, else as if the bytes were independent.
func (k pairKey) share(freq *sampledFreq) float64 {
	if k.d == 1 && freq != nil {
		p := freq.pair(k.lo, k.hi)
		if k.mask != 0 {
			p += freq.pair(k.lo, k.hi&^k.mask)
		}
		return p / 1e10
	}
	p := byteShare(k.hi, freq)
	if k.mask != 0 {
		p += byteShare(k.hi&^k.mask, freq)
	}
	return byteShare(k.lo, freq) * p
}

// forPairs calls fn for every pair of bytes of one part of n (member name
// or value) at most maxTwoByteDistance apart whose first byte a search
// can take exactly (not a letter of a case-insensitive value), with the
// anchor at that first byte.
func forPairs(n rules.Needle, fn func(key pairKey, a rules.Anchor)) {
	isLetter := func(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
	for _, part := range [2]struct {
		text        string
		inKey, fold bool
	}{{n.Key, true, false}, {n.Text, false, n.Fold}} {
		t := part.text
		for i := 0; i < len(t); i++ {
			if part.fold && isLetter(t[i]) {
				continue
			}
			for j := i + 1; j < len(t) && j-i <= maxTwoByteDistance; j++ {
				hi, mask := t[j], byte(0)
				if part.fold && isLetter(hi) {
					hi, mask = hi|0x20, 0x20
				}
				fn(pairKey{t[i], hi, mask, j - i}, rules.Anchor{InKey: part.inKey, Off: i, Byte: t[i]})
			}
		}
	}
}

// rarestPair is n's rarest pair, as an anchored needle whose guard is the
// pair's second byte; false if n has no pair rare enough.
func rarestPair(n rules.Needle, freq *sampledFreq) (anchored, bool) {
	best, bestP := anchored{}, maxTwoByteShare
	ok := false
	forPairs(n, func(key pairKey, a rules.Anchor) {
		if p := key.share(freq); p < bestP || !ok && p <= bestP {
			best = anchored{n: n, a: a, id: -1, g: rules.Guard{Off: key.d, Byte: key.hi, Mask: key.mask}, guarded: true}
			bestP, ok = p, true
		}
	})
	return best, ok
}

// less orders pairs of equal merit, so the choice does not depend on map
// order.
func (k pairKey) less(o pairKey) bool {
	if k.lo != o.lo {
		return k.lo < o.lo
	}
	if k.hi != o.hi {
		return k.hi < o.hi
	}
	if k.mask != o.mask {
		return k.mask < o.mask
	}
	return k.d < o.d
}

// fourSpecs are the pairs of s's groups in set (one to four; a spare slot
// repeats one), and their largest d.
func fourSpecs(s *search, set []int) (specs [4]twoByteSpec, maxD int) {
	for j := range specs {
		g := &s.groups[set[min(j, len(set)-1)]]
		specs[j] = twoByteSpec{lo: g.b, hi: g.hi, mask: g.mask, d: g.d}
		maxD = max(maxD, g.d)
	}
	return specs, maxD
}

// twoGroups counts the groups searched by two bytes.
func (s *search) twoGroups() int {
	n := 0
	for _, g := range s.groups {
		if g.two {
			n++
		}
	}
	return n
}

// markFour searches data for up to four two-byte groups of s at once
// (set indexes them) and calls hit where one is. Where to go on is the
// group's own business: the pass goes on from the next byte.
func (w *worker) markFour(data []byte, s *search, set []int, hit func(at int, needles []anchored) int) {
	specs, maxD := fourSpecs(s, set)
	for pos := 0; pos < len(data); pos++ {
		i := indexTwoBytes4(data[pos:], &specs, len(set), maxD)
		if i < 0 {
			return
		}
		pos += i
		for _, k := range set {
			if g := &s.groups[k]; data[pos] == g.b && pos+g.d < len(data) && data[pos+g.d]|g.mask == g.hi {
				hit(pos, g.needles)
			}
		}
	}
}
