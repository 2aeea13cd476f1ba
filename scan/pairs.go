package scan

import (
	"github.com/k8sexec/k8sexec/rules"
)

// A pair search finds many needles in one pass: each needle is looked for
// by two adjacent bytes of it, and a 64 Kibit table says which byte pairs
// some needle starts a check at. Searching the chunk once per anchor byte
// costs a pass per distinct byte, and common bytes stop the search often;
// with the dozens of rules of a whole rule folder, one pass over pairs,
// which are far rarer than bytes, is several times cheaper. newSearch
// picks whichever costs less for the needles at hand.

type pairSearch struct {
	bits  [1 << 16 / 64]uint64
	pairs map[uint16][]anchored
}

// pairFreq estimates how often each byte pair occurs, in parts per 10^10
// bytes: measured on a sample when there is one, else from byteFreq as if
// bytes were independent.
type pairFreq func(a, b byte) float64

func staticPairFreq(a, b byte) float64 {
	return float64(byteFreq(a)) * float64(byteFreq(b))
}

// sampledFreq counts the bytes and byte pairs of sample.
type sampledFreq struct {
	bytes  [256]float64
	pairs  []uint32 // 1<<16
	n      float64
	sample []byte
}

func newSampledFreq(sample []byte) *sampledFreq {
	f := &sampledFreq{pairs: make([]uint32, 1<<16), n: float64(max(len(sample), 1)), sample: sample}
	for i, c := range sample {
		f.bytes[c]++
		if i+1 < len(sample) {
			f.pairs[uint16(c)<<8|uint16(sample[i+1])]++
		}
	}
	return f
}

// pair is in parts per 10^10, at least a little above zero: a pair absent
// from the sample may still occur.
func (f *sampledFreq) pair(a, b byte) float64 {
	return (float64(f.pairs[uint16(a)<<8|uint16(b)]) + 0.5) / f.n * 1e10
}

// byteOf is in parts per 10^5, like byteFreq.
func (f *sampledFreq) byteOf(c byte) float64 {
	return (f.bytes[c] + 0.5) / f.n * 1e5
}

// byteFreq reads the static table of the rules package's estimate.
func byteFreq(c byte) int {
	return rules.Anchor{Byte: c}.Freq(rules.Needle{})
}

// pairAnchor is where a needle is looked for in a pair search: the pair's
// first byte, in the member name or the value.
type pairAnchor struct {
	a     rules.Anchor
	pairs []uint16 // both cases of folded letters
	freq  float64
}

// bestPair returns the needle's rarest pair of adjacent bytes, within its
// member name or within its value (the bytes between them vary), or false
// for a needle shorter than two bytes in both.
func bestPair(n rules.Needle, freq pairFreq) (pairAnchor, bool) {
	best, found := pairAnchor{}, false
	try := func(s string, inKey bool) {
		for i := 0; i+1 < len(s); i++ {
			fold := !inKey && n.Fold
			var ps []uint16
			for _, a := range caseVariants(s[i], fold) {
				for _, b := range caseVariants(s[i+1], fold) {
					ps = append(ps, uint16(a)<<8|uint16(b))
				}
			}
			f := 0.0
			for _, p := range ps {
				f += freq(byte(p>>8), byte(p))
			}
			if !found || f < best.freq {
				best = pairAnchor{a: rules.Anchor{InKey: inKey, Off: i, Byte: s[i]}, pairs: ps, freq: f}
				found = true
			}
		}
	}
	try(n.Key, true)
	try(n.Text, false)
	return best, found
}

func caseVariants(c byte, fold bool) []byte {
	if fold && c >= 'a' && c <= 'z' {
		return []byte{c, c - 'a' + 'A'}
	}
	return []byte{c}
}

// newPairSearch builds the pair search of needles, or returns nil if one
// of them has no pair.
func newPairSearch(needles []anchored, freq pairFreq) (*pairSearch, float64) {
	ps := &pairSearch{pairs: map[uint16][]anchored{}}
	total := 0.0
	for _, an := range needles {
		pa, ok := bestPair(an.n, freq)
		if !ok {
			return nil, 0
		}
		id := an.id
		an = newAnchored(an.n, pa.a)
		an.id = id
		for _, p := range pa.pairs {
			ps.bits[p>>6] |= 1 << (p & 63)
			ps.pairs[p] = append(ps.pairs[p], an)
		}
		total += pa.freq
	}
	return ps, total
}

// scan calls hit for every position where a needle's pair starts, with
// the needles to check there.
func (ps *pairSearch) scan(data []byte, from int, hit func(at int, needles []anchored) (next int)) {
	for i := from; i+1 < len(data); i++ {
		p := uint16(data[i])<<8 | uint16(data[i+1])
		if ps.bits[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		if next := hit(i, ps.pairs[p]); next > i+1 {
			i = next - 1
		}
	}
}
