package scan

import (
	"bytes"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
)

// reqSet is every matcher's requirement in a form that checks a line
// against many rules at once: each distinct needle is looked for in a line
// at most once, however many clauses hold it, and the line's JSON escapes
// are decoded once, not once per clause. With Elastic's whole rule set
// loaded, rules share most of their needles ("resource":"pods",
// "decision":"allow").
type reqSet struct {
	needles []rules.Needle
	index   map[rules.Needle]int32 // into needles
	reqs    [][]checkClause        // per matcher, in the requirement's order
	// twos, with AVX2, are the needles' rarest byte pairs: a needle absent
	// from a line is ruled out by one pass over it, without stopping at
	// each of its rarest byte (lineCheck.index).
	twos []anchored
}

type checkClause struct {
	ids []int32 // into reqSet.needles
	// ascii marks the ASCII characters of the clause's needles; other
	// characters an escape may stand for are checked against clause.
	ascii  [2]uint64
	clause rules.Clause
}

func newReqSet(all []rules.Requirement, freq *sampledFreq) *reqSet {
	s := &reqSet{reqs: make([][]checkClause, len(all)), index: map[rules.Needle]int32{}}
	index := s.index
	for m, req := range all {
		for _, c := range req {
			cc := checkClause{clause: c}
			for _, n := range c {
				id, ok := index[n]
				if !ok {
					id = int32(len(s.needles))
					index[n] = id
					s.needles = append(s.needles, n)
				}
				cc.ids = append(cc.ids, id)
			}
			cc.ascii = c.ASCIISet()
			s.reqs[m] = append(s.reqs[m], cc)
		}
	}
	if twoByteSIMD {
		s.twos = make([]anchored, len(s.needles))
		for id, n := range s.needles {
			s.twos[id], _ = rarestPair(n, freq)
		}
	}
	return s
}

// lineCheck holds what is known about the line being checked.
type lineCheck struct {
	set  *reqSet
	line []byte
	// found is per needle: 0 not looked for yet, 1 present, 2 absent.
	found []uint8
	// Escapes in the line: escASCII marks the ASCII characters they may
	// stand for, escOther the others; escDone says they were collected.
	escDone  bool
	escASCII [2]uint64
	escOther []rune
}

// absentTemplate is the state of a line's needles before it is checked,
// for lines of chunks s searched: the needles s looks for are absent
// unless s found them on the line.
func (s *reqSet) absentTemplate(sr *search) []uint8 {
	t := make([]uint8, len(s.needles))
	sr.each(func(an *anchored) {
		if an.id >= 0 {
			t[an.id] = 2
		}
	})
	return t
}

// reset starts checking line against set. known, if set, gives needles
// already known to be absent, and found lists those the chunk search
// found on the line.
func (lc *lineCheck) reset(set *reqSet, line []byte, known []uint8, found []int32) {
	lc.set, lc.line = set, line
	if cap(lc.found) < len(set.needles) {
		lc.found = make([]uint8, len(set.needles))
	}
	lc.found = lc.found[:len(set.needles)]
	if known != nil {
		copy(lc.found, known)
		for _, id := range found {
			lc.found[id] = 1
		}
	} else {
		clear(lc.found)
	}
	lc.escDone = false
}

// satisfies reports whether the line can satisfy matcher m's requirement.
func (lc *lineCheck) satisfies(m int) bool {
	for i := range lc.set.reqs[m] {
		if !lc.clause(&lc.set.reqs[m][i]) {
			return false
		}
	}
	return true
}

func (lc *lineCheck) clause(c *checkClause) bool {
	for _, id := range c.ids {
		switch lc.found[id] {
		case 1:
			return true
		case 0:
			if lc.index(id) {
				lc.found[id] = 1
				return true
			}
			lc.found[id] = 2
		}
	}
	return lc.escapeHides(c)
}

// index reports whether needle id is on the line: by its byte pair where
// it has one (twos: the anchor, and the guard the pair's second byte),
// else by Needle.Index.
func (lc *lineCheck) index(id int32) bool {
	if int(id) >= len(lc.set.twos) || !lc.set.twos[id].guarded {
		return lc.set.needles[id].Index(lc.line) >= 0
	}
	an := &lc.set.twos[id]
	line := lc.line
	for from := 0; from < len(line); from++ {
		i := indexTwoBytes(line[from:], an.a.Byte, an.g.Byte, an.g.Mask, an.g.Off)
		if i < 0 {
			return false
		}
		if from += i; an.n.MatchAnchor(line, from, an.a) {
			return true
		}
	}
	return false
}

// escapeHides is Clause.EscapeHides with the line's escapes decoded once.
func (lc *lineCheck) escapeHides(c *checkClause) bool {
	if !lc.escDone {
		lc.collectEscapes()
	}
	if lc.escASCII[0]&c.ascii[0] != 0 || lc.escASCII[1]&c.ascii[1] != 0 {
		return true
	}
	for _, r := range lc.escOther {
		if c.clause.ContainsRune(r) {
			return true
		}
	}
	return false
}

func (lc *lineCheck) collectEscapes() {
	lc.escDone = true
	lc.escASCII = [2]uint64{}
	lc.escOther = lc.escOther[:0]
	text := lc.line
	for i := 0; ; {
		j := bytes.IndexByte(text[i:], '\\')
		if j < 0 {
			return
		}
		i += j
		i += rules.EscapedRunes(text[i:], func(r rune) {
			if r >= 0 && r < utf8.RuneSelf {
				lc.escASCII[r/64] |= 1 << (r % 64)
			} else {
				lc.escOther = append(lc.escOther, r)
			}
		})
	}
}
