package scan

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
	"github.com/tidwall/pretty"
)

// maxDepth bounds JSON nesting. gjson validates recursively, so a line of a
// million '[' would otherwise exhaust the stack; no real event nests deeper
// than a few dozen levels.
const maxDepth = 256

// plan is what every worker shares: the compiled matchers and the literals
// that decide which lines are worth parsing.
type plan struct {
	matchers  []rules.Matcher // rules first, then selectors, then probes
	nRules    int
	probeFrom int // the index of the first probe
	prefilter bool
	// members is set when some clause names members ("subresource":"exec").
	// Records of shapes whose adapter renames members (GKE, recognised by
	// renamedMarker) are then checked against the loose requirements, the
	// same without member names.
	members bool
	rawOnly []bool
	// static is the filter in the order the static cost estimate gives.
	// An input whose first chunk is large gets its own, in the order the
	// clauses' frequency in that chunk gives (adapt), from its
	// adaptedChunk'th chunk on. Any order gives the same matches; only the
	// speed differs, and since the choice depends only on the input, so
	// do the statistics (how many events were parsed).
	static  *filter
	adaptAt int // bytes of a first chunk adapt needs
	flat    *flatPlan
	// walkFirst: raw audit lines outside the part of the input that is
	// always parsed are walked for the rules' fields before they are
	// validated, and only validated if a rule matches them (ruledOut).
	// Off with NoPrefilter, which validates every line.
	walkFirst bool
	selectors []Selector
	// newTerms holds, per rule, its new_terms condition, nil for others.
	newTerms []*rules.NewTerms
	// evidence is Options.Evidence when EvidenceLimit is set.
	evidence func(doc rules.Document, raw []byte) string
	// seed hashes matched events' text (Event.sum): random, so that no
	// log can be written to make two events hash alike.
	seed maphash.Seed
}

// bounded reports whether Options.EvidenceLimit may bound ev: a rule
// other than a new_terms one matched it, or a selector boundsContext
// names.
func (p *plan) bounded(ev *Event) bool {
	return slices.ContainsFunc(ev.Rules, func(r int) bool { return p.newTerms[r] == nil }) ||
		slices.ContainsFunc(ev.Selectors, func(si int) bool { return boundsContext(p.selectors[si]) })
}

// filter decides which lines are parsed and for which matchers.
type filter struct {
	// reqs and loose hold each matcher's requirement, most selective
	// clause first.
	reqs, loose []rules.Requirement
	// full is the chunk-wide search for any chunk: for each matcher its
	// most selective clause, merged, so a line can only matter if it holds
	// one of its needles. raw is the same for chunks of raw audit lines
	// only, leaving out matchers no raw audit event can satisfy (process
	// rules on an audit log); rawOnly marks those matchers.
	full, raw search
	// check and checkLoose are reqs and loose compiled for checking lines.
	check, checkLoose *reqSet
	// rawKnown and fullKnown mark the needles of check that the raw and
	// full searches look for on every line: a line the search found none
	// of them on holds none of them.
	rawKnown, fullKnown []uint8
	// unprobed is the filter without the probes' needles, for the chunks
	// of an input a probe already found a line in (nil without probes).
	unprobed *filter
}

// newFilter builds the chunk searches from the first clause of each
// requirement.
func newFilter(reqs, loose []rules.Requirement, rawOnly []bool, members bool, freq *sampledFreq, probeFrom int) *filter {
	f := &filter{reqs: reqs, loose: loose, check: newReqSet(reqs, freq), checkLoose: newReqSet(loose, freq)}
	if probeFrom < len(reqs) {
		// The probes keep their requirements, for the line check to skip,
		// but give the search no needles.
		cut := func(rs []rules.Requirement) []rules.Requirement {
			out := slices.Clone(rs)
			for m := probeFrom; m < len(out); m++ {
				out[m] = nil
			}
			return out
		}
		f.unprobed = newFilter(cut(reqs), cut(loose), rawOnly, members, freq, len(reqs))
	}
	var full, raw rules.Clause
	for m, req := range reqs {
		if len(req) == 0 {
			continue
		}
		full = append(full, req[0]...)
		if !rawOnly[m] {
			raw = append(raw, req[0]...)
		}
	}
	full = minimalClause(full)
	if members {
		full = append(full, renamedMarker)
	}
	f.full, f.raw = newSearch(full, freq), newSearch(minimalClause(raw), freq)
	// What the searches find tells the line check which of its needles a
	// line holds, and which it does not.
	for _, s := range []*search{&f.full, &f.raw} {
		s.each(func(an *anchored) {
			if id, ok := f.check.index[an.n]; ok {
				an.id = id
			}
		})
	}
	f.rawKnown = f.check.absentTemplate(&f.raw)
	f.fullKnown = f.check.absentTemplate(&f.full)
	return f
}

// adaptSample is how much of the first large chunk adapt counts in: a
// thousand raw audit events. Smaller chunks (tests use them) lower it to
// half a chunk.
const adaptSample = 256 << 10

// adapt orders every requirement's clauses by how many lines of sample
// (at least adaptSample bytes of one input) hold them, fewest first, and
// rebuilds the searches from the new first clauses. The static estimate
// cannot know that, say, "stage":"ResponseComplete" is on most lines of
// an audit log while "subresource":"exec" is on few; with many rules one
// such clause would make every line a candidate.
func (p *plan) adapt(sample []byte) *filter {
	cur := p.static
	if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
		sample = sample[:i+1]
	}
	freq := newSampledFreq(sample)
	hits := sampleLines(sample, append(neededIn(cur.reqs), neededIn(cur.loose)...), freq)
	clauseLines := func(c rules.Clause) int {
		t := 0
		for _, n := range c {
			t += hits[n]
		}
		return t
	}
	// searchCost is how often the chunk search would stop for the clause:
	// for each needle its rarest byte in the sample. Among clauses on
	// equally few lines (often none: process rules on an audit log), the
	// cheapest to search for comes first.
	searchCost := func(c rules.Clause) float64 {
		t := 0.0
		for _, n := range c {
			best := -1.0
			for _, a := range n.Anchors() {
				f := 0.0
				for _, b := range a.Bytes(n) {
					f += freq.byteOf(b)
				}
				if best < 0 || f < best {
					best = f
				}
			}
			t += best
		}
		return t
	}
	reorder := func(all []rules.Requirement) []rules.Requirement {
		out := make([]rules.Requirement, len(all))
		for m, req := range all {
			counts := make([]int, len(req))
			costs := make([]float64, len(req))
			for i, c := range req {
				counts[i], costs[i] = clauseLines(c), searchCost(c)
			}
			order := make([]int, len(req))
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(a, b int) bool {
				if ca, cb := counts[order[a]], counts[order[b]]; ca != cb {
					return ca < cb
				}
				return costs[order[a]] < costs[order[b]]
			})
			out[m] = make(rules.Requirement, len(req))
			for i, j := range order {
				out[m][i] = req[j]
			}
		}
		return out
	}
	return newFilter(reorder(cur.reqs), reorder(cur.loose), p.rawOnly, p.members, freq, p.probeFrom)
}

// countNeedles is how many needles sampleLines counts in a whole sample.
const countNeedles = 128

// neededIn lists the needles of all's clauses.
func neededIn(all []rules.Requirement) rules.Clause {
	var c rules.Clause
	for _, req := range all {
		for _, cl := range req {
			c = append(c, cl...)
		}
	}
	return c
}

