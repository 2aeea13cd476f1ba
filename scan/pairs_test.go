package scan

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// TestPairSearchFindsWhatIndexFinds: for every needle, the positions the
// pair and block searches stop at and confirm are exactly the lines where
// Needle.Index finds it, folded needles and member needles included.
func TestPairSearchFindsWhatIndexFinds(t *testing.T) {
	needles := []rules.Needle{
		{Text: "exec", Key: "subresource"},
		{Text: "true", Key: "interactive", Bool: true},
		{Text: "kubectl", Fold: true},
		{Text: "impersonatedUser", Name: true},
		{Text: "/api/v1/secrets?limit"},
		{Text: "pods", Key: "resource"},
		{Text: "ab", Fold: true},
	}
	lines := []string{
		execLine, wsExecLine, noiseLine, procLine,
		`{"x":"KUBECTL get pods","resource":"pods"}`,
		`{"objectRef":{"resource" : "pods"},"impersonatedUser":{}}`,
		`{"a":"/api/v1/secrets?limit=500","process":{"interactive":"true"}}`,
		`{"subresource":["exec"],"b":"AB"}`,
		`{"embedded":"{\"subresource\":\"exec\"}"}`,
		`{"x":"aB","y":"kUbEcTl"}`,
		`{"none":"of them"}`,
	}
	data := []byte(strings.Join(lines, "\n"))
	var all []anchored
	for _, n := range needles {
		all = append(all, anchored{n: n, id: -1})
	}
	type scanner func(data []byte, from int, hit func(at int, needles []anchored) int)
	var searches []scanner
	for _, freq := range []pairFreq{staticPairFreq, newSampledFreq(data).pair} {
		ps, _ := newPairSearch(all, freq)
		if ps == nil {
			t.Fatal("no pair search")
		}
		searches = append(searches, ps.scan)
	}
	if bs, _ := newBlockSearch(all, nil, math.Inf(1)); bs != nil {
		t.Fatal("a block search for a two-byte needle")
	}
	if bs, _ := newBlockSearch(all[:len(all)-1], nil, math.Inf(1)); bs == nil || bs.m != 7 {
		t.Fatalf("block search %+v, want prefixes of 7 bytes", bs)
	} else {
		searches = append(searches, bs.scan)
	}
	bs, _ := newBlockSearch(all[:len(all)-1], newSampledFreq(data), math.Inf(1))
	if bs == nil {
		t.Fatal("no block search tried on the sample")
	}
	searches = append(searches, bs.scan)
	for si, scan := range searches {
		found := map[rules.Needle]map[int]bool{}
		scan(data, 0, func(at int, list []anchored) int {
			for _, an := range list {
				if an.n.MatchAnchor(data, at, an.a) {
					if found[an.n] == nil {
						found[an.n] = map[int]bool{}
					}
					found[an.n][bytes.Count(data[:at], []byte("\n"))] = true
				}
			}
			return at + 1
		})
		for _, n := range needles {
			if si >= len(searches)-2 && n.Text == "ab" {
				continue
			}
			for i, l := range lines {
				want := n.Index([]byte(l)) >= 0
				if !found[n][i] && want && n.Key != "" && strings.Contains(l, n.Key+`":[`) {
					// Index anchored in the member name lets any array
					// through; anchored in the value, the search needs
					// the value itself (escapes are the escape check's).
					continue
				}
				if found[n][i] != want {
					t.Errorf("search %d: %v on line %d (%s): found %v, Index %v", si, n, i, l, found[n][i], want)
				}
			}
		}
	}
}

