package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Layouts of an input, decided from its first non-blank line.
const (
	// LayoutLines is one JSON value per line (NDJSON), what kube-apiserver,
	// Elastic exports and most shippers write.
	LayoutLines = "lines"
	// LayoutJSON is whole-file JSON: pretty-printed values one after the
	// other, or a top-level array of them (gcloud --format=json, jq .,
	// aws logs ... --output json).
	LayoutJSON = "json"
)

// sniffLayout decides how to read an input from the start of its
// decompressed bytes. A first non-blank line that is a lone "{" or starts
// with "[" is whole-file JSON, one that is a row of field names a CSV
// export, one in the CRI format a container log; anything else is read
// line by line (a broken first line stays a broken line, it does not
// change the layout).
func sniffLayout(head []byte) string {
	line := firstLine(head)
	switch {
	case len(line) == 0:
		return LayoutLines
	case line[0] == '[' && !isKubectlLine(line) || len(line) == 1 && line[0] == '{':
		return LayoutJSON
	case line[0] >= '0' && line[0] <= '9' && isCRI(line):
		return LayoutCRI
	case line[0] == '{' && isDocker(line):
		return LayoutDocker
	case line[0] != '{':
		if _, _, ok := csvHeader(line); ok {
			return LayoutCSV
		}
	}
	return LayoutLines
}

// firstLine returns the first non-blank line of head, after a UTF-8 byte
// order mark, without the blanks around it; nil when there is none.
func firstLine(head []byte) []byte {
	head = bytes.TrimPrefix(head, utf8BOM)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if line = bytes.Trim(line, " \t\r"); len(line) > 0 {
			return line
		}
	}
	return nil
}

// Outcomes of jsonSplitter.next besides a complete record.
const (
	recordOK       = iota
	recordBroken   // not valid JSON; reason says why
	recordOverlong // longer than the limit; its bytes were not kept
)

// jsonSplitter cuts whole-file JSON into records: every top-level value,
// or every element of a top-level array. It does not validate grammar, it
// only tracks strings and bracket depth to find where each value ends;
// records are validated like lines later. Memory is one read buffer plus
// the record being assembled, which never grows past the limit.
type jsonSplitter struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	err  error // sticky read error (io.EOF at the end)
	line int64 // 1-based line of buf[pos]
	// offset is the decompressed offset of buf[pos].
	offset int64
	// inArray is set inside a top-level array: its elements are records.
	inArray bool
	started bool
	// prevNewline remembers whether the previous buffer ended in '\n'.
	prevNewline bool
	// lastLine is the line the last record started on, and linePos its
	// position among the records that started there (number).
	lastLine int64
	linePos  int
	// pending is the broken rest of a wrapper salvage cut short, the
	// record next returns next.
	pending *record
}

func newJSONSplitter(r io.Reader) *jsonSplitter {
	return &jsonSplitter{r: r, buf: make([]byte, 256<<10), line: 1}
}

// fill reads more input; it reports false at the end or on an error.
func (s *jsonSplitter) fill() bool {
	if s.pos < s.end {
		return true
	}
	if s.err != nil {
		return false
	}
	if s.end > 0 {
		s.prevNewline = s.buf[s.end-1] == '\n'
	}
	s.pos, s.end = 0, 0
	for s.end == 0 && s.err == nil {
		s.end, s.err = s.r.Read(s.buf)
	}
	return s.end > 0
}

func (s *jsonSplitter) advance(n int) {
	s.pos += n
	s.offset += int64(n)
}

// record is one value cut from the stream.
type record struct {
	data   []byte // the value on one line (newlines outside strings made spaces)
	line   int64  // line of its first byte
	offset int64  // decompressed offset of its first byte
	status int
	reason string
	size   int64 // bytes the value spans, for overlong records
	// index is the record's 1-based position among the records that
	// start on its line, or 0 when it is the only one (number).
	index int
	// newlines are the positions in data of the newlines that were made
	// spaces, so an event inside the record can be placed on its line.
	newlines []int32
	// skip, when set, says why the record is no event (containerSplitter);
	// cut is the request a broken record was a stage of, if it says.
	skip string
	cut  *CutRequest
	// lead is how many bytes of its line come before data where the
	// record is a line's output: offset is the line's, as in the lines
	// layout.
	lead int
}