// sampleLines counts the lines of sample (whole lines) that hold each
// needle of c. The needles are looked for as the chunk search's one-byte
// groups look for them, one pass per anchor byte: with Elastic's rules
// loaded there are hundreds of needles but a few dozen anchor bytes. With
// more than countNeedles needles, only a part of the sample is counted
// in, smaller the more needles there are, so that adapting to an input
// costs a few milliseconds however many rules are loaded: the counts only
// order clauses, and a few dozen events tell a clause on most lines from
// one on few.
func sampleLines(sample []byte, c rules.Clause, freq *sampledFreq) map[rules.Needle]int {
	ids := map[rules.Needle]int{}
	var distinct rules.Clause
	for _, n := range c {
		if _, ok := ids[n]; !ok {
			ids[n] = len(distinct)
			distinct = append(distinct, n)
		}
	}
	if len(distinct) > countNeedles {
		sample = sample[:len(sample)*countNeedles/len(distinct)]
		if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
			sample = sample[:i+1]
		}
	}
	var starts []int
	for i := 0; i < len(sample); {
		starts = append(starts, i)
		j := bytes.IndexByte(sample[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	// held[id*words+w] marks the lines holding needle id; a needle with
	// several anchor bytes (a case-insensitive one) is found in several
	// passes, on the same lines.
	words := (len(starts) + 63) / 64
	held := make([]uint64, len(distinct)*words)
	// By one byte each: counting searches the sample once, so a cover of
	// shared pairs would cost more than it saves.
	s := groupSearch(distinct, freq, false)
	for _, g := range s.groups {
		for pos := 0; pos < len(sample); pos++ {
			i := bytes.IndexByte(sample[pos:], g.b)
			if i < 0 {
				break
			}
			pos += i
			li := -1
			for k := range g.needles {
				an := &g.needles[k]
				if !an.guard(sample, pos) {
					continue
				}
				if li < 0 {
					li = sort.SearchInts(starts, pos+1) - 1
				}
				// Matched within its line, as the line check would.
				end := len(sample)
				if li+1 < len(starts) {
					end = starts[li+1]
				}
				if an.n.MatchAnchor(sample[starts[li]:end], pos-starts[li], an.a) {
					held[ids[an.n]*words+li/64] |= 1 << (li % 64)
				}
			}
		}
	}
	counts := make(map[rules.Needle]int, len(distinct))
	for id, n := range distinct {
		t := 0
		for _, w := range held[id*words : (id+1)*words] {
			t += bits.OnesCount64(w)
		}
		counts[n] = t
	}
	return counts
}

// adaptSampleOf returns the part of an input's first chunk, data, that
// its filter will adapt to (a copy: chunk buffers are reused), or nil
// when the chunk is too small to say something.
func (p *plan) adaptSampleOf(data []byte) []byte {
	if !p.prefilter || len(data) < p.adaptAt {
		return nil
	}
	return bytes.Clone(data[:p.adaptAt])
}

// adaptChunk is the chunk of an input at which its filter starts adapting
// to its first chunk, in the background, and adaptedChunk the one from
// which on it is scanned with the adapted filter; the chunks before it,
// and shorter inputs, get the static filter. Adapting costs 2-4 ms with
// the built-in rules and 25 ms with Elastic's whole rule folder, which an
// input of a few MiB does not win back: a folder of 200 files of 1 MiB
// took 0.9 s with the built-in rules, and 0.1 s without adapting. A
// mapped file known to end before adaptedChunk is not adapted at all.
const (
	adaptChunk   = 8
	adaptedChunk = 2 * adaptChunk
)

// search finds the lines worth parsing in a chunk: those holding a needle
// of its clause, or an escape that could hide one of the needles'
// characters. Needles are grouped by the byte they are looked for by, so
// the chunk is searched once per group, not once per needle.
type search struct {
	clause rules.Clause
	groups []anchorGroup
	// pairs or blocks, when set, replace groups: one pass over byte pairs
	// (pairs.go), or one that skips most bytes (blocks.go), is cheaper
	// than a pass per group.
	pairs  *pairSearch
	blocks *blockSearch
	// runes marks the ASCII characters of the needles, so the escape
	// check costs a table lookup per backslash.
	runes [128]bool
}

type anchorGroup struct {
	b       byte
	needles []anchored
	// two, when set, has the group looked for by b and a second byte at
	// once (indexTwoBytes): every needle of it holds b at its anchor and
	// hi (under mask) d bytes on, its guard. p is how often that pair
	// occurs, per byte.
	two  bool
	hi   byte
	mask byte
	d    int
	p    float64
}

type anchored struct {
	n  rules.Needle
	a  rules.Anchor
	id int32 // the needle's index in the filter's check set, or -1
	// g, when guarded, is a second byte tested before MatchAnchor: most
	// stops at a common anchor end there.
	g       rules.Guard
	guarded bool
}

func newAnchored(n rules.Needle, a rules.Anchor) anchored {
	g, ok := n.Guard(a)
	return anchored{n: n, a: a, id: -1, g: g, guarded: ok}
}

// at reports whether the needle is in data with its anchor at data[i]:
// the guard byte first, which most stops at a common anchor fail.
func (an *anchored) at(data []byte, i int) bool {
	return an.guard(data, i) && an.n.MatchAnchor(data, i, an.a)
}

// guard reports whether the guard byte, if any, allows a match with the
// anchor at data[i].
func (an *anchored) guard(data []byte, i int) bool {
	j := i + an.g.Off
	return !an.guarded || uint(j) < uint(len(data)) && data[j]|an.g.Mask == an.g.Byte
}

// hides reports whether an escaped character could be part of a needle.
func (s *search) hides(r rune) bool {
	if r < 128 {
		return s.runes[r]
	}
	return s.clause.ContainsRune(r)
}

// newSearch returns the cheapest search for c's needles it estimates: by
// anchor groups, or by a pair or block search.
func newSearch(c rules.Clause, freq *sampledFreq) search {
	s := groupSearch(c, freq, searchTwoBytes())
	s.choosePairs(freq)
	return s
}

// groupSearch groups the needles by two bytes where twoBytes is set and
// they are few enough (twoByteGroups), the others by anchor byte. Each of
// those takes its rarest byte, or a byte another needle is already
// searched by when that is at most twice as frequent: one pass over the
// chunk then serves both.
func groupSearch(c rules.Clause, freq *sampledFreq, twoBytes bool) search {
	s := search{clause: c}
	set := c.ASCIISet()
	for r := range s.runes {
		s.runes[r] = set[r/64]&(1<<(r%64)) != 0
	}
	// How often an anchor's bytes occur: in the input's sample when there
	// is one (a process log's base64 IDs hold every letter), else by the
	// static estimate.
	cost := func(n rules.Needle, a rules.Anchor) float64 {
		if freq == nil {
			return float64(a.Freq(n))
		}
		f := 0.0
		for _, b := range a.Bytes(n) {
			f += freq.byteOf(b)
		}
		return f
	}
	type candidate struct {
		n       rules.Needle
		anchors []rules.Anchor
		best    rules.Anchor
		cost    float64
	}
	cands := make([]candidate, len(c))
	for i, n := range c {
		all := n.Anchors()
		cd := candidate{n: n, anchors: all, best: all[0], cost: cost(n, all[0])}
		for _, a := range all[1:] {
			if f := cost(n, a); f < cd.cost {
				cd.best, cd.cost = a, f
			}
		}
		cands[i] = cd
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].cost < cands[j].cost })
	if twoBytes && len(c) <= maxTwoByteNeedles {
		var rest []rules.Needle
		s.groups, rest = twoByteGroups(c, freq)
		cands = slices.DeleteFunc(cands, func(cd candidate) bool { return !slices.Contains(rest, cd.n) })
	}
	byByte := map[byte]int{}
	for _, cd := range cands {
		n, best := cd.n, cd.best
		chosen := best
		if len(best.Bytes(n)) == 1 {
			for _, a := range cd.anchors {
				if bs := a.Bytes(n); len(bs) == 1 {
					if _, ok := byByte[bs[0]]; ok && cost(n, a) <= 2*cd.cost {
						chosen = a
						break
					}
				}
			}
		}
		for _, b := range chosen.Bytes(n) {
			g, ok := byByte[b]
			if !ok {
				g = len(s.groups)
				byByte[b] = g
				s.groups = append(s.groups, anchorGroup{b: b, p: byteShare(b, freq)})
			}
			s.groups[g].needles = append(s.groups[g].needles, newAnchored(n, chosen))
		}
	}
	return s
}

// Costs of the ways to search a chunk, in nanoseconds: per byte of a
// memchr pass or of a pair pass, per step of a block search, per stop at
// an anchor, and per needle checked there (a guard byte, mostly). Measured
// roughly on this project's corpora on a warm cache; they only steer the
// choice.
const (
	costPass      = 0.04
	costTwoBytes  = 0.07
	costPairPass  = 1.3
	costBlockStep = 2.4
	costBlockStop = 20 // the block search's stops cost more than memchr's
	costStop      = 7
	costPerNeedle = 1
	costMatch     = 10 // a needle matched in full where a two-byte group stops
)

