package scan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// refMatch is one matching event as the reference sees it.
type refMatch struct {
	line, offset int64
	index        int
	shape        Shape
	raw          string
	rules        []int
	selectors    []int
}

func (m refMatch) String() string {
	return fmt.Sprintf("%d#%d@%d %s rules=%v selectors=%v %.120q", m.line, m.index, m.offset, m.shape, m.rules, m.selectors, m.raw)
}

type refResult struct {
	lines, blank, overlong int64
	matches                []refMatch
}

// referenceScan is the plain loop the engine must agree with: split the
// stream on '\n' (or, for whole-file JSON, into values), trim each line,
// and evaluate every event of every line that is whole, valid JSON with
// every rule and selector. No chunks, no workers, no prefilter.
func referenceScan(data []byte, rs []*rules.Rule, sels []rules.Matcher, maxLine int) refResult {
	switch sniffLayout(data[:min(len(data), sniffLimit)]) {
	case LayoutJSON:
		return referenceRecords(newJSONSplitter(bytes.NewReader(data)), rs, sels, maxLine)
	case LayoutCSV:
		return referenceRecords(newCSVSplitter(bytes.NewReader(data)), rs, sels, maxLine)
	case LayoutCRI:
		return referenceCRI(data, rs, sels, maxLine)
	case LayoutDocker:
		return referenceDocker(data, rs, sels, maxLine)
	}
	var out refResult
	refLines(data, func(content []byte, lineStart int64) {
		out.lines++
		// A line longer than MaxLineSize (without its newline, and
		// without the NUL bytes it starts with but one: copytruncate's
		// padding) is skipped.
		padding := len(content) - len(bytes.TrimLeft(content, "\x00"))
		if len(content)-max(padding-1, 0) > maxLine {
			out.overlong++
			return
		}
		if len(refTrim(content)) == 0 {
			out.blank++
			return
		}
		out.matches = append(out.matches, refEvaluate(content, out.lines, lineStart, nil, rs, sels, false)...)
	})
	return out
}

// refLines calls fn with each line of data, without its newline, and the
// offset it starts at.
func refLines(data []byte, fn func(content []byte, lineStart int64)) {
	var offset int64
	for len(data) > 0 {
		content := data
		next := len(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			content, next = data[:i], i+1
		}
		fn(content, offset)
		offset += int64(next)
		data = data[next:]
	}
}

// referenceCRI reads a container log in the CRI format: each line's
// output, read as a line is, at the line's start. The pieces of a line the
// runtime split (tag P, up to the next F on the same stream) are joined
// and read at the first piece's line, unless the next piece starts more
// than maxLine bytes after the first or the input ends first; a line, or
// joined output, longer than maxLine is overlong. Lines in another form
// are read as lines; blank ones are not counted as blank.
func referenceCRI(data []byte, rs []*rules.Rule, sels []rules.Matcher, maxLine int) refResult {
	type split struct {
		content      []byte
		line, offset int64
		lead         int
	}
	var out refResult
	var open [2]*split
	joined := func(sp *split) {
		if len(sp.content) > maxLine {
			out.overlong++
			return
		}
		ms := refEvaluate(sp.content, sp.line, sp.offset, nil, rs, sels, false)
		for i := range ms {
			if ms[i].index > 0 {
				ms[i].offset += int64(sp.lead) // what a wrapper holds is placed past the prefix
			}
		}
		out.matches = append(out.matches, ms...)
	}
	abandon := func(s int) {
		if sp := open[s]; sp != nil && len(sp.content) > maxLine {
			out.overlong++
		}
		open[s] = nil // not joined: broken
	}
	refLines(data, func(content []byte, lineStart int64) {
		out.lines++
		for s, sp := range open {
			if sp != nil && lineStart-sp.offset > int64(maxLine) {
				abandon(s)
			}
		}
		if len(content) > maxLine {
			out.overlong++
			return
		}
		line := content
		if out.lines == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		m := refCRI.FindSubmatchIndex(line)
		if m == nil {
			out.matches = append(out.matches, refEvaluate(content, out.lines, lineStart, nil, rs, sels, false)...)
			return
		}
		stream := b2i(string(line[m[6]:m[7]]) == "stderr")
		partial := string(line[m[8]:m[9]]) == "P"
		rest := line[m[1]:]
		if m[1] > m[0] && line[m[1]-1] != ' ' {
			rest = nil // the tag ends the line
		}
		if sp := open[stream]; sp != nil {
			sp.content = append(sp.content, rest...)
			if !partial {
				open[stream] = nil
				joined(sp)
			}
			return
		}
		sp := &split{content: append([]byte(nil), rest...), line: out.lines, offset: lineStart, lead: len(content) - len(rest)}
		if partial {
			open[stream] = sp
		} else {
			joined(sp)
		}
	})
	abandon(0)
	abandon(1)
	// Placed at the lines their records start on, as the scan hands them
	// out.
	slices.SortStableFunc(out.matches, func(a, b refMatch) int { return cmp.Compare(a.line, b.line) })
	return out
}

