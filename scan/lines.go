package scan

import (
	"bytes"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// maxDepth bounds JSON nesting. gjson validates recursively, so a line of a
// million '[' would otherwise exhaust the stack; no real event nests deeper
// than a few dozen levels.
const maxDepth = 256

// plan is what every worker shares: the compiled matchers and the literals
// that decide which lines are worth parsing.
type plan struct {
	matchers  []rules.Matcher // rules first, then selectors
	reqs      []rules.Requirement
	nRules    int
	prefilter bool
	// primary is, for each matcher, its most selective clause, merged: a
	// line can only matter if it satisfies this clause. The chunk-wide
	// search looks for these needles.
	primary rules.Clause
}

func newPlan(opts Options) (*plan, error) {
	p := &plan{nRules: len(opts.Rules), prefilter: !opts.NoPrefilter}
	add := func(m rules.Matcher, e rules.Expr) {
		p.matchers = append(p.matchers, m)
		req := rules.RequirementOf(e, synthesized)
		p.reqs = append(p.reqs, req)
		if len(req) == 0 {
			p.prefilter = false
		} else {
			p.primary = append(p.primary, req[0]...)
		}
	}
	for _, r := range opts.Rules {
		if r.Matcher == nil || r.Expr == nil {
			return nil, fmt.Errorf("rule %s is not compiled", r.ID)
		}
		add(r.Matcher, r.Expr)
	}
	for _, s := range opts.Selectors {
		m, err := rules.Compile(s.Expr)
		if err != nil {
			return nil, fmt.Errorf("selector %s: %w", s.Name, err)
		}
		add(m, s.Expr)
	}
	if len(p.matchers) == 0 {
		p.prefilter = true // nothing can match; skip every line
	}
	return p, nil
}

type lineKind uint8

const (
	lineBlank lineKind = iota
	lineEvent
	lineMalformed
)

type worker struct {
	plan   *plan
	starts []int // byte offset of each line in the chunk
	ends   []int // offset of each line's newline (or chunk end)
	kinds  []lineKind
	cand   []bool
	which  []int // matchers whose requirements a line satisfies
}

func newWorker(p *plan) *worker { return &worker{plan: p} }

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// trimLine strips what surrounds an event on its line: CR of a CRLF
// ending, a UTF-8 byte order mark, spaces and tabs, and NUL padding before
// an object (left by copytruncate log rotation).
func trimLine(line []byte) []byte {
	line = bytes.TrimRight(line, " \t\r")
	line = bytes.TrimPrefix(line, utf8BOM)
	line = bytes.TrimLeft(line, " \t")
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
	data := c.data
	w.starts, w.ends, w.kinds = w.starts[:0], w.ends[:0], w.kinds[:0]
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		line := trimLine(data[start:end])
		kind := lineEvent
		switch {
		case len(line) == 0:
			kind = lineBlank
			res.blank++
		case line[0] == '{' && line[len(line)-1] == '}':
			res.events++
		default:
			kind = lineMalformed
			res.malformed++
			res.problems = append(res.problems, Problem{
				Line: int64(len(w.starts) + 1), Offset: c.offset + int64(start), Reason: malformedReason(line)})
		}
		w.starts = append(w.starts, start)
		w.ends = append(w.ends, end)
		w.kinds = append(w.kinds, kind)
		start = end + 1
	}
	res.lines = int64(len(w.starts))
	w.markNULs(data, &res)

	if cap(w.cand) < len(w.starts) {
		w.cand = make([]bool, len(w.starts))
	}
	w.cand = w.cand[:len(w.starts)]
	if w.plan.prefilter {
		clear(w.cand)
		w.markCandidates(data)
	} else {
		for i := range w.cand {
			w.cand[i] = true
		}
	}

	for i, ok := range w.cand {
		if !ok || w.kinds[i] != lineEvent {
			continue
		}
		line := trimLine(data[w.starts[i]:w.ends[i]])
		w.which = w.which[:0]
		for m, req := range w.plan.reqs {
			if !w.plan.prefilter || satisfiesAll(req, line) {
				w.which = append(w.which, m)
			}
		}
		if len(w.which) == 0 {
			continue
		}
		if tooDeep(line) || !gjson.ValidBytes(line) {
			res.events--
			res.malformed++
			reason := "invalid JSON"
			if tooDeep(line) {
				reason = fmt.Sprintf("JSON nested deeper than %d levels", maxDepth)
			}
			res.problems = append(res.problems, Problem{Line: int64(i + 1), Offset: c.offset + int64(w.starts[i]), Reason: reason})
			continue
		}
		res.parsed++
		doc, shape := Adapt(line)
		if res.shapes == nil {
			res.shapes = map[Shape]int64{}
		}
		res.shapes[shape]++
		var ev *Event
		for _, m := range w.which {
			if !w.plan.matchers[m].Match(doc) {
				continue
			}
			if ev == nil {
				ev = &Event{Input: c.input, Line: int64(i + 1), Offset: c.offset + int64(w.starts[i]), Shape: shape}
			}
			if m < w.plan.nRules {
				ev.Rules = append(ev.Rules, m)
			} else {
				ev.Selectors = append(ev.Selectors, m-w.plan.nRules)
			}
		}
		if ev != nil {
			ev.Raw = append([]byte(nil), line...)
			ev.Doc, _ = Adapt(ev.Raw)
			res.hits = append(res.hits, *ev)
		}
	}
	// Problems were found in three passes; report them in line order.
	sort.SliceStable(res.problems, func(i, j int) bool { return res.problems[i].Line < res.problems[j].Line })
	return res
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
		li := w.lineAt(pos + i)
		pos = w.ends[li] + 1
		if w.kinds[li] != lineEvent {
			continue
		}
		if bytes.IndexByte(trimLine(data[w.starts[li]:w.ends[li]]), 0) < 0 {
			// Only NUL padding before the object, which trimLine strips.
			continue
		}
		w.kinds[li] = lineMalformed
		res.events--
		res.malformed++
		res.problems = append(res.problems, Problem{Line: int64(li + 1), Offset: res.c.offset + int64(w.starts[li]), Reason: "NUL bytes"})
	}
}

func satisfiesAll(req rules.Requirement, line []byte) bool {
	for _, c := range req {
		if !c.Satisfied(line) {
			return false
		}
	}
	return true
}

// markCandidates marks the lines that contain a primary needle, or a JSON
// escape that could hide one of its characters. Searching the whole chunk
// is many times faster than testing each line.
func (w *worker) markCandidates(data []byte) {
	for _, n := range w.plan.primary {
		for pos := 0; pos < len(data); {
			i := n.Index(data[pos:])
			if i < 0 {
				break
			}
			li := w.lineAt(pos + i)
			w.cand[li] = true
			pos = w.ends[li] + 1
		}
	}
	for pos := 0; pos < len(data); {
		i := bytes.IndexByte(data[pos:], '\\')
		if i < 0 {
			break
		}
		pos += i
		r, size := rules.DecodeEscape(data[pos:])
		if size == 0 {
			pos++
			continue
		}
		if w.plan.primary.ContainsRune(r) {
			li := w.lineAt(pos)
			w.cand[li] = true
			pos = w.ends[li] + 1
			continue
		}
		pos += size
	}
}

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
	case line[0] == '{':
		return "truncated JSON object (no closing brace)"
	case line[0] == '[':
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