// forceSearch, set by tests, makes every search with at least two needles
// use one way ("groups", "pairs" or "blocks") where it can.
var forceSearch string

// choosePairs switches s to a pair or block search when that is estimated
// to cost less per byte than its anchor groups.
func (s *search) choosePairs(freq *sampledFreq) {
	nGroups := len(s.groups)
	if nGroups < 2 && forceSearch == "" {
		return // one memchr pass always wins
	}
	pairOf := pairFreq(staticPairFreq)
	if freq != nil {
		pairOf = freq.pair
	}
	groups := 0.0
	var all []anchored
	for _, g := range s.groups {
		pass := costPass
		if g.two {
			pass = costTwoBytes
		}
		perNeedle := float64(costPerNeedle)
		if g.two {
			perNeedle = costMatch
		}
		groups += pass + g.p*(costStop+perNeedle*float64(len(g.needles)))
		all = append(all, g.needles...)
	}
	all = dedupeAnchored(all)
	if len(all) < 2 {
		return
	}
	beat := groups
	if forceSearch == "blocks" {
		beat = math.Inf(1)
	}
	bs, blockCost := newBlockSearch(all, freq, beat)
	switch forceSearch {
	case "groups", "bytes", "twobytes":
		return
	case "blocks":
		if bs != nil {
			s.blocks, s.groups = bs, nil
		}
		return
	case "pairs":
		if ps, _ := newPairSearch(all, pairOf); ps != nil {
			s.pairs, s.groups = ps, nil
		}
		return
	}
	best := groups
	if bs != nil && blockCost < best {
		best, s.blocks, s.groups = blockCost, bs, nil
	}
	if nGroups < 3 {
		return // a few memchr passes beat a pass over every byte
	}
	ps, hits := newPairSearch(all, pairOf)
	if ps == nil {
		return
	}
	if cost := costPairPass + hits/1e10*(costStop+costPerNeedle); cost < best {
		s.pairs, s.blocks, s.groups = ps, nil, nil
	}
}

// dedupeAnchored keeps one entry per needle (a folded needle is in the
// group of each case of its anchor).
func dedupeAnchored(all []anchored) []anchored {
	seen := map[rules.Needle]bool{}
	var out []anchored
	for _, an := range all {
		if !seen[an.n] {
			seen[an.n] = true
			out = append(out, an)
		}
	}
	return out
}

// each calls fn for every needle entry of the search.
func (s *search) each(fn func(*anchored)) {
	for g := range s.groups {
		for k := range s.groups[g].needles {
			fn(&s.groups[g].needles[k])
		}
	}
	if s.pairs != nil {
		for p, list := range s.pairs.pairs {
			for k := range list {
				fn(&s.pairs.pairs[p][k])
			}
		}
	}
	if s.blocks != nil {
		for b, list := range s.blocks.cands {
			for k := range list {
				fn(&s.blocks.cands[b][k])
			}
		}
	}
}

// renamedMarker is in every record of a shape whose adapter exposes
// fields under names its text does not hold: GKE's Cloud Audit Logs
// entries, where kubernetes.audit.verb comes from protoPayload.methodName.
var renamedMarker = rules.Needle{Text: "protoPayload"}

// renamedClause is checked on each candidate line: an escape that could
// spell the marker counts as the marker.
var renamedClause = rules.Clause{renamedMarker}

func newPlan(opts Options) (*plan, error) {
	p := &plan{nRules: len(opts.Rules), prefilter: !opts.NoPrefilter, adaptAt: adaptSample, seed: maphash.MakeSeed()}
	if opts.EvidenceLimit > 0 {
		p.evidence = opts.Evidence
	}
	if opts.ChunkSize > 0 && opts.ChunkSize/2 < p.adaptAt {
		p.adaptAt = max(opts.ChunkSize/2, 1)
	}
	var reqs, looses []rules.Requirement
	var fields []*rules.Field
	add := func(m rules.Matcher, e rules.Expr) {
		p.matchers = append(p.matchers, m)
		fields = append(fields, rules.Fields(e)...)
		// Strict requirements are for the text of every shape but GKE's,
		// whose adapter renames members and fills fields from others:
		// its records get loose requirements, without member or name
		// needles and without the fields it computes.
		// A query no raw audit event can satisfy needs its members only
		// under their ECS names ("action", not raw audit's "verb" too).
		keys := memberKeys
		if !rawPossible(e) {
			keys = ecsMemberKeys
		}
		req := rules.RequirementFor(e, rules.Literals{Synthesized: rawSynthesized, MemberKeys: keys, Name: fieldName})
		loose := rules.RequirementFor(e, rules.Literals{Synthesized: synthesized})
		p.members = p.members || !slices.EqualFunc(req, loose, slices.Equal)
		reqs = append(reqs, req)
		looses = append(looses, loose)
		p.rawOnly = append(p.rawOnly, !rawPossible(e))
		if len(req) == 0 {
			p.prefilter = false
		}
	}
	for _, r := range opts.Rules {
		if r.Matcher == nil || r.Expr == nil {
			return nil, fmt.Errorf("rule %s is not compiled", r.ID)
		}
		add(r.Matcher, r.Expr)
		if len(r.Index) > 0 {
			fields = append(fields, rules.ScopeFields...) // the matcher reads them too
		}
		p.newTerms = append(p.newTerms, r.NewTerms)
		if r.NewTerms != nil {
			// What the condition reads of each match (newTermsOf).
			fields = append(fields, r.NewTerms.Reads()...)
			for _, k := range timestampKeys {
				fields = append(fields, auditTimeFields[k])
			}
		}
	}
	for _, s := range opts.Selectors {
		m, err := rules.Compile(s.Expr)
		if err != nil {
			return nil, fmt.Errorf("selector %s: %w", s.Name, err)
		}
		add(m, s.Expr)
		// What the worker reads of each match (eventKey).
		fields = append(fields, s.Keys...)
		if len(s.Group) > 0 {
			fields = append(fields, s.Group...)
			for _, f := range []*rules.Field{s.Order, s.GroupOrder} {
				if f != nil {
					fields = append(fields, f)
				}
			}
		}
		p.selectors = append(p.selectors, s)
	}
	p.probeFrom = len(p.matchers)
	for _, s := range opts.probes {
		m, err := rules.Compile(s.Expr)
		if err != nil {
			return nil, fmt.Errorf("selector %s: %w", s.Name, err)
		}
		add(m, s.Expr)
	}
	if len(p.matchers) == 0 {
		p.prefilter = true // nothing can match; skip every line
	}
	p.static = newFilter(reqs, looses, p.rawOnly, p.members, nil, p.probeFrom)
	p.flat = newFlatPlan(fields)
	p.walkFirst = !opts.NoPrefilter
	return p, nil
}

// rawPossible reports whether e can hold for a raw audit event, which
// exposes only kubernetes.audit.* and the fields of rawECSFields: a
// condition on any other field (process.*, container.id) never holds, and
// so neither does a conjunction that needs one.
func rawPossible(e rules.Expr) bool {
	switch x := e.(type) {
	case *rules.And:
		for _, c := range x.X {
			if !rawPossible(c) {
				return false
			}
		}
		return true
	case *rules.Or:
		for _, c := range x.X {
			if rawPossible(c) {
				return true
			}
		}
		return false
	case rules.Const:
		return bool(x)
	case *rules.Pred:
		_, mapped := rawECSFields[x.Field.Name]
		return mapped || strings.HasPrefix(x.Field.Name, "kubernetes.audit.")
	}
	return true // a negation may hold for anything
}