// next returns the next record, appending its bytes to dst[:0], which it
// may grow up to limit bytes. ok is false at the end of the stream.
func (s *jsonSplitter) next(dst []byte, limit int) (rec record, ok bool) {
	if p := s.pending; p != nil {
		s.pending = nil
		rec = *p
		rec.data = append(dst[:0], p.data...)
		rec.index = s.number(rec.line)
		return rec, true
	}
	// Skip what separates values: whitespace, and inside a top-level
	// array the commas and the closing bracket.
	for {
		if !s.fill() {
			return rec, false
		}
		c := s.buf[s.pos]
		switch {
		case c == '\n':
			s.newline()
			continue
		case c == ' ' || c == '\t' || c == '\r':
			s.advance(1)
			continue
		case !s.started && c == 0xef && s.end-s.pos >= 3 && bytes.Equal(s.buf[s.pos:s.pos+3], utf8BOM):
			s.advance(3)
			continue
		case s.inArray && c == ',':
			s.advance(1)
			continue
		case s.inArray && c == ']':
			s.inArray = false
			s.advance(1)
			continue
		case !s.started && c == '[':
			s.started, s.inArray = true, true
			s.advance(1)
			continue
		}
		break
	}
	s.started = true
	rec.line, rec.offset = s.line, s.offset
	if c := s.buf[s.pos]; c != '{' && c != '[' {
		rec = s.junk(dst, limit, rec)
	} else {
		rec = splitValue(s, dst, limit, rec)
	}
	rec.index = s.number(rec.line)
	return rec, true
}

// number returns the position of a record that started on line among the
// records that start there, or 0 when it is the only one. An array written
// on one line (jq -c) holds every event on line 1: their positions tell
// them apart, in the report as in the evidence of one request.
func (s *jsonSplitter) number(line int64) int {
	if line == s.lastLine {
		s.linePos++
	} else {
		s.lastLine, s.linePos = line, 1
	}
	if s.linePos > 1 || s.moreOnLine(line) {
		return s.linePos
	}
	return 0
}

// moreOnLine reports whether another value starts on line after the
// record just cut. It skips what next would skip before it on the line:
// blanks, and inside the top-level array the commas and the closing
// bracket. A record that ended on a later line (pretty-printed), or whose
// line the splitter skipped past (junk), has nothing after it on line.
func (s *jsonSplitter) moreOnLine(line int64) bool {
	if s.line != line {
		return false
	}
	for s.fill() {
		switch c := s.buf[s.pos]; {
		case c == '\n':
			return false
		case c == ' ' || c == '\t' || c == '\r':
		case s.inArray && c == ',':
		case s.inArray && c == ']':
			s.inArray = false
		default:
			return true
		}
		s.advance(1)
	}
	return false
}

// splitValue is value; tests compare it with a reference.
var splitValue = (*jsonSplitter).value

func (s *jsonSplitter) newline() {
	s.line++
	s.advance(1)
}