// referenceDocker reads a container log in Docker's json-file format: each
// line as a line is read, but for the pieces of a line Docker split (a log
// that does not end in a newline, up to one that does on the same stream),
// which are joined and read at the first piece's line as the line Docker
// would have written, unless the next piece starts more than maxLine bytes
// after the first or the input ends first. A line, or the joined line,
// longer than maxLine is overlong, and so is a split line given up with
// more than maxLine bytes of output.
func referenceDocker(data []byte, rs []*rules.Rule, sels []rules.Matcher, maxLine int) refResult {
	type split struct {
		output       []byte
		line, offset int64
	}
	var out refResult
	open := map[string]*split{}
	joined := func(sp *split, stream string) {
		log, err := json.Marshal(string(sp.output))
		if err != nil {
			panic(err)
		}
		rec := append(append([]byte(`{"log":`), log...), `,"stream":"`+stream+`"}`...)
		if len(sp.output) > maxLine || len(rec) > maxLine {
			out.overlong++
			return
		}
		out.matches = append(out.matches, refEvaluate(rec, sp.line, sp.offset, nil, rs, sels, false)...)
	}
	abandon := func(stream string) {
		if sp := open[stream]; sp != nil && len(sp.output) > maxLine {
			out.overlong++
		}
		delete(open, stream) // not joined: broken
	}
	refLines(data, func(content []byte, lineStart int64) {
		out.lines++
		for _, stream := range []string{"stdout", "stderr"} {
			if sp := open[stream]; sp != nil && lineStart-sp.offset > int64(maxLine) {
				abandon(stream)
			}
		}
		if len(content) > maxLine {
			out.overlong++
			return
		}
		log, stream, ok := refDockerLine(refTrim(content))
		partial := !strings.HasSuffix(log, "\n")
		switch sp := open[stream]; {
		case ok && sp != nil:
			sp.output = append(sp.output, log...)
			if !partial {
				delete(open, stream)
				joined(sp, stream)
			}
		case ok && partial:
			open[stream] = &split{output: []byte(log), line: out.lines, offset: lineStart}
		default:
			out.matches = append(out.matches, refEvaluate(content, out.lines, lineStart, nil, rs, sels, false)...)
		}
	})
	abandon("stdout")
	abandon("stderr")
	slices.SortStableFunc(out.matches, func(a, b refMatch) int { return cmp.Compare(a.line, b.line) })
	return out
}

// refDockerLine reads a line of Docker's json-file log as Docker writes it:
// an object whose first member is log, a string, and second stream,
// stdout or stderr, with no members but those, attrs and time, none
// twice.
func refDockerLine(line []byte) (log, stream string, ok bool) {
	if !bytes.HasPrefix(line, []byte(`{"log":"`)) || !json.Valid(line) {
		return "", "", false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.Token() // {
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return "", "", false
		}
	}
	if len(keys) < 2 || keys[1] != "stream" {
		return "", "", false
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k != "log" && k != "stream" && k != "time" && k != "attrs" || seen[k] {
			return "", "", false
		}
		seen[k] = true
	}
	var doc map[string]any
	if json.Unmarshal(line, &doc) != nil {
		return "", "", false
	}
	log, okLog := doc["log"].(string)
	stream, _ = doc["stream"].(string)
	return log, stream, okLog && (stream == "stdout" || stream == "stderr")
}

