package scan

import "bytes"

// indexTwoBytes returns the first i with s[i] == lo and s[i+d]|mask == hi
// (d > 0), or -1: a needle looked for by two of its bytes at once stops
// where both are, which is rare even where each byte alone is common
// ("subresource": every byte of it is frequent in an audit log, the pair
// of 'b' and the colon ten bytes on is not). mask is 0x20 to take a letter
// hi in either case, else 0.
func indexTwoBytes(s []byte, lo, hi, mask byte, d int) int {
	n := len(s) - d // positions that can start a match
	if n <= 0 {
		return -1
	}
	start := 0
	if twoByteSIMD {
		// Whole blocks of 32 positions whose second bytes are in s too.
		if blocks := n / 32; blocks > 0 {
			if i := twoByteAVX2(&s[0], blocks, lo, hi, mask, d); i >= 0 {
				return i
			}
			start = blocks * 32
		}
	}
	return indexTwoBytesFrom(s, start, n, lo, hi, mask, d)
}

// indexTwoBytesFrom is indexTwoBytes over positions [from, n), one
// memchr for lo at a time.
func indexTwoBytesFrom(s []byte, from, n int, lo, hi, mask byte, d int) int {
	for i := from; i < n; i++ {
		j := bytes.IndexByte(s[i:n], lo)
		if j < 0 {
			return -1
		}
		i += j
		if s[i+d]|mask == hi {
			return i
		}
	}
	return -1
}

// indexLineOrSpecial returns the first i where s[i] is a newline, a NUL
// byte, or a backslash not followed by a quote, or -1; AVX2 only. An
// escaped quote is what log lines hold most (messages quoting names), and
// no needle holds a quote in its text (fusedNULs).
func indexLineOrSpecial(s []byte) int {
	start := 0
	if blocks := (len(s) - 1) / 32; blocks > 0 {
		if i := lineOrSpecialAVX2(&s[0], blocks); i >= 0 {
			return i
		}
		start = blocks * 32
	}
	for i := start; i < len(s); i++ {
		if s[i] == '\n' || s[i] == 0 || s[i] == '\\' && (i+1 == len(s) || s[i+1] != '"') {
			return i
		}
	}
	return -1
}

// twoByteSpec is one pair for indexTwoBytes4, laid out as the assembly
// reads it.
type twoByteSpec struct {
	lo, hi, mask byte
	_            [5]byte
	d            int
}

// indexTwoBytes4 returns the first i where one of the first used pairs
// (two to four) is (see indexTwoBytes), or -1: one pass for several needle
// groups. maxD is the largest d of specs, and the unused ones repeat a
// used one; AVX2 only.
func indexTwoBytes4(s []byte, specs *[4]twoByteSpec, used, maxD int) int {
	n := len(s) - maxD // positions whose every second byte is in s
	start := 0
	if blocks := n / 32; blocks > 0 {
		var i int
		switch used {
		case 2:
			i = twoBytes2AVX2(&s[0], blocks, specs)
		case 3:
			i = twoBytes3AVX2(&s[0], blocks, specs)
		default:
			i = twoBytes4AVX2(&s[0], blocks, specs)
		}
		if i >= 0 {
			return i
		}
		start = blocks * 32
	}
	for i := start; i < len(s); i++ {
		if pairsAt(specs, s, i) {
			return i
		}
	}
	return -1
}

// pairsAt reports whether one of the pairs is at s[i].
func pairsAt(specs *[4]twoByteSpec, s []byte, i int) bool {
	for k := range specs {
		if sp := &specs[k]; s[i] == sp.lo && i+sp.d < len(s) && s[i+sp.d]|sp.mask == sp.hi {
			return true
		}
	}
	return false
}