// minimalClause drops needles that others make redundant: duplicates, and
// a plain needle holding another plain needle (a line with "exec2" also
// holds "exec"), so the chunk is searched as few times as possible.
func minimalClause(c rules.Clause) rules.Clause {
	var out rules.Clause
	for i, n := range c {
		redundant := false
		for j, m := range c {
			if i == j {
				continue
			}
			switch {
			case n == m:
				redundant = j < i
			case n.Key == "" && m.Key == "" && (m.Fold || !n.Fold) && len(m.Text) < len(n.Text) && strings.Contains(n.Text, m.Text):
				redundant = true
			case n.Key != "" && m.Key == "" && (m.Fold || !n.Fold) && strings.Contains(n.Text, m.Text):
				// A member needle's value is in the text too.
				redundant = true
			}
			if redundant {
				break
			}
		}
		if !redundant {
			out = append(out, n)
		}
	}
	return out
}

type lineKind uint8

const (
	lineBlank lineKind = iota
	lineEvent
	lineMalformed
	// lineSkipped is a record that is no event: container output that
	// is not JSON (container.go).
	lineSkipped
	// lineForced is a line the prefilter may not rule out: in a Docker
	// log, text to count as skipped or a piece of a line Docker split,
	// to report (dockerForced).
	lineForced
	// lineCut starts like an object but does not end like one: malformed,
	// unless it is a wrapper cut short or raw audit events written on one
	// line (fusedAudit), whose whole events are read (evaluate). Always
	// evaluated, whatever the prefilter says.
	lineCut
)

type worker struct {
	plan        *plan
	terms       chunkTerms // the chunk's new_terms matches so far
	termsReader rules.TermsReader
	// walked and walkedOut count the chunk's lines walked before
	// validation (walkPays) and those the walk ruled out.
	walked, walkedOut int
	parseFirst        int64 // lines starting before this offset are always parsed
	checker           jsonChecker
	key               []byte // scratch for a selector's key (appendKey)
	starts            []int  // byte offset of each line in the chunk
	ends              []int  // offset of each line's newline (or chunk end)
	kinds             []lineKind
	raws              []bool // the line starts like a raw audit event
	cand              []bool
	which             []int // matchers whose requirements a line satisfies
	lc                lineCheck
	// Needles the chunk search found: hitLine and hitNeedle as found,
	// hitSorted by line from hitStart[line] to hitStart[line+1].
	hitLine, hitNeedle, hitSorted, hitStart, hitCursor []int32
	// specials, when noted (the line pass found them), are the offsets
	// of the chunk the escape search stops at: NUL bytes and backslashes
	// not before a quote.
	specials []int32
	noted    bool
	// marked says which lines the chunk search found renamedMarker on;
	// lineSpecials reads specials for renamedLine.
	marked       []bool
	lineSpecials offsets
	fw           flatWalker
	fdoc         flatDoc
	rawDoc       rawAuditDoc // ruledOut's fallback document
	pieces       []int       // fusedAudit's scratch: where the events of a line start
}

// flatten returns the document to match u with: its values extracted in
// one pass when its shape allows (see flat.go), else the adapter's.
func (w *worker) flatten(u Unit) rules.Document {
	var s *flatShape
	switch d := u.Doc.(type) {
	case *rawAuditDoc:
		if !d.lastWins && d.root.Raw == unsafeString(u.Raw) {
			s = &w.plan.flat.raw
		}
	case *ecsDoc:
		if !d.lastWins && d.root.Raw == unsafeString(u.Raw) {
			s = &w.plan.flat.ecs
		}
	}
	if s == nil {
		return u.Doc
	}
	vals, ok := w.values(u.Raw, s)
	if !ok {
		return u.Doc
	}
	w.fdoc.reset(s, u.Raw, vals, u.Doc)
	return &w.fdoc
}

// values returns the values of s's fields in rec: those the checker
// collected, when it walked exactly rec for s, else a walk's. ok is false
// for a record the flat document cannot serve: one with a key that spells
// a path below a field (flatNode.lookup).
func (w *worker) values(rec []byte, s *flatShape) (vals []flatVal, ok bool) {
	if t := w.checker.walked; len(t) > 0 && len(t) == len(rec) && &t[0] == &rec[0] && w.checker.walk == s {
		return w.checker.vals.list, !w.checker.extends
	}
	// A record the checker passed without repeated keys walks, unless a
	// key goes on below a field.
	return w.fw.extract(rec, s)
}

func newWorker(p *plan, parseFirst int64) *worker {
	return &worker{plan: p, parseFirst: parseFirst}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// evaluated reports whether a line of the kind holds events to evaluate
// (or to rule out with the prefilter).
func (k lineKind) evaluated() bool {
	return k == lineEvent || k == lineCut || k == lineForced
}

// trimLine strips what surrounds an event on its line: CR of a CRLF
// ending, a UTF-8 byte order mark, spaces and tabs, what a container log
// or kubectl logs puts before a line of output (outputOf), and NUL
// padding before an object (left by copytruncate log rotation).
func trimLine(line []byte) []byte {
	// The common line needs no trimming: test the ends before anything else.
	if n := len(line); n > 0 && line[0] == '{' && line[n-1] == '}' {
		return line
	}
	for n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t' || line[n-1] == '\r'); n-- {
		line = line[:n-1]
	}
	line = bytes.TrimPrefix(line, utf8BOM)
	for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		line = line[1:]
	}
	if len(line) > 0 && (line[0] >= '0' && line[0] <= '9' || line[0] == '[') {
		line = bytes.TrimLeft(outputOf(line), " \t")
	}
	if len(line) > 0 && line[0] == 0 {
		i := 0
		for i < len(line) && line[i] == 0 {
			i++
		}
		if i < len(line) && line[i] == '{' {
			line = line[i:]
		}
	}
	return line
}