// referenceRecords reads whole-file JSON one value after the other, or a
// CSV export one row after the other.
func referenceRecords(sp recordSource, rs []*rules.Rule, sels []rules.Matcher, maxLine int) refResult {
	var out refResult
	for {
		rec, ok := sp.next(nil, maxLine)
		if !ok {
			break
		}
		switch rec.status {
		case recordOverlong:
			out.overlong++
		case recordOK:
			ms := refEvaluate(rec.data, rec.line, rec.offset, rec.newlines, rs, sels, true)
			for i := range ms {
				if ms[i].index == 0 {
					ms[i].index = rec.index // a record that is one event: its place on its line
				}
			}
			out.matches = append(out.matches, ms...)
		}
	}
	out.lines = sp.lines()
	return out
}

// refEvaluate evaluates the events of one record. Arrays are records only
// in whole-file JSON. content is the record before trimming; newlines are
// the positions of the line breaks a whole-file JSON record had.
func refEvaluate(content []byte, lineNo, offset int64, newlines []int32, rs []*rules.Rule, sels []rules.Matcher, arrays bool) []refMatch {
	line := refTrim(content)
	indent := len(content) - len(line) - (len(content) - len(bytes.TrimRight(content, " \t\r")))
	if len(line) == 0 || bytes.IndexByte(line, 0) >= 0 || !arrays && refCRIPartial(content) {
		return nil
	}
	if !arrays && bytes.HasPrefix(line, rawAuditPrefix) && !(json.Valid(line) && refDepth(line) <= 256) {
		return refMatches(refFused(line), lineNo, offset, indent, newlines, rs, sels)
	}
	if refDepth(line) > 256 {
		return nil
	}
	whole := line[0] == '{' && line[len(line)-1] == '}' || arrays && line[0] == '[' && line[len(line)-1] == ']'
	if !arrays && line[0] == '{' && !bytes.HasPrefix(line, rawAuditPrefix) && !json.Valid(line) && (&worker{}).splitValues(line) == nil {
		// A wrapper on one line cut short: its whole events are read.
		if closed, _, _, ok := cutWrapper(line); ok {
			line, whole = closed, true
		}
	}
	if !whole {
		return nil
	}
	var units []Unit
	if json.Valid(line) {
		Units(line, func(u Unit) { units = append(units, u) })
	} else {
		spans := (&worker{}).splitValues(line)
		if spans == nil {
			return nil
		}
		for _, sp := range spans {
			v := line[sp.start:sp.end]
			unitsAt(v, sp.start, resolver{lastWins: checkJSON(v).dupKeys}, func(u Unit) {
				u.Index = len(units) + 1
				units = append(units, u)
			})
		}
	}
	return refMatches(units, lineNo, offset, indent, newlines, rs, sels)
}