// TestChunkSearchChoosesPairsForManyNeedles: many rules make the chunk
// search one pass (over byte pairs, or skipping by blocks) where needles
// are looked for by one byte; by two bytes at once, needles that share a
// pair share a pass. A few needles keep the memchr passes.
func TestChunkSearchChoosesPairsForManyNeedles(t *testing.T) {
	defer func(simd bool) { twoByteSIMD = simd }(twoByteSIMD)
	twoByteSIMD = false
	few := newSearch(rules.Clause{{Text: "exec", Key: "subresource"}, {Text: "true", Key: "interactive", Bool: true}}, nil)
	if few.pairs != nil || few.blocks != nil {
		t.Error("two needles with rare anchors do not use the memchr passes")
	}
	var many rules.Clause
	for _, k := range []string{"resource", "verb", "namespace", "name", "username", "stage", "level", "code"} {
		for _, v := range []string{"alpha", "bravo", "charlie", "delta"} {
			many = append(many, rules.Needle{Key: k, Text: v})
		}
	}
	if s := newSearch(many, nil); s.pairs == nil && s.blocks == nil {
		t.Errorf("%d needles in %d groups keep the memchr passes", len(many), len(s.groups))
	}
	twoByteSIMD = true
	s := newSearch(many, nil)
	if s.pairs == nil && s.blocks == nil {
		for _, g := range s.groups {
			if !g.two {
				t.Errorf("group %q of one byte among needles of two-byte parts", g.b)
			}
		}
		// A pair of a value serves the eight members holding it, unless it
		// is too common for eight needles to be matched at its every stop.
		if len(s.groups) >= len(many)/4 {
			t.Errorf("%d needles in %d two-byte groups, want fewer than %d", len(many), len(s.groups), len(many)/4)
		}
	}
	sub := newSearch(rules.Clause{{Text: "exec", Key: "subresource"}, {Text: "attach", Key: "subresource"}, {Text: "ephemeralcontainers", Key: "subresource"}}, nil)
	if len(sub.groups) != 1 || !sub.groups[0].two || !sub.groups[0].needles[0].a.InKey {
		t.Errorf("three values of one member: groups %+v, want one pass by two bytes of the name", sub.groups)
	}
}

// TestBlockPartsFindEveryMatch: a block search looking for each needle by
// any of its parts, in any window of them, with the quotes around a value
// or after a name, confirms a match on exactly the lines where the needle
// matches anchored in that part: embedded events (whose quotes follow
// backslashes), arrays, folded values and bare booleans included. Where
// that part is the name, those are the lines Needle.Index finds.
func TestBlockPartsFindEveryMatch(t *testing.T) {
	needles := []rules.Needle{
		{Key: "resource", Text: "pods"},
		{Key: "verb", Text: "delete"},
		{Key: "hostIPC", Text: "true", Bool: true},
		{Key: "userAgent", Text: "kubectl", Fold: true},
		{Text: "impersonatedUser", Name: true},
	}
	lines := []string{
		`{"objectRef":{"resource":"pods"},"verb":"delete"}`,
		`{"objectRef":{"resource" : "pods" }}`,
		`{"msg":"{\"resource\":\"pods\",\"verb\":\"delete\"}"}`,
		`{"resource":["secrets","pods"],"verbs":["delete"]}`,
		`{"spec":{"hostIPC":true}}`,
		`{"spec":{"hostIPC":"true"}}`,
		`{"kubernetes.audit.requestObject.spec.hostIPC":true}`,
		`{"userAgent":"KubeCtl/v1.30"}`,
		`{"userAgent":"KUBECTL"}`,
		`{"impersonatedUser":{"username":"x"}}`,
		`{"resource":"podsX","verb":"deleted","x":"pods","y":"delete"}`,
		`{"subresource":"pods","hostIPCs":true}`,
	}
	data := []byte(strings.Join(lines, "\n"))
	freq := newSampledFreq(data)
	for _, n := range needles {
		for _, p := range blockParts(n) {
			for m := minBlockPrefix; m <= len(p.at); m++ {
				// Two needles, so that windows of others fill the table.
				other := rules.Needle{Text: strings.Repeat("z", 40)}
				all := []anchored{{n: n, id: -1}, {n: other, id: -1}}
				bs := buildBlocks(all, []blockPart{p, longestPart(blockParts(other))}, m, freq.pair)
				found := map[int]bool{}
				bs.scan(data, 0, func(at int, list []anchored) int {
					for k := range list {
						if list[k].n == n && list[k].at(data, at) {
							found[bytes.Count(data[:at], []byte("\n"))] = true
						}
					}
					return at + 1
				})
				for i, l := range lines {
					want := false
					for j := range l {
						want = want || n.MatchAnchor([]byte(l), j, rules.Anchor{InKey: p.inKey})
					}
					if p.inKey && want != (n.Index([]byte(l)) >= 0) {
						t.Errorf("%v on line %d (%s): anchored in the name %v, Index %v", n, i, l, want, !want)
					}
					if found[i] != want {
						t.Errorf("%v by %q in windows of %d: line %d (%s) found %v, Index %v", n, p.at, m, i, l, found[i], want)
					}
				}
			}
		}
	}
}