func (w *worker) process(c *chunk) chunkResult {
	res := chunkResult{c: c}
	if c.end || c.overlong {
		return res
	}
	w.terms.reset()
	w.walked, w.walkedOut = 0, 0
	data := c.data
	f := c.filter
	if f == nil {
		f = w.plan.static
	}
	// Once a probe found a line in the input, whether later lines hold
	// one is not worth a search.
	probing := f.unprobed != nil && (c.probed == nil || !c.probed.Load())
	if f.unprobed != nil && !probing {
		f = f.unprobed
	}
	// Where the escape search finds NUL bytes too, the line pass notes
	// its stops on the way: one pass over the chunk fewer.
	w.noted = w.plan.prefilter && f.raw.fusedNULs() && f.full.fusedNULs()
	w.specials = w.specials[:0]
	w.starts, w.ends, w.kinds, w.raws = w.starts[:0], w.ends[:0], w.kinds[:0], w.raws[:0]
	allRaw := true
	for start := 0; start < len(data); {
		var end int
		if w.noted {
			end = w.lineEnd(data, start)
		} else if end = bytes.IndexByte(data[start:], '\n'); end < 0 {
			end = len(data)
		} else {
			end += start
		}
		i := len(w.starts)
		line := trimLine(data[start:end])
		kind := lineEvent
		raw := false
		switch {
		case c.recs != nil && c.recs[i].broken != "":
			kind = lineMalformed
			res.malformed++
			ln, off := c.place(i, start)
			res.problems = append(res.problems, Problem{Line: ln, Offset: off, Index: c.recIndex(i), Reason: c.recs[i].broken, Cut: c.recs[i].cut})
		case c.recs != nil && c.recs[i].skip != "":
			kind = lineSkipped
			res.skip(c.recs[i].skip)
		case len(line) == 0:
			kind = lineBlank
			res.blank++
		case line[0] == '{' && line[len(line)-1] == '}',
			// In whole-file JSON an array may hold events; in NDJSON a
			// line holding an array is a stray.
			!c.lineLike() && line[0] == '[' && line[len(line)-1] == ']':
			res.events++
			raw = bytes.HasPrefix(line, rawAuditPrefix)
			allRaw = allRaw && raw
			switch {
			case !c.lineLike():
			case data[start] != '{' && criPartial(data[start:end]):
				// A piece of a line the runtime split may end in '}'
				// by chance: it is cut all the same.
				kind = lineCut
			case !raw && dockerForced(line):
				kind = lineForced
			}
		case c.lineLike() && line[0] == '{':
			kind = lineCut
			res.events++
			raw = bytes.HasPrefix(line, rawAuditPrefix)
			allRaw = allRaw && raw
		default:
			why := ""
			if c.lineLike() {
				why = textSkip(data[start:end], line)
			}
			if why != "" {
				// The API server's own log lines beside its audit
				// events, or the rest of a line the runtime split.
				kind = lineSkipped
				res.skip(why)
				break
			}
			kind = lineMalformed
			res.malformed++
			ln, off := c.place(i, start)
			res.problems = append(res.problems, Problem{Line: ln, Offset: off, Index: c.recIndex(i), Reason: malformedReason(line)})
		}
		w.starts = append(w.starts, start)
		w.ends = append(w.ends, end)
		w.kinds = append(w.kinds, kind)
		w.raws = append(w.raws, raw)
		start = end + 1
	}
	res.lines = int64(len(w.starts))

	if cap(w.cand) < len(w.starts) {
		w.cand = make([]bool, len(w.starts))
	}
	w.cand = w.cand[:len(w.starts)]
	if cap(w.marked) < len(w.starts) {
		w.marked = make([]bool, len(w.starts))
	}
	w.marked, w.lineSpecials = w.marked[:len(w.starts)], offsets{at: w.specials}
	clear(w.marked)
	search := &f.full
	if allRaw {
		search = &f.raw
	}
	// The line pass found NUL bytes too where it noted escapes.
	if !w.noted {
		w.markNULs(data, &res)
	}
	if w.plan.prefilter {
		clear(w.cand)
		w.markCandidates(data, search, &res)
		for i := range w.cand {
			if _, off := c.place(i, w.starts[i]); off >= w.parseFirst {
				break
			}
			w.cand[i] = true
		}
	} else {
		for i := range w.cand {
			w.cand[i] = true
		}
	}

	// Lines ruled out, raw audit or not: counted by shape once, at the end.
	var unparsed [2]int64
	for i, ok := range w.cand {
		if !w.kinds[i].evaluated() {
			continue
		}
		line := trimLine(data[w.starts[i]:w.ends[i]])
		force := w.kinds[i] == lineCut || w.kinds[i] == lineForced
		if !ok && !force {
			unparsed[b2i(w.raws[i])]++
			continue
		}
		w.which = w.which[:0]
		switch {
		// A line that starts like a raw audit event is one (adapt), whose
		// adapter renames nothing.
		case w.plan.members && !w.raws[i] && w.renamedLine(i, line, w.plan.prefilter && search == &f.full):
			w.lc.reset(f.checkLoose, line, nil, nil)
		case !w.plan.prefilter:
			w.lc.reset(f.check, line, nil, nil)
		default:
			known := f.fullKnown
			if allRaw {
				known = f.rawKnown
			}
			w.lc.reset(f.check, line, known, w.hitSorted[w.hitStart[i]:w.hitStart[i+1]])
		}
		set := w.lc.set
		probed := false
		for m := range set.reqs {
			if w.raws[i] && w.plan.rawOnly[m] {
				continue // no raw audit event can satisfy it
			}
			if m >= w.plan.probeFrom {
				probed = probed || probing && (!w.plan.prefilter || w.lc.satisfies(m))
				continue
			}
			if force || !w.plan.prefilter || w.lc.satisfies(m) {
				w.which = append(w.which, m)
			}
		}
		if probed {
			res.probed++
		}
		if len(w.which) == 0 && !w.sampled(c, i) && !force {
			unparsed[b2i(w.raws[i])]++
			continue
		}
		w.evaluate(c, i, line, &res)
	}
	for raw, n := range unparsed {
		if n > 0 {
			res.countN(unparsedShape(raw == 1), n)
		}
	}
	if res.probed > 0 && c.probed != nil {
		c.probed.Store(true)
	}
	// Problems were found in several passes; report them in line order.
	sort.SliceStable(res.problems, func(i, j int) bool {
		a, b := res.problems[i], res.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return a.Index < b.Index
	})
	return res
}

// sampled reports whether line i of the chunk lies in the part of the
// input that is always parsed.
func (w *worker) sampled(c *chunk, i int) bool {
	_, off := c.place(i, w.starts[i])
	return off < w.parseFirst
}

// skip counts a record that is no event, and why.
func (r *chunkResult) skip(reason string) {
	r.skipped++
	if r.skips == nil {
		r.skips = map[string]int64{}
	}
	r.skips[reason]++
}

// count adds one event of a shape to the chunk's tally.
func (r *chunkResult) count(shape Shape) { r.countN(shape, 1) }