// refMatches matches the events of one record, which starts offset bytes
// into the input on line lineNo, indent bytes before its trimmed text; a
// record that is not one event places each at its offset, on the line its
// newlines put it.
func refMatches(units []Unit, lineNo, offset int64, indent int, newlines []int32, rs []*rules.Rule, sels []rules.Matcher) []refMatch {
	var out []refMatch
	for _, u := range units {
		if u.Doc == nil {
			continue
		}
		m := refMatch{line: lineNo, offset: offset, index: u.Index, shape: u.Shape, raw: string(compact(u.Raw))}
		if u.Index > 0 {
			at := indent + u.Offset
			m.offset += int64(at)
			for _, nl := range newlines {
				if int(nl) < at {
					m.line++
				}
			}
		}
		for i, r := range rs {
			if r.Matches(u.Doc) {
				m.rules = append(m.rules, i)
			}
		}
		for i, s := range sels {
			if s.Match(u.Doc) {
				m.selectors = append(m.selectors, i)
			}
		}
		if len(m.rules)+len(m.selectors) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// refFused reads a raw audit line that is not one valid event as the
// pieces from each start of a raw audit event to the next, when there
// are several and no comma comes before a start: the events of the pieces
// that are valid and nested at most 256 levels, numbered across the line
// with the others.
func refFused(line []byte) []Unit {
	var starts []int
	for at := 0; at < len(line); at++ {
		if bytes.HasPrefix(line[at:], rawAuditPrefix) {
			starts = append(starts, at)
		}
	}
	if len(starts) < 2 {
		return nil
	}
	for _, at := range starts[1:] {
		if bytes.HasSuffix(bytes.TrimRight(line[:at], " \t"), []byte(",")) {
			return nil
		}
	}
	var units []Unit
	n := 0
	for k, start := range starts {
		end := len(line)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		piece := bytes.TrimRight(line[start:end], " \t")
		if !json.Valid(piece) || refDepth(piece) > 256 {
			n++
			continue
		}
		unitsAt(piece, start, resolver{lastWins: checkJSON(piece).dupKeys}, func(u Unit) {
			n++
			u.Index = n
			units = append(units, u)
		})
	}
	return units
}

// refCRI is the prefix the CRI container log format puts before each line
// of a container's output: time, stream, tag.
var refCRI = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) (stdout|stderr) ([PF])(:[^ ]*)?( |$)`)

// refCRIPartial reports whether a line is a piece of a longer one that the
// container runtime split (CRI tag P), which is never evaluated.
func refCRIPartial(content []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimRight(content, " \t\r"), utf8BOM), " \t")
	m := refCRI.FindSubmatch(b)
	return m != nil && string(m[4]) == "P"
}

// refKubectl and refTime are what kubectl logs --prefix and --timestamps
// put before a line of output.
var (
	refKubectl = regexp.MustCompile(`^\[pod/[^/\] ]+/[^/\] ]+\] `)
	refTime    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) `)
)