// TestBlockSearchChains: the block search runs several chains over parts
// of the chunk, each on alone once another is done; a match is found
// wherever it lies, across the parts' borders and at the chunk's ends.
func TestBlockSearchChains(t *testing.T) {
	needles := []rules.Needle{{Key: "verb", Text: "delete"}, {Text: "impersonatedUser", Name: true}, {Key: "hostPID", Text: "true", Bool: true}}
	var all []anchored
	for _, n := range needles {
		all = append(all, anchored{n: n, id: -1})
	}
	bs, _ := newBlockSearch(all, nil, math.Inf(1))
	inKey := map[rules.Needle]bool{}
	for _, list := range bs.cands {
		for _, an := range list {
			inKey[an.n] = an.a.InKey
		}
	}
	plant := []string{`"verb":"delete"`, `"impersonatedUser"`, `"hostPID":true`, `{\"verb\":\"delete\"}`}
	rng := rand.New(rand.NewPCG(7, 7))
	planted := 0
	for _, size := range []int{40, 200, 999, 4096, 10007} {
		for round := range 40 {
			data := make([]byte, size)
			for i := range data {
				data[i] = "abcdefghijklmnopqrstuvwxyz:,{}\"\\"[rng.IntN(32)]
			}
			for range 1 + rng.IntN(8) {
				p := plant[rng.IntN(len(plant))]
				copy(data[rng.IntN(size-len(p)+1):], p)
			}
			// Across the borders of the chains' parts, at every offset
			// over the rounds.
			lo := bs.m - 1
			for k := 1; k < blockChains; k++ {
				p := plant[(k+round)%len(plant)]
				if at := lo + k*(size-lo)/blockChains - len(p) + round%(len(p)+2); at >= 0 && at+len(p) <= size {
					copy(data[at:], p)
				}
			}
			if round%2 == 0 { // one at each end
				copy(data, plant[0])
				copy(data[size-len(plant[1]):], plant[1])
			}
			type match struct {
				n  rules.Needle
				at int
			}
			want := map[match]bool{}
			for i := range data {
				for _, n := range needles {
					if n.MatchAnchor(data, i, rules.Anchor{InKey: inKey[n]}) {
						want[match{n, i}] = true
					}
				}
			}
			got := map[match]bool{}
			bs.scan(data, 0, func(at int, list []anchored) int {
				for k := range list {
					if list[k].at(data, at) {
						got[match{list[k].n, at - list[k].a.Off}] = true
					}
				}
				return at + 1
			})
			for m := range want {
				if !got[m] {
					t.Errorf("size %d round %d: missed %v at %d", size, round, m.n, m.at)
				}
			}
			for m := range got {
				if !want[m] {
					t.Errorf("size %d round %d: found %v at %d, which is not there", size, round, m.n, m.at)
				}
			}
			planted += len(want)
		}
	}
	if planted < 300 {
		t.Errorf("only %d needles in the data", planted)
	}
}