// value copies one object or array, turning the newlines between its
// tokens into spaces so the record is one line. It copies runs of bytes,
// not byte by byte: whole-file JSON is cut on one core, ahead of the
// workers.
func (s *jsonSplitter) value(dst []byte, limit int, rec record) record {
	dst = dst[:0]
	depth := 0
	inString, escaped := false, false
	overlong := false
	var size int64
	// put appends p, or as much of it as the limit leaves room for.
	put := func(p []byte) {
		size += int64(len(p))
		if overlong {
			return
		}
		if room := limit - len(dst); len(p) > room {
			dst, overlong = append(dst, p[:room]...), true
			return
		}
		dst = append(dst, p...)
	}
	for {
		if !s.fill() {
			rec.data, rec.size = dst, size
			rec.status, rec.reason = recordBroken, truncatedJSON
			if !overlong {
				s.salvage(&rec)
			}
			return rec
		}
		b := s.buf[s.pos:s.end]
		run := 0 // b[run:i] is yet to be put
		i := 0
		for i < len(b) {
			c := b[i]
			if inString {
				if !escaped {
					i = stringRun(b, i)
				}
				if i == len(b) {
					break
				}
				switch c = b[i]; {
				case c == '\n':
					// JSON strings cannot hold a raw newline: the value
					// is broken. Skip to the next line that starts a
					// value.
					put(b[run:i])
					s.advance(i)
					rec.data, rec.size = dst, size
					rec.status, rec.reason = recordBroken, "unterminated string"
					s.skipToValue()
					return rec
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
				i++
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			case '\n', '\r':
				put(b[run:i])
				if c == '\n' {
					s.line++
					if !overlong {
						rec.newlines = append(rec.newlines, int32(len(dst)))
					}
				}
				put(space)
				run = i + 1
			}
			i++
			if depth == 0 {
				put(b[run:i])
				s.advance(i)
				rec.data, rec.size = dst, size
				if overlong {
					rec.status = recordOverlong
				}
				return rec
			}
		}
		put(b[run:i])
		s.advance(i)
	}
}

var space = []byte{' '}

const truncatedJSON = "truncated JSON: the input ends inside this value"

// cutRest says why rest, what follows the last whole event of a wrapper
// cut short where the input (or its line) ends, is malformed.
func cutRest(ends string, rest []byte) string {
	if len(rest) == 0 {
		return "truncated JSON: the " + ends + " ends after the wrapper's last whole event, before the wrapper closes"
	}
	return "truncated JSON: the " + ends + " ends inside this value"
}

// salvage keeps what a wrapper the input ends inside still holds whole:
// the events of its array ({"events":[...]}, {"hits":{"hits":[...]}}, an
// EventList, an AKS or a CloudWatch payload) that ended before the cut
// become rec, the wrapper closed right after them, and the rest is the
// broken record next returns after it, placed where it starts. A cut
// inside the first event, or in anything but a wrapper, leaves rec as it
// is: a part of an event is no event.
func (s *jsonSplitter) salvage(rec *record) {
	whole, cut, start, ok := cutWrapper(rec.data)
	if !ok {
		return
	}
	tail := &record{data: bytes.Clone(rec.data[start:]), line: rec.line, offset: rec.offset + int64(start), status: recordBroken, reason: cutRest("input", rec.data[start:])}
	var kept []int32
	for _, nl := range rec.newlines {
		if int(nl) < cut {
			kept = append(kept, nl)
		}
		if int(nl) < start {
			tail.line++ // the tail starts below this newline
		} else {
			tail.newlines = append(tail.newlines, nl-int32(start))
		}
	}
	tail.size = int64(len(tail.data))
	rec.data, rec.newlines, rec.size = whole, kept, int64(len(whole))
	rec.status, rec.reason = recordOK, ""
	s.pending = tail
}

// cutWrapper returns, for the text of an object cut short, the wrapper it
// began (an EventList, a search response, CloudWatch events, an AKS or a
// Firehose payload, an OTLP request) closed right after its last whole event, where that
// event ends in data (cut) and where the rest starts. ok is false when no
// event ended before the cut, or when the object is no wrapper, or is
// whole.
func cutWrapper(data []byte) (whole []byte, cut, rest int, ok bool) {
	if len(data) == 0 || data[0] != '{' {
		return nil, 0, 0, false
	}
	cut, closers, otlp, otlpClosers := wrapperCut(data)
	closed := func(at int, closers []byte) []byte {
		return append(append(make([]byte, 0, at+len(closers)), data[:at]...), closers...)
	}
	if cut >= 0 {
		if w := closed(cut, closers); cutKinds[wrapperOf(w, resolver{}).kind] {
			whole = w
		}
	}
	if whole == nil && otlp >= 0 {
		if w := closed(otlp, otlpClosers); wrapperOf(w, resolver{}).kind == wrapOTLP {
			whole, cut = w, otlp
		}
	}
	if whole == nil {
		return nil, 0, 0, false
	}
	rest = cut
	for rest < len(data) && (data[rest] == ',' || data[rest] == ' ' || data[rest] == '\t') {
		rest++
	}
	return whole, cut, rest, true
}

// cutKinds are the wrappers cutWrapper salvages at an element of an array
// one or two objects deep.
var cutKinds = map[wrapKind]bool{wrapEventList: true, wrapSearchResponse: true, wrapEKSEvents: true, wrapEKSFirehose: true, wrapAKSRecords: true}

// wrapperCut finds, in the text of an object the input ends inside, the
// end of the last object that was an element of an array one or two
// objects deep ({"events":[{...}, or {"hits":{"hits":[{...}), and the
// brackets that close what is open there; -1 when no element ended, when
// the object is whole (it closes: nothing was cut), or when it nests
// deeper than maxDepth. otlp and otlpClosers are the same for an element
// of an array inside an element of an array inside an element of an array
// (an OTLP log record: {"resourceLogs":[{"scopeLogs":[{"logRecords":[{...}),
// which the first rule never reaches.
func wrapperCut(data []byte) (cut int, closers []byte, otlp int, otlpClosers []byte) {
	cut, otlp = -1, -1
	var open []byte // the brackets open, outermost first
	var text jsonText
	for i, c := range data {
		if text.inString(c) {
			continue
		}
		switch c {
		case '{', '[':
			if open = append(open, c); len(open) > maxDepth {
				return -1, nil, -1, nil // malformed however it was cut
			}
		case '}', ']':
			if len(open) == 0 {
				return -1, nil, -1, nil
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				return -1, nil, -1, nil // the object is whole: nothing was cut
			}
			if c == '}' && len(open) >= 2 && len(open) <= 3 && open[len(open)-1] == '[' && !bytes.Contains(open[:len(open)-1], []byte{'['}) {
				cut, closers = i+1, closing(closers, open)
			}
			if c == '}' && string(open) == "{[{[{[" {
				otlp, otlpClosers = i+1, closing(otlpClosers, open)
			}
		}
	}
	return cut, closers, otlp, otlpClosers
}

// closing sets out to the brackets that close those open, innermost first.
func closing(out, open []byte) []byte {
	out = out[:0]
	for j := len(open) - 1; j >= 0; j-- {
		out = append(out, open[j]+2) // '{'+2 is '}', '['+2 is ']'
	}
	return out
}

// stringStop marks the bytes a string's run of plain bytes ends at.
var stringStop = [256]bool{'"': true, '\\': true, '\n': true}

// stringRun returns where the run of plain string bytes at b[i] ends: at
// a quote, a backslash or a newline, or at len(b). Eight bytes at a time,
// as scanJSONString does.
func stringRun(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := quoteOrBackslash(x) | bytesEqual(x, '\n'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && !stringStop[b[i]] {
		i++
	}
	return i
}

// junk collects text that is not a JSON value, up to the next line that
// starts one, as one broken record.
func (s *jsonSplitter) junk(dst []byte, limit int, rec record) record {
	dst = dst[:0]
	for s.fill() && s.buf[s.pos] != '\n' {
		if len(dst) < min(limit, 64) {
			dst = append(dst, s.buf[s.pos])
		}
		s.advance(1)
	}
	s.skipToValue()
	rec.data = dst
	rec.status, rec.reason = recordBroken, ""
	if s.inArray && len(dst) > 0 {
		rec.reason = fmt.Sprintf("an element of the array is not a JSON object (starts %q); the rest of its line is skipped", preview(dst, 24))
	}
	return rec
}

// skipToValue discards the rest of the current line and every following
// line that does not start (after blanks) with '{' or '['. Reading goes on
// there, still inside the top-level array if there was one.
func (s *jsonSplitter) skipToValue() {
	atLineStart := false
	for s.fill() {
		c := s.buf[s.pos]
		switch {
		case c == '\n':
			s.newline()
			atLineStart = true
			continue
		case atLineStart && (c == ' ' || c == '\t' || c == '\r'):
		case atLineStart && (c == '{' || c == '['):
			return
		default:
			atLineStart = false
		}
		s.advance(1)
	}
}

// lines returns how many lines the stream had so far: a last line without
// a newline counts.
func (s *jsonSplitter) lines() int64 {
	if s.offset > 0 && !s.lastNewline() {
		return s.line
	}
	return s.line - 1
}

func (s *jsonSplitter) consumed() int64 { return s.offset }

func (s *jsonSplitter) lastNewline() bool {
	return s.pos > 0 && s.buf[s.pos-1] == '\n' || s.pos == 0 && s.prevNewline
}

// readErr is the error that ended the stream, or nil at a clean end.
func (s *jsonSplitter) readErr() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// sniffLimit bounds how much of an input is read ahead to decide its
// layout.
const sniffLimit = 64 << 10

// ErrTarArchive is the error for a tar archive (often a .tar.gz bundle of
// logs): k8sexec reads logs, not archives of them.
var ErrTarArchive = errors.New("a tar archive, not a log: extract it (tar xf, which also reads .tar.gz) and scan the folder")

// sniff reads the start of the stream, decides its layout, and puts the
// bytes back in front of the stream (with any read error after them).
func sniff(s *stream) (string, error) {
	head := make([]byte, 0, 4096)
	var err error
	for len(head) < sniffLimit && needMore(head) {
		if len(head) == cap(head) {
			head = append(head, 0)[:len(head)]
		}
		var n int
		n, err = s.Reader.Read(head[len(head):min(cap(head), sniffLimit)])
		head = head[:len(head)+n]
		if err != nil {
			break
		}
	}
	rest := s.Reader
	if err != nil {
		rest = errorReader{err}
	}
	if enc := utf16Encoding(head); enc != "" && s.encoding == "" {
		// Decoded as a stream, after any decompression: offsets are of
		// the UTF-8 text. Its layout is the decoded text's.
		s.encoding, s.file = enc, nil
		s.Reader = newUTF16Reader(io.MultiReader(bytes.NewReader(head[2:]), rest), enc)
		return sniff(s)
	}
	if isTar(head) {
		return "", ErrTarArchive
	}
	s.Reader = io.MultiReader(bytes.NewReader(head), rest)
	return sniffLayout(head), nil
}

// A POSIX tar header holds "ustar" at offset 257.
const tarMagicEnd = 262

func isTar(head []byte) bool {
	return len(head) >= tarMagicEnd && string(head[257:262]) == "ustar"
}

// needMore reports whether the layout, or whether the input is a tar
// archive, cannot be told from head yet. JSON logs start with a brace, a
// bracket or blanks; a tar header starts with a file name.
func needMore(head []byte) bool {
	if !layoutDecided(head) {
		return true
	}
	mayBeTar := !bytes.ContainsAny(head[:1], "{[ \t\r\n\xef")
	return mayBeTar && len(head) < tarMagicEnd
}

// layoutDecided reports whether head holds enough to tell the layout: the
// first non-blank character, and unless it is a '[' the rest of its line.
func layoutDecided(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	i := 0
	for i < len(head) && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') {
		i++
	}
	if i == len(head) {
		return false
	}
	switch head[i] {
	case '[':
		return true
	case '{':
	default:
		// A CSV header row is read whole.
		return bytes.IndexByte(head[i:], '\n') >= 0
	}
	for i++; i < len(head); i++ {
		switch head[i] {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return true
		}
	}
	return false
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// recordSource cuts an input into records: the values of whole-file JSON
// (jsonSplitter), the rows of a CSV export (csvSplitter), the lines of
// output in a container log (containerSplitter).
type recordSource interface {
	// next returns the next record, appending its bytes to dst[:0], which
	// it may grow up to limit bytes. ok is false at the end of the input.
	next(dst []byte, limit int) (rec record, ok bool)
	lines() int64    // lines read so far, a last one without a newline too
	consumed() int64 // decompressed bytes read so far
	readErr() error  // what ended the input, nil at a clean end
}

// readRecordChunks packs the records of an input, one per line, into
// chunks that say where each record started. It reports false when the
// scan was cancelled.
func readRecordChunks(ctx context.Context, name string, input int, s *stream, sp recordSource, opts Options, pool *sync.Pool, send func(*chunk) bool, end *chunk) bool {
	var scratch []byte
	var cur *chunk
	var linesSent, spanStart int64
	_, lineRecs := sp.(*containerSplitter)
	startChunk := func() {
		bufp := pool.Get().(*[]byte)
		cur = &chunk{input: input, buf: bufp, data: (*bufp)[:0], lineRecs: lineRecs}
	}
	flush := func() bool {
		if cur == nil || len(cur.recs) == 0 {
			return true
		}
		lines := sp.lines()
		cur.lines, linesSent = lines-linesSent, lines
		cur.span, spanStart = sp.consumed()-spanStart, sp.consumed()
		cur.offset = cur.recs[0].offset
		cur.rawPos = s.raw.n()
		c := cur
		cur = nil
		return send(c)
	}
	for {
		if ctx.Err() != nil {
			return false
		}
		rec, ok := sp.next(scratch, opts.MaxLineSize)
		if !ok {
			break
		}
		scratch = rec.data[:0]
		if rec.status == recordOverlong {
			if !flush() {
				return false
			}
			lines := sp.lines()
			c := &chunk{input: input, offset: rec.offset, overlong: true, span: sp.consumed() - spanStart,
				recs: []recInfo{{line: rec.line, offset: rec.offset, index: rec.index}}, lines: lines - linesSent}
			linesSent, spanStart = lines, sp.consumed()
			if !send(c) {
				return false
			}
			continue
		}
		info := recInfo{line: rec.line, offset: rec.offset, index: rec.index, newlines: rec.newlines, skip: rec.skip, cut: rec.cut, lead: rec.lead}
		if rec.status == recordBroken {
			info.broken = rec.reason
			if info.broken == "" {
				info.broken = malformedReason(rec.data)
			}
		}
		if cur != nil && len(cur.data)+len(rec.data)+1 > cap(cur.data) {
			if !flush() {
				return false
			}
		}
		if cur == nil {
			startChunk()
			if len(rec.data)+1 > cap(cur.data) {
				// A record bigger than a chunk gets a buffer of its own.
				pool.Put(cur.buf)
				big := make([]byte, 0, len(rec.data)+1)
				cur.buf, cur.data = &big, big
			}
		}
		// A record is one line of the chunk. The splitter never leaves a
		// newline in one (FuzzJSONSplitter checks); should it ever, the
		// record is broken rather than the chunk's line count.
		if bytes.IndexByte(rec.data, '\n') >= 0 {
			rec.data = bytes.ReplaceAll(rec.data, []byte{'\n'}, []byte{' '})
			info.broken = "unterminated string"
		}
		cur.data = append(append(cur.data, rec.data...), '\n')
		cur.recs = append(cur.recs, info)
	}
	if !flush() {
		return false
	}
	end.lines = sp.lines() - linesSent
	end.span = sp.consumed() - spanStart
	if err := sp.readErr(); err != nil {
		end.err = &ReadError{Input: name, RawOffset: s.raw.n(), Offset: sp.consumed(), Err: err, Decoded: s.decodedOnly()}
	}
	return true
}