// refTrim strips a CR, spaces and tabs at the end, a UTF-8 BOM, spaces and
// tabs at the start, kubectl's pod prefix, the CRI prefix or else
// kubectl's time (and spaces and tabs after them), and NUL padding
// directly before a '{'.
func refTrim(b []byte) []byte {
	for len(b) > 0 && strings.IndexByte(" \t\r", b[len(b)-1]) >= 0 {
		b = b[:len(b)-1]
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	if m := refKubectl.FindIndex(b); m != nil {
		b = b[m[1]:]
	}
	if m := refCRI.FindIndex(b); m != nil {
		b = b[m[1]:]
	} else if m := refTime.FindIndex(b); m != nil {
		b = b[m[1]:]
	}
	b = bytes.TrimLeft(b, " \t")
	nuls := 0
	for nuls < len(b) && b[nuls] == 0 {
		nuls++
	}
	if nuls > 0 && nuls < len(b) && b[nuls] == '{' {
		b = b[nuls:]
	}
	return b
}

// refDepth is the deepest bracket nesting outside strings.
func refDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// fuzzRules are the built-ins plus rules that use the prefilter in other
// ways: case-folded EQL, string functions, wildcards, synthesized fields.
// fuzzCustomRules are added to the built-in rules: folding, wildcards,
// synthesized fields, short literals.
var fuzzCustomRules = [][2]string{
	{"fold", `any where process.name : "bash"`},
	{"wild", `kubernetes.audit.requestURI:*exec* and user.name:*@example.com`},
	{"synth", `event.outcome:failure and event.action:create`},
	{"kim", `any where user.name : "kim*" or stringContains~(user.name, "ki")`},
	// Typed fields, whose terms the prefilter must not look for as text.
	{"ip", `source.ip:"10.0.0.0/8" or source.ip:"2001:db8::1"`},
	{"day", `@timestamp:2026-11-20 and kubernetes.audit.verb:create`},
}

func fuzzRules(tb testing.TB) ([]*rules.Rule, []Selector, []rules.Matcher) {
	rs := slices.Clone(builtinRules(tb))
	for _, c := range fuzzCustomRules {
		rs = append(rs, customRule(tb, c[0], c[1]))
	}
	sel := []Selector{{Name: "stage", Expr: mustExpr(tb, `kubernetes.audit.stage:"ResponseComplete"`)}}
	var ms []rules.Matcher
	for _, s := range sel {
		m, err := rules.Compile(s.Expr)
		if err != nil {
			tb.Fatal(err)
		}
		ms = append(ms, m)
	}
	return rs, sel, ms
}

func mustExpr(tb testing.TB, q string) rules.Expr {
	tb.Helper()
	e, _, err := rules.ParseQuery(q)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// FuzzScanMatchesReference: the parallel, chunked, prefiltered scan finds
// exactly what the plain sequential reference finds, for any bytes, chunk
// size, worker count and line limit, plain or compressed; and turning the
// prefilter off changes no match.
func FuzzScanMatchesReference(f *testing.F) {
	for _, s := range []string{
		lines(execLine, noiseLine, procLine, wsExecLine),
		execLine + "\r\n" + procLine + "\r\n",
		"\ufeff" + execLine + "\n",
		"\x00\x00\x00" + execLine + "\n" + execLine[:30] + "\x00" + execLine[30:] + "\n",
		strings.Replace(execLine, `"exec"`, `"\u0065xec"`, 1) + "\n" + strings.Replace(procLine, `"bash"`, `"b\u0061sh"`, 1),
		"\n\n \t\n" + execLine + "\n\n",
		execLine,
		execLine + "\n" + execLine[:100],
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,"verb":"create","resource":"pods","subresource":"exec"}` + "\n",
		"{}\n[]\nnull\n{\n}\n",
		eventList + execLine + "," + wsExecLine + "," + execLine[:50] + "\n" + eventList + execLine + "\n",
		lines(noiseLine+execLine, execLine[:300]+" "+wsExecLine, noiseLine[:90]+execLine+execLine[:200], execLine+","+execLine),
		lines("2026-11-20T09:41:07.160199123Z stdout F "+execLine, "2026-11-20T09:41:07.1Z stderr F I1120 09:41:07.1 1 x.go:1] log",
			"2026-11-20T09:41:07+01:00 stdout P "+execLine[:200], "2026-11-20T09:41:07Z stdout F "+execLine[200:],
			"2026-11-20T09:41:07Z stdout P "+execLine, "2026-11-20T09:41:07Z stdout F", "2026-11-20T09:41:07Z stdout F:x "+procLine),
		lines("2026-11-20T09:41:07Z stdout P "+execLine[:300], "2026-11-20T09:41:07Z stderr F "+noiseLine, "2026-11-20T09:41:07Z stderr P {",
			"2026-11-20T09:41:07Z stdout P "+execLine[300:310], "", "x", "2026-11-20T09:41:07Z stdout F "+execLine[310:], "2026-11-20T09:41:07Z stderr F }",
			"2026-11-20T09:41:07Z stdout P "+eventList+execLine, "2026-11-20T09:41:07Z stdout F ]}", "2026-11-20T09:41:07Z stdout P "+execLine),
		lines("[pod/kube-apiserver-cp-1/kube-apiserver] 2026-11-20T09:41:07.1Z "+execLine, "2026-11-20T09:41:07Z "+procLine,
			"[pod/a/b] "+wsExecLine, "[pod/a/b] I1120 text", "2026-11-20T09:41:07Z text {\"a\":1}", "[pod/a/b] 2026-11-20T09:41:07Z stdout F "+execLine),
		lines(`{"log":"`+strings.ReplaceAll(execLine, `"`, `\"`)+`\n","stream":"stdout","time":"2026-11-20T09:41:07.1Z"}`,
			`{"log":"I1120 log\n","stream":"stderr","time":"2026-11-20T09:41:07.1Z"}`,
			`{"log":"`+strings.ReplaceAll(execLine[:200], `"`, `\"`)+`","stream":"stdout","time":"2026-11-20T09:41:07.1Z"}`,
			`{"log":"`+strings.ReplaceAll(procLine, `"`, `\"`)+`\n","stream":"stdout","time":"2026-11-20T09:41:07.1Z"}`),
		lines(`{"log":"`+strings.ReplaceAll(execLine[:150], `"`, `\"`)+`","stream":"stdout","time":"t"}`,
			`{"log":"I1120 log\n","stream":"stderr","time":"t"}`, `{"log":"`+strings.ReplaceAll(wsExecLine[:99], `"`, `\"`)+`","stream":"stderr"}`,
			`{"log":"`+strings.ReplaceAll(execLine[150:], `"`, `\"`)+`\n","stream":"stdout","time":"t"}`, `{"stream":"stdout","log":"x"}`,
			`{"log":"`+strings.ReplaceAll(procLine, `"`, `\"`)+`\u000a","stream":"stdout","attrs":{}}`, `{"log":"{","stream":"stdout","log":"y\n"}`),
		"\"'@timestamp\",event.dataset,kubernetes.audit.verb,kubernetes.audit.objectRef.subresource\n1,kubernetes.audit_logs,create,exec\n\"2\",\"x\ny\",create,exec\n",
		"",
	} {
		f.Add([]byte(s), uint16(0), uint8(0), uint16(0), uint8(0))
		f.Add([]byte(s), uint16(15), uint8(3), uint16(200), uint8(1))
		f.Add([]byte(s), uint16(63), uint8(7), uint16(0), uint8(2))
	}
	// Fixture content: the start of every sample log, as stored (the gzip
	// ones exercise decompression of random bytes).
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "*", "*"))
	for _, name := range files {
		if fi, err := os.Stat(name); err == nil && fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 4<<10)], uint16(100), uint8(2), uint16(0), uint8(0))
	}

	rs, sels, selMatchers := fuzzRules(f)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, workers uint8, maxLine uint16, compress uint8) {
		checkScanMatchesReference(t, rs, sels, selMatchers, data, chunk, workers, maxLine, compress)
	})
}

func checkScanMatchesReference(t *testing.T, rs []*rules.Rule, sels []Selector, selMatchers []rules.Matcher,
	data []byte, chunk uint16, workers uint8, maxLine uint16, compress uint8) {
	t.Helper()
	{
		chunkSize := 1 + int(chunk)%1024
		maxLineSize := DefaultMaxLineSize
		if maxLine != 0 {
			maxLineSize = int(maxLine) % 4096
		}
		stream := data // what the scan reads
		switch compress % 3 {
		case 1:
			stream = gzipBytes(t, data)
		case 2:
			stream = fuzzZstd.EncodeAll(data, nil)
		}
		opts := Options{
			Rules: rs, Selectors: sels, Workers: 1 + int(workers)%8,
			ChunkSize: chunkSize, MaxLineSize: maxLineSize, MaxProblems: 1 << 20,
		}
		opts.Stdin = bytes.NewReader(stream)
		res := mustScan(t, []Input{{Name: Stdin}}, opts)
		checkInvariants(t, res)
		opts.Stdin, opts.NoPrefilter = bytes.NewReader(stream), true
		nopre := mustScan(t, []Input{{Name: Stdin}}, opts)
		if got, want := canonEvents(res), canonEvents(nopre); got != want {
			t.Fatalf("the prefilter changed the matches: %s", firstDiff(got, want))
		}
		// Each way of searching chunks, where it applies: a block search
		// needs needles of five bytes or more, which the built-in rules
		// have and the custom ones do not. Groups look for needles by one
		// byte ("bytes"), or by two where they can ("twobytes").
		for _, way := range []string{"groups", "bytes", "twobytes", "pairs", "blocks"} {
			o := opts
			if way == "blocks" {
				o.Rules = o.Rules[:len(o.Rules)-len(fuzzCustomRules)]
			}
			o.Stdin, o.NoPrefilter = bytes.NewReader(stream), true
			want := canonEvents(mustScan(t, []Input{{Name: Stdin}}, o))
			forceSearch = way
			o.Stdin, o.NoPrefilter = bytes.NewReader(stream), false
			forced := mustScan(t, []Input{{Name: Stdin}}, o)
			forceSearch = ""
			if got := canonEvents(forced); got != want {
				t.Fatalf("the prefilter searching by %s changed the matches: %s", way, firstDiff(got, want))
			}
		}
		if compress%3 == 0 && mapFiles {
			// The same bytes in a file are read by mapping it.
			path := writeFile(t, filepath.Join(t.TempDir(), "input.log"), stream)
			opts.Stdin, opts.NoPrefilter = nil, false
			mapped := mustScan(t, []Input{{Name: path}}, opts)
			if got, want := strings.ReplaceAll(canon(mapped), path, Stdin), canon(res); got != want {
				t.Fatalf("reading a file by mapping it changed the scan: %s", firstDiff(got, want))
			}
		}

		// Random bytes may themselves start with gzip or zstd magic: the
		// reference then reads what a decoder makes of them, and only a
		// stream that decodes cleanly is compared.
		plain := data
		if compress%3 == 0 {
			decoded, ok := decodeMagic(data)
			if !ok {
				return
			}
			plain = decoded
		}
		st := res.Inputs[0]
		if st.Err != nil {
			t.Fatalf("input error on a clean stream: %v", st.Err)
		}
		ref := referenceScan(plain, rs, selMatchers, maxLineSize)
		if st.Lines != ref.lines || st.Blank != ref.blank || st.Overlong != ref.overlong || st.Bytes != int64(len(plain)) {
			t.Fatalf("lines/blank/overlong/bytes %d/%d/%d/%d, reference %d/%d/%d/%d",
				st.Lines, st.Blank, st.Overlong, st.Bytes, ref.lines, ref.blank, ref.overlong, len(plain))
		}
		var got []refMatch
		for _, ev := range res.Events {
			got = append(got, refMatch{line: ev.Line, offset: ev.Offset, index: ev.Index, shape: ev.Shape, raw: string(ev.Raw), rules: ev.Rules, selectors: ev.Selectors})
		}
		if fmt.Sprint(got) != fmt.Sprint(ref.matches) {
			t.Fatalf("chunk %d workers %d maxLine %d:\nscan      %v\nreference %v", chunkSize, opts.Workers, maxLineSize, got, ref.matches)
		}
	}
}

// fuzzZstd is shared: a zstd encoder is costly to create, and EncodeAll
// may be called concurrently.
var fuzzZstd, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))

// decodeMagic decodes data the way the engine would if it starts with
// gzip or zstd magic; ok is false when it does not decode cleanly.
func decodeMagic(data []byte) ([]byte, bool) {
	var r io.Reader
	switch {
	case bytes.HasPrefix(data, gzipMagic):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, false
		}
		r = zr
	case isZstd(data):
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, false
		}
		defer zr.Close()
		r = zr
	default:
		return data, true
	}
	out, err := io.ReadAll(io.LimitReader(r, 64<<20))
	return out, err == nil
}

// TestReferenceAgreesOnFixtures runs the fuzz comparison over every plain
// fixture with a few fixed settings, so `go test` checks it on real data.
func TestReferenceAgreesOnFixtures(t *testing.T) {
	rs, sels, selMatchers := fuzzRules(t)
	for _, name := range listFixtures(t) {
		data, err := os.ReadFile(filepath.Join(fixtureRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		plain, ok := decodeMagic(data)
		if !ok {
			continue
		}
		ref := referenceScan(plain, rs, selMatchers, DefaultMaxLineSize)
		for _, size := range []int{33, 4 << 20} {
			res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, name)}},
				Options{Rules: rs, Selectors: sels, ChunkSize: size, Workers: 3})
			var got []refMatch
			for _, ev := range res.Events {
				got = append(got, refMatch{line: ev.Line, offset: ev.Offset, index: ev.Index, shape: ev.Shape, raw: string(ev.Raw), rules: ev.Rules, selectors: ev.Selectors})
			}
			if fmt.Sprint(got) != fmt.Sprint(ref.matches) {
				t.Errorf("%s chunk %d:\nscan      %v\nreference %v", name, size, got, ref.matches)
			}
			if st := res.Inputs[0]; st.Lines != ref.lines || st.Blank != ref.blank {
				t.Errorf("%s: lines %d blank %d, reference %d %d", name, st.Lines, st.Blank, ref.lines, ref.blank)
			}
		}
	}
}