func (r *chunkResult) countN(shape Shape, n int64) {
	if r.shapes == nil {
		r.shapes = map[Shape]int64{}
	}
	r.shapes[shape] += n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ShapeUnparsed counts events the prefilter ruled out without parsing
// them, whose shape is therefore not known.
const ShapeUnparsed Shape = "unparsed"

// unparsedShape is the shape of a line the prefilter ruled out: raw audit
// when its first bytes say so (kube-apiserver writes kind and apiVersion
// first), otherwise unknown.
func unparsedShape(raw bool) Shape {
	if raw {
		return ShapeRawAudit
	}
	return ShapeUnparsed
}

// evaluate validates one record, expands it into its events and runs the
// matchers whose literals the record holds on each.
func (w *worker) evaluate(c *chunk, i int, line []byte, res *chunkResult) {
	lineNo, offset := c.place(i, w.starts[i])
	broken := func(reason string, cut *CutRequest) {
		res.events--
		res.malformed++
		res.problems = append(res.problems, Problem{Line: lineNo, Offset: offset, Index: c.recIndex(i), Reason: reason, Cut: cut})
	}
	if w.plan.walkFirst && w.raws[i] && w.kinds[i] != lineCut && !w.sampled(c, i) && w.walkPays() {
		w.walked++
		// The walker steps over values unchecked, so it may read a cut
		// event and the one written after it (fusedAudit) as one: such a
		// line is validated.
		if w.ruledOut(line) && bytes.Index(line[1:], rawAuditPrefix) < 0 {
			w.walkedOut++
			res.parsed++
			res.count(ShapeRawAudit)
			return
		}
	}
	// Each event of the line is evaluated as it is found, not gathered
	// first: a line may hold millions (a 16 MiB line of {}{}{}...).
	n, indexed := 0, false
	at := offsetIn(c.data[w.starts[i]:], line)
	each := func(u Unit) {
		n++
		indexed = indexed || u.Index > 0
		w.evaluateUnit(c, i, at, lineNo, offset, u, res)
	}
	// A line that does not end like an object cannot be valid JSON, nor
	// several values: it is a cut wrapper, audit events the last of
	// which was cut (fusedAudit), or malformed.
	var check jsonCheck
	joined := false
	if w.kinds[i] != lineCut {
		check, joined = w.unitsOf(line, each)
	}
	if !check.valid && !check.deep && !w.raws[i] {
		if whole, _, rest, ok := cutWrapper(line); ok {
			// A wrapper on one line cut short (an AKS blob, a Firehose
			// payload, a download that stopped): its events that ended
			// before the cut are read, and the rest is one malformed
			// record where it starts. The closed wrapper's text is the
			// line's up to the cut, so its events keep their places.
			if check, _ = w.unitsOf(whole, each); check.valid {
				n++
				ln, off := c.placeWithin(i, w.starts[i], at+rest)
				res.malformed++
				res.problems = append(res.problems, Problem{Line: ln, Offset: off, Index: n, Reason: cutRest("line", line[rest:])})
			}
		}
	}
	if !check.valid && w.raws[i] && c.lineLike() {
		// A raw audit line that is not one event may be several, each
		// written as kube-apiserver starts them: read the ones that are
		// whole.
		check.valid = w.fusedAudit(line, func(u Unit) {
			u.Index = n + 1
			each(u)
		}, func(p int, reason string, cut *CutRequest) {
			n++
			ln, off := c.placeWithin(i, w.starts[i], at+p)
			res.malformed++
			res.problems = append(res.problems, Problem{Line: ln, Offset: off, Index: n, Reason: reason, Cut: cut})
		})
		joined = check.valid
	}
	switch {
	case check.valid:
	case check.deep:
		broken(fmt.Sprintf("JSON nested deeper than %d levels", maxDepth), nil)
		return
	case w.raws[i] && w.kinds[i] != lineCut && len(w.splitValues(line)) > 1:
		// The search for lines worth parsing reads a raw audit line as
		// raw audit events, so a value on it that does not start as one
		// was not looked at by every rule: say what to mend rather than
		// only that the line is broken.
		broken("several values on one line after an audit event, not all written as kube-apiserver writes events: not evaluated; put each on a line of its own", nil)
		return
	case criPartial(c.data[w.starts[i]:w.ends[i]]):
		var cut *CutRequest
		say := ""
		if w.raws[i] {
			cut, say = cutRequest(line)
		}
		broken(criSplit+say, cut)
		return
	case w.kinds[i] == lineCut && w.raws[i]:
		// An audit line cut short: the last of a file copied while it
		// was written, or of a node that stopped.
		cut, say := cutRequest(line)
		broken(malformedReason(line)+say, cut)
		return
	case w.kinds[i] == lineCut:
		broken(malformedReason(line), nil)
		return
	default:
		broken("invalid JSON", nil)
		return
	}
	res.events--
	if n != 1 || indexed {
		res.envelopes++
		res.unwrapped += int64(n)
		if joined {
			res.joined++
		}
	}
}

// evaluateUnit evaluates one event of the line at chunk index i, which
// starts at lineNo and offset; the event's record starts at bytes into
// the line.
func (w *worker) evaluateUnit(c *chunk, i, at int, lineNo, offset int64, u Unit, res *chunkResult) {
	uLine, uOffset, index := lineNo, offset, u.Index
	if u.Index > 0 {
		uLine, uOffset = c.placeWithin(i, w.starts[i], u.Offset+at)
	} else {
		index = c.recIndex(i) // a record that is one event: its place on its line
	}
	switch {
	case u.Problem != "":
		res.malformed++
		res.problems = append(res.problems, Problem{Line: uLine, Offset: uOffset, Index: index, Reason: u.Problem, Cut: u.Cut})
		return
	case u.Skip != "":
		res.skip(u.Skip)
		return
	}
	res.events++
	res.parsed++
	res.count(u.Shape)
	var ev *Event
	doc := w.flatten(u)
	for _, m := range w.which {
		if !w.plan.matchers[m].Match(doc) {
			continue
		}
		if ev == nil {
			// Built in place: nothing below appends to the hits.
			res.hits = append(res.hits, Event{Input: c.input, Line: uLine, Offset: uOffset, Index: index, Shape: u.Shape,
				// A copy: the wrapper's text may be a mapped file's.
				Cluster: strings.Clone(u.Cluster)})
			ev = &res.hits[len(res.hits)-1]
		}
		if m < w.plan.nRules {
			ev.Rules = append(ev.Rules, m)
			if nt := w.plan.newTerms[m]; nt != nil {
				ev.terms = append(ev.terms, w.newTermsOf(m, nt, doc, u.Shape))
			}
		} else {
			si := m - w.plan.nRules
			ev.Selectors = append(ev.Selectors, si)
			var key eventKey
			if sel := w.plan.selectors[si]; len(sel.Keys) > 0 {
				w.key = appendKey(w.key[:0], doc, sel.Keys)
				key.key = string(w.key)
				if len(sel.Group) > 0 {
					w.key = appendKey(w.key[:0], doc, sel.Group)
					key.group, key.at = string(w.key), groupDate(doc, sel)
				}
			}
			ev.keys = append(ev.keys, key)
		}
	}
	if ev != nil {
		// A match only of new_terms rules that an earlier match in
		// the chunk shows is not new goes to the collector for the
		// history alone, without its text (newterms.go).
		if !w.terms.notNew(ev, w.plan.newTerms) {
			ev.Raw = compact(u.Raw)
			ev.Doc = hitDoc(ev.Raw, u, len(ev.Rules) > 0)
			ev.sum = maphash.Bytes(w.plan.seed, ev.Raw)
			if w.plan.evidence != nil && w.plan.bounded(ev) {
				ev.thing = w.plan.evidence(unindexed(ev.Doc), ev.Raw)
			}
		}
		w.terms.add(ev.terms)
	}
}

// walkPays reports whether walking a line before validating it still pays
// in this chunk: not when most lines walked so far were matched (a broad
// rule), since a matched line is walked and then validated too. The
// counts start again with each chunk, so the choice depends only on the
// chunk's own lines.
func (w *worker) walkPays() bool {
	return w.walked < walkTrial || 2*w.walkedOut >= w.walked
}

// walkTrial is how many lines of a chunk are walked before walkPays
// looks at how many were ruled out.
const walkTrial = 32

// ruledOut reports whether no rule the literals left for a raw audit line
// (w.which) matches it, as far as the values the walker collects without
// validating the line tell: most lines the literals cannot rule out are
// ruled out by a condition on a value, and validating each (and checking
// it for repeated keys everywhere) cost more than walking it. A line the
// walker cannot follow, or that some rule matches, goes on to be
// validated and matched as any other. On a valid line the walker's values
// are the checker's (a fuzz test holds them to it), so no result changes;
// what does is that invalid JSON inside an object that no rule matches is
// evaluated, not counted as malformed, as the prefilter already does for
// lines without the literals.
func (w *worker) ruledOut(line []byte) bool {
	s := &w.plan.flat.raw
	vals, ok := w.fw.extract(line, s)
	if !ok {
		return false
	}
	// Computed fields are the adapter's to read, which gjson does safely
	// on any text, and as on the validated line: the walker took it, so
	// no member they are computed from is repeated.
	w.rawDoc.root = gjson.Parse(unsafeString(line))
	w.fdoc.reset(s, line, vals, &w.rawDoc)
	for _, m := range w.which {
		if w.plan.matchers[m].Match(&w.fdoc) {
			return false
		}
	}
	return true
}

// compact copies an event's JSON, without the whitespace a pretty-printed
// input puts between tokens.
func compact(raw []byte) []byte {
	if bytes.IndexByte(raw, '\n') < 0 && !bytes.Contains(raw, []byte("  ")) {
		return append([]byte(nil), raw...)
	}
	return pretty.Ugly(raw)
}

// readapt builds the document of a copied event the way its unit was built.
func readapt(raw []byte, shape Shape) rules.Document {
	if shape == ShapeSearchResponse {
		return sourceDoc(gjson.ParseBytes(raw), resolver{lastWins: checkJSON(raw).dupKeys})
	}
	doc, _ := adapt(raw, resolver{lastWins: checkJSON(raw).dupKeys})
	return doc
}

// hitDoc is the document of a matched event, raw its copy of u.Raw: for
// the shapes flat extraction serves, a leafDoc, else the adapter's. The
// leafDoc of an event a rule matched (found) is indexed on its first read:
// triage reads dozens of a finding's fields. Other events are context
// (a request's other stages), indexed only if read at length.
func hitDoc(raw []byte, u Unit, found bool) rules.Document {
	var d *leafDoc
	switch a := u.Doc.(type) {
	case *rawAuditDoc:
		if !a.lastWins && a.root.Raw == unsafeString(u.Raw) {
			d = &leafDoc{rec: raw, raw: true, fallback: &rawAuditDoc{root: gjson.Parse(unsafeString(raw))}}
		}
	case *ecsDoc:
		if !a.lastWins && a.root.Raw == unsafeString(u.Raw) {
			d = &leafDoc{rec: raw, fallback: &ecsDoc{root: gjson.Parse(unsafeString(raw))}}
		}
	}
	if d == nil {
		return readapt(raw, u.Shape)
	}
	if found {
		d.reads.Store(leafReads)
	}
	return d
}

// unindexed is a matched event's document for a few reads in the worker:
// a leafDoc's adapter, which reads the same values from the text, so that
// the worker does not build the value index that triage builds later
// (and lets go sooner): with Elastic's rules on 1 GiB, building it here
// took 35 MB more.
func unindexed(d rules.Document) rules.Document {
	if l, ok := d.(*leafDoc); ok {
		return l.fallback
	}
	return d
}

// unitsOf validates a record and calls each with its events, in order. A
// record holding several values one after the other (CloudWatch
// subscription payloads are delivered concatenated) gives the events of
// each, numbered across the record, and is joined. Nothing is called when
// the record is not valid JSON (the check says why).
func (w *worker) unitsOf(line []byte, each func(Unit)) (check jsonCheck, joined bool) {
	// The check collects the fields' values on its way: from the raw
	// audit tree for a line that starts like a raw event (it is one, or
	// malformed), else from the ECS tree, which serves any record that
	// turns out to be one ECS document.
	raw := bytes.HasPrefix(line, rawAuditPrefix)
	if raw {
		w.checker.walkFor(&w.plan.flat.raw)
	} else {
		w.checker.walkFor(&w.plan.flat.ecs)
	}
	check = w.checker.check(line)
	if check.valid {
		unitsAt(line, 0, resolver{lastWins: check.dupKeys}, each)
		return check, false
	}
	if check.deep || raw {
		// A line that starts like a raw audit event is one, or several
		// that each start so (fusedAudit), or malformed: the search for
		// lines worth parsing relies on it.
		return check, false
	}
	values := w.splitValues(line)
	if values == nil {
		return check, false
	}
	n := 0
	for _, v := range values {
		unitsAt(line[v.start:v.end], v.start, resolver{lastWins: v.dupKeys}, func(u Unit) {
			n++
			u.Index = n
			each(u)
		})
	}
	return jsonCheck{valid: true}, true
}

// fusedAudit reads a raw audit line that is not one valid event as the
// events written on it, when more than one starts on it as kube-apiserver
// starts them (rawAuditPrefix). kube-apiserver writes an event a line, so
// each such start is where a write began: a line holds several when a
// write lost its newline, or when a write was cut short (a crash, a full
// disk) and the next one went on from there. Each piece from one start to
// the next that is a valid event is read (each), and each other is one
// malformed record where it starts (bad, with its offset in line). Every
// piece starts as a raw audit event, as the search for lines worth
// parsing expects of the line's events. It reads nothing and reports
// false when only one event starts on the line.
func (w *worker) fusedAudit(line []byte, each func(Unit), bad func(at int, reason string, cut *CutRequest)) bool {
	starts := w.pieces[:0]
	for at := 0; at >= 0; {
		starts = append(starts, at)
		if j := bytes.Index(line[at+1:], rawAuditPrefix); j >= 0 {
			at += 1 + j
		} else {
			at = -1
		}
	}
	w.pieces = starts
	// kube-apiserver's writes follow each other with nothing between; a
	// comma says the line was cut from a JSON array (malformedReason).
	for _, at := range starts[1:] {
		if bytes.HasSuffix(bytes.TrimRight(line[:at], " \t"), []byte(",")) {
			return false
		}
	}
	if len(starts) == 1 {
		return false
	}
	for k, start := range starts {
		end := len(line)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		piece := bytes.TrimRight(line[start:end], " \t")
		w.checker.walkFor(&w.plan.flat.raw)
		switch check := w.checker.check(piece); {
		case check.valid:
			unitsAt(piece, start, resolver{lastWins: check.dupKeys}, each)
		case check.deep:
			bad(start, fmt.Sprintf("JSON nested deeper than %d levels", maxDepth), nil)
		case bytes.HasSuffix(piece, []byte("},")):
			bad(start, malformedReason(piece), nil)
		case !unclosed(piece):
			bad(start, "invalid JSON", nil)
		case end < len(line):
			cut, say := cutRequest(piece)
			bad(start, "an audit event cut short, the next event written straight after it on the same line (a write that stopped mid-event: a crash, a full disk)"+say, cut)
		default:
			cut, say := cutRequest(piece)
			bad(start, malformedReason(piece)+say, cut)
		}
	}
	return true
}

// unclosed reports whether JSON text ends inside a string, or with an
// object or array open: it was cut short.
func unclosed(b []byte) bool {
	var text jsonText
	depth := 0
	for _, c := range b {
		switch {
		case text.inString(c):
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return text.in || depth > 0
}

// offsetIn returns where inner, a subslice of outer, starts in it (two
// slices of one array end at the same capacity).
func offsetIn(outer, inner []byte) int { return cap(outer) - cap(inner) }

// jsonText follows JSON text a byte at a time, to tell the bytes inside
// strings from the structure around them.
type jsonText struct{ in, escaped bool }

// inString reports whether c, the next byte, belongs to a string (its
// quotes too).
func (t *jsonText) inString(c byte) bool {
	if t.in {
		switch {
		case t.escaped:
			t.escaped = false
		case c == '\\':
			t.escaped = true
		case c == '"':
			t.in = false
		}
		return true
	}
	t.in = c == '"'
	return t.in
}

type span struct {
	start, end int
	dupKeys    bool
}

// splitValues splits a line holding several JSON values one after the
// other ({..}{..} or {..} {..}), or returns nil if it is not exactly that
// with every value valid.
func (w *worker) splitValues(line []byte) []span {
	var out []span
	var text jsonText
	depth, start := 0, -1
	for i, c := range line {
		switch {
		case text.inString(c):
		case c == '{' || c == '[':
			if depth == 0 {
				start = i
			}
			depth++
		case c == '}' || c == ']':
			depth--
			if depth < 0 {
				return nil
			}
			if depth == 0 {
				check := w.checker.check(line[start : i+1])
				if !check.valid {
					return nil
				}
				out = append(out, span{start, i + 1, check.dupKeys})
			}
		case depth == 0 && !(c == ' ' || c == '\t' || c == ','):
			return nil
		}
	}
	if depth != 0 || len(out) < 2 {
		return nil
	}
	return out
}

// markNULs turns event lines holding a NUL byte into malformed lines. A
// memchr over the chunk is cheap, and it catches the commonest corruption
// (preallocated or zero-filled log blocks) even on lines the prefilter
// would never parse.
func (w *worker) markNULs(data []byte, res *chunkResult) {
	for pos := 0; pos < len(data); {
		i := bytes.IndexByte(data[pos:], 0)
		if i < 0 {
			break
		}
		pos = w.markNUL(data, pos+i, res)
	}
}

// lineEnd returns where the line at start ends (its newline, or the end
// of data), noting the escape search's stops on the way in w.specials.
//
// A run of NUL bytes (a zero-filled block) is noted by its first: markNUL
// skips the rest. Past maxSpecials stops the chunk is not worth noting
// (the input is not a log: a line of backslashes), and the line pass ends
// the notes (noted false): the chunk is then searched as without AVX2.
func (w *worker) lineEnd(data []byte, start int) int {
	for pos := start; ; pos++ {
		if !w.noted {
			if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
				return pos + i
			}
			return len(data)
		}
		i := indexLineOrSpecial(data[pos:])
		if i < 0 {
			return len(data)
		}
		if pos += i; data[pos] == '\n' {
			return pos
		}
		w.specials = append(w.specials, int32(pos))
		if len(w.specials) > len(data)/maxSpecialsPer+64 {
			w.noted, w.specials = false, w.specials[:0]
		}
		for data[pos] == 0 && pos+1 < len(data) && data[pos+1] == 0 {
			pos++
		}
	}
}

// offsets reads sorted offsets in order: from returns the first at or
// after pos, or -1, for non-decreasing pos.
type offsets struct {
	at []int32
	k  int
}

func (o *offsets) from(pos int) int {
	for o.k < len(o.at) && int(o.at[o.k]) < pos {
		o.k++
	}
	if o.k == len(o.at) {
		return -1
	}
	return int(o.at[o.k])
}

// maxSpecialsPer bounds the escape search's notes to one per so many bytes
// of a chunk (raw audit logs have one per few hundred).
const maxSpecialsPer = 32

// renamedLine is renamedClause.Satisfied(line) for line i, from what the
// chunk search found where it can: when the search looked for the marker
// (searched), a line it was not found on, holding no escape the line pass
// noted (an escaped quote spells no letter of it), does not hold it.
func (w *worker) renamedLine(i int, line []byte, searched bool) bool {
	if w.marked[i] {
		return true
	}
	if searched && w.noted {
		if at := w.lineSpecials.from(w.starts[i]); at < 0 || at >= w.ends[i] {
			return false
		}
	}
	return renamedClause.Satisfied(line)
}

// markNUL handles the NUL at data[pos] (nulLine) and returns where a
// search for the next NUL, or escape, goes on: past the line if it needs
// no more, else past this run of NULs.
func (w *worker) markNUL(data []byte, pos int, res *chunkResult) int {
	li := w.lineAt(pos)
	if w.nulLine(data, li, res) {
		return w.ends[li] + 1
	}
	for pos < len(data) && data[pos] == 0 {
		pos++
	}
	return pos
}

// nulLine makes line li, which holds a NUL byte, malformed if it is an
// event line with a NUL past the padding trimLine strips. It reports
// whether the rest of the line needs no search: it is not (or no longer)
// an event line.
func (w *worker) nulLine(data []byte, li int, res *chunkResult) bool {
	if !w.kinds[li].evaluated() {
		return true
	}
	if bytes.IndexByte(trimLine(data[w.starts[li]:w.ends[li]]), 0) < 0 {
		return false // only NUL padding before the object
	}
	w.kinds[li] = lineMalformed
	res.events--
	res.malformed++
	ln, off := res.c.place(li, w.starts[li])
	res.problems = append(res.problems, Problem{Line: ln, Offset: off, Index: res.c.recIndex(li), Reason: "NUL bytes"})
	return true
}

// fusedNULs says whether the line pass may note the escape search's
// stops, NUL bytes among them, skipping escaped quotes: with AVX2, and
// where no needle holds a quote an escape could spell.
func (s *search) fusedNULs() bool { return twoByteSIMD && !s.hides('"') }

// markCandidates marks the lines that hold one of the search's needles,
// or a JSON escape that could hide one of their characters. Searching the
// whole chunk, once per anchor byte, is many times faster than testing
// each line.
func (w *worker) markCandidates(data []byte, s *search, res *chunkResult) {
	w.hitLine, w.hitNeedle = w.hitLine[:0], w.hitNeedle[:0]
	// hit checks the needles anchored at data[at] and returns where to
	// search on.
	hit := func(at int, needles []anchored) int {
		for k := range needles {
			an := &needles[k]
			if an.at(data, at) {
				li := w.lineAt(at)
				w.cand[li] = true
				if an.n == renamedMarker {
					w.marked[li] = true
					if !w.raws[li] {
						// Nothing more to learn from this line: it is
						// checked whole (renamedLine).
						return w.ends[li] + 1
					}
				}
				if an.id < 0 {
					// A raw audit line is checked with what the search
					// found on it, so the search goes on past the marker
					// (a user agent may hold the word).
					continue
				}
				// Go on: the line check wants every needle found.
				w.hitLine = append(w.hitLine, int32(li))
				w.hitNeedle = append(w.hitNeedle, an.id)
			}
		}
		return at + 1
	}
	if s.pairs != nil {
		s.pairs.scan(data, 0, hit)
	}
	if s.blocks != nil {
		s.blocks.scan(data, 0, hit)
	}
	// With AVX2, two-byte groups are searched four at a time.
	multi := twoByteSIMD && s.twoGroups() >= 2
	if multi {
		var set []int
		for k := range s.groups {
			if s.groups[k].two {
				if set = append(set, k); len(set) == 4 {
					w.markFour(data, s, set, hit)
					set = set[:0]
				}
			}
		}
		if len(set) > 0 {
			w.markFour(data, s, set, hit)
		}
	}
	for _, g := range s.groups {
		if multi && g.two {
			continue
		}
		for pos := 0; pos < len(data); {
			var i int
			if g.two {
				i = indexTwoBytes(data[pos:], g.b, g.hi, g.mask, g.d)
			} else {
				i = bytes.IndexByte(data[pos:], g.b)
			}
			if i < 0 {
				break
			}
			pos = hit(pos+i, g.needles)
		}
	}
	// next returns the escape search's next stop from pos, or -1.
	next := func(pos int) int {
		if i := bytes.IndexByte(data[pos:], '\\'); i >= 0 {
			return pos + i
		}
		return -1
	}
	if w.noted {
		noted := offsets{at: w.specials}
		next = noted.from
	}
	for pos := 0; pos < len(data); {
		if pos = next(pos); pos < 0 {
			break
		}
		if data[pos] == 0 {
			pos = w.markNUL(data, pos, res)
			continue
		}
		if pos+1 < len(data) {
			// Fast path: an escaped quote, or a one-letter escape of a
			// character no needle holds (\" is what log lines hold most).
			if r := simpleEscape[data[pos+1]]; r != 0 && !s.hides(r) {
				pos += 2
				continue
			}
			// And \uXXXX (kube-apiserver writes & as \u0026), decoded as
			// rules.EscapedRunes decodes an escape after a lone backslash.
			if data[pos+1] == 'u' {
				if r, size := rules.DecodeEscape(data[pos:]); size > 0 && !s.hides(r) {
					pos += size
					continue
				}
			}
		}
		hides := false
		size := rules.EscapedRunes(data[pos:], func(r rune) { hides = hides || s.hides(r) })
		if hides {
			li := w.lineAt(pos)
			w.cand[li] = true
			pos = w.ends[li] + 1
			continue
		}
		pos += size
	}
	w.sortHits()
}

// sortHits orders the needles markCandidates found by line, so the line
// check can read each line's: hitStart[li] to hitStart[li+1] in hitSorted.
func (w *worker) sortHits() {
	n := len(w.starts)
	if cap(w.hitStart) < n+1 {
		w.hitStart = make([]int32, n+1)
	}
	w.hitStart = w.hitStart[:n+1]
	clear(w.hitStart)
	for _, li := range w.hitLine {
		w.hitStart[li+1]++
	}
	for i := 1; i <= n; i++ {
		w.hitStart[i] += w.hitStart[i-1]
	}
	if cap(w.hitSorted) < len(w.hitLine) {
		w.hitSorted = make([]int32, len(w.hitLine))
	}
	w.hitSorted = w.hitSorted[:len(w.hitLine)]
	w.hitCursor = append(w.hitCursor[:0], w.hitStart[:n]...)
	for k, li := range w.hitLine {
		w.hitSorted[w.hitCursor[li]] = w.hitNeedle[k]
		w.hitCursor[li]++
	}
}

// simpleEscape maps the letter after a backslash to the character it
// stands for, for the escapes that are not \u or an escaped backslash
// (which EscapedRunes decodes, seeing through nesting).
var simpleEscape = [256]rune{'"': '"', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// lineAt returns the index of the line holding byte offset off.
func (w *worker) lineAt(off int) int {
	return sort.Search(len(w.starts), func(i int) bool { return w.starts[i] > off }) - 1
}

// tooDeep reports whether JSON nests deeper than maxDepth, counting
// brackets outside strings.
func tooDeep(line []byte) bool {
	depth, inString := 0, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// malformedReason says in a few words why a line is not an event.
func malformedReason(line []byte) string {
	switch {
	case bytes.IndexByte(line, 0) >= 0:
		return "NUL bytes"
	case line[0] == '{' && bytes.HasSuffix(line, []byte("},")):
		// A line cut from a JSON array (split -l, grep on a pretty
		// export): the file whole, or the line without the comma, reads.
		return "a JSON object followed by a comma: a line cut from a JSON array? (give the whole file, or drop the comma)"
	case len(line) == 1 && line[0] == '{':
		// Pretty-printed JSON after NDJSON: the first line decided.
		return "a lone {: pretty-printed JSON in a file read one line per event (its first line decides; give the pretty-printed part as a file of its own)"
	case line[0] == '{':
		return "truncated JSON object (no closing brace)"
	case line[0] == '[' && (len(line) > 1 && bytes.IndexByte([]byte(`{["]`), line[1]) >= 0 || checkJSON(line).valid):
		// Text in brackets ("[INFO] ...") is no array.
		return "a JSON array, not one event per line"
	case !utf8.Valid(line) || binaryRatio(line) > 0.1:
		return "binary data"
	}
	return fmt.Sprintf("not JSON (starts %q)", preview(line, 24))
}

func binaryRatio(b []byte) float64 {
	n := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' {
			n++
		}
	}
	return float64(n) / float64(len(b))
}

// preview returns the first n runes of b, valid UTF-8, for messages.
func preview(b []byte, n int) string {
	var out []rune
	for len(b) > 0 && len(out) < n {
		r, size := utf8.DecodeRune(b)
		out = append(out, r)
		b = b[size:]
	}
	if len(b) > 0 {
		return string(out) + "..."
	}
	return string(out)
}
